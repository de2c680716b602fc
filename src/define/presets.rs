//! Built-in credential definitions, shipped inside the binary.
//!
//! Guarantees: each preset is TOML in the very form a user writes in config.toml (the files in
//! `presets/`), parsed by the same validation; a test proves every one loads.

/// (name, TOML source), in the order `presets` lists them.
pub const PRESETS: &[(&str, &str)] = &[
    ("claude", include_str!("../../presets/claude.toml")),
    ("gh", include_str!("../../presets/gh.toml")),
    ("aws-sso", include_str!("../../presets/aws-sso.toml")),
    (
        "aws-cli-cache",
        include_str!("../../presets/aws-cli-cache.toml"),
    ),
    ("azure", include_str!("../../presets/azure.toml")),
    ("kube", include_str!("../../presets/kube.toml")),
    ("docker", include_str!("../../presets/docker.toml")),
    ("npm", include_str!("../../presets/npm.toml")),
    ("git", include_str!("../../presets/git.toml")),
    (
        "git-libsecret",
        include_str!("../../presets/git-libsecret.toml"),
    ),
    ("vault", include_str!("../../presets/vault.toml")),
];

pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(name, _)| *name)
}

pub fn source(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_loads_and_names_itself() {
        for name in names() {
            let definition = crate::define::config::preset(name)
                .unwrap()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(definition.name, name);
            assert!(!definition.fix.is_empty());
            assert!(!definition.commands.is_empty(), "{name} maps no command");
        }
    }
}
