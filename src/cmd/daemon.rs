//! `credwatch daemon`: the watcher in the foreground (see `crate::daemon`).

use super::{Context, Run};
use crate::cli::DaemonArgs;
use std::path::Path;

impl Run for DaemonArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        // Fail early on a broken config; the daemon loads (and reloads) it itself.
        drop(context.config()?);
        crate::daemon::run(crate::daemon::Options {
            config_path: context.config_path().map(Path::to_path_buf),
            grace_ms: self.grace,
            prometheus_textfile: self.prometheus_textfile,
        })
    }
}
