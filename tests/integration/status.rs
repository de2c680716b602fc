//! `credwatch status`: the table people read, the JSON scripts read, and the exit codes.

use crate::harness::{TestHome, Times};

#[test]
fn exit_codes_follow_the_contract() {
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    assert_eq!(home.run(&["status"]).code, 0, "all usable");
    home.install_fixture("gh-keyring", Times::valid_for(1));
    assert_eq!(
        home.run(&["status"]).code,
        3,
        "one undetermined, none broken"
    );
    home.install_fixture("claude", Times::expired_since(1));
    assert_eq!(home.run(&["status"]).code, 1, "one broken");
    assert_eq!(
        home.run(&["status", "vault"]).code,
        0,
        "only the named one counts"
    );
    let usage = home.run(&["status", "--jsn"]);
    assert_eq!(usage.code, 2, "usage error");
    let unknown = home.run(&["status", "nosuch"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no credential named \"nosuch\""),
        "{}",
        unknown.stderr
    );
    // The names in play, sorted: taken from the code (a new preset moves them).
    let mut names = crate::harness::all_presets();
    names.sort_unstable();
    let expected = format!("fix: use one of: {}", names[..8].join(", "));
    assert!(unknown.stderr.contains(&expected), "{}", unknown.stderr);
}

#[test]
fn bare_credwatch_runs_status() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    let bare = home.run(&[]);
    assert_eq!(bare.code, 1);
    assert_eq!(bare.stdout, home.run(&["status"]).stdout);
}

#[test]
fn table_aligns_rows_and_puts_the_fix_under_the_reason() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    home.install_fixture("vault", Times::valid_for(1));
    let outcome = home.run(&["status"]);
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", outcome.stdout);
    assert!(
        lines[0].starts_with("claude  expired  login expired 24 h ago"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "                 fix: claude /login");
    assert!(
        lines[2].starts_with("vault   ok       logged in"),
        "{}",
        lines[2]
    );
    assert!(
        !outcome.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn json_has_every_contract_field() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::valid_for(2));
    let doc = home.status(&[]).json();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["source"], "direct");
    assert_eq!(doc["daemon"]["running"], false);
    assert!(doc["generated_at"].as_str().unwrap().ends_with('Z'));
    let claude = &doc["credentials"][0];
    for field in [
        "name",
        "tool",
        "state",
        "usable",
        "reason",
        "fix",
        "expires_at",
        "checked_at",
        "changed_at",
        "stores",
        "shadowed_by",
        "probe",
    ] {
        assert!(claude.get(field).is_some(), "missing {field}: {claude:#}");
    }
    let store = &claude["stores"][0];
    assert_eq!(store["kind"], "file");
    assert_eq!(store["present"], true);
    assert_eq!(store["mode"], "0600");
    assert_eq!(store["owner_ok"], true);
    assert_eq!(store["persistent"], true);
    assert!(store["fs"].is_string());
}

#[test]
fn open_permissions_make_a_login_insecure_with_the_chmod_fix() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    let token = home.path(".vault-token");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let outcome = home.status(&["vault"]);
    let vault = outcome.credential("vault");
    assert_eq!(vault["state"], "insecure");
    assert_eq!(vault["usable"], true);
    assert_eq!(vault["fix"], "chmod 600 ~/.vault-token");
    assert_eq!(vault["stores"][0]["mode"], "0644");
    assert_eq!(outcome.code, 0, "insecure is still usable");
}

/// `sudo tool login` leaves a root-owned file in the user's home: flagged, with the chown fix.
/// (Run as `nobody` against a root-owned file; root itself is never warned about users' files.)
#[test]
fn foreign_owner_makes_a_login_insecure() {
    use std::os::unix::fs::PermissionsExt;
    if !crate::harness::require_root("own the file as root and switch to another user") {
        return;
    }
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    let token = home.path(".vault-token");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let as_nobody =
        crate::harness::run_command(home.command_as(Some(65534), &["status", "--json", "vault"]));
    let vault = as_nobody.credential("vault");
    assert_eq!(vault["state"], "insecure", "{vault}");
    assert!(vault["reason"]
        .as_str()
        .unwrap()
        .contains("owned by uid 0, not by you (uid 65534)"));
    assert_eq!(
        vault["fix"],
        "chown 65534 ~/.vault-token && chmod 600 ~/.vault-token"
    );
    assert_eq!(vault["stores"][0]["owner_ok"], false);
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    nix::unistd::chown(&token, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    assert_eq!(
        home.status(&["vault"]).credential("vault")["state"],
        "ok",
        "root is not warned"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::valid_for(30));
    let mut command = home.command(&["status", "--json"]);
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0));
}

/// Colour on a terminal, none with NO_COLOR (no-color.org): driven through a real pseudo-terminal.
#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    if !crate::harness::require("script", "a pseudo-terminal for the command (bsdutils)") {
        return;
    }
    let mut home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    let binary = env!("CARGO_BIN_EXE_credwatch");
    // `script` gives the command a pseudo-terminal as its stdout.
    let on_tty = |home: &TestHome| {
        let inner = format!("{binary} status claude");
        let output = home
            .program("script", &["-qec", &inner, "/dev/null"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_tty(&home);
    assert!(coloured.contains("\x1b[1;31mexpired"), "{coloured:?}");
    home.set_env("NO_COLOR", "1");
    let plain = on_tty(&home);
    assert!(
        plain.contains("expired") && !plain.contains('\x1b'),
        "{plain:?}"
    );
}

/// Regression: `credwatch prompt` ignored CREDWATCH_DISABLE=1, so a starship module built on it
/// kept the flag while the hooks had turned it off.
#[test]
fn prompt_prints_the_flag_and_nothing_when_disabled() {
    let mut home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    let shown = home.run(&["prompt"]);
    assert_eq!(shown.stdout, "⚠ claude\n", "{}", shown.stderr);
    home.set_env("CREDWATCH_DISABLE", "1");
    let disabled = home.run(&["prompt"]);
    assert_eq!(disabled.code, 0);
    assert_eq!(disabled.stdout, "", "{}", disabled.stderr);
}
