//! A login that was written and then lost within the grace delay did not persist: the daemon sees
//! the write and the loss as events; this says whether they make a loss, and what the verdict
//! becomes, for as long as the login stays lost.

use super::Verdict;
use crate::define::config::Definition;
use crate::define::state::State;
use crate::support::timefmt::{describe_span, Timestamp};

/// A login written at `written_at` and found lost at `lost_at`; `blanked`: the store was still
/// there, emptied (else it was gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    pub written_at: Timestamp,
    pub lost_at: Timestamp,
    pub blanked: bool,
}

/// The loss after a check: none while the store holds a login; the one already found while it
/// stays lost; a new one when the store lost the login within `grace_ms` of the last write.
pub fn detect(
    known: Option<Loss>,
    holds_login: bool,
    present: bool,
    last_write: Option<Timestamp>,
    now: Timestamp,
    grace_ms: i64,
) -> Option<Loss> {
    if holds_login {
        return None;
    }
    known.or_else(|| {
        let written_at = last_write.filter(|w| now.millis() - w.millis() <= grace_ms)?;
        Some(Loss {
            written_at,
            lost_at: now,
            blanked: present,
        })
    })
}

/// The verdict while the login stays lost: `logged-out` (blanked) or `unpersisted` (gone), with
/// both times, and no deadline (nothing changes by itself).
pub(super) fn apply(definition: &Definition, mut verdict: Verdict, loss: &Loss) -> Verdict {
    let after = describe_span(loss.lost_at.millis() - loss.written_at.millis());
    if loss.blanked {
        verdict.state = State::LoggedOut;
        verdict.reason = format!(
            "logged out: a login was written at {} and blanked {after} later ({}); {}",
            loss.written_at.human(),
            loss.lost_at.human(),
            verdict.reason
        );
    } else {
        verdict.state = State::Unpersisted;
        verdict.reason = format!(
            "a login was written at {} and was gone {after} later ({}): the login did not persist",
            loss.written_at.human(),
            loss.lost_at.human()
        );
    }
    verdict.fix = Some(format!(
        "{}; if it is lost again, `credwatch journal {}` shows what happened",
        definition.fix, definition.name
    ));
    verdict.next_change_at = None;
    verdict
}

/// A working login overwritten by a logged-out copy (the store still there, its tokens gone)
/// while no logout of the tool's ran, and how many of the tool's processes of this user were
/// running then: several share one refresh token, which rotates on use, and the one that loses
/// a refresh writes the store back logged out (a refresh race).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    pub at: Timestamp,
    pub processes: usize,
}

/// The verdict while the login stays overwritten: what happened first, then the state's own
/// reason; with several processes, the fix says to log in once with the others closed.
pub(super) fn overwritten(
    definition: &Definition,
    mut verdict: Verdict,
    overwrite: &Overwrite,
) -> Verdict {
    // With none of the tool's processes running, nothing says more than the state does (a
    // logout by hand, a copy from elsewhere).
    if verdict.state.is_usable() || overwrite.processes == 0 {
        return verdict;
    }
    let tool = &definition.tool;
    let at = overwrite.at.human();
    let what = match overwrite.processes {
        1 => format!(
            "overwritten by a logged-out copy at {at}, while 1 {tool} process was running (its refresh failed, or another program used its refresh token)"
        ),
        n => format!(
            "overwritten by a logged-out copy at {at}, while {n} {tool} processes were running (a refresh race: they share one refresh token, which changes each time one of them renews the login)"
        ),
    };
    verdict.reason = format!("{what}; {}", verdict.reason);
    if overwrite.processes > 1 {
        let fix = verdict.fix.take().unwrap_or_else(|| definition.fix.clone());
        verdict.fix = Some(format!(
            "{fix}, once, with the other {tool} sessions closed"
        ));
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn a_login_lost_within_the_grace_delay_is_a_loss_until_one_is_there_again() {
        let wrote = Some(at(1_000));
        let lost = detect(None, false, false, wrote, at(2_500), 2_000).expect("a loss");
        assert_eq!(
            lost,
            Loss {
                written_at: at(1_000),
                lost_at: at(2_500),
                blanked: false
            }
        );
        // Still lost later, past the grace delay: the same loss, with its times.
        assert_eq!(
            detect(Some(lost), false, false, wrote, at(60_000), 2_000),
            Some(lost)
        );
        // A login again: no loss.
        assert_eq!(
            detect(Some(lost), true, true, wrote, at(70_000), 2_000),
            None
        );
    }

    #[test]
    fn an_overwrite_says_how_many_sessions_ran_and_only_when_some_did() {
        let definition = crate::define::config::preset("claude").unwrap().unwrap();
        let blank = Verdict {
            fix: Some("claude /login".into()),
            ..Verdict::new(State::LoggedOut, "accessToken is empty".into(), None)
        };
        let race = overwritten(
            &definition,
            blank.clone(),
            &Overwrite {
                at: at(0),
                processes: 12,
            },
        );
        assert!(race.reason.contains(
            ", while 12 Claude Code processes were running (a refresh race: they share one refresh token"
        ), "{}", race.reason);
        assert!(
            race.reason.ends_with("; accessToken is empty"),
            "{}",
            race.reason
        );
        assert_eq!(
            race.fix.as_deref(),
            Some("claude /login, once, with the other Claude Code sessions closed")
        );
        let one = overwritten(
            &definition,
            blank.clone(),
            &Overwrite {
                at: at(0),
                processes: 1,
            },
        );
        assert!(one
            .reason
            .contains("while 1 Claude Code process was running (its refresh failed"));
        assert_eq!(one.fix.as_deref(), Some("claude /login"));
        // No session ran: nothing more to say; a usable login: nothing at all.
        assert_eq!(
            overwritten(
                &definition,
                blank.clone(),
                &Overwrite {
                    at: at(0),
                    processes: 0
                }
            ),
            blank
        );
        let ok = Verdict::new(State::Ok, "logged in".into(), None);
        assert_eq!(
            overwritten(
                &definition,
                ok.clone(),
                &Overwrite {
                    at: at(0),
                    processes: 5
                }
            ),
            ok
        );
    }

    #[test]
    fn a_loss_needs_a_recent_write() {
        assert_eq!(
            detect(None, false, true, Some(at(0)), at(5_000), 2_000),
            None
        );
        assert_eq!(detect(None, false, true, None, at(5_000), 2_000), None);
        let blanked = detect(None, false, true, Some(at(0)), at(1_000), 2_000).unwrap();
        assert!(blanked.blanked, "the store was still there: blanked");
    }

    #[test]
    fn a_lost_login_is_logged_out_or_unpersisted_with_both_times_and_no_deadline() {
        let definition = crate::define::config::preset("claude").unwrap().unwrap();
        let ok = Verdict {
            next_change_at: Some(at(9_000_000)),
            ..Verdict::new(State::Missing, "no credential".into(), None)
        };
        let gone = Loss {
            written_at: at(0),
            lost_at: at(1_500),
            blanked: false,
        };
        let verdict = apply(&definition, ok.clone(), &gone);
        assert_eq!(verdict.state, State::Unpersisted);
        assert!(
            verdict.reason.contains("was gone 1 s later"),
            "{}",
            verdict.reason
        );
        assert_eq!(verdict.next_change_at, None);
        assert!(verdict
            .fix
            .as_deref()
            .unwrap()
            .ends_with("`credwatch journal claude` shows what happened"));
        let blanked = apply(
            &definition,
            ok,
            &Loss {
                blanked: true,
                ..gone
            },
        );
        assert_eq!(blanked.state, State::LoggedOut);
        assert!(
            blanked.reason.ends_with("; no credential"),
            "{}",
            blanked.reason
        );
    }
}
