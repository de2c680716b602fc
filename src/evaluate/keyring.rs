//! Verdicts for logins kept in Secret Service items: whether the keyring can be asked at all
//! (no bus, no provider, locked), then each expected item (missing, locked, its deadline, the
//! in-memory collection), the worst of them counting; and the flag for a token kept in plain text
//! while a keyring works.

use super::deadline;
use super::policy::{self, Storage};
use super::{Account, Verdict};
use crate::define::config::{Definition, Keyring};
use crate::define::state::{Group, State};
use crate::store::keyring::{self, ItemLookup, KeyringPlan, Reach};
use crate::store::Observation;
use crate::support::paths::display_short;
use crate::support::timefmt::Timestamp;

/// No token in the file and no keyring item to look for: credwatch cannot tell where the login
/// is. (A service spelled from the file, `gh:{1}`, is named by what it stands for, never as the
/// template.)
pub(super) fn keyring_unchecked(definition: &Definition, keyring: &Keyring) -> Verdict {
    let item = match &keyring.spec.service {
        Some(service) if service.contains('{') => "one per account".to_string(),
        _ => keyring.describe(),
    };
    Verdict::new(
        State::Unknown,
        format!("no token is stored, and nothing says which account's keyring item to look for ({item})"),
        Some(definition.fix.clone()),
    )
}

/// The verdict from the keyring items a plan expects: the worst of theirs.
pub(super) fn verdict(
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
    let mut accounts = Vec::new();
    let active_items = seen
        .items
        .iter()
        .filter(|l| !plan.inactive.contains(&l.wanted.label))
        .count();
    for lookup in &seen.items {
        let active = !plan.inactive.contains(&lookup.wanted.label);
        let verdict = keyring_item(
            definition,
            lookup,
            listed_in.as_deref(),
            seen.items.len() == 1,
            now,
            warn_ms,
        );
        accounts.push(Account {
            name: lookup.wanted.label.clone(),
            active,
            state: verdict.state,
            reason: verdict.reason.clone(),
        });
        if !active {
            // An account not in use: listed, never what the state is.
            continue;
        }
        collections.extend(lookup.found.iter().map(|f| f.collection.as_str()));
        if worst
            .as_ref()
            .is_none_or(|w| severity(&verdict) > severity(w))
        {
            worst = Some(verdict);
        }
    }
    for name in &plan.plaintext {
        accounts.push(Account {
            name: name.clone(),
            active: !plan.inactive.contains(name),
            state: State::Ok,
            reason: "its token is in the file (plain text)".into(),
        });
    }
    collections.sort_unstable();
    collections.dedup();
    // Every keyring item is another account's: the one in use keeps its token in the file.
    let mut verdict = worst.unwrap_or_else(|| {
        Verdict::new(
            State::Ok,
            "the account in use keeps its token in the file".into(),
            None,
        )
    });
    if plan.tells_active && accounts.len() > 1 {
        accounts.sort_by_key(|a| !a.active);
        verdict.accounts = accounts;
    }
    if verdict.state.is_usable() && active_items > 0 {
        let count = active_items;
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
    single: bool,
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
    let subject = if single {
        "login".to_string()
    } else {
        format!("the login for {}", wanted.label)
    };
    let verdict = match (earliest, unreadable) {
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
        (Some(at), _) => deadline::walk(&subject, at, now, warn_ms, &definition.fix, ""),
    };
    let collection = &lookup.found[0].collection;
    policy::apply(
        verdict,
        &Storage {
            place: &format!("the token for {}", wanted.label),
            medium: &format!("in the keyring's \"{collection}\" collection"),
            persistent: lookup.found.iter().any(|f| f.persistent),
            lost_at: "logout",
            keep_it: "unlock the login keyring and log in again so the token is stored there"
                .into(),
            access: None,
        },
        keyring::POLICIES,
        &definition.fix,
    )
}

fn locked_collection(definition: &Definition, collection: &str) -> Verdict {
    Verdict::new(
        State::Unavailable,
        format!(
            "the keyring collection \"{collection}\" is locked: {} cannot read its token until it is unlocked",
            definition.tool
        ),
        Some(
            "unlock it: log in to the desktop session, or run `credwatch unlock` (it asks for the keyring password; no desktop needed)"
                .into(),
        ),
    )
}

/// How to log in without the keyring: the definition's `keyring.without`, else its fix.
fn without_keyring(definition: &Definition) -> &str {
    definition
        .keyring
        .as_ref()
        .and_then(|k| k.spec.without.as_deref())
        .unwrap_or(&definition.fix)
}

const TOKEN_IN_KEYRING: &str = "the token is kept in the keyring, but ";

/// Why the keyring cannot be asked, as a verdict; `None` when it can.
fn unreachable_keyring(definition: &Definition, reach: &Reach) -> Option<Verdict> {
    let (state, reason, fix) = match reach {
        Reach::Reachable { .. } => return None,
        Reach::Locked { collection } => return Some(locked_collection(definition, collection)),
        Reach::NoBus { detail } => (
            State::Unavailable,
            format!(
                "{TOKEN_IN_KEYRING}there is no D-Bus session bus ({detail}): the keyring cannot be reached, as usual in an SSH session"
            ),
            format!(
                "run it from the desktop session, or give this shell a session bus and keyring: `exec dbus-run-session -- $SHELL`, then `gnome-keyring-daemon --unlock --components=secrets` (type the keyring password, then Ctrl-D); or log in again without the keyring: {}",
                without_keyring(definition)
            ),
        ),
        Reach::BusFailed { address, error } => (
            State::Unavailable,
            format!("cannot connect to the D-Bus session bus at {address}: {error}"),
            "DBUS_SESSION_BUS_ADDRESS may be left over from another session: unset it, or start a new login session".into(),
        ),
        Reach::NoProvider => (
            State::Unavailable,
            format!("{TOKEN_IN_KEYRING}the session bus has no Secret Service (nothing provides org.freedesktop.secrets: no keyring is installed or running here), so it cannot be read"),
            format!(
                "log in again without the keyring: {}; or, to keep logins in a keyring, install and start one: `gnome-keyring-daemon --start --components=secrets` (package gnome-keyring), or KeePassXC's Secret Service integration",
                without_keyring(definition)
            ),
        ),
        Reach::NotRunning => (
            State::Unknown,
            "the keyring (Secret Service) is not running now; the session bus starts it when a tool asks for it (credwatch never starts it: it waits)".into(),
            "use the tool once (the bus then starts the keyring), or start it: gnome-keyring-daemon --start --components=secrets; then credwatch status".into(),
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
/// A file that sends new logins to the keyring (docker's `credsStore`) but holds none: when
/// the keyring cannot be reached, that is why a login cannot be saved, and the verdict says so.
pub(super) fn with_unreachable_route(
    definition: &Definition,
    mut verdict: Verdict,
    observation: &Observation,
    path: &str,
) -> Verdict {
    // Only a file that says so (a `when` condition held): gh, say, falls back to the file.
    let routes = definition
        .keyring
        .as_ref()
        .is_some_and(|k| k.when.is_some());
    if !routes || verdict.state.is_usable() {
        return verdict;
    }
    let Some(cause) = observation
        .keyring
        .as_ref()
        .and_then(|k| unreachable_keyring(definition, &k.reach))
        .filter(|cause| cause.state == State::Unavailable)
    else {
        return verdict;
    };
    let why = cause
        .reason
        .strip_prefix(TOKEN_IN_KEYRING)
        .unwrap_or(&cause.reason);
    verdict.reason = format!(
        "{}; {path} sends new logins to the keyring, which cannot take one here: {why}",
        verdict.reason
    );
    verdict.fix = cause.fix;
    verdict
}

pub(super) fn with_plaintext_flag(
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

#[cfg(test)]
mod tests {
    use super::super::{evaluate, History, Verdict};
    use crate::define::config::{parse, Definition, Source};
    use crate::define::state::State;
    use crate::store::keyring::{
        plan, FoundItem, ItemLookup, KeyringObservation, KeyringPlan, Reach,
    };
    use crate::store::Observation;
    use crate::support::timefmt::Timestamp;
    use std::path::PathBuf;

    const DAY: i64 = 86_400_000;
    const WARN: i64 = 3 * DAY;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    /// A login kept only in the keyring, with its deadline inside the secret (as git's libsecret
    /// helper keeps OAuth logins).
    fn keyring_login() -> Definition {
        let text = r#"
[[credential]]
name = "k"
tool = "K"
keyring = { service = "svc", account = "me", expires = "key:password_expiry_utc" }
fix = "k login"
"#;
        let source = Source {
            label: "test".into(),
            text,
        };
        parse(&source).unwrap().definitions.remove(0)
    }

    fn item(
        collection: &str,
        locked: bool,
        expires: Option<Result<Timestamp, String>>,
    ) -> FoundItem {
        FoundItem {
            path: format!("/org/freedesktop/secrets/collection/{collection}/1"),
            collection: collection.into(),
            persistent: collection != "session",
            locked,
            modified: None,
            expires,
        }
    }

    fn observed(definition: &Definition, reach: Reach, found: Vec<FoundItem>) -> Observation {
        let plan: KeyringPlan = plan(definition.keyring.as_ref().unwrap(), None).unwrap();
        let items = match reach {
            Reach::Reachable { .. } => vec![ItemLookup {
                wanted: plan.items[0].clone(),
                found,
            }],
            _ => vec![],
        };
        Observation {
            files: vec![],
            primary: None,
            unresolved: vec![],
            marker: None,
            active_account: None,
            shadowed_by: vec![],
            uid: 1000,
            home: Some(PathBuf::from("/home/u")),
            keyring_plan: Some(plan),
            keyring: Some(KeyringObservation { reach, items }),
            env_is_users_shell: true,
            default_helper: None,
        }
    }

    fn reachable() -> Reach {
        Reach::Reachable {
            default_collection: "login".into(),
        }
    }

    fn judge(observation: &Observation, now: Timestamp) -> Verdict {
        evaluate(
            &keyring_login(),
            observation,
            &History::default(),
            now,
            WARN,
        )
    }

    #[test]
    fn a_keyring_held_login_walks_ok_expiring_expired_like_a_file() {
        let deadline = at(100 * DAY);
        let definition = keyring_login();
        let obs = observed(
            &definition,
            reachable(),
            vec![item("login", false, Some(Ok(deadline)))],
        );
        let ok = judge(&obs, at(10 * DAY));
        assert_eq!(ok.state, State::Ok);
        assert_eq!(ok.next_change_at, Some(at(97 * DAY)));
        assert!(
            ok.reason
                .starts_with("the token is in the keyring (collection login); login valid until"),
            "{}",
            ok.reason
        );
        let expiring = judge(&obs, at(98 * DAY));
        assert_eq!(expiring.state, State::Expiring);
        assert_eq!(expiring.next_change_at, Some(deadline));
        let expired = judge(&obs, deadline);
        assert_eq!(expired.state, State::Expired);
        assert_eq!(expired.fix.as_deref(), Some("k login"));
        assert_eq!(expired.expires_at, Some(deadline));
    }

    #[test]
    fn a_keyring_that_cannot_be_asked_is_undetermined_never_missing() {
        let definition = keyring_login();
        let no_bus = judge(
            &observed(
                &definition,
                Reach::NoBus {
                    detail: "DBUS_SESSION_BUS_ADDRESS is not set".into(),
                },
                vec![],
            ),
            at(0),
        );
        assert_eq!(no_bus.state, State::Unavailable);
        assert!(no_bus.fix.unwrap().contains("dbus-run-session"));
        let locked = judge(
            &observed(
                &definition,
                Reach::Locked {
                    collection: "login".into(),
                },
                vec![],
            ),
            at(0),
        );
        assert_eq!(locked.state, State::Unavailable);
        let timed_out = judge(
            &observed(&definition, Reach::TimedOut { step: "search" }, vec![]),
            at(0),
        );
        assert_eq!(timed_out.state, State::Unknown);
        let mut not_asked = observed(&definition, reachable(), vec![]);
        not_asked.keyring = None;
        assert_eq!(judge(&not_asked, at(0)).state, State::Unknown);
    }

    #[test]
    fn an_item_missing_locked_in_memory_or_unreadable() {
        let definition = keyring_login();
        let missing = judge(&observed(&definition, reachable(), vec![]), at(0));
        assert_eq!(missing.state, State::Missing);
        let locked = judge(
            &observed(&definition, reachable(), vec![item("login", true, None)]),
            at(0),
        );
        assert_eq!(locked.state, State::Unavailable);
        let in_memory = judge(
            &observed(
                &definition,
                reachable(),
                vec![item("session", false, Some(Ok(at(100 * DAY))))],
            ),
            at(0),
        );
        assert_eq!(in_memory.state, State::Unpersisted);
        assert!(
            in_memory.reason.contains("lost at logout"),
            "{}",
            in_memory.reason
        );
        let expired_in_memory = judge(
            &observed(
                &definition,
                reachable(),
                vec![item("session", false, Some(Ok(at(1))))],
            ),
            at(DAY),
        );
        assert_eq!(
            expired_in_memory.state,
            State::Expired,
            "volatile storage never hides a worse state"
        );
        let unreadable = judge(
            &observed(
                &definition,
                reachable(),
                vec![item("login", false, Some(Err("is not a date".into())))],
            ),
            at(0),
        );
        assert_eq!(unreadable.state, State::Unknown);
        let no_deadline = judge(
            &observed(&definition, reachable(), vec![item("login", false, None)]),
            at(0),
        );
        assert_eq!(no_deadline.state, State::Ok);
        assert_eq!(no_deadline.next_change_at, None);
    }
}
