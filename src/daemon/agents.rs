//! The ssh-agents that the credentials in play name (the daemon's own `SSH_AUTH_SOCK`, and each
//! shell's), asked off the event loop. An agent can hang: asked here, it would hold up every
//! other credential's publication for up to a second, once per shell that names it. The event
//! loop keeps a book of answers (`store::agent::keep_book`) that judging reads; a socket whose
//! answer is missing or older than a second is asked on a thread of its own, and its answer,
//! when it changed, has the credentials that ask agents judged again.
//!
//! Guarantees: the event loop never connects to an agent once the first scan is done (that one
//! asks in place, and its answers are kept: nothing is published before all is known, and an
//! agent it asked is not "being asked" at the next judgement); one question per socket at a
//! time; an answer that did not change publishes nothing.

use super::Daemon;
use crate::store::agent;
use crate::support::timefmt::Timestamp;
use std::collections::BTreeSet;
use std::path::PathBuf;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// An agent's answer, for the socket at the path.
pub(super) struct Answered(PathBuf, agent::Exchanged);

pub(super) struct AgentLink {
    results: UnboundedSender<Answered>,
    receiver: Option<UnboundedReceiver<Answered>>,
    /// The sockets being asked.
    asking: BTreeSet<PathBuf>,
}

impl AgentLink {
    pub(super) fn new() -> Self {
        let (results, receiver) = unbounded_channel();
        AgentLink {
            results,
            receiver: Some(receiver),
            asking: BTreeSet::new(),
        }
    }

    pub(super) fn take_receiver(&mut self) -> UnboundedReceiver<Answered> {
        self.receiver.take().expect("the receiver is taken once")
    }

    /// Asks, each on a thread of its own, the agents that judging found no fresh answer for.
    pub(super) fn ask_wanted(&mut self) {
        for (path, limit) in agent::wanted() {
            if !self.asking.insert(path.clone()) {
                continue;
            }
            let results = self.results.clone();
            let asked = path.clone();
            let spawned = std::thread::Builder::new()
                .name("credwatch-agent".into())
                .spawn(move || {
                    let answer = agent::ask_for_book(&asked, limit);
                    let _ = results.send(Answered(asked, answer));
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "cannot start a thread to ask an ssh-agent");
                self.asking.remove(&path);
            }
        }
    }
}

impl Daemon {
    /// An agent answered: entered in the book; when the answer changed, what asks agents is
    /// judged again (the daemon's own credentials here, the shells' contexts before publishing).
    pub(super) fn on_agent_answer(&mut self, Answered(path, answer): Answered) {
        self.agents.asking.remove(&path);
        if !agent::enter(path, answer) {
            return;
        }
        let asking: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                self.entries[i]
                    .candidate
                    .definition
                    .format
                    .traits()
                    .asked_through_socket
            })
            .collect();
        self.refresh_entries(asking, Timestamp::now());
        self.contexts.stale = true;
        self.after_refresh();
    }
}
