//! credwatch: a shell-integrated credential watchdog. See README.md and docs/contract.md.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = credwatch::cli::Cli::parse();
    // The daemon says what it watches and what it does (its journal under systemd); the
    // commands only what went wrong.
    let daemon = matches!(cli.command, Some(credwatch::cli::Command::Daemon(_)));
    // Under systemd, stderr is the journal: each line with its priority.
    let journal = credwatch::support::journald::stderr_is_journal();
    init_logging(if daemon { "info" } else { "warn" }, journal);
    match credwatch::cmd::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(credwatch::cmd::EXIT_FAILED)),
        // 2 for a usage or config error, 4 for a failure (docs/contract.md, "Exit codes").
        Err(error) => {
            let text = format!("credwatch: {error:#}\n");
            if journal {
                let lines = credwatch::support::journald::prefixed("<3>", text.as_bytes());
                let _ = std::io::Write::write_all(&mut std::io::stderr(), &lines);
            } else {
                eprint!("{text}");
            }
            ExitCode::from(credwatch::cmd::exit_code_of(&error))
        }
    }
}

fn init_logging(default_level: &str, journal: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Into the journal: each event an entry with its priority and fields (no time: the journal
    // has it), so `journalctl -p warning` finds the warnings and CREDWATCH_CREDENTIAL=NAME what
    // was said about a login; without journald's socket, each line with its priority.
    if journal {
        if let Ok(layer) = credwatch::support::journald::JournalLayer::new(std::path::Path::new(
            credwatch::support::journald::NATIVE_SOCKET,
        )) {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            tracing_subscriber::registry()
                .with(filter)
                .with(layer)
                .init();
            return;
        }
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(credwatch::support::journald::JournalWriter)
            .with_ansi(false)
            .with_target(false)
            .without_time()
            .init();
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
