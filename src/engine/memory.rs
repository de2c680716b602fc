//! The memory of credentials seen: `seen.json` in `$XDG_STATE_HOME/credwatch/`, so a credential
//! that vanishes is reported `missing` with the time it vanished instead of silently dropping
//! out of the list.
//!
//! Guarantees: it holds names and times only; a damaged or unreadable file is an empty memory,
//! never fatal; it is written only when something changed.

use crate::support::runtime::write_atomically;
use crate::support::timefmt::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const MEMORY_FILE: &str = "seen.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Last time the credential was seen present.
    pub present_at: String,
    /// When it was first found gone, if it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vanished_at: Option<String>,
}

/// Credentials seen present on this machine, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub credentials: BTreeMap<String, Seen>,
}

impl Memory {
    pub fn load(dir: Option<&Path>) -> Self {
        dir.and_then(|d| std::fs::read(d.join(MEMORY_FILE)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(&dir.join(MEMORY_FILE), &text)
    }

    pub fn was_seen(&self, name: &str) -> bool {
        self.credentials.contains_key(name)
    }

    /// When the credential vanished, if it was seen and is now gone.
    pub fn vanished_at(&self, name: &str) -> Option<&str> {
        self.credentials.get(name)?.vanished_at.as_deref()
    }

    /// Records presence; returns whether anything changed (and so should be saved).
    pub fn record(&mut self, name: &str, present: bool, now: Timestamp) -> bool {
        match (self.credentials.get_mut(name), present) {
            (None, false) => false,
            (None, true) => {
                self.credentials.insert(
                    name.to_string(),
                    Seen {
                        present_at: now.rfc3339(),
                        vanished_at: None,
                    },
                );
                true
            }
            (Some(seen), true) => {
                let changed = seen.vanished_at.is_some();
                seen.vanished_at = None;
                seen.present_at = now.rfc3339();
                changed
            }
            (Some(seen), false) if seen.vanished_at.is_none() => {
                seen.vanished_at = Some(now.rfc3339());
                true
            }
            (Some(_), false) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_records_vanishing_once() {
        let mut memory = Memory::default();
        assert!(!memory.record("a", false, Timestamp::from_secs(1)));
        assert!(memory.record("a", true, Timestamp::from_secs(2)));
        assert!(!memory.record("a", true, Timestamp::from_secs(3)));
        assert!(memory.record("a", false, Timestamp::from_secs(4)));
        assert!(!memory.record("a", false, Timestamp::from_secs(5)));
        assert_eq!(memory.vanished_at("a"), Some("1970-01-01T00:00:04Z"));
        assert!(memory.record("a", true, Timestamp::from_secs(6)));
        assert_eq!(memory.vanished_at("a"), None);
    }
}
