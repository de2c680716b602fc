//! The config file: user definitions, preset selection, and errors that say where and what to do.

use crate::harness::{TestHome, Times};

#[test]
fn typo_in_a_key_is_an_error_with_line_and_column() {
    let home = TestHome::new();
    let path = home.write_config(
        "warn_before = \"2d\"\n\n[[credential]]\nname = \"api\"\nfiel = \"~/.api\"\n",
    );
    let outcome = home.run(&["status"]);
    assert_eq!(outcome.code, 2);
    assert!(outcome.stdout.is_empty());
    let expected = format!(
        "credwatch: {}:5:1: unknown field `fiel`, expected one of",
        path.display()
    );
    assert!(outcome.stderr.starts_with(&expected), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("fix:"), "{}", outcome.stderr);
    let check = home.run(&["config", "check"]);
    assert_eq!(check.code, 2);
    assert_eq!(check.stderr, outcome.stderr);
}

#[test]
fn wrong_type_is_an_error_with_line_and_column() {
    let home = TestHome::new();
    home.write_config("presets = \"auto\"\nwarn_before = 3\n");
    let outcome = home.run(&["config", "check"]);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome
            .stderr
            .contains("config.toml:2:15: invalid type: integer `3`, expected a string"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn bad_duration_and_unknown_preset_are_located() {
    let home = TestHome::new();
    home.write_config("warn_before = \"3 days\"\n");
    let outcome = home.run(&["config", "check"]);
    assert!(
        outcome
            .stderr
            .contains("config.toml:1:15: \"3 days\": unknown unit"),
        "{}",
        outcome.stderr
    );
    home.write_config("presets = [\"claude\", \"kubectl\"]\n");
    let outcome = home.run(&["status"]);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome.stderr.contains("unknown preset \"kubectl\""),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("use one of: claude, gh,"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn config_that_is_a_directory_or_binary_is_a_clear_error() {
    let home = TestHome::new();
    let path = home.config_home.join("credwatch/config.toml");
    std::fs::create_dir_all(&path).unwrap();
    let outcome = home.run(&["status"]);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome.stderr.contains("it is a directory"),
        "{}",
        outcome.stderr
    );
    std::fs::remove_dir(&path).unwrap();
    home.write_config([0xffu8, 0xfe, 0x00, 0x41]);
    let outcome = home.run(&["config", "check"]);
    assert_eq!(outcome.code, 2);
    assert!(
        outcome.stderr.contains("not UTF-8 text"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn credwatch_config_env_and_flag_choose_the_file() {
    let mut home = TestHome::new();
    let custom = home.write("elsewhere.toml", "presets = \"none\"\n");
    home.install_fixture("vault", Times::valid_for(1));
    home.set_env("CREDWATCH_CONFIG", &custom);
    assert_eq!(
        home.run(&["config", "path"]).stdout.trim(),
        custom.to_str().unwrap()
    );
    assert_eq!(
        home.status(&[]).json()["credentials"],
        serde_json::json!([])
    );
    let flag = home.write("flag.toml", "presets = [\"vault\"]\n");
    let outcome = home.run(&["--config", flag.to_str().unwrap(), "status", "--json"]);
    assert_eq!(outcome.credential("vault")["state"], "ok");
}

#[test]
fn config_path_defaults_to_xdg_config_home() {
    let home = TestHome::new();
    let outcome = home.run(&["config", "path"]);
    assert_eq!(
        outcome.stdout.trim(),
        home.config_home
            .join("credwatch/config.toml")
            .to_str()
            .unwrap()
    );
    let check = home.run(&["config", "check"]);
    assert_eq!(check.code, 0);
    assert!(
        check.stdout.starts_with("no config file at"),
        "{}",
        check.stdout
    );
}

/// A user's own credential, from the contract's example, with a JWT expiry and its own window.
#[test]
fn user_definition_with_jwt_expiry_and_own_warning_window() {
    let home = TestHome::new();
    home.write_config(
        r#"
[[credential]]
name = "my-api"
tool = "My API"
file = "~/.config/my-api/token.json"
format = "json"
secret = "/access_token"
expires = "jwt:/access_token"
warn_before = "10d"
commands = ["my-api"]
fix = "my-api login"
"#,
    );
    let exp = crate::harness::now_secs() + 5 * crate::harness::DAY;
    home.write(
        ".config/my-api/token.json",
        format!(
            r#"{{"access_token": "{}"}}"#,
            crate::harness::jwt_with_exp(exp)
        ),
    );
    let outcome = home.status(&[]);
    let api = outcome.credential("my-api");
    assert_eq!(
        api["state"], "expiring",
        "5 days left, 10 days window: {api}"
    );
    assert_eq!(api["tool"], "My API");
    assert_eq!(api["fix"], "my-api login");
    let check = home.run(&["config", "check"]);
    assert!(
        check.stdout.contains("config OK:") && check.stdout.contains("(1 credential defined)"),
        "{}",
        check.stdout
    );
}

#[test]
fn user_definition_replaces_the_preset_of_the_same_name() {
    let home = TestHome::new();
    home.write_config(
        "[[credential]]\nname = \"vault\"\nfile = \"~/.my-vault-token\"\nfix = \"vault login -method=oidc\"\n",
    );
    let vault = home.status(&[]).credential("vault");
    assert_eq!(vault["state"], "missing");
    assert_eq!(vault["fix"], "vault login -method=oidc");
}

#[test]
fn every_format_reads_its_secret_field() {
    let home = TestHome::new();
    home.write_config(
        r#"
presets = "none"
[[credential]]
name = "yaml"
file = "~/c.yaml"
format = "yaml"
secret = "/auth/token"
[[credential]]
name = "toml"
file = "~/c.toml"
format = "toml"
secret = "/auth/token"
expires = "/auth/expires"
[[credential]]
name = "ini"
file = "~/c.ini"
format = "ini"
secret = "/default/aws_session_token"
[[credential]]
name = "netrc"
file = "~/.netrc"
format = "netrc"
secret = "/api.example.com/password"
[[credential]]
name = "seconds"
file = "~/c.json"
format = "json"
secret = "/t"
expires = "/e"
expires_unit = "s"
"#,
    );
    let later = crate::harness::now_secs() + 30 * crate::harness::DAY;
    home.write("c.yaml", "auth:\n  token: abc\n");
    home.write(
        "c.toml",
        "[auth]\ntoken = \"abc\"\nexpires = 2001-01-01T00:00:00Z\n",
    );
    home.write("c.ini", "[default]\naws_session_token = abc\n");
    home.write(".netrc", "machine api.example.com login me password abc\n");
    home.write("c.json", format!(r#"{{"t": "abc", "e": {later}}}"#));
    let outcome = home.status(&[]);
    assert_eq!(outcome.credential("yaml")["state"], "ok");
    assert_eq!(outcome.credential("toml")["state"], "expired");
    assert_eq!(
        outcome.credential("toml")["expires_at"],
        "2001-01-01T00:00:00Z"
    );
    assert_eq!(outcome.credential("ini")["state"], "ok");
    assert_eq!(outcome.credential("netrc")["state"], "ok");
    assert_eq!(outcome.credential("seconds")["state"], "ok");
}

#[test]
fn config_show_prints_the_definitions_in_effect_as_loadable_toml() {
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    home.write_config("warn_before = \"1d\"\n");
    let outcome = home.run(&["config", "show"]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.stdout.contains("name = \"vault\""),
        "{}",
        outcome.stdout
    );
    assert!(
        !outcome.stdout.contains("name = \"claude\""),
        "only what is in effect"
    );
    // What it prints loads back as a config.
    home.write_config(&outcome.stdout);
    assert_eq!(home.run(&["config", "check"]).code, 0);
}

#[test]
fn presets_lists_what_is_found_and_prints_one_as_toml() {
    let home = TestHome::new();
    home.install_fixture("vault", Times::valid_for(1));
    let list = home.run(&["presets"]);
    let vault_row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("vault "))
        .unwrap();
    assert!(vault_row.contains(" yes "), "{vault_row}");
    let claude_row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("claude "))
        .unwrap();
    assert!(claude_row.contains(" no "), "{claude_row}");
    // Whether each tool stores the login's deadline (#29 item 3), for every preset.
    assert!(claude_row.contains(" the refresh token's "), "{claude_row}");
    assert!(vault_row.contains(" none stored "), "{vault_row}");
    for preset in crate::harness::all_presets() {
        assert!(
            list.stdout
                .lines()
                .any(|l| l.starts_with(&format!("{preset} "))),
            "{preset} is not listed: {}",
            list.stdout
        );
    }
    let claude = home.run(&["presets", "claude"]);
    assert!(claude
        .stdout
        .contains("refresh_expires = \"/claudeAiOauth/refreshTokenExpiresAt\""));
    home.write_config(&claude.stdout);
    assert_eq!(
        home.run(&["config", "check"]).code,
        0,
        "a preset is a valid config"
    );
    let unknown = home.run(&["presets", "kubectl"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("no preset named \"kubectl\""));
}

#[test]
fn shipped_example_config_is_valid() {
    let mut home = TestHome::new();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/config.example.toml");
    home.set_env("CREDWATCH_CONFIG", &example);
    let check = home.run(&["config", "check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.starts_with("config OK"), "{}", check.stdout);
}

/// A probe sends a token: only to an HTTPS URL, or in clear to this machine. The check was a
/// hand-written reading of the URL; it is now made on the parse the HTTP client connects with,
/// and a URL that names a user before its host (`http://127.0.0.1@example.com/`, which reads as
/// this machine and goes to example.com) is refused, as are other hosts in clear.
#[test]
fn a_probe_url_that_could_send_a_token_elsewhere_is_a_config_error() {
    let home = TestHome::new();
    for (url, reason) in [
        (
            "http://127.0.0.1@example.com/me",
            "names a user before its host",
        ),
        (
            "https://api.example.com@example.net/me",
            "names a user before its host",
        ),
        (
            "http://example.com/me",
            "is not HTTPS: the token would travel in clear",
        ),
        ("http://[::1].example.com/me", "is not a URL with a host"),
        ("ftp://127.0.0.1/me", "is neither https:// nor http://"),
    ] {
        home.write_config(format!(
            "presets = \"none\"\n[[credential]]\nname = \"api\"\nfile = \"~/.api.json\"\nformat = \"json\"\nsecret = \"/token\"\nprobe = {{ http = \"{url}\", bearer = \"/token\" }}\n"
        ));
        let check = home.run(&["config", "check"]);
        assert_eq!(check.code, 2, "{url}: {}", check.stderr);
        assert!(
            check
                .stderr
                .contains(&format!("probe URL \"{url}\" {reason}")),
            "{url}: {}",
            check.stderr
        );
        assert!(
            check.stderr.contains("fix: use an https:// URL"),
            "{}",
            check.stderr
        );
    }
    for url in [
        "https://api.example.com/me",
        "http://127.0.0.1:8080/me",
        "http://localhost/me",
    ] {
        home.write_config(format!(
            "presets = \"none\"\n[[credential]]\nname = \"api\"\nfile = \"~/.api.json\"\nformat = \"json\"\nsecret = \"/token\"\nprobe = {{ http = \"{url}\", bearer = \"/token\" }}\n"
        ));
        let check = home.run(&["config", "check"]);
        assert_eq!(check.code, 0, "{url}: {}", check.stderr);
    }
}
