//! Large stores are read on a thread of their own: a fleet's kubeconfig of megabytes takes the
//! parser up to ~0.6 s, and meanwhile the event loop goes on publishing every other store's
//! changes. The read's observation (facts, the secret dropped) comes back here to be judged and
//! published like any other.
//!
//! Guarantees: at most one read per credential at a time (a change during a read asks for one
//! more after it); a read whose credential was removed or replaced by a reload is dropped.

use super::Daemon;
use crate::store::Observation;
use crate::support::timefmt::Timestamp;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Store files larger than this are read off the event loop: reading and decoding them takes
/// milliseconds or more.
pub(super) const LARGE: u64 = 256 << 10;

/// A finished read: the credential's name, the read's serial, what it found.
pub(super) struct ReadDone {
    name: String,
    serial: u64,
    observation: Observation,
}

pub(super) struct ReadLink {
    results: UnboundedSender<ReadDone>,
    receiver: Option<UnboundedReceiver<ReadDone>>,
    serial: u64,
}

impl ReadLink {
    pub(super) fn new() -> Self {
        let (results, receiver) = unbounded_channel();
        ReadLink {
            results,
            receiver: Some(receiver),
            serial: 0,
        }
    }

    pub(super) fn take_receiver(&mut self) -> UnboundedReceiver<ReadDone> {
        self.receiver.take().expect("the receiver is taken once")
    }
}

/// Per credential: the read under way, and whether another is wanted after it.
#[derive(Default)]
pub(super) struct ReadState {
    pub(super) running: Option<u64>,
    pub(super) again: bool,
}

impl Daemon {
    /// Starts reading the stores of entry `index` on the blocking pool (or asks for one more
    /// read when one runs).
    pub(super) fn read_in_background(&mut self, index: usize) {
        let entry = &mut self.entries[index];
        if entry.read.running.is_some() {
            entry.read.again = true;
            return;
        }
        self.reads.serial += 1;
        let serial = self.reads.serial;
        entry.read.running = Some(serial);
        entry.read.again = false;
        let definition = entry.candidate.definition.clone();
        let results = self.reads.results.clone();
        tokio::task::spawn_blocking(move || {
            let observation = crate::store::observe(&definition);
            let _ = results.send(ReadDone {
                name: definition.name,
                serial,
                observation,
            });
        });
    }

    /// A background read finished: judge and publish it; read again if a change came meanwhile.
    pub(super) fn on_read_done(&mut self, done: ReadDone) {
        let Some(index) = self.entry_index(&done.name) else {
            return;
        };
        if self.entries[index].read.running != Some(done.serial) {
            return;
        }
        self.entries[index].read.running = None;
        self.apply_observation(index, done.observation, Timestamp::now());
        if std::mem::take(&mut self.entries[index].read.again) {
            self.read_in_background(index);
        }
        self.after_refresh();
    }
}
