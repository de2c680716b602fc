//! Verdicts for logins kept in files: unreadable (what kind of problem), empty or blank (what
//! that means for the tool), damaged, then the login's deadline (the access token a tool renews
//! by itself is not the deadline), and where the file lives and who may read it.
//!
//! Guarantees: a file over its format's size limit is `unknown` (too large to check, with its
//! size and the limit), never a broken state: it was not read, so nothing is known of its login.

use super::deadline;
use super::keyring::keyring_unchecked;
use super::policy::{self, Access, Storage};
use super::{Account, Verdict};
use crate::define::config::{BlankMeans, Definition};
use crate::define::state::State;
use crate::store::file::{
    self, Content, FileMeta, FileObservation, FileStatus, LoginFacts, Presence,
};
use crate::store::Observation;
use crate::support::lifetime::{self, Lifetime, Until};
use crate::support::paths::display_short;
use crate::support::timefmt::{describe_span, Timestamp};

/// The verdict from a credential file that exists.
pub(super) fn verdict(
    definition: &Definition,
    file: &FileObservation,
    path: &str,
    uid: u32,
    in_shell: bool,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    match &file.status {
        FileStatus::Read(facts) => {
            let base = from_content(definition, &facts.content, path, in_shell, now, warn_ms);
            with_storage(base, &facts.meta, uid, path, definition)
        }
        status => unreadable(definition, status, path, uid),
    }
}

pub(super) fn no_store(
    definition: &Definition,
    observation: &Observation,
    history: &super::History,
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
            return keyring_unchecked(definition, keyring);
        }
        let mut why: Vec<String> = observation
            .unresolved
            .iter()
            .map(|(spec, why)| format!("{spec}: {why}"))
            .collect();
        if why.is_empty() {
            // KUBECONFIG=":" — set, but naming no file.
            why = definition
                .files
                .iter()
                .map(|spec| format!("{spec} names none"))
                .collect();
        }
        return Verdict::new(
            State::Missing,
            format!("no credential file: {}", why.join("; ")),
            Some(format!(
                "set the variable or change `file` in the config; then {}",
                definition.fix
            )),
        );
    }
    let gone = history
        .gone_since
        .map(|at| format!(" (it was there until {})", at.human()))
        .unwrap_or_default();
    let places = candidates.join(" or ");
    match history.taken_by_system {
        // Not a logout of the tool's: the system emptied the place it keeps its login in.
        Some(Until::Reboot) => {
            let started = lifetime::boot_time()
                .map(|secs| format!(" (the machine started again at {})", Timestamp::from_secs(secs).human()))
                .unwrap_or_default();
            Verdict::new(
                State::Missing,
                format!("lost at reboot{started}: {} keeps its login only until the machine restarts, and it was at {places}", definition.tool),
                Some(format!("{} (again after each reboot: {} keeps it so by design)", definition.fix, definition.tool)),
            )
        }
        Some(Until::Logout) => Verdict::new(
            State::Missing,
            format!("lost when you logged out: {} keeps its login in your runtime directory ({places}), which is removed when your last session ends", definition.tool),
            Some(format!("{} (again after each logout: {} keeps it so by design; `loginctl enable-linger` keeps the runtime directory until reboot)", definition.fix, definition.tool)),
        ),
        None => Verdict::new(
            State::Missing,
            format!("no credential at {places}{gone}"),
            Some(definition.fix.clone()),
        ),
    }
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
        // Not read, so nothing is known of the login in it: the tool may well work with it
        // (padding it ignores, thousands of hosts). Undetermined, never broken.
        FileStatus::TooLarge { size, limit } => (
            State::Unknown,
            format!(
                "{path} is too large to check: {}, limit {}; it was not read, so this says nothing of the login in it",
                human_size(*size),
                human_size(*limit)
            ),
            format!(
                "check the login with {} itself; if {path} should not be this large, find what wrote to it",
                definition.tool
            ),
        ),
        FileStatus::Failed(error) => (
            State::Unknown,
            format!("cannot read {path}: {error}"),
            format!("check the file system that holds {path}"),
        ),
        FileStatus::Unlocated { why, fix } => {
            (State::Unknown, format!("{path}: {why}"), fix.clone())
        }
        FileStatus::Unusable { state, why, fix } => (*state, why.clone(), fix.clone()),
        FileStatus::Absent | FileStatus::Read(_) => unreachable!("handled by the caller"),
    };
    Verdict::new(state, reason, Some(fix))
}

/// A size in words: `7 MiB`, `7.4 MiB`, `256 KiB`, `900 bytes` (one decimal, dropped when 0).
fn human_size(bytes: u64) -> String {
    let (value, unit) = if bytes >= 1 << 20 {
        (bytes as f64 / f64::from(1 << 20), "MiB")
    } else if bytes >= 1 << 10 {
        (bytes as f64 / f64::from(1 << 10), "KiB")
    } else {
        return format!("{bytes} bytes");
    };
    let text = format!("{value:.1}");
    format!("{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
}

fn blank(definition: &Definition, detail: String) -> Verdict {
    let (state, reason) = match definition.blank {
        BlankMeans::LoggedOut => (State::LoggedOut, format!("logged out: {detail}")),
        BlankMeans::Invalid => (State::Invalid, detail),
        BlankMeans::Missing => (State::Missing, detail),
    };
    Verdict::new(state, reason, Some(definition.fix.clone()))
}

/// "~/.aws/credentials holds no login for the AWS_PROFILE set in this shell; other profiles:
/// work": what is in use, and what else the file holds.
fn no_login_in(definition: &Definition, facts: &LoginFacts, path: &str) -> String {
    let mut reason = format!("{path} holds no login");
    let chosen_by: Vec<&str> = facts
        .env
        .iter()
        .filter(|e| e.set)
        .map(|e| e.name.as_str())
        .collect();
    if !chosen_by.is_empty() {
        reason.push_str(&format!(" for the {} set here", chosen_by.join(" and ")));
    }
    if let (Some((_, say)), false) = (&definition.others, facts.others.is_empty()) {
        reason.push_str(&format!("; {say}: {}", facts.others.join(", ")));
    }
    reason
}

/// The token comes from environment variables that are not set: in the user's shell the tool
/// sends no token; in the daemon's own environment, which is no shell's, it cannot be told.
fn from_unset_env(definition: &Definition, unset: &[&str], path: &str, in_shell: bool) -> Verdict {
    // A handful named, the rest counted: a file of 100,000 references is one line, not 1 MB.
    const NAMED: usize = 5;
    let mut refs: Vec<String> = unset
        .iter()
        .take(NAMED)
        .map(|n| format!("${{{n}}}"))
        .collect();
    if unset.len() > NAMED {
        refs.push(format!("and {} more", unset.len() - NAMED));
    }
    let (is, it) = if unset.len() == 1 {
        ("is", "it")
    } else {
        ("are", "them")
    };
    if in_shell {
        Verdict::new(
            State::Missing,
            format!(
                "{path} takes its token from {}, which {is} not set in this shell: {} sends the text itself as the token, and the server refuses it",
                refs.join(", "),
                definition.tool
            ),
            Some(format!(
                "set {it} in your shell (export {}=…), or log in again: {}",
                unset[0], definition.fix
            )),
        )
    } else {
        Verdict::new(
            State::Unknown,
            format!(
                "{path} takes its token from {}: each shell's environment decides (`credwatch status {}` in a shell tells)",
                refs.join(", "),
                definition.name
            ),
            None,
        )
    }
}

/// What holds the login, in the definition's words (`secret_name`), else its field paths.
fn secret_fields(definition: &Definition) -> String {
    if let Some(name) = &definition.secret_name {
        return name.clone();
    }
    let names: Vec<String> = definition.secret.iter().map(|p| p.to_string()).collect();
    names.join(" or ")
}

fn from_content(
    definition: &Definition,
    content: &Content,
    path: &str,
    in_shell: bool,
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
    let mut verdict = from_facts(definition, facts, path, in_shell, now, warn_ms);
    // Several logins, one selected (kubeconfig contexts, AWS profiles): each judged as if it
    // were selected, listed; the state stays the selected one's.
    if !facts.accounts.is_empty() {
        let mut next_change = verdict.next_change_at;
        let active = Account {
            name: facts
                .account
                .clone()
                .unwrap_or_else(|| "(none selected)".into()),
            active: true,
            state: verdict.state,
            reason: verdict.reason.clone(),
        };
        verdict.accounts = std::iter::once(active)
            .chain(facts.accounts.iter().map(|(name, account)| {
                let judged = from_facts(definition, account, path, in_shell, now, warn_ms);
                // The list changes when an account's state does: the verdict says when.
                if let Some(at) = judged.next_change_at {
                    next_change = Some(next_change.map_or(at, |n: Timestamp| n.min(at)));
                }
                Account {
                    name: name.clone(),
                    active: false,
                    state: judged.state,
                    reason: judged.reason,
                }
            }))
            .collect();
        verdict.next_change_at = next_change;
    }
    verdict
}

/// The verdict on the login a file's view selects.
fn from_facts(
    definition: &Definition,
    facts: &LoginFacts,
    path: &str,
    in_shell: bool,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    if !facts.entry_present {
        return blank(definition, no_login_in(definition, facts, path));
    }
    // Only a variable that supplies the login leaves it empty when unset; one that selects
    // among the file's logins has a default.
    let unset: Vec<&str> = facts
        .env
        .iter()
        .filter(|e| !e.set && !e.selects)
        .map(|e| e.name.as_str())
        .collect();
    if facts.secret != Presence::Present && !unset.is_empty() {
        return from_unset_env(definition, &unset, path, in_shell);
    }
    match facts.secret {
        Presence::Present => {}
        // The file names no account whose keyring item would hold the token (gh's hosts.yml
        // with settings only): no login, as the tool itself says.
        Presence::Absent
            if definition.keyring.is_some()
                && facts
                    .keyring_plan
                    .as_ref()
                    .is_none_or(|plan| plan.items.is_empty() && plan.plaintext.is_empty()) =>
        {
            return blank(
                definition,
                format!(
                    "{path} holds no token, and names no account whose keyring item would hold one"
                ),
            )
        }
        Presence::Absent if definition.keyring.is_some() => {
            return keyring_unchecked(definition, definition.keyring.as_ref().expect("checked"))
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
    let mut verdict = by_deadline(definition, facts, path, now, warn_ms);
    // Others that are exactly the accounts listed, each with its state (AWS profiles), are
    // not named again; others of another kind (kubeconfig users beside contexts) are.
    let listed = |name: &String| facts.accounts.iter().any(|(account, _)| account == name);
    let same = facts.others.len() == facts.accounts.len() && facts.others.iter().all(listed);
    if let (Some((_, say)), false) = (&definition.others, same || facts.others.is_empty()) {
        verdict.reason = format!("{}; {say}: {}", verdict.reason, facts.others.join(", "));
    }
    verdict
}

fn by_deadline(
    definition: &Definition,
    facts: &LoginFacts,
    path: &str,
    now: Timestamp,
    warn_ms: i64,
) -> Verdict {
    let can_renew = definition.renews_itself || facts.refresh == Presence::Present;
    let access = facts
        .expires
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .copied();
    // Renewal may end by itself (AWS SSO: the client registration): then the access token's own
    // expiry is the deadline.
    let renewal_ends = match facts.refresh_until.as_ref().filter(|_| can_renew) {
        Some(Err(why)) => {
            return Verdict::new(
                State::Unknown,
                format!("cannot read until when {} can renew it, in {path}: {why}", definition.tool),
                Some(format!(
                    "if {} still works, its file format changed: set `refresh_until` in the config for {}",
                    definition.tool, definition.name
                )),
            )
        }
        Some(Ok(at)) => Some(*at),
        None => None,
    };
    let renewal_ended = renewal_ends.filter(|at| *at <= now);
    let renewable = can_renew && renewal_ended.is_none();
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
    // While renewal can end, the login lasts no longer than that.
    let deadline = match (deadline, renewal_ends.filter(|_| renewable)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let tool = &definition.tool;
    let renewal = match (renewable, access, renewal_ended) {
        (true, Some(at), _) if at <= now => format!(
            "the access token expired {} ago and {tool} renews it by itself",
            describe_span(now.millis() - at.millis())
        ),
        (true, _, _) => format!("{tool} renews its access token by itself"),
        (false, _, Some(ended)) => format!(
            "{tool} can no longer renew its access token (renewal ended {} ago, {})",
            describe_span(now.millis() - ended.millis()),
            ended.human()
        ),
        (false, _, None) => "logged in".to_string(),
    };
    let mut verdict = match deadline {
        None => Verdict::new(
            State::Ok,
            format!("{renewal}; no login deadline is stored locally"),
            None,
        ),
        Some(at) => deadline::walk(
            // One login of several in the file ends first (docker's ECR registry): named.
            &match facts.expires_in.as_ref().filter(|_| !renewable) {
                Some(which) => format!("the login for {which}"),
                None => "login".to_string(),
            },
            at,
            now,
            warn_ms,
            &facts
                .expires_in
                .as_deref()
                .filter(|_| crate::store::docker::is_docker_config(definition))
                .and_then(crate::store::docker::ecr_fix)
                .unwrap_or_else(|| definition.fix.clone()),
            &format!("{renewal}; "),
        ),
    };
    if let (Some(Ok(until)), Some(at)) = (&facts.renewable_until, deadline) {
        if *until > at && *until > now {
            verdict.reason.push_str(&format!(
                "; renewable until {}, if something renews it (credwatch never does)",
                until.human()
            ));
        }
    }
    if renewable {
        verdict.access_expires_at = access;
    } else if renewal_ended.is_some() && verdict.state != State::Ok {
        // Why the access token's expiry is the deadline now.
        verdict.reason = format!("{renewal}: {}", verdict.reason);
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
    // A store in the runtime directory is there by the tool's choice: kept until logout by
    // design, not lost by accident.
    let in_runtime_dir = matches!(meta.lifetime, Some(Lifetime::RuntimeDir { .. }));
    let verdict = policy::apply(
        verdict,
        &Storage {
            place: path,
            medium: &format!("on {}", meta.fs),
            persistent: meta.persistent || in_runtime_dir,
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
    );
    match &meta.lifetime {
        Some(lifetime) if verdict.state.is_usable() => kept_only_until(verdict, lifetime),
        _ => verdict,
    }
}

/// A usable login in a place the system empties by design: said, with when.
fn kept_only_until(mut verdict: Verdict, lifetime: &Lifetime) -> Verdict {
    let note = match lifetime {
        Lifetime::RuntimeDir {
            dir,
            lingering: false,
        } => format!(
            "kept only until you log out: it is in your runtime directory ({}), which is removed when your last session ends, and at reboot",
            dir.display()
        ),
        Lifetime::RuntimeDir {
            dir,
            lingering: true,
        } => format!(
            "kept only until the next reboot: it is in your runtime directory ({}), which lingering (loginctl enable-linger) keeps after you log out",
            dir.display()
        ),
        Lifetime::Memory { fs } => {
            format!("kept only until the next reboot: it is on {fs}, which is held in memory")
        }
        Lifetime::KernelKeyring { until_logout: true } => {
            "kept only until you log out: it is in the kernel's keyring of your sessions".into()
        }
        Lifetime::KernelKeyring {
            until_logout: false,
        } => "kept only until the next reboot: it is in your persistent kernel keyring (which the kernel also drops after days unused)".into(),
    };
    verdict.reason = format!("{}; {note}", verdict.reason);
    verdict.kept_until = Some(lifetime.until());
    verdict
}
