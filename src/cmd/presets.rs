//! `credwatch presets [NAME]`: the built-in definitions, whether each finds a store here, what
//! each reads and whether the tool stores the login's deadline; and docs/presets.md's table of them.

use super::{Context, Run};
use crate::cli::PresetsArgs;
use crate::define::config::Definition;
use crate::define::presets;
use crate::store::observe;
use crate::support::output::print;
use crate::tools::Format;

impl Run for PresetsArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        list(self.name.as_deref())
    }
}

/// What credwatch follows for a definition beyond its store (the failures of issue #27), each
/// derived from the definition itself: a new preset says what applies to it with no list to
/// keep.
pub fn supports(definition: &Definition) -> Vec<String> {
    let mut lines = Vec::new();
    if definition.refresh_token.is_some() {
        lines.push(
            "refresh races: a working login overwritten with a logged-out copy while the tool's processes run is named, with how many ran".to_string(),
        );
    }
    let dated = !definition.expires.is_empty()
        || definition
            .keyring
            .as_ref()
            .is_some_and(|k| k.expires.is_some());
    if dated || definition.format == Format::Kubeconfig {
        lines.push(
            "long commands: [long_commands] warns before a command that would outlast its deadline"
                .into(),
        );
    }
    if definition.name == crate::engine::role_cache::SESSION_LOGIN {
        lines.push(
            "which login the next command uses: while the SSO session is expired, the role credentials the AWS CLI cached from it for the profile in use, until they end".into(),
        );
    }
    if definition.format == Format::Kubeconfig {
        lines.push(format!(
            "chains: a user whose exec plugin runs the AWS CLI, gke-gcloud-auth-plugin, kubectl oidc-login, Azure's kubelogin with the Azure CLI or the OCI CLI with a session token takes the state of the login behind it ({}), for the plugin's profile or account",
            crate::engine::chain::LOGINS_BEHIND.join(", ")
        ));
    }
    if !definition.env.is_empty() {
        let probed = definition.probe.as_ref().is_some_and(|p| {
            matches!(&p.kind, crate::define::config::ProbeKind::Http { bearer_env, .. } if !bearer_env.is_empty())
        });
        let judged = if !definition.env_expires.is_empty() {
            format!("judged by {}", definition.env_expires.join(", "))
        } else if probed {
            "checked with the server when asked (`credwatch verify`), unknown otherwise".to_string()
        } else {
            "not checked (unknown)".to_string()
        };
        lines.push(format!(
            "the environment: {} set in a shell decide instead of the store, {judged}",
            definition.env.join(", ")
        ));
    }
    if let Some(probe) = &definition.probe {
        let when = if probe.on_request {
            "when asked (`credwatch verify`), never by the daemon"
        } else {
            "by the daemon and `credwatch verify`"
        };
        let what = match &probe.kind {
            crate::define::config::ProbeKind::Http {
                url, bearer_env, ..
            } if !bearer_env.is_empty() => {
                format!("{} of the shell sent to {url}", bearer_env.join(" or "))
            }
            crate::define::config::ProbeKind::Http { url, .. } => format!("{url} asked"),
            crate::define::config::ProbeKind::Command { argv, .. } => {
                format!("`{}` run", argv.join(" "))
            }
        };
        lines.push(format!("the server's word: {what}, {when}"));
    }
    if definition
        .keyring
        .as_ref()
        .is_some_and(|k| k.spec.active.is_some())
        || definition.format.traits().views_accounts
    {
        lines.push("several accounts: each listed, the active one's state counts".into());
    }
    if let Some(record) = &definition.active_account {
        lines.push(format!(
            "the active account: {} naming none at {} is logged out, whatever the store holds",
            record.file, record.path
        ));
    }
    // Where the system empties the store by design (what a store is on is known only when it
    // is read: the runtime directory named in a file spec says it ahead).
    if definition
        .files
        .iter()
        .any(|f| f.contains("XDG_RUNTIME_DIR"))
    {
        lines.push(
            "kept only until logout: said while it is usable (its store is in the runtime directory); once gone, told as lost at logout or at reboot, not as a logout".into(),
        );
    } else if definition.format.traits().volatile_by_design {
        lines.push(
            "kept in memory by design: on a tmpfs, said to last only until the next reboot, and once gone after one, told as lost at reboot".into(),
        );
    }
    if !definition.commands.is_empty() {
        lines.push(format!("warned before: {}", definition.commands.join(", ")));
    }
    lines
}

/// Whether the tool stores the login's deadline, as the definition reads it: the refresh
/// token's (the access token renews itself until then), `renews itself` (credentials the tool
/// renews from a login that stores no end), `when the token holds one` (only some tokens carry
/// one: a JWT, an Amazon ECR token), `stored` (with `renewable` or `the tool renews it` where it
/// can be pushed back), or `none stored` (the login lasts until revoked).
pub fn deadline(definition: &Definition) -> &'static str {
    use crate::define::config::Reading;
    let keyring_dated = definition
        .keyring
        .as_ref()
        .is_some_and(|k| k.expires.is_some());
    let only_some = !keyring_dated
        && definition
            .expires
            .iter()
            .all(|e| matches!(e.reading, Reading::MaybeJwt | Reading::MaybeEcr));
    if definition.refresh_expires.is_some() || definition.refresh_until.is_some() {
        "the refresh token's"
    } else if definition.renews_itself {
        "renews itself"
    } else if definition.expires.is_empty() && !keyring_dated {
        "none stored"
    } else if definition.refresh_token.is_some() {
        "stored, the tool renews it"
    } else if only_some {
        "when the token holds one"
    } else if definition.renewable_until.is_some() {
        "stored, renewable"
    } else {
        "stored"
    }
}

/// Where the deadline is read: the fields (and the refresh token's), in words.
fn deadline_fields(definition: &Definition) -> String {
    let mut parts: Vec<String> = definition.expires.iter().map(|e| e.to_string()).collect();
    if definition
        .keyring
        .as_ref()
        .is_some_and(|k| k.expires.is_some())
    {
        parts.push("the keyring item's".into());
    }
    if let Some(refresh) = definition
        .refresh_expires
        .as_ref()
        .or(definition.refresh_until.as_ref())
    {
        parts.push(format!("refresh token: {refresh}"));
    }
    parts.join("; ")
}

/// What a definition reads: its files (the first few), else its keyring items.
fn reads(definition: &Definition) -> String {
    let mut parts: Vec<String> = definition.files.iter().take(3).cloned().collect();
    if definition.files.len() > 3 {
        parts.push("…".into());
    }
    if let Some(keyring) = &definition.keyring {
        parts.push(keyring.describe());
    }
    parts.join(", ")
}

/// The table of every preset in docs/presets.md (between its `presets:begin` and `presets:end`
/// markers), made from the presets themselves: `cargo run --example generate-assets` writes it,
/// and a test fails when the file's copy differs.
pub fn markdown_table() -> anyhow::Result<String> {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = String::from(
        "| preset | tool | reads | login deadline | read from | overridden by |\n|---|---|---|---|---|---|\n",
    );
    for name in presets::names() {
        let definition = crate::define::config::preset(name).expect("known preset")?;
        let env = definition
            .env
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| `{name}` | {} | `{}` | {} | {} | {} |\n",
            cell(&definition.tool),
            cell(&reads(&definition)),
            deadline(&definition),
            cell(&deadline_fields(&definition)),
            cell(&env)
        ));
    }
    Ok(out)
}

/// docs/presets.md with its presets table made anew.
pub fn page_with_table(page: &str) -> anyhow::Result<String> {
    const BEGIN: &str = "<!-- presets:begin -->\n";
    const END: &str = "<!-- presets:end -->";
    let (Some(start), Some(end)) = (page.find(BEGIN), page.find(END)) else {
        anyhow::bail!(
            "docs/presets.md has no <!-- presets:begin --> … <!-- presets:end --> markers"
        );
    };
    Ok(format!(
        "{}{}{}",
        &page[..start + BEGIN.len()],
        markdown_table()?,
        &page[end..]
    ))
}

fn list(name: Option<&str>) -> anyhow::Result<i32> {
    if let Some(name) = name {
        let Some(source) = presets::source(name) else {
            return Err(super::UsageError(format!(
                "no preset named \"{name}\"\n  fix: use one of: {}",
                presets::names().collect::<Vec<_>>().join(", ")
            ))
            .into());
        };
        let definition = crate::define::config::preset(name).expect("known preset")?;
        let mut text = source.trim_end().to_string();
        text.push_str("\n# What credwatch follows for it, beyond its store:\n");
        for line in supports(&definition) {
            text.push_str(&format!("# - {line}\n"));
        }
        print(&text);
        return Ok(0);
    }
    let mut rows = vec![[
        "NAME".to_string(),
        "FOUND".into(),
        "TOOL".into(),
        "DEADLINE".into(),
        "READS".into(),
    ]];
    for name in presets::names() {
        let definition = crate::define::config::preset(name).expect("known preset")?;
        let found = observe(&definition).detected(&definition);
        rows.push([
            name.to_string(),
            if found { "yes" } else { "no" }.into(),
            definition.tool.clone(),
            deadline(&definition).into(),
            reads(&definition),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        ));
    }
    out.push_str(
        "\n`credwatch presets NAME` prints a definition to copy into config.toml and adapt.\n",
    );
    print(&out);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/presets.md's table of presets is the one the code makes: a new or changed preset
    /// without `cargo run --example generate-assets` fails here.
    #[test]
    fn the_presets_page_lists_every_preset_as_the_code_defines_it() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/presets.md");
        let page = std::fs::read_to_string(path).unwrap();
        let table = markdown_table().unwrap();
        for name in presets::names() {
            assert!(
                table.contains(&format!("| `{name}` |")),
                "{name} is not in the table"
            );
        }
        assert!(
            page == page_with_table(&page).unwrap(),
            "docs/presets.md's presets table is stale: run `cargo run --example generate-assets`"
        );
    }
}
