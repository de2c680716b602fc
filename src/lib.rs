//! credwatch: a shell-integrated credential watchdog for Linux.
//!
//! The crate reads as its architecture, in layers; a module uses only the layers above it in
//! this list (`tests::architecture` checks it, and that no modules form a cycle):
//! - `support`: helpers with no credential knowledge (paths, time, bounded reads, formats);
//! - `define`: what a credential is (states, config, definitions, presets);
//! - `store`: where logins are kept, one module per kind of store, each reducing its store to
//!   facts with the secret dropped, and saying what to watch and which policies apply;
//! - `probe`: live checks that a server still accepts a login;
//! - `evaluate`: facts and the time to a verdict, a pure function;
//! - `engine`: which credentials apply, checking them, and what is remembered of them;
//! - `publish`: the state as others read it (status JSON, the prompt file, metrics);
//! - `daemon`: watching and publishing, event-driven;
//! - `shell`: the shell hooks;
//! - `cli` and `cmd`: the command line;
//! - `fuzzing`: entry points for the fuzz targets (`fuzz/`) and their replayed corpus.
//!
//! It only ever reads other tools' credentials.

#[cfg(test)]
mod architecture;
pub mod cli;
pub mod cmd;
pub(crate) mod daemon;
pub(crate) mod define;
pub(crate) mod engine;
pub(crate) mod evaluate;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod probe;
pub(crate) mod publish;
pub(crate) mod shell;
pub(crate) mod store;
pub mod support;
