//! One module per subcommand; each returns the process exit code.

pub mod assets;
pub mod config;
pub mod doctor;
pub mod export;
pub mod init;
pub mod journal;
pub mod presets;
pub mod prompt;
pub mod status;
pub mod verify;
