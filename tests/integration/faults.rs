//! A faulty environment never leaves a stale "ok" (#14): the daemon wakes only for writes, says
//! what it cannot watch (and polls it) while readers check directly, recreates a deleted runtime
//! dir and takes its lock again (a second daemon is still refused), stops when another user
//! took the dir over, and a frozen daemon is not believed.

use crate::harness::{
    claude_login, context_switches, cpu_ticks, replace_atomically, run_command, wait_for_exit,
    wait_until, Daemon, TestHome,
};
use nix::sys::signal::Signal;
use std::process::Stdio;
use std::time::Duration;

const CREDS: &str = ".claude/.credentials.json";

fn home_with_claude() -> TestHome {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    home.write_config("presets = [\"claude\"]\n");
    home
}

/// The state letter of a process (`T`: stopped).
fn process_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .unwrap_or('?')
}

/// Reads in watched directories (and of the stores themselves) and appends to a busy file beside
/// a store used to wake the daemon about 2,100 times for these 1,000 rounds.
#[test]
fn reads_and_appends_beside_stores_do_not_wake_the_daemon() {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    home.write_config("presets = [\"claude\", \"git\", \"vault\"]\n");
    let gitconfig = home.write(".gitconfig", "[user]\n\tname = someone\n");
    home.write(".vault-token", "hvs.CAESIJ");
    let history = home.write(".bash_history", "");
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    // Its start is over once the first state is recorded: what follows is these rounds' doing.
    crate::harness::wait_until("claude's first state in the journal", || {
        home.journal().iter().any(|e| e["name"] == "claude")
    });
    let pid = daemon.child.id();
    let before = context_switches(pid);
    let cpu_before = cpu_ticks(pid);
    for round in 0..1000 {
        std::fs::read(&gitconfig).unwrap();
        std::fs::read(home.path(CREDS)).unwrap();
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&history)
            .unwrap();
        writeln!(file, "ls {round}").unwrap();
        // Spaced as a person's commands are, so each round could be a wake-up of its own.
        std::thread::sleep(Duration::from_micros(500));
    }
    // Events are read as they come (no debounce): a wake-up for the last rounds would show
    // within milliseconds; 300 ms is far past that.
    std::thread::sleep(Duration::from_millis(300));
    let switches = context_switches(pid) - before;
    let cpu = cpu_ticks(pid) - cpu_before;
    assert!(
        switches < 30 && cpu <= 5,
        "{switches} context switches and {cpu} ticks of CPU for 1,000 reads and appends"
    );
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
}

/// The inotify watch limit reached (in a user namespace of its own, where the limit can be
/// lowered for this daemon alone): the daemon names what it cannot watch and the sysctl, `status`
/// and `doctor` say so and `status` checks directly; once the limit is raised, a reload sets the
/// watches and the daemon's state is trusted again.
#[test]
fn watches_over_the_limit_are_named_with_the_sysctl_and_readers_check_directly() {
    if !crate::harness::require_root("lower the watch limit in a user namespace") {
        return;
    }
    let home = home_with_claude();
    let log = home.path("../daemon-ns.log");
    let child = home
        .program(
            "unshare",
            &[
                "--user",
                "--map-root-user",
                "sh",
                "-c",
                r#"echo 2 > /proc/sys/user/max_inotify_watches && exec "$0" daemon"#,
                env!("CARGO_BIN_EXE_credwatch"),
            ],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let daemon = Daemon {
        child,
        stderr_path: log,
    };
    let status_file = home.credwatch_runtime().join("status.json");
    wait_until("the daemon publishes", || status_file.exists());
    let unwatched = home.published()["daemon"]["unwatched"].clone();
    let listed = unwatched.as_array().expect("daemon.unwatched is a list");
    assert!(!listed.is_empty(), "{unwatched}");
    assert!(
        listed.iter().all(|u| u["fix"]
            .as_str()
            .unwrap()
            .contains("fs.inotify.max_user_watches")),
        "{unwatched}"
    );
    let status = home.status(&["claude"]);
    assert_eq!(status.json()["source"], "direct", "{}", status.stdout);
    let human = home.run(&["status"]);
    assert!(
        human.stdout.contains("fs.inotify.max_user_watches")
            || human.stderr.contains("fs.inotify.max_user_watches"),
        "{}{}",
        human.stdout,
        human.stderr
    );
    let doctor = home.run(&["doctor"]);
    assert!(
        doctor.stdout.contains("fs.inotify.max_user_watches"),
        "{}",
        doctor.stdout
    );
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    assert_eq!(
        home.status(&["claude"]).credential("claude")["state"],
        "logged-out",
        "checked directly"
    );

    let raised = home
        .program(
            "nsenter",
            &[
                "--user",
                "--target",
                &daemon.child.id().to_string(),
                "sh",
                "-c",
                "echo 10000 > /proc/sys/user/max_inotify_watches",
            ],
        )
        .status()
        .unwrap();
    assert!(raised.success());
    daemon.signal(Signal::SIGHUP);
    wait_until("every watch to be set", || {
        home.published()["daemon"]["unwatched"]
            .as_array()
            .is_some_and(Vec::is_empty)
    });
    assert_eq!(home.status(&["claude"]).json()["source"], "daemon");
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
}

/// A tmp cleaner deletes the runtime dir under a running daemon: it is recreated at once (0700,
/// the daemon's own), the state published again, the lock taken again so that a second daemon is
/// still refused, and writes are still followed.
#[test]
fn a_deleted_runtime_dir_is_recreated_and_a_second_daemon_still_refused() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    std::fs::remove_dir_all(home.credwatch_runtime()).unwrap();
    let runtime = home.credwatch_runtime();
    wait_until("the runtime dir and the state to be back", || {
        runtime.join("status.json").exists() && runtime.join("prompt").exists()
    });
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&runtime).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(home.published()["daemon"]["pid"], daemon.child.id());
    let second = run_command(home.command(&["daemon"]));
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("already running (pid {})", daemon.child.id())),
        "{}",
        second.stderr
    );
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
}

/// The runtime dir deleted and recreated by another user before the daemon looked again: the
/// daemon writes nothing there and stops, saying why.
#[test]
fn a_runtime_dir_taken_over_by_another_user_stops_the_daemon() {
    if !crate::harness::require_root("own a directory as another user") {
        return;
    }
    let home = home_with_claude();
    let mut daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let runtime = home.credwatch_runtime();
    daemon.signal(Signal::SIGSTOP);
    wait_until("the daemon to stop", || {
        process_state(daemon.child.id()) == 'T'
    });
    std::fs::remove_dir_all(&runtime).unwrap();
    std::fs::create_dir(&runtime).unwrap();
    let attacker = crate::harness::spare_uid(3);
    std::os::unix::fs::chown(&runtime, Some(attacker), Some(attacker)).unwrap();
    daemon.signal(Signal::SIGCONT);
    let code = wait_for_exit(&mut daemon.child);
    assert_eq!(code, Some(1), "{}", daemon.log());
    assert!(
        daemon.log().contains("owned by uid"),
        "says why: {}",
        daemon.log()
    );
    assert_eq!(
        std::fs::read_dir(&runtime).unwrap().count(),
        0,
        "nothing written into the other user's directory"
    );
}

/// A daemon frozen by SIGSTOP (a debugger, `kill -STOP`) is not believed: `status` checks
/// directly. Ctrl-Z (SIGTSTP) withdraws the state before the daemon stops, so the shell hooks go
/// direct too, and SIGCONT brings it back. An idle daemon's state holds at most 17 minutes past
/// its last heartbeat, so even a hook, which cannot look at the process, stops believing it.
#[test]
fn a_frozen_daemon_is_not_believed() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let pid = daemon.child.id();
    let valid_until = home.published()["daemon"]["valid_until"]
        .as_str()
        .map(str::to_string)
        .expect("a validity");
    let until = credwatch::support::timefmt::Timestamp::parse_datetime(&valid_until).unwrap();
    let cap = credwatch::support::timefmt::Timestamp::now().millis() + 17 * 60 * 1000 + 5_000;
    assert!(
        until.millis() <= cap,
        "a login valid for 20 days, yet the state holds until {valid_until}"
    );

    daemon.signal(Signal::SIGSTOP);
    wait_until("the daemon to stop", || process_state(pid) == 'T');
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    let status = home.status(&["claude"]);
    assert_eq!(status.json()["source"], "direct");
    assert_eq!(status.credential("claude")["state"], "logged-out");
    daemon.signal(Signal::SIGCONT);
    home.wait_for_state("claude", "logged-out");

    let runtime = home.credwatch_runtime();
    daemon.signal(Signal::SIGTSTP);
    wait_until("the state to be withdrawn and the daemon stopped", || {
        !runtime.join("status.json").exists()
            && !runtime.join("prompt").exists()
            && process_state(pid) == 'T'
    });
    daemon.signal(Signal::SIGCONT);
    wait_until("the state to be published again", || {
        runtime.join("status.json").exists() && runtime.join("prompt").exists()
    });
    home.wait_for_state("claude", "logged-out");
}

/// A store of a megabyte (a fleet's kubeconfig) takes the daemon a while to read: it is read off
/// the event loop, so changes that arrive with it or while it is read are published at once.
#[test]
fn a_slow_store_does_not_hold_back_the_others() {
    let mut home = TestHome::new();
    home.set_env("CREDWATCH_LOG", "debug");
    home.write(CREDS, claude_login(true));
    let kubeconfig = home.path(".kube/config");
    home.install_fixture("kube", crate::harness::Times::expired_since(1));
    let mut big = std::fs::read_to_string(&kubeconfig).unwrap();
    home.install_fixture("kube", crate::harness::Times::valid_for(30));
    let valid = std::fs::read_to_string(&kubeconfig).unwrap();
    home.write_config("presets = [\"claude\", \"kube\"]\n");
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    home.wait_for_state("kube", "ok");
    let mut i = 0;
    while big.len() < (3 << 20) / 4 {
        big.push_str(&format!("extension-{i}: value\n"));
        i += 1;
    }
    daemon.signal(Signal::SIGSTOP);
    wait_until("the daemon to stop", || {
        process_state(daemon.child.id()) == 'T'
    });
    let written_at = credwatch::support::timefmt::Timestamp::now();
    replace_atomically(&kubeconfig, big.as_bytes());
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    daemon.signal(Signal::SIGCONT);
    home.wait_for_state("claude", "logged-out");
    let published = home.published();
    let kube = published["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "kube")
        .unwrap()
        .clone();
    let checked_at = credwatch::support::timefmt::Timestamp::parse_datetime(
        kube["checked_at"].as_str().unwrap(),
    )
    .unwrap();
    assert!(
        checked_at < written_at && kube["state"] == "ok",
        "claude's change waited for the big kubeconfig: {kube}"
    );
    home.wait_for_state("kube", "expired");
    assert!(daemon.log().contains("large store"), "{}", daemon.log());

    // No batch this time: the kubeconfig is written, and while the daemon reads it, claude.
    let valid_again = valid + &big[big.find("extension-0").unwrap()..];
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    replace_atomically(&kubeconfig, valid_again.as_bytes());
    std::thread::sleep(Duration::from_millis(20));
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    assert_eq!(
        home.published_state("kube").as_deref(),
        Some("expired"),
        "claude waited for the kubeconfig to be read"
    );
    home.wait_for_state("kube", "ok");
}

/// Unmounts a tmpfs when the test ends, however it ends.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// The journal's directory on a full disk (a 64 KiB tmpfs, filled up): the entries of that time
/// are kept, written in order once there is room again, and no line is left half-written or
/// glued to the next.
#[test]
fn a_full_disk_loses_no_journal_entry() {
    if !crate::harness::require_root("mount a tmpfs") {
        return;
    }
    let home = home_with_claude();
    let state = home.state_home.join("credwatch");
    std::fs::create_dir_all(&state).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
        .arg(&state)
        .status()
        .unwrap();
    assert!(mounted.success());
    let _mounted = Mounted(state.clone());
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");

    let filler = state.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
    for round in 0..3 {
        replace_atomically(&home.path(CREDS), claude_login(round % 2 == 1).as_bytes());
        home.wait_for_state("claude", if round % 2 == 1 { "ok" } else { "logged-out" });
    }
    wait_until("the daemon to meet the full disk", || {
        daemon.log().contains("cannot write the journal")
    });
    let while_full = home.journal().len();

    std::fs::remove_file(&filler).unwrap();
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    wait_until("every entry of the full disk's time to be written", || {
        let modified = home
            .journal()
            .iter()
            .filter(|e| {
                e["name"] == "claude" && e["event"] == "blanked" || e["event"] == "modified"
            })
            .count();
        modified >= 4
    });
    let journal = home.journal();
    assert!(journal.len() >= while_full + 4, "{journal:?}");
    let times: Vec<&str> = journal.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "in order");
    let text = std::fs::read_to_string(state.join("journal.jsonl")).unwrap();
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "a damaged line: {line}"
        );
    }
}
