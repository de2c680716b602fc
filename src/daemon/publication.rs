//! Publication: `status.json`, the prompt file and its marker, and the Prometheus textfile,
//! written when something visible (or the state's validity) changed; and what a stopping daemon
//! leaves behind: nothing that says "ok". The runtime dir is verified before each publication.

use super::Daemon;
use crate::publish::prompt;
use crate::publish::report::{CredentialReport, DaemonInfo, UnwatchedReport, SCHEMA_VERSION};
use crate::support::paths;
use crate::support::runtime::{self, LOCK_FILE, STATUS_FILE};
use crate::support::timefmt::Timestamp;
use serde_json::value::RawValue;
use std::ops::Deref;
use std::path::{Path, PathBuf};

impl Daemon {
    fn daemon_info(&self) -> DaemonInfo {
        DaemonInfo {
            running: true,
            pid: Some(self.pid),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            valid_until: self.next_state_change().map(Timestamp::rfc3339),
            config_error: self.config_error.clone(),
            unwatched: self
                .watching
                .unwatched()
                .into_iter()
                .map(|error| UnwatchedReport {
                    path: paths::display(&error.path),
                    reason: error.reason(),
                    fix: error.fix(),
                })
                .collect(),
            environment: self.environment.clone(),
        }
    }

    /// Verifies the runtime dir before it is written to: recreates it when it vanished (a tmp
    /// cleaner) and takes the lock again; stops the daemon when the dir is now something else
    /// (another user's) or another daemon took the lock meanwhile. False: do not publish.
    pub(super) fn keep_runtime_dir(&mut self) -> bool {
        let existed = self.runtime_dir.exists();
        if let Err(error) = runtime::ensure_private_dir(&self.runtime_dir) {
            tracing::error!(%error, "the runtime dir cannot be used any more: stopping, so that nothing is written there");
            self.stop = Some(super::EXIT_CANNOT_RUN);
            return false;
        }
        if existed && runtime::same_file(self.lock.deref(), &self.runtime_dir.join(LOCK_FILE)) {
            return true;
        }
        match super::acquire_lock(&self.runtime_dir) {
            Ok(lock) => {
                tracing::warn!(dir = %paths::display(&self.runtime_dir), "the runtime dir or its lock was removed: recreated");
                self.lock = lock;
                self.prompt = prompt::Publisher::new(&self.runtime_dir, self.pid);
                self.start_contexts();
                self.rewatch();
                self.dirty = true;
                self.published_until = None;
                true
            }
            Err(super::LockFailure::Held(message)) => {
                tracing::warn!(%message, "another daemon took the runtime dir over: stopping");
                self.stop = Some(0);
                false
            }
            Err(super::LockFailure::Unusable(message)) => {
                // The dir is being removed (or replaced) right now: nothing is published into
                // it; its removal, or this retry, brings it back.
                tracing::debug!(%message, "the runtime dir is changing: looking again shortly");
                self.runtime_retry_at =
                    Some(Timestamp::now().saturating_add_millis(super::RUNTIME_RETRY_MS));
                false
            }
        }
    }

    /// The runtime dir was deleted or moved: verify (recreate) it now and publish again.
    pub(super) fn runtime_dir_changed(&mut self) {
        if self.keep_runtime_dir() {
            self.dirty = true;
            self.rewatch();
        }
    }

    /// SIGTSTP (Ctrl-Z on a daemon in a terminal): nothing may say "ok" for a stopped watchdog,
    /// so the state is withdrawn, then the process stops; at SIGCONT everything is looked at
    /// again and published.
    pub(super) fn suspend(&mut self) {
        self.withdraw();
        tracing::info!("suspended (SIGTSTP): state withdrawn");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
        tracing::info!("continued: publishing again");
        self.dirty = true;
        self.published_until = None;
        self.refresh_all();
    }

    /// Writes status.json and the prompt line, when something visible or the state's validity
    /// changed.
    pub(super) fn publish(&mut self) {
        if !self.keep_runtime_dir() {
            return;
        }
        let valid_until = self.next_state_change();
        let changed = self.dirty || self.published_until != Some(valid_until);
        if changed || std::mem::take(&mut self.contexts.republish) {
            if !self.contexts.context_dir().is_dir() {
                // Removed alone: made again, and watched, so that shells can hand their
                // contexts.
                self.start_contexts();
                self.rewatch();
            }
            // Each shell's file, when its content changed (the publisher compares).
            self.publish_shells(valid_until);
        }
        if !std::mem::take(&mut self.dirty) && !changed {
            return;
        }
        self.published_until = Some(valid_until);
        let document = PublishedDocument {
            schema: SCHEMA_VERSION,
            generated_at: Timestamp::now().rfc3339(),
            source: "daemon",
            daemon: self.daemon_info(),
            credentials: self
                .entries
                .iter()
                .filter_map(|e| e.report.as_ref().map(|(_, json)| &**json))
                .collect(),
        };
        let items = self.prompt_items();
        let prompt = prompt::PromptFile::new(
            &self.config,
            &items,
            self.pid,
            valid_until,
            Timestamp::now(),
        );
        let json = match serde_json::to_vec(&document) {
            Ok(json) => json,
            Err(error) => {
                tracing::error!(%error, "cannot serialise the state");
                return;
            }
        };
        // The prompt first: whoever sees the new status.json finds the prompt line current too.
        let written = self
            .prompt
            .publish(prompt)
            .and_then(|_| runtime::write_atomically(&self.runtime_dir.join(STATUS_FILE), &json));
        if let Err(error) = written {
            self.dirty = true;
            self.published_until = None;
            tracing::error!(%error, dir = %self.runtime_dir.display(), "cannot publish the state");
        }
        if let Some(path) = self.textfile() {
            let reports: Vec<&CredentialReport> = self
                .entries
                .iter()
                .filter_map(|e| e.report.as_ref().map(|(r, _)| r))
                .collect();
            write_textfile(&path, &reports, &document.daemon);
        }
    }

    /// Where the Prometheus textfile goes, if anywhere: the flag, else the config.
    fn textfile(&self) -> Option<PathBuf> {
        if let Some(path) = &self.textfile_override {
            return Some(path.clone());
        }
        let spec = self.config.prometheus_textfile.as_deref()?;
        match paths::expand(spec) {
            Ok(paths) => paths.into_iter().next(),
            Err(why) => {
                tracing::warn!(spec, %why, "export.prometheus_textfile cannot be expanded");
                None
            }
        }
    }

    /// Removes status.json and the prompt file: no reader takes this daemon's state for current.
    fn withdraw(&mut self) {
        let _ = std::fs::remove_file(self.runtime_dir.join(STATUS_FILE));
        self.prompt.withdraw();
        self.contexts.withdraw();
    }

    pub(super) fn shutdown(&mut self) {
        // Transitions still settling are recorded as they stand, and a last try for journal
        // entries a full disk kept out.
        self.record_unsettled_at_stop(Timestamp::now());
        self.journal.end_batch();
        self.withdraw();
        // Hooks do not outlive the daemon that ran them.
        self.alerts.stop_hooks();
        // Metrics must not go on saying "ok" for a watchdog that stopped.
        let stopped = DaemonInfo {
            running: false,
            pid: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
            valid_until: None,
            config_error: None,
            unwatched: Vec::new(),
            environment: Default::default(),
        };
        if let Some(path) = self.textfile() {
            write_textfile(&path, &[], &stopped);
        }
        tracing::info!("daemon stopped");
    }
}

/// status.json as published: the contract's document, borrowing the cached reports.
#[derive(serde::Serialize)]
struct PublishedDocument<'a> {
    schema: u32,
    generated_at: String,
    source: &'static str,
    daemon: DaemonInfo,
    credentials: Vec<&'a RawValue>,
}

fn write_textfile(path: &Path, reports: &[&CredentialReport], daemon: &DaemonInfo) {
    let text = crate::publish::metrics::render(reports, daemon);
    if let Err(error) = crate::publish::metrics::write_textfile(path, &text) {
        tracing::warn!(error = %format!("{error:#}"), "cannot update the Prometheus textfile");
    }
}
