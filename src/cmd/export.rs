//! `credwatch export --prometheus [--output FILE]`: the state of every credential as Prometheus
//! metrics, from the daemon's fresh state or a direct check (like `status`).
//!
//! Guarantees: `--output` replaces the file atomically (a scraper never reads half a file); the
//! exit code is `status`'s, so a cron job can also alert on it.

use crate::cli::ExportArgs;
use crate::config::Config;
use crate::output::print;
use crate::state::exit_code;

pub fn run(config: &Config, args: &ExportArgs) -> anyhow::Result<i32> {
    let document = super::status::current_document(config, &[], args.live)?;
    let reports: Vec<_> = document.credentials.iter().collect();
    let text = crate::metrics::render(&reports, &document.daemon);
    match &args.output {
        None => {
            print(&text);
        }
        Some(path) => write_textfile(path, &text)?,
    }
    Ok(exit_code(document.credentials.iter().map(|c| c.state)))
}

/// Replaces `path` with `text` atomically, readable by a node_exporter running as another user
/// (metrics hold no secret).
pub fn write_textfile(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let shown = crate::paths::display(path);
    crate::runtime::write_atomically_with_mode(path, text.as_bytes(), 0o644).map_err(|e| {
        anyhow::anyhow!(
            "cannot write {shown}: {e}\n  fix: create its directory and make it writable for you (node_exporter's --collector.textfile.directory)"
        )
    })?;
    Ok(())
}
