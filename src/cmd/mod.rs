//! The command line's commands: one file per subcommand, each a [`Run`] for its clap arguments
//! (`cli.rs`), returning the process exit code (docs/contract.md, "Exit codes").
//!
//! `login` lives apart from `verify` (it shares verify's steps), and the child-process
//! supervisor that runs a login command on the terminal has its own file.

pub mod assets;
mod config;
mod daemon;
mod doctor;
mod export;
mod init;
mod journal;
mod login;
mod presets;
mod prompt;
mod status;
mod supervise;
mod unlock;
mod verify;

use crate::cli::{Cli, Command, StatusArgs};
use crate::define::config::{self as definitions, Config, ConfigError};
use std::path::{Path, PathBuf};

/// What every command may need: where the config is, and loading it.
pub(crate) struct Context {
    config_path: Option<PathBuf>,
}

impl Context {
    /// The config file: `--config`, else `$CREDWATCH_CONFIG`, else the XDG default.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// The config, loaded and validated (an absent file gives the defaults).
    pub fn config(&self) -> Result<Config, ConfigError> {
        let config = definitions::load(self.config_path())?;
        tracing::debug!(path = ?config.path, definitions = config.definitions.len(), "config loaded");
        Ok(config)
    }
}

/// One subcommand.
pub(crate) trait Run {
    /// Runs it; `Ok` holds the exit code, an `Err` is a usage or config error (exit 2).
    fn run(self, context: &Context) -> anyhow::Result<i32>;
}

/// Runs the command line's command (`status` when none is given).
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let context = Context {
        config_path: cli
            .config
            .clone()
            .or_else(crate::support::paths::config_file),
    };
    match cli
        .command
        .unwrap_or_else(|| Command::Status(StatusArgs::default()))
    {
        Command::Status(args) => args.run(&context),
        Command::Presets(args) => args.run(&context),
        Command::Init(args) => args.run(&context),
        Command::Prompt(args) => args.run(&context),
        Command::Daemon(args) => args.run(&context),
        Command::Journal(args) => args.run(&context),
        Command::Login(args) => args.run(&context),
        Command::Verify(args) => args.run(&context),
        Command::Doctor(args) => args.run(&context),
        Command::Unlock(args) => args.run(&context),
        Command::Export(args) => args.run(&context),
        Command::Completions(args) => args.run(&context),
        Command::Config(args) => args.run(&context),
        Command::CompleteNames(args) => args.run(&context),
    }
}
