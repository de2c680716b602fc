//! Each preset against fixtures in its tool's documented format: what a user of that tool sees.

use crate::harness::{now_secs, TestHome, Times, CANARY, DAY};
use serde_json::Value;

fn state_of(home: &TestHome, name: &str) -> Value {
    home.status(&[name]).credential(name)
}

/// Every preset, with a fresh login, is usable; and `presets = "auto"` finds each one.
#[test]
fn every_preset_with_a_fresh_login_is_ok_and_auto_detected() {
    let mut home = TestHome::new();
    let presets = crate::harness::all_presets();
    let _logins = home.install_every_login(Times::valid_for(30));
    let outcome = home.run(&["status", "--json"]);
    let doc = outcome.json();
    let found: Vec<&str> = doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(found, presets, "auto mode finds every tool with a login");
    for credential in doc["credentials"].as_array().unwrap() {
        assert_eq!(credential["state"], "ok", "{credential:#}");
        assert_eq!(credential["usable"], true);
    }
    assert_eq!(outcome.code, 0);
}

#[test]
fn nothing_installed_means_nothing_watched() {
    let home = TestHome::new();
    let outcome = home.run(&["status"]);
    assert_eq!(outcome.code, 0);
    assert!(
        outcome.stdout.starts_with("No credentials to watch"),
        "{}",
        outcome.stdout
    );
    assert_eq!(
        home.status(&[]).json()["credentials"],
        serde_json::json!([])
    );
}

/// Claude's access token lasts hours and renews itself: an expired `expiresAt` is not a broken
/// login while a refresh token is there. The login deadline is `refreshTokenExpiresAt`.
#[test]
fn claude_expired_access_token_with_refresh_token_is_ok() {
    let home = TestHome::new();
    let times = Times::valid_for(20);
    home.install_fixture("claude", times);
    let claude = state_of(&home, "claude");
    assert_eq!(claude["state"], "ok");
    assert!(claude["reason"]
        .as_str()
        .unwrap()
        .contains("the access token expired 60 min ago and Claude Code renews it by itself"));
    let deadline = times.expires;
    assert_eq!(
        claude["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(deadline).rfc3339()
    );
    assert!(claude["access_expires_at"].is_string());
}

#[test]
fn claude_login_deadline_within_three_days_is_expiring() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::valid_for(2));
    let claude = state_of(&home, "claude");
    assert_eq!(claude["state"], "expiring");
    assert_eq!(claude["usable"], true);
    assert!(claude["reason"]
        .as_str()
        .unwrap()
        .starts_with("login expires in 2 days"));
    assert_eq!(claude["fix"], "claude /login");
}

#[test]
fn claude_login_past_its_deadline_is_expired_with_the_fix() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(2));
    let outcome = home.run(&["status", "claude"]);
    assert_eq!(outcome.code, 1);
    assert!(outcome.stdout.contains("expired"), "{}", outcome.stdout);
    assert!(
        outcome.stdout.contains("login expired 2 days ago"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("fix: claude /login"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn claude_without_refresh_token_expires_with_its_access_token() {
    let home = TestHome::new();
    let past = (now_secs() - 600) * 1000;
    home.write(
        ".claude/.credentials.json",
        format!(r#"{{"claudeAiOauth":{{"accessToken":"t","expiresAt":{past}}}}}"#),
    );
    let claude = state_of(&home, "claude");
    assert_eq!(claude["state"], "expired");
    assert!(
        claude["reason"].as_str().unwrap().contains("10 min ago"),
        "{claude}"
    );
}

/// The refresh race (#56339) and logout leave the file with empty tokens: logged out, not corrupt.
#[test]
fn claude_blanked_file_is_logged_out() {
    let home = TestHome::new();
    home.write(
        ".claude/.credentials.json",
        r#"{"claudeAiOauth":{"accessToken":"","refreshToken":"","expiresAt":0,"scopes":[]}}"#,
    );
    let claude = state_of(&home, "claude");
    assert_eq!(claude["state"], "logged-out");
    assert!(
        claude["reason"]
            .as_str()
            .unwrap()
            .starts_with("logged out:"),
        "{claude}"
    );
    assert_eq!(claude["fix"], "claude /login");
}

/// The seed case: the welcome screen shows the account (`~/.claude.json` has `oauthAccount`),
/// but `~/.claude/` holds no credentials file.
#[test]
fn claude_account_marker_without_credentials_is_unpersisted() {
    let home = TestHome::new();
    home.install_fixture("claude", Times::valid_for(20));
    std::fs::remove_file(home.path(".claude/.credentials.json")).unwrap();
    let outcome = home.run(&["status", "--json"]);
    let claude = outcome.credential("claude");
    assert_eq!(
        claude["state"], "unpersisted",
        "auto mode finds it through the marker"
    );
    let reason = claude["reason"].as_str().unwrap();
    assert!(
        reason.contains("~/.claude.json names a logged-in account"),
        "{reason}"
    );
    assert!(
        reason.contains("no credential is stored at ~/.claude/.credentials.json"),
        "{reason}"
    );
    assert_eq!(outcome.code, 1);
}

#[test]
fn claude_config_dir_is_honoured() {
    let mut home = TestHome::new();
    home.install_fixture("claude", Times::expired_since(1));
    let elsewhere = home.path("work-claude");
    std::fs::create_dir_all(&elsewhere).unwrap();
    home.set_env("CLAUDE_CONFIG_DIR", &elsewhere);
    let good = TestHome::new();
    good.install_fixture("claude", Times::valid_for(20));
    std::fs::copy(
        good.path(".claude/.credentials.json"),
        elsewhere.join(".credentials.json"),
    )
    .unwrap();
    let claude = state_of(&home, "claude");
    assert_eq!(
        claude["state"], "ok",
        "reads $CLAUDE_CONFIG_DIR, not the expired ~/.claude"
    );
    assert_eq!(
        claude["stores"][0]["path"],
        elsewhere.join(".credentials.json").to_str().unwrap()
    );
}

/// Claude Code 2.1 keeps its credentials where CLAUDE_SECURESTORAGE_CONFIG_DIR says, before
/// CLAUDE_CONFIG_DIR (its second override, seen in the client's code): credwatch read the
/// expired file in CLAUDE_CONFIG_DIR and said expired while the client used a valid login.
#[test]
fn claude_securestorage_config_dir_was_not_read() {
    let mut home = TestHome::new();
    let config_dir = home.path("claude-config");
    let secure = home.path("claude-secure");
    for (dir, times) in [
        (&config_dir, Times::expired_since(1)),
        (&secure, Times::valid_for(20)),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        let fixture = TestHome::new();
        fixture.install_fixture("claude", times);
        std::fs::copy(
            fixture.path(".claude/.credentials.json"),
            dir.join(".credentials.json"),
        )
        .unwrap();
    }
    home.set_env("CLAUDE_CONFIG_DIR", &config_dir);
    assert_eq!(state_of(&home, "claude")["state"], "expired");
    home.set_env("CLAUDE_SECURESTORAGE_CONFIG_DIR", &secure);
    let claude = state_of(&home, "claude");
    assert_eq!(claude["state"], "ok", "{claude}");
    assert_eq!(
        claude["stores"][0]["path"],
        secure.join(".credentials.json").to_str().unwrap()
    );
    assert!(
        claude["environment"]
            .as_object()
            .unwrap()
            .contains_key("CLAUDE_SECURESTORAGE_CONFIG_DIR"),
        "a shell's own value is handed to the daemon: {claude}"
    );
}

/// A login written to memory-backed storage (tmpfs) is gone at the next reboot.
#[test]
fn credentials_on_tmpfs_are_unpersisted() {
    let shm = std::path::Path::new("/dev/shm");
    if nix::sys::statfs::statfs(shm).map(|s| s.filesystem_type())
        != Ok(nix::sys::statfs::TMPFS_MAGIC)
    {
        crate::harness::skip("/dev/shm is not a tmpfs on this machine");
        return;
    }
    let dir = tempfile::tempdir_in(shm).unwrap();
    let mut home = TestHome::new();
    home.set_env("CLAUDE_CONFIG_DIR", dir.path());
    let fixture = TestHome::new();
    fixture.install_fixture("claude", Times::valid_for(20));
    std::fs::copy(
        fixture.path(".claude/.credentials.json"),
        dir.path().join(".credentials.json"),
    )
    .unwrap();
    let claude = state_of(&home, "claude");
    assert_eq!(claude["state"], "unpersisted");
    assert!(
        claude["reason"].as_str().unwrap().contains("is on tmpfs"),
        "{claude}"
    );
    assert_eq!(claude["stores"][0]["persistent"], false);
    assert_eq!(claude["stores"][0]["fs"], "tmpfs");
}

#[test]
fn env_var_shadowing_is_named_but_never_valued() {
    let mut home = TestHome::new();
    home.install_fixture("claude", Times::valid_for(20));
    home.set_env("ANTHROPIC_API_KEY", "sk-ant-api03-shadow-value");
    home.set_env("GH_TOKEN", "");
    let outcome = home.status(&["claude", "gh"]);
    let claude = outcome.credential("claude");
    assert_eq!(
        claude["shadowed_by"],
        serde_json::json!(["ANTHROPIC_API_KEY"])
    );
    assert!(claude["reason"].as_str().unwrap().contains(
        "ANTHROPIC_API_KEY is set in this shell: Claude Code uses it, not the stored login (which is ok"
    ));
    assert_eq!(claude["state"], "unknown", "the variable decides: {claude}");
    assert_eq!(
        outcome.credential("gh")["shadowed_by"],
        serde_json::json!([]),
        "empty is unset"
    );
    let text = home.run(&["status", "claude"]);
    assert!(text.stdout.contains("ANTHROPIC_API_KEY"));
    for output in [&outcome.stdout, &text.stdout, &text.stderr] {
        assert!(!output.contains("shadow-value"));
    }
}

#[test]
fn gh_plaintext_token_is_ok_and_keyring_backed_without_a_bus_is_unavailable() {
    let home = TestHome::new();
    home.install_fixture("gh", Times::valid_for(1));
    assert_eq!(state_of(&home, "gh")["state"], "ok");

    let keyring = TestHome::new();
    keyring.install_fixture("gh-keyring", Times::valid_for(1));
    let gh = state_of(&keyring, "gh");
    assert_eq!(
        gh["state"], "unavailable",
        "keyring out of reach: undetermined, never logged out"
    );
    assert!(gh["reason"]
        .as_str()
        .unwrap()
        .contains("no D-Bus session bus"));
    assert_eq!(gh["stores"][1]["kind"], "keyring");
    assert_eq!(gh["stores"][1]["service"], "gh:github.com");
    assert_eq!(gh["stores"][1]["present"], serde_json::Value::Null);
    assert_eq!(keyring.status(&["gh"]).code, 3);
}

#[test]
fn gh_after_logout_of_every_host_is_logged_out() {
    let home = TestHome::new();
    home.write(".config/gh/hosts.yml", "{}\n");
    assert_eq!(state_of(&home, "gh")["state"], "logged-out");
}

/// AWS keeps client registrations beside session tokens in the SSO cache: the token file is the
/// one that matters, even when the registration was written later.
#[test]
fn aws_sso_picks_the_session_file_over_newer_registrations() {
    let home = TestHome::new();
    home.install_fixture("aws-sso", Times::expired_since(1));
    let registration = home.path(".aws/sso/cache/botocore-client-id-eu-west-1.json");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&registration)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let sso = state_of(&home, "aws-sso");
    assert_eq!(
        sso["state"], "expired",
        "legacy SSO token without refresh: {sso}"
    );
    assert_eq!(sso["fix"], "aws sso login");
    assert!(sso["stores"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("0b8a4d7c3e1f2a9b8c7d6e5f4a3b2c1d0e9f8a7b.json"));
}

#[test]
fn aws_sso_with_refresh_token_outlives_its_access_token_until_the_registration_ends() {
    let home = TestHome::new();
    let expired = credwatch::support::timefmt::Timestamp::from_secs(now_secs() - 3600).rfc3339();
    let registration =
        credwatch::support::timefmt::Timestamp::from_secs(now_secs() + 60 * DAY).rfc3339();
    home.write(
        ".aws/sso/cache/abc.json",
        format!(r#"{{"accessToken":"a","expiresAt":"{expired}","refreshToken":"r","registrationExpiresAt":"{registration}"}}"#),
    );
    let sso = state_of(&home, "aws-sso");
    assert_eq!(sso["state"], "ok", "{sso}");
    let reason = sso["reason"].as_str().unwrap();
    assert!(
        reason.contains("the access token expired 60 min ago"),
        "{reason}"
    );
    assert_eq!(
        sso["expires_at"], registration,
        "botocore renews the token only while the client registration lasts"
    );
}

/// Regression (#13): a cached SSO token whose client registration has expired cannot be
/// refreshed (botocore: "Token has expired and refresh failed"); credwatch said "renews it by
/// itself". Written byte for byte as botocore 1.43 (awscli 1.45) writes the cache file.
#[test]
fn aws_sso_with_an_expired_registration_lives_only_as_long_as_its_access_token() {
    let sso_file = |access: i64| {
        let iso = |secs: i64| credwatch::support::timefmt::Timestamp::from_secs(secs).rfc3339();
        format!(
            r#"{{"startUrl": "https://example.awsapps.com/start", "region": "us-east-1", "accessToken": "{CANARY}", "expiresAt": "{}", "clientId": "id", "clientSecret": "{CANARY}", "registrationExpiresAt": "{}", "refreshToken": "{CANARY}"}}"#,
            iso(now_secs() + access),
            iso(now_secs() - 3600)
        )
    };
    let home = TestHome::new();
    home.write(".aws/sso/cache/0123456789abcdef.json", sso_file(-60));
    let dead = state_of(&home, "aws-sso");
    assert_eq!(dead["state"], "expired", "{dead}");
    let reason = dead["reason"].as_str().unwrap();
    assert!(
        reason.contains("can no longer renew its access token"),
        "{reason}"
    );
    let home = TestHome::new();
    home.write(".aws/sso/cache/0123456789abcdef.json", sso_file(30 * 60));
    let last = state_of(&home, "aws-sso");
    assert_eq!(
        last["state"], "expiring",
        "the last access token, 30 min left (window 1 h): {last}"
    );
}

/// After `aws sso logout` only client registrations remain: no login, not a damaged one.
#[test]
fn aws_sso_after_logout_is_not_invalid() {
    let home = TestHome::new();
    home.install_fixture("aws-sso", Times::valid_for(1));
    std::fs::remove_file(home.path(".aws/sso/cache/0b8a4d7c3e1f2a9b8c7d6e5f4a3b2c1d0e9f8a7b.json"))
        .unwrap();
    assert_eq!(
        home.status(&[]).json()["credentials"],
        serde_json::json!([])
    );
    let sso = state_of(&home, "aws-sso");
    assert_eq!(sso["state"], "missing", "{sso}");
}

/// A fresh 8-hour SSO token is not "expiring" the moment it is issued.
#[test]
fn short_lived_sso_token_warns_only_in_its_last_hour() {
    let home = TestHome::new();
    let at = |secs: i64| credwatch::support::timefmt::Timestamp::from_secs(secs).rfc3339();
    home.write(
        ".aws/sso/cache/a.json",
        format!(
            r#"{{"accessToken":"a","expiresAt":"{}"}}"#,
            at(now_secs() + 8 * 3600)
        ),
    );
    assert_eq!(state_of(&home, "aws-sso")["state"], "ok");
    home.write(
        ".aws/sso/cache/a.json",
        format!(
            r#"{{"accessToken":"a","expiresAt":"{}"}}"#,
            at(now_secs() + 1800)
        ),
    );
    assert_eq!(state_of(&home, "aws-sso")["state"], "expiring");
}

/// API-key users may have a credentials file with only MCP tokens: not a broken Claude login.
#[test]
fn claude_file_with_only_mcp_tokens_is_not_watched() {
    let mut home = TestHome::new();
    home.write(
        ".claude/.credentials.json",
        r#"{"mcpOAuth": {"server": {"accessToken": "x"}}}"#,
    );
    home.set_env("ANTHROPIC_API_KEY", "sk-ant-api03-x");
    assert_eq!(
        home.status(&[]).json()["credentials"],
        serde_json::json!([])
    );
}

#[test]
fn falsy_switches_do_not_shadow() {
    let mut home = TestHome::new();
    home.install_fixture("claude", Times::valid_for(20));
    home.set_env("CLAUDE_CODE_USE_BEDROCK", "0");
    assert_eq!(
        state_of(&home, "claude")["shadowed_by"],
        serde_json::json!([])
    );
    home.set_env("CLAUDE_CODE_USE_BEDROCK", "1");
    assert_eq!(
        state_of(&home, "claude")["shadowed_by"],
        serde_json::json!(["CLAUDE_CODE_USE_BEDROCK"])
    );
}

/// The CLI writes `Expiration` with a `UTC` suffix; cached role credentials renew themselves.
#[test]
fn aws_cli_cache_reads_utc_suffix_and_is_not_a_deadline() {
    let home = TestHome::new();
    let times = Times::expired_since(1);
    home.install_fixture("aws-cli-cache", times);
    let cache = state_of(&home, "aws-cli-cache");
    assert_eq!(cache["state"], "ok", "{cache}");
    assert_eq!(
        cache["access_expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(times.expires).rfc3339()
    );
}

#[test]
fn azure_logout_empties_the_cache() {
    let home = TestHome::new();
    home.install_fixture("azure", Times::expired_since(1));
    assert_eq!(
        state_of(&home, "azure")["state"],
        "ok",
        "refresh token renews access"
    );
    home.write(
        ".azure/msal_token_cache.json",
        r#"{"AccessToken": {}, "RefreshToken": {}, "IdToken": {}, "Account": {}, "AppMetadata": {}}"#,
    );
    assert_eq!(state_of(&home, "azure")["state"], "logged-out");
}

#[test]
fn kube_oidc_id_token_expiry_comes_from_the_jwt() {
    let home = TestHome::new();
    home.install_fixture("kube", Times::expired_since(1));
    let kube = state_of(&home, "kube");
    assert_eq!(kube["state"], "expired", "{kube}");
    let times = Times::valid_for(1);
    home.install_fixture("kube", times);
    assert_eq!(
        state_of(&home, "kube")["state"],
        "ok",
        "an id-token warns only in its last 10 min"
    );
    let config = std::fs::read_to_string(home.path(".kube/config")).unwrap();
    let current = crate::harness::jwt_with_exp(times.expires);
    let soon = crate::harness::jwt_with_exp(now_secs() + 300);
    home.write(".kube/config", config.replace(&current, &soon));
    assert_eq!(state_of(&home, "kube")["state"], "expiring");
}

#[test]
fn kube_config_list_in_kubeconfig_skips_an_absent_file() {
    let mut home = TestHome::new();
    home.install_fixture("kube", Times::valid_for(30));
    let list = format!(
        "{}:{}",
        home.path("absent-config").display(),
        home.path(".kube/config").display()
    );
    home.set_env("KUBECONFIG", list);
    let kube = state_of(&home, "kube");
    assert_eq!(kube["state"], "ok");
    // The files of the list are read as one (merged, as kubectl does), shown at the first that
    // exists.
    assert_eq!(kube["stores"][0]["present"], true);
    assert_eq!(
        kube["stores"][0]["path"],
        home.path(".kube/config").to_str().unwrap()
    );
}

/// A `~/.docker/config.json` or `~/.npmrc` without a login is common: not a broken login.
#[test]
fn docker_and_npm_without_a_login_are_not_watched_unless_named() {
    let home = TestHome::new();
    home.write(".docker/config.json", r#"{"auths": {}}"#);
    home.write(".npmrc", "registry=https://registry.npmjs.org/\n");
    assert_eq!(
        home.status(&[]).json()["credentials"],
        serde_json::json!([])
    );
    // docker's own helper (docker-credential-secretservice on PATH, no credsStore) needs a
    // session bus, and there is none here: docker login cannot save a login (#25;
    // tests/integration/docker.rs).
    assert_eq!(state_of(&home, "docker")["state"], "unavailable");
    assert_eq!(state_of(&home, "npm")["state"], "logged-out");
}

#[test]
fn git_store_emptied_by_a_rejected_credential_is_logged_out() {
    let home = TestHome::new();
    home.install_fixture("git", Times::valid_for(1));
    assert_eq!(state_of(&home, "git")["state"], "ok");
    home.write(".git-credentials", "");
    assert_eq!(state_of(&home, "git")["state"], "logged-out");
}

#[test]
fn vault_token_is_ok_and_vault_token_env_shadows_it() {
    let mut home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    assert_eq!(state_of(&home, "vault")["state"], "ok");
    home.set_env("VAULT_TOKEN", "hvs.other");
    let vault = state_of(&home, "vault");
    assert_eq!(vault["state"], "unknown", "VAULT_TOKEN decides: {vault}");
    assert_eq!(vault["fix"], "unset VAULT_TOKEN to use the stored login (and remove it from your shell's startup files), or, to keep it on purpose: credwatch forget vault");
    assert_eq!(vault["shadowed_by"], serde_json::json!(["VAULT_TOKEN"]));
}

#[test]
fn a_named_preset_that_is_absent_is_missing() {
    let home = TestHome::new();
    let outcome = home.status(&["vault"]);
    let vault = outcome.credential("vault");
    assert_eq!(vault["state"], "missing");
    assert_eq!(vault["reason"], "no credential at ~/.vault-token");
    assert_eq!(vault["fix"], "vault login");
    assert_eq!(outcome.code, 1);
}

/// Regression (#14): the SSO cache glob looked at its 32 newest files only, so a valid token
/// beside 40 newer client registrations (botocore writes one per client) was "missing".
#[test]
fn aws_sso_token_behind_many_newer_client_registrations_is_found() {
    let home = TestHome::new();
    let expires =
        credwatch::support::timefmt::Timestamp::from_secs(now_secs() + 3 * 3600).rfc3339();
    home.write(
        ".aws/sso/cache/0-token.json",
        format!(r#"{{"accessToken":"a","expiresAt":"{expires}","startUrl":"https://x.awsapps.com/start","region":"us-east-1"}}"#),
    );
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(home.path(".aws/sso/cache/0-token.json"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    for i in 0..40 {
        home.write(
            &format!(".aws/sso/cache/botocore-client-id-{i}.json"),
            r#"{"clientId":"c","clientSecret":"s","expiresAt":"2099-01-01T00:00:00Z"}"#,
        );
    }
    let sso = state_of(&home, "aws-sso");
    assert_eq!(sso["state"], "ok", "{sso}");
}

/// Codex's ChatGPT login: an expired access token is renewed by codex itself while the refresh
/// token is there (ok); without one, the access token's `exp` is the deadline.
#[test]
fn codex_access_token_renews_and_without_a_refresh_token_its_exp_is_the_deadline() {
    let home = TestHome::new();
    home.install_fixture("codex", Times::expired_since(1));
    let codex = state_of(&home, "codex");
    assert_eq!(codex["state"], "ok", "{codex}");
    assert_eq!(codex["expires_at"], Value::Null, "{codex}");
    let exp = now_secs() + 3600;
    home.write(
        ".codex/auth.json",
        format!(
            r#"{{"auth_mode": "chatgpt", "tokens": {{"access_token": "{}"}}}}"#,
            crate::harness::jwt_with_exp(exp)
        ),
    );
    let codex = state_of(&home, "codex");
    assert_eq!(codex["state"], "expiring", "{codex}");
    assert_eq!(
        codex["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(exp).rfc3339()
    );
}

/// An OpenSSH certificate's `valid_before` is its deadline: a day away is expiring, past is
/// expired, and 0644 (how ssh-keygen writes it) is fine.
#[test]
fn ssh_certificate_valid_before_is_the_deadline() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    let times = Times::valid_for(1);
    home.install_fixture("ssh-cert", times);
    let cert = home.path(".ssh/id_ed25519-cert.pub");
    std::fs::set_permissions(&cert, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ssh = state_of(&home, "ssh-cert");
    assert_eq!(ssh["state"], "expiring", "{ssh}");
    assert_eq!(
        ssh["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(times.expires).rfc3339()
    );
    home.install_fixture("ssh-cert", Times::expired_since(1));
    std::fs::set_permissions(&cert, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(state_of(&home, "ssh-cert")["state"], "expired");
}

/// Gemini CLI: the 1-hour access token (`expiry_date`, ms, possibly a float) renews itself with
/// the refresh token; without one, it is the deadline.
#[test]
fn gemini_access_token_renews_and_without_a_refresh_token_its_expiry_is_the_deadline() {
    let home = TestHome::new();
    home.install_fixture("gemini", Times::expired_since(1));
    let gemini = state_of(&home, "gemini");
    assert_eq!(gemini["state"], "ok", "{gemini}");
    let exp_ms = (now_secs() + 300) * 1000;
    home.write(
        ".gemini/oauth_creds.json",
        format!(r#"{{"access_token":"ya29.x","token_type":"Bearer","expiry_date":{exp_ms}.5}}"#),
    );
    let gemini = state_of(&home, "gemini");
    assert_eq!(gemini["state"], "expiring", "{gemini}");
    assert_eq!(
        gemini["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(exp_ms / 1000).rfc3339()
    );
}

/// kubelogin: the OIDC id_token's `exp` is the deadline unless a refresh token renews it.
#[test]
fn kubelogin_id_token_exp_is_the_deadline_without_a_refresh_token() {
    let home = TestHome::new();
    home.install_fixture("kubelogin", Times::expired_since(1));
    assert_eq!(
        state_of(&home, "kubelogin")["state"],
        "ok",
        "renewed by its refresh token"
    );
    let exp = now_secs() - 60;
    let dir = home.path(".kube/cache/oidc-login");
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        std::fs::write(
            entry.path(),
            format!(r#"{{"id_token":"{}"}}"#, crate::harness::jwt_with_exp(exp)),
        )
        .unwrap();
    }
    let kubelogin = state_of(&home, "kubelogin");
    assert_eq!(kubelogin["state"], "expired", "{kubelogin}");
    assert_eq!(
        kubelogin["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(exp).rfc3339()
    );
}

/// Teleport: the SSH certificate `tsh login` fetched ends at its `valid_before`.
#[test]
fn tsh_certificate_valid_before_is_the_deadline() {
    let home = TestHome::new();
    let times = Times {
        expires: now_secs() + 1800,
        access_expires: now_secs() + 1800,
    };
    home.install_fixture("tsh", times);
    let tsh = state_of(&home, "tsh");
    assert_eq!(tsh["state"], "expiring", "{tsh}");
    assert_eq!(
        tsh["expires_at"],
        credwatch::support::timefmt::Timestamp::from_secs(times.expires).rfc3339()
    );
    home.install_fixture("tsh", Times::expired_since(1));
    assert_eq!(state_of(&home, "tsh")["state"], "expired");
}

/// Tools that empty their login file on logout: terraform and glab read `logged-out`, pypi and
/// heroku (whose files hold other settings) `missing`.
#[test]
fn new_text_presets_tell_a_logout_from_a_login() {
    let home = TestHome::new();
    for preset in [
        "terraform",
        "glab",
        "pypi",
        "heroku",
        "helm",
        "copilot",
        "yarn",
    ] {
        home.install_fixture(preset, Times::valid_for(30));
        assert_eq!(state_of(&home, preset)["state"], "ok", "{preset}");
    }
    home.write(
        ".terraform.d/credentials.tfrc.json",
        r#"{"credentials": {}}"#,
    );
    assert_eq!(state_of(&home, "terraform")["state"], "logged-out");
    home.write(
        ".config/glab-cli/config.yml",
        "hosts:\n    gitlab.com:\n        api_host: gitlab.com\n",
    );
    assert_eq!(state_of(&home, "glab")["state"], "logged-out");
    home.write(
        ".pypirc",
        "[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n",
    );
    assert_eq!(state_of(&home, "pypi")["state"], "missing");
    home.write(
        ".netrc",
        "machine git.heroku.com\n  login a\n  password b\n",
    );
    assert_eq!(state_of(&home, "heroku")["state"], "missing");
    home.write(".config/helm/registry/config.json", r#"{"auths": {}}"#);
    assert_eq!(state_of(&home, "helm")["state"], "logged-out");
    home.write(".config/github-copilot/apps.json", "{}");
    assert_eq!(state_of(&home, "copilot")["state"], "logged-out");
    home.write(
        ".yarnrc.yml",
        "npmRegistries:\n  \"https://registry.yarnpkg.com\": {}\n",
    );
    assert_eq!(state_of(&home, "yarn")["state"], "missing");
}

/// gcloud (databases as gcloud 528 creates them, made by the real sqlite3): the active
/// configuration's account decides; its expired access token renews itself and no deadline is
/// claimed; an account with no credential is logged out, and with credentials.db gone while
/// the configuration names an account, the login did not persist (found by `auto` too); CLOUDSDK_CORE_ACCOUNT and
/// CLOUDSDK_ACTIVE_CONFIG_NAME in the shell choose as gcloud does.
#[test]
fn gcloud_the_active_configurations_account_decides() {
    let home = TestHome::new();
    home.install_fixture("gcloud", Times::valid_for(30));
    let dir = home.path(".config/gcloud");
    let c = state_of(&home, "gcloud");
    assert_eq!(c["state"], "ok", "{c}");
    assert_eq!(c["expires_at"], Value::Null, "{c}");
    assert!(c["access_expires_at"].is_string(), "{c}");

    std::fs::write(
        dir.join("configurations/config_default"),
        "[core]\naccount = gone@example.com\n",
    )
    .unwrap();
    let c = state_of(&home, "gcloud");
    assert_eq!(c["state"], "logged-out", "{c}");
    let mut chosen = home.command(&["status", "--json", "gcloud"]);
    chosen.env("CLOUDSDK_CORE_ACCOUNT", "ci@demo.iam.gserviceaccount.com");
    assert_eq!(
        crate::harness::run_command(chosen).credential("gcloud")["state"],
        "ok"
    );

    std::fs::write(
        dir.join("configurations/config_work"),
        "[core]\naccount = me@example.com\n",
    )
    .unwrap();
    std::fs::write(dir.join("active_config"), "work").unwrap();
    assert_eq!(state_of(&home, "gcloud")["state"], "ok");
    let mut chosen = home.command(&["status", "--json", "gcloud"]);
    chosen.env("CLOUDSDK_ACTIVE_CONFIG_NAME", "default");
    let c = crate::harness::run_command(chosen).credential("gcloud");
    assert_eq!(c["state"], "logged-out", "{c}");
    assert!(c["reason"].as_str().unwrap().contains("missing"), "{c}");

    std::fs::remove_file(dir.join("credentials.db")).unwrap();
    let c = home.run(&["status", "--json"]).credential("gcloud");
    assert_eq!(
        c["state"], "unpersisted",
        "the configuration still names an account: {c}"
    );
}

/// Application-default credentials: a refresh token (authorized_user) or a service account's
/// key, in gcloud's place or where GOOGLE_APPLICATION_CREDENTIALS points; a key readable by
/// others is insecure.
#[test]
fn gcloud_application_default_credentials_follow_google_application_credentials() {
    let mut home = TestHome::new();
    home.install_fixture("gcloud-adc", Times::valid_for(30));
    assert_eq!(state_of(&home, "gcloud-adc")["state"], "ok");
    let key = home.path("keys/sa.json");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(
        &key,
        format!(r#"{{"type": "service_account", "private_key": "{CANARY}"}}"#),
    )
    .unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    home.set_env("GOOGLE_APPLICATION_CREDENTIALS", &key);
    let c = state_of(&home, "gcloud-adc");
    assert_eq!(c["state"], "insecure", "{c}");
    assert_eq!(c["stores"][0]["path"], key.to_str().unwrap(), "{c}");
    std::fs::remove_file(&key).unwrap();
    assert_eq!(state_of(&home, "gcloud-adc")["state"], "missing");
}

/// Every preset's store, as the daemon follows it. A file (a fixture's store, the Kerberos
/// cache): damaged in place (binary garbage where the login was) → invalid, naming the file;
/// larger than any login (5 MiB) → unknown, "too large to check", unread; its tool's login
/// written back → ok again. A keyring item (followed by D-Bus signals): deleted → missing, written back → ok.
/// The ssh-agent (followed through its socket's directory, and polled): stopped, its socket
/// gone → missing; an agent with a key back in place → ok. No kind is left out of the daemon's
/// watch: the presets come from the code, and each maker's kind is handled below.
#[test]
fn every_presets_store_damaged_huge_and_rewritten_is_followed_by_the_daemon() {
    use crate::logins::{maker, Maker};
    let mut home = TestHome::new();
    let presets = crate::harness::all_presets();
    let mut logins = home.install_every_login(Times::valid_for(30));
    let (mut in_files, mut in_keyring, mut agents) = (vec![], vec![], vec![]);
    for name in &presets {
        match maker(name).unwrap() {
            Maker::Fixture | Maker::Ccache => in_files.push(*name),
            Maker::Keyring { item, .. } => in_keyring.push((*name, item)),
            Maker::Agent => agents.push(*name),
        }
    }
    let doc = home.status(&[]).json();
    let store_of = |name: &str| -> std::path::PathBuf {
        let c = doc["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not found"));
        let store = c["stores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["present"] == true)
            .unwrap_or_else(|| panic!("{name}: no store present: {c}"));
        std::path::PathBuf::from(store["path"].as_str().unwrap())
    };
    let stores: Vec<(&str, std::path::PathBuf)> = in_files
        .iter()
        .map(|name| (*name, store_of(name)))
        .collect();
    let _daemon = home.start_daemon(&[]);
    // `these` become `state` (and pass `check`); every other preset stays ok meanwhile.
    let all_are = |these: &[&str], state: &str, check: &dyn Fn(&str, &Value)| {
        let others = || -> Vec<String> {
            presets
                .iter()
                .filter_map(|name| {
                    let wanted = if these.contains(name) { state } else { "ok" };
                    let now = home.published_state(name);
                    (now.as_deref() != Some(wanted)).then(|| format!("{name}: {now:?}"))
                })
                .collect()
        };
        let started = std::time::Instant::now();
        while !others().is_empty() && started.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            others().is_empty(),
            "not as expected ({state}): {:?}",
            others()
        );
        let published = home.published();
        for name in these {
            let c = published["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == *name)
                .unwrap();
            check(name, c);
        }
    };
    all_are(&[], "ok", &|_, _| {});

    for (_, path) in &stores {
        std::fs::write(path, b"\x00\x01\xfe\xff{[garbage").unwrap();
    }
    all_are(&in_files, "invalid", &|name, c| {
        let reason = c["reason"].as_str().unwrap();
        let file = store_of(name);
        let shown = file.file_name().unwrap().to_str().unwrap();
        assert!(reason.contains(shown), "{name}: {reason}");
    });

    let huge = vec![b' '; 5 << 20];
    for (_, path) in &stores {
        std::fs::write(path, &huge).unwrap();
    }
    // Not read: nothing is known of the login in it (src/evaluate/file.rs).
    all_are(&in_files, "unknown", &|name, c| {
        let reason = c["reason"].as_str().unwrap();
        assert!(reason.contains("too large to check"), "{name}: {reason}");
    });

    for (_, path) in &stores {
        std::fs::remove_file(path).unwrap();
    }
    for name in &in_files {
        home.install_login(&mut logins, name, Times::valid_for(30));
    }
    all_are(&[], "ok", &|_, _| {});

    let keyring_names: Vec<&str> = in_keyring.iter().map(|(name, _)| *name).collect();
    for (_, attributes) in &in_keyring {
        logins.bus.clear_item(attributes);
    }
    all_are(&keyring_names, "missing", &|name, c| {
        let reason = c["reason"].as_str().unwrap();
        assert!(reason.contains("keyring"), "{name}: {reason}");
    });
    for name in &keyring_names {
        home.install_login(&mut logins, name, Times::valid_for(30));
    }
    all_are(&[], "ok", &|_, _| {});

    home.stop_agent(&mut logins);
    all_are(&agents, "missing", &|name, c| {
        let reason = c["reason"].as_str().unwrap();
        assert!(reason.contains("socket"), "{name}: {reason}");
    });
    home.start_agent(&mut logins);
    all_are(&[], "ok", &|_, _| {});
}

/// A store whose pattern spans directories (tsh: keys/<proxy>/<user>-ssh/<cluster>-cert.pub):
/// the daemon sees the directories appear after it started, then each rewrite of the
/// certificate in them, and a second proxy's directory.
#[test]
fn a_pattern_across_directories_is_followed_as_they_appear() {
    let home = TestHome::new();
    home.write_config("presets = [\"tsh\"]\n");
    std::fs::create_dir_all(home.path(".tsh")).unwrap();
    // A short grace: the removal below, a moment after a write, is a removal, not a login
    // that failed to persist.
    let _daemon = home.start_daemon(&["--grace", "100ms"]);
    home.wait_for_state("tsh", "missing");
    home.install_fixture("tsh", Times::valid_for(30));
    home.wait_for_state("tsh", "ok");
    home.install_fixture("tsh", Times::expired_since(1));
    let written = std::time::Instant::now();
    home.wait_for_state("tsh", "expired");
    let cert = "keys/teleport.example.com/alice-ssh/root-cert.pub";
    let text = std::fs::read_to_string(home.path(&format!(".tsh/{cert}"))).unwrap();
    // Past the grace (100 ms) after that write, so the removal is not a lost login.
    crate::harness::wait_out(written, std::time::Duration::from_millis(100));
    std::fs::remove_dir_all(home.path(".tsh/keys")).unwrap();
    home.wait_for_state("tsh", "missing");
    let other = home.path(".tsh/keys/other.example.com/bob-ssh");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("leaf-cert.pub"), text).unwrap();
    home.wait_for_state("tsh", "expired");
}

/// The presets of session 16 (#29), each as its tool leaves a login and a logout (the shapes
/// read in each client's source, named in its preset): netlify keeps the token and sets
/// `userId` to null; fly rewrites `access_token` empty; firebase drops `user` and `tokens`;
/// doctl blanks `access-token`; pulumi drops the backend's entries and `current`. A refreshable
/// access token past its time is ok; without its refresh token it is the deadline.
#[test]
fn session_16_presets_tell_each_tools_logout_and_deadline() {
    let home = TestHome::new();
    let presets = [
        "huggingface",
        "wrangler",
        "firebase",
        "vercel",
        "netlify",
        "supabase",
        "doctl",
        "pulumi",
        "fly",
        "qwen",
        "opencode",
    ];
    for preset in presets {
        home.install_fixture(preset, Times::valid_for(30));
        let credential = state_of(&home, preset);
        assert_eq!(credential["state"], "ok", "{preset}: {credential:#}");
    }
    let state = |name: &str| state_of(&home, name)["state"].as_str().unwrap().to_string();
    let netlify = ".config/netlify/config.json";
    let text = std::fs::read_to_string(home.path(netlify)).unwrap();
    home.write(
        netlify,
        text.replace(
            "\"userId\": \"5e8f1a2b3c4d5e6f7a8b9c0d\"",
            "\"userId\": null",
        ),
    );
    assert_eq!(
        state("netlify"),
        "logged-out",
        "netlify logout keeps the token"
    );
    home.write(
        ".fly/config.yml",
        "access_token: \"\"\nlast_login: 0001-01-01T00:00:00Z\nmetrics_token: \"\"\n",
    );
    assert_eq!(state("fly"), "logged-out");
    home.write(
        ".config/configstore/firebase-tools.json",
        "{\n\t\"loginScopes\": [\n\t\t\"email\"\n\t]\n}",
    );
    assert_eq!(state("firebase"), "logged-out");
    home.write(
        ".config/doctl/config.yaml",
        "access-token: \"\"\nauth-contexts: {}\ncontext: default\n",
    );
    assert_eq!(state("doctl"), "logged-out");
    home.write(
        ".pulumi/credentials.json",
        "{\n    \"accessTokens\": {},\n    \"accounts\": {}\n}",
    );
    assert_eq!(state("pulumi"), "logged-out");
    // An hour-long access token without the refresh token that renews it: its time is the
    // deadline (past here), for wrangler (an ISO date with milliseconds), qwen, vercel (s) and
    // opencode (ms).
    let past = Times::expired_since(1);
    for preset in ["wrangler", "qwen", "vercel", "opencode"] {
        home.install_fixture(preset, past);
    }
    let wrangler = ".config/.wrangler/config/default.toml";
    let text = std::fs::read_to_string(home.path(wrangler)).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("refresh_token"))
        .collect::<Vec<_>>()
        .join("\n");
    home.write(wrangler, without);
    assert_eq!(state("wrangler"), "expired");
    for (preset, path, field) in [
        ("qwen", ".qwen/oauth_creds.json", "refresh_token"),
        (
            "vercel",
            ".local/share/com.vercel.cli/auth.json",
            "refreshToken",
        ),
        ("opencode", ".local/share/opencode/auth.json", "refresh"),
    ] {
        let text = std::fs::read_to_string(home.path(path)).unwrap();
        let mut json: Value = serde_json::from_str(&text).unwrap();
        fn strip(value: &mut Value, field: &str) {
            if let Some(object) = value.as_object_mut() {
                object.remove(field);
                for inner in object.values_mut() {
                    strip(inner, field);
                }
            }
        }
        strip(&mut json, field);
        home.write(path, json.to_string());
        assert_eq!(state(preset), "expired", "{preset}");
    }
    // HF_TOKEN in the shell takes precedence over the stored token: said, never valued.
    let mut shadowed = home.command(&["status", "--json", "huggingface"]);
    shadowed.env("HF_TOKEN", CANARY);
    let outcome = crate::harness::run_command(shadowed);
    assert!(!outcome.stdout.contains(CANARY));
    assert!(
        outcome.stdout.contains("HF_TOKEN"),
        "the shadowing variable is named: {}",
        outcome.stdout
    );
}

/// Review of session 16: `vercel logout` rewrites auth.json without its token (the notes stay):
/// that is `logged-out`, not `invalid`; doctl working through a named context, the default one
/// blanked, is logged in.
#[test]
fn vercel_logout_and_a_named_doctl_context() {
    let home = TestHome::new();
    home.install_fixture("vercel", Times::valid_for(30));
    home.write(
        ".local/share/com.vercel.cli/auth.json",
        "{\n  \"// Note\": \"This is your Vercel credentials file. DO NOT SHARE!\",\n  \"// Docs\": \"https://vercel.com/docs/projects/project-configuration/global-configuration#auth.json\"\n}\n",
    );
    assert_eq!(state_of(&home, "vercel")["state"], "logged-out");
    home.write(
        ".config/doctl/config.yaml",
        format!("access-token: \"\"\nauth-contexts:\n  work: dop_v1_{CANARY}\ncontext: work\n"),
    );
    assert_eq!(state_of(&home, "doctl")["state"], "ok");
}

/// Argo CD and JFrog (#29): a token's JWT `exp` is the deadline; `argocd logout` drops the
/// user's tokens and keeps the entries (logged-out), and `jf config remove` drops the server.
#[test]
fn argocd_and_jfrog_read_the_tokens_exp_and_tell_a_logout() {
    let home = TestHome::new();
    for preset in ["argocd", "jfrog"] {
        home.install_fixture(preset, Times::valid_for(30));
        assert_eq!(state_of(&home, preset)["state"], "ok", "{preset}");
        home.install_fixture(preset, Times::expired_since(1));
        assert_eq!(state_of(&home, preset)["state"], "expired", "{preset}");
    }
    home.write(
        ".config/argocd/config",
        "contexts:\n- name: cd.example.com\n  server: cd.example.com\n  user: cd.example.com\ncurrent-context: cd.example.com\nprompts-enabled: false\nservers:\n- grpc-web-root-path: \"\"\n  server: cd.example.com\nusers:\n- name: cd.example.com\n",
    );
    assert_eq!(state_of(&home, "argocd")["state"], "logged-out");
    home.write(
        ".jfrog/jfrog-cli.conf.v6",
        "{\n  \"servers\": [],\n  \"version\": \"6\"\n}",
    );
    assert_eq!(state_of(&home, "jfrog")["state"], "logged-out");
}
