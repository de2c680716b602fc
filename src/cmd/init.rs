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
        // shell's environment, remembered, or configured), and the ssh-agent's, which is not
        // asked here (a shell often gets its agent after its rc file ran): the hook compares
        // each after every command. With a config that cannot be read, the presets'.
        let config = context.config().unwrap_or_default();
        let (agents, others): (Vec<_>, Vec<_>) = crate::engine::candidates(&config)
            .unwrap_or_default()
            .into_iter()
            .partition(|c| c.definition.format.traits().asked_through_socket);
        let in_play = crate::engine::found_among(&config, others);
        let variables = crate::shell::context_variables(
            in_play
                .iter()
                .map(|c| &c.definition)
                .chain(agents.iter().map(|c| &c.definition)),
        );
        print(&crate::shell::render(
            self.shell, &binary, &runtime, &variables,
        ));
        Ok(0)
    }
}
