//! credwatch: a shell-integrated credential watchdog for Linux.
//!
//! The crate reads as its architecture: `config` and `presets` define credentials; `observe`
//! does all the I/O and reduces stores to facts; `evaluate` turns facts and the time into a state
//! (a pure function); `report` and `cmd` present it. It only ever reads other tools' credentials.

pub mod checks;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod daemon;
pub mod docpath;
pub mod evaluate;
pub mod formats;
pub mod fsread;
pub mod journal;
pub mod keyring;
pub mod metrics;
pub mod observe;
pub mod output;
pub mod paths;
pub mod presets;
pub mod probe;
pub mod prompt;
pub mod report;
pub mod runtime;
pub mod secret;
pub mod state;
pub mod timefmt;
