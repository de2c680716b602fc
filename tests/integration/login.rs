//! `login`, `verify`, `doctor` and live probes: the seed scenarios, with stand-in login commands
//! that write (or fail to write) the real formats, and a real HTTP server on 127.0.0.1.

use crate::harness::{claude_login, TestHome, CANARY};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A tiny HTTP/1.1 server on 127.0.0.1: `/200`, `/401`, `/403`, `/500` answer with that status,
/// `/slow` answers after 3 s. It records the path and `Authorization` header of every request.
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request = String::new();
                    let _ = reader.read_line(&mut request);
                    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut auth = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(value) = line
                            .strip_prefix("authorization: ")
                            .or(line.strip_prefix("Authorization: "))
                        {
                            auth = value.trim().to_string();
                        }
                    }
                    log.lock().unwrap().push((path.clone(), auth));
                    let status = match path.as_str() {
                        "/slow" => {
                            std::thread::sleep(std::time::Duration::from_secs(3));
                            200
                        }
                        p => p.trim_start_matches('/').parse().unwrap_or(404),
                    };
                    let mut stream = stream;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    );
                });
            }
        });
        Server { port, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

/// A config watching `~/.config/my-api/token.json`, probed at `url` with its token.
fn api_config(url: &str) -> String {
    api_config_with(&format!(
        r#"http = "{url}", bearer = "/access_token", timeout = "1s""#
    ))
}

/// The same credential with any probe (the inside of `probe = { … }`).
fn api_config_with(probe: &str) -> String {
    format!(
        r#"
[[credential]]
name = "api"
tool = "My API"
file = "~/.config/my-api/token.json"
format = "json"
secret = "/access_token"
fix = "my-api login"
probe = {{ {probe} }}
"#
    )
}

fn api_token(home: &TestHome) {
    home.write(
        ".config/my-api/token.json",
        format!(r#"{{"access_token": "{CANARY}"}}"#),
    );
}

/// A stand-in login command: a shell script under HOME.
fn script(home: &TestHome, name: &str, body: &str) -> PathBuf {
    let path = home.path(&format!("bin/{name}"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn seed_a_valid_locally_but_the_server_says_401_is_rejected() {
    let home = TestHome::new();
    let server = Server::start();
    home.write_config(api_config(&server.url("/401")));
    api_token(&home);
    let out = home.run(&["verify", "api"]);
    assert_eq!(out.code, 1, "rejected is broken: {}", out.stdout);
    assert!(
        out.stdout.contains("✗ the server accepts it (HTTP 401)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("fix: log in again: my-api login"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("→ rejected"));
    let requests = server.requests();
    assert_eq!(
        requests,
        vec![("/401".to_string(), format!("Bearer {CANARY}"))]
    );
    assert!(!out.stdout.contains(CANARY) && !out.stderr.contains(CANARY));
}

/// Regression (#13): with a glob store, the probe read the first matching file, not the login
/// in use (the newest that holds one), and asked the server with a stale token.
#[test]
fn an_http_probe_sends_the_token_of_the_file_in_use_among_a_globs_matches() {
    let home = TestHome::new();
    let server = Server::start();
    home.write_config(format!(
        r#"
[[credential]]
name = "api"
file = "~/.cache/my-api/*.json"
format = "json"
secret = "/access_token"
fix = "my-api login"
probe = {{ http = "{}", bearer = "/access_token", timeout = "1s" }}
"#,
        server.url("/200")
    ));
    home.write(
        ".cache/my-api/a-old.json",
        r#"{"access_token": "stale-token"}"#,
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    home.write(
        ".cache/my-api/b-new.json",
        format!(r#"{{"access_token": "{CANARY}"}}"#),
    );
    let old = home.path(".cache/my-api/a-old.json");
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let out = home.run(&["verify", "api"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        server.requests(),
        vec![("/200".to_string(), format!("Bearer {CANARY}"))],
        "the newest login's token was sent"
    );
}

#[test]
fn probe_answers_map_to_accepted_rejected_or_unknown() {
    let server = Server::start();
    for (path, code, mark, state) in [
        ("/200", 0, "✓ the server accepts it (HTTP 200)", "→ ok"),
        (
            "/403",
            1,
            "✗ the server accepts it (HTTP 403)",
            "→ rejected",
        ),
        ("/500", 0, "! the server could be asked", "→ ok"),
        ("/slow", 0, "no answer within 1 s", "→ ok"),
    ] {
        let home = TestHome::new();
        home.write_config(api_config(&server.url(path)));
        api_token(&home);
        let out = home.run(&["verify", "api"]);
        assert_eq!(out.code, code, "{path}: {}", out.stdout);
        assert!(out.stdout.contains(mark), "{path}: {}", out.stdout);
        assert!(out.stdout.contains(state), "{path}: {}", out.stdout);
    }
    // Nothing listens: unknown, never logged out.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let home = TestHome::new();
    home.write_config(api_config(&format!("http://127.0.0.1:{port}/")));
    api_token(&home);
    let out = home.run(&["verify", "api"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("the probe could not tell: request failed"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_command_probe_reads_exit_codes_and_output() {
    let home = TestHome::new();
    let probe = script(&home, "whoami", "echo 'error: token revoked' >&2; exit 4");
    home.write_config(api_config_with(&format!(
        r#"command = ["{}"], rejected_output = "token revoked""#,
        probe.display()
    )));
    api_token(&home);
    let out = home.run(&["verify", "api"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("exited 4"), "{}", out.stdout);
    assert!(out.stdout.contains("→ rejected"));
}

#[test]
fn the_daemon_probes_publishes_and_journals_and_never_leaks_the_token() {
    let home = TestHome::new();
    let server = Server::start();
    home.write_config(api_config(&server.url("/401")));
    api_token(&home);
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("api", "rejected");
    let published = home.published();
    let api = &published["credentials"][0];
    assert_eq!(api["probe"]["result"], "rejected");
    assert_eq!(api["probe"]["detail"], "HTTP 401");
    assert!(api["reason"]
        .as_str()
        .unwrap()
        .contains("the server rejects it"));
    let journal = home.journal();
    assert!(
        journal
            .iter()
            .any(|l| l["event"] == "probe" && l["to"] == "rejected"),
        "{journal:?}"
    );
    assert_eq!(server.requests()[0].1, format!("Bearer {CANARY}"));
    let status = home.run(&["status", "api"]);
    assert_eq!(status.code, 1);
    assert!(status.stdout.contains("rejected"));
    let everything = format!(
        "{}{}{:?}{}",
        published,
        daemon.log(),
        journal,
        std::fs::read_to_string(home.credwatch_runtime().join("prompt")).unwrap()
    );
    assert!(!everything.contains(CANARY), "{everything}");
}

#[test]
fn seed_b_a_login_that_persisted_nothing_is_named() {
    let home = TestHome::new();
    let fake = script(
        &home,
        "claude",
        r#"echo '{"oauthAccount":{"emailAddress":"u@example.com"}}' > "$HOME/.claude.json"; echo "Login successful." "#,
    );
    let out = home.run(&[
        "login",
        "--grace",
        "0s",
        "--",
        fake.to_str().unwrap(),
        "/login",
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("Login successful."),
        "the command's own output"
    );
    assert!(
        out.stdout.contains(
            "the login command exited 0 but wrote nothing to ~/.claude/.credentials.json, while ~/.claude.json names the account: the login did not persist"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("→ unpersisted"));
}

#[test]
fn seed_c_a_login_blanked_a_second_later_is_caught_by_the_grace_recheck() {
    let home = TestHome::new();
    let valid = claude_login(true);
    let blank = claude_login(false);
    let fake = script(
        &home,
        "claude",
        &format!(
            "mkdir -p \"$HOME/.claude\"\nprintf '%s' '{valid}' > \"$HOME/.claude/.credentials.json\"\n( sleep 1; printf '%s' '{blank}' > \"$HOME/.claude/.credentials.json\" ) >/dev/null 2>&1 &\necho done"
        ),
    );
    let out = home.run(&[
        "login",
        "claude",
        "--grace",
        "2s",
        "--",
        fake.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("✓ a new login was written"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("✗ it is still there 2 s later"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("logged out"), "{}", out.stdout);
    assert!(out.stdout.contains("→ logged-out"));
    assert!(
        !out.stdout.contains("✓ a well-formed login")
            && !out.stdout.contains("✓ it has not expired"),
        "no ✓ for what is broken: {}",
        out.stdout
    );
    assert!(!out.stdout.contains(CANARY));
}

#[test]
fn a_command_probe_that_hangs_with_helpers_is_cut_at_its_timeout() {
    let home = TestHome::new();
    // The helper keeps the output pipe open: killing only the direct child would not end it.
    let probe = script(&home, "hangs", "sleep 30 &\nsleep 30");
    home.write_config(api_config_with(&format!(
        r#"command = ["{}"], timeout = "1s""#,
        probe.display()
    )));
    api_token(&home);
    let started = std::time::Instant::now();
    let out = home.run(&["verify", "api"]);
    assert!(
        started.elapsed().as_secs() < 10,
        "cut at the timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 0, "unknown changes nothing: {}", out.stdout);
    assert!(
        out.stdout.contains("did not finish within 1 s"),
        "{}",
        out.stdout
    );
}

/// Regression (#14): a probe that answers and exits, leaving a helper in a session of its own
/// (out of reach of the group kill) that holds its output open, made `verify` wait for the
/// helper, 25 s against a 2 s timeout. The answer counts; the helper is not waited for.
#[test]
fn a_probe_that_leaves_a_detached_helper_holding_its_output_is_not_waited_for() {
    let home = TestHome::new();
    let probe = script(&home, "answers", "setsid sleep 30 &\necho fine\nexit 0");
    home.write_config(api_config_with(&format!(
        r#"command = ["{}"], timeout = "1s""#,
        probe.display()
    )));
    api_token(&home);
    let started = std::time::Instant::now();
    let out = home.run(&["verify", "api"]);
    assert!(
        started.elapsed().as_secs() < 5,
        "not held by the helper: {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("✓ the server accepts it"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_login_that_persisted_is_proven_step_by_step() {
    let home = TestHome::new();
    let valid = claude_login(true);
    let fake = script(
        &home,
        "claude",
        &format!("mkdir -p \"$HOME/.claude\"\numask 077\nprintf '%s' '{valid}' > \"$HOME/.claude/.credentials.json\""),
    );
    // No NAME: the command's name maps it to the claude preset.
    let out = home.run(&["login", "--grace", "1s", "--", fake.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    for step in [
        "✓ the login command (",
        "✓ a new login was written",
        "✓ it is still there 1 s later",
        "✓ a well-formed login is present at ~/.claude/.credentials.json",
        "✓ ~/.claude/.credentials.json is private to you (mode 0600)",
        "✓ ~/.claude/.credentials.json is on persistent storage",
        "✓ no environment variable overrides it in this shell",
        "→ ok",
    ] {
        assert!(out.stdout.contains(step), "{step}: {}", out.stdout);
    }
}

#[test]
fn seed_d_an_unreachable_keyring_during_login_is_named() {
    let home = TestHome::new();
    home.write_config(
        r#"
[[credential]]
name = "api"
keyring = { service = "my-api", account = "me" }
fix = "my-api login"
"#,
    );
    let fake = script(&home, "my-api", "echo 'stored in keyring'");
    let out = home.run(&[
        "login",
        "api",
        "--grace",
        "0s",
        "--",
        fake.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 3, "undetermined: {}", out.stdout);
    assert!(
        out.stdout.contains("no D-Bus session bus"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the keyring cannot be reached"),
        "{}",
        out.stdout
    );
}

#[test]
fn login_keeps_the_terminal_for_the_command() {
    let home = TestHome::new();
    let valid = claude_login(true);
    let fake = script(
        &home,
        "claude",
        &format!(
            "printf 'paste the code: '\nread code\necho \"got $code\"\nmkdir -p \"$HOME/.claude\"\numask 077\nprintf '%s' '{valid}' > \"$HOME/.claude/.credentials.json\""
        ),
    );
    let mut command = home.command(&[
        "login",
        "claude",
        "--grace",
        "0s",
        "--",
        fake.to_str().unwrap(),
    ]);
    command.env("TERM", "dumb");
    let mut pty = rexpect::session::spawn_command(command, Some(10_000)).unwrap();
    pty.exp_string("paste the code: ").unwrap();
    pty.send_line("4711").unwrap();
    pty.exp_string("got 4711").unwrap();
    pty.exp_string("a new login was written").unwrap();
    pty.exp_eof().unwrap();
}

#[test]
fn login_forwards_sigterm_and_reports_the_exit_code() {
    let home = TestHome::new();
    let fake = script(
        &home,
        "slow-login",
        "trap 'echo got TERM; exit 7' TERM\n: > \"$HOME/trapped\"\nsleep 20 >/dev/null 2>&1 & wait",
    );
    let child = home
        .command(&[
            "login",
            "claude",
            "--grace",
            "0s",
            "--",
            fake.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // The login command is ready for the signal once it has set its trap (it says so).
    let trapped = home.path("trapped");
    crate::harness::wait_until("the login command to set its trap", || trapped.exists());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("got TERM"), "{stdout}");
    assert!(stdout.contains("exited 7"), "{stdout}");
}

#[test]
fn doctor_names_what_is_missing_and_what_works() {
    let mut home = TestHome::new();
    home.write_config(
        r#"
[[credential]]
name = "api"
keyring = { service = "my-api", account = "me" }
"#,
    );
    home.write(
        ".config/gh/hosts.yml",
        format!("github.com:\n    oauth_token: {CANARY}\n    user: me\n"),
    );
    home.set_env("GH_TOKEN", CANARY);
    home.set_env("CREDWATCH_HOOK", format!("bash {}", std::process::id()));
    let out = home.run(&["doctor", "--json"]);
    assert_eq!(
        out.code, 1,
        "no bus while a credential needs the keyring: {}",
        out.stdout
    );
    let doc = out.json();
    let checks = doc["checks"].as_array().unwrap();
    let find = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(find("session-bus")["status"], "error");
    assert!(find("session-bus")["detail"]
        .as_str()
        .unwrap()
        .contains("SSH"));
    assert_eq!(
        find("shell-hook")["status"],
        "ok",
        "the parent runs the hook"
    );
    assert_eq!(find("daemon")["status"], "warn");
    assert_eq!(find("home")["status"], "ok");
    let shadow = find("shadowing-env");
    assert!(
        shadow["detail"].as_str().unwrap().contains("GH_TOKEN"),
        "{shadow}"
    );
    assert!(!out.stdout.contains(CANARY), "names, never values");

    let _bus = home.start_keyring();
    let _daemon = home.start_daemon(&[]);
    let out = home.run(&["doctor"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("default collection \"login\", unlocked"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("version {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        out.stdout
    );
}
