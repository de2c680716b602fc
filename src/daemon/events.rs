//! File events: which directories inotify watches (each store's parent and grandparent, see
//! `inotify`), and what a batch of events changes: the config (reload), the watched directories
//! themselves (rewatch), the credentials whose stores they touch (refresh). An overflowed queue
//! rescans everything.

use super::{inotify, Daemon};
use crate::support::timefmt::Timestamp;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

impl Daemon {
    /// Brings the set of watched directories in line with the targets.
    pub(super) fn rewatch(&mut self) {
        let mut targets: Vec<PathBuf> = self
            .entries
            .iter()
            .flat_map(|e| e.paths().cloned())
            .collect();
        targets.extend(self.config_targets());
        let wanted = inotify::directories_for(&targets);
        for stale in self
            .watched
            .difference(&wanted)
            .cloned()
            .collect::<Vec<_>>()
        {
            let _ = self.watcher.unwatch(&stale);
            self.watched.remove(&stale);
        }
        for dir in wanted {
            if self.watched.contains(&dir) {
                continue;
            }
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(error) => tracing::warn!(dir = %dir.display(), %error, "cannot watch"),
            }
        }
    }

    pub(super) fn handle_events(&mut self, batch: Vec<Event>, rescan: bool) {
        let rescan = rescan || batch.iter().any(Event::need_rescan);
        let relevant: Vec<&Event> = batch.iter().filter(|e| is_change(e)).collect();
        if rescan {
            tracing::info!("event queue overflowed: rescanning everything");
            self.forget_watches_under(&[PathBuf::from("/")]);
            self.rewatch();
            self.refresh_all();
            return;
        }
        if relevant.is_empty() {
            return;
        }
        let paths: Vec<&Path> = relevant
            .iter()
            .flat_map(|e| e.paths.iter().map(PathBuf::as_path))
            .collect();
        if self
            .config_path
            .as_deref()
            .is_some_and(|config| paths.iter().any(|p| inotify::touches(p, config)))
        {
            self.reload("the config file changed");
        }
        let structural: Vec<PathBuf> = relevant
            .iter()
            .filter(|e| may_move_directories(e))
            .flat_map(|e| e.paths.iter())
            .filter(|p| self.is_on_a_watched_way(p))
            .cloned()
            .collect();
        if !structural.is_empty() {
            self.forget_watches_under(&structural);
            self.rewatch();
        }
        let now = Timestamp::now();
        let mut touched = BTreeSet::new();
        for path in &paths {
            self.index.touched_by(path, &mut touched);
        }
        for i in touched {
            self.refresh_entry(i, now);
        }
        self.after_refresh();
    }

    /// Whether `path` is a watched directory, an ancestor of one, or a directory on the way to a
    /// store: then its creation, removal or rename changes what must be watched. A store file
    /// replaced by an atomic rename is none of these, so the common case costs no re-watch.
    fn is_on_a_watched_way(&self, path: &Path) -> bool {
        self.watched.iter().any(|w| w.starts_with(path)) || self.index.is_on_the_way(path)
    }

    /// Drops directories whose inotify watch may have died with them (deleted, renamed, recreated).
    fn forget_watches_under(&mut self, paths: &[PathBuf]) {
        let dead: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|w| paths.iter().any(|p| w.starts_with(p)))
            .cloned()
            .collect();
        for dir in dead {
            let _ = self.watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
    }
}

/// Events that can change a store. Reads (`OPEN`, `CLOSE_NOWRITE`) are ignored: the daemon's own
/// reads would otherwise wake it up again and again.
fn is_change(event: &Event) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Events after which a watched directory may be gone or new.
/// Events that may create, remove or move a directory (a file's rename is one of these too).
fn may_move_directories(event: &Event) -> bool {
    use notify::event::{CreateKind, ModifyKind, RemoveKind};
    matches!(
        event.kind,
        EventKind::Create(CreateKind::Folder)
            | EventKind::Remove(RemoveKind::Folder)
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(RemoveKind::Any)
            | EventKind::Create(CreateKind::Any)
    )
}
