//! Shell completions and the man page, generated from the clap definitions (`cli.rs`), so they
//! never drift from the real command line.

use super::{Context, Run};
use crate::cli::{Cli, CompleteNamesArgs, CompletionShell, CompletionsArgs};
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
        crate::support::output::print(&script(self.shell));
        Ok(0)
    }
}

/// `credwatch __complete-names`: every name a command takes (the presets', and the user's own
/// definitions' when the config loads), one per line, for the completions to offer.
impl Run for CompleteNamesArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        let mut names: Vec<String> = crate::define::presets::names().map(String::from).collect();
        if let Ok(config) = context.config() {
            for definition in &config.definitions {
                if !names.contains(&definition.name) {
                    names.push(definition.name.clone());
                }
            }
        }
        crate::support::output::print(&(names.join("\n") + "\n"));
        Ok(0)
    }
}

/// The subcommands whose arguments are credential names.
const TAKE_NAMES: [&str; 5] = ["status", "verify", "journal", "login", "presets"];

/// The completion script for `shell`: clap's, plus the credential names for the commands that
/// take them (asked of `credwatch __complete-names` at each completion, with the same
/// `--config`).
pub fn script(shell: CompletionShell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(generator(shell), &mut command, "credwatch", &mut out);
    let generated = String::from_utf8_lossy(&out).into_owned();
    match shell {
        CompletionShell::Bash => bash_with_names(&generated),
        CompletionShell::Zsh => zsh_with_names(&generated),
        CompletionShell::Fish => fish_with_names(&generated),
        CompletionShell::Elvish | CompletionShell::Powershell => generated,
    }
}

fn bash_with_names(generated: &str) -> String {
    let commands = TAKE_NAMES.join("|");
    let registration = generated.replace(
        "complete -F _credwatch ",
        "complete -F _credwatch_with_names ",
    );
    format!(
        r#"{registration}
# Credential names for {commands} (credwatch's own addition to clap's script).
_credwatch_names() {{
    local i word sub='' config=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        case $word in
            --) return 1 ;;
            --config) config=(--config "${{COMP_WORDS[i+1]}}"); i=$((i + 1)) ;;
            --config=*) config=("$word") ;;
            -*) ;;
            *) [[ -n $sub ]] || sub=$word ;;
        esac
    done
    case $sub in
        {commands}) ;;
        *) return 1 ;;
    esac
    [[ ${{COMP_WORDS[COMP_CWORD]}} != -* ]] || return 1
    local IFS=$'
'
    # shellcheck disable=SC2207
    COMPREPLY=($(compgen -W "$(credwatch "${{config[@]}}" __complete-names 2>/dev/null)" -- "${{COMP_WORDS[COMP_CWORD]}}"))
}}
_credwatch_with_names() {{
    _credwatch_names || _credwatch "$@"
}}
"#
    )
}

fn zsh_with_names(generated: &str) -> String {
    let mut text = String::with_capacity(generated.len() + 512);
    for line in generated.lines() {
        let names_arg = line.starts_with("'*::names -- ") || line.starts_with("'::name -- ");
        if names_arg && line.ends_with(":_default' \\") {
            text.push_str(&line.replace(":_default' \\", ":_credwatch_names' \\"));
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    let function = r#"# Credential names (credwatch's own addition to clap's script).
(( $+functions[_credwatch_names] )) ||
_credwatch_names() {
    local -a names config
    local at=${words[(I)--config]}
    (( at )) && config=(--config "${words[at+1]}")
    names=(${(f)"$(_call_program credential-names credwatch "${config[@]}" __complete-names 2>/dev/null)"})
    _wanted credentials expl 'credential' compadd -a names
}

"#;
    match text.rfind("if [ \"$funcstack[1]\" = \"_credwatch\" ]") {
        Some(at) => text.insert_str(at, function),
        None => text.push_str(function),
    }
    text
}

fn fish_with_names(generated: &str) -> String {
    let mut text = generated.to_string();
    text.push_str("# Credential names (credwatch's own addition to clap's script).\n");
    text.push_str("function __fish_credwatch_names\n    set -l config (string match -r -- '^--config=.*' (commandline -opc))\n    set -l at (contains -i -- --config (commandline -opc))\n    and set config --config (commandline -opc)[(math $at + 1)]\n    credwatch $config __complete-names 2>/dev/null\nend\n");
    for command in TAKE_NAMES {
        text.push_str(&format!(
            "complete -c credwatch -n \"__fish_credwatch_using_subcommand {command}; and not __fish_seen_subcommand_from --\" -f -a \"(__fish_credwatch_names)\" -d credential\n"
        ));
    }
    text
}

/// Writes `presets/compiled.jsonl` under `root`: every preset validated from its TOML, the form
/// the binary reads them in (see `config::preset`).
pub fn compile_presets(root: &Path) -> anyhow::Result<()> {
    let compiled = crate::define::config::compile_presets()?;
    std::fs::write(root.join("presets").join("compiled.jsonl"), compiled)?;
    Ok(())
}

/// Writes docs/presets.md's table of every preset anew (see `presets::markdown_table`).
pub fn write_presets_table(root: &Path) -> anyhow::Result<()> {
    let path = root.join("docs").join("presets.md");
    let page = std::fs::read_to_string(&path)?;
    std::fs::write(&path, super::presets::page_with_table(&page)?)?;
    Ok(())
}

/// Writes `completions/{credwatch.bash,_credwatch,credwatch.fish}` and `man/credwatch*.1` under
/// `out_dir` (what the .deb ships, kept in `packaging/`: `cargo run --example generate-assets`).
pub fn generate(out_dir: &Path) -> anyhow::Result<()> {
    let completions = out_dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for (shell, name) in [
        (CompletionShell::Bash, "credwatch.bash"),
        (CompletionShell::Zsh, "_credwatch"),
        (CompletionShell::Fish, "credwatch.fish"),
    ] {
        std::fs::write(completions.join(name), script(shell))?;
    }
    let man = out_dir.join("man");
    std::fs::create_dir_all(&man)?;
    // credwatch.1 and one page per subcommand (credwatch-status.1, …), which credwatch.1 names.
    clap_mangen::generate_to(Cli::command(), &man)?;
    Ok(())
}
