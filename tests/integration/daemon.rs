//! `credwatch daemon` with real inotify in an isolated HOME and runtime dir: what a user (and the
//! shell hook, and `status`) sees while credentials change under it.

use crate::harness::{
    claude_login, claude_login_for_days, replace_atomically, run_command, wait_until, TestHome,
    Times, CANARY, DAY,
};
use nix::sys::signal::Signal;
use std::time::Duration;

const CREDS: &str = ".claude/.credentials.json";

fn home_with_claude() -> TestHome {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    home
}

#[test]
fn publishes_status_and_prompt_line_and_status_reads_them() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let doc = home.published();
    assert_eq!(doc["source"], "daemon");
    assert_eq!(doc["daemon"]["running"], true);
    assert_eq!(doc["daemon"]["pid"], daemon.child.id());
    let prompt = std::fs::read_to_string(home.credwatch_runtime().join("prompt")).unwrap();
    assert_eq!(
        prompt.split(' ').next().unwrap(),
        daemon.child.id().to_string()
    );
    assert!(
        prompt.ends_with(" \n"),
        "all well: empty message: {prompt:?}"
    );

    let status = home.status(&[]);
    assert_eq!(
        status.json()["source"],
        "daemon",
        "status uses the daemon's fresh state"
    );
    let live = home.run(&["status", "--json", "--live"]);
    assert_eq!(live.json()["source"], "direct");
    assert_eq!(live.json()["daemon"]["running"], true);
    let text = home.run(&["status"]);
    assert!(
        text.stdout.contains("(from the credwatch daemon, pid"),
        "{}",
        text.stdout
    );

    for file in ["status.json", "prompt"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.credwatch_runtime().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let dir_mode = std::fs::metadata(home.credwatch_runtime()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(dir_mode.permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_blanked_login_shows_in_the_prompt_line_and_clears_when_fixed() {
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let prompt = std::fs::read_to_string(home.credwatch_runtime().join("prompt")).unwrap();
    let lines: Vec<&str> = prompt.lines().collect();
    assert!(lines[0].ends_with(" ⚠ claude"), "{prompt:?}");
    assert_eq!(
        lines[1],
        "claude\tcredwatch: Claude Code: logged out: /claudeAiOauth/accessToken in ~/.claude/.credentials.json is empty — run: claude /login",
        "one warning line per mapped command"
    );
    assert_eq!(lines.len(), 2);
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    let events: Vec<String> = home
        .journal()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert!(events.contains(&"blanked".to_string()), "{events:?}");
}

#[test]
fn burst_of_1000_atomic_replacements_ends_in_the_final_state() {
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let path = home.path(CREDS);
    for i in 0..1000 {
        replace_atomically(&path, claude_login(i % 2 == 0).as_bytes());
    }
    let last_write = std::time::Instant::now();
    // The last write (i = 999) is a blanked file.
    home.wait_for_state("claude", "logged-out");
    // Still so once the daemon's post-write re-check (the grace after the last write) and the
    // settling of the transition have passed: neither brings back an earlier login.
    crate::harness::wait_out(
        last_write,
        crate::harness::DAEMON_GRACE.max(crate::harness::DAEMON_SETTLE),
    );
    assert_eq!(
        home.published_state("claude").as_deref(),
        Some("logged-out")
    );
}

#[test]
fn in_place_truncate_and_rewrite_is_seen() {
    use std::io::Write;
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(home.path(CREDS))
        .unwrap();
    file.write_all(claude_login(false).as_bytes()).unwrap();
    drop(file);
    home.wait_for_state("claude", "logged-out");
}

#[test]
fn credential_dir_deleted_recreated_then_written() {
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    std::fs::remove_dir_all(home.path(".claude")).unwrap();
    home.wait_for_state("claude", "missing");
    std::fs::create_dir(home.path(".claude")).unwrap();
    // Written right after mkdir: must not be missed while the watch is re-added.
    home.write(CREDS, claude_login(true));
    home.wait_for_state("claude", "ok");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
}

/// The first login on a machine: no `~/.claude` when the daemon starts.
#[test]
fn directory_created_after_start_is_picked_up() {
    let home = TestHome::new();
    let _daemon = home.start_daemon(&[]);
    assert_eq!(home.published()["credentials"], serde_json::json!([]));
    std::fs::create_dir(home.path(".claude")).unwrap();
    home.write(CREDS, claude_login(true));
    home.wait_for_state("claude", "ok");
    let created = home
        .journal()
        .iter()
        .any(|e| e["name"] == "claude" && e["event"] == "created");
    assert!(created, "{:?}", home.journal());
}

/// A glob store (the AWS SSO cache) picks up files created after start.
#[test]
fn glob_store_picks_up_new_files() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.path(".aws/sso/cache")).unwrap();
    let _daemon = home.start_daemon(&[]);
    let expires =
        credwatch::support::timefmt::Timestamp::from_secs(crate::harness::now_secs() + 6 * 3600)
            .rfc3339();
    replace_atomically(
        &home.path(".aws/sso/cache/new.json"),
        format!(r#"{{"accessToken":"a","expiresAt":"{expires}"}}"#).as_bytes(),
    );
    home.wait_for_state("aws-sso", "ok");
}

/// Stopped while more events arrive than the kernel queues: the overflow makes it rescan.
#[test]
fn inotify_overflow_rescans_everything() {
    let max_queued: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(16_384);
    let mut home = home_with_claude();
    home.set_env("CREDWATCH_LOG", "info");
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    daemon.signal(Signal::SIGSTOP);
    let noise = home.path(".claude/noise");
    // Entries created and deleted: two events each (writes to a file that is no store are not
    // even asked for).
    for i in 0..(max_queued / 2 + 100) {
        std::fs::write(&noise, i.to_string()).unwrap();
        std::fs::remove_file(&noise).unwrap();
    }
    std::fs::write(home.path(CREDS), claude_login(false)).unwrap();
    daemon.signal(Signal::SIGCONT);
    home.wait_for_state("claude", "logged-out");
    wait_until("the rescan to be logged", || {
        daemon.log().contains("rescanning everything")
    });
}

#[test]
fn expiry_deadline_is_published_without_any_file_event() {
    let home = TestHome::new();
    let deadline = crate::harness::now_secs() + 2;
    home.write_config(
        "presets = \"none\"\n[[credential]]\nname = \"short\"\nfile = \"~/short.json\"\nformat = \"json\"\nsecret = \"/t\"\nexpires = \"/e\"\nwarn_before = \"1s\"\n",
    );
    home.write("short.json", format!(r#"{{"t": "x", "e": {deadline}}}"#));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("short", "expiring");
    home.wait_for_state("short", "expired");
    let lag = credwatch::support::timefmt::Timestamp::now().millis() - deadline * 1000;
    assert!(lag < 3000, "published {lag} ms after the deadline");
}

#[test]
fn kill_9_then_restart_recovers_lock_and_state() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    daemon.signal(Signal::SIGKILL);
    drop(daemon);
    let stale = home.status(&[]);
    assert_eq!(
        stale.json()["source"],
        "direct",
        "a dead daemon's file is not trusted"
    );
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    let _again = home.start_daemon(&[]);
    home.wait_for_state("claude", "logged-out");
}

#[test]
fn a_second_daemon_refuses_and_names_the_first() {
    let home = home_with_claude();
    let first = home.start_daemon(&[]);
    let second = run_command(home.command(&["daemon"]));
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains(&format!(
            "another credwatch daemon is already running (pid {})",
            first.child.id()
        )),
        "{}",
        second.stderr
    );
}

#[test]
fn sigterm_leaves_no_stale_state_behind() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    assert_eq!(daemon.stop(), Some(0));
    assert!(!home.credwatch_runtime().join("status.json").exists());
    assert!(!home.credwatch_runtime().join("prompt").exists());
    assert_eq!(home.status(&[]).json()["source"], "direct");
}

#[test]
fn unusable_runtime_dir_is_a_clear_error() {
    let mut home = TestHome::new();
    let blocked = home.path("not-a-dir");
    std::fs::write(&blocked, "").unwrap();
    home.set_env("XDG_RUNTIME_DIR", &blocked);
    let outcome = run_command(home.command(&["daemon"]));
    assert_eq!(outcome.code, 1);
    assert!(
        outcome.stderr.contains("cannot create"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("not-a-dir/credwatch"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("fix:"), "{}", outcome.stderr);
}

#[test]
fn broken_config_at_reload_keeps_the_last_good_one() {
    let mut home = TestHome::new();
    // Info: the daemon says when it reloaded, and why (a SIGHUP below).
    home.set_env("CREDWATCH_LOG", "info");
    home.install_fixture("vault", Times::valid_for(1));
    home.write_config("presets = [\"vault\"]\n");
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("vault", "ok");
    home.write_config("presets = [\"vault\"\n");
    wait_until("the config error to be published", || {
        !home.published()["daemon"]["config_error"].is_null()
    });
    assert_eq!(
        home.published_state("vault").as_deref(),
        Some("ok"),
        "last good config kept"
    );
    let error = home.published()["daemon"]["config_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("config.toml:1:19: unclosed array"),
        "{error}"
    );
    let status = home.run(&["status"]);
    assert_eq!(
        status.code, 2,
        "status reads the same file and names the same error"
    );
    assert!(
        status.stderr.contains("config.toml:1:19"),
        "{}",
        status.stderr
    );
    home.write_config("presets = [\"vault\", \"claude\"]\n");
    wait_until("the error to clear", || {
        home.published()["daemon"]["config_error"].is_null()
    });
    home.wait_for_state("claude", "missing");
    daemon.signal(Signal::SIGHUP);
    wait_until("the daemon to reload on SIGHUP", || {
        daemon
            .log()
            .lines()
            .any(|l| l.contains("config reloaded") && l.contains("SIGHUP"))
    });
    assert!(!daemon.log().contains("panicked"), "{}", daemon.log());
    home.wait_for_state("vault", "ok");
}

/// A login written and then removed a moment later did not persist: said with both times.
#[test]
fn login_lost_within_the_grace_delay_is_unpersisted() {
    let home = TestHome::new();
    std::fs::create_dir(home.path(".claude")).unwrap();
    let _daemon = home.start_daemon(&["--grace", "3s"]);
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_file(home.path(CREDS)).unwrap();
    home.wait_for_state("claude", "unpersisted");
    let reason = home.published()["credentials"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.starts_with("a login was written at "), "{reason}");
    assert!(reason.contains("the login did not persist"), "{reason}");
}

#[test]
fn a_credential_seen_before_and_gone_stays_listed_as_missing() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    std::fs::remove_file(home.path(CREDS)).unwrap();
    home.wait_for_state("claude", "missing");
    daemon.stop();
    // Even a direct check remembers it: it is not silently dropped.
    let claude = home.status(&[]).credential("claude");
    assert_eq!(claude["state"], "missing");
    assert!(
        claude["reason"]
            .as_str()
            .unwrap()
            .contains("(it was there until "),
        "{claude}"
    );
}

/// Waits until the journal records `name`'s transition to `state` (transitions are recorded once
/// the new state has held for the settle time).
fn wait_for_transition(home: &TestHome, name: &str, state: &str) {
    wait_until(&format!("the journal to record {name} → {state}"), || {
        home.journal()
            .iter()
            .any(|e| e["name"] == name && e["event"] == "state" && e["to"] == state)
    });
}

#[test]
fn journal_command_shows_what_happened() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    wait_for_transition(&home, "claude", "ok");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    wait_for_transition(&home, "claude", "logged-out");
    std::fs::remove_file(home.path(CREDS)).unwrap();
    home.wait_for_state("claude", "missing");
    wait_for_transition(&home, "claude", "missing");
    daemon.stop();
    let text = home.run(&["journal", "claude"]);
    assert!(text.stdout.contains("ok → logged-out"), "{}", text.stdout);
    assert!(text.stdout.contains("claude  blanked"), "{}", text.stdout);
    assert!(text.stdout.contains("claude  deleted"), "{}", text.stdout);
    let json = home.run(&["journal", "--json"]);
    let events: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events
        .iter()
        .any(|e| e["event"] == "state" && e["to"] == "missing"));
    assert_eq!(
        home.run(&["journal", "vault"]).stdout,
        "The journal is empty for vault: the daemon writes it (credwatch daemon).\n"
    );
}

/// Nothing the daemon writes (state, prompt, journal, memory, its log at trace level) holds a secret.
#[test]
fn daemon_files_and_log_hold_no_secret() {
    let mut home = home_with_claude();
    home.set_env("CREDWATCH_LOG", "trace");
    home.set_env("ANTHROPIC_API_KEY", CANARY);
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    replace_atomically(
        &home.path(CREDS),
        format!("{{\"claudeAiOauth\": {{\"accessToken\": \"{CANARY}\",,").as_bytes(),
    );
    home.wait_for_state("claude", "invalid");
    let log = daemon.log();
    drop(daemon);
    assert!(!log.contains(CANARY), "{log}");
    let mut files = vec![];
    for dir in [home.credwatch_runtime(), home.state_home.join("credwatch")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !content.contains(CANARY),
            "{} holds the canary",
            file.display()
        );
    }
    let _ = DAY;
}

#[test]
fn permission_change_is_journaled_and_makes_it_insecure() {
    use std::os::unix::fs::PermissionsExt;
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    std::fs::set_permissions(home.path(CREDS), std::fs::Permissions::from_mode(0o644)).unwrap();
    home.wait_for_state("claude", "insecure");
    let events: Vec<String> = home
        .journal()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert!(events.contains(&"mode-changed".to_string()), "{events:?}");
}

/// contract.md: the runtime dir is refused when it is a symlink (someone else could point it).
#[test]
fn symlinked_runtime_dir_is_refused() {
    let home = TestHome::new();
    let elsewhere = home.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, home.credwatch_runtime()).unwrap();
    let outcome = run_command(home.command(&["daemon"]));
    assert_eq!(outcome.code, 1);
    assert!(
        outcome
            .stderr
            .contains("is a symlink or not a directory: refused"),
        "{}",
        outcome.stderr
    );
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing written through the link"
    );
}

/// A config managed by a dotfile tool is a symlink: edits of the file it leads to are seen (the
/// config file itself is watched, through the link). A link repointed in a directory the daemon
/// does not watch raises no event there: SIGHUP is how to reload then.
#[test]
fn a_symlinked_config_is_followed_and_sighup_reloads_it() {
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    let real = home.write("dotfiles/credwatch.toml", "presets = [\"vault\"]\n");
    let other = home.write("dotfiles/other.toml", "presets = [\"vault\", \"gh\"]\n");
    std::os::unix::fs::symlink(&real, home.path("dotfiles/current")).unwrap();
    std::fs::create_dir_all(home.config_home.join("credwatch")).unwrap();
    std::os::unix::fs::symlink(
        home.path("dotfiles/current"),
        home.config_home.join("credwatch/config.toml"),
    )
    .unwrap();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("vault", "ok");
    std::fs::write(&real, "presets = [\"vault\", \"claude\"]\n").unwrap();
    home.wait_for_state("claude", "missing");
    let repointed = home.path("dotfiles/current.new");
    std::os::unix::fs::symlink(&other, &repointed).unwrap();
    std::fs::rename(&repointed, home.path("dotfiles/current")).unwrap();
    // A change the daemon does watch, made after the repointing: once it is published, the
    // daemon has handled every event before it (one inotify queue, read in order, a config
    // change reloaded in the batch that carries it), so a reload would show by now.
    home.write(CREDS, claude_login(true));
    home.wait_for_state("claude", "ok");
    assert_eq!(
        home.published_state("gh"),
        None,
        "no event reached the daemon"
    );
    daemon.signal(Signal::SIGHUP);
    home.wait_for_state("gh", "missing");
}

#[test]
fn login_blanked_within_the_grace_delay_says_when() {
    let home = TestHome::new();
    std::fs::create_dir(home.path(".claude")).unwrap();
    let _daemon = home.start_daemon(&["--grace", "3s"]);
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    std::thread::sleep(Duration::from_millis(300));
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let reason = home.published()["credentials"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.starts_with("logged out: a login was written at "),
        "{reason}"
    );
    assert!(reason.contains(" and blanked "), "{reason}");
}

#[test]
fn sigint_exits_cleanly_too() {
    let home = home_with_claude();
    let mut daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    daemon.signal(Signal::SIGINT);
    assert_eq!(crate::harness::wait_for_exit(&mut daemon.child), Some(0));
    assert!(!home.credwatch_runtime().join("status.json").exists());
}

/// After a change, the daemon goes back to sleep: a due time left behind (a probe that no
/// definition configures) once kept its timer firing in a loop. A sleeping daemon switches a
/// handful of times in a second; that loop switched thousands of times.
#[test]
fn after_a_change_the_daemon_sleeps_again() {
    let home = home_with_claude();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    let written = std::time::Instant::now();
    home.wait_for_state("claude", "logged-out");
    // Past what the change itself wakes the daemon for (its post-write re-check and the
    // settling of the transition): what is left is idling.
    crate::harness::wait_out(
        written,
        crate::harness::DAEMON_GRACE.max(crate::harness::DAEMON_SETTLE),
    );
    let pid = daemon.child.id();
    let before = crate::harness::context_switches(pid);
    std::thread::sleep(Duration::from_secs(1));
    let switches = crate::harness::context_switches(pid) - before;
    assert!(
        switches < 50,
        "{switches} context switches in 1 s of idling"
    );
}

/// The markers in the runtime dir (`prompt.STAMP`), by name.
fn prompt_markers(home: &TestHome) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(home.credwatch_runtime())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("prompt.")
                .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
        .collect();
    names.sort();
    names
}

/// The stamp on the prompt file's first line (`PID VALID_UNTIL STAMP MESSAGE`).
fn prompt_stamp(home: &TestHome) -> String {
    let prompt = std::fs::read_to_string(home.credwatch_runtime().join("prompt")).unwrap();
    prompt.split(' ').nth(2).unwrap().to_string()
}

/// Hooks stat `prompt.STAMP` instead of reading the prompt file: the marker of the published
/// content must exist exactly while that content is current, and a new content must get a new
/// stamp. (That an unchanged content keeps its stamp is a unit test in src/prompt.rs.)
#[test]
fn the_prompt_marker_exists_exactly_while_its_content_is_current() {
    let home = home_with_claude();
    // A stale marker from a daemon that was killed goes at start.
    std::fs::create_dir_all(home.credwatch_runtime()).unwrap();
    std::fs::write(home.credwatch_runtime().join("prompt.1.2"), "").unwrap();
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let first = prompt_stamp(&home);
    assert!(
        first.starts_with(&format!("{}.", daemon.child.id())),
        "{first}"
    );
    assert_eq!(prompt_markers(&home), vec![format!("prompt.{first}")]);

    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    wait_until("the broken login in the prompt file", || {
        std::fs::read_to_string(home.credwatch_runtime().join("prompt"))
            .is_ok_and(|p| p.lines().next().unwrap_or("").ends_with("claude"))
    });
    let broken = prompt_stamp(&home);
    assert_ne!(broken, first);
    assert_eq!(
        prompt_markers(&home),
        vec![format!("prompt.{broken}")],
        "the old marker is gone, the new one is there"
    );

    assert_eq!(daemon.stop(), Some(0));
    assert!(prompt_markers(&home).is_empty(), "no marker after a stop");
}

/// Regression: after any credential write (a login fixed, or refreshed as Claude Code does at
/// each token refresh) the daemon published a validity of the write time + 2 s (its post-write
/// re-check) and never a new one when the re-check changed nothing. Two seconds later every
/// reader took the watchdog for stopped: `status` checked directly and the shells said "the
/// watchdog stopped". The published validity is the next moment a state changes by itself.
#[test]
fn after_a_credential_write_the_published_state_stays_current() {
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let before = home.published()["daemon"]["valid_until"].clone();
    replace_atomically(&home.path(CREDS), claude_login_for_days(25).as_bytes());
    let written = std::time::Instant::now();
    wait_until("the write to be journaled", || {
        home.journal()
            .iter()
            .any(|e| e["event"] == "modified" || e["event"] == "created")
    });
    // Past the post-write re-check (the grace after the write), whose validity this rules out.
    crate::harness::wait_out(written, crate::harness::DAEMON_GRACE);
    let now = crate::harness::now_secs();
    let until = |value: &serde_json::Value| {
        value.as_str().map(|t| {
            credwatch::support::timefmt::Timestamp::parse_datetime(t)
                .unwrap()
                .millis()
                / 1000
        })
    };
    let published = home.published()["daemon"]["valid_until"].clone();
    assert!(
        until(&published).is_none_or(|t| t > now + 60),
        "3 s after the write the published state says it holds only until {published} (before the write: {before})"
    );
    let prompt = std::fs::read_to_string(home.credwatch_runtime().join("prompt")).unwrap();
    let valid_until: i64 = prompt.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        valid_until == 0 || valid_until > now + 60,
        "the prompt file holds only until {valid_until} (now {now})"
    );
    let status = home.status(&["claude"]);
    assert_eq!(
        status.json()["source"],
        "daemon",
        "status fell back to a direct check: {}",
        status.stdout
    );
}

/// `journal --follow` prints each new entry as the daemon writes it, and ends on Ctrl-C (SIGINT)
/// and when whatever reads it goes away (a closed pipe), as `tail -f` does.
#[test]
fn journal_follow_prints_new_entries_and_ends_on_sigint_and_a_closed_pipe() {
    use std::io::BufRead;
    let home = home_with_claude();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    // History to print first: claude's first state, recorded.
    wait_until("claude's first state in the journal", || {
        home.journal()
            .iter()
            .any(|e| e["name"] == "claude" && e["to"] == "ok")
    });

    let mut follower = home
        .command(&["journal", "--follow", "claude"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let next_line = |what: &str, wanted: &dyn Fn(&str) -> bool| -> Vec<String> {
        let started = std::time::Instant::now();
        let mut seen = Vec::new();
        while !seen.iter().any(|l: &String| wanted(l)) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no {what}: {seen:?}"
            );
            if let Ok(line) = received.recv_timeout(Duration::from_millis(100)) {
                seen.push(line);
            }
        }
        seen
    };
    // Ready: the history is printed (what it read before following), so what comes next is
    // the follow's.
    next_line("history line", &|l| l.contains("(new) → ok"));
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    next_line("new entry", &|l| {
        l.contains("blanked") || l.contains("modified")
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(follower.id() as i32),
        Signal::SIGINT,
    )
    .unwrap();
    crate::harness::wait_for_exit(&mut follower);

    // The blanked login's transition recorded (it settles): the journal is quiet until the
    // next write, so its last line is known.
    wait_until("the logged-out state in the journal", || {
        home.journal()
            .iter()
            .any(|e| e["name"] == "claude" && e["to"] == "logged-out")
    });
    let mut piped = home
        .command(&["journal", "--follow"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the history through its last line, then close the pipe: the follower now sits in
    // its follow, and only the next entry can find the pipe closed.
    let stdout = piped.stdout.take().unwrap();
    let (closed, history_read) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if line.contains("→ logged-out") {
                break;
            }
            line.clear();
        }
        drop(reader);
        let _ = closed.send(());
    });
    history_read
        .recv_timeout(Duration::from_secs(10))
        .expect("journal --follow printed its history");
    assert_eq!(piped.try_wait().unwrap(), None, "it follows, waiting");
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    let code = crate::harness::wait_for_exit(&mut piped);
    assert_eq!(code, Some(0), "a closed pipe ends it quietly");
    let mut stderr = String::new();
    use std::io::Read;
    piped
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.is_empty(), "{stderr}");
}
