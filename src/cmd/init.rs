//! `credwatch init bash|zsh|fish`: prints the shell hook (see `crate::shell`).

use super::{Context, Run};
use crate::cli::InitArgs;
use crate::support::output::print;
use crate::support::paths::display;

impl Run for InitArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        let binary = std::env::current_exe()
            .map(|p| display(&p))
            .unwrap_or_else(|_| "credwatch".into());
        let runtime = display(&crate::support::runtime::runtime_dir());
        // The variables that select a login: every credential in play's (the presets' alone
        // when the config cannot be read: the hook must be printed).
        let candidates = context
            .config()
            .ok()
            .and_then(|config| crate::engine::candidates(&config).ok())
            .or_else(|| crate::engine::candidates(&Default::default()).ok())
            .unwrap_or_default();
        let variables = crate::shell::context_variables(candidates.iter().map(|c| &c.definition));
        print(&crate::shell::render(
            self.shell, &binary, &runtime, &variables,
        ));
        Ok(0)
    }
}
