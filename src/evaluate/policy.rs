//! The policies of a kind of store ([`Policies`]) applied to a verdict, written once for every
//! kind: a usable login on volatile storage is `unpersisted`; a usable login that others can read
//! is `insecure` (and a broken one says so too).

use super::Verdict;
use crate::define::state::State;
use crate::store::Policies;

/// Where a login is kept, as its kind of store reports it.
pub(super) struct Storage<'a> {
    /// What to call it in a reason: `~/.claude/.credentials.json`, `the token for octo`.
    pub place: &'a str,
    /// Where it lives: `on tmpfs`, `in the keyring's "session" collection`.
    pub medium: &'a str,
    pub persistent: bool,
    /// When a volatile store loses it: `the next reboot`, `logout`.
    pub lost_at: &'a str,
    /// What fixes a volatile store (the verdict's own fix is appended).
    pub keep_it: String,
    /// Owner and mode, for kinds that have them.
    pub access: Option<Access>,
}

#[derive(Clone, Copy)]
pub(super) struct Access {
    pub uid: u32,
    pub mode: u32,
    /// The user the check runs as.
    pub checker: u32,
}

/// Group- or world-accessible bits that make a credential file readable or writable by others.
const OTHERS_ACCESS: u32 = 0o066;

pub(super) fn apply(
    mut verdict: Verdict,
    storage: &Storage<'_>,
    policies: Policies,
    fix: &str,
) -> Verdict {
    if policies.volatile_is_lost && !storage.persistent && verdict.state.is_usable() {
        return Verdict {
            state: State::Unpersisted,
            reason: format!(
                "{} is {}, which lives in memory: the login is lost at {}; {}",
                storage.place, storage.medium, storage.lost_at, verdict.reason
            ),
            fix: Some(format!("{}, then: {fix}", storage.keep_it)),
            next_change_at: None,
            ..verdict
        };
    }
    let Some(access) = storage.access.filter(|_| policies.private) else {
        return verdict;
    };
    let mut exposure = Vec::new();
    // Root reading a user's files (sudo with HOME kept) is not a foreign owner to warn about.
    let foreign = access.uid != access.checker && access.checker != 0;
    if foreign {
        exposure.push(format!(
            "owned by uid {}, not by you (uid {})",
            access.uid, access.checker
        ));
    }
    if access.mode & OTHERS_ACCESS != 0 {
        exposure.push(format!("open to other users (mode {:04o})", access.mode));
    }
    if exposure.is_empty() {
        return verdict;
    }
    let exposure = exposure.join(" and ");
    let place = storage.place;
    let secure_fix = if foreign {
        format!("chown {} {place} && chmod 600 {place}", access.checker)
    } else {
        format!("chmod 600 {place}")
    };
    if verdict.state == State::Ok {
        verdict.state = State::Insecure;
        verdict.reason = format!("{place} is {exposure}; {}", verdict.reason);
        verdict.fix = Some(secure_fix);
    } else {
        verdict.reason = format!("{}; also, {place} is {exposure}", verdict.reason);
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

    fn ok() -> Verdict {
        Verdict::new(State::Ok, "logged in".into(), None)
    }

    fn storage(persistent: bool, access: Option<Access>) -> Storage<'static> {
        Storage {
            place: "~/.t",
            medium: "on tmpfs",
            persistent,
            lost_at: "the next reboot",
            keep_it: "keep ~/.t on persistent storage".into(),
            access,
        }
    }

    const PRIVATE: Policies = Policies {
        private: true,
        volatile_is_lost: true,
    };
    const PUBLIC_AND_DURABLE: Policies = Policies {
        private: false,
        volatile_is_lost: false,
    };

    #[test]
    fn volatile_storage_loses_a_usable_login_only_where_the_kind_says_so() {
        let lost = apply(ok(), &storage(false, None), PRIVATE, "t login");
        assert_eq!(lost.state, State::Unpersisted);
        assert_eq!(
            lost.fix.as_deref(),
            Some("keep ~/.t on persistent storage, then: t login")
        );
        let kept = apply(ok(), &storage(false, None), PUBLIC_AND_DURABLE, "t login");
        assert_eq!(
            kept.state,
            State::Ok,
            "a kind whose volatile store is normal"
        );
        let broken = Verdict::new(State::Expired, "expired".into(), None);
        assert_eq!(
            apply(broken, &storage(false, None), PRIVATE, "t").state,
            State::Expired
        );
    }

    #[test]
    fn open_modes_and_foreign_owners_matter_only_for_private_kinds() {
        let open = Some(Access {
            uid: 1000,
            mode: 0o644,
            checker: 1000,
        });
        let insecure = apply(ok(), &storage(true, open), PRIVATE, "t");
        assert_eq!(insecure.state, State::Insecure);
        assert_eq!(insecure.fix.as_deref(), Some("chmod 600 ~/.t"));
        let public = apply(ok(), &storage(true, open), PUBLIC_AND_DURABLE, "t");
        assert_eq!(
            public.state,
            State::Ok,
            "a public file (a certificate) at 0644"
        );
        let foreign = Some(Access {
            uid: 0,
            mode: 0o600,
            checker: 1000,
        });
        let owned = apply(ok(), &storage(true, foreign), PRIVATE, "t");
        assert_eq!(
            owned.fix.as_deref(),
            Some("chown 1000 ~/.t && chmod 600 ~/.t")
        );
        let by_root = Some(Access {
            uid: 1000,
            mode: 0o600,
            checker: 0,
        });
        assert_eq!(
            apply(ok(), &storage(true, by_root), PRIVATE, "t").state,
            State::Ok
        );
    }
}
