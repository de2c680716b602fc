//! Shell completions and the man page, generated from the clap definitions (`cli.rs`), so they
//! never drift from the real command line.

use super::{Context, Run};
use crate::cli::{Cli, CompletionShell, CompletionsArgs};
use clap::CommandFactory;
use std::path::Path;

fn generator(shell: CompletionShell) -> clap_complete::Shell {
    match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
        CompletionShell::Elvish => clap_complete::Shell::Elvish,
        CompletionShell::Powershell => clap_complete::Shell::PowerShell,
    }
}

/// `credwatch completions SHELL`: the completion script on stdout.
impl Run for CompletionsArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        let mut command = Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(generator(self.shell), &mut command, "credwatch", &mut out);
        crate::support::output::print(&String::from_utf8_lossy(&out));
        Ok(0)
    }
}

/// Writes `completions/{credwatch.bash,_credwatch,credwatch.fish}` and `man/credwatch*.1` under
/// `out_dir` (what the .deb ships; `cargo run --example generate-assets`).
pub fn generate(out_dir: &Path) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let completions = out_dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [
        CompletionShell::Bash,
        CompletionShell::Zsh,
        CompletionShell::Fish,
    ] {
        clap_complete::generate_to(generator(shell), &mut command, "credwatch", &completions)?;
    }
    let man = out_dir.join("man");
    std::fs::create_dir_all(&man)?;
    // credwatch.1 and one page per subcommand (credwatch-status.1, …), which credwatch.1 names.
    clap_mangen::generate_to(Cli::command(), &man)?;
    Ok(())
}
