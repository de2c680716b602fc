//! What a new user meets in the first hour on a server (issue 30), with the real clients: a login
//! command line that holds a token is never echoed, a login is judged by the credential it wrote,
//! a cancelled login fails.

use crate::clients::{client, ok};
use crate::harness::{claude_login, TestHome, CANARY};
use crate::hooks::assert_warned_before_claude_ran;
use crate::pty::{home_with_daemon, visible_lines, Session, Shell, CREDS, SHELLS};
use crate::shells::bash_preexec;

/// `credwatch login -- npm config set //HOST/:_authToken=TOKEN` (and `aws configure set
/// aws_secret_access_key SECRET`) printed the whole command line, token included.
#[test]
fn login_prints_secrets_on_the_command_line() {
    let home = TestHome::new();
    home.write_config("presets = [\"npm\"]\n");
    let npm = client("npm");
    let setting = format!("//127.0.0.1:4873/:_authToken=npm_{CANARY}");
    let out = home.run(&[
        "login",
        "--grace",
        "0s",
        "--",
        npm.to_str().unwrap(),
        "config",
        "set",
        &setting,
    ]);
    let everything = format!("{}{}", out.stdout, out.stderr);
    assert!(!everything.contains(CANARY), "{everything}");
    assert!(
        out.stderr.contains("running npm config set …"),
        "the program and its plain words are named: {}",
        out.stderr
    );
    assert!(
        out.stdout.contains("a new login was written"),
        "{everything}"
    );
    assert_eq!(out.code, 0, "{everything}");
}

/// `credwatch login -- aws configure set …` judged every preset whose commands match `aws`
/// (aws-sso, aws-cli-cache, aws-login: "wrote nothing … → missing") beside `aws-keys → ok`, and
/// exited 1 for a login that worked.
#[test]
fn login_aws_configure_set_reports_a_failure_for_a_login_that_worked() {
    let home = TestHome::new();
    home.write_config("presets = [\"aws-sso\", \"aws-cli-cache\", \"aws-keys\", \"aws-login\"]\n");
    ok(
        &home,
        "aws",
        &[
            "configure",
            "set",
            "aws_access_key_id",
            "AKIAEXAMPLEDEFAULT",
        ],
        "",
    );
    let aws = client("aws");
    let out = home.run(&[
        "login",
        "--grace",
        "0s",
        "--",
        aws.to_str().unwrap(),
        "configure",
        "set",
        "aws_secret_access_key",
        CANARY,
    ]);
    let everything = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 0, "{everything}");
    assert!(out.stdout.contains("aws-keys"), "{everything}");
    for other in ["aws-sso", "aws-cli-cache", "aws-login"] {
        assert!(
            !out.stdout.contains(other),
            "not this login's business: {everything}"
        );
    }
    assert!(!everything.contains("wrote nothing"), "{everything}");
    assert!(!everything.contains(CANARY), "{everything}");
    assert!(
        out.stderr.contains("running aws configure set …"),
        "{everything}"
    );

    // A command of several kinds that wrote none of them says so once, naming them.
    let out = home.run(&[
        "login",
        "--grace",
        "0s",
        "--",
        aws.to_str().unwrap(),
        "--version",
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("wrote to none of the stores of aws-sso, aws-cli-cache, aws-keys, aws-login"),
        "{}",
        out.stdout
    );
}

/// The user pressed Ctrl-C in the login command: `credwatch login` exited 0, since the login that
/// was there before was still usable.
#[test]
fn login_exits_0_after_the_user_cancelled_the_login() {
    let home = TestHome::new();
    home.write_config("presets = [\"npm\"]\n");
    home.write(
        ".npmrc",
        format!("//registry.npmjs.org/:_authToken=npm_{CANARY}\n"),
    );
    std::fs::set_permissions(
        home.path(".npmrc"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let mut command = home.command(&[
        "login",
        "npm",
        "--grace",
        "0s",
        "--",
        "sh",
        "-c",
        "echo waiting for the code; sleep 30",
    ]);
    command.env("TERM", "dumb");
    let mut pty = rexpect::session::spawn_command(command, Some(10_000)).unwrap();
    pty.exp_string("waiting for the code").unwrap();
    pty.send_control('c').unwrap();
    pty.exp_string("killed by signal 2").unwrap();
    pty.exp_eof().unwrap();
    let status = pty.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 1)),
        "the cancelled login is the result: {status:?}"
    );
}

/// A login that broke while the prompt waited (the daemon published it after the prompt was
/// drawn): bash ran the next command with no warning, the flag came after it. zsh and fish
/// re-checked before the command. Every shell warns before the command, once: bash in emacs and
/// vi mode (readline's Enter), with bash-preexec (its preexec), and with a DEBUG trap of the
/// user's (Enter left alone: the warning comes from the hook's trap at the next prompts).
#[test]
fn bash_a_login_that_breaks_while_the_prompt_waits_is_not_warned_before_the_next_command() {
    let mut variants: Vec<(Shell, Vec<String>)> = SHELLS
        .iter()
        .filter(|s| s.available())
        .map(|&s| (s, vec![]))
        .collect();
    if Shell::Bash.available() {
        variants.push((Shell::Bash, vec!["set -o vi".into()]));
        if let Some(preexec) = bash_preexec() {
            variants.push((Shell::Bash, vec![format!("source {}", preexec.display())]));
        }
    }
    for (shell, before_hook) in variants {
        let what = format!("{shell:?} {before_hook:?}");
        let (home, _daemon) = home_with_daemon();
        let lines: Vec<&str> = before_hook.iter().map(String::as_str).collect();
        let mut session = Session::start(&home, shell, &lines);
        session.enter_until("[[P0::1]]");
        // Broken while the prompt waits: no key is pressed until the daemon has published it.
        home.write(CREDS, claude_login(false));
        home.wait_for_state("claude", "logged-out");
        session.line(&format!("claude; echo {}", shell.sum(40, 2)));
        let printed = session.expect("42");
        assert_warned_before_claude_ran(&printed, &what);
        let warnings = visible_lines(&printed)
            .iter()
            .filter(|l| l.starts_with("credwatch: Claude Code"))
            .count();
        assert_eq!(warnings, 1, "{what}: warned once: {printed}");
        // The next command that uses it is warned too (the hook's usual way, from then on).
        session.expect("[[P0:⚠ claude:1]]");
        session.line(&format!("claude; echo {}", shell.sum(40, 3)));
        let printed = session.expect("43");
        assert_warned_before_claude_ran(&printed, &format!("{what}, the next command"));
    }
}
