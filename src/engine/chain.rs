//! Chains of logins: a login that works only while another one does. A kubeconfig user whose
//! exec plugin gets its token from another tool's login: the AWS CLI (`aws eks get-token`,
//! `aws-iam-authenticator`: the AWS logins), `gke-gcloud-auth-plugin` (gcloud's active
//! account), `kubectl oidc-login get-token` (kubelogin's OIDC token cache), Azure's `kubelogin
//! get-token --login azurecli` (the Azure CLI's login); and docker's Amazon ECR credential helper
//! (`credHelpers` → `ecr-login`: the AWS logins). When that login is broken, kubectl fails
//! ("exec plugin … failed", "You must be logged in to the server"), while the kubeconfig itself
//! looks fine. The logins behind are judged as the plugin will use them (the AWS CLI: its
//! `--profile`, or `AWS_PROFILE` in its `env`, else the shell's; gcloud: `CLOUDSDK_CORE_ACCOUNT`
//! or `CLOUDSDK_ACTIVE_CONFIG_NAME` in its `env`), and the chain takes the state of the login
//! behind it when none of those works.
//!
//! Guarantees: the plugin is never run and nothing is sent anywhere: only the stores of the
//! logins behind are read, as a check of them would.

use crate::define::config::{Config, Definition};
use crate::evaluate::Behind;
use crate::store::file::ExecPlugin;
use crate::support::environ;

/// The AWS logins an AWS CLI plugin may use, in the order the CLI's chain prefers them.
pub const AWS_LOGINS: &[&str] = &["aws-sso", "aws-login", "aws-keys", "aws-cli-cache"];

/// Every login a plugin credwatch knows may stand on.
pub const LOGINS_BEHIND: &[&str] = &[
    "aws-sso",
    "aws-login",
    "aws-keys",
    "aws-cli-cache",
    "gcloud",
    "kubelogin",
    "azure",
    "oci-session",
];

/// What a plugin stands on: the logins (in the order it prefers them) and the variable that
/// selects among them with its value (`None`: the shell's own).
struct Link {
    logins: &'static [&'static str],
    selects: Option<(&'static str, String)>,
}

/// The logins behind `plugin`, when it is one credwatch knows.
fn link(plugin: &ExecPlugin) -> Option<Link> {
    let first = plugin.args.first().map(String::as_str);
    // An option of the plugin's command line, else the variable its `env` sets.
    let given =
        |option: &str, variable: &str| plugin.option(option).or_else(|| plugin.env_value(variable));
    let profile =
        |variable: &'static str| given("--profile", variable).map(|p| (variable, p.to_string()));
    let (logins, selects): (&'static [&'static str], _) = match plugin.program() {
        // docker's Amazon ECR credential helper takes the AWS login of the shell.
        "docker-credential-ecr-login" => (AWS_LOGINS, None),
        "aws" | "aws-iam-authenticator" => (AWS_LOGINS, profile("AWS_PROFILE")),
        "gke-gcloud-auth-plugin" => (
            &["gcloud"],
            ["CLOUDSDK_CORE_ACCOUNT", "CLOUDSDK_ACTIVE_CONFIG_NAME"]
                .into_iter()
                .find_map(|name| plugin.env_value(name).map(|v| (name, v.to_string()))),
        ),
        "kubectl-oidc_login" => (&["kubelogin"], None),
        "kubectl" if first == Some("oidc-login") => (&["kubelogin"], None),
        // The OCI CLI stands on the session login only when told to (API keys do not end).
        "oci" if given("--auth", "OCI_CLI_AUTH") == Some("security_token") => {
            (&["oci-session"], profile("OCI_CLI_PROFILE"))
        }
        "kubelogin"
            if plugin.option("--login").or_else(|| plugin.option("-l")) == Some("azurecli") =>
        {
            (&["azure"], None)
        }
        _ => return None,
    };
    Some(Link { logins, selects })
}

/// The login behind `plugin`, when it is one credwatch knows and none of its kind works: the
/// first broken one (in the CLI's order), with what to run; `None` when the chain holds (or
/// none of them has a login here, which says nothing of the chain).
pub fn behind(config: &Config, plugin: &ExecPlugin) -> Option<Behind> {
    let link = link(plugin)?;
    let judge_all = || {
        let memory = crate::engine::memory::Memory::default();
        let context = crate::engine::Context {
            memory: &memory,
            env_is_users_shell: true,
            keyring: crate::engine::KeyringSource::Known(None),
            probe: None,
        };
        link.logins
            .iter()
            .filter_map(|name| definition(config, name))
            .filter_map(|definition| {
                let candidate = crate::engine::Candidate {
                    definition,
                    only_if_detected: true,
                };
                crate::engine::check_one(config, &candidate, &context)
            })
            .collect::<Vec<_>>()
    };
    let judged = match &link.selects {
        Some((name, value)) => environ::within(&environ::with_var(name, value), judge_all),
        None => judge_all(),
    };
    // A login that is not there for this profile says nothing of the chain.
    let there: Vec<_> = judged
        .iter()
        .filter(|c| c.verdict.state != crate::define::state::State::Missing)
        .collect();
    if there.iter().any(|c| c.verdict.state.is_usable()) {
        return None;
    }
    let broken = there.first()?;
    let mut fix = broken
        .verdict
        .fix
        .clone()
        .unwrap_or_else(|| broken.definition.fix.clone());
    // A profile the plugin names is the one to log in again (`aws sso login --profile dev`).
    let profile = match &link.selects {
        Some((variable @ ("AWS_PROFILE" | "OCI_CLI_PROFILE"), profile)) => {
            let (tool, kind) = if *variable == "AWS_PROFILE" {
                ("aws ", "AWS")
            } else {
                ("oci ", "OCI")
            };
            if fix.starts_with(tool) && !fix.contains("--profile") {
                fix = match fix.split_once(" (") {
                    Some((command, rest)) => format!("{command} --profile {profile} ({rest}"),
                    None => format!("{fix} --profile {profile}"),
                };
            }
            Some(format!("{kind} profile {profile}"))
        }
        _ => None,
    };
    let command: Vec<&str> = std::iter::once(plugin.program())
        .chain(plugin.args.iter().map(String::as_str).take(2))
        .collect();
    Some(Behind {
        name: broken.definition.name.clone(),
        plugin: command.join(" "),
        profile,
        tool: broken.definition.tool.clone(),
        state: broken.verdict.state,
        reason: broken.verdict.reason.clone(),
        fix,
        next_change_at: broken.verdict.next_change_at,
    })
}

/// The user's definition of that name, else the preset.
fn definition(config: &Config, name: &str) -> Option<Definition> {
    config
        .definitions
        .iter()
        .find(|d| d.name == name)
        .cloned()
        .or_else(|| super::load_preset(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(command: &str, args: &[&str], env: &[(&str, &str)]) -> ExecPlugin {
        ExecPlugin {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn each_known_plugin_stands_on_its_tools_login_as_it_selects_it() {
        let of = |p: ExecPlugin| link(&p).map(|l| (l.logins, l.selects));
        assert_eq!(
            of(plugin(
                "/usr/local/bin/aws",
                &["eks", "get-token", "--profile=dev"],
                &[]
            )),
            Some((AWS_LOGINS, Some(("AWS_PROFILE", "dev".into()))))
        );
        assert_eq!(
            of(plugin(
                "aws-iam-authenticator",
                &["token", "-i", "c"],
                &[("AWS_PROFILE", "ops")]
            )),
            Some((AWS_LOGINS, Some(("AWS_PROFILE", "ops".into()))))
        );
        assert_eq!(
            of(plugin(
                "gke-gcloud-auth-plugin",
                &[],
                &[("CLOUDSDK_CORE_ACCOUNT", "a@b.c")]
            )),
            Some((
                &["gcloud"][..],
                Some(("CLOUDSDK_CORE_ACCOUNT", "a@b.c".into()))
            ))
        );
        assert_eq!(
            of(plugin("kubectl", &["oidc-login", "get-token"], &[])),
            Some((&["kubelogin"][..], None))
        );
        assert_eq!(
            of(plugin(
                "kubelogin",
                &["get-token", "--login", "azurecli", "--server-id", "x"],
                &[]
            )),
            Some((&["azure"][..], None))
        );
        // Azure's kubelogin with its own device-code cache, oci (no preset yet), anything else:
        // nothing known behind it.
        assert_eq!(
            of(plugin(
                "kubelogin",
                &["get-token", "--login", "devicecode"],
                &[]
            )),
            None
        );
        assert_eq!(
            of(plugin("oci", &["ce", "cluster", "generate-token"], &[])),
            None
        );
        assert_eq!(of(plugin("kubectl", &["version"], &[])), None);
        assert_eq!(
            of(plugin("docker-credential-ecr-login", &[], &[])),
            Some((AWS_LOGINS, None))
        );
        // Every login a plugin may stand on is in the list the daemon re-judges chains for.
        for p in [
            plugin("aws", &[], &[]),
            plugin("gke-gcloud-auth-plugin", &[], &[]),
            plugin("kubectl", &["oidc-login"], &[]),
            plugin("kubelogin", &["-l", "azurecli"], &[]),
        ] {
            for login in link(&p).unwrap().logins {
                assert!(LOGINS_BEHIND.contains(login), "{login}");
            }
        }
    }
}
