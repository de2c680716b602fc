//! Saying it before it breaks (#17): desktop notifications to a real notification server on a
//! private session bus (a recorder of the `Notify` calls it receives), lead-time warnings, and
//! `[[on_change]]` hooks, from a real daemon.

use crate::harness::{now_secs, wait_until, TestHome, CANARY};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One `Notify` call as the server received it.
#[derive(Debug, Clone)]
struct Notified {
    replaces_id: u32,
    summary: String,
    body: String,
    urgency: Option<u8>,
    /// The id the server answered with.
    id: u32,
}

struct Recorder {
    calls: Arc<Mutex<Vec<Notified>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        _app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut calls = self.calls.lock().unwrap();
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            calls.len() as u32 + 1
        };
        calls.push(Notified {
            replaces_id,
            summary,
            body,
            urgency: hints.get("urgency").and_then(|v| u8::try_from(v).ok()),
            id,
        });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "recorder".into(),
            "credwatch-tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

/// A notification server on `address` recording every call; stops when dropped.
struct NotificationServer {
    calls: Arc<Mutex<Vec<Notified>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NotificationServer {
    fn start(address: &str) -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            calls: calls.clone(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel();
        let address = address.to_string();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let connection = zbus::connection::Builder::address(address.as_str())
                    .unwrap()
                    .name("org.freedesktop.Notifications")
                    .unwrap()
                    .serve_at("/org/freedesktop/Notifications", recorder)
                    .unwrap()
                    .build()
                    .await
                    .expect("the notification server connects");
                ready.send(()).unwrap();
                let _ = stopped.await;
                drop(connection);
            });
        });
        is_ready
            .recv_timeout(Duration::from_secs(10))
            .expect("the notification server started");
        NotificationServer {
            calls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn calls(&self) -> Vec<Notified> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for NotificationServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A credential in a JSON file whose `exp` (epoch s) is its deadline, warned 1 s ahead.
const TOKEN_DEFINITION: &str = r#"presets = "none"

[[credential]]
name = "api"
tool = "Test API"
file = "~/token.json"
format = "json"
secret = "/token"
expires = "/exp"
expires_unit = "s"
warn_before = "1s"
fix = "api login"
"#;

fn write_token(home: &TestHome, exp: i64) {
    home.write(
        "token.json",
        format!(r#"{{"token": "{CANARY}", "exp": {exp}}}"#),
    );
}

fn wait_for_calls(server: &NotificationServer, n: usize) -> Vec<Notified> {
    wait_until(&format!("{n} notification(s)"), || {
        server.calls().len() >= n
    });
    server.calls()
}

/// A lead time reached → one notification; the deadline passing → one, critical, with the fix,
/// replacing the earlier one; logged in again → one, low, replacing that one. Nothing else, and
/// no secret in any of them.
#[test]
fn lead_time_broken_and_fixed_each_notify_once_replacing_the_last() {
    let mut home = TestHome::new();
    let bus = home.start_session_bus();
    let server = NotificationServer::start(&bus.address);
    home.write_config(format!(
        "{TOKEN_DEFINITION}\n[notify]\nlead_times = [\"4s\"]\n"
    ));
    write_token(&home, now_secs() + 7);
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("api", "ok");

    let calls = wait_for_calls(&server, 1);
    assert!(calls[0].summary.contains("login ends in "), "{calls:?}");
    assert_eq!(calls[0].urgency, Some(1));

    let calls = wait_for_calls(&server, 2);
    let broken = &calls[1];
    assert!(broken.summary.contains("Test API: expired"), "{calls:?}");
    assert!(
        broken.body.contains("\nfix: api login"),
        "the fix on a line of its own: {calls:?}"
    );
    assert_eq!(broken.urgency, Some(2));
    assert_eq!(
        broken.replaces_id, calls[0].id,
        "replaces the lead-time notice"
    );

    write_token(&home, now_secs() + 30 * 86_400);
    let calls = wait_for_calls(&server, 3);
    let fixed = &calls[2];
    assert!(fixed.summary.contains("working again"), "{calls:?}");
    assert_eq!(fixed.urgency, Some(0));
    assert_eq!(fixed.replaces_id, broken.id, "replaces the broken notice");
    // Nothing more once the write's re-check (the grace) and any transition still settling
    // would have been told: both end within their 2 s of the notice's write.
    crate::harness::wait_out(
        std::time::Instant::now(),
        crate::harness::DAEMON_GRACE.max(crate::harness::DAEMON_SETTLE),
    );
    let calls = server.calls();
    assert_eq!(calls.len(), 3, "nothing more: {calls:?}");
    assert!(calls
        .iter()
        .all(|c| !c.summary.contains(CANARY) && !c.body.contains(CANARY)));
}

/// A store flapping between a login and none 100 times in 10 s: a bounded number of
/// notifications (only what held 2 s is told, and a burst limit holds the rest).
#[test]
fn a_flapping_store_cannot_flood_the_desktop() {
    let mut home = TestHome::new();
    let bus = home.start_session_bus();
    let server = NotificationServer::start(&bus.address);
    home.write_config(TOKEN_DEFINITION);
    let far = now_secs() + 30 * 86_400;
    write_token(&home, far);
    let _daemon = home.start_daemon(&["--grace", "50ms"]);
    home.wait_for_state("api", "ok");
    for i in 0..100 {
        if i % 2 == 0 {
            home.write("token.json", "{}");
        } else {
            write_token(&home, far);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    home.write("token.json", "{}");
    let last_write = std::time::Instant::now();
    let calls = wait_for_calls(&server, 1);
    // Counted once the final state has settled (2 s after the last write, the grace is 50 ms)
    // and been told, with a second more for the notification to arrive.
    crate::harness::wait_out(
        last_write,
        crate::harness::DAEMON_SETTLE + Duration::from_secs(1),
    );
    let calls = server.calls().len().max(calls.len());
    assert!(
        (1..=credwatch_burst()).contains(&calls),
        "{calls} notifications for 100 flaps"
    );
}

/// The burst limit per credential (the daemon's `alerts::BURST`).
fn credwatch_burst() -> usize {
    3
}

/// `[[on_change]]`: a hook gets the facts in its environment (never the secret); a hook that
/// hangs is killed with its process group at its timeout, and the journal says so; without any
/// session bus, nothing breaks and the journal says once that notifications failed.
#[test]
fn hooks_get_the_facts_and_a_hanging_one_is_killed_at_its_timeout() {
    let home = TestHome::new();
    // A sleep no other test (or run) has: its processes are found by it.
    let marker = format!("60.{:03}", std::process::id() % 1000);
    let out = home.path("hook-env.txt");
    let script = home.path("record-env.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > {}.tmp && mv {}.tmp {}\n",
            out.display(),
            out.display(),
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    home.write_config(format!(
        "{TOKEN_DEFINITION}
[[on_change]]
credentials = [\"api\"]
on = [\"broken\", \"recovered\"]
command = [\"{}\"]

[[on_change]]
on = [\"broken\"]
command = [\"sh\", \"-c\", \"sleep {marker} & sleep {marker}\"]
timeout = \"1s\"
",
        script.display()
    ));
    write_token(&home, now_secs() + 30 * 86_400);
    let _daemon = home.start_daemon(&["--grace", "50ms"]);
    home.wait_for_state("api", "ok");
    wait_until("ok to be recorded (it held 2 s)", || {
        home.journal()
            .iter()
            .any(|e| e["event"] == "state" && e["to"] == "ok")
    });
    assert!(
        !out.exists(),
        "nothing to tell for a first state that is ok"
    );
    write_token(&home, now_secs() - 60);
    wait_until("the hook to run", || out.exists());
    let env = std::fs::read_to_string(&out).unwrap();
    for expected in [
        "CREDWATCH_NAME=api",
        "CREDWATCH_TOOL=Test API",
        "CREDWATCH_EVENT=broken",
        "CREDWATCH_FROM=ok",
        "CREDWATCH_TO=expired",
        "CREDWATCH_FIX=api login",
    ] {
        assert!(env.lines().any(|l| l == expected), "{expected} in:\n{env}");
    }
    assert!(env.contains("CREDWATCH_REASON="), "{env}");
    assert!(env.contains("CREDWATCH_EXPIRES_AT=20"), "{env}");
    assert!(!env.contains(CANARY), "the secret reached a hook");

    wait_until("the hanging hook to be killed", || {
        home.journal()
            .iter()
            .any(|e| e["event"] == "hook-timed-out")
    });
    let sleeping = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
        .filter(|c| c.windows(marker.len()).any(|w| w == marker.as_bytes()))
        .count();
    assert_eq!(sleeping, 0, "the hook's group was left running");
    let journal = serde_json::Value::Array(home.journal()).to_string();
    assert_eq!(
        journal.matches("notify-failed").count(),
        1,
        "no session bus here: said once: {journal}"
    );
    assert!(!journal.contains(CANARY));

    std::fs::remove_file(&out).unwrap();
    write_token(&home, now_secs() + 30 * 86_400);
    wait_until("the hook to run again", || out.exists());
    let env = std::fs::read_to_string(&out).unwrap();
    assert!(
        env.lines().any(|l| l == "CREDWATCH_EVENT=recovered"),
        "{env}"
    );
}

/// `doctor` says whether desktop notifications can be shown: no session bus → a warning with
/// the fix; a notification server on the bus → ok; `notify.desktop = false` → not checked.
#[test]
fn doctor_tells_whether_notifications_can_be_shown() {
    let mut home = TestHome::new();
    let find = |home: &TestHome| -> Option<serde_json::Value> {
        let doc = home.run(&["doctor", "--json"]).json();
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "notifications")
            .cloned()
    };
    let none = find(&home).expect("checked by default");
    assert_eq!(none["status"], "warn", "{none}");
    assert!(
        none["fix"]
            .as_str()
            .unwrap()
            .contains("notify.desktop = false"),
        "{none}"
    );
    let bus = home.start_session_bus();
    let no_server = find(&home).unwrap();
    assert_eq!(no_server["status"], "warn", "{no_server}");
    assert!(
        no_server["detail"]
            .as_str()
            .unwrap()
            .contains("no notification server"),
        "{no_server}"
    );
    let _server = NotificationServer::start(&bus.address);
    assert_eq!(find(&home).unwrap()["status"], "ok");
    home.write_config("[notify]\ndesktop = false\n");
    assert!(find(&home).is_none());
}

/// A hook that fails is journaled with its exit status and the first line it wrote to stderr
/// (made inert); the daemon goes on.
#[test]
fn a_failing_hook_is_journaled_with_its_status_and_first_error_line() {
    let home = TestHome::new();
    home.write_config(format!(
        "{TOKEN_DEFINITION}
[[on_change]]
command = [\"sh\", \"-c\", \"printf 'no route to mail\\\\033[31m host\\\\n' >&2; exit 3\"]
"
    ));
    write_token(&home, now_secs() - 60);
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("api", "expired");
    wait_until("the failure to be journaled", || {
        home.journal().iter().any(|e| e["event"] == "hook-failed")
    });
    let entry = home
        .journal()
        .into_iter()
        .find(|e| e["event"] == "hook-failed")
        .unwrap();
    let detail = entry["detail"].as_str().unwrap();
    assert!(detail.contains("exit status: 3"), "{detail}");
    assert!(detail.contains("no route to mail"), "{detail}");
    assert!(
        !detail.contains('\u{1b}'),
        "an escape reached the journal: {detail:?}"
    );
    assert_eq!(entry["name"], "api");
    write_token(&home, now_secs() + 30 * 86_400);
    home.wait_for_state("api", "ok");
}

/// A hook still running when the daemon stops (SIGTERM) is killed with its process group.
#[test]
fn hooks_do_not_outlive_the_daemon() {
    let home = TestHome::new();
    let marker = format!("59.{:03}", std::process::id() % 1000);
    home.write_config(format!(
        "{TOKEN_DEFINITION}
[[on_change]]
command = [\"sh\", \"-c\", \"sleep {marker} & sleep {marker}\"]
timeout = \"60s\"
"
    ));
    write_token(&home, now_secs() - 60);
    let running = |marker: &str| {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
            .filter(|c| c.windows(marker.len()).any(|w| w == marker.as_bytes()))
            .count()
    };
    let daemon = home.start_daemon(&[]);
    wait_until("the hook to start", || running(&marker) >= 2);
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    wait_until("the hook's group to be gone", || running(&marker) == 0);
    drop(daemon);
}

/// Claude Code's refresh race, as 2.1.337 writes the loser's copy (seen in its code: the tokens
/// emptied and `expiresAt` 0, every other field kept in its place, compact JSON, written to a
/// temporary file and renamed), while three sessions run: a desktop notification says so at once
/// — after the 2 s every transition holds before it is told, so a step of a write never alarms —
/// naming the race and the sessions, with the fix; the journal keeps it.
#[test]
fn a_refresh_race_is_notified_at_once_saying_what_happened() {
    let mut home = TestHome::new();
    let bus = home.start_session_bus();
    let server = NotificationServer::start(&bus.address);
    home.write_config("presets = [\"claude\"]\n");
    let deadline = (now_secs() + 20 * 86_400) * 1000;
    let tail = format!(
        r#""refreshTokenExpiresAt":{deadline},"scopes":["user:inference","user:profile","user:sessions:claude_code"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x","clientId":"9d1c250a-e61b-44d9-88ed-5944d1962f5e","accountUuid":"3b0a3a4e-8f4f-4b0e-9d4f-2c1b8f0e7a11","organizationUuid":"5e2c1d7a-0b8f-4e9a-a1c3-7d6f4b2e9c08"}}}}"#
    );
    let working = format!(
        r#"{{"claudeAiOauth":{{"accessToken":"{CANARY}","refreshToken":"r-{CANARY}","expiresAt":{},{tail}"#,
        (now_secs() + 3600) * 1000
    );
    let wiped =
        format!(r#"{{"claudeAiOauth":{{"accessToken":"","refreshToken":"","expiresAt":0,{tail}"#);
    let creds = home.write(".claude/.credentials.json", &working);
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("claude", "ok");
    let mut sessions: Vec<std::process::Child> = (0..3)
        .map(|_| {
            home.program("bash", &["-c", "exec -a claude sleep 120"])
                .spawn()
                .unwrap()
        })
        .collect();
    for session in &sessions {
        let cmdline = format!("/proc/{}/cmdline", session.id());
        wait_until("the session's command line", || {
            std::fs::read(&cmdline).is_ok_and(|c| c.starts_with(b"claude"))
        });
    }
    let before = server.calls().len();
    let written = std::time::Instant::now();
    crate::harness::replace_atomically(&creds, wiped.as_bytes());
    let calls = wait_for_calls(&server, before + 1);
    let took = written.elapsed();
    let told = &calls[before];
    assert!(
        told.summary.contains("Claude Code: logged-out"),
        "{calls:?}"
    );
    assert!(
        told.body.contains("overwritten by a logged-out copy")
            && told
                .body
                .contains("while 3 Claude Code processes were running (a refresh race"),
        "{told:?}"
    );
    assert!(
        told.body
            .contains("fix: claude /login, once, with the other Claude Code sessions closed"),
        "{told:?}"
    );
    assert!(!told.body.contains(CANARY) && !told.summary.contains(CANARY));
    assert!(
        took < Duration::from_secs(6),
        "told {took:?} after the write (2 s of settling, then at once)"
    );
    for session in &mut sessions {
        let _ = session.kill();
        let _ = session.wait();
    }
}
