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
pub fn write_atomically_with_mode(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        if mode != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Whether a process with this pid runs and is a credwatch (guards against pid reuse).
pub fn credwatch_process_alive(pid: u32) -> bool {
    let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
        return false;
    };
    comm.trim_end() == "credwatch"
}
