//! What happened to each credential: `journal.jsonl` in `$XDG_STATE_HOME/credwatch/`, one JSON
//! object per line: store events (created, modified, blanked, deleted, mode-changed), every state
//! transition and every probe, with times. Bounded: past [`JOURNAL_LIMIT`] bytes it rotates to
//! `journal.jsonl.1`, so at most twice that is kept.
//!
//! Guarantees: records carry names, paths, states and reasons only, never a secret; a damaged or
//! unreadable file is skipped line by line, never fatal.

use crate::support::timefmt::Timestamp;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const JOURNAL_LIMIT: u64 = 1 << 20;
/// The `name` of the daemon's own entries (`config-error`, `entries-lost`): no credential can
/// take it, since a credential's name is made of letters, digits, `-`, `_` and `.` only
/// (`define::config::validate`), so `credwatch journal @daemon` shows them alone and a
/// credential named `config` or `journal` is never mistaken for them.
pub const DAEMON_NAME: &str = "@daemon";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub at: String,
    /// A credential's name, or [`DAEMON_NAME`] for the daemon's own entries.
    pub name: String,
    /// A credential's: `created`, `modified`, `blanked`, `deleted`, `mode-changed`, `state`,
    /// `probe`, `notify-failed`, `hook-failed`, `hook-timed-out`, `forgotten` (logged out with
    /// the tool's own command); the daemon's own:
    /// `config-error`, `entries-lost`.
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

    /// One of the daemon's own entries (named [`DAEMON_NAME`]).
    pub fn daemon(at: Timestamp, event: &str, detail: String) -> Self {
        Record {
            detail: Some(detail),
            ..Record::new(at, DAEMON_NAME, event)
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
        let mut file = crate::support::runtime::open_own_for_writing(&self.path, true)?;
        let before = file.metadata()?.len();
        // A line left half-written by an earlier failure (a full disk) is ended first, so the
        // next entry is never glued onto it.
        let mut last = [0u8; 1];
        let ended = before == 0
            || std::os::unix::fs::FileExt::read_at(&file, &mut last, before - 1)
                .map_or(true, |n| n == 0 || last[0] == b'\n');
        if !ended {
            text.insert(0, '\n');
        }
        if let Err(error) = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
        {
            // Nothing half-written is left behind: the file goes back to its length before.
            let _ = file.set_len(before);
            return Err(error);
        }
        Ok(())
    }

    /// All readable entries, oldest first (the rotated file, then the current one).
    pub fn read(dir: &Path) -> Vec<Record> {
        let current = dir.join(JOURNAL_FILE);
        let mut entries = Vec::new();
        for path in [current.with_extension("jsonl.1"), current] {
            let Ok(Some(bytes)) = crate::support::runtime::read_own(&path, 64 << 20) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            entries.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
        }
        entries
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
}
