//! Helpers with no knowledge of credentials: paths, bounded file reads, field paths, time,
//! secret-holding types and where a secret may travel, terminal output, running a child process, an inotify watcher, waiting on a descriptor in tokio, the commands the user's processes
//! run, credwatch's own runtime files, and the text formats
//! tools store logins in. Nothing here imports another credwatch module but `support`'s own.

pub(crate) mod child;
pub(crate) mod destination;
pub(crate) mod docpath;
pub(crate) mod environ;
pub(crate) mod formats;
pub(crate) mod fsread;
pub(crate) mod heap;
pub mod journald;
pub(crate) mod keyutils;
pub(crate) mod lifetime;
pub(crate) mod output;
pub(crate) mod paths;
pub(crate) mod processes;
pub(crate) mod readable;
pub(crate) mod runtime;
pub(crate) mod secret;
pub mod timefmt;
pub(crate) mod watch;
