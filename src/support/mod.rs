//! Helpers that name no tool and know no credential: paths, bounded file reads, field paths,
//! time, secret-holding types and where a secret may travel, terminal output, running a child
//! process, an inotify watcher, waiting on a descriptor in tokio, the commands the user's
//! processes run, and credwatch's own runtime files. Nothing here imports another credwatch
//! module but `support`'s own (`architecture` checks that, and that no tool is named here).

pub(crate) mod child;
pub(crate) mod destination;
pub(crate) mod docpath;
pub(crate) mod environ;
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
