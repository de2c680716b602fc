//! `credwatch export --prometheus [--output FILE]`: the state of every credential as Prometheus
//! metrics, from the daemon's fresh state or a direct check (like `status`).
//!
//! Guarantees: `--output` replaces the file atomically (a scraper never reads half a file); the
//! exit code is `status`'s, so a cron job can also alert on it.

use super::{Context, Run};
use crate::cli::ExportArgs;
use crate::define::config::Config;
use crate::support::output::print;

impl Run for ExportArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        export(&context.config()?, &self)
    }
}

fn export(config: &Config, args: &ExportArgs) -> anyhow::Result<i32> {
    let document = crate::publish::current::document(
        config,
        crate::engine::candidates(config)?,
        &[],
        args.live,
    )?;
    let reports: Vec<_> = document.credentials.iter().collect();
    let text = crate::publish::metrics::render(&reports, &document.daemon);
    match &args.output {
        None => {
            print(&text);
        }
        Some(path) => crate::publish::metrics::write_textfile(path, &text)?,
    }
    Ok(document.exit_code())
}
