//! The read path `status`, `prompt` and `export` share: the daemon's published state when a
//! live daemon wrote it and it still holds, otherwise (or when asked to check now) a direct
//! check. Whatever the daemon said, what depends on the caller's environment is judged in the
//! caller's environment: a credential whose selecting variables differ here is checked again
//! here, and shadowing variables are always the caller's, never the daemon's.

use crate::define::config::Config;
use crate::engine::{self, Candidate};
use crate::evaluate::shadowed;
use crate::publish::report::{
    read_daemon_document_or_refusal, status_document, CredentialReport, StatusDocument,
};
use crate::support::environ;
use crate::support::timefmt::Timestamp;

/// The state of `candidates` (those of `names`, or every one when none is named): the daemon's
/// published state when it is fresh and `live` is not asked, else a direct check.
pub fn document(
    config: &Config,
    candidates: Vec<Candidate>,
    names: &[String],
    live: bool,
) -> anyhow::Result<StatusDocument> {
    let now = Timestamp::now();
    // What the daemon cannot watch it polls, so its state may lag: checked directly then, and
    // said so.
    let mut unwatched = Vec::new();
    let from_daemon = if live {
        None
    } else {
        match read_daemon_document_or_refusal(now) {
            Ok(Some(doc)) if !doc.daemon.unwatched.is_empty() => {
                unwatched = doc.daemon.unwatched;
                None
            }
            Ok(document) => {
                document.and_then(|doc| from_daemon(doc, &candidates, names, config.warn_before_ms))
            }
            Err(found) => {
                eprintln!(
                    "credwatch: not using the daemon's published state: {found}; checked directly\n  fix: remove it (its owner can), or set XDG_RUNTIME_DIR to a directory of yours"
                );
                None
            }
        }
    };
    Ok(match from_daemon {
        Some(mut document) => {
            recheck_in_this_shell(config, &mut document, &candidates, now);
            document
        }
        None => {
            let mut document = status_document(&engine::check_for_user(config, candidates), now);
            document.daemon.unwatched = unwatched;
            document
        }
    })
}

/// Credentials whose login depends on environment variables that are not, here, what the
/// daemon judged them with (a shell's `KUBECONFIG`, `AWS_PROFILE`, npm's `${NPM_TOKEN}`) are
/// checked again here, in the caller's environment; so are those the daemon does not list (not
/// found in its environment) whose selecting variables differ here from the daemon's own (the
/// shell's `SSH_AUTH_SOCK`).
fn recheck_in_this_shell(
    config: &Config,
    document: &mut StatusDocument,
    candidates: &[Candidate],
    now: Timestamp,
) {
    let differs = |report: &CredentialReport| {
        !report.depends_on_env.is_empty()
            || report
                .environment
                .iter()
                .any(|(name, value)| environ::var_text(name) != *value)
    };
    let wanted: Vec<Candidate> = candidates
        .iter()
        .filter_map(|candidate| {
            let listed = document
                .credentials
                .iter()
                .find(|c| c.name == candidate.definition.name);
            let again = match listed {
                Some(report) => differs(report),
                None => candidate
                    .definition
                    .context_variables()
                    .selects
                    .iter()
                    .any(|name| {
                        let here = environ::var_text(name);
                        match document.daemon.environment.get(name) {
                            Some(daemons) => here != *daemons,
                            // A daemon that does not say: any value set here may differ.
                            None => here.is_some(),
                        }
                    }),
            };
            again.then(|| Candidate {
                definition: candidate.definition.clone(),
                // One the daemon lists is shown whatever is found here; one it does not, only
                // when found here.
                only_if_detected: candidate.only_if_detected && listed.is_none(),
            })
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let here = status_document(&engine::check_for_user(config, wanted), now);
    for fresh in here.credentials {
        match document
            .credentials
            .iter_mut()
            .find(|c| c.name == fresh.name)
        {
            Some(slot) => *slot = fresh,
            None => document.credentials.push(fresh),
        }
    }
    // In the order of the candidates, as a direct check lists them.
    let position = |name: &str| {
        candidates
            .iter()
            .position(|c| c.definition.name == name)
            .unwrap_or(usize::MAX)
    };
    document.credentials.sort_by_key(|c| position(&c.name));
}

/// The daemon's document narrowed to what was asked, with the caller's env shadowing; `None`
/// when it lacks a credential that was named.
fn from_daemon(
    mut document: StatusDocument,
    candidates: &[Candidate],
    names: &[String],
    default_warn_before_ms: i64,
) -> Option<StatusDocument> {
    if !names.is_empty() {
        if !names
            .iter()
            .all(|n| document.credentials.iter().any(|c| &c.name == n))
        {
            return None;
        }
        document.credentials.retain(|c| names.contains(&c.name));
    }
    let now = Timestamp::now();
    // What the user forgot is read here too: `credwatch forget` just now may be ahead of the
    // daemon's reload.
    let forgotten =
        crate::engine::memory::Forgotten::load(crate::support::runtime::state_dir().as_deref());
    for credential in &mut document.credentials {
        // Written when the daemon judged it: "expired 0 s ago" is said again as of now.
        credential.reason = credential.reason_now(now);
        credential.forgotten = forgotten.contains(&credential.name) && !credential.usable;
        let Some(candidate) = candidates
            .iter()
            .find(|c| c.definition.name == credential.name)
        else {
            continue;
        };
        credential.shadowed_by = crate::store::env::shadowing_env(&candidate.definition);
        let warn_ms = candidate
            .definition
            .warn_before_ms
            .unwrap_or(default_warn_before_ms);
        if let Some(shadowed) = shadowed(
            &candidate.definition,
            &credential.shadowed_by,
            credential.state,
            &credential.reason,
            now,
            warn_ms,
            None,
        ) {
            credential.state = shadowed.state;
            credential.reason = shadowed.reason;
            credential.fix = Some(shadowed.fix);
            if let Some(at) = shadowed.expires_at {
                credential.expires_at = Some(at.rfc3339());
                credential.access_expires_at = None;
            }
        }
        credential.usable = credential.state.is_usable();
    }
    Some(document)
}
