//! File events: what inotify watches (see `inotify::watches_for`), and what a batch of events
//! changes: the config (reload), the watches themselves (a store replaced, a directory created or
//! removed), the credentials whose stores they touch (refresh), the runtime dir (recreated). An
//! overflowed queue rescans everything. A watch that cannot be set (the per-user watch limit,
//! a directory it may not read) is retried every [`WATCH_RETRY_MS`], and the credentials behind
//! it are looked at again each time: they are polled, not watched, and `status` and `doctor`
//! say so with the fix.

use super::{inotify, Daemon};
use crate::support::timefmt::Timestamp;
use crate::support::watch::{Batch, Change, Mask, WatchError, CONTENT};
use std::collections::BTreeSet;
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
        targets.extend(self.contexts.targets().cloned());
        let mut wanted = inotify::watches_for(&targets);
        // The shells' contexts: written (closed), renamed in, removed.
        if self.contexts.context_dir().is_dir() {
            *wanted
                .entry(self.contexts.context_dir().to_path_buf())
                .or_insert(Mask::empty()) |=
                Mask::IN_CLOSE_WRITE | Mask::IN_MOVED_TO | Mask::IN_DELETE;
        }
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
        let before = std::mem::take(&mut self.watch_failures);
        self.watch_retry_at = None;
        for error in inotify::set_watches(&mut self.watcher, &targets, wanted) {
            let known = before.contains_key(&error.path);
            self.watch_failed(error, known);
        }
        if before.keys().ne(self.watch_failures.keys()) {
            self.dirty = true;
        }
    }

    /// A watch could not be set: remembered (what it covers is polled), retried, published.
    fn watch_failed(&mut self, error: WatchError, known: bool) {
        if error.is_absent() {
            return;
        }
        if !known {
            tracing::warn!(error = %error, "cannot watch: polling what it covers instead");
            self.dirty = true;
        }
        self.watch_retry_at
            .get_or_insert_with(|| Timestamp::now().saturating_add_millis(WATCH_RETRY_MS));
        self.watch_failures.insert(error.path.clone(), error);
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
                crate::support::heap::give_back_freed();
                return;
            }
            Batch::Changes(changes) => changes,
        };
        // The contexts' directory itself removed: the runtime dir is going (its own removal
        // follows) or someone removed it alone (the next publication makes it again).
        let context_dir = self.contexts.context_dir().to_path_buf();
        let changes: Vec<_> = changes
            .into_iter()
            .filter(|c| c.path != context_dir)
            .collect();
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
        let config_changed = self
            .config_path
            .as_deref()
            .is_some_and(|config| changes.iter().any(|c| inotify::touches(&c.path, config)));
        let mut rewatch_all = false;
        let structural: Vec<&Change> = changes.iter().filter(|c| c.is_structural()).collect();
        for change in structural {
            let path = &change.path;
            if self.holds_watches(path) {
                // A directory on the way created, removed or renamed: what is under it changed.
                self.forget_watches_under(path);
                rewatch_all = true;
            } else if self.is_store_file(path) {
                // A store replaced by a rename, created or removed: only its own watch changes
                // (the common case costs one watch call, not a stat of every store).
                self.rewatch_file(path);
            }
        }
        if rewatch_all {
            self.rewatch();
        }
        // Read after the watches are in place: a config file created and then written (a
        // create, then the content) is read once its write watch is set, so a write that ends
        // meanwhile is read too, or wakes this loop again; read before, its content was missed
        // for good (a reload of the empty file).
        if config_changed {
            self.reload("the config file changed");
        }
        for change in &changes {
            if change.path.parent() == Some(&context_dir) {
                self.context_changed(&change.path);
            }
        }
        let now = Timestamp::now();
        let mut touched = BTreeSet::new();
        for change in &changes {
            self.index.touched_by(&change.path, &mut touched);
        }
        // What a shell's context points at changed.
        if touched.remove(&super::contexts::CONTEXT_TARGET) {
            self.contexts.stale = true;
        }
        self.note_logouts(&touched, now);
        self.refresh_entries(touched.into_iter().collect(), now);
        self.after_refresh();
    }

    /// Whether `path` is a directory on the way to a store or holds a watched path (its
    /// creation, removal or rename changes what is watched under it).
    fn holds_watches(&self, path: &Path) -> bool {
        self.index.is_on_the_way(path)
            || self
                .watcher
                .watched()
                .any(|w| w != path && w.starts_with(path))
    }

    /// Whether `path` is a store file (or the config file), watched for writes when it exists.
    fn is_store_file(&self, path: &Path) -> bool {
        self.index.is_target(path) || self.config_path.as_deref() == Some(path)
    }

    /// Sets the write watch of one store file again: it may be another inode now, or gone.
    fn rewatch_file(&mut self, path: &Path) {
        self.watcher.unwatch(path);
        if !path.exists() {
            return;
        }
        if let Err(error) = self.watcher.watch(path, CONTENT) {
            let known = self.watch_failures.contains_key(path);
            self.watch_failed(error, known);
        }
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
