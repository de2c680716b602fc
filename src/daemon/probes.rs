//! The daemon's live probes: run after a store changes and every `every`, on their own thread
//! (never on the event loop), at most one at a time per credential and never twice within
//! [`MIN_GAP_MS`]; results come back by channel, are journaled, and re-evaluate the credential.
//!
//! Guarantees: a probe runs only for a credential that looks usable locally (a broken one needs
//! no server to say so); a result is dropped when the store changed since (the next probe is due
//! at once instead); the prompt never waits for a probe.

use super::Daemon;
use crate::engine::journal;
use crate::probe::ProbeReport;
use crate::support::timefmt::Timestamp;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// The shortest time between two probes of one credential, whatever changes.
pub const MIN_GAP_MS: i64 = 10_000;

pub(super) struct ProbeDone {
    name: String,
    /// The store's fingerprint when the probe started, to drop results made stale by a change.
    generation: u64,
    report: ProbeReport,
}

pub(super) struct ProbeLink {
    results: UnboundedSender<ProbeDone>,
    receiver: Option<UnboundedReceiver<ProbeDone>>,
}

impl ProbeLink {
    pub(super) fn new() -> Self {
        let (results, receiver) = unbounded_channel();
        ProbeLink {
            results,
            receiver: Some(receiver),
        }
    }

    pub(super) fn take_receiver(&mut self) -> UnboundedReceiver<ProbeDone> {
        self.receiver.take().expect("the receiver is taken once")
    }
}

/// Per credential: the last result and when the next probe is due.
#[derive(Default)]
pub(super) struct ProbeState {
    pub report: Option<ProbeReport>,
    pub due: Option<Timestamp>,
    running: bool,
    started: Option<Timestamp>,
    /// Bumped at each store change.
    generation: u64,
}

impl ProbeState {
    /// When the next probe is due, unless one is running (its result schedules the next).
    pub fn pending_due(&self) -> Option<Timestamp> {
        self.due.filter(|_| !self.running)
    }

    /// The store changed (a file, or a keyring item): the last answer was about the old login.
    pub fn store_changed(&mut self, now: Timestamp) {
        self.generation += 1;
        self.report = None;
        self.due = Some(now);
    }
}

impl Daemon {
    /// After a refresh: set when to probe (a store change has already made one due now).
    pub(super) fn plan_probe(&mut self, index: usize, now: Timestamp) {
        let entry = &mut self.entries[index];
        // A probe that runs only when asked (`verify`) is never the daemon's.
        let Some(spec) = entry
            .candidate
            .definition
            .probe
            .as_ref()
            .filter(|spec| !spec.on_request)
        else {
            // Nothing to probe: no due time may keep the timer awake.
            entry.probe.due = None;
            return;
        };
        let locally_usable = entry.checked.as_ref().is_some_and(|c| {
            c.verdict.state.is_usable() || c.verdict.state == crate::define::state::State::Rejected
        });
        let probe = &mut entry.probe;
        if probe.running {
            // Its result schedules the next one (and is dropped if the store changed meanwhile).
            return;
        }
        if !locally_usable {
            probe.due = None;
            return;
        }
        if probe.due.is_none() && !probe.running {
            probe.due = Some(match &probe.report {
                None => now,
                Some(_) => now.saturating_add_millis(spec.every_ms),
            });
        }
        if let (Some(due), Some(started)) = (probe.due, probe.started) {
            let earliest = started.saturating_add_millis(MIN_GAP_MS);
            if due < earliest {
                probe.due = Some(earliest);
            }
        }
    }

    /// Starts the probes that are due (called from the timer).
    pub(super) fn start_due_probes(&mut self, now: Timestamp) {
        for index in 0..self.entries.len() {
            let entry = &mut self.entries[index];
            let (Some(spec), Some(due)) =
                (entry.candidate.definition.probe.clone(), entry.probe.due)
            else {
                continue;
            };
            if due > now || entry.probe.running {
                continue;
            }
            entry.probe.due = None;
            entry.probe.running = true;
            entry.probe.started = Some(now);
            let definition = entry.candidate.definition.clone();
            let file = entry
                .checked
                .as_ref()
                .and_then(|c| c.observation.primary_file())
                .map(|f| f.path.clone());
            let generation = entry.probe.generation;
            let results = self.probes.results.clone();
            std::thread::spawn(move || {
                let report = crate::probe::run(&definition, &spec, file.as_deref());
                let _ = results.send(ProbeDone {
                    name: definition.name.clone(),
                    generation,
                    report,
                });
            });
        }
    }

    pub(super) fn on_probe_result(&mut self, done: ProbeDone) {
        let Some(index) = self.entry_index(&done.name) else {
            return;
        };
        let now = Timestamp::now();
        let entry = &mut self.entries[index];
        entry.probe.running = false;
        if done.generation != entry.probe.generation {
            // The store changed while the probe ran: its answer is about the old login.
            entry.probe.due = None;
            self.plan_probe(index, now);
            return;
        }
        let mut line = journal::Record::new(now, &done.name, "probe");
        line.to = Some(
            serde_json::to_value(done.report.result)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        );
        line.detail = Some(done.report.detail.clone());
        self.journal.add(line);
        let every = entry
            .candidate
            .definition
            .probe
            .as_ref()
            .map_or(0, |s| s.every_ms);
        entry.probe.report = Some(done.report);
        entry.probe.due = Some(now.saturating_add_millis(every));
        self.refresh_entry(index, now);
        self.after_refresh();
    }
}
