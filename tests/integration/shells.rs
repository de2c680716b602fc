//! The shell hooks in real interactive bash, zsh and fish, driven through a pseudo-terminal: what
//! a user sees at the prompt and before a command, and what the hook must never disturb.

use crate::harness::{claude_login, claude_login_for_days, replace_atomically, TestHome, CANARY};
use crate::pty::{
    each_shell, home_with_daemon, visible_lines, Session, Shell, CREDS, SHELLS, TIMEOUT_MS,
};
use std::path::PathBuf;

#[test]
fn prompt_shows_a_broken_login_once_and_clears_when_fixed() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let shown = session.enter_until("[[P0:⚠ claude:1]]");
        assert!(
            shown.contains("credwatch: ⚠ claude — run: credwatch status"),
            "{shell:?}: {shown}"
        );
        let again = session.enter_until("[[P0:⚠ claude:1]]");
        assert!(
            !again.contains("credwatch:"),
            "{shell:?}: the warning repeats: {again}"
        );
        replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
        home.wait_for_state("claude", "ok");
        session.enter_until("[[P0::1]]");
    });
}

#[test]
fn warning_before_a_command_that_uses_the_broken_login() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        session.line("claude --version");
        let ok_run = session.expect("stub claude ran");
        assert!(
            !ok_run.contains("credwatch:"),
            "{shell:?}: warned while ok: {ok_run}"
        );
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        session.enter_until("[[P0:⚠ claude:1]]");
        session.line("claude --version");
        let before = session.expect("stub claude ran");
        assert!(
            before.contains("credwatch: Claude Code: logged out:")
                && before.contains("— run: claude /login")
                && !before.contains("run it anyway"),
            "{shell:?}: {before}"
        );
        session.expect("[[P0:⚠ claude:1]]");
        session.line("echo unrelated");
        let unrelated = session.expect("[[P0:⚠ claude:1]]");
        assert!(
            !unrelated.contains("credwatch: Claude"),
            "{shell:?}: {unrelated}"
        );
    });
}

#[test]
fn exit_status_reaches_the_prompt_unchanged() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        session.line("false");
        session.expect("[[P1::1]]");
        session.line("true");
        session.expect("[[P0::1]]");
    });
}

#[test]
fn disable_variable_turns_it_off() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let disable = match shell {
            Shell::Fish => "set -g CREDWATCH_DISABLE 1",
            _ => "CREDWATCH_DISABLE=1",
        };
        let mut session = Session::start(&home, shell, &[disable]);
        let seen = session.enter_until("[[P0::]]");
        assert!(!seen.contains("credwatch:"), "{shell:?}: {seen}");
    });
}

/// The binary was uninstalled: the hook stays silent, prompt after prompt.
#[test]
fn silent_when_the_binary_is_gone() {
    each_shell(|shell| {
        let home = TestHome::new();
        let copy: PathBuf = home.home.join("credwatch-copy");
        std::fs::copy(env!("CARGO_BIN_EXE_credwatch"), &copy).unwrap();
        let hook = home.home.join(format!("hook.{}", shell.name()));
        let init = crate::harness::run_command(
            home.program(copy.to_str().unwrap(), &["init", shell.name()]),
        );
        std::fs::write(&hook, init.stdout).unwrap();
        std::fs::remove_file(&copy).unwrap();
        let mut command = home.program(shell.name(), shell.argv());
        command.env("TERM", "dumb");
        let pty = rexpect::session::spawn_command(command, Some(TIMEOUT_MS)).unwrap();
        let mut session = Session { pty };
        session.line(shell.prompt_setup());
        session.line(&shell.source(&hook));
        session.enter_until("[[P0::0]]");
        for _ in 0..3 {
            let seen = session.enter_until("[[P0::0]]");
            assert!(
                !seen.contains("credwatch") && !seen.contains("not found"),
                "{shell:?}: {seen}"
            );
        }
    });
}

/// No daemon (and none started): the hook checks directly, detached and rate-limited, and says
/// which it is: CREDWATCH_DAEMON=0.
#[test]
fn without_a_daemon_it_checks_directly_in_the_background() {
    each_shell(|shell| {
        let mut home = TestHome::new();
        home.write(CREDS, claude_login(true));
        home.set_env("CREDWATCH_AUTOSTART", "0");
        home.set_env("CREDWATCH_INTERVAL", "1");
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::0]]");
        // Kept for this shell (shell/PID.direct): each shell checks in its own environment.
        let shells = home.credwatch_runtime().join("shell");
        crate::harness::wait_until("a direct check to be cached", || {
            std::fs::read_dir(&shells).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".direct"))
            })
        });
        // The next direct check (a second later) sees the login break.
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        let seen = session.enter_until("[[P0:⚠ claude:0]]");
        assert!(
            !seen.contains("Done") && !seen.contains("[1]"),
            "{shell:?}: job lines: {seen}"
        );
        assert!(
            !home.credwatch_runtime().join("status.json").exists(),
            "no daemon was started"
        );
    });
}

#[test]
fn autostart_starts_the_daemon_when_no_systemd_manager_runs() {
    each_shell(|shell| {
        let home = TestHome::new();
        home.write(CREDS, claude_login(true));
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        let lock = std::fs::read_to_string(home.credwatch_runtime().join("daemon.lock")).unwrap();
        assert!(!lock.trim().is_empty(), "the daemon holds its lock");
    });
}

#[test]
fn bash_prompt_command_string_array_and_sourcing_twice() {
    if !Shell::Bash.available() {
        return;
    }
    for before in [
        vec![],
        vec!["PROMPT_COMMAND='echo from-user-pc'"],
        vec![
            "_user_a() { :; }",
            "PROMPT_COMMAND=(_user_a 'echo from-user-array')",
        ],
    ] {
        let (home, _daemon) = home_with_daemon();
        let mut session = Session::start(&home, Shell::Bash, &before);
        let hook = home.home.join("hook.bash");
        session.line(&format!("source {}", hook.display()));
        session.line(
            "[[ \"${PROMPT_COMMAND[*]}\" == *_cw_p*_cw_p* || \"${PROMPT_COMMAND[*]}\" == *_credwatch_precmd*_credwatch_precmd* ]] && echo RESULT-$((1))-TWICE || echo RESULT-$((1))-ONCE",
        );
        let out = session.expect("RESULT-1-");
        let verdict = session.expect("[[P0::1]]");
        assert!(
            verdict.starts_with("ONCE"),
            "{before:?}: installed twice: {out}{verdict}"
        );
        let out = out + &session.enter_until("[[P0::1]]");
        if !before.is_empty() {
            assert!(
                out.contains("from-user"),
                "{before:?}: the user's command stopped running: {out}"
            );
        }
    }
}

/// Regression: after an upgrade, reading the hook again (`. ~/.bashrc`) in a shell that ran an
/// earlier one left that hook's PROMPT_COMMAND element (`_credwatch_prompt$_cw_k`) beside the
/// new one, running the old functions at every prompt.
#[test]
fn reading_the_hook_again_after_an_upgrade_leaves_no_earlier_element() {
    let (home, _daemon) = home_with_daemon();
    let earlier = [
        "_credwatch_prompt0() { echo EARLIER-RAN; }",
        "_credwatch_prompt1() { echo EARLIER-RAN; }",
        "_cw_k=1 PROMPT_COMMAND=('_credwatch_prompt$_cw_k')",
    ];
    let mut session = Session::start(&home, Shell::Bash, &earlier);
    session.line(&format!("source {}", home.home.join("hook.bash").display()));
    session.line(
        "[[ \"${PROMPT_COMMAND[*]}\" == *_credwatch_prompt* ]] && echo RESULT-$((1))-KEPT || echo RESULT-$((1))-GONE",
    );
    session.expect("RESULT-1-");
    let verdict = session.expect("[[P0::1]]");
    assert!(verdict.starts_with("GONE"), "{verdict}");
    let after = session.enter_until("[[P0::1]]") + &session.enter_until("[[P0::1]]");
    assert!(!after.contains("EARLIER-RAN"), "{after}");
}

/// Regression: with `set -x`, the prompt after a command traced the plain value of a shadowing
/// variable (an API key) while comparing the shell's variables (bash; zsh compares the same
/// way since session 16).
#[test]
fn set_x_never_traces_the_token_of_a_shadowing_variable() {
    let (home, _daemon) = home_with_daemon();
    for shell in [Shell::Bash, Shell::Zsh] {
        let mut session = Session::start(&home, shell, &[]);
        session.line(&format!(
            "export ANTHROPIC_API_KEY={CANARY}; echo SET-$((20+1))"
        ));
        session.expect("SET-21");
        // Traced from here: the rest of this line, and each prompt after it.
        session.line("PS4='+ '; set -x; echo TRACED-$((30+1))");
        let mut seen = session.expect("TRACED-31");
        for _ in 0..3 {
            session.line("true");
            seen += &session.enter_until("[[P0:");
        }
        session.line("set +x; echo DONE-$((40+2))");
        seen += &session.expect("DONE-42");
        assert!(seen.contains("+ true"), "{shell:?}: xtrace was on: {seen}");
        assert!(
            !seen.contains(CANARY),
            "{shell:?}: a token traced at the prompt: {seen}"
        );
    }
}

#[test]
fn bash_set_euo_pipefail_survives_and_keeps_warning() {
    if !Shell::Bash.available() {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let mut session = Session::start(&home, Shell::Bash, &["set -euo pipefail"]);
    session.enter_until("[[P0:⚠ claude:1]]");
    session.line("false || true");
    session.expect("[[P0:⚠ claude:1]]");
    session.line("echo still-alive");
    session.expect("still-alive");
}

#[test]
fn zsh_err_exit_nounset_ksh_arrays() {
    if !Shell::Zsh.available() {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let mut session = Session::start(&home, Shell::Zsh, &["setopt err_exit nounset ksh_arrays"]);
    session.enter_until("[[P0:⚠ claude:1]]");
    session.line("claude --version");
    let before = session.expect("stub claude ran");
    assert!(before.contains("credwatch: Claude Code"), "{before}");
    session.line("echo still-alive");
    session.expect("still-alive");
}

#[test]
fn coexists_with_direnv_in_either_order() {
    if !crate::harness::require("direnv", "the hooks must coexist with direnv's") {
        return;
    }
    each_shell(|shell| {
        for direnv_first in [true, false] {
            let (home, _daemon) = home_with_daemon();
            let direnv = match shell {
                Shell::Fish => "direnv hook fish | source".to_string(),
                _ => format!("eval \"$(direnv hook {})\"", shell.name()),
            };
            let mut session = if direnv_first {
                Session::start(&home, shell, &[&direnv])
            } else {
                let mut s = Session::start(&home, shell, &[]);
                s.line(&direnv);
                s
            };
            session.enter_until("[[P0::1]]");
            session.line("false");
            session.expect("[[P1::1]]");
            replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
            home.wait_for_state("claude", "logged-out");
            // An empty line keeps $? at 1: `true` first.
            session.line("true");
            session.enter_until("[[P0:⚠ claude:1]]");
        }
    });
}

/// Processes (fork, vfork, execve, non-thread clone) in an strace log written after `from` lines.
fn processes_started(log: &std::path::Path, from: usize) -> Vec<String> {
    strace_lines(log, from, |l| {
        (l.contains("fork(") || l.contains("execve(") || l.contains("clone"))
            && !l.contains("CLONE_THREAD")
    })
}

/// Files opened (open, openat) in an strace log written after `from` lines.
fn files_opened(log: &std::path::Path, from: usize) -> Vec<String> {
    strace_lines(log, from, |l| l.contains("open("))
        .into_iter()
        .chain(strace_lines(log, from, |l| l.contains("openat(")))
        .collect()
}

fn strace_lines(log: &std::path::Path, from: usize, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .skip(from)
        .filter(|l| wanted(l) && !l.contains("resumed>"))
        .map(str::to_string)
        .collect()
}

/// 200 prompts in the steady state start no process and open no file: the hook stats the
/// marker of the state it read (its own shell's, with a context set). The same shell without the hook is the baseline (a shell may
/// fork or open files on its own).
#[test]
fn steady_state_starts_no_process_and_opens_no_file_per_prompt() {
    if !crate::harness::require("strace", "it counts the processes and files of each prompt") {
        return;
    }
    each_shell(|shell| {
        let mut counts = Vec::new();
        for with_hook in [false, true] {
            let (home, _daemon) = home_with_daemon();
            let log = home.home.join("strace.log");
            let hook = home.home.join(format!("hook.{}", shell.name()));
            let init = crate::harness::run_command(home.command(&["init", shell.name()]));
            std::fs::write(&hook, init.stdout).unwrap();
            let mut args = vec![
                "-f",
                "-qq",
                "-e",
                "trace=fork,vfork,clone,clone3,execve,open,openat",
                "-o",
            ];
            let log_arg = log.to_str().unwrap().to_string();
            args.push(&log_arg);
            args.push(shell.name());
            args.extend_from_slice(shell.argv());
            let mut command = home.program("strace", &args);
            command.env("TERM", "dumb");
            let pty = rexpect::session::spawn_command(command, Some(TIMEOUT_MS)).unwrap();
            let mut session = Session { pty };
            session.line(shell.prompt_setup());
            // A context of its own (issue #16): the hook hands it over once, then only compares.
            session.line(match shell {
                Shell::Fish => "set -gx KUBECONFIG $HOME/.kube/prod; set -gx AWS_PROFILE admin",
                _ => "export KUBECONFIG=$HOME/.kube/prod AWS_PROFILE=admin",
            });
            if with_hook {
                session.line(&shell.source(&hook));
                session.enter_until("[[P0::1]]");
                // The first prompts check the hook's place (and read the state): not the
                // steady state.
                for _ in 0..4 {
                    session.enter_until("[[P0::1]]");
                }
            } else {
                session.enter_until("[[P0::]]");
            }
            // The count starts once strace has written all the setup did: its log shows the open
            // of a marker file (each line is written as its call returns), and starts after it.
            let marker = home.home.join("steady-state-marker");
            std::fs::write(&marker, "").unwrap();
            session.line("true < $HOME/steady-state-marker");
            let marker = marker.display().to_string();
            let mut before = 0;
            crate::harness::wait_until("strace to log the marker's open", || {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let at = text.lines().position(|l| l.contains(&marker));
                before = at.map_or(0, |i| i + 1);
                at.is_some()
            });
            for _ in 0..200 {
                session.line("");
            }
            session.line(&format!("echo DONE-{}", shell.sum(40, 2)));
            session.expect_within("DONE-42", 30);
            session.expect(if with_hook { "[[P0::1]]" } else { "[[P0::]]" });
            let started = processes_started(&log, before);
            let opened = files_opened(&log, before);
            let runtime = home.credwatch_runtime().display().to_string();
            let credwatch_files: Vec<&String> =
                opened.iter().filter(|l| l.contains(&runtime)).collect();
            counts.push((started.len(), opened.len()));
            if with_hook {
                let published: Vec<_> = std::fs::read_dir(home.credwatch_runtime().join("shell"))
                    .map(|d| d.flatten().map(|e| e.file_name()).collect())
                    .unwrap_or_default();
                assert_eq!(
                    published.len(),
                    2,
                    "{shell:?}: no prompt file of the shell's own (its context): {published:?}"
                );
                assert_eq!(
                    started.len(),
                    counts[0].0,
                    "{shell:?}: the hook started processes over 200 prompts:\n{}",
                    started.join("\n")
                );
                assert!(
                    credwatch_files.is_empty(),
                    "{shell:?}: the hook opened its state files in the steady state:\n{credwatch_files:?}"
                );
                // fish opens its working directory now and then on its own (seen: 1 to 4
                // times in 200 prompts, with or without the hook); bash and zsh open nothing.
                if !matches!(shell, Shell::Fish) {
                    assert_eq!(
                        opened.len(),
                        counts[0].1,
                        "{shell:?}: the hook opened files over 200 prompts:\n{}",
                        opened.join("\n")
                    );
                }
            }
        }
        eprintln!(
            "{shell:?}: (processes, opened files) over 200 prompts: without hook {:?}, with hook {:?}",
            counts[0], counts[1]
        );
        assert_eq!(
            counts[1].0, 0,
            "{shell:?}: processes started in the steady state"
        );
    });
}

/// The watchdog dies (SIGKILL: its marker stays behind): the next prompt says so, and says
/// again when it runs again, so "not running" never looks like "all good".
#[test]
fn a_killed_watchdog_shows_at_the_next_prompt() {
    each_shell(|shell| {
        let (mut home, daemon) = home_with_daemon();
        home.set_env("CREDWATCH_AUTOSTART", "0");
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        daemon.signal(nix::sys::signal::Signal::SIGKILL);
        drop(daemon);
        let seen = session.enter_until("[[P0::0]]");
        assert!(
            seen.contains("credwatch: the watchdog stopped"),
            "{shell:?}: {seen}"
        );
        let _again = home.start_daemon(&[]);
        session.enter_until("[[P0::1]]");
    });
}

/// Variables a hook might carelessly use keep the user's values, and every variable the hook
/// adds is its own (`_credwatch_*`, `CREDWATCH_*`; bash: also the PROMPT_COMMAND and PS0 it
/// hooks into, and the short names its prompt and DEBUG trap read, `_cw_n`, `_cw_w`, `_cw_k`,
/// `_cw_m`, `_cw_u`, `_cw_t` and `_cw_q`; zsh: the hook arrays and zsh/datetime's
/// EPOCHSECONDS), through a change, a warning and a command.
#[test]
fn no_user_variable_is_clobbered_and_no_global_leaks() {
    const NAMES: [&str; 14] = [
        "line", "pid", "until", "stamp", "message", "cmd", "text", "file", "now", "i", "entry",
        "fields", "first", "pair",
    ];
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        let mut before: Vec<String> = NAMES
            .iter()
            .map(|n| match shell {
                Shell::Fish => format!("set -g {n} user-{n}"),
                _ => format!("{n}=user-{n}"),
            })
            .collect();
        before.push(
            match shell {
                Shell::Bash => "_before=$(compgen -v | sort)",
                Shell::Zsh => "_before=(${(k)parameters})",
                Shell::Fish => "set -g _before (set -n)",
            }
            .to_string(),
        );
        let before: Vec<&str> = before.iter().map(String::as_str).collect();
        let mut session = Session::start(&home, shell, &before);
        session.enter_until("[[P0::1]]");
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        session.enter_until("[[P0:⚠ claude:1]]");
        session.line("claude --version");
        session.expect("stub claude ran");
        let show_values = NAMES
            .iter()
            .map(|n| format!("{n}=${n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let end = format!("END-{}", shell.sum(40, 2));
        session.line(&format!("echo VALUES {show_values} {end}"));
        let values = session.expect(" END-42");
        for n in NAMES {
            assert!(
                values.contains(&format!(" {n}=user-{n}")),
                "{shell:?}: {n} was clobbered: {values}"
            );
        }
        session.line(match shell {
            Shell::Bash => "echo NEW $(comm -13 <(printf '%s\\n' \"$_before\") <(compgen -v | sort) | grep -v -e '^_credwatch_' -e '^CREDWATCH_' -e '^_cw_[nwkmutq]$' -e '^_before$' -e '^PROMPT_COMMAND$' -e '^PS0$' | tr '\\n' ' ') END-$((40+2))",
            Shell::Zsh => "echo NEW ${${(k)parameters:|_before}:#(_credwatch_*|CREDWATCH_*|_before|precmd_functions|preexec_functions|EPOCHSECONDS)} END-$((40+2))",
            Shell::Fish => "echo NEW (for v in (set -n); contains -- $v $_before; or string match -qr '^(_credwatch_|CREDWATCH_|_before$)' -- $v; or echo $v; end) END-(math 40 + 2)",
        });
        let new = session.expect(" END-42");
        let new = new.rsplit("NEW").next().unwrap_or("").trim();
        assert!(new.is_empty(), "{shell:?}: the hook leaked globals: {new}");
    });
}

/// bash-preexec 0.7.0, which `scripts/test` fetches into target/tools/ (never committed); a
/// skip (a failure under scripts/test) when it is missing.
pub(crate) fn bash_preexec() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bash-preexec.sh");
    crate::harness::require(
        path.to_str().unwrap(),
        "the bash hook must coexist with bash-preexec (scripts/test fetches it)",
    )
    .then_some(path)
}

/// With bash-preexec loaded before or after the hook: one warning before a mapped command (not
/// two: the hook's own DEBUG trap gives way), the user's precmd and preexec functions still run,
/// `$?` reaches the prompt, and the prompt follows the login.
#[test]
fn coexists_with_bash_preexec_in_either_order() {
    if !Shell::Bash.available() {
        return;
    }
    let Some(preexec) = bash_preexec() else {
        return;
    };
    let load = format!("source {}", preexec.display());
    let user = "_user_pre() { echo USER-PREEXEC; }; _user_cmd() { echo USER-PRECMD; }; preexec_functions+=(_user_pre); precmd_functions+=(_user_cmd)";
    for preexec_first in [true, false] {
        let (home, _daemon) = home_with_daemon();
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let mut session = if preexec_first {
            Session::start(&home, Shell::Bash, &[&load, user])
        } else {
            let mut s = Session::start(&home, Shell::Bash, &[]);
            s.enter_until("[[P0:⚠ claude:1]]");
            s.line(&load);
            s.line(user);
            s
        };
        let order = if preexec_first {
            "bash-preexec first"
        } else {
            "credwatch first"
        };
        session.line("echo SYNC-$((40+2))");
        session.expect("SYNC-42");
        let seen = session.enter_until("[[P0:⚠ claude:1]]");
        assert!(seen.contains("USER-PRECMD"), "{order}: {seen}");
        session.line("claude --version");
        let before = session.expect("stub claude ran");
        assert_eq!(
            before.matches("credwatch: Claude Code: logged out").count(),
            1,
            "{order}: one warning: {before}"
        );
        assert!(before.contains("USER-PREEXEC"), "{order}: {before}");
        session.expect("[[P0:⚠ claude:1]]");
        session.line("false");
        session.expect("[[P1:⚠ claude:1]]");
        replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
        home.wait_for_state("claude", "ok");
        session.line("true");
        session.enter_until("[[P0::1]]");
        session.line("claude --version");
        let after = session.expect("stub claude ran");
        assert!(!after.contains("credwatch:"), "{order}: {after}");
    }
}

/// CREDWATCH_CONFIRM=1: before a command that uses a broken login the hook asks; "n" runs
/// nothing of the line, "y" runs it. (Without it, nothing is asked: the warning test.)
#[test]
fn confirmation_when_opted_in_cancels_or_runs_the_command() {
    each_shell(|shell| {
        let (mut home, _daemon) = home_with_daemon();
        home.set_env("CREDWATCH_CONFIRM", "1");
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0:⚠ claude:1]]");
        let second = format!("echo SECOND-{}", shell.sum(1, 1));
        let mark = format!("echo MARK-{}", shell.sum(2, 2));
        session.line(&format!("claude --version; {second}"));
        let asked = session.expect("run it anyway? [y/N]");
        assert!(
            asked.contains("credwatch: Claude Code: logged out:"),
            "{shell:?}: {asked}"
        );
        session.keys("n");
        if matches!(shell, Shell::Fish) {
            // fish keeps the declined line for editing: clear it.
            session.pty.send_control('u').unwrap();
        }
        session.line(&mark);
        let declined = session.expect("MARK-4");
        assert!(
            !declined.contains("stub claude ran") && !declined.contains("SECOND-2"),
            "{shell:?}: the declined line ran: {declined}"
        );
        session.expect("[[P0:⚠ claude:1]]");
        session.line("claude --version");
        session.expect("run it anyway? [y/N]");
        session.keys("y");
        let ran = session.expect("stub claude ran");
        assert!(
            !ran.contains("credwatch: Claude Code"),
            "{shell:?}: warned twice: {ran}"
        );
    });
}

/// Sourced twice (a re-read rc file), each hook is installed once: one change line, one
/// pre-command warning, and between prompts nothing else is printed.
#[test]
fn sourced_twice_warns_once_and_prints_nothing_else() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        let mut session = Session::start(&home, shell, &[]);
        let hook = home.home.join(format!("hook.{}", shell.name()));
        session.line(&shell.source(&hook));
        session.line(&format!("echo SYNC-{}", shell.sum(40, 2)));
        session.expect("SYNC-42");
        session.enter_until("[[P0::1]]");
        let quiet = visible_lines(&session.enter_until("[[P0::1]]"));
        assert!(
            quiet.is_empty(),
            "{shell:?}: printed in the steady state: {quiet:?}"
        );
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let change = session.enter_until("[[P0:⚠ claude:1]]");
        assert_eq!(
            change
                .matches("credwatch: ⚠ claude — run: credwatch status")
                .count(),
            1,
            "{shell:?}: {change:?}"
        );
        let other: Vec<String> = visible_lines(&change)
            .into_iter()
            .filter(|l| {
                !l.is_empty() && !l.starts_with("[[P0::1]]") && !l.contains("credwatch: ⚠ claude")
            })
            .collect();
        assert!(
            other.is_empty(),
            "{shell:?}: printed besides the warning: {other:?}"
        );
        session.line("claude --version");
        let before = session.expect("stub claude ran");
        assert_eq!(
            before.matches("credwatch: Claude Code: logged out").count(),
            1,
            "{shell:?}: {before}"
        );
    });
}

/// A daemon that stalls (SIGSTOP here; a suspended laptop's timers do the same) is not trusted
/// past its state's deadline: the hook checks directly and shows the expired login, with
/// CREDWATCH_DAEMON=0. bash and zsh compare the time before each command; fish, which cannot
/// tell the time without a command substitution, every 20th command line.
#[test]
fn a_stalled_daemon_is_not_trusted_past_its_deadline() {
    each_shell(|shell| {
        let mut home = TestHome::new();
        home.set_env("CREDWATCH_AUTOSTART", "0");
        home.set_env("CREDWATCH_INTERVAL", "1");
        home.write_config(
            "presets = \"none\"\n[[credential]]\nname = \"short\"\nfile = \"~/short.json\"\nformat = \"json\"\nsecret = \"/t\"\nexpires = \"/e\"\nwarn_before = \"1h\"\n",
        );
        let deadline = crate::harness::now_secs() + 4;
        home.write("short.json", format!(r#"{{"t": "x", "e": {deadline}}}"#));
        let daemon = home.start_daemon(&[]);
        home.wait_for_state("short", "expiring");
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        daemon.signal(nix::sys::signal::Signal::SIGSTOP);
        // What the shells wait for is the clock itself: the first whole second past the
        // deadline (the hooks compare whole seconds), slept until at once.
        let past = std::time::UNIX_EPOCH + std::time::Duration::from_secs(deadline as u64 + 1);
        if let Ok(left) = past.duration_since(std::time::SystemTime::now()) {
            std::thread::sleep(left);
        }
        assert!(crate::harness::now_secs() > deadline);
        // The clock is read per command (fish: every 20th), not per prompt.
        let commands = if matches!(shell, Shell::Fish) { 20 } else { 1 };
        for _ in 0..commands {
            session.line("true");
        }
        session.enter_until("[[P0:⚠ short:0]]");
        daemon.signal(nix::sys::signal::Signal::SIGCONT);
    });
}

/// Hooks installed after credwatch see the command's own status, however they are added.
#[test]
fn later_hooks_see_the_commands_status() {
    each_shell(|shell| {
        let adds: &[&str] = match shell {
            Shell::Bash => &[
                "PROMPT_COMMAND+=('echo LATER-A-$?')",
                "PROMPT_COMMAND=\"${PROMPT_COMMAND:+$PROMPT_COMMAND;}echo LATER-B-\\$?\"",
                "PROMPT_COMMAND=\"echo LATER-C-\\$?;$PROMPT_COMMAND\"",
            ],
            Shell::Zsh => &["_later() { echo LATER-A-$? }; precmd_functions+=(_later)"],
            Shell::Fish => &["function _later --on-event fish_prompt; echo LATER-A-$status; end"],
        };
        for (i, add) in adds.iter().enumerate() {
            let tag = ["A", "B", "C"][i];
            let (home, _daemon) = home_with_daemon();
            let mut session = Session::start(&home, shell, &[]);
            session.enter_until("[[P0::1]]");
            session.line(add);
            session.line("true");
            session.enter_until(&format!("LATER-{tag}-0"));
            session.line("false");
            let seen = session.expect("[[P1::1]]");
            assert!(
                seen.contains(&format!("LATER-{tag}-1")),
                "{shell:?}: {add}: the later hook did not see status 1: {seen}"
            );
        }
    });
}

/// The confirmation also works when bash-preexec runs the hook's preexec function.
#[test]
fn confirmation_under_bash_preexec_cancels_the_line() {
    if !Shell::Bash.available() {
        return;
    }
    let Some(preexec) = bash_preexec() else {
        return;
    };
    let (mut home, _daemon) = home_with_daemon();
    home.set_env("CREDWATCH_CONFIRM", "1");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let load = format!("source {}", preexec.display());
    let mut session = Session::start(&home, Shell::Bash, &[&load]);
    session.enter_until("[[P0:⚠ claude:1]]");
    session.line("claude --version; echo SECOND-$((1+1))");
    let asked = session.expect("run it anyway? [y/N]");
    assert_eq!(
        asked.matches("credwatch: Claude Code: logged out").count(),
        1,
        "{asked}"
    );
    session.keys("n");
    session.line("echo MARK-$((2+2))");
    let declined = session.expect("MARK-4");
    assert!(
        !declined.contains("stub claude ran") && !declined.contains("SECOND-2"),
        "the declined line ran: {declined}"
    );
    session.line("claude --version");
    session.expect("run it anyway? [y/N]");
    session.keys("y");
    session.expect("stub claude ran");
}

/// Regression: after any credential write the daemon published a validity 2 s ahead (its
/// post-write re-check) and never a new one, so the next command 2 s later made every shell say
/// "credwatch: the watchdog stopped" while it ran, and fall back to direct checks.
#[test]
fn after_a_credential_write_no_shell_decides_the_watchdog_stopped() {
    let (home, _daemon) = home_with_daemon();
    let mut sessions: Vec<(Shell, Session)> = SHELLS
        .iter()
        .filter(|s| s.available())
        .map(|&shell| (shell, Session::start(&home, shell, &[])))
        .collect();
    for (_, session) in &mut sessions {
        session.enter_until("[[P0::1]]");
    }
    // Still ok, rewritten with a later deadline: as Claude Code writes at a token refresh.
    let expiry = |home: &TestHome| {
        let published = home.published();
        let claude = published["credentials"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "claude").cloned());
        claude.map(|c| c["expires_at"].clone())
    };
    let before = expiry(&home);
    replace_atomically(&home.path(CREDS), claude_login_for_days(25).as_bytes());
    crate::harness::wait_until("the daemon to publish the new deadline", || {
        expiry(&home) != before
    });
    // The regression's validity ended at the post-write re-check, DAEMON_GRACE after the daemon
    // saw the write (which was before the new deadline was published, seen just now): waited out
    // before the shells' next commands read the clock.
    crate::harness::wait_out(std::time::Instant::now(), crate::harness::DAEMON_GRACE);
    for (shell, session) in &mut sessions {
        // bash and zsh read the clock per command; fish every 20th command.
        let commands = if *shell == Shell::Fish { 20 } else { 1 };
        let mut seen = String::new();
        for _ in 0..commands {
            session.line("true");
            seen += &session.expect("]]");
        }
        seen += &session.enter_until("[[P0::1]]");
        assert!(
            !seen.contains("watchdog stopped"),
            "{shell:?}: the shell took the running watchdog for stopped: {seen}"
        );
    }
}

/// Regression: with `set -euo pipefail` in .bashrc, stopping the watchdog and pressing Enter
/// ended the shell (a failed read of the withdrawn prompt file). No state of credwatch may end
/// the user's shell: stopped, broken login with a warning pending, a mapped command run.
#[test]
fn set_euo_pipefail_in_bashrc_survives_a_stopped_watchdog() {
    if !Shell::Bash.available() {
        return;
    }
    let (home, daemon) = home_with_daemon();
    let hook = crate::pty::hook_file(&home, Shell::Bash);
    let rc = format!(
        "set -euo pipefail\nPS1='[[P$?:${{CREDWATCH_PROMPT-}}:${{CREDWATCH_DAEMON-}}]]'\nsource {}\n",
        hook.display()
    );
    let mut session = Session::with_rc(&home, Shell::Bash, &rc, &[("CREDWATCH_AUTOSTART", "0")]);
    session.enter_until("[[P0::1]]");
    assert_eq!(daemon.stop(), Some(0));
    let seen = session.enter_until("[[P0::0]]");
    assert!(seen.contains("the watchdog stopped"), "{seen}");
    session.line("echo still-$((40+2))");
    session.expect("still-42");
    let _again = home.start_daemon(&[]);
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    session.enter_until("[[P0:⚠ claude:1]]");
    session.line("claude --version");
    let before = session.expect("stub claude ran");
    assert!(before.contains("credwatch: Claude Code"), "{before}");
    session.line("echo alive-$((40+2))");
    session.expect("alive-42");
}

/// Regression: while a warning was pending (the hook's DEBUG trap installed), `$_` became
/// `_credwatch_debug`: `mkdir -p x && cd $_` failed. The trap leaves `$_` and `$?` as it found
/// them, for the command and for the user's own DEBUG trap, which it chains (it used to drop it:
/// a function does not see the DEBUG trap in force unless traced).
#[test]
fn bash_keeps_dollar_underscore_and_status_while_a_warning_is_pending() {
    if !Shell::Bash.available() {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let mut session = Session::start(&home, Shell::Bash, &[]);
    session.enter_until("[[P0:⚠ claude:1]]");
    session.line("mkdir -p dir-x && cd $_ && echo \"IN-${PWD##*/}-$((1+1))\"");
    session.expect("IN-dir-x-2");
    session.line("claude --version");
    let before = session.expect("stub claude ran");
    assert!(before.contains("credwatch: Claude Code"), "{before}");

    // The user's DEBUG trap (an assignment: it resets $_ itself, credwatch or not) runs after
    // the hook's and sees the command's $? and $_.
    let mut session = Session::start(&home, Shell::Bash, &["trap '_ut=\"$?:$_\"' DEBUG"]);
    session.enter_until("[[P0:⚠ claude:1]]");
    session.line("false");
    session.expect("[[P1:⚠ claude:1]]");
    session.line("echo \"UT=$_ut=$((40+2))\"");
    session.expect("UT=1:false=42");
    session.line("claude --version");
    let before = session.expect("stub claude ran");
    assert!(before.contains("credwatch: Claude Code"), "{before}");
}

/// Regression: `claude; echo x` was warned in plain bash only, and `echo x; claude` nowhere:
/// the hooks matched the start of the line. Each command of a line counts, once per broken
/// login per line, whatever runs it (assignments, `command`, `time`, a pipe, `&&`); a word that
/// only names it (`echo claude`) does not.
#[test]
fn each_command_of_a_compound_line_is_warned() {
    let preexec = bash_preexec();
    let mut variants: Vec<(Shell, Vec<String>)> = SHELLS
        .iter()
        .filter(|s| s.available())
        .map(|&s| (s, vec![]))
        .collect();
    if let (Some(preexec), true) = (&preexec, Shell::Bash.available()) {
        variants.push((Shell::Bash, vec![format!("source {}", preexec.display())]));
    }
    // atuin loads its own copy of bash-preexec.
    let atuin = crate::pty::tools_dir().join("bin/atuin");
    if crate::harness::require(
        atuin.to_str().unwrap(),
        "atuin loads bash-preexec its own way",
    ) && Shell::Bash.available()
    {
        variants.push((
            Shell::Bash,
            vec![format!(
                "eval \"$({} init bash --disable-up-arrow --disable-ctrl-r)\"",
                atuin.display()
            )],
        ));
    }
    for (shell, before) in variants {
        let before: Vec<&str> = before.iter().map(String::as_str).collect();
        let label = format!("{shell:?} {before:?}");
        let (home, _daemon) = home_with_daemon();
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let mut session = Session::start(&home, shell, &before);
        session.enter_until("[[P0:⚠ claude:1]]");
        for (n, line, warnings) in [
            (1, "echo first; claude --version", 1),
            (2, "true && FOO=1 command time claude --version | cat", 1),
            (3, "claude --version; claude --version", 1),
            (4, "echo claude", 0),
        ] {
            let end = format!("END-{}", shell.sum(n, 100));
            session.line(&format!("{line}; echo {end}"));
            let seen = session.expect(&format!("END-{}", n + 100));
            assert_eq!(
                seen.matches("credwatch: Claude Code: logged out").count(),
                warnings,
                "{label}: {line:?}: {seen}"
            );
            session.expect("[[P");
        }
    }
}

/// Nothing is printed while the rc file runs (powerlevel10k's instant prompt reports any such
/// output), and zsh prints the hook's line after every precmd function (powerlevel10k's own,
/// last, ends its instant prompt): the change line comes just before the first prompt.
#[test]
fn nothing_is_printed_while_the_rc_file_runs_and_zsh_speaks_after_every_precmd() {
    each_shell(|shell| {
        let (home, _daemon) = home_with_daemon();
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        let hook = crate::pty::hook_file(&home, shell);
        let rc = match shell {
            Shell::Bash => format!("PS1='<P> '\nsource {}\necho RC-END\n", hook.display()),
            Shell::Zsh => format!(
                "PROMPT='<P> '\nsource {}\n_last() {{ print -r -- LAST-PRECMD }}\nprecmd_functions+=(_last)\nprint -r -- RC-END\n",
                hook.display()
            ),
            Shell::Fish => format!(
                "function fish_prompt; printf '<P> '; end\nsource {}\necho RC-END\n",
                hook.display()
            ),
        };
        let mut session = Session::with_rc(&home, shell, &rc, &[]);
        let during = session.expect("RC-END");
        assert!(
            !during.contains("credwatch"),
            "{shell:?}: printed while the rc file ran: {during}"
        );
        let first = session.expect("<P>");
        assert!(
            first.contains("credwatch: ⚠ claude"),
            "{shell:?}: nothing said at the first prompt: {first}"
        );
        if shell == Shell::Zsh {
            let last = first.find("LAST-PRECMD").expect("the other precmd ran");
            assert!(
                last < first.find("credwatch: ⚠ claude").unwrap(),
                "zsh: the hook spoke before the last precmd function: {first}"
            );
        }
    });
}

/// Regression: tide starts a background `fish -c` at every prompt, which reads config.fish:
/// README's line must start nothing there, and the hook does nothing in a non-interactive fish.
#[test]
fn a_non_interactive_fish_runs_nothing_of_credwatch() {
    if !Shell::Fish.available()
        || std::process::Command::new("strace")
            .arg("-V")
            .output()
            .is_err()
    {
        return;
    }
    let home = TestHome::new();
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/shell.md"),
    )
    .unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("credwatch init fish | source") && l.contains("config.fish"))
        .expect("docs/shell.md's fish line");
    let line = line.split('#').next().unwrap().trim();
    let bin = home.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_credwatch"), bin.join("credwatch")).unwrap();
    let config = home.config_home.join("fish/config.fish");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, format!("{line}\n")).unwrap();
    let log = home.home.join("strace.log");
    let mut command = home.program(
        "strace",
        &[
            "-f",
            "-qq",
            "-e",
            "trace=execve",
            "-o",
            log.to_str().unwrap(),
            "fish",
            "-c",
            "echo NONINTERACTIVE; set -q CREDWATCH_HOOK; and echo HOOKED",
        ],
    );
    command.env(
        "PATH",
        format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
    );
    let outcome = crate::harness::run_command(command);
    assert_eq!(outcome.stdout, "NONINTERACTIVE\n", "{}", outcome.stderr);
    let execs = std::fs::read_to_string(&log).unwrap();
    assert!(
        !execs.lines().any(|l| l.contains("credwatch")),
        "credwatch ran in a non-interactive fish:\n{execs}"
    );
    // And the same line in an interactive fish does install the hook.
    let path = format!("{}:{}", bin.display(), crate::pty::stub_path(&home));
    let mut session =
        Session::with_rc(&home, Shell::Fish, &format!("{line}\n"), &[("PATH", &path)]);
    session.line(&format!(
        "set -q CREDWATCH_HOOK; and echo HOOKED-{}",
        Shell::Fish.sum(40, 2)
    ));
    session.expect("HOOKED-42");
}

/// The bash hook as users run it, `credwatch init bash` with every preset in play (every
/// selecting and shadowing variable, and the values that leave one off, filled in from Rust),
/// passes shellcheck: the template has placeholders shellcheck cannot read (#28 item 8).
#[test]
fn the_rendered_bash_hook_passes_shellcheck() {
    if !crate::harness::require("shellcheck", "lint the rendered bash hook") {
        return;
    }
    let home = TestHome::new();
    let every: Vec<String> = crate::harness::all_presets()
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect();
    home.write_config(format!("presets = [{}]\n", every.join(", ")));
    let hook = home.run(&["init", "bash"]);
    assert_eq!(hook.code, 0, "{}", hook.stderr);
    assert!(
        !hook.stdout.contains("@CREDWATCH_"),
        "a placeholder is left"
    );
    assert!(
        hook.stdout.contains("[false]=0") && hook.stdout.contains("'' | 0 | false | no | off)"),
        "the values that leave a variable off are credwatch's own"
    );
    let file = home.path("hook.bash");
    std::fs::write(&file, &hook.stdout).unwrap();
    let check = crate::harness::run_command(
        home.program("shellcheck", &["-s", "bash", &file.display().to_string()]),
    );
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}
