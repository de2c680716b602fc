//! The journal records every settled transition, whatever becomes of its notification (#25,
//! item 5), and says what went wrong in words, never in a debug format.

use crate::harness::{claude_login, now_secs, wait_out, wait_until, Outcome, TestHome, CANARY};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs a real client (git) in the test's environment with `input` on stdin; it must succeed.
fn client(home: &TestHome, program: &str, args: &[&str], input: &str) {
    let mut child = home
        .program(program, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{program} {args:?} hung"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `credwatch journal --json [NAME]`, one object a line.
fn journal_json(home: &TestHome, name: Option<&str>) -> Vec<serde_json::Value> {
    let mut args = vec!["journal", "--json"];
    args.extend(name);
    let Outcome { code, stdout, .. } = home.run(&args);
    assert_eq!(code, 0, "journal --json: {stdout}");
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The states journaled for `name`, in order.
fn journaled_states(home: &TestHome, name: &str) -> Vec<String> {
    journal_json(home, Some(name))
        .iter()
        .filter(|e| e["event"] == "state")
        .map(|e| e["to"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits until `name`'s journaled states are `expected`.
fn wait_for_journaled(home: &TestHome, name: &str, expected: &[&str]) {
    let mut seen = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        seen = journaled_states(home, name);
        if seen == expected {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{name}: journaled {seen:?}, expected {expected:?}; journal:\n{}",
        serde_json::Value::Array(journal_json(home, None))
    );
}

const APPROVE: &str = "protocol=https\nhost=example.com\nusername=me\npassword=";
const REJECT: &str = "protocol=https\nhost=example.com\nusername=me\n\n";

/// Logs git in (`git credential approve`, the store helper) before the daemon starts, then out
/// and in again and out, with the real git: each state is waited for in the journal before the
/// next step (so each held past the settle time); the journaled states, in order, and the store
/// events around them are checked.
fn log_git_in_and_out_several_times(home: &TestHome) -> crate::harness::Daemon {
    home.write_config("presets = [\"git\"]\n");
    client(
        home,
        "git",
        &["config", "--global", "credential.helper", "store"],
        "",
    );
    let approve = format!("{APPROVE}{CANARY}\n\n");
    client(home, "git", &["credential", "approve"], &approve);
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("git", "ok");
    wait_for_journaled(home, "git", &["ok"]);
    let mut expected = vec!["ok"];
    for step in 0..5 {
        let (input, state) = if step % 2 == 0 {
            (REJECT, "logged-out")
        } else {
            (approve.as_str(), "ok")
        };
        let verb = if step % 2 == 0 { "reject" } else { "approve" };
        client(home, "git", &["credential", verb], input);
        home.wait_for_state("git", state);
        expected.push(state);
        wait_for_journaled(home, "git", &expected);
    }
    let store_events: Vec<String> = journal_json(home, Some("git"))
        .iter()
        .filter(|e| e["event"] != "state" && e["event"] != "notify-failed")
        .map(|e| e["event"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        store_events,
        ["blanked", "modified", "blanked", "modified", "blanked"],
        "the store events around the transitions"
    );
    daemon
}

/// The commonest server session: a user bus (dbus-user-session) and no notification server on
/// it. The real `git credential approve` / `reject` log git in and out several times in a row:
/// each settled transition is journaled, as are the store events around them; that no
/// notification could be shown is said once, in words, with what to do.
#[test]
fn transitions_are_journaled_when_no_notification_server_answers() {
    let mut home = TestHome::new();
    let _bus = home.start_session_bus();
    let _daemon = log_git_in_and_out_several_times(&home);

    // A second notify-failed would come within the notification call's bound (2 s) of the last
    // transition: waited out.
    wait_out(Instant::now(), Duration::from_secs(2));
    let journal = journal_json(&home, None);
    let failed: Vec<&serde_json::Value> = journal
        .iter()
        .filter(|e| e["event"] == "notify-failed")
        .collect();
    assert_eq!(failed.len(), 1, "said once: {journal:?}");
    let detail = failed[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("no notification server runs on the session bus"),
        "in words: {detail}"
    );
    assert!(
        !detail.contains('{') && !detail.contains("ServiceUnknown"),
        "no debug format or D-Bus error name: {detail}"
    );
    assert!(
        detail.contains("set notify.desktop = false"),
        "says what to do: {detail}"
    );
    let text = serde_json::Value::Array(journal).to_string();
    assert!(!text.contains(CANARY));
}

/// On a server with a notification daemon installed but no display, the bus tries to start it
/// and fails (`org.freedesktop.DBus.Error.Spawn.ChildExited`): the journal said "the
/// notification server refused", though no notification server runs. Said as none.
#[test]
fn notification_server_refused_when_there_is_none() {
    let mut home = TestHome::new();
    let services = home.path(".test-bus-services");
    std::fs::create_dir_all(&services).unwrap();
    std::fs::write(
        services.join("org.freedesktop.Notifications.service"),
        "[D-BUS Service]\nName=org.freedesktop.Notifications\nExec=/bin/false\n",
    )
    .unwrap();
    let _bus = home.start_session_bus_with_services(&services);
    home.write(".claude/.credentials.json", claude_login(true));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    home.write(".claude/.credentials.json", claude_login(false));
    home.wait_for_state("claude", "logged-out");
    wait_until("notify-failed in the journal", || {
        journal_json(&home, None)
            .iter()
            .any(|e| e["event"] == "notify-failed")
    });
    let journal = journal_json(&home, None);
    let detail = journal
        .iter()
        .find(|e| e["event"] == "notify-failed")
        .and_then(|e| e["detail"].as_str())
        .unwrap()
        .to_string();
    assert!(
        detail.contains("no notification server runs on the session bus"),
        "{detail}"
    );
    assert!(
        !detail.contains("refused") && !detail.contains("Spawn"),
        "{detail}"
    );
}

/// A notification server that takes the name on the bus and never answers: each `Notify` call
/// waits its 2 s bound, and the journal still records each settled transition, on time; that
/// the server did not answer is said once, with what to do.
#[test]
fn transitions_are_journaled_when_the_notification_server_hangs() {
    let mut home = TestHome::new();
    let bus = home.start_session_bus();
    // The name is owned by a connection whose runtime is never driven again: the bus delivers
    // the calls, nothing answers them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _hung = runtime.block_on(async {
        zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .build()
            .await
            .expect("the hung server takes the name")
    });
    let _daemon = log_git_in_and_out_several_times(&home);
    wait_out(Instant::now(), Duration::from_secs(2));
    let journal = journal_json(&home, None);
    let failed: Vec<&serde_json::Value> = journal
        .iter()
        .filter(|e| e["event"] == "notify-failed")
        .collect();
    assert_eq!(failed.len(), 1, "said once: {journal:?}");
    let detail = failed[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("did not answer within 2 s") && detail.contains("notify.desktop = false"),
        "{detail}"
    );
}

/// Without any session bus, the journal says so in words ("no session bus"), not in a debug
/// format (`NoBus { detail: … }`), and says what to do.
#[test]
fn no_session_bus_is_journaled_in_words_not_a_debug_format() {
    let home = TestHome::new();
    home.write_config(
        "presets = \"none\"\n\n[[credential]]\nname = \"api\"\ntool = \"Test API\"\nfile = \"~/token.json\"\nformat = \"json\"\nsecret = \"/token\"\nexpires = \"/exp\"\nexpires_unit = \"s\"\nfix = \"api login\"\n",
    );
    home.write(
        "token.json",
        format!(r#"{{"token": "{CANARY}", "exp": {}}}"#, now_secs() - 60),
    );
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("api", "expired");
    wait_until("the notification failure to be journaled", || {
        journal_json(&home, None)
            .iter()
            .any(|e| e["event"] == "notify-failed")
    });
    let journal = journal_json(&home, None);
    let entry = journal
        .iter()
        .find(|e| e["event"] == "notify-failed")
        .unwrap();
    let detail = entry["detail"].as_str().unwrap();
    assert!(detail.contains("no session bus"), "{detail}");
    assert!(
        !detail.contains("NoBus") && !detail.contains('{'),
        "a debug format reached the journal: {detail}"
    );
    assert!(
        detail.contains("notify.desktop = false"),
        "says what to do: {detail}"
    );
    assert_eq!(
        journaled_states(&home, "api"),
        ["expired"],
        "the transition is journaled too"
    );
}

/// The daemon's log lines say why in words: no session bus for the keyring watcher ("no session
/// bus (…)", not `NoBus { detail: … }`), a textfile path that cannot be expanded ("$X is not
/// set", not `VariableUnset("X")`).
#[test]
fn daemon_log_lines_say_why_in_words_not_in_a_debug_format() {
    let mut home = TestHome::new();
    home.remove_env("DBUS_SESSION_BUS_ADDRESS");
    home.write_config(
        "presets = \"none\"\n\n[export]\nprometheus_textfile = \"$CW_UNSET_DIR/credwatch.prom\"\n\n[[credential]]\nname = \"api\"\nkeyring = { service = \"cw-api\", account = \"me\" }\n",
    );
    let daemon = home.start_daemon(&[]);
    wait_until("the keyring watcher to say there is no bus", || {
        daemon.log().contains("no usable session bus")
    });
    wait_until("the textfile warning", || {
        daemon
            .log()
            .contains("prometheus_textfile cannot be expanded")
    });
    let log = daemon.log();
    assert!(log.contains("no session bus ("), "{log}");
    assert!(log.contains("$CW_UNSET_DIR is not set"), "{log}");
    for debug in ["NoBus", "VariableUnset", "detail: "] {
        assert!(
            !log.contains(debug),
            "a debug format in the log ({debug}):\n{log}"
        );
    }
}

/// Regression: a state the daemon published but that had not held its settle time when the
/// daemon stopped was never journaled (an SSH logout stops the user manager, and the daemon
/// with it, seconds after a `git credential reject`). It is recorded at the stop, saying so.
#[test]
fn a_transition_published_just_before_the_daemon_stops_is_journaled() {
    let home = TestHome::new();
    home.write_config("presets = [\"git\"]\n");
    client(
        &home,
        "git",
        &["config", "--global", "credential.helper", "store"],
        "",
    );
    client(
        &home,
        "git",
        &["credential", "approve"],
        &format!("{APPROVE}{CANARY}\n\n"),
    );
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("git", "ok");
    wait_for_journaled(&home, "git", &["ok"]);
    let rejected = Instant::now();
    client(&home, "git", &["credential", "reject"], REJECT);
    home.wait_for_state("git", "logged-out");
    assert!(
        rejected.elapsed() < crate::harness::DAEMON_SETTLE,
        "the machine is too slow for this test: the transition settled before the stop"
    );
    assert_eq!(daemon.stop(), Some(0));
    let states = journal_json(&home, Some("git"));
    let last = states
        .iter()
        .rfind(|e| e["event"] == "state")
        .expect("a state entry");
    assert_eq!(last["to"], "logged-out", "{states:?}");
    assert_eq!(last["from"], "ok", "{states:?}");
    assert!(
        last["detail"]
            .as_str()
            .is_some_and(|d| d.contains("when the daemon stopped")),
        "{last}"
    );
}

/// #25 item 5's scenario as reported: a user bus with a keyring and no notification server (an
/// SSH login to a server with dbus-user-session). gh's login in the keyring, the keyring locked
/// (gh `unavailable`) and unlocked again, and git's login rejected with the real `git
/// credential reject` meanwhile: each transition is journaled once it held, in order, and that
/// no notification could be shown is said in words.
#[test]
fn gh_keyring_lock_and_git_reject_are_journaled_with_a_bus_and_no_notification_server() {
    use crate::harness::Times;
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write_config("presets = [\"gh\", \"git\"]\n");
    home.install_fixture("gh-keyring", Times::valid_for(30));
    bus.store_item(&["service", "gh:github.com", "username", "octocat"], CANARY);
    client(
        &home,
        "git",
        &["config", "--global", "credential.helper", "store"],
        "",
    );
    client(
        &home,
        "git",
        &["credential", "approve"],
        &format!("{APPROVE}{CANARY}\n\n"),
    );
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("gh", "ok");
    home.wait_for_state("git", "ok");
    wait_for_journaled(&home, "gh", &["ok"]);
    wait_for_journaled(&home, "git", &["ok"]);

    bus.lock_login();
    home.wait_for_state("gh", "unavailable");
    client(&home, "git", &["credential", "reject"], REJECT);
    home.wait_for_state("git", "logged-out");
    wait_for_journaled(&home, "gh", &["ok", "unavailable"]);
    wait_for_journaled(&home, "git", &["ok", "logged-out"]);
    bus.unlock_login();
    home.wait_for_state("gh", "ok");
    wait_for_journaled(&home, "gh", &["ok", "unavailable", "ok"]);

    let journal = journal_json(&home, None);
    let failed = journal
        .iter()
        .find(|e| e["event"] == "notify-failed")
        .unwrap_or_else(|| panic!("no notify-failed entry: {journal:?}"));
    assert!(
        failed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no notification server runs on the session bus")),
        "{failed}"
    );
    let text = serde_json::Value::Array(journal).to_string();
    assert!(!text.contains(CANARY) && !daemon.log().contains(CANARY));
}
