//! Regressions of the shell hooks found by trying them as users do (issue #25): a `.bashrc`
//! that assigns `PROMPT_COMMAND` after the hook, a shadowing variable turned off with `=0`, a
//! prompt file with control characters, and a warning pending while a long loop runs. Each in
//! the real shell on a pseudo-terminal.

use crate::harness::{claude_login, replace_atomically, TestHome};
use crate::pty::{home_with_daemon, hook_file, visible_lines, Session, Shell, CREDS, SHELLS};

const FLAG: &str = "⚠ claude";

/// Asserts that what a command line printed has the hook's warning for Claude Code before the
/// stub `claude` ran.
pub(crate) fn assert_warned_before_claude_ran(printed: &str, what: &str) {
    let lines = visible_lines(printed);
    let warning = lines
        .iter()
        .position(|l| l.starts_with("credwatch: Claude Code"));
    let ran = lines.iter().position(|l| l.contains("stub claude ran"));
    assert!(
        matches!((warning, ran), (Some(w), Some(r)) if w < r),
        "{what}: no warning before the command: {lines:?}"
    );
}

/// A `.bashrc` that loads the hook the README's way (`eval "$(credwatch init bash)"`, here the
/// same text read from the file `credwatch init bash` wrote) and then assigns PROMPT_COMMAND.
fn bashrc_assigning_prompt_command_after_the_hook(home: &TestHome, assignment: &str) -> String {
    format!(
        "PS1='[[P$?:${{CREDWATCH_PROMPT-}}]]'\n\
         HISTFILE={history}\n\
         _my_prompt() {{ printf 'MY<%s>' \"${{CREDWATCH_PROMPT-}}\"; }}\n\
         eval \"$(cat {hook})\"\n\
         {assignment}\n",
        history = home.home.join(".bash_history").display(),
        hook = hook_file(home, Shell::Bash).display(),
    )
}

/// Regression: with `eval "$(credwatch init bash)"` first and `PROMPT_COMMAND=…` later in
/// `.bashrc` (a very common file), the hook was never run: no flag, no one-time warning, no
/// warning before a watched command, no confirmation. Each way users assign it.
#[test]
fn a_prompt_command_assigned_after_the_hook_does_not_silence_it() {
    if !Shell::Bash.available() {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    for assignment in [
        "PROMPT_COMMAND='history -a'",
        "PROMPT_COMMAND=_my_prompt",
        "export PROMPT_COMMAND='history -a; _my_prompt'",
        "PROMPT_COMMAND=(_my_prompt)",
        "PROMPT_COMMAND+='; history -a'",
        "PROMPT_COMMAND=\"${PROMPT_COMMAND:+$PROMPT_COMMAND;}_my_prompt\"",
        "PROMPT_COMMAND=\"_my_prompt;$PROMPT_COMMAND\"",
    ] {
        let rc = bashrc_assigning_prompt_command_after_the_hook(&home, assignment);
        let mut session = Session::with_rc(&home, Shell::Bash, &rc, &[]);
        // The first prompt already shows the flag (the hook ran before it was drawn), after the
        // one-time line.
        let first = session.expect(&format!("[[P0:{FLAG}]]"));
        assert!(
            first.contains(&format!("credwatch: {FLAG} — run: credwatch status")),
            "{assignment}: no one-time warning before the first prompt: {first:?}"
        );
        if assignment.contains("_my_prompt") {
            assert!(
                first.contains(&format!("MY<{FLAG}>")),
                "{assignment}: the user's prompt function ran before the hook: {first:?}"
            );
        }
        // A warning before the command that uses the broken login, at every command line.
        for n in 0..2 {
            session.line(&format!("claude --version; echo DONE-$((40+{n}))"));
            let before = session.expect(&format!("DONE-{}", 40 + n));
            assert_warned_before_claude_ran(&before, &format!("{assignment} ({n})"));
        }
        // The confirmation asked for, and a "no" cancels the line.
        session.line("export CREDWATCH_CONFIRM=1");
        session.expect(&format!("[[P0:{FLAG}]]"));
        session.line("claude --version; echo NOT-$((1+1))");
        session.expect("run it anyway? [y/N]");
        session.keys("n");
        session.line("echo MARK-$((2+2))");
        let after = session.expect("MARK-4");
        assert!(
            !after.contains("stub claude ran") && !after.contains("NOT-2"),
            "{assignment}: a declined line ran: {after:?}"
        );
        session.line("unset CREDWATCH_CONFIRM");
        // And the hook's state holds across prompts: the fix clears the flag.
        replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
        home.wait_for_state("claude", "ok");
        session.enter_until("[[P0:]]");
        replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
        home.wait_for_state("claude", "logged-out");
        session.enter_until(&format!("[[P0:{FLAG}]]"));
    }
}

/// The shell's pid, as it prints it.
fn shell_pid(session: &mut Session, shell: Shell) -> String {
    let pid = match shell {
        Shell::Fish => "$fish_pid",
        _ => "$$",
    };
    session.line(&format!("echo PID-{pid}-END-{}", shell.sum(1, 1)));
    let said = session.expect("-END-2");
    let pid: String = said
        .rsplit("PID-")
        .next()
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!pid.is_empty(), "{shell:?}: no pid in {said:?}");
    pid
}

/// The context file a shell handed the daemon (`context/PID`), as text, once it holds `wanted`.
fn handed_context(home: &TestHome, session: &mut Session, pid: &str, wanted: &str) -> String {
    let file = home.credwatch_runtime().join("context").join(pid);
    let started = std::time::Instant::now();
    loop {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
        if text.contains(wanted) {
            return text;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "the shell never handed over {wanted:?}: {text:?}"
        );
        session.line("");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Regression: a shadowing variable changed from `=1` to `=0` was not handed to the daemon
/// (bash and zsh compared `${VAR:+1}`, the same for both), so the daemon kept the stored login
/// overridden. Every shell hands the change over.
#[test]
fn a_shadowing_variable_turned_off_with_0_is_handed_to_the_daemon() {
    for shell in SHELLS {
        if !shell.available() {
            continue;
        }
        let (home, _daemon) = home_with_daemon();
        let mut session = Session::start(&home, shell, &[]);
        session.enter_until("[[P0::1]]");
        let pid = shell_pid(&mut session, shell);
        let set = |value: &str| match shell {
            Shell::Fish => format!("set -gx ANTHROPIC_API_KEY {value}"),
            _ => format!("export ANTHROPIC_API_KEY={value}"),
        };
        session.line(&set("1"));
        handed_context(&home, &mut session, &pid, "\0ANTHROPIC_API_KEY=1\0");
        for off in ["0", "OFF", "false"] {
            session.line(&set(off));
            let text = handed_context(&home, &mut session, &pid, "\0ANTHROPIC_API_KEY\0");
            assert!(!text.contains("ANTHROPIC_API_KEY=1"), "{shell:?}: {text:?}");
            session.line(&set("1"));
            handed_context(&home, &mut session, &pid, "\0ANTHROPIC_API_KEY=1\0");
        }
    }
}

/// Regression: the hooks printed the prompt file's text as they found it; the daemon writes it
/// inert, but the hook is the last step before the terminal. A prompt file with escape
/// sequences and other control characters (here the file a shell reads while no daemon runs,
/// written where `credwatch prompt --cache` writes it) reaches the terminal with none of them,
/// in the prompt variable and in the warning before a command.
#[test]
fn hooks_print_no_control_character_of_the_prompt_file() {
    for shell in SHELLS {
        if !shell.available() {
            continue;
        }
        let home = TestHome::new();
        home.write(CREDS, claude_login(true));
        let settings = match shell {
            Shell::Fish => "set -gx CREDWATCH_AUTOSTART 0; set -gx CREDWATCH_INTERVAL 100000",
            _ => "export CREDWATCH_AUTOSTART=0 CREDWATCH_INTERVAL=100000",
        };
        let mut session = Session::start(&home, shell, &[settings]);
        let pid = shell_pid(&mut session, shell);
        // The one direct check the hook started at its first prompt has written its file.
        let direct = home
            .credwatch_runtime()
            .join("shell")
            .join(format!("{pid}.direct"));
        let started = std::time::Instant::now();
        while !direct.exists() {
            assert!(started.elapsed().as_secs() < 10, "{shell:?}: no {direct:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let hostile = "0 0 1.1 BAD\x1b]0;title\x07NAME\nclaude\tcredwatch: CLAUDE\x1b[2J\u{9b}31m\rWARN — run: fix\n";
        replace_atomically(&direct, hostile.as_bytes());
        let mut seen = String::new();
        let started = std::time::Instant::now();
        while !seen.contains("NAME") {
            assert!(started.elapsed().as_secs() < 10, "{shell:?}: {seen:?}");
            session.line(&format!(
                "echo \"V-[$CREDWATCH_PROMPT]\"-{}",
                shell.sum(1, 1)
            ));
            seen = session.expect("]-2");
        }
        session.line("claude --version");
        let before = session.expect("stub claude ran");
        assert!(
            before.contains("CLAUDE") && before.contains("WARN — run: fix"),
            "{shell:?}: no warning before the command: {before:?}"
        );
        // What the hook printed of the file: from each text's first word to its last.
        let all = format!("{seen}{before}");
        let mut printed = Vec::new();
        for (from, to) in [("BAD", "NAME"), ("CLAUDE", "WARN")] {
            let mut rest = all.as_str();
            while let Some(start) = rest.find(from) {
                let end = rest[start..].find(to).map_or(rest.len(), |e| start + e);
                printed.push(&rest[start..end]);
                rest = &rest[end..];
            }
        }
        assert!(printed.len() >= 2, "{shell:?}: {all:?}");
        for text in &printed {
            assert!(
                !text.chars().any(char::is_control),
                "{shell:?}: a control character reached the terminal: {text:?}"
            );
        }
    }
}

/// Regression: a DEBUG trap the user set while the hook's was in (a warning pending) replaced it
/// for good: once the warnings cleared and came back, no command was warned again. The hook sees
/// its trap gone and puts it back, chained before the user's, which keeps running.
#[test]
fn a_debug_trap_set_over_the_hooks_is_chained_when_a_warning_comes_back() {
    if !Shell::Bash.available() {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let rc = format!(
        "PS1='[[P$?:${{CREDWATCH_PROMPT-}}]]'\neval \"$(cat {})\"\n",
        hook_file(&home, Shell::Bash).display()
    );
    let mut session = Session::with_rc(&home, Shell::Bash, &rc, &[]);
    session.expect(&format!("[[P0:{FLAG}]]"));
    session.line("_ut=0; trap '_ut=$((_ut + 1))' DEBUG");
    session.expect(&format!("[[P0:{FLAG}]]"));
    replace_atomically(&home.path(CREDS), claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    session.enter_until("[[P0:]]");
    replace_atomically(&home.path(CREDS), claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    session.enter_until(&format!("[[P0:{FLAG}]]"));
    session.line("claude --version; echo DONE-$((40+2))");
    let before = session.expect("DONE-42");
    assert_warned_before_claude_ran(&before, "once the warning came back");
    // The user's trap still runs, before each command.
    session.line("a=$_ut; : x; echo \"UT-$((_ut - a))-END\"");
    let counted = session.expect("-END");
    assert!(
        counted.ends_with("UT-2") || counted.ends_with("UT-3"),
        "the user's DEBUG trap no longer runs: {counted:?}"
    );
}

/// Regression: with the hook eval'ed in `.bashrc` after traps of the user's, the user's RETURN
/// trap was replaced by the hook's for the whole session, and the user's DEBUG trap saw `$?`
/// as 0 while the rest of the rc file ran.
#[test]
fn traps_of_the_users_set_before_the_hook_keep_their_return_trap_and_status() {
    if !Shell::Bash.available() {
        return;
    }
    let (home, _daemon) = home_with_daemon();
    let rc = format!(
        "PS1='[[P$?:${{CREDWATCH_PROMPT-}}]]'\n\
         trap 'echo RETURN-OF-USER' RETURN\n\
         trap '_st=$?' DEBUG\n\
         eval \"$(cat {})\"\n\
         false\n\
         echo \"STATUS-SEEN-$_st\"\n",
        hook_file(&home, Shell::Bash).display()
    );
    let mut session = Session::with_rc(&home, Shell::Bash, &rc, &[]);
    let started = session.expect("[[P0:]]");
    assert!(
        started.contains("STATUS-SEEN-1"),
        "the user's DEBUG trap did not see false's status: {started:?}"
    );
    session.line("trap -p RETURN; echo TRAPS-$((1+1))");
    let traps = session.expect("TRAPS-2");
    assert!(
        traps.contains("trap -- 'echo RETURN-OF-USER' RETURN") && !traps.contains("_credwatch"),
        "the user's RETURN trap was not given back: {traps:?}"
    );
}
