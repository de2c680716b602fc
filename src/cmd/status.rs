//! `credwatch status`: every watched credential, its state, why, and the fix.
//!
//! The state comes from the read path `prompt` and `export` share ([`crate::publish::current`]):
//! the daemon's published state when it still holds (and this says so), else a direct check.

use super::{Context, Run};
use crate::cli::StatusArgs;
use crate::define::config::Config;
use crate::define::state::{Group, State};
use crate::engine;
use crate::publish::current;
use crate::publish::report::CredentialReport;
use crate::support::output::{paint, print, use_color};

impl Run for StatusArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        status(&context.config()?, &self)
    }
}

fn status(config: &Config, args: &StatusArgs) -> anyhow::Result<i32> {
    let candidates = if args.names.is_empty() {
        engine::candidates(config)?
    } else {
        super::named(config, &args.names)?
    };
    let document = current::document(config, candidates, &args.names, args.live)?;
    if let Some(error) = &document.daemon.config_error {
        eprintln!("credwatch: the daemon could not reload the config and keeps the last good one:\n{error}");
    }
    if !args.json {
        if let Some(text) = unwatched_note(&document.daemon.unwatched) {
            eprint!("{text}");
        }
    }
    let text = if args.json {
        serde_json::to_string_pretty(&document)? + "\n"
    } else if document.credentials.is_empty() {
        nothing_found(config)
    } else {
        let mut text = table(&document.credentials, use_color());
        if document.source == "daemon" {
            text.push_str(&format!(
                "(from the credwatch daemon, pid {}; `credwatch status --live` checks now)\n",
                document.daemon.pid.unwrap_or(0)
            ));
        }
        text
    };
    print(&text);
    Ok(document.exit_code())
}

/// What the daemon says it cannot watch, for people: why, and each distinct fix once.
fn unwatched_note(unwatched: &[crate::publish::report::UnwatchedReport]) -> Option<String> {
    if unwatched.is_empty() {
        return None;
    }
    let mut text = format!(
        "credwatch: the daemon cannot watch {} path(s), so it polls them and this was checked directly:\n",
        unwatched.len()
    );
    let mut fixes: Vec<&str> = Vec::new();
    for item in unwatched {
        text.push_str(&format!("  {}: {}\n", item.path, item.reason));
        if !fixes.contains(&item.fix.as_str()) {
            fixes.push(&item.fix);
        }
    }
    for fix in fixes {
        text.push_str(&format!("  fix: {fix}\n"));
    }
    Some(text)
}

fn nothing_found(config: &Config) -> String {
    let config_path = config
        .path
        .as_deref()
        .map(crate::support::paths::display)
        .or_else(|| {
            crate::support::paths::config_file().map(|p| crate::support::paths::display(&p))
        })
        .unwrap_or_else(|| "config.toml".into());
    format!(
        "No credentials to watch: no built-in preset found a login on this machine \
(`credwatch presets` lists where they look), and {config_path} defines none.\n"
    )
}

fn state_color(state: State) -> &'static str {
    match (state, state.group()) {
        (State::Ok, _) => "32",
        (_, Group::Usable) => "33",
        (_, Group::Broken) => "1;31",
        (_, Group::Undetermined) => "35",
    }
}

/// One row per credential, `fix:` beneath the reason when something needs doing.
pub fn table(credentials: &[CredentialReport], color: bool) -> String {
    let name_width = credentials
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let state_width = credentials
        .iter()
        .map(|c| c.state.as_str().len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(name_width + state_width + 4);
    let mut out = String::new();
    for c in credentials {
        let padded = format!("{:<state_width$}", c.state.as_str());
        if c.forgotten {
            // Said not to be used here: shown dim, with how to undo it, never as a failure.
            out.push_str(&format!(
                "{:<name_width$}  {}  forgotten (credwatch forget): {}\n",
                c.name,
                paint(&padded, "2", color),
                c.reason
            ));
            out.push_str(&format!(
                "{indent}{} credwatch forget --undo {} (or log in again: it is watched again)\n",
                paint("undo:", "1", color),
                c.name
            ));
            continue;
        }
        out.push_str(&format!(
            "{:<name_width$}  {}  {}\n",
            c.name,
            paint(&padded, state_color(c.state), color),
            c.reason
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{indent}{} {fix}\n", paint("fix:", "1", color)));
        }
        // Several accounts: each on its line, the one in use marked; another's state is
        // shown, never counted.
        for account in &c.accounts {
            let mark = if account.active { "*" } else { " " };
            out.push_str(&format!(
                "{indent}{mark} {}  {}  {}\n",
                account.name,
                paint(account.state.as_str(), state_color(account.state), color),
                if account.active {
                    format!("(in use) {}", account.reason)
                } else {
                    format!("(not in use) {}", account.reason)
                }
            ));
        }
    }
    out
}
