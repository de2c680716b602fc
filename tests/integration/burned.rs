//! Where users get burned (#27): the failures the tools' issue trackers repeat, each seen the way
//! the tool leaves it, and what credwatch says about it.

use crate::harness::{claude_login, replace_atomically, wait_until, TestHome};
use std::process::Child;

/// Processes of this user whose command line is `program` (as a tool's sessions look in
/// /proc), working in the test's HOME, ended when dropped.
struct Sessions(Vec<Child>);

impl Sessions {
    fn start(home: &TestHome, program: &str, count: usize) -> Sessions {
        let children: Vec<Child> = (0..count)
            .map(|_| {
                home.program("bash", &["-c", &format!("exec -a {program} sleep 120")])
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in &children {
            let cmdline = format!("/proc/{}/cmdline", child.id());
            wait_until("the session's command line", || {
                std::fs::read(&cmdline).is_ok_and(|c| c.starts_with(program.as_bytes()))
            });
        }
        Sessions(children)
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The number N in "while N <tool> processes were running".
fn processes_said(reason: &str, tool: &str) -> Option<usize> {
    let (before, _) = reason.split_once(&format!(" {tool} processes were running"))?;
    before.rsplit(' ').next()?.parse().ok()
}

/// Claude Code's refresh race (anthropics/claude-code #25609 and others): several sessions
/// share one rotating refresh token; the one that loses a refresh writes the store back as a
/// logged-out copy. credwatch said only "accessToken is empty"; it says what happened, how many
/// sessions were running, and to log in once with the others closed, in `status` and in the
/// journal.
#[test]
fn a_login_overwritten_by_a_logged_out_copy_while_sessions_run_is_called_a_refresh_race() {
    let home = TestHome::new();
    let creds = home.write(".claude/.credentials.json", claude_login(true));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let _sessions = Sessions::start(&home, "claude", 3);
    // Sessions of another home's login are not this one's.
    let _elsewhere = Sessions::start(&TestHome::new(), "claude", 2);
    replace_atomically(&creds, claude_login(false).as_bytes());
    home.wait_for_state("claude", "logged-out");
    let status = home.run(&["status", "--json", "claude"]);
    let claude = status.credential("claude");
    let reason = claude["reason"].as_str().unwrap();
    assert!(
        processes_said(reason, "Claude Code") == Some(3)
            && reason.starts_with("overwritten by a logged-out copy at ")
            && reason.contains("(a refresh race"),
        "{reason}"
    );
    assert!(
        reason.contains("accessToken in ~/.claude/.credentials.json is empty"),
        "the state's own reason is gone: {reason}"
    );
    assert_eq!(
        claude["fix"], "claude /login, once, with the other Claude Code sessions closed",
        "{claude}"
    );
    // The journal keeps it: the recorded transition says what happened.
    wait_until("the transition in the journal", || {
        home.journal().iter().any(|e| {
            e["name"] == "claude"
                && e["to"] == "logged-out"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("(a refresh race"))
        })
    });
    // A login again: the story is over.
    replace_atomically(&creds, claude_login(true).as_bytes());
    home.wait_for_state("claude", "ok");
    let reason = home
        .run(&["status", "--json", "claude"])
        .credential("claude")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!reason.contains("overwritten"), "{reason}");
}
