//! The daemon's part that watches: the inotify instance, the watches it holds, the index from a
//! changed path to the credentials it touches, and the watches that could not be set. It knows
//! paths, not credentials: the other parts hand it the targets and ask which of them a change
//! touched.
//!
//! Guarantees: after [`Watching::rewatch`] exactly the wanted watches are held (stale ones
//! dropped); a watch that cannot be set (the per-user limit, a directory it may not read) is
//! remembered with its reason and retried every [`WATCH_RETRY_MS`]; one that fails because its
//! path is absent is no failure (its parent's watch sees it come).

use super::inotify;
use crate::support::timefmt::Timestamp;
use crate::support::watch::{Batch, Mask, WatchError, Watcher, CONTENT};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How often watches that could not be set are tried again (and what they cover polled).
pub(super) const WATCH_RETRY_MS: i64 = 30_000;

pub(super) struct Watching {
    watcher: Watcher,
    /// Watches that could not be set (what they cover is polled).
    failures: BTreeMap<PathBuf, WatchError>,
    /// When to try those again.
    pub(super) retry_at: Option<Timestamp>,
    index: inotify::TargetIndex,
    /// A credential's targets changed (`file_from`, a shell's context): reindex and rewatch
    /// after the batch.
    pub(super) retarget: bool,
}

impl Watching {
    pub(super) fn new(watcher: Watcher) -> Self {
        Watching {
            watcher,
            failures: BTreeMap::new(),
            retry_at: None,
            index: inotify::TargetIndex::default(),
            retarget: false,
        }
    }

    /// The next batch of changes.
    pub(super) async fn next_batch(&mut self) -> std::io::Result<Batch> {
        self.watcher.next_batch().await
    }

    /// Holds exactly the watches that `targets` need (each file, and the directories on its way)
    /// and `extra` (directories with the events asked of them); true when the watches that
    /// cannot be set are not the same as before (what is published about them changed).
    pub(super) fn rewatch(&mut self, targets: &[PathBuf], extra: BTreeMap<PathBuf, Mask>) -> bool {
        let mut wanted = inotify::watches_for(targets);
        for (path, mask) in extra {
            *wanted.entry(path).or_insert(Mask::empty()) |= mask;
        }
        let stale: Vec<PathBuf> = self
            .watcher
            .watched()
            .filter(|path| !wanted.contains_key(*path))
            .map(Path::to_path_buf)
            .collect();
        for path in stale {
            self.watcher.unwatch(&path);
        }
        let before = std::mem::take(&mut self.failures);
        self.retry_at = None;
        for error in inotify::set_watches(&mut self.watcher, targets, wanted) {
            let known = before.contains_key(&error.path);
            self.failed(error, known);
        }
        before.keys().ne(self.failures.keys())
    }

    /// A watch could not be set: remembered, and retried. True when it is a new failure.
    fn failed(&mut self, error: WatchError, known: bool) -> bool {
        if error.is_absent() {
            return false;
        }
        if !known {
            tracing::warn!(error = %error, "cannot watch: polling what it covers instead");
        }
        self.retry_at
            .get_or_insert_with(|| Timestamp::now().saturating_add_millis(WATCH_RETRY_MS));
        self.failures.insert(error.path.clone(), error);
        !known
    }

    /// The watches that could not be set, as published.
    pub(super) fn unwatched(&self) -> Vec<&WatchError> {
        self.failures.values().collect()
    }

    /// The paths whose watches could not be set.
    pub(super) fn failed_paths(&self) -> Vec<PathBuf> {
        self.failures.keys().cloned().collect()
    }

    /// Builds the index from changed paths to what they touch: `targets` (a number, the
    /// credential's or a context's, and a path) and the config file's paths.
    pub(super) fn reindex<'a>(
        &mut self,
        targets: impl Iterator<Item = (usize, &'a PathBuf)>,
        config: &[PathBuf],
    ) {
        self.index = inotify::TargetIndex::build(targets, config);
    }

    /// Adds to `into` the numbers of the targets a change at `path` touches.
    pub(super) fn touched_by(&self, path: &Path, into: &mut BTreeSet<usize>) {
        self.index.touched_by(path, into);
    }

    /// Whether `path` is a directory on the way to a target or holds a watched path (its
    /// creation, removal or rename changes what is watched under it).
    pub(super) fn holds_watches(&self, path: &Path) -> bool {
        self.index.is_on_the_way(path)
            || self
                .watcher
                .watched()
                .any(|w| w != path && w.starts_with(path))
    }

    /// Whether `path` is a target file, watched for writes when it exists.
    pub(super) fn is_target(&self, path: &Path) -> bool {
        self.index.is_target(path)
    }

    /// Sets the write watch of one file again: it may be another inode now, or gone. True when
    /// that watch newly failed.
    pub(super) fn rewatch_file(&mut self, path: &Path) -> bool {
        self.watcher.unwatch(path);
        if !path.exists() {
            return false;
        }
        match self.watcher.watch(path, CONTENT) {
            Ok(_) => false,
            Err(error) => {
                let known = self.failures.contains_key(path);
                self.failed(error, known)
            }
        }
    }

    /// Drops the watches at and under `path` but `keep`: what is there now may be another inode.
    pub(super) fn forget_under(&mut self, path: &Path, keep: &Path) {
        let dead: Vec<PathBuf> = self
            .watcher
            .watched()
            .filter(|w| w.starts_with(path) && *w != keep)
            .map(Path::to_path_buf)
            .collect();
        for watched in dead {
            self.watcher.unwatch(&watched);
        }
    }

    /// Drops every watch (the queue overflowed: all is set again).
    pub(super) fn forget_all(&mut self) {
        let all: Vec<PathBuf> = self.watcher.watched().map(Path::to_path_buf).collect();
        for path in all {
            self.watcher.unwatch(&path);
        }
    }

    /// Drops the watch of `path`.
    pub(super) fn unwatch(&mut self, path: &Path) {
        self.watcher.unwatch(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::watch::Change;

    /// Runs `test` with a watching part, inside a runtime of its own.
    fn with_watching(test: impl AsyncFnOnce(&mut Watching)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut watching = Watching::new(Watcher::new().expect("an inotify instance"));
            test(&mut watching).await;
        });
    }

    /// Waits for a batch of changes (inotify answers within milliseconds).
    async fn changes(watching: &mut Watching) -> Vec<Change> {
        match tokio::time::timeout(std::time::Duration::from_secs(5), watching.next_batch())
            .await
            .expect("a batch within 5 s")
            .unwrap()
        {
            Batch::Changes(changes) => changes,
            Batch::Overflow => panic!("overflow"),
        }
    }

    #[test]
    fn a_file_created_later_is_seen_and_touches_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("tool").join("login.json");
        let targets = vec![store.clone()];
        with_watching(async |watching| {
            assert!(!watching.rewatch(&targets, BTreeMap::new()), "no failure");
            watching.reindex(targets.iter().map(|t| (7, t)), &[]);
            std::fs::create_dir(store.parent().unwrap()).unwrap();
            let mut touched = BTreeSet::new();
            for change in changes(watching).await {
                assert!(watching.holds_watches(&change.path), "{change:?}");
                watching.touched_by(&change.path, &mut touched);
            }
            assert_eq!(touched, BTreeSet::from([7]), "the directory on its way");
            // The directory appeared: its watch is set, and the file's creation is seen there.
            watching.rewatch(&targets, BTreeMap::new());
            std::fs::write(&store, "{}").unwrap();
            touched.clear();
            for change in changes(watching).await {
                watching.touched_by(&change.path, &mut touched);
            }
            assert_eq!(touched, BTreeSet::from([7]));
            assert!(watching.is_target(&store));
        });
    }

    #[test]
    fn an_absent_path_is_no_failure_and_watches_no_longer_wanted_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a").join("login.json");
        let second = dir.path().join("b").join("login.json");
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        let absent = dir.path().join("absent").join("deeper").join("x");
        with_watching(async |watching| {
            assert!(!watching.rewatch(&[first.clone(), absent], BTreeMap::new()));
            assert!(watching.unwatched().is_empty(), "absent is no failure");
            assert!(watching.retry_at.is_none());
            watching.rewatch(std::slice::from_ref(&second), BTreeMap::new());
            watching.reindex([(1, &second)].into_iter(), &[]);
            // Only b's way is watched now: a change in a touches nothing.
            std::fs::write(&first, "{}").unwrap();
            std::fs::write(&second, "{}").unwrap();
            let mut touched = BTreeSet::new();
            let mut paths = Vec::new();
            for change in changes(watching).await {
                paths.push(change.path.clone());
                watching.touched_by(&change.path, &mut touched);
            }
            assert!(
                paths.iter().all(|p| !p.starts_with(dir.path().join("a"))),
                "a is no longer watched: {paths:?}"
            );
            assert_eq!(touched, BTreeSet::from([1]));
        });
    }
}
