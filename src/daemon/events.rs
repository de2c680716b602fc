//! File events: which targets the watching part (`watching`) is given, and what a batch of
//! events changes: the config (reload), the watches themselves (a store replaced, a directory
//! created or removed), the credentials whose stores they touch (refresh), the runtime dir
//! (recreated). An overflowed queue rescans everything. A watch that cannot be set (the per-user
//! watch limit, a directory it may not read) is retried every `watching::WATCH_RETRY_MS`, and
//! the credentials behind it are looked at again each time: they are polled, not watched, and
//! `status` and `doctor` say so with the fix.

use super::{inotify, Daemon};
use crate::support::timefmt::Timestamp;
use crate::support::watch::{Batch, Change, Mask};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

impl Daemon {
    /// Brings the watches in line with the targets of the credentials, the config and the
    /// shells' contexts; what cannot be watched is published.
    pub(super) fn rewatch(&mut self) {
        let mut targets: Vec<PathBuf> = self
            .entries
            .iter()
            .flat_map(|e| e.paths().cloned())
            .collect();
        targets.extend(self.config_targets());
        targets.extend(self.contexts.targets().cloned());
        let mut extra = BTreeMap::new();
        // The shells' contexts: written (closed), renamed in, removed.
        if self.contexts.context_dir().is_dir() {
            extra.insert(
                self.contexts.context_dir().to_path_buf(),
                Mask::IN_CLOSE_WRITE | Mask::IN_MOVED_TO | Mask::IN_DELETE,
            );
        }
        // The runtime dir: gone or moved away (a tmp cleaner) is seen at once. Nothing else in it
        // is asked for, so the daemon's own writes there wake nothing.
        extra.insert(
            self.runtime_dir.clone(),
            Mask::IN_DELETE_SELF | Mask::IN_MOVE_SELF,
        );
        if self.watching.rewatch(&targets, extra) {
            self.dirty = true;
        }
    }

    /// The retry of watches that could not be set is due: try again, and look at what they cover.
    pub(super) fn retry_watches(&mut self, now: Timestamp) {
        let failed = self.watching.failed_paths();
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
                self.watching.forget_all();
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
            self.watching.unwatch(&self.runtime_dir.clone());
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
            if self.watching.holds_watches(path) {
                // A directory on the way created, removed or renamed: what is under it changed
                // (what is there now may be another inode).
                self.watching.forget_under(path, &self.runtime_dir);
                rewatch_all = true;
            } else if self.watching.is_target(path) || self.config_path.as_deref() == Some(path) {
                // A store (or the config file) replaced by a rename, created or removed: only
                // its own watch changes (the common case costs one watch call, not a stat of
                // every store).
                if self.watching.rewatch_file(path) {
                    self.dirty = true;
                }
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
            self.watching.touched_by(&change.path, &mut touched);
        }
        // What a shell's context points at changed.
        if touched.remove(&super::contexts::CONTEXT_TARGET) {
            self.contexts.stale = true;
        }
        self.note_logouts(&touched, now);
        self.refresh_entries(touched.into_iter().collect(), now);
        self.after_refresh();
    }
}
