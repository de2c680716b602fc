//! docker's implicit credential helper: with no `credsStore` in `~/.docker/config.json`, docker
//! picks a helper by itself, as docker/cli does (`cli/config/credentials/default_store*.go`,
//! `config.LoadDefaultConfigFile`): only while the file names no `auths`, `credsStore` or
//! `credHelpers` (or does not exist); on Linux its platform default is `pass` when `pass` is on
//! PATH, else `secretservice`; and it is used only when `docker-credential-<that>` is on PATH.
//! A login then goes to that helper, which may be unable to take one here: `secretservice`
//! needs a D-Bus session bus, `pass` an initialised password store.
//!
//! Guarantees: the same rule as docker's, from the same PATH (the environment in force); only
//! file names and directory entries are looked at, no helper is run; a definition is docker's
//! config when its keyring is used where `/credsStore` says so (the docker preset).

use crate::define::config::{Definition, ValueTest};
use crate::support::environ;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The helper docker uses by itself here, and what stops it from saving a login, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultHelper {
    /// `secretservice` or `pass`.
    pub name: String,
    /// Why docker picks it, in words.
    pub chosen: String,
    /// What it needs and does not have here (`None`: nothing seen in its way).
    pub blocked: Option<String>,
}

/// Whether the config sends a registry's logins to the Amazon ECR credential helper
/// (`docker-credential-ecr-login`: `credHelpers`, or `credsStore`): it gets each token with the
/// AWS login in force, so docker's logins there work only while that one does (see
/// `engine::chain`). Its own token cache (`~/.ecr/cache.json`) is renewed by it: no deadline.
pub fn uses_ecr_helper(config: &Value) -> bool {
    let ecr = |v: &Value| v.as_str() == Some("ecr-login");
    config.get("credsStore").is_some_and(ecr)
        || config
            .get("credHelpers")
            .and_then(Value::as_object)
            .is_some_and(|helpers| helpers.values().any(ecr))
}

/// What renews the login of an Amazon ECR registry (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`,
/// also `.com.cn`) kept in docker's `auths`, or drops it when it is no longer used; `None` for
/// another registry.
pub fn ecr_fix(registry: &str) -> Option<String> {
    let host = registry
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default();
    let mut labels = host.split('.');
    let (account, dkr, ecr, region) = (
        labels.next()?,
        labels.next()?,
        labels.next()?,
        labels.next()?,
    );
    let rest: Vec<&str> = labels.collect();
    let aws = matches!(
        rest.as_slice(),
        ["amazonaws", "com"] | ["amazonaws", "com", "cn"]
    );
    let fits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (dkr == "dkr" && ecr == "ecr" && aws && fits(account) && fits(region)).then(|| {
        format!(
            "aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {host} (or, if you no longer use it: docker logout {host})"
        )
    })
}

/// The program docker runs for the Amazon ECR credential helper.
pub const ECR_HELPER: &str = "docker-credential-ecr-login";

/// Whether the definition reads docker's config: its keyring is used when `/credsStore` says so.
pub fn is_docker_config(definition: &Definition) -> bool {
    definition.keyring.as_ref().is_some_and(|k| {
        matches!(&k.when, Some((path, ValueTest::Equals(_))) if path.to_string() == "/credsStore")
    })
}

/// docker's `ContainsAuth`: the file names a store or holds a login (then no default is picked).
pub fn names_a_store(config: &Value) -> bool {
    let non_empty = |key: &str| match config.get(key) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
        _ => false,
    };
    non_empty("credsStore") || non_empty("credHelpers") || non_empty("auths")
}

/// `name` found as an executable in the `:`-separated `path` (as Go's `exec.LookPath`).
fn on_path(path: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            }
        })
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// docker's `DetectDefaultStore("")` on Linux, for this PATH: the helper's name, and why.
pub fn detect(path: Option<&std::ffi::OsStr>) -> Option<(String, String)> {
    let path = path.unwrap_or_default();
    let has_pass = on_path(path, "pass").is_some();
    let name = if has_pass { "pass" } else { "secretservice" };
    on_path(path, &format!("docker-credential-{name}"))?;
    let chosen = if has_pass {
        "its default on this machine: pass is installed and no credsStore is set".to_string()
    } else {
        "its default on this machine: no credsStore set".to_string()
    };
    Some((name.to_string(), chosen))
}

/// What keeps `name` from saving a login here: no session bus for `secretservice`, no password
/// store for `pass`.
fn blocked(name: &str, home: Option<&Path>) -> Option<String> {
    match name {
        "secretservice" => crate::store::keyring::session_bus_address()
            .err()
            .map(|why| format!("which needs a D-Bus session bus: none here ({why})")),
        "pass" => {
            let store = environ::var_os("PASSWORD_STORE_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".password-store")))?;
            let id = store.join(".gpg-id");
            (!id.is_file()).then(|| {
                format!(
                    "which needs an initialised password store: pass has none here (no {})",
                    crate::support::paths::display(&id)
                )
            })
        }
        _ => None,
    }
}

/// The helper docker would use for `definition` with `config` (the parsed file; `None`: no
/// file), or `None` when the file names its store or docker would keep the login in the file.
pub fn default_helper(
    definition: &Definition,
    config: Option<&Value>,
    home: Option<&Path>,
) -> Option<DefaultHelper> {
    if !is_docker_config(definition) || config.is_some_and(names_a_store) {
        return None;
    }
    let (name, chosen) = detect(environ::var_os("PATH").as_deref())?;
    let blocked = blocked(&name, home);
    Some(DefaultHelper {
        name,
        chosen,
        blocked,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_ecr_registry_is_renewed_with_its_region_and_no_other_is() {
        assert_eq!(
            ecr_fix("123456789012.dkr.ecr.eu-west-1.amazonaws.com").as_deref(),
            Some("aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com (or, if you no longer use it: docker logout 123456789012.dkr.ecr.eu-west-1.amazonaws.com)")
        );
        assert!(ecr_fix("https://1.dkr.ecr.cn-north-1.amazonaws.com.cn").is_some());
        for other in [
            "ghcr.io",
            "127.0.0.1:5000",
            "1.dkr.ecr.x.example.com",
            "a;b.dkr.ecr.r.amazonaws.com",
            "",
        ] {
            assert_eq!(ecr_fix(other), None, "{other}");
        }
    }

    use super::*;
    use serde_json::json;

    fn executable(dir: &Path, name: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn docker_picks_pass_when_installed_else_secretservice_and_only_with_its_helper() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(detect(Some(path)), None, "no helper: docker keeps the file");
        executable(dir.path(), "docker-credential-secretservice");
        assert_eq!(detect(Some(path)).unwrap().0, "secretservice");
        executable(dir.path(), "pass");
        assert_eq!(detect(Some(path)), None, "pass installed, its helper not");
        executable(dir.path(), "docker-credential-pass");
        let (name, chosen) = detect(Some(path)).unwrap();
        assert_eq!(name, "pass");
        assert!(chosen.contains("pass is installed"));
        // Not executable: not found, as exec.LookPath.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("docker-credential-secretservice"), "").unwrap();
        assert_eq!(detect(Some(other.path().as_os_str())), None);
    }

    #[test]
    fn docker_picks_a_default_only_while_the_file_names_no_store_or_login() {
        assert!(!names_a_store(&json!({})));
        assert!(!names_a_store(
            &json!({"auths": {}, "credsStore": "", "credHelpers": {}})
        ));
        assert!(!names_a_store(&json!({"detachKeys": "ctrl-z"})));
        assert!(names_a_store(&json!({"auths": {"r.io": {}}})));
        assert!(names_a_store(&json!({"credsStore": "desktop"})));
        assert!(names_a_store(&json!({"credHelpers": {"r.io": "gcloud"}})));
        let docker = crate::define::config::preset("docker").unwrap().unwrap();
        assert!(is_docker_config(&docker));
        let gh = crate::define::config::preset("gh").unwrap().unwrap();
        assert!(!is_docker_config(&gh));
    }
}
