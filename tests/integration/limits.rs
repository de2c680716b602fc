//! Limits (issue #25): no value of any environment variable a definition reads makes `status`,
//! `prompt`, `doctor` or the daemon fall over; every file format's worst shape up to its size
//! limit is judged in bounded time; a file over its size limit is `unknown` (too large to
//! check), never `invalid`.
//!
//! The variables are derived from the code (each preset's `Definition::context_variables`,
//! through `credwatch::fuzzing::context_variables`), the hostile values from
//! `credwatch::fuzzing::hostile_values`, the formats from `Format`'s serialized names.

use crate::harness::{run_command, TestHome};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A config that turns every preset on, found here or not (names from the code).
fn every_preset_config() -> String {
    let names: Vec<String> = credwatch::fuzzing::preset_names()
        .iter()
        .map(|n| format!("{n:?}"))
        .collect();
    format!("presets = [{}]\n", names.join(", "))
}

/// A stand-in for a shell: a live process whose PID names a context file.
struct FakeShell(Child);

impl FakeShell {
    fn start() -> FakeShell {
        FakeShell(
            Command::new("sleep")
                .arg("600")
                .stdin(Stdio::null())
                .spawn()
                .expect("sleep"),
        )
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for FakeShell {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A context file as a hook writes it (docs/contract.md, `context/PID`): generation, then
/// `NAME=VALUE` or `NAME` (unset), then `end`, each NUL-terminated.
fn context_bytes(generation: u32, values: &[(String, Option<Vec<u8>>)]) -> Vec<u8> {
    let mut out = format!("{generation}\0").into_bytes();
    for (name, value) in values {
        out.extend_from_slice(name.as_bytes());
        if let Some(value) = value {
            out.push(b'=');
            out.extend_from_slice(value);
        }
        out.push(0);
    }
    out.extend_from_slice(b"end\0");
    out
}

/// Writes `context/PID` the way a hook does (a temp file renamed over it, mode 0600).
fn hand_over(home: &TestHome, pid: u32, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let dir = home.credwatch_runtime().join("context");
    let temp = dir.join(format!(".{pid}.tmp"));
    std::fs::write(&temp, bytes).unwrap();
    std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::rename(&temp, dir.join(pid.to_string())).unwrap();
}

/// Whether the daemon published an answer for `pid`'s context of `generation`.
fn answered(home: &TestHome, pid: u32, generation: u32) -> bool {
    std::fs::read_to_string(home.credwatch_runtime().join("shell").join(pid.to_string()))
        .ok()
        .and_then(|text| {
            let first = text.lines().next()?.to_string();
            Some(first.split(' ').nth(3) == Some(&generation.to_string()))
        })
        .unwrap_or(false)
}

/// A long value mixing every kind of hostility: non-UTF-8, `:`, control characters, `%{`, `$`.
fn long_hostile(len: usize) -> Vec<u8> {
    b"\xff\xfe:\x1b[2J\r:%{uid}$HOME:/tmp/\xc3"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

/// Runs `command` with its output to files (a long answer must not fill a pipe nobody reads),
/// failing the test if it takes over 20 s; its exit code (-1: killed by a signal) and output.
fn run_bounded(home: &TestHome, mut command: Command) -> (i32, String, String) {
    let out = home.path("run.out");
    let err = home.path("run.err");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn credwatch");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "credwatch hung for 20 s: {:?}",
                command.get_args().collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read = |path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    (status.code().unwrap_or(-1), read(&out), read(&err))
}

/// Issue #25: `KRB5CCNAME=$'\xff\xff\xff:x' credwatch status` exited 101, and the same value
/// handed to the daemon in a shell's context killed it (and again after each restart). Every
/// selecting and shadowing variable of every preset, with every hostile value: the daemon
/// answers each shell and keeps running (and a new daemon starts over the same contexts);
/// `status`, `prompt` and `doctor` with each value in their own environment exit normally.
#[test]
fn non_utf8_krb5ccname_does_not_panic_status_or_the_daemon() {
    let variables = credwatch::fuzzing::context_variables().to_vec();
    for expected in [
        "KRB5CCNAME",
        "KUBECONFIG",
        "AWS_PROFILE",
        "CLAUDE_CONFIG_DIR",
        "GH_TOKEN",
    ] {
        assert!(
            variables.iter().any(|v| v == expected),
            "{expected} is not among the context variables: {variables:?}"
        );
    }
    let values = credwatch::fuzzing::hostile_values();
    let home = TestHome::new();
    home.write_config(every_preset_config());
    home.write(
        ".kube/config",
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: abc}\n",
    );
    let daemon = home.start_daemon(&[]);

    // One shell per hostile value, every variable set to it (long values shortened so that a
    // context stays under the daemon's 64 KiB limit); one shell per variable with a long value.
    let mut shells: Vec<(FakeShell, u32)> = Vec::new();
    let share = 60_000 / variables.len().max(1);
    for (i, value) in values.iter().enumerate() {
        let value = value.clone().map(|mut v| {
            v.truncate(share.saturating_sub(40));
            v
        });
        let context: Vec<(String, Option<Vec<u8>>)> = variables
            .iter()
            .map(|name| (name.clone(), value.clone()))
            .collect();
        let shell = FakeShell::start();
        hand_over(&home, shell.pid(), &context_bytes(i as u32 + 1, &context));
        shells.push((shell, i as u32 + 1));
    }
    for name in &variables {
        let shell = FakeShell::start();
        let context = [(name.clone(), Some(long_hostile(60_000)))];
        hand_over(&home, shell.pid(), &context_bytes(7, &context));
        shells.push((shell, 7));
    }
    let mut daemon = daemon;
    let started = Instant::now();
    let mut waiting: Vec<u32> = shells.iter().map(|(s, _)| s.pid()).collect();
    while !waiting.is_empty() && started.elapsed() < Duration::from_secs(60) {
        if let Some(exit) = daemon.child.try_wait().unwrap() {
            panic!(
                "the daemon died ({exit}) on a hostile context:\n{}",
                daemon.log()
            );
        }
        waiting.retain(|pid| {
            let generation = shells.iter().find(|(s, _)| s.pid() == *pid).unwrap().1;
            !answered(&home, *pid, generation)
        });
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        waiting.is_empty(),
        "{} of {} shells got no answer in 60 s:\n{}",
        waiting.len(),
        shells.len(),
        daemon.log()
    );
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "{}",
        daemon.log()
    );
    assert!(!daemon.log().contains("panicked"), "{}", daemon.log());
    // It still publishes: a change to a store is seen after all this.
    home.write(".kube/config", "not: [valid");
    home.wait_for_state("kube", "invalid");

    // Under systemd the daemon restarts and reads the same contexts: it must start again and
    // answer each shell anew (it forgets what it published for shells when it starts).
    assert_eq!(daemon.stop(), Some(0));
    // Started by hand: it judges every context before its first publication, which takes longer
    // than start_daemon waits for in a debug build on a busy machine.
    let log = home.path("restarted-daemon.log");
    let mut again = crate::harness::Daemon {
        child: home
            .command(&["daemon"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        stderr_path: log,
    };
    let started = Instant::now();
    let mut waiting: Vec<(u32, u32)> = shells.iter().map(|(s, g)| (s.pid(), *g)).collect();
    while !waiting.is_empty() && started.elapsed() < Duration::from_secs(60) {
        if let Some(exit) = again.child.try_wait().unwrap() {
            panic!("the restarted daemon died ({exit}):\n{}", again.log());
        }
        waiting.retain(|(pid, generation)| !answered(&home, *pid, *generation));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        waiting.is_empty(),
        "the restarted daemon did not answer {waiting:?}"
    );
    assert!(!again.log().contains("panicked"), "{}", again.log());
    drop(again);
    drop(shells);

    // status, prompt and doctor, each value of every variable in their own environment: all
    // variables at once, then each variable alone with the value that panicked.
    let run = |env: &[(String, OsString)]| {
        for args in [
            &["status", "--json"][..],
            &["status"],
            &["prompt"],
            &["doctor"],
        ] {
            let mut command = home.command(args);
            command.envs(env.iter().map(|(k, v)| (k, v)));
            let (code, stdout, stderr) = run_bounded(&home, command);
            let what = format!(
                "{args:?} with {} bytes in each variable",
                env.first().map_or(0, |(_, v)| v.len())
            );
            assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
            assert!(
                [0, 1, 2, 3].contains(&code),
                "{what}: exit code {code} is not in the contract:\n{stderr}"
            );
            // A config that cannot be read (XDG_CONFIG_HOME too long to be a path) is exit 2,
            // said on stderr; anything else answers in JSON.
            if code == 2 {
                assert!(stderr.contains("config"), "{what}: exit 2:\n{stderr}");
            } else if args == ["status", "--json"] {
                serde_json::from_str::<serde_json::Value>(&stdout)
                    .unwrap_or_else(|e| panic!("{what}: exit {code}, not JSON ({e}):\n{stderr}"));
            }
        }
    };
    for value in &values {
        let Some(value) = value else { continue };
        let mut value = value.clone();
        // The whole environment must fit the kernel's limit for one exec (2 MiB).
        value.truncate(1_000_000 / variables.len().max(1));
        let env: Vec<(String, OsString)> = variables
            .iter()
            .map(|name| (name.clone(), OsString::from_vec(value.clone())))
            .collect();
        run(&env);
    }
    for name in &variables {
        let mut command = home.command(&["status", "--json"]);
        command.env(name, OsString::from_vec(b"\xff\xff\xff:x".to_vec()));
        let (code, stdout, stderr) = run_bounded(&home, command);
        assert!(
            [0, 1, 3].contains(&code) && !stderr.contains("panicked"),
            "{name}=$'\\xff\\xff\\xff:x' status: exit {code}\n{stderr}"
        );
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap();
    }
}

/// `status --json NAME` and `prompt` for a store over its size limit: `unknown` (exit 3, none
/// broken), the reason says it is too large to check with its size and the limit, never that
/// the login is broken, and the prompt is not flagged.
fn too_large_is_unknown(home: &TestHome, name: &str, size: &str, limit: &str) {
    home.write_config(format!("presets = [{name:?}]\n"));
    let outcome = home.status(&[name]);
    let c = outcome.credential(name);
    let reason = c["reason"].as_str().unwrap_or_default();
    assert_eq!(c["state"], "unknown", "{name}: {c}");
    assert_eq!(outcome.code, 3, "{name}: undetermined, not broken: {c}");
    assert!(
        reason.contains(&format!("too large to check: {size}, limit {limit}")),
        "{name}: {reason}"
    );
    for claim in ["invalid", "broken", "corrupt", "logged out"] {
        assert!(!reason.contains(claim), "{name}: {reason}");
    }
    let prompt = run_command(home.command(&["prompt"]));
    assert_eq!(prompt.stdout.trim(), "", "{name}: the prompt is flagged");
}

/// Issue #25: a 7 MiB `.credentials.json` (padding Claude Code ignores) was `invalid`, which
/// flagged the prompt though the tool works with it.
#[test]
fn a_7_mib_claude_credentials_json_is_unknown_not_invalid() {
    let home = TestHome::new();
    let login = crate::harness::claude_login(true);
    let head = format!("{}, \"padding\": \"", login.strip_suffix('}').unwrap());
    let padded = format!("{head}{}\"}}", "x".repeat((7 << 20) - head.len() - 2));
    assert_eq!(padded.len(), 7 << 20);
    serde_json::from_str::<serde_json::Value>(&padded)
        .expect("valid JSON, as Claude Code reads it");
    home.write(crate::pty::CREDS, &padded);
    too_large_is_unknown(&home, "claude", "7 MiB", "1 MiB");
}

/// Issue #25: gh's `hosts.yml` with 200,000 hosts (7 MiB) was `invalid`.
#[test]
fn a_7_mib_gh_hosts_yml_of_200000_hosts_is_unknown_not_invalid() {
    let home = TestHome::new();
    let mut hosts = String::from(
        "github.com:\n    oauth_token: gho_token\n    user: octocat\n    git_protocol: https\n",
    );
    for i in 0..200_000 {
        hosts.push_str(&format!("h{i:06}.example.com:\n    user: u{i:06}\n"));
    }
    home.write(".config/gh/hosts.yml", &hosts);
    assert!(
        hosts.len() > 7 << 20 && hosts.len() < 8 << 20,
        "{}",
        hosts.len()
    );
    let size = format!("{:.1} MiB", hosts.len() as f64 / f64::from(1 << 20));
    too_large_is_unknown(&home, "gh", &size, "1 MiB");
}

/// Issue #25: a 2 MiB `.git-credentials` (a line per host) was `invalid`.
#[test]
fn a_2_mib_git_credentials_is_unknown_not_invalid() {
    let home = TestHome::new();
    let mut lines = String::new();
    let mut i = 0;
    while lines.len() < 2 << 20 {
        lines.push_str(&format!("https://u:t{i:08}@host{i:08}.example.com\n"));
        i += 1;
    }
    lines.truncate(2 << 20);
    home.write(".git-credentials", &lines);
    too_large_is_unknown(&home, "git", "2 MiB", "1 MiB");
}

/// Every format's worst shape at its size limit (from the code: `fuzzing::worst_shapes`, one per
/// `Format::ALL`), through `status --json` as a user's definition (the ssh-agent's through a
/// real socket, gcloud's database made by the real sqlite3): each is judged, none hangs. The
/// time bound is a debug build's on a busy machine; the release figures (all under 0.5 s) are in
/// BENCHMARKS.md, "Parsers: worst shapes (#25)". The kubeconfig of `KUBECONFIG=a:b` with 100,000
/// users in each took 88 s before (#25).
#[test]
fn every_formats_worst_shape_at_its_size_limit_is_judged_without_hanging() {
    use std::os::unix::net::UnixListener;
    let home = TestHome::new();
    let shapes = credwatch::fuzzing::worst_shapes();
    assert_eq!(shapes.len(), credwatch::fuzzing::format_names().len());
    let mut config = String::from("presets = \"none\"\n");
    let mut names = Vec::new();
    let mut agent = None;
    for (i, shape) in shapes.iter().enumerate() {
        let format = shape.format.to_string().to_lowercase();
        let dir = home.path(&format!("worst{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = if format == "ssh-agent" {
            // A real socket, answering the identities request with the worst answer.
            let socket = dir.join("agent.sock");
            let listener = UnixListener::bind(&socket).unwrap();
            let answer = shape.files[0].clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let mut stream = stream;
                    let mut request = [0u8; 5];
                    if stream.read_exact(&mut request).is_ok() {
                        let _ = stream.write_all(&(answer.len() as u32).to_be_bytes());
                        let _ = stream.write_all(&answer);
                    }
                }
            });
            agent = Some(socket.clone());
            socket
        } else if let Some(sql) = &shape.sql {
            let db = dir.join("credentials.db");
            let mut sqlite3 = Command::new("sqlite3")
                .arg(&db)
                .stdin(Stdio::piped())
                .spawn()
                .expect("sqlite3 is not installed: run scripts/test, which installs it");
            sqlite3
                .stdin
                .take()
                .unwrap()
                .write_all(sql.as_bytes())
                .unwrap();
            assert!(sqlite3.wait().unwrap().success());
            db
        } else {
            let mut list = Vec::new();
            for (j, bytes) in shape.files.iter().enumerate() {
                let path = dir.join(format!("{j}.{format}"));
                std::fs::write(&path, bytes).unwrap();
                list.push(path.display().to_string());
            }
            PathBuf::from(list.join(":"))
        };
        let limit = shape.size_limit;
        if format != "ssh-agent" {
            for part in std::env::split_paths(file.as_os_str()) {
                let size = std::fs::metadata(&part).unwrap().len();
                assert!(
                    size <= limit,
                    "{format}: {size} bytes over its limit {limit}"
                );
                assert!(
                    size * 10 >= limit * 8,
                    "{format}: {size} bytes, not the worst"
                );
            }
        }
        let secret = if shape.secret.is_empty() {
            String::new()
        } else {
            format!("secret = \"{}\"\n", shape.secret)
        };
        config.push_str(&format!(
            "[[credential]]\nname = \"w{i}\"\nfile = \"{}\"\nformat = \"{format}\"\n{secret}",
            file.display()
        ));
        names.push((format!("w{i}"), format));
    }
    assert!(agent.is_some(), "the ssh-agent format has a worst shape");
    home.write_config(&config);
    for (name, format) in names {
        let started = Instant::now();
        let (code, stdout, stderr) = run_bounded(&home, home.command(&["status", "--json", &name]));
        let took = started.elapsed();
        assert!([0, 1, 3].contains(&code), "{format}: exit {code}\n{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let state = doc["credentials"][0]["state"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        let reason = doc["credentials"][0]["reason"].as_str().unwrap_or_default();
        assert!(
            !(state == "unknown" && reason.contains("too large")),
            "{format}: the worst shape at the limit was refused as too large: {reason}"
        );
        eprintln!("{format}: {state} in {took:?}");
        assert!(took < Duration::from_secs(10), "{format}: {took:?}");
    }
}
