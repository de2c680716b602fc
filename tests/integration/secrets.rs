//! No secret value ever reaches output, logs or files: a canary planted in every preset's fixture
//! and in the environment must not appear anywhere credwatch writes.

use crate::harness::{all_presets, canary_base64, jwt_with_exp, Outcome, TestHome, Times, CANARY};
use crate::logins::Logins;

fn assert_clean(what: &str, outcome: &Outcome, jwt: &str) {
    for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        for needle in [CANARY, &canary_base64(), jwt] {
            assert!(
                !text.contains(needle),
                "`{what}` leaked a secret on {stream}:\n{text}"
            );
        }
    }
}

fn every_command(home: &TestHome) -> Vec<(String, Outcome)> {
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["status", "--json"],
        vec!["status", "--live"],
        vec!["presets"],
        vec!["config", "show"],
        vec!["config", "check"],
    ];
    for name in all_presets() {
        runs.push(vec!["status", name]);
        runs.push(vec!["status", "--json", name]);
    }
    runs.into_iter()
        .map(|args| (args.join(" "), home.run(&args)))
        .collect()
}

/// A home with every preset's login (files, a Kerberos cache, an agent's key, keyring items),
/// each holding the canary; the agent and the keyring run while the [`Logins`] lives.
fn planted_home(times: Times) -> (TestHome, Logins) {
    let mut home = TestHome::new();
    let logins = home.install_every_login(times);
    for variable in [
        "ANTHROPIC_API_KEY",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "GH_TOKEN",
        "VAULT_TOKEN",
        "AWS_SESSION_TOKEN",
        "NPM_TOKEN",
    ] {
        home.set_env(variable, CANARY);
    }
    home.set_env("CREDWATCH_LOG", "trace");
    (home, logins)
}

#[test]
fn canary_appears_in_no_output_for_valid_and_expired_logins() {
    for times in [
        Times::valid_for(30),
        Times::valid_for(1),
        Times::expired_since(3),
    ] {
        let (home, _logins) = planted_home(times);
        let jwt = jwt_with_exp(times.expires);
        for (what, outcome) in every_command(&home) {
            assert_clean(&what, &outcome, &jwt);
        }
        assert!(
            home.status(&[]).stdout.contains("\"shadowed_by\""),
            "the check really ran"
        );
    }
}

/// Parse errors point into the file: they must give positions, never the text found there.
#[test]
fn canary_appears_in_no_output_when_files_are_damaged() {
    let times = Times::valid_for(30);
    let (home, _logins) = planted_home(times);
    let jwt = jwt_with_exp(times.expires);
    let mut damaged = 0;
    // Every file under HOME, and the Kerberos cache (where KRB5CCNAME points, outside it).
    let mut files = walk(&home.home);
    files.push(home.env_value("KRB5CCNAME").unwrap().into());
    for entry in files {
        let bytes = std::fs::read(&entry).unwrap();
        let found = bytes
            .windows(CANARY.len())
            .position(|w| w == CANARY.as_bytes());
        if let Some(at) = found {
            // Cut right inside the secret, then add a stray quote and brace after it.
            let mut cut = bytes[..at + CANARY.len() / 2].to_vec();
            cut.extend_from_slice(b"\"}: ][");
            std::fs::write(&entry, &cut).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged >= 10, "damaged {damaged} files");
    let outcome = home.status(&[]);
    let states: Vec<String> = outcome.json()["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap().to_string())
        .collect();
    assert!(
        states.iter().filter(|s| *s == "invalid").count() >= 5,
        "{states:?}"
    );
    for (what, outcome) in every_command(&home) {
        assert_clean(&what, &outcome, &jwt);
    }
}

#[test]
fn nothing_is_written_to_state_or_runtime_dirs_with_a_secret() {
    let (home, _logins) = planted_home(Times::valid_for(30));
    for (_, _) in every_command(&home) {}
    // Every file of the runtime directory but the logins planted there (podman keeps its own).
    let planted = home.runtime_dir.join("containers");
    for dir in [&home.state_home, &home.runtime_dir] {
        for file in walk(dir).into_iter().filter(|f| !f.starts_with(&planted)) {
            let content = std::fs::read(&file).unwrap();
            assert!(
                !String::from_utf8_lossy(&content).contains(CANARY),
                "{} holds the canary",
                file.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            files.extend(walk(&path));
        } else if meta.is_file() {
            files.push(path);
        }
    }
    files
}
