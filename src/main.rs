//! credwatch: a shell-integrated credential watchdog. See README.md and contract.md.

use clap::Parser;
use credwatch::cli::{Cli, Command, ConfigAction, StatusArgs};
use credwatch::{cmd, config, paths};
use std::process::ExitCode;

/// Exit code for usage and configuration errors (contract.md).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(EXIT_USAGE)),
        Err(error) => {
            eprintln!("credwatch: {error:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let config_path = cli.config.clone().or_else(paths::config_file);
    let command = cli
        .command
        .unwrap_or_else(|| Command::Status(StatusArgs::default()));
    if let Command::Presets { name } = &command {
        return cmd::presets::run(name.as_deref());
    }
    if let Command::Init { shell } = &command {
        return cmd::init::run(*shell);
    }
    if let Command::Completions { shell } = &command {
        return cmd::assets::completions(*shell);
    }
    if let Command::Journal { name, json } = &command {
        return cmd::journal::run(name.as_deref(), *json);
    }
    if let Command::Config {
        action: ConfigAction::Path,
    } = &command
    {
        return cmd::config::path(config_path.as_deref());
    }
    let config = config::load(config_path.as_deref())?;
    tracing::debug!(path = ?config.path, definitions = config.definitions.len(), "config loaded");
    match command {
        Command::Status(args) => cmd::status::run(&config, &args),
        Command::Prompt { cache } => cmd::prompt::run(&config, cache),
        Command::Export(args) => cmd::export::run(&config, &args),
        Command::Verify { names } => cmd::verify::verify(&config, &names),
        Command::Login {
            name,
            grace,
            command,
        } => cmd::verify::login(&config, name.as_deref(), &command, grace),
        Command::Doctor { json } => cmd::doctor::run(&config, json),
        Command::Daemon {
            grace,
            prometheus_textfile,
        } => {
            drop(config); // the daemon loads (and reloads) it itself
            credwatch::daemon::run(credwatch::daemon::Options {
                config_path,
                grace_ms: grace,
                prometheus_textfile,
            })
        }
        Command::Config { action } => match action {
            ConfigAction::Check => cmd::config::check(&config, config_path.as_deref()),
            ConfigAction::Show => cmd::config::show(&config),
            ConfigAction::Path => unreachable!("handled above"),
        },
        Command::Presets { .. }
        | Command::Journal { .. }
        | Command::Init { .. }
        | Command::Completions { .. } => {
            unreachable!("handled above")
        }
    }
}
