//! The shell hooks (the files in `shell/` at the repository's root, compiled in), rendered for
//! one shell with this binary's path and the runtime dir filled in.
//!
//! Guarantees: both paths are quoted for the shell they go into (a path with a quote or a
//! backslash cannot break out of its string); no placeholder is left.

/// A shell credwatch has a hook for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

use crate::define::config::ContextVariables;

const BASH_HOOK: &str = include_str!("../shell/credwatch.bash");
const ZSH_HOOK: &str = include_str!("../shell/credwatch.zsh");
const FISH_HOOK: &str = include_str!("../shell/credwatch.fish");

/// The hook for `shell`, calling `binary`, reading the state in `runtime_dir`, and handing the
/// daemon the values of `variables` (names that are not valid shell names are left out).
pub fn render(
    shell: Shell,
    binary: &str,
    runtime_dir: &str,
    variables: &ContextVariables,
) -> String {
    let (template, quote): (&str, fn(&str) -> String) = match shell {
        Shell::Bash => (BASH_HOOK, posix_quote),
        Shell::Zsh => (ZSH_HOOK, posix_quote),
        Shell::Fish => (FISH_HOOK, fish_quote),
    };
    let valid = |name: &&String| crate::support::environ::is_name(name.as_bytes());
    let shadows: Vec<&String> = variables.shadows.iter().filter(valid).collect();
    let selects: Vec<&String> = variables.selects.iter().filter(valid).collect();
    // What the hook compares after a command ran: each selecting variable's value, and for each
    // shadowing one whether it is set to something that turns it on (`0`, `false`, `no`, `off`
    // do not: looked up in the hook's `_credwatch_off`, so a change from `1` to `0` is one), an
    // expansion, no process (about 0.5 µs a variable in bash). fish is told of every change.
    let shadow_key = |n: &&String| match shell {
        Shell::Zsh => format!("${{{n}:+${{_credwatch_off[${{(L){n}}}]-1}}}}|"),
        _ => format!("${{{n}:+${{_credwatch_off[${{{n},,}}]-1}}}}|"),
    };
    let context: String = selects
        .iter()
        .map(|n| format!("${{{n}-}}|"))
        .chain(shadows.iter().map(shadow_key))
        .collect();
    // The first comparison of bash and zsh, in the form that costs them least (plain expansions,
    // `:` between the values, which the hooks only reach without `set -u`; a test that no
    // shadowing variable is set apart; bash: an unquoted word): in bash ~45,000 instructions for
    // 12 variables where the quoted `${NAME-}|` and `${NAME:+1}|` forms took ~120,000, in zsh
    // ~8,000 fewer (callgrind). The same values in the form that is safe under `set -u`, for the
    // slow path that records them.
    let quick_selects: String = selects.iter().map(|n| format!("${n}:")).collect();
    let quick_selects_safe: String = selects.iter().map(|n| format!("${{{n}-}}:")).collect();
    let no_shadow_set = if shadows.is_empty() {
        String::new()
    } else {
        let all: String = shadows.iter().map(|n| format!("${n}")).collect();
        format!(" && -z {all}")
    };
    let shadows_set: String = shadows.iter().map(|n| format!("${{{n}:+1}}")).collect();
    let on_variables: String = selects
        .iter()
        .chain(&shadows)
        .map(|n| format!(" --on-variable {n}"))
        .collect();
    let join = |names: &[&String]| {
        names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    // The values that leave a shadowing variable off, from the one list credwatch reads them by.
    let off = crate::store::env::OFF_VALUES;
    let off_table: String = match shell {
        Shell::Zsh => off
            .iter()
            .map(|v| format!("{v} 0"))
            .collect::<Vec<_>>()
            .join(" "),
        _ => off
            .iter()
            .map(|v| format!("[{v}]=0"))
            .collect::<Vec<_>>()
            .join(" "),
    };
    template
        .replace("@CREDWATCH_OFF_TABLE@", &off_table)
        .replace("@CREDWATCH_OFF_CASE@", &off.join(" | "))
        .replace("@CREDWATCH_OFF_LIST@", &off.join(" "))
        .replace("@CREDWATCH_BIN@", &quote(binary))
        .replace("@CREDWATCH_RUNTIME_DIR@", &quote(runtime_dir))
        .replace("@CREDWATCH_SELECTS@", &join(&selects))
        .replace("@CREDWATCH_SHADOWS@", &join(&shadows))
        .replace("@CREDWATCH_CONTEXT@", &context)
        .replace("@CREDWATCH_QUICK_SELECTS_SAFE@", &quick_selects_safe)
        .replace("@CREDWATCH_QUICK_SELECTS@", &quick_selects)
        .replace("@CREDWATCH_NO_SHADOW_SET@", &no_shadow_set)
        .replace("@CREDWATCH_SHADOWS_SET@", &shadows_set)
        .replace(" @CREDWATCH_ON_VARIABLES@", &on_variables)
}

/// The variables of every credential in play, each once.
pub fn context_variables<'a>(
    definitions: impl Iterator<Item = &'a crate::define::config::Definition>,
) -> ContextVariables {
    let mut all = ContextVariables::default();
    for definition in definitions {
        let own = definition.context_variables();
        for (from, into) in [
            (own.selects, &mut all.selects),
            (own.shadows, &mut all.shadows),
        ] {
            for name in from {
                if !into.contains(&name) {
                    into.push(name);
                }
            }
        }
    }
    // A name one definition selects by and another is shadowed by: only whether it is set
    // leaves the shell.
    all.selects.retain(|name| !all.shadows.contains(name));
    all.selects.sort();
    all.shadows.sort();
    all
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
            let variables = ContextVariables {
                selects: vec!["KUBECONFIG".into(), "BAD;NAME".into()],
                shadows: vec!["GH_TOKEN".into()],
            };
            let hook = render(
                shell,
                "/usr/bin/credwatch",
                "/run/user/1000/credwatch",
                &variables,
            );
            assert!(!hook.contains("BAD"), "{shell:?}: an invalid name left in");
            assert!(!hook.contains("@CREDWATCH_"), "{shell:?}: placeholder left");
            assert!(hook.contains("'/usr/bin/credwatch'"));
        }
    }
}
