//! Lead times before one credential's deadline: which have been reached and said, and when the
//! next one is due.
//!
//! Guarantees: each lead time is said at most once per deadline; a deadline first seen already
//! inside some lead times (a fresh 8-hour login, a ticket just renewed) does not say those at
//! once — only the lead times still ahead are said when they come; a renewed login (a new
//! deadline) starts over; nothing is due once the deadline has passed.

use crate::support::timefmt::Timestamp;

/// The deadline being followed and the shortest lead time already reached for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Leads {
    deadline: Option<Timestamp>,
    /// Lead times at or above this are reached (said, or passed before the deadline was seen).
    reached_below: i64,
}

impl Leads {
    /// A check saw `deadline` (or none) at `now`: a new deadline starts over, counting the lead
    /// times it is already inside as reached.
    pub fn saw(&mut self, deadline: Option<Timestamp>, now: Timestamp, leads: &[i64]) {
        if deadline == self.deadline {
            return;
        }
        self.deadline = deadline;
        self.reached_below = deadline
            .and_then(|d| leads.iter().copied().filter(|l| reached(d, *l, now)).min())
            .unwrap_or(i64::MAX);
    }

    /// The lead time reached by `now` and not said yet (the shortest, when several are), which
    /// is now said.
    pub fn reach(&mut self, now: Timestamp, leads: &[i64]) -> Option<(Timestamp, i64)> {
        let deadline = self.deadline?;
        if deadline <= now {
            // Past it (a suspended machine wakes late): nothing is ahead any more.
            self.reached_below = 0;
            return None;
        }
        let lead = leads
            .iter()
            .copied()
            .filter(|l| *l < self.reached_below && reached(deadline, *l, now))
            .min()?;
        self.reached_below = lead;
        Some((deadline, lead))
    }

    /// When the next lead time is reached, if one is still ahead.
    pub fn due(&self, leads: &[i64]) -> Option<Timestamp> {
        let deadline = self.deadline?;
        leads
            .iter()
            .copied()
            .filter(|l| *l < self.reached_below)
            .max()
            .map(|lead| deadline.saturating_add_millis(-lead))
    }
}

fn reached(deadline: Timestamp, lead: i64, now: Timestamp) -> bool {
    deadline.saturating_add_millis(-lead) <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    const LEADS: [i64; 2] = [DAY, HOUR];

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn each_lead_is_said_once_when_it_comes() {
        let mut leads = Leads::default();
        let deadline = at(30 * DAY);
        leads.saw(Some(deadline), at(0), &LEADS);
        assert_eq!(leads.due(&LEADS), Some(at(29 * DAY)));
        assert_eq!(leads.reach(at(29 * DAY - 1), &LEADS), None);
        assert_eq!(leads.reach(at(29 * DAY), &LEADS), Some((deadline, DAY)));
        assert_eq!(leads.reach(at(29 * DAY + 5), &LEADS), None, "said once");
        assert_eq!(leads.due(&LEADS), Some(at(30 * DAY - HOUR)));
        leads.saw(Some(deadline), at(29 * DAY + 9), &LEADS);
        assert_eq!(
            leads.reach(at(30 * DAY - HOUR), &LEADS),
            Some((deadline, HOUR))
        );
        assert_eq!(leads.due(&LEADS), None);
    }

    #[test]
    fn a_deadline_first_seen_inside_a_lead_says_only_what_is_ahead() {
        let mut leads = Leads::default();
        let deadline = at(8 * HOUR);
        leads.saw(Some(deadline), at(0), &LEADS);
        assert_eq!(
            leads.reach(at(0), &LEADS),
            None,
            "not 'ends in 1 day' for an 8-hour login"
        );
        assert_eq!(leads.due(&LEADS), Some(at(7 * HOUR)));
        assert_eq!(leads.reach(at(7 * HOUR), &LEADS), Some((deadline, HOUR)));
        // Renewed: a new deadline starts over.
        leads.saw(Some(at(40 * HOUR)), at(7 * HOUR + 1), &LEADS);
        assert_eq!(leads.due(&LEADS), Some(at(16 * HOUR)));
        leads.saw(None, at(8 * HOUR), &LEADS);
        assert_eq!(leads.due(&LEADS), None);
    }

    #[test]
    fn a_deadline_passed_unseen_leaves_nothing_due() {
        let mut leads = Leads::default();
        leads.saw(Some(at(30 * DAY)), at(0), &LEADS);
        // The machine slept through both lead times and the deadline.
        assert_eq!(leads.reach(at(31 * DAY), &LEADS), None);
        assert_eq!(leads.due(&LEADS), None, "no timer left in the past");
    }
}
