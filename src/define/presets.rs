//! Built-in credential definitions, shipped inside the binary: the files in `presets/`, in the
//! order `credwatch presets` lists them, and `presets/compiled.jsonl`, the same definitions
//! validated ahead of time (what a run reads: parsing 31 presets' TOML cost more than the rest of
//! an empty `status`). This module is data; `config::preset` reads one.
//!
//! Guarantees: each preset is TOML in the very form a user writes in config.toml, checked by the
//! same validation; tests prove every one loads, that the compiled form is exactly what that
//! validation gives today (`cargo run --example generate-assets` rewrites it), and that every
//! file in `presets/` is listed here (a preset file left out of the list fails the tests).

/// (name, TOML source), in the order `presets` lists them.
pub const PRESETS: &[(&str, &str)] = &[
    ("claude", include_str!("../../presets/claude.toml")),
    ("gh", include_str!("../../presets/gh.toml")),
    ("aws-sso", include_str!("../../presets/aws-sso.toml")),
    (
        "aws-cli-cache",
        include_str!("../../presets/aws-cli-cache.toml"),
    ),
    ("aws-keys", include_str!("../../presets/aws-keys.toml")),
    ("aws-login", include_str!("../../presets/aws-login.toml")),
    ("azure", include_str!("../../presets/azure.toml")),
    ("kube", include_str!("../../presets/kube.toml")),
    ("docker", include_str!("../../presets/docker.toml")),
    ("podman", include_str!("../../presets/podman.toml")),
    ("npm", include_str!("../../presets/npm.toml")),
    ("git", include_str!("../../presets/git.toml")),
    (
        "git-libsecret",
        include_str!("../../presets/git-libsecret.toml"),
    ),
    ("vault", include_str!("../../presets/vault.toml")),
    ("cargo", include_str!("../../presets/cargo.toml")),
    (
        "cargo-libsecret",
        include_str!("../../presets/cargo-libsecret.toml"),
    ),
    ("codex", include_str!("../../presets/codex.toml")),
    (
        "codex-keyring",
        include_str!("../../presets/codex-keyring.toml"),
    ),
    ("ssh-cert", include_str!("../../presets/ssh-cert.toml")),
    ("ssh-agent", include_str!("../../presets/ssh-agent.toml")),
    ("gemini", include_str!("../../presets/gemini.toml")),
    ("pypi", include_str!("../../presets/pypi.toml")),
    ("terraform", include_str!("../../presets/terraform.toml")),
    ("helm", include_str!("../../presets/helm.toml")),
    ("glab", include_str!("../../presets/glab.toml")),
    ("copilot", include_str!("../../presets/copilot.toml")),
    ("heroku", include_str!("../../presets/heroku.toml")),
    ("kubelogin", include_str!("../../presets/kubelogin.toml")),
    ("tsh", include_str!("../../presets/tsh.toml")),
    ("tsh-x509", include_str!("../../presets/tsh-x509.toml")),
    ("kerberos", include_str!("../../presets/kerberos.toml")),
    ("yarn", include_str!("../../presets/yarn.toml")),
    ("gcloud", include_str!("../../presets/gcloud.toml")),
    ("gcloud-adc", include_str!("../../presets/gcloud-adc.toml")),
    (
        "oci-session",
        include_str!("../../presets/oci-session.toml"),
    ),
    (
        "huggingface",
        include_str!("../../presets/huggingface.toml"),
    ),
    ("wrangler", include_str!("../../presets/wrangler.toml")),
    ("firebase", include_str!("../../presets/firebase.toml")),
    ("vercel", include_str!("../../presets/vercel.toml")),
    ("netlify", include_str!("../../presets/netlify.toml")),
    ("supabase", include_str!("../../presets/supabase.toml")),
    ("doctl", include_str!("../../presets/doctl.toml")),
    ("pulumi", include_str!("../../presets/pulumi.toml")),
    ("fly", include_str!("../../presets/fly.toml")),
    ("qwen", include_str!("../../presets/qwen.toml")),
    ("opencode", include_str!("../../presets/opencode.toml")),
    ("argocd", include_str!("../../presets/argocd.toml")),
    ("jfrog", include_str!("../../presets/jfrog.toml")),
];

/// Every preset, validated when credwatch was built (see `config::preset`).
pub const COMPILED: &str = include_str!("../../presets/compiled.jsonl");

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
    fn the_compiled_presets_are_current() {
        let current = crate::define::config::compile_presets().expect("every preset is valid");
        assert!(
            current == COMPILED,
            "presets/compiled.jsonl is stale: cargo run --example generate-assets"
        );
    }

    #[test]
    fn every_file_in_presets_is_listed_exactly_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".toml").map(String::from)
            })
            .collect();
        files.sort();
        let mut listed: Vec<String> = names().map(String::from).collect();
        listed.sort();
        assert_eq!(
            listed, files,
            "presets/*.toml and the PRESETS list differ: add the file to PRESETS (or remove it)"
        );
        for (name, text) in PRESETS {
            let file = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(
                *text, file,
                "{name}: PRESETS names it, but includes another file"
            );
        }
    }

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
