//! `credwatch prompt [--cache]`: the compact prompt segment, for starship's `custom` module, tmux
//! status lines and other prompts. Empty when all is well. Reads the daemon's fresh state when
//! there is one; otherwise checks directly, and with `--cache` keeps the result (the prompt
//! file format) for the shell hooks to read while no daemon runs. `CREDWATCH_DISABLE=1` turns it
//! off, as it does the shell hooks: it prints nothing and checks nothing.

use super::{Context, Run};
use crate::cli::PromptArgs;
use crate::define::config::Config;
use crate::engine;
use crate::publish::prompt::{self, PromptItem};
use crate::publish::report::credential_report;
use crate::support::output::print;

impl Run for PromptArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        if std::env::var_os("CREDWATCH_DISABLE").is_some_and(|v| v == "1") {
            return Ok(0);
        }
        let cache = match (self.cache, self.shell) {
            (false, _) => None,
            (true, None) => Some(prompt::DIRECT_FILE.to_string()),
            (true, Some(pid)) => Some(format!("{}/{pid}.direct", prompt::SHELL_DIR)),
        };
        prompt(&context.config()?, cache.as_deref())
    }
}

/// `cache`: where to keep the result in the runtime dir, if anywhere.
fn prompt(config: &Config, cache: Option<&str>) -> anyhow::Result<i32> {
    let Some(cache) = cache else {
        // The daemon's state (with what depends on this shell's environment checked here), or
        // a direct check.
        let document = crate::publish::current::document(
            config,
            crate::engine::candidates(config)?,
            &[],
            false,
        )?;
        let items: Vec<PromptItem<'_>> = document
            .credentials
            .iter()
            .map(|report| PromptItem {
                report,
                commands: &[],
                fix: "",
            })
            .collect();
        print_segment(&prompt::segment(&config.prompt_format, &items));
        return Ok(0);
    };
    let candidates = engine::candidates(config)?;
    let checked = engine::check_for_user(config, candidates);
    let reports: Vec<_> = checked.iter().map(credential_report).collect();
    let items: Vec<PromptItem<'_>> = checked
        .iter()
        .zip(&reports)
        .map(|(c, report)| PromptItem::of(report, &c.definition))
        .collect();
    let path = crate::support::runtime::runtime_dir().join(cache);
    for dir in path
        .ancestors()
        .skip(1)
        .take(cache.matches('/').count() + 1)
    {
        crate::support::runtime::ensure_private_dir(dir)?;
    }
    let valid_until = checked
        .iter()
        .filter_map(|c| c.verdict.next_change_at)
        .min();
    let content = prompt::PromptFile::new(
        config,
        &items,
        0,
        valid_until,
        crate::support::timefmt::Timestamp::now(),
    );
    crate::support::runtime::write_atomically(&path, content.render("0").as_bytes())?;
    print_segment(&prompt::segment(&config.prompt_format, &items));
    Ok(0)
}

fn print_segment(segment: &str) {
    if !segment.is_empty() {
        print(&format!("{}\n", prompt::for_locale(segment)));
    }
}
