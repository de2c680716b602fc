//! Keyring stores against a real Secret Service: gnome-keyring-daemon on a private session bus.

use crate::bus::KEYRING_PASSWORD;
use crate::harness::{now_secs, wait_until, TestHome, Times, CANARY, DAY};

const TWO_ITEMS: &str = r#"
[[credential]]
name = "by-tool"
keyring = { service = "cw-tool", account = "me" }
fix = "tool login"

[[credential]]
name = "by-crate"
keyring = { service = "cw-crate", account = "me" }
fix = "crate login"
"#;

/// A home whose keyring holds the `by-tool` item and, like a new login session with the same
/// keyring file, starts locked.
fn locked_keyring_holding_by_tool() -> (TestHome, crate::bus::SessionBus) {
    let mut home = TestHome::new();
    let mut bus = home.start_keyring();
    home.write_config(TWO_ITEMS);
    bus.store_item(&["service", "cw-tool", "username", "me"], CANARY);
    bus.kill_provider();
    bus.start_provider(&home, false);
    (home, bus)
}

/// One keyring item, its `Modified` time polled only hourly: a change shows through a signal.
const ONE_ITEM_POLLED_HOURLY: &str = r#"
keyring_poll = "1h"

[[credential]]
name = "api"
keyring = { service = "cw-api", account = "me" }
"#;

fn state(home: &TestHome, name: &str) -> serde_json::Value {
    home.status(&[name]).credential(name)
}

/// The child process behind [`SessionBus::keyring_crate_write`]: writes one item with the
/// keyring crate, from `CW_TEST_KEYRING_WRITE` ("service\naccount\nsecret"); does nothing when run
/// without it.
#[test]
#[ignore = "helper: run by keyring tests in a child process"]
fn keyring_crate_writer() {
    let Ok(spec) = std::env::var("CW_TEST_KEYRING_WRITE") else {
        return;
    };
    let mut parts = spec.splitn(3, '\n');
    let (service, account, secret) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let store: std::sync::Arc<keyring_core::CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().expect("keyring store");
    keyring_core::Entry::new_in_store(&store, service, account)
        .unwrap()
        .set_password(secret)
        .expect("set_password");
}

#[test]
fn items_written_by_secret_tool_and_by_the_keyring_crate_are_found_then_missing_when_deleted() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write_config(TWO_ITEMS);
    let before = home.run(&["status", "--json", "by-tool", "by-crate"]);
    assert_eq!(before.code, 1, "no items yet: broken");
    let tool = before.credential("by-tool");
    assert_eq!(tool["state"], "missing");
    assert!(
        tool["reason"]
            .as_str()
            .unwrap()
            .contains(r#"no keyring item with service "cw-tool", account "me""#),
        "{tool}"
    );
    assert_eq!(tool["fix"], "tool login");

    bus.store_item(&["service", "cw-tool", "username", "me"], CANARY);
    bus.keyring_crate_write("cw-crate", "me", CANARY);
    let after = home.run(&["status", "--json", "by-tool", "by-crate"]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    for name in ["by-tool", "by-crate"] {
        let credential = after.credential(name);
        assert_eq!(credential["state"], "ok", "{credential}");
        let store = &credential["stores"][0];
        assert_eq!(store["kind"], "keyring");
        assert_eq!(store["present"], true);
        assert_eq!(store["collection"], "login");
        assert_eq!(store["locked"], false);
        assert_eq!(store["persistent"], true);
    }
    assert!(!after.stdout.contains(CANARY));

    bus.clear_item(&["service", "cw-tool", "username", "me"]);
    assert_eq!(state(&home, "by-tool")["state"], "missing");
    assert_eq!(state(&home, "by-crate")["state"], "ok");
}

#[test]
fn no_session_bus_is_named_as_the_ssh_case() {
    let home = TestHome::new();
    home.write_config(TWO_ITEMS);
    let out = home.run(&["status", "by-tool"]);
    assert_eq!(out.code, 3, "undetermined, never broken: {}", out.stdout);
    assert!(out.stdout.contains("unavailable"), "{}", out.stdout);
    assert!(
        out.stdout.contains("no D-Bus session bus") && out.stdout.contains("SSH"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("dbus-run-session"),
        "the fix: {}",
        out.stdout
    );
}

/// On a server with a session bus and no keyring by choice, docker's fix (credsStore
/// "secretservice") was the keyring's own: start or create a keyring. The login can be kept in
/// the file instead: that comes first, the keyring second.
#[test]
fn dockers_fix_on_a_server_without_a_keyring_is_a_keyring() {
    let mut home = TestHome::new();
    let _bus = home.start_session_bus();
    home.write_config("presets = [\"docker\"]\n");
    home.write(
        ".docker/config.json",
        r#"{"auths": {"registry.example:5000": {}}, "credsStore": "secretservice"}"#,
    );
    let docker = state(&home, "docker");
    assert_eq!(docker["state"], "unavailable", "{docker}");
    let fix = docker["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("log in again without the keyring: remove \"credsStore\""),
        "{docker}"
    );
    assert!(
        docker["reason"]
            .as_str()
            .unwrap()
            .contains("no keyring is installed or running here"),
        "{docker}"
    );
}

#[test]
fn a_bus_without_a_secret_service_is_named() {
    let mut home = TestHome::new();
    let _bus = home.start_session_bus();
    home.write_config(TWO_ITEMS);
    let credential = state(&home, "by-tool");
    assert_eq!(credential["state"], "unavailable", "{credential}");
    assert!(
        credential["reason"]
            .as_str()
            .unwrap()
            .contains("no Secret Service"),
        "{credential}"
    );
    assert!(credential["fix"]
        .as_str()
        .unwrap()
        .contains("gnome-keyring-daemon"));
}

#[test]
fn a_keyring_locked_from_the_start_is_unavailable_not_missing() {
    let (home, _bus) = locked_keyring_holding_by_tool();
    let out = home.run(&["status", "--json", "by-tool"]);
    assert_eq!(out.code, 3);
    let credential = out.credential("by-tool");
    assert_eq!(credential["state"], "unavailable");
    let reason = credential["reason"].as_str().unwrap();
    assert!(
        reason.contains(r#"collection "login" is locked"#),
        "{reason}"
    );
    assert_eq!(credential["stores"][0]["locked"], true);
    assert!(
        credential["fix"]
            .as_str()
            .unwrap()
            .contains("credwatch unlock"),
        "{credential}"
    );
}

/// `credwatch unlock` unlocks the keyring in place, from a terminal without a desktop: a wrong
/// password leaves it locked (exit 1, said so), the right one unlocks it (exit 0), and the daemon
/// that saw it locked publishes the login again. The password appears in no output.
#[test]
fn credwatch_unlock_unlocks_the_keyring_in_place_with_the_right_password_only() {
    let (home, _bus) = locked_keyring_holding_by_tool();
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("by-tool", "unavailable");

    let unlock = |password: &str| {
        let mut command = home.command(&["unlock"]);
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !said.contains(password),
            "the password is not echoed: {said}"
        );
        (output.status.code(), said)
    };
    let (code, said) = unlock("not-the-password");
    assert_eq!(code, Some(1), "{said}");
    assert_eq!(state(&home, "by-tool")["state"], "unavailable");

    let (code, said) = unlock(KEYRING_PASSWORD);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("unlocked"), "{said}");
    home.wait_for_state("by-tool", "ok");
    assert_eq!(state(&home, "by-tool")["state"], "ok");
}

/// Regression (#13): on a bus that can start the Secret Service, the daemon's lookups started a
/// locked gnome-keyring-daemon, which raced the user's `gnome-keyring-daemon --replace --unlock`
/// and left the keyring locked. The daemon never starts one: it waits, says so, and reads the
/// login once the user's own keyring daemon runs.
#[test]
fn the_daemon_never_makes_the_bus_start_a_secret_service() {
    let mut home = TestHome::new();
    let mut bus = home.start_activating_session_bus();
    bus.start_provider(&home, true);
    bus.store_item(&["service", "cw-tool", "username", "me"], CANARY);
    bus.kill_provider();
    home.write_config(format!("keyring_poll = \"1s\"\n{TWO_ITEMS}"));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("by-tool", "unknown");
    // Two keyring polls (keyring_poll = 1s) at least: each was a chance to activate one.
    crate::harness::wait_out(std::time::Instant::now(), std::time::Duration::from_secs(2));
    let running = crate::harness::run_command(
        bus.command("busctl", &["--user", "status", "org.freedesktop.secrets"]),
    );
    assert_ne!(
        running.code, 0,
        "nothing owns org.freedesktop.secrets: the daemon did not start one"
    );
    let published = home.published();
    let by_tool = published["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "by-tool")
        .unwrap();
    let reason = by_tool["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not running"), "{by_tool}");

    bus.start_provider(&home, true);
    home.wait_for_state("by-tool", "ok");
}

#[test]
fn the_daemon_follows_items_created_replaced_and_deleted_and_the_lock() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write_config(
        r#"
keyring_poll = "1s"

[[credential]]
name = "api"
keyring = { service = "cw-api", account = "me", expires = "key:password_expiry_utc" }
fix = "api login"
"#,
    );

    let daemon = home.start_daemon(&[]);
    home.wait_for_state("api", "missing");

    let valid = format!("{CANARY}\npassword_expiry_utc={}\n", now_secs() + 30 * DAY);
    bus.keyring_crate_write("cw-api", "me", &valid);
    home.wait_for_state("api", "ok");

    // Item.SetSecret sends no signal: only the poll of `Modified` (1 s resolution) sees it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let expired = format!("{CANARY}\npassword_expiry_utc={}\n", now_secs() - DAY);
    bus.keyring_crate_write("cw-api", "me", &expired);
    home.wait_for_state("api", "expired");
    let modified = home
        .journal()
        .into_iter()
        .any(|line| line["name"] == "api" && line["event"] == "modified");
    assert!(modified, "journal: {:?}", home.journal());

    bus.clear_item(&["service", "cw-api", "username", "me"]);
    home.wait_for_state("api", "missing");
    bus.keyring_crate_write("cw-api", "me", &valid);
    home.wait_for_state("api", "ok");

    bus.lock_login();
    home.wait_for_state("api", "unavailable");
    let published = home.published();
    let reason = published["credentials"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("locked"), "{reason}");
    // Recorded once it has held (the settle time).
    crate::harness::wait_until("the journal to record the lock", || {
        home.journal()
            .iter()
            .any(|e| e["event"] == "state" && e["to"] == "unavailable")
    });
    bus.unlock_login();
    home.wait_for_state("api", "ok");

    let journal = std::fs::read_to_string(home.state_home.join("credwatch/journal.jsonl")).unwrap();
    for event in ["created", "deleted"] {
        assert!(
            journal.contains(&format!("\"event\":\"{event}\"")),
            "{event}: {journal}"
        );
    }
    assert!(
        journal.contains("locked"),
        "the journal says why: {journal}"
    );
    for text in [&journal, &daemon.log(), &home.published().to_string()] {
        assert!(!text.contains(CANARY), "secret leaked: {text}");
    }
}

#[test]
fn the_daemon_resubscribes_when_the_provider_comes_back() {
    let mut home = TestHome::new();
    let mut bus = home.start_keyring();
    home.write_config(ONE_ITEM_POLLED_HOURLY);
    bus.store_item(&["service", "cw-api", "username", "me"], CANARY);
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("api", "ok");
    bus.kill_provider();
    home.wait_for_state("api", "unavailable");
    let reason = home.published()["credentials"][0]["reason"].to_string();
    assert!(reason.contains("no Secret Service"), "{reason}");
    bus.start_provider(&home, true);
    home.wait_for_state("api", "ok");
    // With the poll an hour away, only a signal can tell the daemon about this.
    bus.clear_item(&["service", "cw-api", "username", "me"]);
    home.wait_for_state("api", "missing");
}

/// The user bus restarted (with dbus-user-session, an SSH logout then login; a bus that
/// crashed): the daemon kept asking through the keyring connection it had made on the old bus,
/// the lookup failed ("Broken pipe"), and the login stayed `unknown` while `status --live` said
/// `ok`. Found by a helper session reproducing #25 item 5.
#[test]
fn a_login_in_the_keyring_stayed_unknown_after_the_user_bus_restarted() {
    // dbus-user-session's layout: the bus at $XDG_RUNTIME_DIR/bus, found there by the daemon, or
    // named in DBUS_SESSION_BUS_ADDRESS as pam_systemd sets it (a path, no guid).
    for named in [false, true] {
        let mut home = TestHome::new();
        let bus = home.start_keyring_in_runtime_dir();
        home.write_config(ONE_ITEM_POLLED_HOURLY);
        bus.store_item(&["service", "cw-api", "username", "me"], CANARY);
        let address = format!("unix:path={}", home.runtime_dir.join("bus").display());
        let name_it = |home: &mut TestHome| {
            home.remove_env("DBUS_SESSION_BUS_ADDRESS");
            if named {
                home.set_env("DBUS_SESSION_BUS_ADDRESS", &address);
            }
        };
        name_it(&mut home);
        let _daemon = home.start_daemon(&[]);
        home.wait_for_state("api", "ok");
        // The bus and its keyring go away; a bus comes back at the same place, with the same
        // keyring file (the item is still in it).
        drop(bus);
        home.wait_for_state("api", "unavailable");
        let _bus = home.start_keyring_in_runtime_dir();
        name_it(&mut home);
        assert_eq!(
            home.status(&["--live", "api"]).credential("api")["state"],
            "ok"
        );
        home.wait_for_state("api", "ok");
    }
}

#[test]
fn the_daemon_without_any_bus_waits_quietly_and_connects_when_one_appears() {
    let mut home = TestHome::new();
    home.write_config(TWO_ITEMS);
    let daemon = home.start_daemon(&[]);
    home.wait_for_state("by-tool", "unavailable");
    // Past the first reconnection attempt (its backoff starts at 1 s), which must not log again.
    crate::harness::wait_out(std::time::Instant::now(), std::time::Duration::from_secs(1));
    let log = daemon.log();
    assert_eq!(
        log.matches("no usable session bus").count(),
        1,
        "one line, not one per retry: {log}"
    );
    // A desktop login starts the user bus at $XDG_RUNTIME_DIR/bus: the daemon notices.
    let bus = home.start_keyring_in_runtime_dir();
    bus.store_item(&["service", "cw-tool", "username", "me"], CANARY);
    home.wait_for_state("by-tool", "ok");
    home.wait_for_state("by-crate", "missing");
}

#[test]
fn gh_users_in_hosts_yml_are_looked_up_in_the_keyring() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.install_fixture("gh-keyring", Times::valid_for(1));
    let gh = state(&home, "gh");
    assert_eq!(gh["state"], "missing", "{gh}");
    let reason = gh["reason"].as_str().unwrap();
    assert!(
        reason.contains("lists github.com/octocat") && reason.contains("neither the keyring"),
        "{reason}"
    );
    bus.store_item(&["service", "gh:github.com", "username", "octocat"], CANARY);
    let gh = state(&home, "gh");
    assert_eq!(gh["state"], "ok", "{gh}");
    assert_eq!(gh["stores"][1]["service"], "gh:github.com");
    assert_eq!(gh["stores"][1]["account"], "octocat");

    // A second user added to hosts.yml without a token anywhere, and made the active one.
    home.write(
        ".config/gh/hosts.yml",
        "github.com:\n    users:\n        octocat:\n        hubot:\n    user: hubot\n",
    );
    let gh = state(&home, "gh");
    assert_eq!(gh["state"], "missing");
    assert!(gh["reason"].as_str().unwrap().contains("github.com/hubot"));
}

/// gh keeps several accounts per host (gh ≥ 2.40: `users:` under the host, `user:` the active
/// one; each token in the keyring under service `gh:HOST`, account LOGIN), and `gh auth status`
/// fails when any of them is stale, which users call wrong (cli/cli #9434 added `--active`).
/// credwatch made gh `missing` for an account not in use. Each account is listed (`accounts`
/// in `--json`, a line each in `status`), the active one marked; one not in use that is stale
/// changes neither the state, nor the exit code, nor the prompt. (Written as gh 2.40+ writes
/// them: the gh of this machine's registry, 2.23, predates accounts.)
#[test]
fn an_inactive_gh_account_without_its_token_made_gh_missing() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write_config("presets = [\"gh\"]\n");
    home.write(
        ".config/gh/hosts.yml",
        "github.com:\n    users:\n        octocat:\n        hubot:\n    git_protocol: https\n    user: octocat\n",
    );
    bus.store_item(&["service", "gh:github.com", "username", "octocat"], CANARY);
    // hubot's token is gone from the keyring (a stale account not in use).
    let out = home.run(&["status", "--json", "gh"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let gh = out.credential("gh");
    assert_eq!(gh["state"], "ok", "{gh}");
    let accounts = gh["accounts"].as_array().expect("accounts listed");
    assert_eq!(accounts.len(), 2, "{gh}");
    assert_eq!(accounts[0]["name"], "github.com/octocat");
    assert_eq!(accounts[0]["active"], true);
    assert_eq!(accounts[0]["state"], "ok");
    assert_eq!(accounts[1]["name"], "github.com/hubot");
    assert_eq!(accounts[1]["active"], false);
    assert_eq!(accounts[1]["state"], "missing", "{gh}");
    let table = home.run(&["status", "gh"]).stdout;
    assert!(
        table.contains("* github.com/octocat  ok  (in use)")
            && table.contains("  github.com/hubot  missing  (not in use)"),
        "{table}"
    );
    let prompt = home.run(&["prompt"]);
    assert!(!prompt.stdout.contains("gh"), "no flag: {}", prompt.stdout);
    // The active account is what counts: octocat's token gone, gh is missing.
    bus.clear_item(&["service", "gh:github.com", "username", "octocat"]);
    let out = home.run(&["status", "--json", "gh"]);
    assert_ne!(out.code, 0);
    assert_eq!(out.credential("gh")["state"], "missing");
    assert!(!out.stdout.contains(CANARY));
}

#[test]
fn gh_plain_text_token_while_a_keyring_works_is_flagged() {
    let mut home = TestHome::new();
    let _bus = home.start_keyring();
    home.install_fixture("gh", Times::valid_for(1));
    let out = home.run(&["status", "--json", "gh"]);
    assert_eq!(out.code, 0, "still usable");
    let gh = out.credential("gh");
    assert_eq!(gh["state"], "insecure", "{gh}");
    assert!(gh["reason"].as_str().unwrap().contains("plain text"));
    assert!(gh["fix"].as_str().unwrap().contains("gh auth login"));
}

#[test]
fn docker_secretservice_helper_items_per_registry() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write(
        ".docker/config.json",
        r#"{"auths": {"registry.example": {}}, "credsStore": "secretservice"}"#,
    );
    let docker = state(&home, "docker");
    assert_eq!(docker["state"], "missing", "{docker}");
    bus.store_item(
        &[
            "label",
            "Docker Credentials",
            "server",
            "registry.example",
            "username",
            "me",
            "docker_cli",
            "1",
        ],
        CANARY,
    );
    let docker = state(&home, "docker");
    assert_eq!(docker["state"], "ok", "{docker}");
    assert_eq!(
        docker["stores"][1]["attributes"]["server"],
        "registry.example"
    );
}

#[test]
fn git_libsecret_reads_the_deadline_inside_the_secret() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write(".gitconfig", "[user]\n\tname = me\n");
    let listed = home.run(&["status", "--json"]).json();
    assert!(
        !listed.to_string().contains("git-libsecret"),
        "not detected without the helper: {listed}"
    );
    home.write(
        ".gitconfig",
        "[credential]\n\thelper = /usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret\n",
    );
    let git = state(&home, "git-libsecret");
    assert_eq!(git["state"], "missing", "{git}");
    let attributes = [
        "xdg:schema",
        "org.git.Password",
        "server",
        "git.example",
        "protocol",
        "https",
        "user",
        "me",
    ];
    let expired = format!("{CANARY}\npassword_expiry_utc={}\n", now_secs() - 3600);
    bus.store_item(&attributes, &expired);
    let out = home.run(&["status", "--json"]);
    let git = out.credential("git-libsecret");
    assert_eq!(git["state"], "expired", "{git}");
    assert!(git["expires_at"].is_string());
    assert!(!out.stdout.contains(CANARY));
    bus.store_item(&attributes, "a password without a deadline");
    assert_eq!(state(&home, "git-libsecret")["state"], "ok");
}

#[test]
fn keyring_secrets_appear_in_no_output_or_log() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.set_env("CREDWATCH_LOG", "trace");
    home.write_config(
        r#"
[[credential]]
name = "jwt"
keyring = { service = "cw-jwt", account = "me", expires = "jwt" }
"#,
    );
    // Not a JWT: the error path must not quote it either.
    bus.store_item(&["service", "cw-jwt", "username", "me"], CANARY);
    let out = home.run(&["status", "--json", "jwt"]);
    let jwt = out.credential("jwt");
    assert_eq!(jwt["state"], "unknown", "{jwt}");
    assert!(jwt["reason"].as_str().unwrap().contains("not a JWT"));
    let daemon = home.start_daemon(&[]);
    wait_until("the daemon looks at the keyring", || {
        home.published_state("jwt").as_deref() == Some("unknown")
            && home.published().to_string().contains("not a JWT")
    });
    let everything = format!(
        "{}{}{}{}",
        out.stdout,
        out.stderr,
        daemon.log(),
        home.published()
    );
    assert!(!everything.contains(CANARY), "{everything}");
}

#[test]
fn an_item_in_the_session_collection_did_not_persist() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write_config(TWO_ITEMS);
    let stored = bus.secret_tool(
        &[
            "store",
            "--label=test item",
            "--collection=session",
            "service",
            "cw-tool",
            "username",
            "me",
        ],
        Some(CANARY),
    );
    assert_eq!(stored, 0);
    let out = home.run(&["status", "--json", "by-tool"]);
    assert_eq!(out.code, 1, "broken: lost at logout");
    let credential = out.credential("by-tool");
    assert_eq!(credential["state"], "unpersisted", "{credential}");
    assert!(credential["reason"]
        .as_str()
        .unwrap()
        .contains(r#""session" collection, which lives in memory"#));
    assert_eq!(credential["stores"][0]["collection"], "session");
    assert_eq!(credential["stores"][0]["persistent"], false);
}

#[test]
fn a_hung_keyring_is_unknown_never_missing() {
    let mut home = TestHome::new();
    let bus = home.start_keyring();
    home.write_config(TWO_ITEMS);
    bus.store_item(&["service", "cw-tool", "username", "me"], CANARY);
    bus.freeze_provider(true);
    let started = std::time::Instant::now();
    let out = home.run(&["status", "--json", "by-tool"]);
    let took = started.elapsed();
    bus.freeze_provider(false);
    assert_eq!(out.code, 3, "undetermined");
    let credential = out.credential("by-tool");
    assert_eq!(credential["state"], "unknown", "{credential}");
    assert!(credential["reason"]
        .as_str()
        .unwrap()
        .contains("did not answer within 2 s"));
    assert!(took.as_secs() < 10, "bounded by the call timeout: {took:?}");
    assert_eq!(
        state(&home, "by-tool")["state"],
        "ok",
        "back once it answers"
    );
}
