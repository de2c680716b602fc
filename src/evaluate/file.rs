//! Verdicts for logins kept in files: unreadable (what kind of problem), empty or blank (what
//! that means for the tool), damaged, then the login's deadline (the access token a tool renews
//! by itself is not the deadline), and where the file lives and who may read it.

use super::deadline;
use super::keyring::keyring_unchecked;
use super::policy::{self, Access, Storage};
use super::Verdict;
use crate::define::config::{BlankMeans, Definition};
use crate::define::state::State;
use crate::store::file::{
    self, Content, FileMeta, FileObservation, FileStatus, LoginFacts, Presence,
};
use crate::store::Observation;
use crate::support::paths::display_short;
use crate::support::timefmt::{describe_span, Timestamp};

/// The verdict from a credential file that exists.
pub(super) fn verdict(
    definition: &Definition,
    file: &FileObservation,
    path: &str,
    uid: u32,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    match &file.status {
        FileStatus::Read(facts) => {
            let base = from_content(definition, &facts.content, path, now, warn_ms);
            with_storage(base, &facts.meta, uid, path, definition)
        }
        status => unreadable(definition, status, path, uid),
    }
}

pub(super) fn no_store(
    definition: &Definition,
    observation: &Observation,
    gone_since: Option<Timestamp>,
) -> Verdict {
    let home = observation.home.as_deref();
    let candidates: Vec<String> = observation
        .files
        .iter()
        .map(|f| display_short(&f.path, home))
        .collect();
    let marker = observation.marker.as_ref().filter(|m| m.present);
    if let Some(marker) = marker {
        let stored_at = candidates
            .first()
            .cloned()
            .unwrap_or_else(|| "its store".into());
        return Verdict::new(
            State::Unpersisted,
            format!(
                "{} names a logged-in account, but no credential is stored at {stored_at}: the login did not persist",
                display_short(&marker.path, home)
            ),
            Some(format!(
                "{}, then check that {stored_at} exists: credwatch status {}",
                definition.fix, definition.name
            )),
        );
    }
    if candidates.is_empty() {
        if let Some(keyring) = &definition.keyring {
            return keyring_unchecked(keyring);
        }
        let why: Vec<String> = observation
            .unresolved
            .iter()
            .map(|(spec, why)| format!("{spec}: {why}"))
            .collect();
        return Verdict::new(
            State::Missing,
            format!("no credential file: {}", why.join("; ")),
            Some(format!(
                "set the variable or change `file` in the config; then {}",
                definition.fix
            )),
        );
    }
    let gone = gone_since
        .map(|at| format!(" (it was there until {})", at.human()))
        .unwrap_or_default();
    Verdict::new(
        State::Missing,
        format!("no credential at {}{gone}", candidates.join(" or ")),
        Some(definition.fix.clone()),
    )
}

fn unreadable(definition: &Definition, status: &FileStatus, path: &str, uid: u32) -> Verdict {
    let fix = &definition.fix;
    let (state, reason, fix) = match status {
        FileStatus::NotAFile(kind) => (
            State::Invalid,
            format!("{path} is {kind}, not a credential file"),
            format!("remove or rename {path}, then: {fix}"),
        ),
        FileStatus::SymlinkLoop => (
            State::Invalid,
            format!("{path} is a symlink loop: the link leads back to itself"),
            format!("remove the broken link {path}, then: {fix}"),
        ),
        FileStatus::PermissionDenied => (
            State::Unknown,
            format!("cannot read {path}: permission denied to uid {uid}"),
            format!("check its owner and mode (ls -l {path}); it should be yours with mode 600"),
        ),
        FileStatus::TooLarge { size, limit } => (
            State::Invalid,
            format!(
                "{path} is {} MiB, too large for a credential file (limit {} MiB); it was not read",
                size.div_ceil(1 << 20),
                limit >> 20
            ),
            format!("check what wrote to {path}, then: {fix}"),
        ),
        FileStatus::Failed(error) => (
            State::Unknown,
            format!("cannot read {path}: {error}"),
            format!("check the file system that holds {path}"),
        ),
        FileStatus::Absent | FileStatus::Read(_) => unreachable!("handled by the caller"),
    };
    Verdict::new(state, reason, Some(fix))
}

fn blank(definition: &Definition, detail: String) -> Verdict {
    let (state, reason) = match definition.blank {
        BlankMeans::LoggedOut => (State::LoggedOut, format!("logged out: {detail}")),
        BlankMeans::Invalid => (State::Invalid, detail),
    };
    Verdict::new(state, reason, Some(definition.fix.clone()))
}

fn secret_fields(definition: &Definition) -> String {
    let names: Vec<String> = definition.secret.iter().map(|p| p.to_string()).collect();
    names.join(" or ")
}

fn from_content(
    definition: &Definition,
    content: &Content,
    path: &str,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    let facts = match content {
        Content::Empty => return blank(definition, format!("{path} is empty")),
        Content::Unparseable(problem) => {
            return Verdict::new(
                State::Invalid,
                format!("{path} is damaged: {problem}"),
                Some(format!("log in again to rewrite it: {}", definition.fix)),
            )
        }
        Content::Parsed(facts) => facts,
    };
    if !facts.entry_present {
        return blank(definition, format!("{path} holds no login"));
    }
    match facts.secret {
        Presence::Present => {}
        Presence::Absent if definition.keyring.is_some() => {
            return keyring_unchecked(definition.keyring.as_ref().expect("checked"))
        }
        Presence::Absent => {
            return blank(
                definition,
                format!("{} is missing from {path}", secret_fields(definition)),
            )
        }
        Presence::Blank => {
            return blank(
                definition,
                format!("{} in {path} is empty", secret_fields(definition)),
            )
        }
    }
    by_deadline(definition, facts, path, now, warn_ms)
}

fn by_deadline(
    definition: &Definition,
    facts: &LoginFacts,
    path: &str,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    let renewable = definition.renews_itself || facts.refresh == Presence::Present;
    let access = facts
        .expires
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .copied();
    let deadline = if renewable {
        facts.refresh_expires.as_ref()
    } else {
        facts.expires.as_ref()
    };
    let deadline = match deadline {
        Some(Err(why)) => {
            return Verdict::new(
                State::Unknown,
                format!("cannot read the expiry in {path}: {why}"),
                Some(format!(
                "if {} still works, its file format changed: set `expires` in the config for {}",
                definition.tool, definition.name
            )),
            )
        }
        Some(Ok(at)) => Some(*at),
        None => None,
    };
    let tool = &definition.tool;
    let renewal = match (renewable, access) {
        (true, Some(at)) if at <= now => format!(
            "the access token expired {} ago and {tool} renews it by itself",
            describe_span(now.millis() - at.millis())
        ),
        (true, _) => format!("{tool} renews its access token by itself"),
        (false, _) => "logged in".to_string(),
    };
    let mut verdict = match deadline {
        None => Verdict::new(
            State::Ok,
            format!("{renewal}; no login deadline is stored locally"),
            None,
        ),
        Some(at) => deadline::walk(
            "login",
            at,
            now,
            warn_ms,
            &definition.fix,
            &format!("{renewal}; "),
        ),
    };
    if renewable {
        verdict.access_expires_at = access;
    }
    verdict
}

/// Where the file lives and who may read it, judged by the file store's policies.
pub(super) fn with_storage(
    verdict: Verdict,
    meta: &FileMeta,
    uid: u32,
    path: &str,
    definition: &Definition,
) -> Verdict {
    policy::apply(
        verdict,
        &Storage {
            place: path,
            medium: &format!("on {}", meta.fs),
            persistent: meta.persistent,
            lost_at: "the next reboot",
            keep_it: format!("keep {path} on persistent storage (it is on {})", meta.fs),
            access: Some(Access {
                uid: meta.uid,
                mode: meta.mode,
                checker: uid,
            }),
        },
        file::policies(definition.format),
        &definition.fix,
    )
}
