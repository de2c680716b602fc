//! The event loop: inotify batches, keyring events and lookups, probe results, agents' answers,
//! the keyring `Modified` poll, the wall-clock timer of the schedule, and signals (SIGHUP
//! reloads the config, SIGTERM/SIGINT stop, SIGTSTP withdraws the state and stops the process
//! until SIGCONT).

use super::{wallclock, Daemon, MAX_SLEEP_MS};
use crate::define::config;
use crate::engine::journal;
use crate::support::timefmt::Timestamp;

impl Daemon {
    pub(super) async fn serve(&mut self) -> anyhow::Result<i32> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangup = signal(SignalKind::hangup())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut suspend = signal(SignalKind::from_raw(nix::libc::SIGTSTP))?;
        let (mut keyring_events, mut keyring_results) = self.keyring.take_receivers();
        let mut probe_results = self.probes.take_receiver();
        let mut read_results = self.reads.take_receiver();
        let mut agent_answers = self.agents.take_receiver();
        let mut alert_failures = self.alerts.take_receiver();
        let mut shell_exits = self.contexts.take_receiver();
        let mut poll = keyring_poll(std::time::Duration::from_millis(
            self.config.keyring_poll_ms as u64,
        ));
        self.rebuild_entries();
        self.start_contexts();
        self.rewatch();
        // The first scan asks the agents in place, and keeps their answers; from then on they
        // are asked off the loop.
        crate::store::agent::keep_book();
        self.refresh_all();
        crate::store::agent::ask_off_this_thread();
        let watched: Vec<&str> = self
            .entries
            .iter()
            .filter(|e| e.report.is_some())
            .map(|e| e.candidate.definition.name.as_str())
            .collect();
        tracing::info!(
            pid = self.pid,
            credentials = self.active_count(),
            watched = %watched.join(", "),
            "daemon started"
        );
        let clock = wallclock::WallClock::new();
        loop {
            let wake_at = self
                .next_wake()
                .map(|at| at.min(Timestamp::now().saturating_add_millis(MAX_SLEEP_MS)));
            let sleep = async {
                match wake_at {
                    Some(at) => clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let poll_every = std::time::Duration::from_millis(self.config.keyring_poll_ms as u64);
            if poll.period() != poll_every {
                poll = keyring_poll(poll_every);
            }
            tokio::select! {
                Some(event) = keyring_events.recv() => self.on_keyring_event(event),
                Some(done) = keyring_results.recv() => self.on_keyring_result(done),
                Some(done) = probe_results.recv() => self.on_probe_result(done),
                Some(done) = read_results.recv() => self.on_read_done(done),
                Some(answer) = agent_answers.recv() => self.on_agent_answer(answer),
                Some(failure) = alert_failures.recv() => self.on_alert_failure(failure),
                Some(pid) = shell_exits.recv() => {
                    self.shell_exited(pid);
                    self.after_refresh();
                }
                _ = poll.tick(), if self.keyring.polling() => self.poll_keyring(),
                batch = self.watching.next_batch() => match batch {
                    Ok(batch) => self.handle_events(batch),
                    Err(error) => anyhow::bail!("the file watcher failed: {error}"),
                },
                () = sleep => self.on_timer(),
                _ = hangup.recv() => self.reload("SIGHUP"),
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
                _ = suspend.recv() => self.suspend(),
            }
            if let Some(code) = self.stop {
                return Ok(code);
            }
        }
        self.shutdown();
        Ok(0)
    }

    pub(super) fn reload(&mut self, why: &str) {
        match config::load(self.config_path.as_deref()) {
            Ok(config) => {
                tracing::info!(why, "config reloaded");
                self.config = config;
                // What the user forgot (`credwatch forget` asks for this reload).
                self.memory.forgotten =
                    crate::engine::memory::Forgotten::load(Some(&self.state_dir));
                self.config_error = None;
                self.dirty = true;
                self.rebuild_entries();
                self.rewatch();
                self.refresh_all();
                // The old entries and the reload's scratch are free now: give them back.
                crate::support::heap::give_back_freed();
            }
            Err(error) => {
                let message = error.to_string();
                // The same error again (one save of the file can wake the daemon twice): said
                // and journaled once.
                if self.config_error.as_deref() == Some(message.as_str()) {
                    return;
                }
                tracing::warn!(why, %message, "config not reloaded: keeping the last good one");
                let entry =
                    journal::Record::daemon(Timestamp::now(), "config-error", message.clone());
                self.journal.write(&[entry]);
                self.config_error = Some(message);
                self.dirty = true;
                self.publish();
            }
        }
    }
}

/// The timer of the keyring `Modified` poll: its first tick one period from now.
fn keyring_poll(every: std::time::Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}
