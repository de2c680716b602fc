//! Which directories to watch for a set of store paths, and which stores an event touches.
//!
//! A watch on a file dies at the first atomic rename, so each store's **parent directory** is
//! watched, and its grandparent so a deleted-and-recreated directory is seen coming back. A
//! directory that does not exist yet is watched through its nearest existing ancestor.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The directories to watch for `targets` (store files, glob patterns, the config file).
pub fn directories_for(targets: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut dirs = BTreeSet::new();
    for target in targets {
        let Some(parent) = target.parent() else {
            continue;
        };
        if parent.is_dir() {
            dirs.insert(parent.to_path_buf());
            if let Some(grandparent) = parent.parent().filter(|g| g.is_dir()) {
                dirs.insert(grandparent.to_path_buf());
            }
        } else if let Some(ancestor) = parent.ancestors().find(|a| a.is_dir()) {
            dirs.insert(ancestor.to_path_buf());
        }
    }
    dirs
}

/// Whether an event at `event_path` may change what is at `target`: the target itself or a
/// directory on its way (created, deleted, renamed); for a glob target, any file in its directory.
/// (An atomic rename reports the target path itself as the rename's destination.)
pub fn touches(event_path: &Path, target: &Path) -> bool {
    target.starts_with(event_path)
        || (crate::paths::has_glob(&target.to_string_lossy())
            && event_path.parent() == target.parent())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_and_grandparent_or_nearest_ancestor() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path();
        std::fs::create_dir_all(home.join(".claude")).unwrap();
        let dirs = directories_for(&[
            home.join(".claude/.credentials.json"),
            home.join(".aws/sso/cache/*.json"),
        ]);
        let expected: BTreeSet<PathBuf> = [home.join(".claude"), home.to_path_buf()].into();
        assert_eq!(
            dirs, expected,
            "absent ~/.aws/sso/cache is watched from HOME"
        );
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
