//! The Linux kernel's key retention service (`keyctl(2)`), read only: find a key by type and
//! description in a keyring the process can search, describe it, and read its payload (a
//! keyring's payload is the list of its keys). The one write it allows is the kernel's own side
//! effect of `KEYCTL_GET_PERSISTENT`, which links the user's persistent keyring into this
//! process's keyring (as `klist` does) so that it can be searched.
//!
//! Guarantees: every call is a single syscall with bounded buffers; errors are `Errno`s, never
//! panics; a payload larger than the caller's limit is refused, not truncated.

use nix::errno::Errno;
use nix::libc;

/// A key's serial number.
pub type Serial = i32;

/// The special keyrings of the calling process.
pub const PROCESS_KEYRING: Serial = -2;
pub const SESSION_KEYRING: Serial = -3;
pub const USER_KEYRING: Serial = -4;

const KEYCTL_DESCRIBE: libc::c_long = 6;
const KEYCTL_SEARCH: libc::c_long = 10;
const KEYCTL_READ: libc::c_long = 11;
const KEYCTL_GET_PERSISTENT: libc::c_long = 22;

fn keyctl(
    operation: libc::c_long,
    a: libc::c_long,
    b: libc::c_long,
    c: libc::c_long,
    d: libc::c_long,
) -> Result<libc::c_long, Errno> {
    // SAFETY: keyctl with the operations above reads the pointers it is given (NUL-terminated
    // strings owned by the caller for the call's duration) and writes at most the given length
    // into the given buffer; nix has no keyctl wrapper.
    #[allow(unsafe_code)]
    let result = unsafe { libc::syscall(libc::SYS_keyctl, operation, a, b, c, d) };
    if result < 0 {
        Err(Errno::last())
    } else {
        Ok(result)
    }
}

/// The persistent keyring of `uid`, linked into this process's keyring.
pub fn persistent(uid: u32) -> Result<Serial, Errno> {
    keyctl(
        KEYCTL_GET_PERSISTENT,
        libc::c_long::from(uid),
        libc::c_long::from(PROCESS_KEYRING),
        0,
        0,
    )
    .map(|serial| serial as Serial)
}

/// The key of `kind` described as `description` in `keyring` (searched recursively).
pub fn search(keyring: Serial, kind: &str, description: &str) -> Result<Serial, Errno> {
    let kind = std::ffi::CString::new(kind).map_err(|_| Errno::EINVAL)?;
    let description = std::ffi::CString::new(description).map_err(|_| Errno::EINVAL)?;
    keyctl(
        KEYCTL_SEARCH,
        libc::c_long::from(keyring),
        kind.as_ptr() as libc::c_long,
        description.as_ptr() as libc::c_long,
        0,
    )
    .map(|serial| serial as Serial)
}

/// What `operation` (read, describe) writes for `key` into a buffer of `limit` bytes; `E2BIG`
/// when it has more.
fn fill(operation: libc::c_long, key: Serial, limit: usize) -> Result<Vec<u8>, Errno> {
    let mut buffer = vec![0u8; limit.min(1 << 20)];
    let size = keyctl(
        operation,
        libc::c_long::from(key),
        buffer.as_mut_ptr() as libc::c_long,
        buffer.len() as libc::c_long,
        0,
    )? as usize;
    if size > buffer.len() {
        return Err(Errno::E2BIG);
    }
    buffer.truncate(size);
    Ok(buffer)
}

/// A key's payload, at most `limit` bytes (a larger one is `E2BIG`).
pub fn read(key: Serial, limit: usize) -> Result<Vec<u8>, Errno> {
    fill(KEYCTL_READ, key, limit)
}

/// A key's type and description (`user`, `__krb5_princ__`).
pub fn describe(key: Serial) -> Result<(String, String), Errno> {
    let buffer = fill(KEYCTL_DESCRIBE, key, 4096)?;
    // "type;uid;gid;perm;description", NUL-terminated.
    let text = String::from_utf8_lossy(&buffer);
    let text = text.trim_end_matches('\0');
    let mut fields = text.splitn(5, ';');
    let kind = fields.next().unwrap_or_default().to_string();
    let description = fields.nth(3).unwrap_or_default().to_string();
    Ok((kind, description))
}

/// The keys a keyring holds (its payload: their serial numbers).
pub fn keys(keyring: Serial, limit: usize) -> Result<Vec<Serial>, Errno> {
    let bytes = read(keyring, limit.saturating_mul(4))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| Serial::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_an_error_not_a_panic() {
        assert!(search(SESSION_KEYRING, "keyring", "credwatch-no-such-keyring-7c1f").is_err());
        assert!(search(SESSION_KEYRING, "key\0ring", "x").is_err());
        assert!(read(0x7fff_fff0, 64).is_err());
        assert!(describe(0x7fff_fff0).is_err());
    }
}
