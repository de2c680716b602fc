//! One module per subcommand; each returns the process exit code.

pub mod config;
pub mod journal;
pub mod presets;
pub mod status;
