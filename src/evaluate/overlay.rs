//! What is known beyond the store, laid over its verdict: a live probe's answer (a login that
//! looks fine here but that the server refuses is `rejected`) and the environment variables that
//! take precedence over it.

use super::Verdict;
use crate::define::config::Definition;
use crate::define::state::State;
use crate::probe::{ProbeReport, ProbeResult};
use crate::support::timefmt::Timestamp;

/// A probe that could not tell changes nothing; one that was refused turns a usable login into
/// `rejected`.
pub(super) fn probe(definition: &Definition, mut verdict: Verdict, probe: &ProbeReport) -> Verdict {
    // A token of the shell's was asked about, not the store's (see `shadowed`).
    if probe.result != ProbeResult::Rejected
        || !verdict.state.is_usable()
        || probe.token_from.is_some()
    {
        return verdict;
    }
    verdict.state = State::Rejected;
    verdict.reason = format!(
        "the server rejects it ({}, probed {}), though it looks valid here: {}",
        probe.detail,
        Timestamp::parse_datetime(&probe.at).map_or_else(|| probe.at.clone(), Timestamp::human),
        verdict.reason
    );
    verdict.fix = Some(format!(
        "log in again: {} (if that does not help, the account or token was revoked on the server)",
        definition.fix
    ));
    verdict.next_change_at = None;
    verdict
}

/// A usable login whose plugin needs a broken one (`engine::chain`) is as broken as that one:
/// the reason names the plugin, the profile and the login behind, and the fix is that login's.
pub(super) fn behind(mut verdict: Verdict, behind: &super::Behind) -> Verdict {
    if !verdict.state.is_usable() {
        return verdict;
    }
    let profile = behind
        .profile
        .as_deref()
        .map(|p| format!(" with {p}"))
        .unwrap_or_default();
    verdict.reason = format!(
        "its login plugin runs `{}`{profile}, and the {} login ({}) is {}: {} — the tool will fail until it works",
        behind.plugin,
        behind.tool,
        behind.name,
        behind.state.as_str(),
        behind.reason
    );
    verdict.state = behind.state;
    verdict.fix = Some(behind.fix.clone());
    verdict.next_change_at = behind.next_change_at;
    verdict
}

/// A session that no longer works, while the role credentials cached from it still do: the next
/// command uses those (the AWS CLI), so the login works until they end, and is not renewed after.
pub(super) fn cached_role(
    verdict: Verdict,
    cached: &super::CachedRole,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    if verdict.state.is_usable() || verdict.state != State::Expired || cached.expires_at <= now {
        return verdict;
    }
    let fix = verdict.fix.clone().unwrap_or_default();
    let mut walked = super::deadline::walk("they", cached.expires_at, now, warn_ms, &fix, "");
    walked.reason = format!(
        "the next command uses the role credentials the AWS CLI cached for profile {} ({}), which last until {} (in {}); the session behind them will not renew them: {}",
        cached.profile,
        cached.path,
        cached.expires_at.human(),
        crate::support::timefmt::describe_span(cached.expires_at.millis() - now.millis()),
        verdict.reason
    );
    walked.fix = Some(fix);
    walked.expires_at = Some(cached.expires_at);
    walked
}

/// What the tool uses while variables of the shell take precedence over its store.
#[derive(Debug, Clone, PartialEq)]
pub struct Shadowed {
    pub state: State,
    pub reason: String,
    pub fix: String,
    /// The deadline the environment carries (`AWS_CREDENTIAL_EXPIRATION`), when it does.
    pub expires_at: Option<Timestamp>,
    /// When the state changes with nothing else happening (none without a deadline: what the
    /// tool uses does not change with the store's).
    pub next_change_at: Option<Timestamp>,
}

/// Environment variables set in this shell (`names`) decide the login the tool uses, not its
/// store (`GH_TOKEN` over `hosts.yml`, `ANTHROPIC_API_KEY` over Claude Code's login). A variable
/// of `env_expires` that holds a date (aws-vault's `AWS_CREDENTIAL_EXPIRATION`) is that login's
/// deadline: `ok`, `expiring` or `expired` by it. Without one the state is `unknown` (a token
/// in a variable is never read, so credwatch cannot tell whether it works). The reason says
/// which variable decides and what the stored login is; the fix is one that works while the
/// variable is set, never the tool's login command, which the variable blocks. `None` when no
/// variable is set.
pub fn shadowed(
    definition: &Definition,
    names: &[String],
    stored: State,
    stored_reason: &str,
    now: Timestamp,
    warn_ms: i64,
    probe: Option<&ProbeReport>,
) -> Option<Shadowed> {
    if names.is_empty() {
        return None;
    }
    let tool = &definition.tool;
    let list = names.join(", ");
    let (is, it, they) = if names.len() == 1 {
        ("is", "it", "it")
    } else {
        ("are", "them", "they")
    };
    let set = format!(
        "{list} {is} set in this shell: {tool} uses {it}, not the stored login (which is {}: {stored_reason})",
        stored.as_str()
    );
    let dated = definition.env_expires.iter().find_map(|variable| {
        let text = crate::support::environ::var_text(variable)?;
        Timestamp::parse_datetime(text.trim()).map(|at| (variable, at))
    });
    // The server was asked about the variable's token (`verify`): its answer decides.
    if let Some(probe) = probe.filter(|p| p.token_from.as_ref().is_some_and(|v| names.contains(v)))
    {
        let variable = probe.token_from.as_deref().unwrap_or_default();
        let probed =
            Timestamp::parse_datetime(&probe.at).map_or_else(|| probe.at.clone(), Timestamp::human);
        let deadline = probe
            .expires_at
            .as_deref()
            .and_then(Timestamp::parse_datetime);
        let fix = format!(
            "set a working token in {variable}, or {}",
            shadowing_fix(names, &definition.name)
        );
        let (state, said, next_change_at) = match probe.result {
            ProbeResult::Rejected => (
                State::Rejected,
                format!("the server rejects {variable} ({}, probed {probed})", probe.detail),
                None,
            ),
            ProbeResult::Unknown => (
                State::Unknown,
                format!("the server could not tell whether it accepts {variable} ({}, probed {probed})", probe.detail),
                None,
            ),
            ProbeResult::Accepted => match deadline {
                Some(at) if at.millis() - now.millis() <= warn_ms => (
                    if at <= now { State::Expired } else { State::Expiring },
                    format!(
                        "the server accepted {variable} ({}, probed {probed}); it expires at {} (the server's word)",
                        probe.detail,
                        at.human()
                    ),
                    (at > now).then_some(at),
                ),
                Some(at) => (
                    State::Ok,
                    format!(
                        "the server accepted {variable} ({}, probed {probed}); it is valid until {} (the server's word)",
                        probe.detail,
                        at.human()
                    ),
                    Some(at.saturating_add_millis(-warn_ms)),
                ),
                None => (
                    State::Ok,
                    format!("the server accepted {variable} ({}, probed {probed})", probe.detail),
                    None,
                ),
            },
        };
        return Some(Shadowed {
            fix: if state.is_usable() {
                shadowing_fix(names, &definition.name)
            } else {
                fix
            },
            // The server's date, only with its yes.
            expires_at: deadline.filter(|_| probe.result == ProbeResult::Accepted),
            state,
            reason: format!("{set}; {said}"),
            next_change_at,
        });
    }
    let Some((variable, at)) = dated else {
        return Some(Shadowed {
            state: State::Unknown,
            reason: format!("{set}; a token in a variable is not checked"),
            fix: shadowing_fix(names, &definition.name),
            expires_at: None,
            next_change_at: None,
        });
    };
    let left = at.millis() - now.millis();
    let human = at.human();
    let span = crate::support::timefmt::describe_span(left);
    let renew = format!(
        "get new ones from the tool that set {it} ({variable} is theirs: aws-vault exec, awsume, aws configure export-credentials), or {}",
        shadowing_fix(names, &definition.name)
    );
    let one = names.len() == 1;
    let (state, when, fix, next_change_at) = if left <= 0 {
        (
            State::Expired,
            format!("{they} expired {span} ago ({human}, {variable})"),
            renew,
            None,
        )
    } else if left <= warn_ms {
        (
            State::Expiring,
            format!(
                "{they} expire{} in {span} ({human}, {variable})",
                if one { "s" } else { "" }
            ),
            renew,
            Some(at),
        )
    } else {
        (
            State::Ok,
            format!(
                "{they} {} valid until {human} ({variable})",
                if one { "is" } else { "are" }
            ),
            shadowing_fix(names, &definition.name),
            Some(at.saturating_add_millis(-warn_ms)),
        )
    };
    Some(Shadowed {
        state,
        reason: format!("{set}; {when}"),
        fix,
        expires_at: Some(at),
        next_change_at,
    })
}

/// The fix while variables (`names`) decide the login of credential `name`: unset them, or say
/// they are kept on purpose. The one wording of `status`, `verify` and `doctor`.
pub fn shadowing_fix(names: &[String], name: &str) -> String {
    let it = if names.len() == 1 { "it" } else { "them" };
    format!(
        "unset {} to use the stored login (and remove {it} from your shell's startup files), or, to keep {it} on purpose: credwatch forget {name}",
        names.join(", ")
    )
}
