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
    if probe.result != ProbeResult::Rejected || !verdict.state.is_usable() {
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

/// Environment variables set in this shell (`names`) decide the login the tool uses, not its
/// store (`GH_TOKEN` over `hosts.yml`, `ANTHROPIC_API_KEY` over Claude Code's login): the state
/// becomes `unknown` (a token in a variable is never read, so credwatch cannot tell whether it
/// works), the reason says which variable decides and what the stored login is, and the fix is
/// one that works while the variable is set (unsetting it), never the tool's login command, which
/// the variable blocks.
pub fn shadowed(
    tool: &str,
    name: &str,
    names: &[String],
    state: &mut State,
    reason: &mut String,
    fix: &mut Option<String>,
) {
    if names.is_empty() {
        return;
    }
    let list = names.join(", ");
    let (is, it) = if names.len() == 1 {
        ("is", "it")
    } else {
        ("are", "them")
    };
    *reason = format!(
        "{list} {is} set in this shell: {tool} uses {it}, not the stored login (which is {}: {reason}); a token in a variable is not checked",
        state.as_str()
    );
    *fix = Some(shadowing_fix(names, name));
    *state = State::Unknown;
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
