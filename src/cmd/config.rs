//! `credwatch config check|path|show`.

use super::{Context, Run};
use crate::cli::{ConfigAction, ConfigArgs};
use crate::define::config::{Config, RawConfig};
use crate::engine;
use crate::support::output::print;
use crate::support::paths::display;
use std::path::Path;

impl Run for ConfigArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        match self.action {
            ConfigAction::Path => path(context.config_path()),
            ConfigAction::Check => check(&context.config()?, context.config_path()),
            ConfigAction::Show => show(&context.config()?),
        }
    }
}

fn check(config: &Config, path: Option<&Path>) -> anyhow::Result<i32> {
    let text = match (&config.path, path) {
        (Some(read), _) => format!(
            "config OK: {} ({} credential{} defined)\n",
            display(read),
            config.definitions.len(),
            if config.definitions.len() == 1 {
                ""
            } else {
                "s"
            }
        ),
        (None, Some(expected)) => format!(
            "no config file at {}: the defaults apply (presets = \"auto\", warn_before = \"3d\")\n",
            display(expected)
        ),
        (None, None) => {
            "no config file (the home directory is unknown): the defaults apply\n".into()
        }
    };
    print(&text);
    Ok(0)
}

fn path(path: Option<&Path>) -> anyhow::Result<i32> {
    let Some(path) = path else {
        anyhow::bail!("cannot tell where the config lives: $HOME is not set\n  fix: set HOME or CREDWATCH_CONFIG");
    };
    print(&format!("{}\n", display(path)));
    Ok(0)
}

/// The definitions in effect (the user's, and the presets selected or detected), as TOML.
fn show(config: &Config) -> anyhow::Result<i32> {
    let checked = engine::found_here(config)?;
    let shown = RawConfig {
        warn_before: config.raw.warn_before.clone(),
        presets: config.raw.presets.clone(),
        prompt: config.raw.prompt.clone(),
        keyring_poll: config.raw.keyring_poll.clone(),
        export: config.raw.export.clone(),
        notify: config.raw.notify.clone(),
        on_change: config.raw.on_change.clone(),
        long_commands: config.raw.long_commands.clone(),
        credentials: checked
            .iter()
            .filter_map(|c| match &c.definition.raw {
                Some(raw) => Some(raw.clone()),
                // A preset keeps no raw form: its TOML is in the binary.
                None => {
                    crate::define::config::preset_from_source(&c.definition.name)?
                        .ok()?
                        .raw
                }
            })
            .collect(),
    };
    let origin = match &config.path {
        Some(path) => format!("# config: {}\n", display(path)),
        None => "# no config file: defaults\n".to_string(),
    };
    let body = toml::to_string_pretty(&shown)?;
    print(&format!(
        "{origin}# {} credential definition(s) in effect\n{body}",
        checked.len()
    ));
    Ok(0)
}
