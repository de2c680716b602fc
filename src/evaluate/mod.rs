//! From what was observed to a verdict: a pure function of (definition, observation, now).
//!
//! Guarantees: no I/O and no clock reads here, so every case is testable exactly; every verdict
//! has a reason a person can act on, a fix when there is one, and the time at which the state would
//! next change by itself (so a watcher can sleep until then instead of polling). A check that could
//! not finish is `unknown`, never "logged out".

use crate::define::config::{BlankMeans, Definition};
use crate::define::state::Group;
use crate::define::state::State;
use crate::probe::{ProbeReport, ProbeResult};
use crate::store::keyring::{ItemLookup, KeyringPlan, Reach};
use crate::store::{Content, FileFacts, FileMeta, FileStatus, LoginFacts, Observation, Presence};
use crate::support::paths::display_short;
use crate::support::timefmt::{describe_span, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub state: State,
    pub reason: String,
    pub fix: Option<String>,
    /// The login's deadline: past it the tool can no longer renew by itself.
    pub expires_at: Option<Timestamp>,
    /// A short-lived access token's expiry, when the tool renews it by itself.
    pub access_expires_at: Option<Timestamp>,
    /// When this verdict would change with nothing else happening.
    pub next_change_at: Option<Timestamp>,
}

impl Verdict {
    fn new(state: State, reason: String, fix: Option<String>) -> Self {
        Verdict {
            state,
            reason,
            fix,
            expires_at: None,
            access_expires_at: None,
            next_change_at: None,
        }
    }
}

/// Group- or world-accessible bits that make a credential file readable or writable by others.
const OTHERS_ACCESS: u32 = 0o066;

pub fn evaluate(
    definition: &Definition,
    observation: &Observation,
    now: Timestamp,
    default_warn_before_ms: i64,
) -> Verdict {
    let warn_ms = definition.warn_before_ms.unwrap_or(default_warn_before_ms);
    let file = observation.primary_file();
    let path = file.map(|f| display_short(&f.path, observation.home.as_deref()));
    let mut verdict = match (&observation.keyring_plan, file, path.as_deref()) {
        (Some(plan), _, _) if !plan.items.is_empty() => {
            let base = from_keyring(definition, plan, observation, now, warn_ms);
            let base = match (file.map(|f| &f.status), path.as_deref()) {
                (Some(FileStatus::Read(FileFacts { meta, .. })), Some(path)) => {
                    with_file_meta(base, meta, observation.uid, path, definition)
                }
                _ => base,
            };
            with_plaintext_flag(definition, base, plan, observation, path.as_deref())
        }
        (_, None, _) | (_, _, None) => no_store(definition, observation),
        (plan, Some(file), Some(path)) => {
            let base = match &file.status {
                FileStatus::Read(FileFacts { meta, content }) => {
                    let base = from_content(definition, content, path, now, warn_ms);
                    with_file_meta(base, meta, observation.uid, path, definition)
                }
                status => unreadable(definition, status, path, observation.uid),
            };
            match plan {
                Some(plan) => with_plaintext_flag(definition, base, plan, observation, Some(path)),
                None => base,
            }
        }
    };
    if let Some(probe) = &observation.probe {
        verdict = with_probe(definition, verdict, probe);
    }
    if let Some(note) = shadow_note(&observation.shadowed_by) {
        verdict.reason.push_str(&note);
    }
    verdict
}

/// A credential that looks fine here but that the server refuses is `rejected`; a probe that
/// could not tell changes nothing.
fn with_probe(definition: &Definition, mut verdict: Verdict, probe: &ProbeReport) -> Verdict {
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

fn no_store(definition: &Definition, observation: &Observation) -> Verdict {
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
    let gone = observation
        .gone_since
        .map(|at| format!(" (it was there until {})", at.human()))
        .unwrap_or_default();
    Verdict::new(
        State::Missing,
        format!("no credential at {}{gone}", candidates.join(" or ")),
        Some(definition.fix.clone()),
    )
}

fn keyring_unchecked(keyring: &crate::define::config::Keyring) -> Verdict {
    Verdict::new(
        State::Unknown,
        format!(
            "the token is not in the file and the file names no {} item to look for",
            keyring.describe()
        ),
        None,
    )
}

/// The verdict from the keyring items a plan expects: the worst of theirs.
fn from_keyring(
    definition: &Definition,
    plan: &KeyringPlan,
    observation: &Observation,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    let seen = observation
        .keyring
        .as_ref()
        .filter(|seen| seen.answers(plan));
    let Some(seen) = seen else {
        return Verdict::new(
            State::Unknown,
            "the keyring has not been looked at yet".into(),
            None,
        );
    };
    if let Some(verdict) = unreachable_keyring(definition, &seen.reach) {
        return verdict;
    }
    let listed_in = observation
        .primary_file()
        .map(|f| display_short(&f.path, observation.home.as_deref()));
    let mut worst: Option<Verdict> = None;
    let mut collections: Vec<&str> = Vec::new();
    for lookup in &seen.items {
        let verdict = keyring_item(definition, lookup, listed_in.as_deref(), now, warn_ms);
        collections.extend(lookup.found.iter().map(|f| f.collection.as_str()));
        if worst
            .as_ref()
            .is_none_or(|w| severity(&verdict) > severity(w))
        {
            worst = Some(verdict);
        }
    }
    collections.sort_unstable();
    collections.dedup();
    let mut verdict = worst.expect("a plan with items");
    if verdict.state.is_usable() {
        let count = seen.items.len();
        let what = if count == 1 {
            "the token is".to_string()
        } else {
            format!("all {count} tokens are")
        };
        verdict.reason = format!(
            "{what} in the keyring (collection {}); {}",
            collections.join(", "),
            verdict.reason
        );
    }
    verdict
}

/// Broken first, then undetermined, then expiring, then fine.
fn severity(verdict: &Verdict) -> u8 {
    match (verdict.state.group(), verdict.state) {
        (Group::Broken, _) => 3,
        (Group::Undetermined, _) => 2,
        (_, State::Expiring) => 1,
        _ => 0,
    }
}

fn keyring_item(
    definition: &Definition,
    lookup: &ItemLookup,
    listed_in: Option<&str>,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    let wanted = &lookup.wanted;
    if lookup.found.is_empty() {
        let reason = match listed_in {
            Some(file) if wanted.label != wanted.describe() => format!(
                "{file} lists {}, but neither the keyring ({}) nor {file} holds its token",
                wanted.label,
                wanted.describe()
            ),
            _ => format!("no keyring item with {}", wanted.describe()),
        };
        return Verdict::new(State::Missing, reason, Some(definition.fix.clone()));
    }
    if let Some(locked) = lookup.found.iter().find(|f| f.locked) {
        return locked_collection(definition, &locked.collection);
    }
    if lookup.found.iter().all(|f| !f.persistent) {
        let collection = &lookup.found[0].collection;
        return Verdict::new(
            State::Unpersisted,
            format!(
                "the token for {} is in the keyring's \"{collection}\" collection, which lives in memory: it is lost at logout",
                wanted.label
            ),
            Some(format!(
                "unlock the login keyring and log in again so the token is stored there: {}",
                definition.fix
            )),
        );
    }
    let deadlines: Vec<&Result<Timestamp, String>> = lookup
        .found
        .iter()
        .filter_map(|f| f.expires.as_ref())
        .collect();
    let earliest = deadlines
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .min()
        .copied();
    let unreadable = deadlines.iter().find_map(|r| r.as_ref().err());
    match (earliest, unreadable) {
        (None, Some(why)) => Verdict::new(
            State::Unknown,
            format!(
                "cannot read the deadline in the keyring item for {}: {why}",
                wanted.label
            ),
            Some(format!(
                "if {} still works, the secret's format changed: drop keyring.expires for {}",
                definition.tool, definition.name
            )),
        ),
        (None, None) => Verdict::new(State::Ok, "no deadline is stored".into(), None),
        (Some(at), _) if at <= now => Verdict {
            expires_at: Some(at),
            ..Verdict::new(
                State::Expired,
                format!(
                    "the login for {} expired {} ago ({})",
                    wanted.label,
                    describe_span(now.millis() - at.millis()),
                    at.human()
                ),
                Some(definition.fix.clone()),
            )
        },
        (Some(at), _) if at.millis().saturating_sub(warn_ms) <= now.millis() => Verdict {
            expires_at: Some(at),
            next_change_at: Some(at),
            ..Verdict::new(
                State::Expiring,
                format!(
                    "the login for {} expires in {} ({})",
                    wanted.label,
                    describe_span(at.millis() - now.millis()),
                    at.human()
                ),
                Some(definition.fix.clone()),
            )
        },
        (Some(at), _) => Verdict {
            expires_at: Some(at),
            next_change_at: Some(at.saturating_add_millis(-warn_ms)),
            ..Verdict::new(
                State::Ok,
                format!(
                    "valid until {} (in {})",
                    at.human(),
                    describe_span(at.millis() - now.millis())
                ),
                None,
            )
        },
    }
}

fn locked_collection(definition: &Definition, collection: &str) -> Verdict {
    Verdict::new(
        State::Unavailable,
        format!(
            "the keyring collection \"{collection}\" is locked: {} cannot read its token until it is unlocked",
            definition.tool
        ),
        Some(
            "unlock it: log in to the desktop session, or run `gnome-keyring-daemon --replace --unlock --components=secrets`, type the keyring password, then Ctrl-D"
                .into(),
        ),
    )
}

/// Why the keyring cannot be asked, as a verdict; `None` when it can.
fn unreachable_keyring(definition: &Definition, reach: &Reach) -> Option<Verdict> {
    let (state, reason, fix) = match reach {
        Reach::Reachable { .. } => return None,
        Reach::Locked { collection } => return Some(locked_collection(definition, collection)),
        Reach::NoBus { detail } => (
            State::Unavailable,
            format!(
                "the token is kept in the keyring, but there is no D-Bus session bus ({detail}): the keyring cannot be reached, as usual in an SSH session"
            ),
            format!(
                "run it from the desktop session, or give this shell a session bus and keyring: `exec dbus-run-session -- $SHELL`, then `gnome-keyring-daemon --unlock --components=secrets` (type the keyring password, then Ctrl-D); or log in again without the keyring: {}",
                definition.fix
            ),
        ),
        Reach::BusFailed { address, error } => (
            State::Unavailable,
            format!("cannot connect to the D-Bus session bus at {address}: {error}"),
            "DBUS_SESSION_BUS_ADDRESS may be left over from another session: unset it, or start a new login session".into(),
        ),
        Reach::NoProvider => (
            State::Unavailable,
            "the session bus has no Secret Service (nothing provides org.freedesktop.secrets): the keyring cannot be read".into(),
            "start a keyring daemon: `gnome-keyring-daemon --start --components=secrets` (package gnome-keyring), or enable KeePassXC's Secret Service integration".into(),
        ),
        Reach::NoDefaultCollection => (
            State::Unavailable,
            "the Secret Service has no default keyring (no \"default\" collection)".into(),
            "create one: `gnome-keyring-daemon --replace --unlock --components=secrets`, type a password, then Ctrl-D (or use Seahorse)".into(),
        ),
        Reach::TimedOut { step } => (
            State::Unknown,
            format!("the keyring did not answer within 2 s ({step})"),
            "the keyring daemon may be waiting for an unlock prompt on another screen; check it with `busctl --user status org.freedesktop.secrets`".into(),
        ),
        Reach::Failed { step, error } => (
            State::Unknown,
            format!("the keyring could not be asked ({step}): {error}"),
            "check the keyring daemon: `busctl --user status org.freedesktop.secrets`".into(),
        ),
    };
    Some(Verdict::new(state, reason, Some(fix)))
}

/// A token kept in plain text while a keyring is there to hold it: usable, but flagged.
fn with_plaintext_flag(
    definition: &Definition,
    mut verdict: Verdict,
    plan: &KeyringPlan,
    observation: &Observation,
    path: Option<&str>,
) -> Verdict {
    let keyring_works = observation
        .keyring
        .as_ref()
        .is_some_and(|k| matches!(k.reach, Reach::Reachable { .. }));
    if !plan.flag_plaintext || plan.plaintext.is_empty() || !keyring_works {
        return verdict;
    }
    let file = path.unwrap_or("the file");
    let note = format!(
        "the token for {} is stored in plain text in {file}, while a keyring is available",
        plan.plaintext.join(", ")
    );
    if verdict.state == State::Ok {
        verdict.state = State::Insecure;
        verdict.reason = format!("{note}; {}", verdict.reason);
        verdict.fix = Some(format!(
            "log in again so that {} stores the token in the keyring: {}",
            definition.tool, definition.fix
        ));
    } else {
        verdict.reason = format!("{}; also, {note}", verdict.reason);
    }
    verdict
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
        Some(at) if at <= now => Verdict::new(
            State::Expired,
            format!(
                "login expired {} ago ({})",
                describe_span(now.millis() - at.millis()),
                at.human()
            ),
            Some(definition.fix.clone()),
        ),
        Some(at) if at.millis().saturating_sub(warn_ms) <= now.millis() => Verdict {
            next_change_at: Some(at),
            ..Verdict::new(
                State::Expiring,
                format!(
                    "login expires in {} ({})",
                    describe_span(at.millis() - now.millis()),
                    at.human()
                ),
                Some(definition.fix.clone()),
            )
        },
        Some(at) => Verdict {
            next_change_at: Some(at.saturating_add_millis(-warn_ms)),
            ..Verdict::new(
                State::Ok,
                format!(
                    "{renewal}; login valid until {} (in {})",
                    at.human(),
                    describe_span(at.millis() - now.millis())
                ),
                None,
            )
        },
    };
    verdict.expires_at = deadline;
    if renewable {
        verdict.access_expires_at = access;
    }
    verdict
}

/// Where the file lives and who may read it: volatile storage breaks a login, open permissions
/// make a usable one `insecure`.
fn with_file_meta(
    mut verdict: Verdict,
    meta: &FileMeta,
    uid: u32,
    path: &str,
    definition: &Definition,
) -> Verdict {
    if !meta.persistent && verdict.state.is_usable() {
        let fix = format!(
            "keep {path} on persistent storage (it is on {}), then: {}",
            meta.fs, definition.fix
        );
        return Verdict {
            state: State::Unpersisted,
            reason: format!(
                "{path} is on {}, which lives in memory: the login is lost at the next reboot; {}",
                meta.fs, verdict.reason
            ),
            fix: Some(fix),
            next_change_at: None,
            ..verdict
        };
    }
    let mut exposure = Vec::new();
    // Root reading a user's files (sudo with HOME kept) is not a foreign owner to warn about.
    if meta.uid != uid && uid != 0 {
        exposure.push(format!("owned by uid {}, not by you (uid {uid})", meta.uid));
    }
    if meta.mode & OTHERS_ACCESS != 0 {
        exposure.push(format!("open to other users (mode {:04o})", meta.mode));
    }
    if exposure.is_empty() {
        return verdict;
    }
    let exposure = exposure.join(" and ");
    let secure_fix = if meta.uid != uid && uid != 0 {
        format!("chown {uid} {path} && chmod 600 {path}")
    } else {
        format!("chmod 600 {path}")
    };
    if verdict.state == State::Ok {
        verdict.state = State::Insecure;
        verdict.reason = format!("{path} is {exposure}; {}", verdict.reason);
        verdict.fix = Some(secure_fix);
    } else {
        verdict.reason = format!("{}; also, {path} is {exposure}", verdict.reason);
        verdict.fix = Some(match verdict.fix {
            Some(fix) => format!("{fix}; then {secure_fix}"),
            None => secure_fix,
        });
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FileObservation, MarkerObservation};
    use std::path::PathBuf;

    const DAY_MS: i64 = 86_400_000;
    const WARN: i64 = 3 * DAY_MS;

    fn claude() -> Definition {
        crate::define::presets::load("claude").unwrap().unwrap()
    }

    fn meta(mode: u32, persistent: bool) -> FileMeta {
        FileMeta {
            mode,
            uid: 1000,
            size: 10,
            fs: if persistent { "ext4" } else { "tmpfs" }.into(),
            persistent,
            modified: None,
        }
    }

    fn observed(status: FileStatus) -> Observation {
        Observation {
            files: vec![FileObservation {
                path: PathBuf::from("/home/u/.claude/.credentials.json"),
                status,
            }],
            primary: Some(0),
            unresolved: vec![],
            marker: None,
            shadowed_by: vec![],
            uid: 1000,
            home: Some(PathBuf::from("/home/u")),
            gone_since: None,
            keyring_plan: None,
            keyring: None,
            probe: None,
        }
    }

    fn logged_in(deadline: Option<Timestamp>, refresh: Presence, meta: FileMeta) -> Observation {
        observed(FileStatus::Read(FileFacts {
            meta,
            content: Content::Parsed(LoginFacts {
                entry_present: true,
                secret: Presence::Present,
                refresh,
                expires: Some(Ok(Timestamp::from_millis(500))),
                latest_expires: Some(Timestamp::from_millis(500)),
                refresh_expires: deadline.map(Ok),
                keyring_plan: None,
            }),
        }))
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn next_change_walks_ok_expiring_expired() {
        let deadline = at(100 * DAY_MS);
        let obs = logged_in(Some(deadline), Presence::Present, meta(0o600, true));
        let ok = evaluate(&claude(), &obs, at(10 * DAY_MS), WARN);
        assert_eq!(ok.state, State::Ok);
        assert_eq!(
            ok.next_change_at,
            Some(at(97 * DAY_MS)),
            "the warning window opens"
        );
        let expiring = evaluate(&claude(), &obs, at(97 * DAY_MS), WARN);
        assert_eq!(expiring.state, State::Expiring);
        assert_eq!(expiring.next_change_at, Some(deadline));
        let expired = evaluate(&claude(), &obs, deadline, WARN);
        assert_eq!(expired.state, State::Expired);
        assert_eq!(expired.next_change_at, None);
        assert_eq!(expired.expires_at, Some(deadline));
    }

    #[test]
    fn without_refresh_token_the_access_expiry_is_the_deadline() {
        let obs = logged_in(Some(at(100 * DAY_MS)), Presence::Blank, meta(0o600, true));
        let verdict = evaluate(&claude(), &obs, at(1000), WARN);
        assert_eq!(
            verdict.state,
            State::Expired,
            "expiresAt (500 ms) has passed"
        );
        assert_eq!(verdict.access_expires_at, None);
    }

    #[test]
    fn volatile_storage_breaks_a_usable_login_but_not_an_expired_one() {
        let obs = logged_in(
            Some(at(100 * DAY_MS)),
            Presence::Present,
            meta(0o600, false),
        );
        let verdict = evaluate(&claude(), &obs, at(0), WARN);
        assert_eq!(verdict.state, State::Unpersisted);
        assert_eq!(verdict.next_change_at, None);
        let expired = evaluate(&claude(), &obs, at(200 * DAY_MS), WARN);
        assert_eq!(expired.state, State::Expired);
    }

    #[test]
    fn volatile_storage_never_turns_an_undetermined_check_into_a_broken_one() {
        let mut obs = logged_in(None, Presence::Present, meta(0o600, false));
        if let FileStatus::Read(FileFacts {
            content: Content::Parsed(facts),
            ..
        }) = &mut obs.files[0].status
        {
            facts.refresh_expires = Some(Err("/x is not a timestamp".into()));
        }
        assert_eq!(evaluate(&claude(), &obs, at(0), WARN).state, State::Unknown);
    }

    #[test]
    fn open_mode_is_insecure_when_ok_and_a_note_when_expiring() {
        let obs = logged_in(Some(at(100 * DAY_MS)), Presence::Present, meta(0o640, true));
        let ok = evaluate(&claude(), &obs, at(0), WARN);
        assert_eq!(ok.state, State::Insecure);
        assert_eq!(
            ok.fix.as_deref(),
            Some("chmod 600 ~/.claude/.credentials.json")
        );
        assert_eq!(ok.next_change_at, Some(at(97 * DAY_MS)));
        let expiring = evaluate(&claude(), &obs, at(98 * DAY_MS), WARN);
        assert_eq!(expiring.state, State::Expiring);
        assert!(expiring
            .reason
            .ends_with("also, ~/.claude/.credentials.json is open to other users (mode 0640)"));
        assert_eq!(
            expiring.fix.as_deref(),
            Some("claude /login; then chmod 600 ~/.claude/.credentials.json")
        );
    }

    #[test]
    fn marker_without_store_is_unpersisted_and_without_marker_missing() {
        let mut obs = observed(FileStatus::Absent);
        obs.primary = None;
        assert_eq!(evaluate(&claude(), &obs, at(0), WARN).state, State::Missing);
        obs.marker = Some(MarkerObservation {
            path: PathBuf::from("/home/u/.claude.json"),
            present: true,
        });
        let verdict = evaluate(&claude(), &obs, at(0), WARN);
        assert_eq!(verdict.state, State::Unpersisted);
        assert!(verdict
            .reason
            .starts_with("~/.claude.json names a logged-in account"));
    }

    #[test]
    fn undeterminable_checks_are_unknown_never_logged_out() {
        let denied = evaluate(
            &claude(),
            &observed(FileStatus::PermissionDenied),
            at(0),
            WARN,
        );
        assert_eq!(denied.state, State::Unknown);
        let failed = evaluate(
            &claude(),
            &observed(FileStatus::Failed("EIO".into())),
            at(0),
            WARN,
        );
        assert_eq!(failed.state, State::Unknown);
        let mut bad_expiry = logged_in(None, Presence::Present, meta(0o600, true));
        if let FileStatus::Read(FileFacts {
            content: Content::Parsed(facts),
            ..
        }) = &mut bad_expiry.files[0].status
        {
            facts.refresh_expires = Some(Err("/x is not a timestamp".into()));
        }
        assert_eq!(
            evaluate(&claude(), &bad_expiry, at(0), WARN).state,
            State::Unknown
        );
    }

    #[test]
    fn per_credential_window_overrides_the_default() {
        let mut definition = claude();
        definition.warn_before_ms = Some(10 * DAY_MS);
        let obs = logged_in(Some(at(100 * DAY_MS)), Presence::Present, meta(0o600, true));
        let verdict = evaluate(&definition, &obs, at(91 * DAY_MS), WARN);
        assert_eq!(verdict.state, State::Expiring);
    }
}
