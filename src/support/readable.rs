//! The one way credwatch waits in tokio for a descriptor to become readable (the inotify
//! instance, the wall-clock timerfd, a shell's pidfd).
//!
//! tokio registers a raw descriptor number, and its registration is sound only while that
//! number stays open and names the same file for as long as it is registered; its safe
//! constructors (`AsyncFd::with_interest`) are deprecated as unsound for that reason. Here the
//! guarantee comes from the types: [`Readable`] takes only a value that owns its descriptor
//! ([`OwnsItsDescriptor`], sealed: `OwnedFd`, nix's `Inotify` and `TimerFd`), and hands out only
//! shared references to it, so nothing can close or replace the descriptor while it is
//! registered. This module holds the crate's one `unsafe` block for it.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use tokio::io::Interest;

mod sealed {
    pub trait Sealed {}
    impl Sealed for std::os::fd::OwnedFd {}
    impl Sealed for nix::sys::inotify::Inotify {}
    impl Sealed for nix::sys::timerfd::TimerFd {}
}

/// A value that owns one open descriptor, keeps it open while it lives, never changes it, and
/// closes it when dropped.
pub trait OwnsItsDescriptor: AsFd + sealed::Sealed {}
impl OwnsItsDescriptor for OwnedFd {}
impl OwnsItsDescriptor for nix::sys::inotify::Inotify {}
impl OwnsItsDescriptor for nix::sys::timerfd::TimerFd {}

/// The registered value, as tokio's `AsyncFd` wants it (`AsRawFd`); only shared access to it.
pub struct Owned<T>(T);

impl<T: OwnsItsDescriptor> Owned<T> {
    pub fn get(&self) -> &T {
        &self.0
    }
}

impl<T: OwnsItsDescriptor> AsRawFd for Owned<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// A descriptor registered with tokio's reactor for readability.
pub struct Readable<T: OwnsItsDescriptor> {
    registered: AsyncFd<Owned<T>>,
}

impl<T: OwnsItsDescriptor> Readable<T> {
    /// Registers `inner`. Must be called inside the tokio runtime.
    pub fn new(inner: T) -> std::io::Result<Readable<T>> {
        // SAFETY: `Owned<T>` owns the descriptor (`OwnsItsDescriptor`): it stays open and names
        // the same file until the value is dropped, which the `AsyncFd` does before it closes.
        // `Readable` never hands out `&mut` access to the `AsyncFd` or the value, so the value
        // cannot be swapped or taken out while registered.
        #[allow(unsafe_code)]
        let registered =
            unsafe { AsyncFd::register_with_interest(Owned(inner), Interest::READABLE) }
                .map_err(std::io::Error::from)?;
        Ok(Readable { registered })
    }

    pub fn get(&self) -> &T {
        self.registered.get_ref().get()
    }

    /// Waits until the descriptor is readable. The guard's `try_io` and `get_inner` give the
    /// value back (`Owned::get`); `clear_ready` re-arms the wait.
    pub async fn readable(&self) -> std::io::Result<AsyncFdReadyGuard<'_, Owned<T>>> {
        self.registered.readable().await
    }
}
