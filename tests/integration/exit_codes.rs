//! The contract says what the code does (#25, item 14): each exit code through the real binary,
//! the daemon's own journal entries apart from any credential's, and the contract's version
//! numbers against the crate's.

use crate::harness::{now_secs, wait_until, Outcome, TestHome, CANARY};

/// Exit code for a usage or config error (docs/contract.md, "Exit codes").
const USAGE: i32 = 2;
/// Exit code for a command that could not do its work (an I/O error, a directory it cannot use).
const FAILED: i32 = 4;

fn assert_code(outcome: &Outcome, code: i32, what: &str) {
    assert_eq!(
        outcome.code, code,
        "{what}: stdout:\n{}\nstderr:\n{}",
        outcome.stdout, outcome.stderr
    );
}

/// A mistake in what was asked exits 2 and says what to do.
#[test]
fn usage_errors_exit_2() {
    let home = TestHome::new();
    let cases: [(&[&str], &str); 4] = [
        (&["status", "--jsn"], "--jsn"),
        (&["status", "nosuch"], "no credential named \"nosuch\""),
        (&["verify", "nosuch"], "no credential named \"nosuch\""),
        (&["presets", "nosuch"], "no preset named \"nosuch\""),
    ];
    for (args, said) in cases {
        let outcome = home.run(args);
        assert_code(&outcome, USAGE, &format!("{args:?}"));
        assert!(
            outcome.stderr.contains(said),
            "{args:?}: {}",
            outcome.stderr
        );
    }
    let outcome = home.run(&["status", "nosuch"]);
    assert!(
        outcome.stderr.contains("fix: use one of:"),
        "{}",
        outcome.stderr
    );
}

/// A malformed config exits 2 from every command that reads it (the daemon included: it does
/// not start on one), naming the place and the fix.
#[test]
fn config_errors_exit_2() {
    let home = TestHome::new();
    home.write_config("presets = [\"git\"\n");
    for args in [
        &["status"][..],
        &["config", "check"],
        &["export", "--prometheus"],
        &["daemon"],
    ] {
        let outcome = home.run(args);
        assert_code(&outcome, USAGE, &format!("{args:?}"));
        assert!(
            outcome.stderr.contains("config.toml:"),
            "{args:?}: {}",
            outcome.stderr
        );
    }
    home.write_config("[[credential]]\nname = \"bad name\"\nfile = \"~/x\"\n");
    let outcome = home.run(&["config", "check"]);
    assert_code(&outcome, USAGE, "an unusable credential name");
    assert!(outcome.stderr.contains("fix:"), "{}", outcome.stderr);
}

/// A command that cannot do its work (a file it cannot write, a directory it cannot use) exits
/// 4, not 2: nothing was wrong with what was asked. The message names the path and the fix.
#[test]
fn failures_exit_4_not_2() {
    let mut home = TestHome::new();
    home.write_config("presets = \"none\"\n");
    let nowhere = home.path("nonexistent/dir/credwatch.prom");
    let outcome = home.run(&[
        "export",
        "--prometheus",
        "--output",
        nowhere.to_str().unwrap(),
    ]);
    assert_code(
        &outcome,
        FAILED,
        "export to a directory that does not exist",
    );
    assert!(
        outcome.stderr.contains("nonexistent/dir/credwatch.prom")
            && outcome.stderr.contains("fix:"),
        "{}",
        outcome.stderr
    );

    // The state dir is a file: `journal --follow` cannot watch it.
    let state = home.path("state-is-a-file");
    std::fs::write(&state, "").unwrap();
    home.set_env("XDG_STATE_HOME", &state);
    let outcome = home.run(&["journal", "--follow"]);
    assert_code(
        &outcome,
        FAILED,
        "journal --follow in an unusable state dir",
    );
    assert!(outcome.stderr.contains("fix:"), "{}", outcome.stderr);

    // The runtime dir is a file: `prompt --cache` cannot keep its result.
    let runtime = home.path("runtime-is-a-file");
    std::fs::write(&runtime, "").unwrap();
    home.set_env("XDG_RUNTIME_DIR", &runtime);
    let outcome = home.run(&["prompt", "--cache"]);
    assert_code(
        &outcome,
        FAILED,
        "prompt --cache in an unusable runtime dir",
    );
    assert!(outcome.stderr.contains("fix:"), "{}", outcome.stderr);
    // The daemon keeps its documented code there: 1, it cannot run.
    let outcome = home.run(&["daemon"]);
    assert_code(&outcome, 1, "the daemon in an unusable runtime dir");
    assert!(outcome.stderr.contains("runtime dir"), "{}", outcome.stderr);
}

/// The codes the contract already gave keep their meaning: status 0 and 1, the daemon 1 when it
/// cannot run (another daemon runs) and 0 after SIGTERM.
#[test]
fn documented_codes_are_unchanged() {
    let home = TestHome::new();
    home.write_config(
        "presets = \"none\"\n\n[[credential]]\nname = \"api\"\nfile = \"~/token.json\"\nformat = \"json\"\nsecret = \"/token\"\nexpires = \"/exp\"\nexpires_unit = \"s\"\n",
    );
    let token = |exp: i64| format!(r#"{{"token": "{CANARY}", "exp": {exp}}}"#);
    home.write("token.json", token(now_secs() + 30 * 86_400));
    assert_code(&home.run(&["status"]), 0, "all usable");
    home.write("token.json", token(now_secs() - 60));
    assert_code(&home.run(&["status"]), 1, "one broken");
    let daemon = home.start_daemon(&[]);
    let second = home.run(&["daemon"]);
    assert_code(&second, 1, "a second daemon");
    assert!(second.stderr.contains("fix:"), "{}", second.stderr);
    assert_eq!(daemon.stop(), Some(0));
}

/// The daemon's own journal entries are named `@daemon`, which no credential can be named: a
/// credential named `config` (the name `config-error` entries had) keeps a journal of its own,
/// and `credwatch journal @daemon` shows the daemon's entries alone.
#[test]
fn daemon_journal_entries_are_told_apart_from_a_credential_named_config() {
    let home = TestHome::new();
    let config = "presets = \"none\"\n\n[[credential]]\nname = \"config\"\nfile = \"~/token.json\"\nformat = \"json\"\nsecret = \"/token\"\n";
    home.write_config(config);
    home.write("token.json", format!(r#"{{"token": "{CANARY}"}}"#));
    let _daemon = home.start_daemon(&[]);
    home.wait_for_state("config", "ok");
    let journal = |name: &str| -> Vec<serde_json::Value> {
        let outcome = home.run(&["journal", "--json", name]);
        assert_code(&outcome, 0, "journal --json");
        outcome
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    wait_until("the credential's first state to be journaled", || {
        journal("config").iter().any(|e| e["event"] == "state")
    });
    // A config the daemon cannot reload: journaled as the daemon's own entry.
    home.write_config(format!("{config}\n[[credential\n"));
    wait_until("the config error to be journaled", || {
        !journal("@daemon").is_empty()
    });
    let own = journal("@daemon");
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["event"], "config-error");
    assert!(
        own[0]["detail"].as_str().unwrap().contains("config.toml:"),
        "{own:?}"
    );
    let credential = journal("config");
    assert!(
        credential.iter().all(|e| e["event"] != "config-error"),
        "the daemon's entry under the credential's name: {credential:?}"
    );
    assert!(!credential.is_empty());

    // No credential can take the daemon's name.
    home.write_config(config.replace("name = \"config\"", "name = \"@daemon\""));
    let outcome = home.run(&["config", "check"]);
    assert_code(&outcome, USAGE, "a credential named @daemon");
    assert!(
        outcome
            .stderr
            .contains("credential name \"@daemon\" is not usable"),
        "{}",
        outcome.stderr
    );
}

/// A version as numbers, for comparing.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|_| panic!("not a version: {text}"))
    });
    let v = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    assert!(parts.next().is_none(), "not a version: {text}");
    v
}

/// Each `X.Y.Z` that follows `marker` in `text`.
fn versions_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('.')
        })
        .collect()
}

/// The contract's version numbers are the crate's: nothing is "added in" a version after the
/// crate's, the examples show the crate's version, and the Debian changelog's newest entry is
/// the crate's version (what `cargo deb` packs).
#[test]
fn contract_versions_are_the_crates() {
    let crate_version = env!("CARGO_PKG_VERSION");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let contract = std::fs::read_to_string(root.join("docs/contract.md")).unwrap();
    let added = versions_after(&contract, "added in ");
    assert!(!added.is_empty(), "the contract says what was added when");
    for v in &added {
        assert!(
            version(v) <= version(crate_version),
            "docs/contract.md says \"added in {v}\", but the crate is {crate_version}"
        );
    }
    let shown = versions_after(&contract, "\"version\": \"");
    assert!(!shown.is_empty(), "the contract shows a version");
    for v in &shown {
        assert_eq!(
            *v, crate_version,
            "docs/contract.md shows version {v}; the crate is {crate_version}"
        );
    }
    let changelog = std::fs::read_to_string(root.join("packaging/debian/changelog")).unwrap();
    let newest = changelog
        .lines()
        .next()
        .and_then(|l| l.split_once('(')?.1.split_once('-'))
        .map(|(v, _)| v)
        .unwrap();
    assert_eq!(
        newest, crate_version,
        "packaging/debian/changelog's newest entry"
    );
}
