//! The deadline walk, written once for every kind of store: a login is `ok` until its warning
//! window opens, `expiring` until its deadline, `expired` after it; and the verdict says when
//! that changes by itself, so a watcher sleeps until then.

use super::Verdict;
use crate::define::state::State;
use crate::support::timefmt::{describe_span, Timestamp};

/// The verdict for a login whose deadline is `deadline`, at `now`, with a warning window of
/// `warn_ms`. `subject` names it in the reason ("login", "the login for github.com/octo");
/// `valid_note` starts the reason of a valid one (what renews it, where it is).
pub(super) fn walk(
    subject: &str,
    deadline: Timestamp,
    now: Timestamp,
    warn_ms: i64,
    fix: &str,
    valid_note: &str,
) -> Verdict {
    let mut verdict = if deadline <= now {
        Verdict::new(
            State::Expired,
            format!(
                "{subject} expired {} ago ({})",
                describe_span(now.millis() - deadline.millis()),
                deadline.human()
            ),
            Some(fix.to_string()),
        )
    } else if deadline.millis().saturating_sub(warn_ms) <= now.millis() {
        Verdict {
            next_change_at: Some(deadline),
            ..Verdict::new(
                State::Expiring,
                format!(
                    "{subject} expires in {} ({})",
                    describe_span(deadline.millis() - now.millis()),
                    deadline.human()
                ),
                Some(fix.to_string()),
            )
        }
    } else {
        Verdict {
            next_change_at: Some(deadline.saturating_add_millis(-warn_ms)),
            ..Verdict::new(
                State::Ok,
                format!(
                    "{valid_note}{subject} valid until {} (in {})",
                    deadline.human(),
                    describe_span(deadline.millis() - now.millis())
                ),
                None,
            )
        }
    };
    verdict.expires_at = Some(deadline);
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn ok_then_expiring_then_expired_each_saying_when_it_next_changes() {
        let deadline = at(100 * DAY);
        let walk = |now| walk("login", deadline, now, 3 * DAY, "tool login", "renews; ");
        let ok = walk(at(10 * DAY));
        assert_eq!(ok.state, State::Ok);
        assert_eq!(ok.next_change_at, Some(at(97 * DAY)));
        assert!(
            ok.reason.starts_with("renews; login valid until"),
            "{}",
            ok.reason
        );
        assert_eq!(ok.fix, None);
        let just_before = walk(at(97 * DAY - 1));
        assert_eq!(just_before.state, State::Ok);
        let expiring = walk(at(97 * DAY));
        assert_eq!(expiring.state, State::Expiring);
        assert_eq!(expiring.next_change_at, Some(deadline));
        assert!(expiring.reason.starts_with("login expires in 3 days"));
        assert_eq!(expiring.fix.as_deref(), Some("tool login"));
        let expired = walk(deadline);
        assert_eq!(expired.state, State::Expired);
        assert_eq!(expired.next_change_at, None);
        for verdict in [ok, expiring, expired] {
            assert_eq!(verdict.expires_at, Some(deadline));
        }
    }

    #[test]
    fn a_window_wider_than_the_time_left_is_expiring_at_once() {
        let verdict = walk("login", at(DAY), at(0), 3 * DAY, "fix", "");
        assert_eq!(verdict.state, State::Expiring);
        assert_eq!(verdict.next_change_at, Some(at(DAY)));
    }
}
