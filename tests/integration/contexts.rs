//! Per-shell context (issue #16): the prompt tells the truth for the shell it is in. Real
//! interactive shells in pseudo-terminals, two at once, each with its own `CLAUDE_CONFIG_DIR`,
//! `KUBECONFIG` or `AWS_PROFILE`, in front of one real daemon.

use crate::harness::{claude_login, jwt_with_exp, now_secs, run_command, TestHome, CANARY};
use crate::pty::{each_shell, Session, Shell, CREDS};

fn kubeconfig(token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    token: {token}\n"
    )
}

/// HOME with a good Claude login, a second Claude config dir that is logged out, a good
/// kubeconfig and an expired one, and AWS keys for the default profile only.
fn home_with_contexts() -> (TestHome, crate::harness::Daemon) {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    home.write("work-claude/.credentials.json", claude_login(false));
    home.write(
        ".kube/config",
        kubeconfig(&jwt_with_exp(now_secs() + 86_400)),
    );
    home.write(".kube/prod", kubeconfig(&jwt_with_exp(now_secs() - 3_600)));
    home.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE\naws_secret_access_key = secret-example\n",
    );
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    home.wait_for_state("kube", "ok");
    home.wait_for_state("aws-keys", "ok");
    (home, daemon)
}

fn export(shell: Shell, name: &str, value: &str) -> String {
    match shell {
        Shell::Fish => format!("set -gx {name} {value}"),
        _ => format!("export {name}={value}"),
    }
}

fn unset(shell: Shell, name: &str) -> String {
    match shell {
        Shell::Fish => format!("set -e {name}"),
        _ => format!("unset {name}"),
    }
}

/// The files the daemon keeps for shells and the shells hand it.
fn shell_files(home: &TestHome) -> Vec<String> {
    let runtime = home.credwatch_runtime();
    let mut names = Vec::new();
    for dir in ["context", "shell"] {
        if let Ok(entries) = std::fs::read_dir(runtime.join(dir)) {
            names.extend(
                entries
                    .flatten()
                    .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy())),
            );
        }
    }
    names.sort();
    names
}

#[test]
fn two_shells_with_different_contexts_show_different_flags_and_status_agrees() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_contexts();
        // noclobber in the first shell: the hook rewrites its context file all the same.
        let noclobber: &[&str] = match shell {
            Shell::Fish => &[],
            _ => &["set -C"],
        };
        let mut first = Session::start(&home, shell, noclobber);
        first.enter_until("[[P0::1]]");
        let mut second = Session::start(&home, shell, &[]);
        second.enter_until("[[P0::1]]");

        // A token in a shadowing variable: only "set" leaves the shell.
        first.line(&export(shell, "ANTHROPIC_API_KEY", CANARY));
        let read_contexts = || -> Vec<String> {
            std::fs::read_dir(home.credwatch_runtime().join("context"))
                .unwrap()
                .flatten()
                .map(|e| String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned())
                .collect()
        };
        let started = std::time::Instant::now();
        let mut handed = read_contexts();
        while !handed.iter().any(|h| h.contains("ANTHROPIC_API_KEY=1"))
            && started.elapsed().as_secs() < 10
        {
            first.enter_until("[[P0:");
            handed = read_contexts();
        }
        assert!(
            handed.iter().any(|h| h.contains("\0ANTHROPIC_API_KEY=1\0"))
                && !handed.iter().any(|h| h.contains(CANARY)),
            "{shell:?}: a shadowing variable's value left the shell: {handed:?}"
        );
        first.line(&unset(shell, "ANTHROPIC_API_KEY"));

        // Claude Code's config dir, in the first shell only.
        first.line(&export(shell, "CLAUDE_CONFIG_DIR", "~/work-claude"));
        first.enter_until("[[P0:⚠ claude:1]]");
        // `credwatch status` run in that shell agrees with its prompt, the other's with its own.
        let status = format!(
            "env NO_COLOR=1 {} status claude; echo DONE-{}",
            env!("CARGO_BIN_EXE_credwatch"),
            shell.sum(40, 2)
        );
        first.line(&status);
        let said = first.expect("DONE-42");
        assert!(
            said.contains("logged-out") && said.contains("work-claude"),
            "{shell:?}: {said}"
        );
        second.line(&status);
        let said = second.expect("DONE-42");
        assert!(
            said.contains("claude  ok") && !said.contains("logged-out"),
            "{shell:?}: {said}"
        );

        // Another variable, another login: KUBECONFIG at an expired token.
        first.line(&unset(shell, "CLAUDE_CONFIG_DIR"));
        first.line(&export(shell, "KUBECONFIG", "~/.kube/prod"));
        first.enter_until("[[P0:⚠ kube:1]]");
        first.line(&format!("kubectl get pods; echo DONE-{}", shell.sum(40, 2)));
        let warned = first.expect("DONE-42");
        assert!(
            warned.contains("credwatch: kubectl:") && warned.contains("expired"),
            "{shell:?}: no warning before kubectl in the shell whose KUBECONFIG is expired: {warned}"
        );
        first.line("true");
        // And AWS_PROFILE naming a profile with no keys, in the second shell: not exported, no
        // command sees it, nothing changes; exported, the flag shows.
        second.line(match shell {
            Shell::Fish => "set -g AWS_PROFILE other",
            _ => "AWS_PROFILE=other",
        });
        second.line("true");
        second.enter_until("[[P0::1]]");
        second.line(&format!(
            "{}; {}",
            unset(shell, "AWS_PROFILE"),
            export(shell, "AWS_PROFILE", "admin")
        ));
        second.enter_until("[[P0:⚠ aws-keys:1]]");
        first.enter_until("[[P0:⚠ kube:1]]");

        // What the context points at is watched: a fresh token in ~/.kube/prod clears the
        // first shell's flag without anything typed there but Enter.
        home.write(".kube/prod", kubeconfig(&jwt_with_exp(now_secs() + 86_400)));
        first.enter_until("[[P0::1]]");

        // A shell that exits leaves nothing behind.
        let before = shell_files(&home);
        // Per shell: its context, its prompt file and that file's marker.
        assert_eq!(before.len(), 6, "{shell:?}: {before:?}");
        first.line("exit");
        // The sign: the exited shell's three files gone (the daemon removes them when it sees
        // the shell's process end).
        crate::harness::wait_until("the exited shell's files to be removed", || {
            shell_files(&home).len() <= 3
        });
        let after = shell_files(&home);
        assert_eq!(after.len(), 3, "{shell:?}: {after:?}");
        second.enter_until("[[P0:⚠ aws-keys:1]]");
    });
}

/// Without a daemon the hook's direct check runs in the shell's own environment, as before.
#[test]
fn without_a_daemon_the_direct_check_uses_the_shells_environment() {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    home.write("work-claude/.credentials.json", claude_login(false));
    let mut in_work_dir = home.command(&["status", "claude"]);
    in_work_dir.env("CLAUDE_CONFIG_DIR", home.path("work-claude"));
    let out = run_command(in_work_dir);
    assert!(out.stdout.contains("logged-out"), "{}", out.stdout);
    let out = run_command(home.command(&["status", "claude"]));
    assert!(out.stdout.contains("claude  ok"), "{}", out.stdout);
}

/// Without a daemon, each shell's direct check runs in its own environment and is kept for
/// that shell alone: two shells with different CLAUDE_CONFIG_DIR show different flags.
#[test]
fn without_a_daemon_two_shells_keep_their_own_direct_checks() {
    each_shell(|shell| {
        let mut home = TestHome::new();
        home.write(CREDS, claude_login(true));
        home.write("work-claude/.credentials.json", claude_login(false));
        home.set_env("CREDWATCH_AUTOSTART", "0");
        home.set_env("CREDWATCH_INTERVAL", "1");
        let mut first = Session::start(
            &home,
            shell,
            &[&export(shell, "CLAUDE_CONFIG_DIR", "~/work-claude")],
        );
        let mut second = Session::start(&home, shell, &[]);
        first.enter_until("[[P0:⚠ claude:0]]");
        second.enter_until("[[P0::0]]");
        first.enter_until("[[P0:⚠ claude:0]]");
        second.enter_until("[[P0::0]]");
    });
}

/// What lies in the contexts' directory is not trusted: a FIFO, a link, a huge file, garbage,
/// a name that is no pid, the context of a process that is gone. The daemon keeps answering,
/// publishes no prompt file for any of them, and removes the dead shell's context.
#[test]
fn hostile_or_stale_context_files_are_ignored() {
    let home = TestHome::new();
    home.write(CREDS, claude_login(true));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let dir = home.credwatch_runtime().join("context");
    assert!(dir.is_dir(), "the daemon makes the contexts' directory");
    nix::unistd::mkfifo(
        &dir.join("4000001"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("4000002")).unwrap();
    std::fs::write(dir.join("4000003"), vec![b'A'; 1 << 20]).unwrap();
    std::fs::write(dir.join("4000004"), b"\xff\xfe\x00garbage\x00").unwrap();
    std::fs::write(dir.join("not-a-pid"), b"1\0KUBECONFIG=/x\0end\0").unwrap();
    // A well-formed context of a process that no longer runs.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(dir.join(gone_pid.to_string()), b"7\0KUBECONFIG=/x\0end\0").unwrap();
    crate::harness::wait_until("the dead shell's context to be removed", || {
        !dir.join(gone_pid.to_string()).exists()
    });
    home.write(CREDS, claude_login(false));
    home.wait_for_state("claude", "logged-out");
    let published: Vec<String> = std::fs::read_dir(home.credwatch_runtime().join("shell"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(published.is_empty(), "{published:?}");
}

/// The bash and zsh hooks compare a shell's variables after each command in two ways: a cheap
/// one (no `set -u`, no shadowing variable set) and the exact one. Each way still hands a
/// changed variable to the daemon: under `set -u`, and beside a shadowing variable that is set
/// (then unset again).
#[test]
fn a_variable_changed_under_set_u_or_beside_a_set_shadowing_variable_reaches_the_daemon() {
    for shell in [Shell::Bash, Shell::Zsh] {
        let (home, _daemon) = home_with_contexts();
        let nounset = match shell {
            Shell::Zsh => "setopt nounset",
            _ => "set -u",
        };
        let mut session = Session::start(&home, shell, &[nounset]);
        session.enter_until("[[P0::1]]");
        session.line(&export(shell, "KUBECONFIG", "~/.kube/prod"));
        session.enter_until("[[P0:⚠ kube:1]]");
        session.line(&unset(shell, "KUBECONFIG"));
        session.enter_until("[[P0::1]]");
        session.line("set +u");
        // A shadowing variable set to a value that leaves it off (no override, no flag).
        session.line(&export(shell, "ANTHROPIC_API_KEY", "0"));
        session.enter_until("[[P0::1]]");
        session.line(&export(shell, "KUBECONFIG", "~/.kube/prod"));
        session.enter_until("[[P0:⚠ kube:1]]");
        session.line(&unset(shell, "ANTHROPIC_API_KEY"));
        session.line(&unset(shell, "KUBECONFIG"));
        session.enter_until("[[P0::1]]");
        session.line(&export(shell, "KUBECONFIG", "~/.kube/prod"));
        session.enter_until("[[P0:⚠ kube:1]]");
    }
}
