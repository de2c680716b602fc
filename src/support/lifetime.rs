//! How long the system keeps a file, whatever wrote it: the user's runtime directory
//! (`$XDG_RUNTIME_DIR`, else `/run/user/UID`) is removed when the user's last session ends
//! (unless systemd-logind keeps it for a lingering user) and at reboot, as the XDG Base Directory
//! specification requires; a tmpfs or ramfs is emptied at reboot. And the marks that tell
//! afterwards which of the two took a file away: this boot's id, and the runtime directory's
//! identity (a new session makes a new one).
//!
//! Guarantees: it reads only metadata (`stat`, `/proc/sys/kernel/random/boot_id`, the linger
//! flag); an unreadable answer means "not known", never a claim.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Until when the system keeps a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifetime {
    /// In the runtime directory `dir`: removed when the user's last session ends and at reboot;
    /// with `lingering`, only at reboot.
    RuntimeDir { dir: PathBuf, lingering: bool },
    /// On a file system held in memory (`fs`: tmpfs, ramfs): emptied at reboot.
    Memory { fs: String },
    /// In the kernel's keyrings: a session's (`until_logout`) or the user's persistent one
    /// (until reboot, or days unused).
    KernelKeyring { until_logout: bool },
}

impl Lifetime {
    /// What ends it: `logout` or `reboot`.
    pub fn until(&self) -> Until {
        match self {
            Lifetime::RuntimeDir {
                lingering: false, ..
            }
            | Lifetime::KernelKeyring { until_logout: true } => Until::Logout,
            _ => Until::Reboot,
        }
    }
}

/// What takes a file away by design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Logout,
    Reboot,
}

impl Until {
    pub fn as_str(self) -> &'static str {
        match self {
            Until::Logout => "logout",
            Until::Reboot => "reboot",
        }
    }
}

/// The runtime directory as the environment names it (`XDG_RUNTIME_DIR`, absolute), else
/// systemd's `/run/user/UID`.
pub fn runtime_dir(uid: u32) -> PathBuf {
    super::environ::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .unwrap_or_else(|| PathBuf::from(format!("/run/user/{uid}")))
}

/// How long the system keeps `path` (a file read as user `uid`, on a file system named `fs`,
/// `persistent` or held in memory); `None`: as long as its disk.
pub fn of(path: &Path, fs: &str, persistent: bool, uid: u32) -> Option<Lifetime> {
    let dir = runtime_dir(uid);
    if path.starts_with(&dir) {
        return Some(Lifetime::RuntimeDir {
            lingering: lingering(uid),
            dir,
        });
    }
    (!persistent).then(|| Lifetime::Memory { fs: fs.to_string() })
}

/// Whether systemd-logind keeps the user's runtime directory after their last session
/// (`loginctl enable-linger`).
fn lingering(uid: u32) -> bool {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .is_some_and(|user| {
            Path::new("/var/lib/systemd/linger")
                .join(user.name)
                .exists()
        })
}

/// This boot's id (the kernel's, new at each boot): read once per process, which lives within
/// one boot.
pub fn boot_id() -> Option<String> {
    static BOOT_ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let id = text.trim();
            (!id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
            .then(|| id.to_string())
        })
        .clone()
}

/// When this boot began (`btime` in /proc/stat), in seconds since the epoch.
pub fn boot_time() -> Option<i64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The identity of the runtime directory that holds a file: a new session after the last one
/// ended makes a new directory (a new mount where logind mounts one), with another device,
/// inode or birth time (an inode number can be reused; the birth time is not).
pub fn session_id(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    let born = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(|| "-".to_string(), |d| d.as_nanos().to_string());
    Some(format!("{}:{}:{born}", meta.dev(), meta.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_runtime_dir_is_kept_until_logout_and_one_on_tmpfs_until_reboot() {
        let env = crate::support::environ::with_var("XDG_RUNTIME_DIR", "/run/user/4242");
        crate::support::environ::within(&env, || {
            let kept = of(
                Path::new("/run/user/4242/containers/auth.json"),
                "tmpfs",
                false,
                4242,
            )
            .unwrap();
            assert!(
                matches!(&kept, Lifetime::RuntimeDir { dir, .. } if dir == Path::new("/run/user/4242"))
            );
            assert_eq!(
                of(Path::new("/home/a/.docker/config.json"), "ext4", true, 4242),
                None
            );
            assert_eq!(
                of(Path::new("/tmp/krb5cc_4242"), "tmpfs", false, 4242),
                Some(Lifetime::Memory { fs: "tmpfs".into() })
            );
            assert_eq!(
                Lifetime::Memory { fs: "tmpfs".into() }.until(),
                Until::Reboot
            );
            // A relative XDG_RUNTIME_DIR is not one (the specification says to ignore it).
            let relative = crate::support::environ::with_var("XDG_RUNTIME_DIR", "run");
            crate::support::environ::within(&relative, || {
                assert_eq!(runtime_dir(7), PathBuf::from("/run/user/7"));
            });
        });
    }

    #[test]
    fn the_boot_and_a_directory_have_an_identity() {
        let boot = boot_id().expect("Linux has a boot id");
        let began = boot_time().expect("Linux says when it booted");
        assert!(
            began > 1_000_000_000
                && began <= crate::support::timefmt::Timestamp::now().millis() / 1000
        );
        assert_eq!(boot_id().as_deref(), Some(boot.as_str()));
        let dir = tempfile::tempdir().unwrap();
        let first = session_id(dir.path()).unwrap();
        assert_eq!(session_id(dir.path()).unwrap(), first, "stable");
        let path = dir.keep();
        // Another directory made in its place (a new session), maybe with the same inode.
        std::fs::remove_dir(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_ne!(session_id(&path).unwrap(), first);
        std::fs::remove_dir(&path).unwrap();
        assert_eq!(session_id(&path), None);
    }
}
