//! Which directories to watch for a set of store paths, and which stores an event touches.
//!
//! A watch on a file dies at the first atomic rename, so each store's **parent directory** is
//! watched for entries created, deleted and renamed, and its grandparent so a deleted-and-recreated
//! directory is seen coming back; the store file itself is watched for writes. Nothing asks for
//! reads (see [`watches_for`]).

use crate::support::paths::GlobPrefix;
use crate::support::watch::{Mask, CONTENT, STRUCTURE};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Which credentials an event path may concern, found without scanning every target: a file
/// event is looked up by its directory; only an event on a directory that lies on the way to
/// some target (rare: created, deleted, renamed) scans them all.
#[derive(Default)]
pub struct TargetIndex {
    /// Targets with a pattern in a directory component (`~/.tsh/keys/*/*-ssh/*-cert.pub`):
    /// matched component by component, since no one directory holds them.
    dir_globs: Vec<(usize, GlobPrefix)>,
    /// Directory → (credential index, target, target is a glob) for targets in it.
    by_parent: HashMap<PathBuf, Vec<(usize, PathBuf, bool)>>,
    /// Every strict ancestor of every target (and of the extra paths).
    on_the_way: HashSet<PathBuf>,
    all: Vec<(usize, PathBuf)>,
}

impl TargetIndex {
    /// `targets`: (credential index, target path); `extra`: paths whose ancestors matter too
    /// (the config file).
    pub fn build<'a>(
        targets: impl Iterator<Item = (usize, &'a PathBuf)>,
        extra: &[PathBuf],
    ) -> Self {
        let mut index = TargetIndex::default();
        for (i, target) in targets {
            let glob = crate::support::paths::has_glob(&target.to_string_lossy());
            if target.parent().is_some_and(has_dir_glob) {
                index.dir_globs.push((i, GlobPrefix::new(target)));
            }
            if let Some(parent) = target.parent() {
                index
                    .by_parent
                    .entry(parent.to_path_buf())
                    .or_default()
                    .push((i, target.clone(), glob));
            }
            index
                .on_the_way
                .extend(target.ancestors().skip(1).map(Path::to_path_buf));
            index.all.push((i, target.clone()));
        }
        for path in extra {
            index
                .on_the_way
                .extend(path.ancestors().skip(1).map(Path::to_path_buf));
        }
        index
    }

    /// Whether `path` is a directory on the way to some target.
    pub fn is_on_the_way(&self, path: &Path) -> bool {
        self.on_the_way.contains(path)
            || self.dir_globs.iter().any(|(_, pattern)| {
                path.components().count() < pattern.len() && pattern.matches_prefix(path)
            })
    }

    /// Whether `path` is a store file itself (not a glob).
    pub fn is_target(&self, path: &Path) -> bool {
        path.parent()
            .and_then(|dir| self.by_parent.get(dir))
            .is_some_and(|in_dir| {
                in_dir
                    .iter()
                    .any(|(_, target, glob)| !glob && target == path)
            })
    }

    /// The credentials an event at `path` may change (see [`touches`]).
    pub fn touched_by(&self, path: &Path, into: &mut BTreeSet<usize>) {
        if let Some(in_dir) = path.parent().and_then(|dir| self.by_parent.get(dir)) {
            for (i, target, glob) in in_dir {
                if *glob || target == path {
                    into.insert(*i);
                }
            }
        }
        if self.on_the_way.contains(path) {
            for (i, target) in &self.all {
                if target.starts_with(path) {
                    into.insert(*i);
                }
            }
        }
        for (i, pattern) in &self.dir_globs {
            if pattern.matches_prefix(path) {
                into.insert(*i);
            }
        }
    }
}

/// What to watch for `targets` (store files, glob patterns, the config file), and for what:
/// each target's directory and grandparent for entries created, deleted or renamed (a store
/// replaced by an atomic rename, a directory recreated); each existing target file for writes
/// and mode changes; a glob's directory for writes too (any file in it may be a match). A busy
/// file beside a store (`~/.bash_history` beside `~/.vault-token`) is thus never watched, and
/// reading anything wakes no one. A directory that does not exist yet is watched through its
/// nearest existing ancestor.
pub fn watches_for(targets: &[PathBuf]) -> BTreeMap<PathBuf, Mask> {
    let mut watches: BTreeMap<PathBuf, Mask> = BTreeMap::new();
    let mut add = |path: &Path, mask: Mask| {
        *watches.entry(path.to_path_buf()).or_insert(Mask::empty()) |= mask;
    };
    for target in targets {
        let Some(parent) = target.parent() else {
            continue;
        };
        if has_dir_glob(parent) {
            // No one directory holds the matches: each directory matching each level of the
            // pattern is watched for entries coming and going, the deepest also for writes.
            let levels: Vec<PathBuf> = parent.ancestors().map(Path::to_path_buf).collect();
            for level in levels.iter().rev().filter(|l| has_dir_glob(l)) {
                let mask = if level == parent {
                    STRUCTURE | CONTENT
                } else {
                    STRUCTURE
                };
                for dir in crate::support::paths::glob(level, GLOB_LEVEL_LIMIT) {
                    if dir.is_dir() {
                        add(&dir, mask);
                    }
                }
            }
            let literal = levels.iter().find(|l| !has_dir_glob(l));
            if let Some(ancestor) = literal.and_then(|l| l.ancestors().find(|a| a.is_dir())) {
                add(ancestor, STRUCTURE);
            }
            continue;
        }
        let glob = crate::support::paths::has_glob(&target.to_string_lossy());
        if parent.is_dir() {
            add(parent, if glob { STRUCTURE | CONTENT } else { STRUCTURE });
            if let Some(grandparent) = parent.parent().filter(|g| g.is_dir()) {
                add(grandparent, STRUCTURE);
            }
            if !glob && target.exists() {
                add(target, CONTENT);
            }
        } else if let Some(ancestor) = parent.ancestors().find(|a| a.is_dir()) {
            add(ancestor, STRUCTURE);
        }
    }
    watches
}

/// At most this many directories are watched for one level of a pattern.
const GLOB_LEVEL_LIMIT: usize = 1024;

/// Whether a directory path has a pattern in it (`~/.tsh/keys/*`).
fn has_dir_glob(dir: &Path) -> bool {
    crate::support::paths::has_glob(&dir.to_string_lossy())
}

/// Whether an event at `event_path` may change what is at `target`: the target itself or a
/// directory on its way (created, deleted, renamed); for a glob target, any file in its directory.
/// (An atomic rename reports the target path itself as the rename's destination.)
pub fn touches(event_path: &Path, target: &Path) -> bool {
    target.starts_with(event_path)
        || (crate::support::paths::has_glob(&target.to_string_lossy())
            && event_path.parent() == target.parent())
}

/// Sets the watches `first` (computed for `targets`), then those a new look finds missing, until
/// none is: a file created after `first` was computed but before its directory's watch was set
/// sends no event (its directory was not watched yet), and would have stayed unwatched for good
/// (gcloud's `active_config`, created with the config directory: `gcloud config configurations
/// activate` later rewrote it unseen). Returns the watches that could not be set (each once).
pub fn set_watches(
    watcher: &mut crate::support::watch::Watcher,
    targets: &[PathBuf],
    first: BTreeMap<PathBuf, Mask>,
) -> Vec<crate::support::watch::WatchError> {
    let mut failed = Vec::new();
    let mut failed_paths: BTreeSet<PathBuf> = BTreeSet::new();
    let mut wanted = first;
    // (Bounded: a directory tree being created as this runs settles in a step or two.)
    for _ in 0..4 {
        for (path, mask) in std::mem::take(&mut wanted) {
            if let Err(error) = watcher.watch(&path, mask) {
                failed_paths.insert(path);
                failed.push(error);
            }
        }
        wanted = watches_for(targets)
            .into_iter()
            .filter(|(path, mask)| !watcher.covers(path, *mask) && !failed_paths.contains(path))
            .collect();
        if wanted.is_empty() {
            break;
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gcloud's login flaked in CI: `active_config`, created with its directory between the
    /// moment the daemon computed its watches and the moment it set them, got no watch, and a
    /// later `gcloud config configurations activate` (a write in place) went unseen.
    #[test]
    fn a_store_created_while_watches_were_being_set_went_unwatched() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("gcloud");
        std::fs::create_dir(&dir).unwrap();
        let target = dir.join("active_config");
        let targets = [target.clone()];
        // Computed while the file is not there yet…
        let first = watches_for(&targets);
        assert!(!first.contains_key(&target));
        // …created before the directory's watch is set: no event will tell.
        std::fs::write(&target, "default").unwrap();
        let mut watcher = crate::support::watch::Watcher::new().unwrap();
        let failed = set_watches(&mut watcher, &targets, first);
        assert!(failed.is_empty());
        assert!(
            watcher.covers(&target, CONTENT),
            "the file is watched for writes"
        );
    }

    #[test]
    fn structure_of_parent_and_grandparent_writes_of_the_file_or_nearest_ancestor() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path();
        std::fs::create_dir_all(home.join(".claude")).unwrap();
        std::fs::create_dir_all(home.join(".aws/sso/cache")).unwrap();
        std::fs::write(home.join(".claude/.credentials.json"), "{}").unwrap();
        let watches = watches_for(&[
            home.join(".claude/.credentials.json"),
            home.join(".config/gh/hosts.yml"),
            home.join(".aws/sso/cache/*.json"),
        ]);
        let expected: BTreeMap<PathBuf, Mask> = [
            (home.to_path_buf(), STRUCTURE),
            (home.join(".claude"), STRUCTURE),
            (home.join(".claude/.credentials.json"), CONTENT),
            (home.join(".aws/sso"), STRUCTURE),
            (home.join(".aws/sso/cache"), STRUCTURE | CONTENT),
        ]
        .into();
        assert_eq!(
            watches, expected,
            "absent ~/.config/gh is watched from HOME"
        );
    }

    #[test]
    fn index_agrees_with_touches() {
        let targets = [
            PathBuf::from("/h/.claude/.credentials.json"),
            PathBuf::from("/h/.aws/sso/cache/*.json"),
            PathBuf::from("/h/.vault-token"),
        ];
        let index = TargetIndex::build(targets.iter().enumerate(), &[]);
        for event in [
            "/h/.claude/.credentials.json",
            "/h/.claude/.credentials.json.tmp",
            "/h/.claude",
            "/h",
            "/h/.aws/sso/cache/x.json",
            "/h/.aws/sso/x.json",
            "/h/.vault-token",
            "/h/.bashrc",
            "/elsewhere",
        ] {
            let mut found = BTreeSet::new();
            index.touched_by(Path::new(event), &mut found);
            let expected: BTreeSet<usize> = (0..targets.len())
                .filter(|&i| touches(Path::new(event), &targets[i]))
                .collect();
            assert_eq!(found, expected, "{event}");
        }
        assert!(index.is_on_the_way(Path::new("/h/.aws")));
        assert!(!index.is_on_the_way(Path::new("/h/.vault-token")));
    }

    #[test]
    fn events_touch_targets_not_their_siblings() {
        let target = Path::new("/h/.claude/.credentials.json");
        let glob = Path::new("/h/.aws/sso/cache/*.json");
        assert!(touches(Path::new("/h/.claude/.credentials.json"), target));
        assert!(
            touches(Path::new("/h/.claude"), target),
            "directory recreated"
        );
        assert!(!touches(
            Path::new("/h/.claude/.credentials.json.tmp"),
            target
        ));
        assert!(!touches(Path::new("/h/.bash_history"), target));
        assert!(touches(Path::new("/h/.aws/sso/cache/new.json"), glob));
        assert!(!touches(Path::new("/h/.aws/sso/new.json"), glob));
    }
}
