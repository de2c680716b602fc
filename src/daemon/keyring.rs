//! The daemon's side of keyring watching: lookups run as tasks (never on the event loop), their
//! results come back by channel, and signals, provider changes and the `Modified` poll trigger new
//! lookups.
//!
//! Guarantees: at most one lookup per credential at a time (a request during one is remembered and
//! run after it); the D-Bus watcher starts only once a credential needs the keyring; the poll runs
//! only while there are items to poll and a bus to poll them on; item appearances, removals and
//! replacements are journaled like file events.

use super::Daemon;
use crate::engine::journal;
use crate::store::keyring::signals::{watch, KeyringEvent};
use crate::store::keyring::{KeyringObservation, KeyringPlan, Reach};
use crate::support::timefmt::Timestamp;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// A finished lookup.
pub(super) struct LookedAt {
    name: String,
    plan: KeyringPlan,
    seen: KeyringObservation,
}

pub(super) type Receivers = (UnboundedReceiver<KeyringEvent>, UnboundedReceiver<LookedAt>);

pub(super) struct KeyringLink {
    events: UnboundedSender<KeyringEvent>,
    results: UnboundedSender<LookedAt>,
    receivers: Option<Receivers>,
    watching: bool,
    connection: Option<zbus::Connection>,
    polling: bool,
}

impl KeyringLink {
    pub(super) fn new() -> Self {
        let (events, events_rx) = unbounded_channel();
        let (results, results_rx) = unbounded_channel();
        KeyringLink {
            events,
            results,
            receivers: Some((events_rx, results_rx)),
            watching: false,
            connection: None,
            polling: false,
        }
    }

    /// The receiving ends, for the event loop (taken once).
    pub(super) fn take_receivers(&mut self) -> Receivers {
        self.receivers.take().expect("the receivers are taken once")
    }

    /// Whether the `Modified` poll has anything to do.
    pub(super) fn polling(&self) -> bool {
        self.polling
    }
}

impl Daemon {
    /// Starts a lookup for entry `index` when what the daemon knows does not answer its plan.
    pub(super) fn look_at_keyring_if_stale(&mut self, index: usize) {
        let entry = &self.entries[index];
        let Some(plan) = entry
            .checked
            .as_ref()
            .and_then(|c| c.observation.keyring_plan.as_ref())
        else {
            return;
        };
        if entry
            .keyring
            .as_ref()
            .is_some_and(|seen| seen.answers(plan))
        {
            return;
        }
        self.look_at_keyring(index);
    }

    fn look_at_keyring(&mut self, index: usize) {
        if !self.keyring.watching {
            self.keyring.watching = true;
            tokio::spawn(watch(self.keyring.events.clone()));
        }
        let entry = &mut self.entries[index];
        let Some(plan) = entry
            .checked
            .as_ref()
            .and_then(|c| c.observation.keyring_plan.clone())
        else {
            return;
        };
        if entry.keyring_fetching {
            entry.keyring_again = true;
            return;
        }
        entry.keyring_fetching = true;
        let name = entry.candidate.definition.name.clone();
        let connection = self.keyring.connection.clone();
        let results = self.keyring.results.clone();
        tokio::spawn(async move {
            let seen = crate::store::keyring::fetch(connection.as_ref(), &plan, false).await;
            let _ = results.send(LookedAt { name, plan, seen });
        });
    }

    fn look_at_every_keyring(&mut self) {
        for index in 0..self.entries.len() {
            self.look_at_keyring(index);
        }
    }

    pub(super) fn on_keyring_event(&mut self, event: KeyringEvent) {
        match event {
            KeyringEvent::Connected(connection) => self.keyring.connection = Some(connection),
            KeyringEvent::Lost => self.keyring.connection = None,
            KeyringEvent::Changed(why) => tracing::debug!(why, "keyring changed"),
        }
        self.look_at_every_keyring();
    }

    pub(super) fn on_keyring_result(&mut self, done: LookedAt) {
        let Some(index) = self.entry_index(&done.name) else {
            return;
        };
        let now = Timestamp::now();
        let entry = &mut self.entries[index];
        entry.keyring_fetching = false;
        let log = item_events(&done.name, entry.keyring.as_ref(), &done.seen, now);
        if !log.is_empty() {
            // A new token in the keyring: a probe's answer about the old one no longer holds.
            entry.probe.store_changed(now);
        }
        self.journal.extend(log);
        let current = entry
            .checked
            .as_ref()
            .and_then(|c| c.observation.keyring_plan.as_ref());
        if current == Some(&done.plan) {
            entry.keyring = Some(done.seen);
        }
        let again = std::mem::take(&mut entry.keyring_again);
        self.refresh_entry(index, now);
        self.update_polling();
        self.after_refresh();
        if again {
            self.look_at_keyring(index);
        }
    }

    /// Starts a poll of the `Modified` time of every item seen; a change means a new lookup.
    pub(super) fn poll_keyring(&mut self) {
        let Some(connection) = self.keyring.connection.clone() else {
            return;
        };
        let seen: Vec<KeyringObservation> = self
            .entries
            .iter()
            .filter_map(|e| e.keyring.clone())
            .collect();
        let events = self.keyring.events.clone();
        tokio::spawn(async move {
            for observation in &seen {
                if crate::store::keyring::modified_changed(&connection, observation).await {
                    let _ = events.send(KeyringEvent::Changed("modified"));
                    return;
                }
            }
        });
    }

    fn update_polling(&mut self) {
        self.keyring.polling = self.keyring.connection.is_some()
            && self.entries.iter().any(|e| {
                e.keyring
                    .as_ref()
                    .is_some_and(|k| k.items.iter().any(|l| !l.found.is_empty()))
            });
    }
}

/// Journal lines for keyring items that appeared, disappeared or were replaced since the last
/// lookup (nothing for the first lookup, which only sets the baseline).
fn item_events(
    name: &str,
    old: Option<&KeyringObservation>,
    new: &KeyringObservation,
    now: Timestamp,
) -> Vec<journal::Record> {
    let Some(old) = old.filter(|o| matches!(o.reach, Reach::Reachable { .. })) else {
        return Vec::new();
    };
    if !matches!(new.reach, Reach::Reachable { .. }) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for lookup in &new.items {
        let before = old.items.iter().find(|l| l.wanted == lookup.wanted);
        let Some(before) = before else { continue };
        let event = match (before.found.first(), lookup.found.first()) {
            (None, Some(_)) => "created",
            (Some(_), None) => "deleted",
            (Some(a), Some(b)) if a.path != b.path || a.modified != b.modified => "modified",
            _ => continue,
        };
        let mut line = journal::Record::new(now, name, event);
        line.path = Some(format!("keyring: {}", lookup.wanted.describe()));
        out.push(line);
    }
    out
}
