//! The shell hooks (the files in `shell/` at the repository's root, compiled in), rendered for
//! one shell with this binary's path and the runtime dir filled in.
//!
//! Guarantees: both values are quoted for the shell they go into (a path with a quote or a
//! backslash cannot break out of its string); no placeholder is left.

/// A shell credwatch has a hook for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

const BASH_HOOK: &str = include_str!("../shell/credwatch.bash");
const ZSH_HOOK: &str = include_str!("../shell/credwatch.zsh");
const FISH_HOOK: &str = include_str!("../shell/credwatch.fish");

/// The hook for `shell`, calling `binary` and reading the state in `runtime_dir`.
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
