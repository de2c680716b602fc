//! Reading a file that may be anything: a FIFO, a directory, a symlink loop, huge, unreadable.
//!
//! Guarantees: never blocks (opens with `O_NONBLOCK` and re-checks the opened file is regular),
//! never reads more than the given limit, and classifies every failure so callers can name it.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

#[derive(Debug)]
pub enum ReadOutcome {
    Absent,
    /// Something other than a regular file sits at the path: "a directory", "a FIFO", …
    NotAFile(&'static str),
    SymlinkLoop,
    PermissionDenied,
    TooLarge {
        size: u64,
        limit: u64,
    },
    Failed(io::Error),
    Read {
        bytes: Vec<u8>,
        file: File,
        metadata: Metadata,
    },
}

pub fn kind_name(metadata: &Metadata) -> &'static str {
    let ft = metadata.file_type();
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

fn classify(error: io::Error) -> ReadOutcome {
    match error.raw_os_error() {
        Some(libc_enoent)
            if libc_enoent == nix::libc::ENOENT || libc_enoent == nix::libc::ENOTDIR =>
        {
            ReadOutcome::Absent
        }
        Some(code) if code == nix::libc::ELOOP => ReadOutcome::SymlinkLoop,
        Some(code) if code == nix::libc::EACCES || code == nix::libc::EPERM => {
            ReadOutcome::PermissionDenied
        }
        _ => ReadOutcome::Failed(error),
    }
}

/// Reads at most `limit` bytes of the regular file at `path`, following symlinks.
pub fn read_bounded(path: &Path, limit: u64) -> ReadOutcome {
    match std::fs::metadata(path) {
        Err(e) => return classify(e),
        Ok(m) if !m.is_file() => return ReadOutcome::NotAFile(kind_name(&m)),
        Ok(_) => {}
    }
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => return classify(e),
    };
    // The path may have been swapped between the stat and the open: trust only the open file.
    let metadata = match file.metadata() {
        Ok(m) => m,
        Err(e) => return classify(e),
    };
    if !metadata.is_file() {
        return ReadOutcome::NotAFile(kind_name(&metadata));
    }
    if metadata.len() > limit {
        return ReadOutcome::TooLarge {
            size: metadata.len(),
            limit,
        };
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // One byte past the limit tells a file that grew while we read it.
    if let Err(e) = (&file).take(limit + 1).read_to_end(&mut bytes) {
        return classify(e);
    }
    if bytes.len() as u64 > limit {
        return ReadOutcome::TooLarge {
            size: bytes.len() as u64,
            limit,
        };
    }
    ReadOutcome::Read {
        bytes,
        file,
        metadata,
    }
}
