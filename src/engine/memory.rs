//! The memory of credentials seen: `seen.json` in `$XDG_STATE_HOME/credwatch/`, so a credential
//! that vanishes is reported `missing` with the time it vanished instead of silently dropping
//! out of the list.
//!
//! Beside it, `forgotten.json`: the credentials the user said they do not use here (`credwatch
//! forget NAME`), each with when; written only by `credwatch forget` and by the daemon when a new
//! login of one appears (it is then no longer forgotten).
//!
//! Guarantees: it holds names and times only; a damaged or unreadable file is an empty memory,
//! never fatal; it is written only when something changed.

use crate::support::lifetime::{self, Lifetime, Until};
use crate::support::runtime::write_atomically;
use crate::support::timefmt::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const MEMORY_FILE: &str = "seen.json";
pub const FORGOTTEN_FILE: &str = "forgotten.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Last time the credential was seen present.
    pub present_at: String,
    /// When it was first found gone, if it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vanished_at: Option<String>,
    /// Where it was seen (a memory written before this was kept has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Whether a usable login of it was ever seen here (`None`: a memory written before this was
    /// kept, taken as yes). One that never worked here and is gone is not `missing`: it drops
    /// out of the list (a docker config that never held a login, removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worked: Option<bool>,
    /// Where the system takes it away by design (the runtime directory, a tmpfs): the boot and
    /// session it was last seen present in, to tell a reboot or a logout from a logout of the
    /// tool's when it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<KeptIn>,
}

/// The boot (and, in the runtime directory, the session) a login the system takes away by
/// design was seen in (see `support::lifetime`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptIn {
    pub boot: String,
    /// The runtime directory and its identity then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

impl KeptIn {
    /// Where `observation`'s store in use is now, when the system takes it away by design: in
    /// the runtime directory, or in memory for a format kept there by design (a Kerberos
    /// cache; a store of another format on a tmpfs is a mistake, `unpersisted`).
    pub fn of(
        definition: &crate::define::config::Definition,
        observation: &crate::store::Observation,
    ) -> Option<KeptIn> {
        let crate::store::FileStatus::Read(facts) = &observation.primary_file()?.status else {
            return None;
        };
        let boot = lifetime::boot_id()?;
        Some(match facts.meta.lifetime.as_ref()? {
            Lifetime::RuntimeDir { dir, .. } => KeptIn {
                boot,
                runtime_dir: Some(crate::support::paths::display(dir)),
                session: lifetime::session_id(dir),
            },
            Lifetime::Memory { .. } if !definition.format.traits().volatile_by_design => {
                return None
            }
            Lifetime::Memory { .. } | Lifetime::KernelKeyring { .. } => KeptIn {
                boot,
                runtime_dir: None,
                session: None,
            },
        })
    }

    /// What took it away, now that it is gone: a reboot (another boot now), a logout (the same
    /// boot, another runtime directory), or neither (`None`: the tool's own logout, a deletion).
    fn taken_by(&self) -> Option<Until> {
        if lifetime::boot_id()? != self.boot {
            return Some(Until::Reboot);
        }
        let (dir, then) = (self.runtime_dir.as_ref()?, self.session.as_ref()?);
        (lifetime::session_id(std::path::Path::new(dir)).as_ref() != Some(then))
            .then_some(Until::Logout)
    }
}

/// Credentials seen present on this machine, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub credentials: BTreeMap<String, Seen>,
    /// The credentials forgotten (`credwatch forget`), with when: kept in their own file.
    #[serde(skip)]
    pub forgotten: Forgotten,
}

/// `forgotten.json`: name → when it was forgotten (RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forgotten {
    pub credentials: BTreeMap<String, String>,
}

/// A JSON file of ours in `dir`, or the empty value when it is missing, foreign or damaged.
fn load_json<T: serde::de::DeserializeOwned + Default>(
    dir: Option<&Path>,
    file: &str,
    limit: u64,
) -> T {
    dir.and_then(|d| {
        crate::support::runtime::read_own(&d.join(file), limit)
            .ok()
            .flatten()
    })
    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    .unwrap_or_default()
}

impl Forgotten {
    pub fn load(dir: Option<&Path>) -> Self {
        load_json(dir, FORGOTTEN_FILE, 1 << 20)
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(&dir.join(FORGOTTEN_FILE), &text)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.credentials.contains_key(name)
    }
}

impl Memory {
    pub fn load(dir: Option<&Path>) -> Self {
        let mut memory: Memory = load_json(dir, MEMORY_FILE, 16 << 20);
        memory.forgotten = Forgotten::load(dir);
        memory
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(&dir.join(MEMORY_FILE), &text)
    }

    /// Whether it was seen here with a usable login (or before that was kept).
    pub fn was_seen(&self, name: &str) -> bool {
        self.credentials
            .get(name)
            .is_some_and(|seen| seen.worked != Some(false))
    }

    /// When the credential vanished from one of `paths` (where it is looked for now), if it was
    /// seen there and is now gone. A credential seen elsewhere (a variable now points to another
    /// file) did not vanish from these.
    pub fn vanished_from(&self, name: &str, paths: &[String]) -> Option<&str> {
        let seen = self.credentials.get(name)?;
        if seen.path.as_ref().is_some_and(|p| !paths.contains(p)) {
            return None;
        }
        seen.vanished_at.as_deref()
    }

    /// What took away a credential seen in one of `paths` (where it is looked for now) in a
    /// place the system empties by design, now that it is gone from there: a reboot or a
    /// logout.
    pub fn taken_by_system(&self, name: &str, paths: &[String]) -> Option<Until> {
        let seen = self.credentials.get(name)?;
        if !seen.path.as_ref().is_some_and(|p| paths.contains(p)) {
            return None;
        }
        seen.kept.as_ref()?.taken_by()
    }

    /// Records where it is present (`None`: gone), whether its login is usable, and where the
    /// system takes it away by design (`kept`); returns whether anything changed (and so should
    /// be saved).
    pub fn record(
        &mut self,
        name: &str,
        present: Option<&str>,
        usable: bool,
        kept: Option<KeptIn>,
        now: Timestamp,
    ) -> bool {
        match (self.credentials.get_mut(name), present) {
            (None, None) => false,
            (None, Some(path)) => {
                self.credentials.insert(
                    name.to_string(),
                    Seen {
                        present_at: now.rfc3339(),
                        vanished_at: None,
                        path: Some(path.to_string()),
                        worked: Some(usable),
                        kept,
                    },
                );
                true
            }
            (Some(seen), Some(path)) => {
                let mut changed = seen.vanished_at.is_some()
                    || seen.path.as_deref() != Some(path)
                    || seen.kept != kept;
                seen.kept = kept;
                if usable && seen.worked == Some(false) {
                    seen.worked = Some(true);
                    changed = true;
                }
                seen.vanished_at = None;
                seen.present_at = now.rfc3339();
                seen.path = Some(path.to_string());
                changed
            }
            (Some(seen), None) if seen.vanished_at.is_none() => {
                seen.vanished_at = Some(now.rfc3339());
                // Gone while this boot and session last (the tool's logout, a deletion): what
                // the system takes away later is not this login.
                if seen.kept.as_ref().and_then(KeptIn::taken_by).is_none() {
                    seen.kept = None;
                }
                true
            }
            (Some(_), None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A login the user removed during the session (kdestroy, a deleted auth.json) was told
    /// as "lost at reboot" after the next reboot: the boot it was seen in was kept past its
    /// removal, and compared with the next boot's.
    #[test]
    fn a_login_removed_during_the_session_was_later_told_as_lost_at_reboot() {
        let boot = lifetime::boot_id().unwrap();
        let kept = |boot: &str| KeptIn {
            boot: boot.to_string(),
            runtime_dir: None,
            session: None,
        };
        let paths = ["/t/krb5cc".to_string()];
        let mut memory = Memory::default();
        memory.record(
            "k",
            Some("/t/krb5cc"),
            true,
            Some(kept(&boot)),
            Timestamp::from_secs(1),
        );
        assert_eq!(memory.taken_by_system("k", &paths), None, "still this boot");
        memory.record("k", None, true, None, Timestamp::from_secs(2));
        assert_eq!(
            memory.credentials["k"].kept, None,
            "removed in this boot: not the system's"
        );
        assert_eq!(memory.taken_by_system("k", &paths), None);
        // Seen in another boot, gone in this one: the reboot took it, and stays the story.
        memory.record(
            "k",
            Some("/t/krb5cc"),
            true,
            Some(kept("another-boot")),
            Timestamp::from_secs(3),
        );
        memory.record("k", None, true, None, Timestamp::from_secs(4));
        assert_eq!(memory.taken_by_system("k", &paths), Some(Until::Reboot));
        assert_eq!(memory.taken_by_system("k", &["/elsewhere".into()]), None);
    }

    #[test]
    fn memory_records_vanishing_once() {
        let mut memory = Memory::default();
        let here = ["/h/a".to_string()];
        assert!(!memory.record("a", None, true, None, Timestamp::from_secs(1)));
        assert!(memory.record("a", Some("/h/a"), true, None, Timestamp::from_secs(2)));
        assert!(!memory.record("a", Some("/h/a"), true, None, Timestamp::from_secs(3)));
        assert!(memory.record("a", None, true, None, Timestamp::from_secs(4)));
        assert!(!memory.record("a", None, true, None, Timestamp::from_secs(5)));
        assert_eq!(
            memory.vanished_from("a", &here),
            Some("1970-01-01T00:00:04Z")
        );
        assert_eq!(
            memory.vanished_from("a", &["/elsewhere".to_string()]),
            None,
            "seen at another path: it did not vanish from this one"
        );
        assert!(memory.record("a", Some("/h/a"), true, None, Timestamp::from_secs(6)));
        assert_eq!(memory.vanished_from("a", &here), None);
    }

    #[test]
    fn a_credential_never_seen_working_here_is_not_remembered_as_seen() {
        let mut memory = Memory::default();
        assert!(memory.record("d", Some("/h/d"), false, None, Timestamp::from_secs(1)));
        assert!(!memory.was_seen("d"), "present, never usable");
        assert!(memory.record("d", Some("/h/d"), true, None, Timestamp::from_secs(2)));
        assert!(memory.was_seen("d"));
        let old: Memory =
            serde_json::from_str(r#"{"credentials":{"o":{"present_at":"2026-01-01T00:00:00Z"}}}"#)
                .unwrap();
        assert!(
            old.was_seen("o"),
            "kept before `worked` was: taken as seen working"
        );
    }
}
