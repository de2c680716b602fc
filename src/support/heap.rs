//! Giving memory back to the system after a burst of work. A full rescan (SIGHUP, a config
//! change) builds every credential anew and frees the old ones; glibc keeps the freed pages in
//! its arenas, so a long-lived daemon's RSS would stay at its peak. Asking glibc to trim them
//! after such a burst keeps the resident size near what the daemon holds.
//!
//! Guarantees: one call to a glibc function that takes no pointer and only walks glibc's own free
//! lists (with the timer's registration in `daemon::wallclock` and the keyctl syscall in
//! `support::keyutils`, the only unsafe code); a no-op on other C libraries.

/// Returns freed heap pages to the system (glibc's `malloc_trim(0)`).
#[allow(unsafe_code)]
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes a size and no pointer; it only releases memory glibc holds free.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}
