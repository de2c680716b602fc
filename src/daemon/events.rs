//! File events: what inotify watches (see `inotify::watches_for`), and what a batch of events
//! changes: the config (reload), the watches themselves (a store replaced, a directory created or
//! removed), the credentials whose stores they touch (refresh), the runtime dir (recreated). An
//! overflowed queue rescans everything. A watch that cannot be set (the per-user watch limit,
//! a directory it may not read) is retried every [`WATCH_RETRY_MS`], and the credentials behind
//! it are looked at again each time: they are polled, not watched, and `status` and `doctor`
//! say so with the fix.

use super::{inotify, Daemon};
use crate::support::timefmt::Timestamp;
use crate::support::watch::{Batch, Change, Mask, WatchError};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How often watches that could not be set are tried again (and what they cover polled).
pub(super) const WATCH_RETRY_MS: i64 = 30_000;

impl Daemon {
    /// Brings the watches in line with the targets; remembers those that cannot be set.
    pub(super) fn rewatch(&mut self) {
        let mut targets: Vec<PathBuf> = self
            .entries
            .iter()
            .flat_map(|e| e.paths().cloned())
            .collect();
        targets.extend(self.config_targets());
        let mut wanted = inotify::watches_for(&targets);
        // The runtime dir: gone or moved away (a tmp cleaner) is seen at once. Nothing else in it
        // is asked for, so the daemon's own writes there wake nothing.
        *wanted
            .entry(self.runtime_dir.clone())
            .or_insert(Mask::empty()) |= Mask::IN_DELETE_SELF | Mask::IN_MOVE_SELF;
        let stale: Vec<PathBuf> = self
            .watcher
            .watched()
            .filter(|path| !wanted.contains_key(*path))
            .map(Path::to_path_buf)
            .collect();
        for path in stale {
            self.watcher.unwatch(&path);
        }
        let mut failures = BTreeMap::new();
        for (path, mask) in wanted {
            if let Err(error) = self.watcher.watch(&path, mask) {
                if !error.is_absent() {
                    failures.insert(path, error);
                }
            }
        }
        if failures.keys().ne(self.watch_failures.keys()) {
            for error in failures.values() {
                if !self.watch_failures.contains_key(&error.path) {
                    tracing::warn!(error = %error, "cannot watch: polling what it covers instead");
                }
            }
            self.dirty = true;
        }
        self.watch_retry_at =
            (!failures.is_empty()).then(|| Timestamp::now().saturating_add_millis(WATCH_RETRY_MS));
        self.watch_failures = failures;
    }

    /// The watches that could not be set, as published.
    pub(super) fn unwatched(&self) -> Vec<&WatchError> {
        self.watch_failures.values().collect()
    }

    /// The retry of watches that could not be set is due: try again, and look at what they cover.
    pub(super) fn retry_watches(&mut self, now: Timestamp) {
        let failed: Vec<PathBuf> = self.watch_failures.keys().cloned().collect();
        self.rewatch();
        let covered: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                self.entries[i]
                    .paths()
                    .any(|target| failed.iter().any(|dir| target.starts_with(dir)))
            })
            .collect();
        self.refresh_entries(covered, now);
    }

    pub(super) fn handle_events(&mut self, batch: Batch) {
        let changes = match batch {
            Batch::Overflow => {
                tracing::info!("event queue overflowed: rescanning everything");
                let all: Vec<PathBuf> = self.watcher.watched().map(Path::to_path_buf).collect();
                for path in all {
                    self.watcher.unwatch(&path);
                }
                self.rewatch();
                self.refresh_all();
                return;
            }
            Batch::Changes(changes) => changes,
        };
        if changes.is_empty() {
            return;
        }
        if changes
            .iter()
            .any(|c| c.path == self.runtime_dir && c.is_structural())
        {
            self.watcher.unwatch(&self.runtime_dir.clone());
            self.runtime_dir_changed();
        }
        if self
            .config_path
            .as_deref()
            .is_some_and(|config| changes.iter().any(|c| inotify::touches(&c.path, config)))
        {
            self.reload("the config file changed");
        }
        let structural: Vec<&Change> = changes
            .iter()
            .filter(|c| c.is_structural() && self.changes_watches(&c.path))
            .collect();
        if !structural.is_empty() {
            for change in structural {
                self.forget_watches_under(&change.path.clone());
            }
            self.rewatch();
        }
        let now = Timestamp::now();
        let mut touched = BTreeSet::new();
        for change in &changes {
            self.index.touched_by(&change.path, &mut touched);
        }
        self.refresh_entries(touched.into_iter().collect(), now);
        self.after_refresh();
    }

    /// Whether a change at `path` (created, removed, renamed) changes what must be watched: it
    /// is watched, or holds something watched, or lies on the way to a store, or is a store
    /// (which may now be another file, or exist at last).
    fn changes_watches(&self, path: &Path) -> bool {
        self.watcher.watched().any(|w| w.starts_with(path))
            || self.index.is_on_the_way(path)
            || self.index.is_target(path)
    }

    /// Drops the watches at and under `path`: what is there now may be another inode.
    fn forget_watches_under(&mut self, path: &Path) {
        let dead: Vec<PathBuf> = self
            .watcher
            .watched()
            .filter(|w| w.starts_with(path) && *w != self.runtime_dir)
            .map(Path::to_path_buf)
            .collect();
        for watched in dead {
            self.watcher.unwatch(&watched);
        }
    }
}
