//! The command line, declared once with clap (completions and the man page derive from it).

pub use crate::shell::Shell;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "credwatch",
    version,
    about = "Tells you a login broke before a command fails",
    long_about = "credwatch watches the logins of command-line tools (Claude Code, gh, aws, az, \
kubectl, docker, npm, git, vault, and your own) and says which are broken, why, and the fix. \
It only reads credentials: it never refreshes, rewrites or prints them.\n\n\
Exit codes of status: 0 all usable, 1 at least one broken, 3 none broken but some undetermined. \
Of every command: 2 usage or config error, 4 the command could not do its work (an I/O error, \
a runtime or state dir that cannot be used)."
)]
pub struct Cli {
    /// Config file [default: $CREDWATCH_CONFIG, else $XDG_CONFIG_HOME/credwatch/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every watched credential, its state, why, and the fix (the default command)
    Status(StatusArgs),
    /// The built-in credential definitions, or one of them as TOML
    Presets(PresetsArgs),
    /// Print the shell hook: eval "$(credwatch init bash)", or `credwatch init fish | source`
    Init(InitArgs),
    /// The compact prompt segment (empty when all is well), for starship, tmux and other prompts
    Prompt(PromptArgs),
    /// Watch credentials and publish their state (foreground; the systemd user service runs this)
    Daemon(DaemonArgs),
    /// What happened to each credential: created, modified, blanked, deleted, state changes
    Journal(JournalArgs),
    /// Run a login command on this terminal, then prove the new login persisted (step by step)
    #[command(arg_required_else_help = true)]
    Login(LoginArgs),
    /// Check, step by step, that logins are stored, valid, private, persistent and accepted
    Verify(VerifyArgs),
    /// The environment: D-Bus, keyring, runtime dir, daemon, shell hook, shadowing env vars, clock
    Doctor(DoctorArgs),
    /// Unlock the desktop keyring with its password, in place (also over SSH; asks without echo)
    Unlock(UnlockArgs),
    /// Stop flagging a login you do not use here (until a new login of it appears)
    #[command(arg_required_else_help = true)]
    Forget(ForgetArgs),
    /// Metrics in Prometheus text format, for node_exporter's textfile collector
    Export(ExportArgs),
    /// Shell completions: credwatch completions bash > /usr/share/bash-completion/completions/credwatch
    Completions(CompletionsArgs),
    /// Validate the config, print its path, or show the definitions in effect
    Config(ConfigArgs),
    /// The credential names, one per line (for the shell completions)
    #[command(name = "__complete-names", hide = true)]
    CompleteNames(CompleteNamesArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompleteNamesArgs {}

#[derive(Debug, clap::Args)]
pub struct PresetsArgs {
    /// Print this preset's definition, ready to copy into config.toml
    pub name: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct PromptArgs {
    /// Also keep the result for the shell hooks while no daemon runs
    #[arg(long)]
    pub cache: bool,
    /// Keep it for the shell with this pid (its hook reads shell/PID.direct): each shell's
    /// direct check is made in its own environment
    #[arg(long, value_name = "PID", requires = "cache")]
    pub shell: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// After a credential is written, check again this long after that it stayed
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration_arg)]
    pub grace: i64,
    /// Keep this Prometheus textfile up to date (overrides `export.prometheus_textfile`)
    #[arg(long, value_name = "FILE")]
    pub prometheus_textfile: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ForgetArgs {
    /// The credentials (see `credwatch status`)
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Watch them again
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, clap::Args)]
pub struct JournalArgs {
    /// Only this credential
    pub name: Option<String>,
    /// JSON lines, one event per line
    #[arg(long)]
    pub json: bool,
    /// Then print new entries as the daemon writes them, until Ctrl-C
    #[arg(short, long)]
    pub follow: bool,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The credential it logs in to [default: the one whose `commands` match CMD]
    pub name: Option<String>,
    /// After the command, check again this long later that the login stayed
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration_arg)]
    pub grace: i64,
    /// The login command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Only these credentials [default: every one found here]
    pub names: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UnlockArgs {}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Default, clap::Args)]
pub struct StatusArgs {
    /// Only these credentials (any preset may be named, found on this machine or not)
    pub names: Vec<String>,
    /// Machine-readable output (schema in docs/contract.md)
    #[arg(long)]
    pub json: bool,
    /// Evaluate now rather than reading a daemon's published state
    #[arg(long)]
    pub live: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Prometheus text exposition format (the only format so far)
    #[arg(long, required = true)]
    pub prometheus: bool,
    /// Write to FILE atomically (for node_exporter's textfile collector) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Evaluate now rather than reading a daemon's published state
    #[arg(long)]
    pub live: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Parse and validate the config; errors name file:line:column (exit 2)
    Check,
    /// Print the config file's path
    Path,
    /// Print the credential definitions in effect, as TOML
    Show,
}

fn parse_duration_arg(text: &str) -> Result<i64, String> {
    crate::support::timefmt::parse_duration(text)
}
