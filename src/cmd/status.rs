//! `credwatch status`: every watched credential, its state, why, and the fix.

use crate::checks::{self, Checked};
use crate::cli::StatusArgs;
use crate::config::Config;
use crate::output::{paint, print, use_color};
use crate::report::status_document;
use crate::state::{exit_code, Group, State};
use crate::timefmt::Timestamp;

pub fn run(config: &Config, args: &StatusArgs) -> anyhow::Result<i32> {
    let candidates = if args.names.is_empty() {
        checks::candidates(config)?
    } else {
        checks::named(config, &args.names)?
    };
    let checked = checks::check(config, candidates);
    let text = if args.json {
        let document = status_document(&checked, Timestamp::now());
        serde_json::to_string_pretty(&document)? + "\n"
    } else if checked.is_empty() {
        nothing_found(config)
    } else {
        table(&checked, use_color())
    };
    print(&text);
    Ok(exit_code(checked.iter().map(|c| c.verdict.state)))
}

fn nothing_found(config: &Config) -> String {
    let config_path = config
        .path
        .as_deref()
        .map(crate::paths::display)
        .or_else(|| crate::paths::config_file().map(|p| crate::paths::display(&p)))
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
pub fn table(checked: &[Checked], color: bool) -> String {
    let name_width = checked
        .iter()
        .map(|c| c.definition.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let state_width = checked
        .iter()
        .map(|c| c.verdict.state.as_str().len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(name_width + state_width + 4);
    let mut out = String::new();
    for c in checked {
        let state = c.verdict.state.as_str();
        let padded = format!("{state:<state_width$}");
        out.push_str(&format!(
            "{:<name_width$}  {}  {}\n",
            c.definition.name,
            paint(&padded, state_color(c.verdict.state), color),
            c.verdict.reason
        ));
        if let Some(fix) = &c.verdict.fix {
            out.push_str(&format!("{indent}{} {fix}\n", paint("fix:", "1", color)));
        }
    }
    out
}
