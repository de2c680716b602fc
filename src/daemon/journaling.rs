//! The daemon's part that writes the journal. The other parts hand it lines as they go (a store
//! event, a settled transition, a probe's answer); it appends them once per batch, in order.
//!
//! Guarantees: what the journal cannot take (a full disk, a state dir gone) is kept, in order,
//! and written before anything newer at the next write; at most [`UNWRITTEN_LIMIT`] lines are
//! kept (the oldest go first), and the journal then says how many were lost, in words.

use crate::engine::journal::{Journal, Record};
use crate::support::timefmt::Timestamp;

/// How many journal entries are kept in memory while the journal cannot be written.
const UNWRITTEN_LIMIT: usize = 10_000;

pub(super) struct JournalWriter {
    journal: Journal,
    /// The lines of the batch under way.
    pending: Vec<Record>,
    /// Lines the journal could not take, written first at the next write.
    unwritten: Vec<Record>,
    /// How many lines were dropped since the last successful write.
    dropped: u64,
    limit: usize,
}

impl JournalWriter {
    pub(super) fn new(journal: Journal) -> Self {
        JournalWriter {
            journal,
            pending: Vec::new(),
            unwritten: Vec::new(),
            dropped: 0,
            limit: UNWRITTEN_LIMIT,
        }
    }

    /// A line of the batch under way (written by [`Self::end_batch`]).
    pub(super) fn add(&mut self, line: Record) {
        self.pending.push(line);
    }

    pub(super) fn extend(&mut self, lines: impl IntoIterator<Item = Record>) {
        self.pending.extend(lines);
    }

    /// Writes the batch's lines.
    pub(super) fn end_batch(&mut self) {
        let lines = std::mem::take(&mut self.pending);
        self.write(&lines);
    }

    /// Appends `entries` after any that could not be written before, in order; what fails again
    /// is kept for the next write.
    pub(super) fn write(&mut self, entries: &[Record]) {
        self.unwritten.extend_from_slice(entries);
        if self.unwritten.is_empty() {
            return;
        }
        let retry = self.unwritten.len() > entries.len() || self.dropped > 0;
        let written = if self.dropped > 0 {
            let note = Record::daemon(
                Timestamp::now(),
                "entries-lost",
                format!(
                    "{} entries could not be written (the disk was full) and were dropped",
                    self.dropped
                ),
            );
            self.journal
                .append(&[std::slice::from_ref(&note), &self.unwritten].concat())
        } else {
            self.journal.append(&self.unwritten)
        };
        match written {
            Ok(()) => {
                if retry {
                    tracing::info!(
                        entries = self.unwritten.len(),
                        "journal written again, earlier entries included"
                    );
                }
                self.unwritten.clear();
                self.dropped = 0;
            }
            Err(error) => {
                if retry {
                    tracing::debug!(%error, "the journal still cannot be written");
                } else {
                    tracing::warn!(%error, "cannot write the journal: keeping the entries to write them later");
                }
                let excess = self.unwritten.len().saturating_sub(self.limit);
                self.unwritten.drain(..excess);
                self.dropped += excess as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: i64) -> Record {
        Record::new(Timestamp::from_millis(n), &format!("c{n}"), "modified")
    }

    fn names(dir: &std::path::Path) -> Vec<String> {
        Journal::read(dir).into_iter().map(|r| r.name).collect()
    }

    #[test]
    fn lines_the_journal_could_not_take_are_written_first_in_order_and_the_loss_is_said() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("state");
        let mut writer = JournalWriter::new(Journal::new(&dir));
        writer.limit = 3;
        // The state dir is not there: nothing can be written.
        for n in 1..=5 {
            writer.add(line(n));
            writer.end_batch();
        }
        assert_eq!(writer.unwritten.len(), 3, "kept up to the limit");
        assert_eq!(writer.dropped, 2);
        std::fs::create_dir(&dir).unwrap();
        writer.add(line(6));
        writer.end_batch();
        assert_eq!(
            names(&dir),
            [crate::engine::journal::DAEMON_NAME, "c3", "c4", "c5", "c6"],
            "the note of the loss, then the kept lines in order, then the new one"
        );
        let note = &Journal::read(&dir)[0];
        assert_eq!(note.event, "entries-lost");
        assert!(
            note.detail
                .as_deref()
                .is_some_and(|d| d.starts_with("2 entries could not be written")),
            "{:?}",
            note.detail
        );
        // Written: nothing is kept, and nothing is said again.
        writer.add(line(7));
        writer.end_batch();
        assert_eq!(names(&dir).len(), 6);
        assert!(writer.unwritten.is_empty() && writer.dropped == 0);
    }

    #[test]
    fn an_empty_batch_writes_nothing() {
        let base = tempfile::tempdir().unwrap();
        let mut writer = JournalWriter::new(Journal::new(base.path()));
        writer.end_batch();
        assert!(!base.path().join("journal.jsonl").exists());
    }
}
