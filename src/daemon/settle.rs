//! Settled transitions. Real clients write in steps: gh creates `hosts.yml` empty and then fills
//! it, npm creates `.npmrc` readable by all and then makes it private, a keyring login passes
//! through a moment where the item is not there yet. The published state follows every step (a
//! prompt must be current), but a transition is recorded (in the journal, and as the event that
//! notifications and hooks build on) only once the new state has held for [`SETTLE_MS`]: a
//! passing step records nothing, and what is recorded is where the credential ended up.

use crate::define::state::State;
use crate::support::timefmt::Timestamp;

/// How long a new state must hold before its transition is recorded. Measured with the real
/// clients (inotify with per-read timestamps, 5 runs each, 2026-11-29; see BENCHMARKS.md), the
/// longest gap between a client's first visible step and its final state: gh 2.23 login 0.21 ms
/// (truncates, then writes), npm 11.19 `config set` on a new `.npmrc` 18.7 ms (created 0644,
/// then chmod 600), kubectl 3.1 ms, AWS SSO refresh 5.5 ms, and an `aws configure set` script
/// that sets the key id, the secret and the session token in three commands 1.59 s (a profile
/// with a key and no secret meanwhile). Two seconds is above all of them, and still records a
/// broken login within seconds: the daemon's post-write re-check waits as long.
pub(super) const SETTLE_MS: i64 = 2_000;

/// A transition that held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settled {
    /// The state recorded before (`None`: the first one recorded).
    pub from: Option<State>,
    pub to: State,
    /// When the new state began.
    pub at: Timestamp,
    pub reason: String,
}

/// One credential's recorded state, and a different one seen since that has not held yet.
#[derive(Debug, Clone, Default)]
pub(super) struct Settling {
    recorded: Option<State>,
    pending: Option<(State, Timestamp, String)>,
}

impl Settling {
    /// A check saw `state` at `now`: a return to the recorded state drops what was pending; a
    /// new state starts pending (a pending one that is seen again keeps its start).
    pub fn saw(&mut self, state: State, reason: &str, now: Timestamp) {
        if self.recorded == Some(state) {
            self.pending = None;
            return;
        }
        if self
            .pending
            .as_ref()
            .is_none_or(|(pending, _, _)| *pending != state)
        {
            self.pending = Some((state, now, reason.to_string()));
        }
    }

    /// When the pending transition settles, if one is pending.
    pub fn due(&self) -> Option<Timestamp> {
        self.pending
            .as_ref()
            .map(|(_, since, _)| since.saturating_add_millis(SETTLE_MS))
    }

    /// The pending transition, held or not: recorded (the daemon stops, and a state it
    /// published must not be lost from the journal because it had not held yet).
    pub fn settle_at_stop(&mut self) -> Option<Settled> {
        self.record_pending()
    }

    /// The pending transition, once it has held until `now`: recorded.
    pub fn settle(&mut self, now: Timestamp) -> Option<Settled> {
        if self.due().is_none_or(|due| due > now) {
            return None;
        }
        self.record_pending()
    }

    fn record_pending(&mut self) -> Option<Settled> {
        let (to, at, reason) = self.pending.take()?;
        let from = self.recorded.replace(to);
        Some(Settled {
            from,
            to,
            at,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_transition_is_recorded_when_the_daemon_stops() {
        let mut settling = Settling::default();
        settling.saw(State::Ok, "logged in", at(0));
        settling.settle(at(SETTLE_MS));
        settling.saw(State::LoggedOut, "empty", at(10_000));
        let stopped = settling.settle_at_stop().unwrap();
        assert_eq!(
            (stopped.from, stopped.to, stopped.at),
            (Some(State::Ok), State::LoggedOut, at(10_000))
        );
        assert_eq!(settling.settle_at_stop(), None, "recorded once");
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn a_state_that_holds_is_recorded_from_when_it_began() {
        let mut settling = Settling::default();
        settling.saw(State::Ok, "logged in", at(0));
        assert_eq!(settling.settle(at(SETTLE_MS - 1)), None, "not yet");
        let first = settling.settle(at(SETTLE_MS)).unwrap();
        assert_eq!((first.from, first.to, first.at), (None, State::Ok, at(0)));
        settling.saw(State::Ok, "logged in", at(5_000));
        assert_eq!(settling.due(), None, "nothing changed");
    }

    #[test]
    fn a_step_that_passes_records_nothing_and_the_end_state_is_what_counts() {
        let mut settling = Settling::default();
        settling.saw(State::Ok, "logged in", at(0));
        settling.settle(at(SETTLE_MS));
        // gh creates hosts.yml empty, then fills it 20 ms later.
        settling.saw(State::LoggedOut, "empty", at(10_000));
        settling.saw(State::Ok, "logged in", at(10_020));
        assert_eq!(settling.due(), None, "back where it was: nothing to record");
        // A client that passes through one state on its way to another.
        settling.saw(State::Insecure, "0644", at(20_000));
        settling.saw(State::Expired, "expired", at(20_010));
        settling.saw(State::Expired, "expired", at(20_500));
        let settled = settling.settle(at(20_010 + SETTLE_MS)).unwrap();
        assert_eq!(
            (settled.from, settled.to, settled.at),
            (Some(State::Ok), State::Expired, at(20_010)),
            "the end state, from when it began"
        );
    }
}
