//! One inotify instance for tokio, asked only for the events a caller names.
//!
//! Guarantees: no open, access or close-without-write event is ever asked for, so reading a file
//! in a watched directory wakes no one; each event comes back as the path it concerns (a watched
//! path, or a watched directory joined with the entry's name), for every path that shares the
//! watched inode; a watch the kernel dropped (its file deleted) is forgotten by itself and
//! reported; a full queue is reported as [`Batch::Overflow`]; a watch that cannot be set says why
//! and the fix, naming the kernel limit by its sysctl.

use super::readable::Readable;
use nix::errno::Errno;
use nix::sys::inotify::{InitFlags, WatchDescriptor};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use nix::sys::inotify::AddWatchFlags as Mask;

/// Entries created, deleted or renamed in a directory, or the watched path itself gone.
pub const STRUCTURE: Mask = Mask::IN_CREATE
    .union(Mask::IN_DELETE)
    .union(Mask::IN_MOVED_FROM)
    .union(Mask::IN_MOVED_TO)
    .union(Mask::IN_DELETE_SELF)
    .union(Mask::IN_MOVE_SELF);
/// A file written (closed after writing, or written while kept open) or its mode or owner changed.
pub const CONTENT: Mask = Mask::IN_CLOSE_WRITE
    .union(Mask::IN_MODIFY)
    .union(Mask::IN_ATTRIB);

/// What one event says about one path.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: PathBuf,
    pub mask: Mask,
}

impl Change {
    /// The path was created, removed or renamed, or its watch ended: what exists there may be a
    /// different file (or directory) now.
    pub fn is_structural(&self) -> bool {
        self.mask
            .intersects(STRUCTURE.union(Mask::IN_IGNORED).union(Mask::IN_UNMOUNT))
    }
}

/// What one wake-up brought.
#[derive(Debug)]
pub enum Batch {
    Changes(Vec<Change>),
    /// The kernel's queue overflowed: events were lost, everything must be looked at again.
    Overflow,
}

/// A watch that could not be set, with the errno: its message names the cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchError {
    pub path: PathBuf,
    pub errno: Errno,
}

impl WatchError {
    /// Whether the path simply is not there (any more): nothing to report, the parent's watch
    /// sees it come back.
    pub fn is_absent(&self) -> bool {
        matches!(self.errno, Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP)
    }

    /// The cause, in the user's words.
    pub fn reason(&self) -> String {
        match self.errno {
            Errno::ENOSPC => "the inotify watch limit of this user is reached".into(),
            Errno::ENOMEM => "the kernel has no memory for another inotify watch".into(),
            Errno::EACCES => "no permission to read it".into(),
            errno => format!("inotify cannot watch it: {}", errno.desc()),
        }
    }

    /// What to do about it.
    pub fn fix(&self) -> String {
        match self.errno {
            Errno::ENOSPC => "raise fs.inotify.max_user_watches (as root: `sysctl fs.inotify.max_user_watches=524288`, and a file in /etc/sysctl.d/ to keep it), or stop programs that hold many watches".into(),
            Errno::EACCES => format!(
                "make {} readable by you",
                crate::support::paths::display(&self.path)
            ),
            _ => "check the kernel's inotify limits (sysctl fs.inotify)".into(),
        }
    }
}

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot watch {}: {}\n  fix: {}",
            crate::support::paths::display(&self.path),
            self.reason(),
            self.fix()
        )
    }
}

/// Why an inotify instance could not be created, and the fix.
pub fn instance_failure(errno: Errno) -> String {
    if errno == Errno::EMFILE {
        format!(
            "cannot start inotify: this user has used up its inotify instances ({})\n  fix: raise fs.inotify.max_user_instances (as root: `sysctl fs.inotify.max_user_instances=512`, and a file in /etc/sysctl.d/ to keep it), or close programs that hold many (file watchers, editors)",
            errno.desc()
        )
    } else {
        format!(
            "cannot start inotify: {}\n  fix: check the kernel's inotify support and limits (sysctl fs.inotify)",
            errno.desc()
        )
    }
}

pub struct Watcher {
    fd: Readable<nix::sys::inotify::Inotify>,
    /// Each watch and the paths it was set for (hard links and symlinks can share an inode).
    by_wd: HashMap<WatchDescriptor, Vec<PathBuf>>,
    by_path: HashMap<PathBuf, (WatchDescriptor, Mask)>,
}

impl Watcher {
    /// A new instance; `Err` says why (see [`instance_failure`]). Needs a tokio runtime.
    pub fn new() -> Result<Watcher, Errno> {
        let inotify =
            nix::sys::inotify::Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let fd = Readable::new(inotify)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO)))?;
        Ok(Watcher {
            fd,
            by_wd: HashMap::new(),
            by_path: HashMap::new(),
        })
    }

    /// Watches `path` for (at least) `mask`. Masks only grow while a path stays watched.
    pub fn watch(&mut self, path: &Path, mask: Mask) -> Result<(), WatchError> {
        if let Some((_, current)) = self.by_path.get(path) {
            if current.contains(mask) {
                return Ok(());
            }
        }
        let wd = self
            .fd
            .get()
            .add_watch(path, mask | Mask::from_bits_retain(nix::libc::IN_MASK_ADD))
            .map_err(|errno| WatchError {
                path: path.to_path_buf(),
                errno,
            })?;
        let merged = match self.by_path.get(path) {
            Some((old, current)) if *old == wd => *current | mask,
            Some(_) => {
                // The path now leads to another inode: drop it from the old watch first.
                self.unwatch(path);
                mask
            }
            None => mask,
        };
        self.by_path.insert(path.to_path_buf(), (wd, merged));
        let paths = self.by_wd.entry(wd).or_default();
        if !paths.iter().any(|p| p == path) {
            paths.push(path.to_path_buf());
        }
        Ok(())
    }

    /// Whether `path` is watched for (at least) `mask`.
    pub fn covers(&self, path: &Path, mask: Mask) -> bool {
        self.by_path
            .get(path)
            .is_some_and(|(_, current)| current.contains(mask))
    }

    /// Stops watching `path` (the kernel watch ends with the last path that shares it).
    pub fn unwatch(&mut self, path: &Path) {
        let Some((wd, _)) = self.by_path.remove(path) else {
            return;
        };
        if let Some(paths) = self.by_wd.get_mut(&wd) {
            paths.retain(|p| p != path);
            if paths.is_empty() {
                self.by_wd.remove(&wd);
                let _ = self.fd.get().rm_watch(wd);
            }
        }
    }

    #[cfg(test)]
    fn is_watched(&self, path: &Path) -> bool {
        self.by_path.contains_key(path)
    }

    /// Every watched path.
    pub fn watched(&self) -> impl Iterator<Item = &Path> {
        self.by_path.keys().map(PathBuf::as_path)
    }

    /// Waits for events and returns all that are ready.
    pub async fn next_batch(&mut self) -> std::io::Result<Batch> {
        loop {
            let mut guard = self.fd.readable().await?;
            let mut raw = Vec::new();
            loop {
                match guard.get_inner().get().read_events() {
                    Ok(events) if events.is_empty() => break,
                    Ok(events) => raw.extend(events),
                    Err(Errno::EAGAIN) => break,
                    Err(Errno::EINTR) => continue,
                    Err(errno) => return Err(std::io::Error::from(errno)),
                }
            }
            guard.clear_ready();
            if raw.is_empty() {
                continue;
            }
            let mut overflow = false;
            let mut changes = Vec::with_capacity(raw.len());
            for event in raw {
                if event.mask.contains(Mask::IN_Q_OVERFLOW) {
                    overflow = true;
                    continue;
                }
                self.resolve(event.wd, event.mask, event.name, &mut changes);
            }
            return Ok(if overflow {
                Batch::Overflow
            } else {
                Batch::Changes(changes)
            });
        }
    }

    fn resolve(
        &mut self,
        wd: WatchDescriptor,
        mask: Mask,
        name: Option<OsString>,
        into: &mut Vec<Change>,
    ) {
        let Some(paths) = self.by_wd.get(&wd) else {
            // A watch already let go of (its IN_IGNORED arrives after rm_watch).
            return;
        };
        for path in paths {
            into.push(Change {
                path: match &name {
                    Some(name) => path.join(name),
                    None => path.clone(),
                },
                mask,
            });
        }
        if mask.contains(Mask::IN_IGNORED) {
            if let Some(paths) = self.by_wd.remove(&wd) {
                for path in paths {
                    if self.by_path.get(&path).is_some_and(|(w, _)| *w == wd) {
                        self.by_path.remove(&path);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    async fn next(watcher: &mut Watcher) -> Vec<Change> {
        match tokio::time::timeout(std::time::Duration::from_secs(5), watcher.next_batch())
            .await
            .expect("an event within 5 s")
            .unwrap()
        {
            Batch::Changes(changes) => changes,
            Batch::Overflow => Vec::new(),
        }
    }

    /// Whether anything arrives within 200 ms.
    async fn quiet(watcher: &mut Watcher) -> bool {
        tokio::time::timeout(std::time::Duration::from_millis(200), watcher.next_batch())
            .await
            .is_err()
    }

    #[test]
    fn reads_wake_no_one_writes_and_renames_do() {
        runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let busy = dir.path().join(".bash_history");
            let token = dir.path().join(".vault-token");
            std::fs::write(&busy, "ls\n").unwrap();
            std::fs::write(&token, "old").unwrap();
            let mut watcher = Watcher::new().unwrap();
            watcher.watch(dir.path(), STRUCTURE).unwrap();
            watcher.watch(&token, CONTENT).unwrap();

            for _ in 0..10 {
                std::fs::read(&busy).unwrap();
                std::fs::read(&token).unwrap();
                use std::io::Write;
                let mut history = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&busy)
                    .unwrap();
                writeln!(history, "make").unwrap();
            }
            assert!(
                quiet(&mut watcher).await,
                "reads and appends to an unwatched file wake no one"
            );

            std::fs::write(&token, "new").unwrap();
            let changes = next(&mut watcher).await;
            assert!(
                changes
                    .iter()
                    .any(|c| c.path == token && !c.is_structural()),
                "{changes:?}"
            );

            let replacement = dir.path().join(".vault-token.tmp");
            std::fs::write(&replacement, "newer").unwrap();
            std::fs::rename(&replacement, &token).unwrap();
            let mut seen = Vec::new();
            while !seen
                .iter()
                .any(|c: &Change| c.path == token && c.is_structural())
            {
                seen.extend(next(&mut watcher).await);
            }
        });
    }

    #[test]
    fn a_deleted_file_lets_its_watch_go_and_a_limit_names_its_sysctl() {
        runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let token = dir.path().join("token");
            std::fs::write(&token, "x").unwrap();
            let mut watcher = Watcher::new().unwrap();
            watcher.watch(&token, CONTENT).unwrap();
            std::fs::remove_file(&token).unwrap();
            while watcher.is_watched(&token) {
                next(&mut watcher).await;
            }
            let missing = watcher.watch(&token, CONTENT).unwrap_err();
            assert!(missing.is_absent());
        });
        let limit = WatchError {
            path: PathBuf::from("/home/u/.aws"),
            errno: Errno::ENOSPC,
        };
        assert!(!limit.is_absent());
        assert!(limit.to_string().contains("fs.inotify.max_user_watches"));
        assert!(instance_failure(Errno::EMFILE).contains("fs.inotify.max_user_instances"));
    }
}
