//! What happened to each credential, kept in `$XDG_STATE_HOME/credwatch/`.
//!
//! - `journal.jsonl`: one JSON object per line: store events (created, modified, blanked,
//!   deleted, mode-changed) and every state transition, with times. Bounded: past
//!   [`JOURNAL_LIMIT`] bytes it rotates to `journal.jsonl.1`, so at most twice that is kept.
//! - `seen.json`: the credentials seen present, so one that vanishes is reported `missing` with
//!   the time it vanished instead of silently dropping out of the list.
//!
//! Guarantees: entries carry names, paths, states and reasons only, never a secret; a damaged or
//! unreadable file is skipped line by line, never fatal.

use crate::support::runtime::write_atomically;
use crate::support::timefmt::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const MEMORY_FILE: &str = "seen.json";
pub const JOURNAL_LIMIT: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub at: String,
    pub name: String,
    /// `created`, `modified`, `blanked`, `deleted`, `mode-changed`, `state`, `config-error`.
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Record {
    pub fn new(at: Timestamp, name: &str, event: &str) -> Self {
        Record {
            at: at.rfc3339(),
            name: name.to_string(),
            event: event.to_string(),
            path: None,
            from: None,
            to: None,
            detail: None,
        }
    }
}

pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn new(dir: &Path) -> Self {
        Journal {
            path: dir.join(JOURNAL_FILE),
        }
    }

    /// Appends entries; rotates first when the file has grown past the limit.
    pub fn append(&self, entries: &[Record]) -> std::io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() > JOURNAL_LIMIT) {
            std::fs::rename(&self.path, self.path.with_extension("jsonl.1"))?;
        }
        let mut text = String::new();
        for entry in entries {
            text.push_str(&serde_json::to_string(entry).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)?;
        file.write_all(text.as_bytes())
    }

    /// All readable entries, oldest first (the rotated file, then the current one).
    pub fn read(dir: &Path) -> Vec<Record> {
        let current = dir.join(JOURNAL_FILE);
        let mut entries = Vec::new();
        for path in [current.with_extension("jsonl.1"), current] {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            entries.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
        }
        entries
    }
}

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
    fn journal_rotates_and_reads_both_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        let big = "x".repeat(4096);
        let mut written = 0;
        while std::fs::metadata(dir.path().join(JOURNAL_FILE)).map_or(0, |m| m.len())
            <= JOURNAL_LIMIT
        {
            let mut entry = Record::new(Timestamp::from_secs(written), "a", "modified");
            entry.detail = Some(big.clone());
            journal.append(&[entry]).unwrap();
            written += 1;
        }
        journal
            .append(&[Record::new(Timestamp::from_secs(written), "a", "deleted")])
            .unwrap();
        assert!(dir.path().join("journal.jsonl.1").exists());
        let entries = Journal::read(dir.path());
        assert_eq!(entries.len() as i64, written + 1);
        assert_eq!(entries.last().unwrap().event, "deleted");
        std::fs::write(dir.path().join(JOURNAL_FILE), "garbage\n{\"half\":").unwrap();
        assert_eq!(
            Journal::read(dir.path()).len() as i64,
            written,
            "damaged lines are skipped"
        );
    }

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
