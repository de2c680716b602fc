//! `credwatch init bash|zsh|fish`: prints the shell hook (see `crate::shell`).

use super::{Context, Run};
use crate::cli::InitArgs;
use crate::support::output::print;
use crate::support::paths::display;

impl Run for InitArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        let binary = std::env::current_exe()
            .map(|p| display(&p))
            .unwrap_or_else(|_| "credwatch".into());
        let runtime = display(&crate::support::runtime::runtime_dir());
        print(&crate::shell::render(self.shell, &binary, &runtime));
        Ok(0)
    }
}
