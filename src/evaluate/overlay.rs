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

/// The note added to a reason when environment variables override the stored login.
pub fn shadow_note(names: &[String]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let (is, takes) = if names.len() == 1 {
        ("is", "takes")
    } else {
        ("are", "take")
    };
    Some(format!(
        "; {} {is} set in this shell and {takes} precedence over this login",
        names.join(", ")
    ))
}
