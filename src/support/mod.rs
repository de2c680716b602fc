//! Helpers with no knowledge of credentials: paths, bounded file reads, field paths, time,
//! secret-holding types, terminal output, credwatch's own runtime files, and the text formats
//! tools store logins in. Nothing here imports another credwatch module but `support`'s own.

pub mod docpath;
pub mod formats;
pub mod fsread;
pub mod output;
pub mod paths;
pub mod runtime;
pub mod secret;
pub mod timefmt;
