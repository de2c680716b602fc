//! `credwatch init bash|zsh|fish`: prints the shell hook (the files in `shell/`), with this
//! binary's path and the runtime dir filled in, quoted for that shell.

use crate::cli::Shell;
use crate::output::print;
use crate::paths::display;

pub const BASH_HOOK: &str = include_str!("../../shell/credwatch.bash");
pub const ZSH_HOOK: &str = include_str!("../../shell/credwatch.zsh");
pub const FISH_HOOK: &str = include_str!("../../shell/credwatch.fish");

pub fn run(shell: Shell) -> anyhow::Result<i32> {
    let binary = std::env::current_exe()
        .map(|p| display(&p))
        .unwrap_or_else(|_| "credwatch".into());
    let runtime = display(&crate::runtime::runtime_dir());
    print(&render(shell, &binary, &runtime));
    Ok(0)
}

pub fn render(shell: Shell, binary: &str, runtime_dir: &str) -> String {
    let (template, quote): (&str, fn(&str) -> String) = match shell {
        Shell::Bash => (BASH_HOOK, posix_quote),
        Shell::Zsh => (ZSH_HOOK, posix_quote),
        Shell::Fish => (FISH_HOOK, fish_quote),
    };
    template
        .replace("@CREDWATCH_BIN@", &quote(binary))
        .replace("@CREDWATCH_RUNTIME_DIR@", &quote(runtime_dir))
}

/// Single quotes for bash and zsh: `'` becomes `'\''`.
fn posix_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Single quotes for fish: backslash and quote are escaped with a backslash.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_each_shell() {
        assert_eq!(
            posix_quote("/opt/it's here/credwatch"),
            r"'/opt/it'\''s here/credwatch'"
        );
        assert_eq!(fish_quote(r"/opt/it's\here"), r"'/opt/it\'s\\here'");
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let hook = render(shell, "/usr/bin/credwatch", "/run/user/1000/credwatch");
            assert!(!hook.contains("@CREDWATCH_"), "{shell:?}: placeholder left");
            assert!(hook.contains("'/usr/bin/credwatch'"));
        }
    }
}
