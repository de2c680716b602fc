//! credwatch's own files: the runtime dir (live state for shells and `status`) and the state dir
//! (journal, memory of credentials seen), and how they are written.
//!
//! Guarantees: the runtime dir is 0700 and ours (a symlink or a foreign owner is refused, with the
//! path and the fix); files are replaced atomically (temp file, fsync, rename) with mode 0600, so a
//! reader sees the old content or the new, never half.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const STATUS_FILE: &str = "status.json";
pub const LOCK_FILE: &str = "daemon.lock";

#[derive(Debug, thiserror::Error)]
#[error("{message}\n  fix: {fix}")]
pub struct DirError {
    pub message: String,
    pub fix: String,
}

/// `$XDG_RUNTIME_DIR/credwatch`, else `/tmp/credwatch-$UID`.
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("credwatch"),
        _ => PathBuf::from(format!("/tmp/credwatch-{}", nix::unistd::geteuid())),
    }
}

/// `$XDG_STATE_HOME/credwatch`, else `~/.local/state/credwatch`.
pub fn state_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => Some(dir.join("credwatch")),
        _ => crate::support::paths::home_dir().map(|home| home.join(".local/state/credwatch")),
    }
}

/// Creates `dir` (0700) if needed and checks it is a real directory owned by us, not a symlink.
pub fn ensure_private_dir(dir: &Path) -> Result<(), DirError> {
    let shown = crate::support::paths::display(dir);
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        return Err(DirError {
            message: format!("cannot create {shown}: {e}"),
            fix: "make its parent writable by your user, or set XDG_RUNTIME_DIR / XDG_STATE_HOME to a directory you own".into(),
        });
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| DirError {
        message: format!("cannot inspect {shown}: {e}"),
        fix: "check the file system".into(),
    })?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(DirError {
            message: format!("{shown} is a symlink or not a directory: refused"),
            fix: format!("remove {shown}; credwatch creates it again"),
        });
    }
    let uid = nix::unistd::geteuid().as_raw();
    if meta.uid() != uid {
        return Err(DirError {
            message: format!(
                "{shown} is owned by uid {}, not by you (uid {uid}): refused",
                meta.uid()
            ),
            fix: format!("remove {shown} (as its owner); credwatch creates it again"),
        });
    }
    if meta.mode() & 0o077 != 0 {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Replaces `path` with `content`: a 0600 temp file beside it, fsync, rename.
pub fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_atomically_with_mode(path, content, 0o600)
}

/// [`write_atomically`] with the file's final mode set before it appears under its name.
///
/// The temporary file gets an unpredictable name and is created exclusively without following a
/// symlink (`O_EXCL | O_NOFOLLOW`): in a directory others can write to (a shared textfile
/// directory), a link or file planted there cannot redirect the write or the chmod.
pub fn write_atomically_with_mode(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let mut attempt = 0u32;
    let (temp, mut file) = loop {
        let temp = dir.join(format!(".{name}.{}.tmp", unpredictable_suffix()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(&temp)
        {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        if mode != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.write_all(content)?;
        file.sync_all()?;
        // rename replaces the name itself: a symlink planted at `path` is replaced, not followed.
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A temp-file suffix no other user can guess in advance: pid, time and bytes of the kernel's
/// randomness (from `/dev/urandom`; the time alone when it cannot be read).
fn unpredictable_suffix() -> String {
    use std::io::Read;
    let mut random = [0u8; 8];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut random));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}.{:x}.{:016x}",
        std::process::id(),
        nanos,
        u64::from_le_bytes(random)
    )
}

/// Opens a file of credwatch's own for appending or updating, never through a symlink and never
/// blocking on a FIFO; refuses anything but a regular file of ours.
pub fn open_own_for_writing(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(!append)
        .append(append)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    let uid = nix::unistd::geteuid().as_raw();
    if !meta.is_file() || meta.uid() != uid {
        return Err(std::io::Error::other(format!(
            "{} is {}: refused",
            crate::support::paths::display(path),
            if meta.is_file() {
                format!("owned by uid {}, not by you", meta.uid())
            } else {
                crate::support::fsread::kind_name(&meta).to_string()
            }
        )));
    }
    Ok(file)
}

/// Reads a file of credwatch's own from its runtime or state dir, trusting nothing it did not
/// check: the directory and the file must be ours, not writable by others, not symlinks, and the
/// file a regular one (a FIFO never blocks). `Ok(None)` when it does not exist; `Err` says what
/// was found instead.
pub fn read_own(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, String> {
    let shown = crate::support::paths::display(path);
    let dir = path.parent().unwrap_or(Path::new("."));
    match std::fs::symlink_metadata(dir) {
        Err(_) => return Ok(None),
        Ok(meta) => {
            if meta.file_type().is_symlink() || !meta.is_dir() {
                return Err(format!(
                    "{} is a symlink or not a directory",
                    crate::support::paths::display(dir)
                ));
            }
            ours_and_closed(&meta, &crate::support::paths::display(dir))?;
        }
    }
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(
            nix::libc::O_NOFOLLOW
                | nix::libc::O_NONBLOCK
                | nix::libc::O_NOCTTY
                | nix::libc::O_CLOEXEC,
        )
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(format!("{shown} is a symlink"))
        }
        Err(e) => return Err(format!("cannot open {shown}: {e}")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot inspect {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown} is {}",
            crate::support::fsread::kind_name(&meta)
        ));
    }
    ours_and_closed(&meta, &shown)?;
    if meta.len() > limit {
        return Err(format!(
            "{shown} is {} bytes, more than {limit}",
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    use std::io::Read;
    (&file)
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    Ok(Some(bytes))
}

/// Owned by us and writable by no one else, or what it is instead.
fn ours_and_closed(meta: &std::fs::Metadata, shown: &str) -> Result<(), String> {
    let uid = nix::unistd::geteuid().as_raw();
    if meta.uid() != uid {
        return Err(format!(
            "{shown} is owned by uid {}, not by you (uid {uid})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{shown} is writable by others (mode {:04o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Whether the open `file` is the one at `path` now (not deleted, not replaced).
pub fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(open), Ok(there)) => open.dev() == there.dev() && open.ino() == there.ino(),
        _ => false,
    }
}

/// Whether a process with this pid is a credwatch that runs: not gone, not another program that
/// got the pid, not stopped (SIGSTOP, a debugger) nor a zombie.
pub fn credwatch_process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else {
        return false;
    };
    process_is_running_credwatch(&stat)
}

/// `/proc/PID/stat` is `pid (comm) state …`, where comm may itself hold ") ".
fn process_is_running_credwatch(stat: &[u8]) -> bool {
    let (Some(open), Some(close)) = (
        stat.iter().position(|&b| b == b'('),
        stat.iter().rposition(|&b| b == b')'),
    ) else {
        return false;
    };
    if open >= close || &stat[open + 1..close] != b"credwatch" {
        return false;
    }
    let state = stat.get(close + 2).copied().unwrap_or(b'?');
    matches!(state, b'R' | b'S' | b'D' | b'I' | b'W')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_zombie_or_foreign_process_is_not_a_running_daemon() {
        assert!(process_is_running_credwatch(b"42 (credwatch) S 1 42 42 0"));
        assert!(process_is_running_credwatch(b"42 (credwatch) R 1"));
        assert!(
            !process_is_running_credwatch(b"42 (credwatch) T 1"),
            "SIGSTOP"
        );
        assert!(
            !process_is_running_credwatch(b"42 (credwatch) t 1"),
            "traced"
        );
        assert!(!process_is_running_credwatch(b"42 (credwatch) Z 1"));
        assert!(!process_is_running_credwatch(b"42 (bash) S 1"));
        assert!(!process_is_running_credwatch(b"42 (x) (credwatch) S 1"));
        assert!(!process_is_running_credwatch(b""));
    }
}
