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
        // The variables that select a login, of the credentials in play here (found in this
        // shell's environment, remembered, or configured): the hook compares each after every
        // command. With a config that cannot be read, the presets'.
        let in_play = context
            .config()
            .ok()
            .or_else(|| Some(Default::default()))
            .and_then(|config| crate::engine::found_here(&config).ok())
            .unwrap_or_default();
        let variables = crate::shell::context_variables(in_play.iter().map(|c| &c.definition));
        print(&crate::shell::render(
            self.shell, &binary, &runtime, &variables,
        ));
        Ok(0)
    }
}
