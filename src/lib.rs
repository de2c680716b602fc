//! credwatch: a shell-integrated credential watchdog for Linux.
//!
//! The crate reads as its architecture, in layers; a module uses only the layers above it in
//! this list (`tests::architecture` checks it, and that no modules form a cycle):
//! - `support`: helpers that name no tool (paths, time, bounded reads, a watcher, a child runner);
//! - `tools`: the formats tools keep their logins in, one module per tool or format (AWS's
//!   profiles, gcloud's accounts, kubeconfig's contexts, Kerberos caches, the ssh-agent, X.509),
//!   each decoded into one value tree definitions address, and which account, profile or
//!   context is the one in use;
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
pub(crate) mod tools;
