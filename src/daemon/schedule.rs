//! The one schedule: when each tracked credential needs the daemon by itself ([`Due`]), from
//! which the timer's next wake-up, the published state's validity and the work due at a wake-up
//! are all read.
//!
//! Guarantees: with nothing due, the daemon sleeps until its heartbeat; a post-write re-check, a
//! probe, a poll or a retry of watches never shortens the published validity (each may find a change, published
//! when found), only a moment where a state changes by itself does.

use super::tracked::Tracked;
use super::{Daemon, HEARTBEAT_MS, VALIDITY_CAP_MS};
use crate::support::timefmt::Timestamp;

/// When one tracked credential needs the daemon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Due {
    /// Its state changes by itself: a warning window opens, a deadline passes.
    pub state_change: Option<Timestamp>,
    /// A post-write re-check that the login stayed.
    pub recheck: Option<Timestamp>,
    /// Its kind of store must be looked at again (nothing tells when it changes).
    pub poll: Option<Timestamp>,
    /// A live probe is due.
    pub probe: Option<Timestamp>,
    /// A new state will have held long enough to be recorded.
    pub settle: Option<Timestamp>,
}

impl Due {
    /// The earliest moment anything is due.
    pub fn next(&self) -> Option<Timestamp> {
        [
            self.state_change,
            self.recheck,
            self.poll,
            self.probe,
            self.settle,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether the credential must be observed and evaluated again at `now`.
    pub fn refresh_at(&self, now: Timestamp) -> bool {
        [self.state_change, self.recheck, self.poll]
            .into_iter()
            .flatten()
            .any(|at| at <= now)
    }
}

impl Tracked {
    pub(super) fn due(&self) -> Due {
        Due {
            state_change: self.checked.as_ref().and_then(|c| c.verdict.next_change_at),
            recheck: self.recheck_at,
            poll: self.poll_every().map(|every| {
                self.polled_at
                    .map_or_else(Timestamp::now, |at| at.saturating_add_millis(every))
            }),
            probe: self.probe.pending_due(),
            settle: self.settling.due(),
        }
    }
}

impl Daemon {
    /// Until when the published state holds with nothing happening: the next moment a state
    /// changes by itself, and never past the heartbeat's cap (a frozen daemon's state expires).
    pub(super) fn next_state_change(&self) -> Option<Timestamp> {
        let cap = self.heartbeat_at.saturating_add_millis(VALIDITY_CAP_MS);
        self.entries
            .iter()
            .filter_map(|e| e.due().state_change)
            .chain(self.next_long_command_warning())
            .chain([cap])
            .min()
    }

    /// When the warning before a `[long_commands]` command begins next (a login it uses is then
    /// nearer its deadline than the command needs): the prompt file changes then.
    fn next_long_command_warning(&self) -> Option<Timestamp> {
        if self.config.long_commands.is_empty() {
            return None;
        }
        crate::publish::prompt::next_long_command_warning(
            &self.config.long_commands,
            &self.prompt_items(),
            Timestamp::now(),
        )
    }

    /// Each published report as the prompt file takes it.
    pub(super) fn prompt_items(&self) -> Vec<crate::publish::prompt::PromptItem<'_>> {
        self.entries
            .iter()
            .filter_map(|e| {
                let (report, _) = e.report.as_ref()?;
                Some(crate::publish::prompt::PromptItem::of(
                    report,
                    &e.candidate.definition,
                ))
            })
            .collect()
    }

    /// When the timer must wake the daemon next: what is due, the retry of watches that could
    /// not be set, the heartbeat.
    pub(super) fn next_wake(&self) -> Option<Timestamp> {
        let leads = &self.config.alerts.lead_times_ms;
        self.entries
            .iter()
            .filter_map(|e| e.due().next())
            .chain(self.entries.iter().filter_map(|e| e.leads.due(leads)))
            .chain(self.quiet.next_release())
            .chain(self.contexts.next_wake())
            .chain(self.next_long_command_warning())
            .chain(self.watching.retry_at)
            .chain(self.runtime_retry_at)
            .chain([self.heartbeat_at.saturating_add_millis(HEARTBEAT_MS)])
            .min()
    }

    /// The timer fired: refresh what is due, start the probes that are due, retry watches,
    /// beat.
    pub(super) fn on_timer(&mut self) {
        let now = Timestamp::now();
        if self.heartbeat_at.saturating_add_millis(HEARTBEAT_MS) <= now {
            self.heartbeat_at = now;
            self.drop_gone_shells();
        }
        if self.runtime_retry_at.is_some_and(|at| at <= now) {
            self.runtime_retry_at = None;
            self.runtime_dir_changed();
        }
        if self.watching.retry_at.is_some_and(|at| at <= now) {
            self.retry_watches(now);
        }
        let due: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].due().refresh_at(now))
            .collect();
        for i in due {
            self.entries[i].recheck_at = None;
            // Here, not off the loop: the published state's validity ends now, and a prompt
            // must not find it expired while a large store is read.
            self.refresh_entry(i, now);
        }
        if self.contexts.next_wake().is_some_and(|at| at <= now) {
            self.contexts.stale = true;
        }
        self.record_settled(now);
        self.fire_leads(now);
        self.release_held(now);
        self.start_due_probes(now);
        self.after_refresh();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn the_next_wake_is_the_earliest_of_everything_due_and_a_probe_alone_refreshes_nothing() {
        let due = Due {
            state_change: Some(at(500)),
            recheck: Some(at(300)),
            poll: None,
            probe: Some(at(100)),
            settle: None,
        };
        assert_eq!(due.next(), Some(at(100)));
        assert!(!due.refresh_at(at(200)), "only the probe is due");
        assert!(due.refresh_at(at(300)), "the re-check");
        assert_eq!(Due::default().next(), None, "nothing due: no timer");
        let polled = Due {
            poll: Some(at(1_000)),
            ..Due::default()
        };
        assert!(!polled.refresh_at(at(999)) && polled.refresh_at(at(1_000)));
    }
}
