//! Credentials kept in the Secret Service (gnome-keyring, KeePassXC…): which items a definition
//! expects, and what the session bus, the provider and the collections say about them.
//!
//! Guarantees: nothing here unlocks a collection, prompts, or writes an item; a secret is read only
//! when a definition takes a deadline from it, and is dropped as soon as the date is read; every
//! D-Bus call has a timeout, and a call that times out makes the result `TimedOut` (the state
//! becomes `unknown`), never "missing" or "logged out". With no session bus at all, nothing is
//! tried: the answer is [`Reach::NoBus`] at once.

mod dbus;
/// The session bus, or why it cannot be reached (shared with desktop notifications).
pub use dbus::connect as connect_session_bus;
pub mod signals;

pub use dbus::{connect, fetch, fetch_blocking, modified_changed, unlock};

use super::{Policies, WatchTarget};
use crate::define::config::{Definition, Keyring, SecretExpiry};
use crate::support::timefmt::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// The Secret Service's well-known bus name.
pub const SECRET_SERVICE: &str = "org.freedesktop.secrets";

/// What a login kept in the keyring must be: the Secret Service guards who reads it (no mode
/// to check), but its in-memory `session` collection is lost at logout.
pub const POLICIES: Policies = Policies {
    private: false,
    volatile_is_lost: true,
};

/// What the daemon watches for a definition's keyring items: the Secret Service.
pub fn watch_targets(definition: &Definition) -> Vec<WatchTarget> {
    match definition.keyring {
        Some(_) => vec![WatchTarget::SecretService],
        None => Vec::new(),
    }
}

/// What a definition expects to find in the keyring, given its credential file (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringPlan {
    pub items: Vec<WantedItem>,
    /// Matches of `each` whose token is kept in the file itself, in plain text.
    pub plaintext: Vec<String>,
    /// Whether keeping a token in plain text while a keyring works deserves a warning.
    pub flag_plaintext: bool,
    /// The matches of `each` (items and plain-text ones) that are accounts not in use, when
    /// the file names an active one (`active`).
    pub inactive: Vec<String>,
    /// Whether the definition tells the active account (`active`): then every account is
    /// listed.
    pub tells_active: bool,
    pub expires: Option<SecretExpiry>,
}

/// One expected item: the attributes it is searched by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WantedItem {
    /// What it stands for, in the user's words: `github.com/octo`, or its attributes.
    pub label: String,
    pub service: Option<String>,
    pub account: Option<String>,
    /// Every attribute searched for (including `service` and `username`).
    pub attributes: BTreeMap<String, String>,
}

/// What the keyring said, for one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringObservation {
    pub reach: Reach,
    /// One per wanted item, in the plan's order (empty unless the keyring was reachable).
    pub items: Vec<ItemLookup>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Neither `DBUS_SESSION_BUS_ADDRESS` nor `$XDG_RUNTIME_DIR/bus`: typical of SSH sessions.
    NoBus {
        detail: String,
    },
    BusFailed {
        address: String,
        error: String,
    },
    /// Nothing owns (or can be started as) `org.freedesktop.secrets` on the bus.
    NoProvider,
    /// None runs now, though the bus could start one (the daemon never does: it waits for one).
    NotRunning,
    NoDefaultCollection,
    Locked {
        collection: String,
    },
    TimedOut {
        step: &'static str,
    },
    Failed {
        step: &'static str,
        error: String,
    },
    Reachable {
        default_collection: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLookup {
    pub wanted: WantedItem,
    pub found: Vec<FoundItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundItem {
    /// The D-Bus object path, e.g. `/org/freedesktop/secrets/collection/login/3`.
    pub path: String,
    /// The collection's name in its path (`login`, `session`, `kdbx`…).
    pub collection: String,
    /// False for the `session` collection, which lives in memory until logout.
    pub persistent: bool,
    pub locked: bool,
    pub modified: Option<Timestamp>,
    /// The deadline read from the secret, when the definition asks for one.
    pub expires: Option<Result<Timestamp, String>>,
}

/// In words, for logs, the journal and notifications (never the `Debug` form).
impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reach::NoBus { detail } => write!(f, "no session bus ({detail})"),
            Reach::BusFailed { address, error } => {
                write!(f, "cannot connect to the session bus at {address}: {error}")
            }
            Reach::NoProvider => f.write_str(
                "the session bus has no Secret Service (nothing provides org.freedesktop.secrets)",
            ),
            Reach::NotRunning => f.write_str(
                "the Secret Service is not running (the session bus would start it for a tool that asks)",
            ),
            Reach::NoDefaultCollection => {
                f.write_str("the Secret Service has no default keyring")
            }
            Reach::Locked { collection } => {
                write!(f, "the keyring collection \"{collection}\" is locked")
            }
            Reach::TimedOut { step } => {
                write!(f, "the keyring did not answer within 2 s ({step})")
            }
            Reach::Failed { step, error } => {
                write!(f, "the keyring could not be asked ({step}): {error}")
            }
            Reach::Reachable { default_collection } => write!(
                f,
                "the keyring answers (default collection \"{default_collection}\")"
            ),
        }
    }
}

impl KeyringObservation {
    /// Whether this lookup answers `plan`: it looked for the same items (an unreachable keyring
    /// answers every plan).
    pub fn answers(&self, plan: &KeyringPlan) -> bool {
        !matches!(self.reach, Reach::Reachable { .. })
            || self.items.iter().map(|l| &l.wanted).eq(plan.items.iter())
    }
}

impl WantedItem {
    /// `service "gh:github.com", account "octo"`, or the attributes when there is no service.
    pub fn describe(&self) -> String {
        match (&self.service, &self.account) {
            (Some(service), Some(account)) => {
                format!("service \"{service}\", account \"{account}\"")
            }
            (Some(service), None) => format!("service \"{service}\""),
            _ => {
                let attrs: Vec<String> = self
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                attrs.join(", ")
            }
        }
    }
}

/// The items `keyring` expects, given the parsed credential file (`None` when there is no readable
/// file). `None` when the keyring is not in use: its `when` test fails, or `each` has no file.
pub fn plan(keyring: &Keyring, document: Option<&Value>) -> Option<KeyringPlan> {
    if let Some((path, test)) = &keyring.when {
        let holds = path
            .resolve(document?)
            .iter()
            .any(|v| v.as_str().is_some_and(|s| test.holds_for(s)));
        if !holds {
            return None;
        }
    }
    let mut plan = KeyringPlan {
        items: Vec::new(),
        plaintext: Vec::new(),
        flag_plaintext: keyring.in_file.is_some(),
        expires: keyring.expires.clone(),
        inactive: Vec::new(),
        tells_active: keyring.spec.active.is_some(),
    };
    match &keyring.each {
        None => plan.items.push(wanted(keyring, &[])),
        Some(each) => {
            for (keys, value) in each.resolve_with_keys(document?) {
                // Another account than the one the file names active (gh's `user:`); none
                // named: every one counts.
                let active_one = keyring.spec.active.as_deref().and_then(|template| {
                    let path = crate::support::docpath::DocPath::parse(&fill_placeholders(
                        template, &keys,
                    ))
                    .ok()?;
                    path.resolve(document?)
                        .first()
                        .and_then(|v| v.as_str())
                        .map(String::from)
                });
                if active_one.is_some_and(|name| keys.last() != Some(&name)) {
                    plan.inactive.push(keys.join("/"));
                }
                let in_file = keyring
                    .in_file
                    .as_ref()
                    .and_then(|field| value.get(field))
                    .and_then(Value::as_str)
                    .is_some_and(|token| !token.trim().is_empty());
                if in_file {
                    plan.plaintext.push(keys.join("/"));
                } else {
                    plan.items.push(wanted(keyring, &keys));
                }
            }
        }
    }
    Some(plan)
}

fn wanted(keyring: &Keyring, keys: &[String]) -> WantedItem {
    let fill = |template: &str| fill_placeholders(template, keys);
    let spec = &keyring.spec;
    let service = spec.service.as_deref().map(fill);
    let account = spec.account.as_deref().map(fill);
    let mut attributes: BTreeMap<String, String> = spec
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), fill(v)))
        .collect();
    if let Some(service) = &service {
        attributes.insert("service".into(), service.clone());
    }
    if let Some(account) = &account {
        attributes.insert("username".into(), account.clone());
    }
    let mut item = WantedItem {
        label: keys.join("/"),
        service,
        account,
        attributes,
    };
    if item.label.is_empty() {
        item.label = item.describe();
    }
    item
}

/// Replaces `{1}`, `{2}`… with the keys matched by `each`'s wildcards.
fn fill_placeholders(template: &str, keys: &[String]) -> String {
    let mut out = template.to_string();
    for (i, key) in keys.iter().enumerate() {
        out = out.replace(&format!("{{{}}}", i + 1), key);
    }
    out
}

/// Where the session bus is, by the same rule as libdbus and zbus: `DBUS_SESSION_BUS_ADDRESS`, else
/// the socket `$XDG_RUNTIME_DIR/bus`. The error says what is missing, for the reason shown.
pub fn session_bus_address() -> Result<String, String> {
    if let Some(address) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
        let address = address.to_string_lossy().trim().to_string();
        if !address.is_empty() {
            return Ok(address);
        }
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        None => Err("DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are not set".into()),
        Some(dir) => {
            let socket = std::path::Path::new(&dir).join("bus");
            if socket.exists() {
                Ok(format!("unix:path={}", socket.display()))
            } else {
                Err(format!(
                    "DBUS_SESSION_BUS_ADDRESS is not set and {} does not exist",
                    crate::support::paths::display(&socket)
                ))
            }
        }
    }
}

/// The collection part of an item path: `/org/freedesktop/secrets/collection/login/3` → `login`.
pub fn collection_of(item_path: &str) -> String {
    item_path
        .strip_prefix("/org/freedesktop/secrets/collection/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("?")
        .to_string()
}

/// Reads the deadline inside a secret (`None`: the secret carries none, like a git password
/// without `password_expiry_utc`); the secret is dropped before this returns. Errors never quote
/// the secret.
pub fn secret_deadline(
    secret: crate::support::secret::Secret,
    how: &SecretExpiry,
) -> Result<Option<Timestamp>, String> {
    match how {
        SecretExpiry::Jwt => super::expiry::jwt_expiry(&secret)
            .map(Some)
            .map_err(|why| format!("the secret {why}")),
        SecretExpiry::Key(key) => {
            let prefix = format!("{key}=");
            let Some(value) = secret
                .expose()
                .lines()
                .find_map(|line| line.trim().strip_prefix(prefix.as_str()))
            else {
                return Ok(None);
            };
            super::expiry::read_expiry(
                &Value::String(value.trim().to_string()),
                crate::define::config::Reading::Date,
                crate::support::timefmt::EpochUnit::Seconds,
            )
            .map_err(|why| format!("{key} in the secret {why}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::secret::Secret;

    fn gh() -> Keyring {
        crate::define::config::preset("gh")
            .unwrap()
            .unwrap()
            .keyring
            .map(|k| *k)
            .unwrap()
    }

    #[test]
    fn gh_plan_expects_one_item_per_user_without_a_plaintext_token() {
        let hosts = serde_json::json!({
            "github.com": {"users": {"octo": {}, "cat": {"oauth_token": "gho_x"}}, "user": "octo"},
            "ghe.example": {"users": {"dev": {"oauth_token": ""}}}
        });
        let plan = plan(&gh(), Some(&hosts)).unwrap();
        let wanted: Vec<(&str, Option<&str>, Option<&str>)> = plan
            .items
            .iter()
            .map(|i| (i.label.as_str(), i.service.as_deref(), i.account.as_deref()))
            .collect();
        assert_eq!(
            wanted,
            vec![
                ("ghe.example/dev", Some("gh:ghe.example"), Some("dev")),
                ("github.com/octo", Some("gh:github.com"), Some("octo")),
            ]
        );
        assert_eq!(plan.plaintext, vec!["github.com/cat".to_string()]);
        assert_eq!(plan.items[1].attributes["username"], "octo");
    }

    #[test]
    fn a_failed_when_test_means_the_keyring_is_not_used() {
        let docker = crate::define::config::preset("docker")
            .unwrap()
            .unwrap()
            .keyring
            .unwrap();
        let desktop = serde_json::json!({"auths": {"r.io": {}}, "credsStore": "desktop"});
        assert_eq!(plan(&docker, Some(&desktop)), None);
        let ss = serde_json::json!({"auths": {"r.io": {}}, "credsStore": "secretservice"});
        let plan = plan(&docker, Some(&ss)).unwrap();
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].attributes["server"], "r.io");
        assert_eq!(plan.items[0].attributes.get("service"), None);
    }

    #[test]
    fn deadlines_inside_secrets() {
        let git = SecretExpiry::Key("password_expiry_utc".into());
        let secret = Secret::new("hunter2\npassword_expiry_utc=1900000000\n");
        assert_eq!(
            secret_deadline(secret, &git).unwrap().unwrap().millis(),
            1_900_000_000_000
        );
        assert_eq!(secret_deadline(Secret::new("hunter2"), &git), Ok(None));
        let bad = Secret::new("hunter2\npassword_expiry_utc=soon");
        let err = secret_deadline(bad, &git).unwrap_err();
        assert!(err.contains("password_expiry_utc"), "{err}");
        assert!(!err.contains("hunter2") && !err.contains("soon"), "{err}");
        let err = secret_deadline(Secret::new("hunter2"), &SecretExpiry::Jwt).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn item_paths_name_their_collection() {
        assert_eq!(
            collection_of("/org/freedesktop/secrets/collection/login/3"),
            "login"
        );
        assert_eq!(
            collection_of("/org/freedesktop/secrets/collection/session/1"),
            "session"
        );
    }
}
