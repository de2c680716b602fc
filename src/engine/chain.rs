//! Chains of logins: a login that works only while another one does. A kubeconfig user whose
//! exec plugin runs the AWS CLI (`aws eks get-token`, `aws-iam-authenticator`) gets its token
//! from an AWS login; when that one is expired, kubectl fails ("exec plugin … failed"), while
//! the kubeconfig itself looks fine. The AWS logins are judged as the plugin will use them (its
//! `--profile`, or `AWS_PROFILE` in its `env`, else the shell's), and the chain takes the state
//! of the login behind it when none of those works.
//!
//! Guarantees: the plugin is never run and nothing is sent anywhere: only the AWS logins'
//! stores are read, as a check of them would.

use crate::define::config::{Config, Definition};
use crate::evaluate::Behind;
use crate::store::file::ExecPlugin;
use crate::support::environ;

/// The AWS logins an AWS CLI plugin may use, in the order the CLI's chain prefers them.
pub const AWS_LOGINS: &[&str] = &["aws-sso", "aws-login", "aws-keys", "aws-cli-cache"];

/// The AWS profile the plugin names (`None`: the shell's own), when it runs the AWS CLI.
fn aws_profile(plugin: &ExecPlugin) -> Option<Option<String>> {
    match plugin.program() {
        "aws" | "aws-iam-authenticator" => Some(
            plugin
                .option("--profile")
                .or_else(|| plugin.env_value("AWS_PROFILE"))
                .map(String::from),
        ),
        _ => None,
    }
}

/// The login behind `plugin`, when it is one credwatch knows and none of its kind works: the
/// first broken one (in the CLI's order), with what to run; `None` when the chain holds (or
/// none of them has a login here, which says nothing of the chain).
pub fn behind(config: &Config, plugin: &ExecPlugin) -> Option<Behind> {
    let profile = aws_profile(plugin)?;
    let judge_all = || {
        let memory = crate::engine::memory::Memory::default();
        let context = crate::engine::Context {
            memory: &memory,
            env_is_users_shell: true,
            keyring: crate::engine::KeyringSource::Known(None),
            probe: None,
        };
        AWS_LOGINS
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
    let judged = match &profile {
        Some(profile) => environ::within(&environ::with_var("AWS_PROFILE", profile), judge_all),
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
    if let Some(profile) = &profile {
        if fix.starts_with("aws ") && !fix.contains("--profile") {
            fix = format!("{fix} --profile {profile}");
        }
    }
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
