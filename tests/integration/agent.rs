//! The ssh-agent of a shell as a credential (issue #16): a real `ssh-agent`, real keys and
//! certificates from `ssh-keygen`, added with the real `ssh-add`; real shells in a pty and a real
//! tmux server for what the prompt shows.

use crate::clients::{ssh_key, ssh_sign};
use crate::harness::{run_command, TestHome};
use crate::pty::{each_shell, Session, Shell};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Whether the OpenSSH tools these tests drive are installed; else the test skips
/// (`harness::require`: a failure under scripts/test, which installs openssh-client).
fn agent_available() -> bool {
    ["ssh-agent", "ssh-add", "ssh-keygen"]
        .into_iter()
        .all(|tool| crate::harness::require(tool, "a real agent and keys (openssh-client)"))
}

/// A key made by the real ssh-keygen in HOME.
fn new_key(home: &TestHome) -> PathBuf {
    let key = home.path("id_ed25519");
    ssh_key(home, &key);
    key
}

/// A real ssh-agent in the foreground (`-D`) on a socket in HOME; killed when dropped.
struct Agent {
    child: Child,
    socket: PathBuf,
}

impl Agent {
    fn start(home: &TestHome, name: &str) -> Agent {
        let socket = home.path(&format!("{name}.sock"));
        let child = home
            .program("ssh-agent", &["-D", "-a", socket.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent");
        // The socket file exists from its bind(), before the agent listens: ready is when a
        // connection is accepted (ssh-add right after the bind was refused under load).
        let started = Instant::now();
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the agent does not accept connections on {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { child, socket }
    }

    /// `ssh-add` of these keys, with what it prints.
    fn add(&self, home: &TestHome, keys: &[&Path]) -> String {
        let mut args: Vec<&str> = vec![];
        args.extend(keys.iter().map(|k| k.to_str().unwrap()));
        let mut command = home.program("ssh-add", &args);
        command.env("SSH_AUTH_SOCK", &self.socket);
        let out = run_command(command);
        assert_eq!(out.code, 0, "ssh-add: {}", out.stderr);
        out.stderr
    }

    /// SIGTERM: the agent removes its socket and exits, as `ssh-agent -k` does.
    fn stop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `credwatch status ssh-agent --json` with SSH_AUTH_SOCK set to `socket` (and `extra`).
fn agent_state(home: &TestHome, socket: &Path, extra: &[(&str, &str)]) -> (String, String, String) {
    let mut command = home.command(&["status", "--json", "ssh-agent"]);
    command.env("SSH_AUTH_SOCK", socket);
    for (name, value) in extra {
        command.env(name, value);
    }
    let credential = run_command(command).credential("ssh-agent");
    let text = |key: &str| credential[key].as_str().unwrap_or_default().to_string();
    (text("state"), text("reason"), text("fix"))
}

#[test]
fn an_agent_with_keys_none_an_expired_certificate_gone_refused_or_hanging() {
    if !agent_available() {
        return;
    }
    let home = TestHome::new();
    let key = new_key(&home);
    let mut agent = Agent::start(&home, "agent");

    let (state, reason, fix) = agent_state(&home, &agent.socket, &[]);
    assert_eq!(state, "logged-out", "{reason}");
    assert!(reason.contains("holds no keys"), "{reason}");
    assert!(fix.starts_with("ssh-add"), "{fix}");

    agent.add(&home, &[&key]);
    let (state, reason, _) = agent_state(&home, &agent.socket, &[]);
    assert_eq!(state, "ok", "{reason}");

    // A certificate that ended, added with its key: the agent holds it, ssh would offer it.
    let ca = home.path("ca");
    ssh_key(&home, &ca);
    let old = home.path("old_ed25519");
    ssh_key(&home, &old);
    ssh_sign(
        &home,
        &ca,
        &home.path("old_ed25519.pub"),
        Some("20200101:20200102"),
    );
    agent.add(&home, &[&old]);
    let (state, reason, _) = agent_state(&home, &agent.socket, &[]);
    assert_eq!(state, "expired", "{reason}");
    assert!(reason.contains("2020-01-02"), "{reason}");

    // Stopped: its socket is gone. The fix is tmux's inside tmux, ssh -A or a new agent outside.
    agent.stop();
    let (state, reason, fix) = agent_state(&home, &agent.socket, &[]);
    assert_eq!(state, "missing", "{reason}");
    assert!(reason.contains("is gone"), "{reason}");
    assert!(
        fix.contains("ssh -A") && fix.contains("ssh-agent -s"),
        "{fix}"
    );
    let (_, _, fix) = agent_state(&home, &agent.socket, &[("TMUX", "/tmp/tmux-1/default,1,0")]);
    assert!(
        fix.contains(r#"eval "$(tmux show-environment -s SSH_AUTH_SOCK)""#),
        "{fix}"
    );

    // Killed (-9): the socket stays behind and refuses.
    let killed = Agent::start(&home, "killed");
    let mut killed = killed;
    let _ = killed.child.kill();
    let _ = killed.child.wait();
    assert!(killed.socket.exists());
    let (state, reason, _) = agent_state(&home, &killed.socket, &[]);
    assert_eq!(state, "missing", "{reason}");
    assert!(reason.contains("refuses connections"), "{reason}");

    // An agent that accepts and never answers: unknown, within the deadline.
    let hanging = home.path("hanging.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&hanging).unwrap();
    let started = Instant::now();
    let (state, reason, _) = agent_state(&home, &hanging, &[]);
    assert_eq!(state, "unknown", "{reason}");
    assert!(reason.contains("did not answer within 1 s"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Not a socket, and a socket of another user's, are not asked.
    let file = home.write("not-a-socket", "x");
    let (state, reason, _) = agent_state(&home, &file, &[]);
    assert_eq!(state, "invalid", "{reason}");
}

#[test]
fn a_killed_agent_shows_at_the_prompt_and_before_ssh_and_git_push() {
    if !agent_available() {
        return;
    }
    each_shell(|shell| {
        let (home, _daemon) = crate::pty::home_with_daemon();
        let key = new_key(&home);
        let mut agent = Agent::start(&home, "agent");
        agent.add(&home, &[&key]);
        let export = match shell {
            Shell::Fish => format!("set -gx SSH_AUTH_SOCK {}", agent.socket.display()),
            _ => format!("export SSH_AUTH_SOCK={}", agent.socket.display()),
        };
        let mut session = Session::start(&home, shell, &[&export]);
        session.enter_until("[[P0::1]]");
        agent.stop();
        let shown = session.enter_until("[[P0:⚠ ssh-agent:1]]");
        assert!(
            shown.contains("credwatch: ⚠ ssh-agent"),
            "{shell:?}: {shown}"
        );
        // `credwatch status` in that shell lists the agent too (the daemon's own environment
        // has none) and agrees with the prompt.
        session.line(&format!(
            "env NO_COLOR=1 {} status; echo DONE-{}",
            env!("CARGO_BIN_EXE_credwatch"),
            shell.sum(40, 4)
        ));
        let listed = session.expect("DONE-44");
        assert!(
            listed.contains("ssh-agent  missing") && listed.contains("claude"),
            "{shell:?}: {listed}"
        );
        session.line(&format!("ssh -V; echo DONE-{}", shell.sum(40, 2)));
        let warned = session.expect("DONE-42");
        assert!(
            warned.contains("credwatch: ssh-agent: the ssh-agent socket")
                && warned.contains("ssh -A"),
            "{shell:?}: {warned}"
        );
        session.line(&format!(
            "git push --dry-run 2>/dev/null; echo DONE-{}",
            shell.sum(40, 3)
        ));
        let warned = session.expect("DONE-43");
        assert!(
            warned.contains("credwatch: ssh-agent:"),
            "{shell:?}: {warned}"
        );
        // A new agent in this shell clears it.
        let fresh = Agent::start(&home, "fresh");
        fresh.add(&home, &[&key]);
        session.line(&match shell {
            Shell::Fish => format!("set -gx SSH_AUTH_SOCK {}", fresh.socket.display()),
            _ => format!("export SSH_AUTH_SOCK={}", fresh.socket.display()),
        });
        session.enter_until("[[P0::1]]");
    });
}

/// The classic: a long-lived tmux session keeps the socket of the SSH connection that started
/// it; the user reconnects (a new forwarded agent) and re-attaches; the old shell's
/// SSH_AUTH_SOCK is stale. Its prompt says so with the fix that works inside tmux, and that fix
/// clears it.
#[test]
fn a_tmux_shell_with_the_stale_socket_is_told_the_fix_that_works_there() {
    if !agent_available() {
        return;
    }
    if !crate::harness::require("tmux", "a real tmux server the shell is re-attached in") {
        return;
    }
    let (home, _daemon) = crate::pty::home_with_daemon();
    let key = new_key(&home);
    let mut first = Agent::start(&home, "first");
    first.add(&home, &[&key]);
    let hook = crate::pty::hook_file(&home, Shell::Bash);
    let server = home.path("tmux.sock");
    let tmux = |args: &[&str], agent: &Path| -> String {
        let mut all = vec!["-S", server.to_str().unwrap(), "-f", "/dev/null"];
        all.extend_from_slice(args);
        let mut command = home.program("tmux", &all);
        command
            .env("SSH_AUTH_SOCK", agent)
            .env("PATH", crate::pty::stub_path(&home))
            .env("TERM", "xterm");
        let out = command.output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    tmux(
        &[
            "new-session",
            "-d",
            "-s",
            "work",
            "-x",
            "200",
            "-y",
            "50",
            "bash --norc --noprofile -i",
        ],
        &first.socket,
    );
    // The client commands that only drive the session carry no agent of their own.
    let no_agent = home.path("no-agent.sock");
    let send = |line: &str| {
        tmux(&["send-keys", "-t", "work", "-l", line], &no_agent);
        tmux(&["send-keys", "-t", "work", "Enter"], &no_agent);
    };
    let screen_shows = |needle: &str| {
        let started = Instant::now();
        loop {
            let screen = tmux(
                &["capture-pane", "-p", "-J", "-t", "work", "-S", "-50"],
                &no_agent,
            );
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no {needle:?} on the tmux screen:\n{screen}"
            );
            send("");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    send(Shell::Bash.prompt_setup());
    send(&format!("source {}", hook.display()));
    screen_shows("[[P0::1]]");

    // The connection ends (its agent's socket goes); the user comes back with a new agent and
    // re-attaches, which hands tmux the new SSH_AUTH_SOCK (tmux's update-environment).
    first.stop();
    let mut second = Agent::start(&home, "second");
    second.add(&home, &[&key]);
    let mut client = home.program(
        "tmux",
        &[
            "-S",
            server.to_str().unwrap(),
            "-f",
            "/dev/null",
            "attach",
            "-t",
            "work",
        ],
    );
    client
        .env("SSH_AUTH_SOCK", &second.socket)
        .env("TERM", "xterm");
    let mut attached = rexpect::session::spawn_command(client, Some(5_000)).expect("attach");
    // Attached: the server lists the client (the attach, and its update-environment, done).
    crate::harness::wait_until("the client to attach to the tmux session", || {
        !tmux(&["list-clients", "-t", "work"], &no_agent)
            .trim()
            .is_empty()
    });
    tmux(&["detach-client", "-s", "work"], &second.socket);
    let _ = attached.exp_eof();
    let session_env = tmux(
        &["show-environment", "-t", "work", "SSH_AUTH_SOCK"],
        &second.socket,
    );
    assert!(
        session_env.contains(second.socket.to_str().unwrap()),
        "re-attaching did not hand tmux the new agent: {session_env}"
    );

    let screen = screen_shows("[[P0:⚠ ssh-agent:1]]");
    assert!(screen.contains("credwatch: ⚠ ssh-agent"), "{screen}");
    send(&format!(
        "{} status ssh-agent",
        env!("CARGO_BIN_EXE_credwatch")
    ));
    let screen = screen_shows("show-environment");
    assert!(
        screen.contains(r#"eval "$(tmux show-environment -s SSH_AUTH_SOCK)""#),
        "{screen}"
    );
    // The fix, as told, in the old shell.
    send("clear");
    send(r#"eval "$(tmux show-environment -s SSH_AUTH_SOCK)""#);
    screen_shows("[[P0::1]]");
    let _ = second.child.kill();
    tmux(&["kill-server"], &second.socket);
}

/// `doctor` reports the shell's agent: ok with keys, a warning with the reason and fix when its
/// socket is gone, nothing without SSH_AUTH_SOCK.
#[test]
fn doctor_reports_the_shells_agent() {
    if !agent_available() {
        return;
    }
    let home = TestHome::new();
    let key = new_key(&home);
    let mut agent = Agent::start(&home, "agent");
    agent.add(&home, &[&key]);
    let doctor = |socket: Option<&Path>| -> Option<serde_json::Value> {
        let mut command = home.command(&["doctor", "--json"]);
        if let Some(socket) = socket {
            command.env("SSH_AUTH_SOCK", socket);
        }
        let out = run_command(command);
        out.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "ssh-agent")
            .cloned()
    };
    let check = doctor(Some(&agent.socket)).expect("an ssh-agent check");
    assert_eq!(check["status"], "ok", "{check}");
    agent.stop();
    let check = doctor(Some(&agent.socket)).expect("an ssh-agent check");
    assert_eq!(check["status"], "warn", "{check}");
    assert!(
        check["detail"].as_str().unwrap().contains("is gone")
            && check["fix"].as_str().unwrap().contains("ssh-agent -s"),
        "{check}"
    );
    assert!(doctor(None).is_none(), "no agent named, nothing said");
}

/// Regression (#28 item 2): an ssh-agent that accepts and never answers, named by a shell's
/// `SSH_AUTH_SOCK`, held up the daemon's event loop for its 1 s timeout at each publication
/// (each shell's context was judged by asking its agent in place): a change to another login
/// was published a second or more late, at every change. Agents are now asked off the loop:
/// the change is published at once.
#[test]
fn a_hanging_agent_named_by_a_shell_holds_up_no_other_publication() {
    use crate::harness::{claude_login, wait_until};
    let home = TestHome::new();
    home.write_config("presets = [\"claude\", \"ssh-agent\"]\n");
    home.write(".claude/.credentials.json", claude_login(true));
    let hanging = home.path("hanging.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&hanging).unwrap();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    // A shell (a live process) whose context names the hanging agent; the daemon answers it.
    let mut shell = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = shell.id().to_string();
    let runtime = home.credwatch_runtime();
    std::fs::write(
        runtime.join("context").join(&pid),
        format!("7\0SSH_AUTH_SOCK={}\0end\0", hanging.display()),
    )
    .unwrap();
    let answered = || {
        std::fs::read_to_string(runtime.join("shell").join(&pid))
            .ok()
            .and_then(|text| text.split(' ').nth(3).map(|g| g == "7"))
            .unwrap_or(false)
    };
    wait_until("the shell's context answered", answered);
    // Past the agent's timeout: whatever was asked at the first judgement has come back.
    crate::harness::wait_out(Instant::now(), Duration::from_millis(1500));
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        let logged_in = round % 2 == 1;
        let started = Instant::now();
        home.write(".claude/.credentials.json", claude_login(logged_in));
        home.wait_for_state("claude", if logged_in { "ok" } else { "logged-out" });
        slowest = slowest.max(started.elapsed());
    }
    let _ = shell.kill();
    let _ = shell.wait();
    assert!(
        slowest < Duration::from_millis(800),
        "a change was published {slowest:?} after it was written (the agent's timeout is 1 s)"
    );
}
