//! From what was observed to a verdict: a pure function of (definition, observation, history,
//! now), whatever kind of store holds the login.
//!
//! Guarantees: no I/O and no clock reads here, so every case is testable exactly; every verdict
//! has a reason a person can act on, a fix when there is one, and the time at which the state
//! would next change by itself (so a watcher can sleep until then instead of polling). A check
//! that could not finish is `unknown`, never "logged out". The deadline walk (`deadline`) and the
//! stores' policies (`policy`) are written once, for every kind of store.

mod deadline;
mod file;
mod keyring;
mod loss;
pub(crate) mod overlay;
mod policy;

pub use loss::{detect as detect_loss, Loss, Overwrite};
pub use overlay::shadowed;

use crate::define::config::Definition;
use crate::define::state::State;
use crate::probe::ProbeReport;
use crate::store::{FileFacts, FileStatus, Observation};
use crate::support::lifetime::Until;
use crate::support::paths::display_short;
use crate::support::timefmt::Timestamp;

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
    /// Each account, where a store keeps several and tells the active one (gh's users of a
    /// host): the state is the active ones'; the others are listed, never counted.
    pub accounts: Vec<Account>,
    /// A usable login the system takes away by design (at logout, at reboot).
    pub kept_until: Option<Until>,
}

/// One account of several, as judged on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub active: bool,
    pub state: State,
    pub reason: String,
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
            accounts: Vec::new(),
            kept_until: None,
        }
    }
}

/// What is known of a credential beyond its stores, from earlier checks.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// When a credential seen before was first found gone (the memory of credentials seen).
    pub gone_since: Option<Timestamp>,
    /// The last live probe, when one ran since the store last changed.
    pub probe: Option<ProbeReport>,
    /// A login written and then lost within the grace delay (the daemon sees it).
    pub loss: Option<Loss>,
    /// A working login overwritten by a logged-out copy (the daemon sees it).
    pub overwrite: Option<Overwrite>,
    /// The user said they do not use this login here (`credwatch forget`): while it is not
    /// usable, nothing flags, warns or fails for it.
    pub forgotten: bool,
    /// The login its login plugin needs, broken (see `engine::chain`).
    pub behind: Option<Behind>,
    /// Gone from a place the system empties by design, and what emptied it since it was seen
    /// there: a reboot, or the end of the user's last session (the memory of credentials seen).
    pub taken_by_system: Option<Until>,
    /// The role credentials the AWS CLI cached for the SSO profile in use: the next command
    /// uses them while they last, whatever the session's state (see `engine::role_cache`).
    pub cached_role: Option<CachedRole>,
}

/// Role credentials a CLI cached from a session, and used before it (the AWS CLI's SSO role
/// credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRole {
    /// The cache file, as shown, and the profile it is for.
    pub path: String,
    pub profile: String,
    pub expires_at: Timestamp,
}

/// A broken login that another one needs: kubeconfig's `aws eks get-token` plugin and the AWS
/// login it would use.
#[derive(Debug, Clone, PartialEq)]
pub struct Behind {
    /// The credential behind (`aws-sso`) and its tool.
    pub name: String,
    pub tool: String,
    /// The plugin's first words (`aws eks get-token`) and the profile it names, as said
    /// (`AWS profile dev`).
    pub plugin: String,
    pub profile: Option<String>,
    pub state: State,
    pub reason: String,
    pub fix: String,
    pub next_change_at: Option<Timestamp>,
}

/// No login, and docker's own choice of helper (its config names none) cannot save one here:
/// that is the cause, and a bare `docker login` is no fix (issue #25).
fn with_default_helper(
    verdict: Verdict,
    helper: &crate::store::docker::DefaultHelper,
    observation: &Observation,
) -> Verdict {
    let Some(blocked) = &helper.blocked else {
        return verdict;
    };
    if verdict.state.is_usable() {
        return verdict;
    }
    let config = observation
        .files
        .first()
        .map(|f| display_short(&f.path, observation.home.as_deref()))
        .unwrap_or_else(|| "~/.docker/config.json".into());
    let exists = observation.primary.is_some();
    let keep_in_file = if exists {
        format!(
            "add \"auths\": {{\"https://index.docker.io/v1/\": {{}}}} to {config} (your registry's name for another), then: docker login"
        )
    } else {
        format!(
            "echo '{{\"auths\": {{\"https://index.docker.io/v1/\": {{}}}}}}' > {config} (your registry's name for another), then: docker login"
        )
    };
    let where_it_works = match helper.name.as_str() {
        "pass" => "set up pass (pass init YOUR-GPG-KEY-ID), then: docker login; or keep the login in the file instead (in plain text): ".to_string(),
        _ => "log in from a desktop session (docker login there), or keep the login in the file instead (in plain text; docker picks its helper only while the file names no auths, credsStore or credHelpers): ".to_string(),
    };
    Verdict::new(
        State::Unavailable,
        format!(
            "docker stores its login with docker-credential-{} ({}), {blocked}: docker login cannot save a login here",
            helper.name, helper.chosen
        ),
        Some(format!("{where_it_works}{keep_in_file}")),
    )
}

pub fn evaluate(
    definition: &Definition,
    observation: &Observation,
    history: &History,
    now: Timestamp,
    default_warn_before_ms: i64,
) -> Verdict {
    let warn_ms = definition.warn_before_ms.unwrap_or(default_warn_before_ms);
    let primary = observation.primary_file();
    let path = primary.map(|f| display_short(&f.path, observation.home.as_deref()));
    let mut verdict = match (&observation.keyring_plan, primary, path.as_deref()) {
        (Some(plan), _, _) if !plan.items.is_empty() => {
            let base = keyring::verdict(definition, plan, observation, now, warn_ms);
            // A file that only says the keyring is in use (a git or cargo setting) holds no
            // token: who may read it, or where it lives, is not the login's concern.
            let file_may_hold_token = definition
                .keyring
                .as_ref()
                .is_some_and(|k| k.each.is_some() || k.in_file.is_some() || k.when.is_none());
            let base = match (primary.map(|f| &f.status), path.as_deref()) {
                (Some(FileStatus::Read(FileFacts { meta, .. })), Some(path))
                    if file_may_hold_token =>
                {
                    file::with_storage(base, meta, observation.uid, path, definition)
                }
                _ => base,
            };
            keyring::with_plaintext_flag(definition, base, plan, observation, path.as_deref())
        }
        (_, None, _) | (_, _, None) => file::no_store(definition, observation, history),
        (plan, Some(primary), Some(path)) => {
            let base = file::verdict(
                definition,
                primary,
                path,
                observation.uid,
                observation.env_is_users_shell,
                now,
                warn_ms,
            );
            match plan {
                Some(plan) => {
                    let base = keyring::with_unreachable_route(definition, base, observation, path);
                    keyring::with_plaintext_flag(definition, base, plan, observation, Some(path))
                }
                None => base,
            }
        }
    };
    // The tool decides "logged in" from its record of the active account too (Gemini CLI):
    // that record naming none, it asks to sign in again whatever the store holds.
    if let Some((record, false)) = &observation.active_account {
        if verdict.state.is_usable() {
            let home = observation.home.as_deref();
            let store = path.clone().unwrap_or_else(|| "its store".into());
            verdict = Verdict::new(
                State::LoggedOut,
                format!(
                    "{} names no active account: {} asks to sign in again, though {store} still holds a login",
                    display_short(record, home),
                    definition.tool
                ),
                Some(definition.fix.clone()),
            );
        }
    }
    if let Some(helper) = &observation.default_helper {
        verdict = with_default_helper(verdict, helper, observation);
    }
    if let Some(probe) = &history.probe {
        verdict = overlay::probe(definition, verdict, probe);
    }
    if let Some(cached) = &history.cached_role {
        verdict = overlay::cached_role(verdict, cached, now, warn_ms);
    }
    if let Some(shadowed) = overlay::shadowed(
        definition,
        &observation.shadowed_by,
        verdict.state,
        &verdict.reason,
        now,
        warn_ms,
        history.probe.as_ref(),
    ) {
        verdict.state = shadowed.state;
        verdict.reason = shadowed.reason;
        verdict.fix = Some(shadowed.fix);
        if shadowed.expires_at.is_some() {
            verdict.expires_at = shadowed.expires_at;
            verdict.access_expires_at = None;
        }
        // What the tool uses does not change with the store's deadlines.
        verdict.next_change_at = shadowed.next_change_at;
    }
    if let Some(behind) = &history.behind {
        verdict = overlay::behind(verdict, behind);
    }
    if let Some(loss) = &history.loss {
        verdict = loss::apply(definition, verdict, loss);
    } else if let Some(overwrite) = &history.overwrite {
        verdict = loss::overwritten(definition, verdict, overwrite);
    }
    // Said of a usable login only; and the account in use has the state that counts.
    if !verdict.state.is_usable() {
        verdict.kept_until = None;
    }
    let mut active = verdict.accounts.iter_mut().filter(|a| a.active);
    if let (Some(account), None) = (active.next(), active.next()) {
        account.state = verdict.state;
        account.reason = verdict.reason.clone();
    }
    // Reasons quote file content, names and paths: nothing from outside reaches a terminal or
    // the prompt file with its control characters intact.
    crate::support::output::make_inert(&mut verdict.reason);
    if let Some(fix) = verdict.fix.as_mut() {
        crate::support::output::make_inert(fix);
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::file::FileMeta;
    use crate::store::{
        Content, FileFacts, FileObservation, FileStatus, LoginFacts, MarkerObservation,
        Observation, Presence,
    };
    use std::path::PathBuf;

    const DAY_MS: i64 = 86_400_000;
    const WARN: i64 = 3 * DAY_MS;

    fn claude() -> Definition {
        crate::define::config::preset("claude").unwrap().unwrap()
    }

    fn meta(mode: u32, persistent: bool) -> FileMeta {
        FileMeta {
            mode,
            uid: 1000,
            size: 10,
            fs: if persistent { "ext4" } else { "tmpfs" }.into(),
            persistent,
            lifetime: None,
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
            active_account: None,
            shadowed_by: vec![],
            uid: 1000,
            home: Some(PathBuf::from("/home/u")),
            keyring_plan: None,
            keyring: None,
            env_is_users_shell: true,
            default_helper: None,
        }
    }

    fn logged_in(deadline: Option<Timestamp>, refresh: Presence, meta: FileMeta) -> Observation {
        observed(FileStatus::Read(FileFacts {
            meta,
            content: Content::Parsed(Box::new(LoginFacts {
                entry_present: true,
                secret: Presence::Present,
                refresh,
                expires: Some(Ok(Timestamp::from_millis(500))),
                expires_in: None,
                refresh_expires: deadline.map(Ok),
                refresh_until: None,
                renewable_until: None,
                others: vec![],
                env: vec![],
                keyring_plan: None,
                names_a_store: true,
                exec_plugin: None,
                account: None,
                accounts: vec![],
            })),
        }))
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn next_change_walks_ok_expiring_expired() {
        let deadline = at(100 * DAY_MS);
        let obs = logged_in(Some(deadline), Presence::Present, meta(0o600, true));
        let ok = evaluate(&claude(), &obs, &History::default(), at(10 * DAY_MS), WARN);
        assert_eq!(ok.state, State::Ok);
        assert_eq!(
            ok.next_change_at,
            Some(at(97 * DAY_MS)),
            "the warning window opens"
        );
        let expiring = evaluate(&claude(), &obs, &History::default(), at(97 * DAY_MS), WARN);
        assert_eq!(expiring.state, State::Expiring);
        assert_eq!(expiring.next_change_at, Some(deadline));
        let expired = evaluate(&claude(), &obs, &History::default(), deadline, WARN);
        assert_eq!(expired.state, State::Expired);
        assert_eq!(expired.next_change_at, None);
        assert_eq!(expired.expires_at, Some(deadline));
    }

    #[test]
    fn without_refresh_token_the_access_expiry_is_the_deadline() {
        let obs = logged_in(Some(at(100 * DAY_MS)), Presence::Blank, meta(0o600, true));
        let verdict = evaluate(&claude(), &obs, &History::default(), at(1000), WARN);
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
        let verdict = evaluate(&claude(), &obs, &History::default(), at(0), WARN);
        assert_eq!(verdict.state, State::Unpersisted);
        assert_eq!(verdict.next_change_at, None);
        let expired = evaluate(&claude(), &obs, &History::default(), at(200 * DAY_MS), WARN);
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
        assert_eq!(
            evaluate(&claude(), &obs, &History::default(), at(0), WARN).state,
            State::Unknown
        );
    }

    #[test]
    fn open_mode_is_insecure_when_ok_and_a_note_when_expiring() {
        let obs = logged_in(Some(at(100 * DAY_MS)), Presence::Present, meta(0o640, true));
        let ok = evaluate(&claude(), &obs, &History::default(), at(0), WARN);
        assert_eq!(ok.state, State::Insecure);
        assert_eq!(
            ok.fix.as_deref(),
            Some("chmod 600 ~/.claude/.credentials.json")
        );
        assert_eq!(ok.next_change_at, Some(at(97 * DAY_MS)));
        let expiring = evaluate(&claude(), &obs, &History::default(), at(98 * DAY_MS), WARN);
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
        assert_eq!(
            evaluate(&claude(), &obs, &History::default(), at(0), WARN).state,
            State::Missing
        );
        obs.marker = Some(MarkerObservation {
            path: PathBuf::from("/home/u/.claude.json"),
            present: true,
        });
        let verdict = evaluate(&claude(), &obs, &History::default(), at(0), WARN);
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
            &History::default(),
            at(0),
            WARN,
        );
        assert_eq!(denied.state, State::Unknown);
        let failed = evaluate(
            &claude(),
            &observed(FileStatus::Failed("EIO".into())),
            &History::default(),
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
            evaluate(&claude(), &bad_expiry, &History::default(), at(0), WARN).state,
            State::Unknown
        );
    }

    #[test]
    fn per_credential_window_overrides_the_default() {
        let mut definition = claude();
        definition.warn_before_ms = Some(10 * DAY_MS);
        let obs = logged_in(Some(at(100 * DAY_MS)), Presence::Present, meta(0o600, true));
        let verdict = evaluate(
            &definition,
            &obs,
            &History::default(),
            at(91 * DAY_MS),
            WARN,
        );
        assert_eq!(verdict.state, State::Expiring);
    }
}
