//! The command line's commands: one file per subcommand, each a [`Run`] for its clap arguments
//! (`cli.rs`), returning the process exit code (docs/contract.md, "Exit codes"). A command that
//! fails exits [`EXIT_USAGE`] for a mistake in what was asked (the command line, the config, an
//! unknown name) and [`EXIT_FAILED`] for anything else (a file that cannot be written, a
//! directory that cannot be made, the daemon failing while it runs): [`exit_code_of`].
//!
//! `login` lives apart from `verify` (it shares verify's steps), and the child-process
//! supervisor that runs a login command on the terminal has its own file.

pub mod assets;
mod config;
mod daemon;
mod doctor;
mod export;
mod forget;
mod init;
mod journal;
mod login;
mod presets;
mod prompt;
mod status;
mod unlock;
mod verify;

use crate::cli::{Cli, Command, StatusArgs};
use crate::define::config::{self as definitions, Config, ConfigError};
use crate::engine::{self, Candidate};
use std::path::{Path, PathBuf};

/// Exit code for a usage or config error: the command line, the config, or a name that names
/// nothing (clap's own usage errors exit 2 too).
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a command that could not do its work: an I/O error, a runtime or state dir that
/// cannot be used, the daemon failing while it runs.
pub const EXIT_FAILED: u8 = 4;

/// A mistake in what was asked (a credential or preset name that names nothing): exits
/// [`EXIT_USAGE`], like a config error.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit code of a command that failed with `error`: [`EXIT_USAGE`] when the user asked for
/// something wrong (a config error, a [`UsageError`]), [`EXIT_FAILED`] otherwise.
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    let usage = error
        .chain()
        .any(|cause| cause.is::<ConfigError>() || cause.is::<UsageError>());
    if usage {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}

/// The credentials named on the command line ([`engine::named`]); a name that is neither a
/// definition nor a preset is a [`UsageError`].
pub(crate) fn named(config: &Config, names: &[String]) -> anyhow::Result<Vec<Candidate>> {
    engine::named(config, names).map_err(|error| {
        let unknown = names.iter().any(|name| {
            !config.definitions.iter().any(|d| &d.name == name)
                && crate::define::presets::source(name).is_none()
        });
        if unknown {
            UsageError(format!("{error:#}")).into()
        } else {
            error
        }
    })
}

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
        tracing::debug!(
            path = %config.path.as_deref().map_or("(none: the defaults)".into(), crate::support::paths::display),
            definitions = config.definitions.len(),
            "config loaded"
        );
        Ok(config)
    }
}

/// One subcommand.
pub(crate) trait Run {
    /// Runs it; `Ok` holds the exit code; an `Err` exits [`exit_code_of`] it (2 for a usage or
    /// config error, 4 for a failure).
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
        Command::Forget(args) => args.run(&context),
        Command::Export(args) => args.run(&context),
        Command::Completions(args) => args.run(&context),
        Command::Config(args) => args.run(&context),
        Command::CompleteNames(args) => args.run(&context),
    }
}
