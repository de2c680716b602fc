//! `credwatch daemon`: keeps an always-fresh published state and remembers what happened.
//!
//! Event-driven, on a single-threaded tokio runtime: inotify (notify 8) on the stores' parent and
//! grandparent directories, one timer set to the earliest moment a state changes by itself
//! (a warning window opens, a deadline passes, a post-write re-check is due), and signals. No
//! periodic polling of files: with nothing happening it sleeps.
//!
//! Guarantees: one daemon per user (a `flock` on `daemon.lock`, released by the kernel even on
//! `kill -9`); state files replaced atomically; a config that breaks at reload keeps the last good
//! one and says why; on SIGTERM/SIGINT the published files are removed, so no stale "ok" is left.
//! It never writes to another tool's files.

mod keyring;
mod probes;
mod wallclock;
mod watch;

use crate::define::config::{self, Config};
use crate::engine::journal::{self, Journal, Memory};
use crate::engine::{self, Candidate, Checked, Context};
use crate::evaluate;
use crate::publish::prompt::{self, PromptItem};
use crate::publish::report::{credential_report, CredentialReport, DaemonInfo, SCHEMA_VERSION};
use crate::store::{Content, FileFacts, FileStatus, Presence};
use crate::support::paths;
use crate::support::runtime::{self, LOCK_FILE, STATUS_FILE};

use crate::define::state::Group;
use crate::support::timefmt::Timestamp;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use serde_json::value::RawValue;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Exit code when the daemon cannot run (another one runs, the runtime dir is unusable).
pub const EXIT_CANNOT_RUN: i32 = 1;
/// After a credential is written, check again this much later that it stayed.
pub const DEFAULT_GRACE_MS: i64 = 2_000;
/// The longest single sleep. Deadlines wait on a wall-clock timer that counts suspended time and
/// wakes on clock changes (`wallclock`); this only bounds what a missed wake-up could cost.
const MAX_SLEEP_MS: i64 = 10 * 60 * 1000;

pub struct Options {
    pub config_path: Option<PathBuf>,
    pub grace_ms: i64,
    /// Overrides the config's `export.prometheus_textfile`.
    pub prometheus_textfile: Option<PathBuf>,
}

/// Runs until SIGTERM/SIGINT; returns the exit code.
pub fn run(options: Options) -> anyhow::Result<i32> {
    let runtime_dir = runtime::runtime_dir();
    if let Err(e) = runtime::ensure_private_dir(&runtime_dir) {
        eprintln!("credwatch daemon: runtime dir: {e}");
        return Ok(EXIT_CANNOT_RUN);
    }
    let lock = match acquire_lock(&runtime_dir) {
        Ok(lock) => lock,
        Err(message) => {
            eprintln!("credwatch daemon: {message}");
            return Ok(EXIT_CANNOT_RUN);
        }
    };
    let Some(state_dir) = runtime::state_dir() else {
        eprintln!("credwatch daemon: cannot tell where to keep the journal: $HOME and $XDG_STATE_HOME are unset\n  fix: set HOME");
        return Ok(EXIT_CANNOT_RUN);
    };
    if let Err(e) = runtime::ensure_private_dir(&state_dir) {
        eprintln!("credwatch daemon: state dir: {e}");
        return Ok(EXIT_CANNOT_RUN);
    }
    let config = config::load(options.config_path.as_deref())?;
    let (sender, receiver) = unbounded_channel();
    let watcher = notify::recommended_watcher(move |event| {
        let _ = sender.send(event);
    })?;
    let mut daemon = Daemon {
        config_path: options.config_path,
        config,
        config_error: None,
        entries: Vec::new(),
        watcher,
        watched: BTreeSet::new(),
        index: watch::TargetIndex::default(),
        prompt: prompt::Publisher::new(&runtime_dir, std::process::id()),
        runtime_dir,
        journal: Journal::new(&state_dir),
        memory: Memory::load(Some(&state_dir)),
        state_dir,
        grace_ms: options.grace_ms,
        pid: std::process::id(),
        dirty: true,
        published_until: None,
        pending_journal: Vec::new(),
        memory_dirty: false,
        keyring: keyring::KeyringLink::new(),
        probes: probes::ProbeLink::new(),
        textfile_override: options.prometheus_textfile,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Keyring lookups through the keyring crate block, and its store serialises them on one
        // D-Bus connection anyway: one thread for them keeps memory flat (each extra thread
        // would keep a malloc arena).
        .max_blocking_threads(1)
        .build()?;
    let code = runtime.block_on(daemon.serve(receiver))?;
    drop(lock);
    Ok(code)
}

/// Takes the per-user lock, or says which pid holds it.
fn acquire_lock(runtime_dir: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = runtime_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", paths::display(&path)))?;
    match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            let _ = lock.set_len(0);
            let _ = writeln!(
                *lock,
                "{} {}",
                std::process::id(),
                env!("CARGO_PKG_VERSION")
            );
            Ok(lock)
        }
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let pid = holder.split_whitespace().next().unwrap_or("?");
            Err(format!(
                "another credwatch daemon is already running (pid {pid}); only one runs per user\n  fix: use that one (credwatch status), or stop it first: kill {pid}"
            ))
        }
        Err((_, errno)) => Err(format!("cannot lock {}: {errno}", paths::display(&path))),
    }
}

/// What the daemon knows of one credential between events.
struct Entry {
    candidate: Candidate,
    /// Store paths (globs as patterns) and the account marker: what events are matched against.
    targets: Vec<PathBuf>,
    checked: Option<Checked>,
    /// What is published for it, kept to tell whether a refresh changed anything visible,
    /// with its JSON serialised once (publication splices these instead of re-serialising all).
    report: Option<(CredentialReport, Box<RawValue>)>,
    fingerprint: Option<Fingerprint>,
    last_write: Option<Timestamp>,
    recheck_at: Option<Timestamp>,
    loss: Option<evaluate::Loss>,
    /// The last keyring lookup for it, and whether one is under way (or wanted again after it).
    keyring: Option<crate::store::keyring::KeyringObservation>,
    keyring_fetching: bool,
    keyring_again: bool,
    probe: probes::ProbeState,
}

/// What changes to a store look like from outside, without its content.
#[derive(Clone, PartialEq, Eq)]
struct Fingerprint {
    path: PathBuf,
    present: bool,
    holds_login: bool,
    modified: Option<Timestamp>,
    size: u64,
    mode: Option<u32>,
}

impl Fingerprint {
    fn absent() -> Self {
        Fingerprint {
            path: PathBuf::new(),
            present: false,
            holds_login: false,
            modified: None,
            size: 0,
            mode: None,
        }
    }
}

struct Daemon {
    config_path: Option<PathBuf>,
    config: Config,
    config_error: Option<String>,
    entries: Vec<Entry>,
    watcher: notify::RecommendedWatcher,
    watched: BTreeSet<PathBuf>,
    index: watch::TargetIndex,
    runtime_dir: PathBuf,
    /// The prompt file and its marker.
    prompt: prompt::Publisher,
    state_dir: PathBuf,
    journal: Journal,
    memory: Memory,
    grace_ms: i64,
    pid: u32,
    /// Something visible changed since the last publication.
    dirty: bool,
    /// The validity (`next_state_change`) last published; `None` before the first publication.
    /// A new validity alone is published too: readers judge the state stale after it.
    published_until: Option<Option<Timestamp>>,
    /// Journal lines and memory changes waiting for the end of the batch.
    pending_journal: Vec<journal::Entry>,
    memory_dirty: bool,
    keyring: keyring::KeyringLink,
    probes: probes::ProbeLink,
    /// `--prometheus-textfile`, which wins over the config's.
    textfile_override: Option<PathBuf>,
}

impl Daemon {
    async fn serve(
        &mut self,
        mut events: UnboundedReceiver<notify::Result<Event>>,
    ) -> anyhow::Result<i32> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangup = signal(SignalKind::hangup())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let (mut keyring_events, mut keyring_results) = self.keyring.take_receivers();
        let mut probe_results = self.probes.take_receiver();
        let mut poll = keyring_poll(std::time::Duration::from_millis(
            self.config.keyring_poll_ms as u64,
        ));
        self.rebuild_entries();
        self.rewatch();
        self.refresh_all();
        tracing::info!(
            pid = self.pid,
            credentials = self.active_count(),
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
                _ = poll.tick(), if self.keyring.polling() => self.poll_keyring(),
                event = events.recv() => {
                    let mut batch: Vec<Event> = Vec::new();
                    let mut errors = 0;
                    for event in std::iter::once(event).chain(std::iter::from_fn(|| events.try_recv().ok().map(Some))) {
                        match event {
                            Some(Ok(event)) => batch.push(event),
                            Some(Err(error)) => { errors += 1; tracing::warn!(%error, "watch error: rescanning"); }
                            None => anyhow::bail!("the file watcher stopped"),
                        }
                    }
                    self.handle_events(batch, errors > 0);
                }
                () = sleep => self.on_timer(),
                _ = hangup.recv() => self.reload("SIGHUP"),
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
            }
        }
        self.shutdown();
        Ok(0)
    }

    /// The entry of the credential named `name`, if it is still configured.
    fn entry_index(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.candidate.definition.name == name)
    }

    fn active_count(&self) -> usize {
        self.entries.iter().filter(|e| e.checked.is_some()).count()
    }

    /// (Re)creates entries from the config, keeping what was known of credentials by name.
    fn rebuild_entries(&mut self) {
        let candidates = match engine::candidates(&self.config) {
            Ok(c) => c,
            Err(error) => {
                self.config_error = Some(format!("{error:#}"));
                return;
            }
        };
        let mut old: Vec<Entry> = std::mem::take(&mut self.entries);
        for candidate in candidates {
            let mut targets: Vec<PathBuf> = candidate
                .definition
                .files
                .iter()
                .filter_map(|spec| paths::expand(spec).ok())
                .flatten()
                .collect();
            if let Some(marker) = &candidate.definition.account_marker {
                targets.extend(paths::expand(&marker.file).ok().into_iter().flatten());
            }
            let kept = old
                .iter()
                .position(|e| e.candidate.definition.name == candidate.definition.name)
                .map(|i| old.swap_remove(i));
            self.entries.push(Entry {
                candidate,
                targets,
                checked: None,
                report: None,
                fingerprint: kept.as_ref().and_then(|e| e.fingerprint.clone()),
                last_write: kept.as_ref().and_then(|e| e.last_write),
                recheck_at: kept.as_ref().and_then(|e| e.recheck_at),
                loss: kept.as_ref().and_then(|e| e.loss),
                keyring: kept.as_ref().and_then(|e| e.keyring.clone()),
                keyring_fetching: false,
                keyring_again: false,
                probe: kept.map(|e| e.probe).unwrap_or_default(),
            });
        }
        self.index = watch::TargetIndex::build(
            self.entries
                .iter()
                .enumerate()
                .flat_map(|(i, e)| e.targets.iter().map(move |t| (i, t))),
            &self.config_targets(),
        );
    }

    fn config_targets(&self) -> Vec<PathBuf> {
        self.config_path.iter().cloned().collect()
    }

    /// Brings the set of watched directories in line with the targets.
    fn rewatch(&mut self) {
        let mut targets: Vec<PathBuf> = self
            .entries
            .iter()
            .flat_map(|e| e.targets.clone())
            .collect();
        targets.extend(self.config_targets());
        let wanted = watch::directories_for(&targets);
        for stale in self
            .watched
            .difference(&wanted)
            .cloned()
            .collect::<Vec<_>>()
        {
            let _ = self.watcher.unwatch(&stale);
            self.watched.remove(&stale);
        }
        for dir in wanted {
            if self.watched.contains(&dir) {
                continue;
            }
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(error) => tracing::warn!(dir = %dir.display(), %error, "cannot watch"),
            }
        }
    }

    fn handle_events(&mut self, batch: Vec<Event>, rescan: bool) {
        let rescan = rescan || batch.iter().any(Event::need_rescan);
        let relevant: Vec<&Event> = batch.iter().filter(|e| is_change(e)).collect();
        if rescan {
            tracing::info!("event queue overflowed: rescanning everything");
            self.forget_watches_under(&[PathBuf::from("/")]);
            self.rewatch();
            self.refresh_all();
            return;
        }
        if relevant.is_empty() {
            return;
        }
        let paths: Vec<&Path> = relevant
            .iter()
            .flat_map(|e| e.paths.iter().map(PathBuf::as_path))
            .collect();
        if self
            .config_path
            .as_deref()
            .is_some_and(|config| paths.iter().any(|p| watch::touches(p, config)))
        {
            self.reload("the config file changed");
        }
        let structural: Vec<PathBuf> = relevant
            .iter()
            .filter(|e| may_move_directories(e))
            .flat_map(|e| e.paths.iter())
            .filter(|p| self.is_on_a_watched_way(p))
            .cloned()
            .collect();
        if !structural.is_empty() {
            self.forget_watches_under(&structural);
            self.rewatch();
        }
        let now = Timestamp::now();
        let mut touched = BTreeSet::new();
        for path in &paths {
            self.index.touched_by(path, &mut touched);
        }
        for i in touched {
            self.refresh_entry(i, now);
        }
        self.after_refresh();
    }

    /// Whether `path` is a watched directory, an ancestor of one, or a directory on the way to a
    /// store: then its creation, removal or rename changes what must be watched. A store file
    /// replaced by an atomic rename is none of these, so the common case costs no re-watch.
    fn is_on_a_watched_way(&self, path: &Path) -> bool {
        self.watched.iter().any(|w| w.starts_with(path)) || self.index.is_on_the_way(path)
    }

    /// Drops directories whose inotify watch may have died with them (deleted, renamed, recreated).
    fn forget_watches_under(&mut self, paths: &[PathBuf]) {
        let dead: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|w| paths.iter().any(|p| w.starts_with(p)))
            .cloned()
            .collect();
        for dir in dead {
            let _ = self.watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
    }

    /// Until when the published state holds with nothing happening: the next moment a state
    /// changes by itself (a warning window opens, a deadline passes). Neither a post-write
    /// re-check nor a due probe ends it: each may find a change, and a change is published when
    /// it is found.
    fn next_state_change(&self) -> Option<Timestamp> {
        self.entries
            .iter()
            .filter_map(|e| e.checked.as_ref().and_then(|c| c.verdict.next_change_at))
            .min()
    }

    fn next_wake(&self) -> Option<Timestamp> {
        self.entries
            .iter()
            .flat_map(|e| {
                let deadline = e.checked.as_ref().and_then(|c| c.verdict.next_change_at);
                [deadline, e.recheck_at, e.probe.pending_due()]
            })
            .flatten()
            .min()
    }

    fn on_timer(&mut self) {
        let now = Timestamp::now();
        let due: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                let deadline = e.checked.as_ref().and_then(|c| c.verdict.next_change_at);
                [deadline, e.recheck_at]
                    .into_iter()
                    .flatten()
                    .any(|at| at <= now)
            })
            .collect();
        for i in due {
            self.entries[i].recheck_at = None;
            self.refresh_entry(i, now);
        }
        self.start_due_probes(now);
        self.after_refresh();
    }

    fn reload(&mut self, why: &str) {
        match config::load(self.config_path.as_deref()) {
            Ok(config) => {
                tracing::info!(why, "config reloaded");
                self.config = config;
                self.config_error = None;
                self.dirty = true;
                self.rebuild_entries();
                self.rewatch();
                self.refresh_all();
            }
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(why, %message, "config not reloaded: keeping the last good one");
                let mut entry = journal::Entry::new(Timestamp::now(), "config", "config-error");
                entry.detail = Some(message.clone());
                self.write_journal(&[entry]);
                self.config_error = Some(message);
                self.dirty = true;
                self.publish();
            }
        }
    }

    fn refresh_all(&mut self) {
        let started = std::time::Instant::now();
        let now = Timestamp::now();
        for i in 0..self.entries.len() {
            self.refresh_entry(i, now);
        }
        self.after_refresh();
        tracing::info!(
            credentials = self.entries.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "full rescan"
        );
    }

    /// Re-observes one credential, journals what changed, and applies the post-write re-check.
    fn refresh_entry(&mut self, index: usize, now: Timestamp) {
        let context = Context {
            memory: &self.memory,
            env_is_users_shell: false,
            keyring: engine::KeyringSource::Known(self.entries[index].keyring.as_ref()),
            probe: self.entries[index].probe.report.as_ref(),
        };
        let mut checked = engine::check_one(&self.config, &self.entries[index].candidate, &context);
        let entry = &mut self.entries[index];
        let name = entry.candidate.definition.name.clone();
        let mut log = Vec::new();
        // The first scan sets the baseline; a credential not watched yet counts as absent, so one
        // that appears later is journaled as created.
        let fingerprint = Some(
            checked
                .as_ref()
                .map_or_else(Fingerprint::absent, fingerprint_of),
        );
        if let (Some(old), Some(new)) = (&entry.fingerprint, &fingerprint) {
            for event in store_events(old, new) {
                let mut line = journal::Entry::new(now, &name, event);
                line.path = Some(paths::display(&new.path));
                log.push(line);
                if matches!(event, "created" | "modified") && new.holds_login {
                    entry.last_write = Some(now);
                    entry.recheck_at = Some(now.saturating_add_millis(self.grace_ms));
                }
            }
        }
        if !log.is_empty() {
            let had_answer = entry.probe.report.is_some();
            entry.probe.store_changed(now);
            if let Some(checked) = checked.as_mut().filter(|_| had_answer) {
                // The probe answered for the login that was there before: judge the new one
                // alone (evaluation only, the store was just read).
                checked.history.probe = None;
                engine::rejudge(&self.config, checked);
            }
        }
        if let (Some(checked), Some(print)) = (&mut checked, &fingerprint) {
            entry.loss = evaluate::detect_loss(
                entry.loss,
                print.holds_login,
                print.present,
                entry.last_write,
                now,
                self.grace_ms,
            );
            if entry.loss.is_some() {
                checked.history.loss = entry.loss;
                engine::rejudge(&self.config, checked);
            }
        }
        let old_state = entry.checked.as_ref().map(|c| c.verdict.state);
        let new_state = checked.as_ref().map(|c| c.verdict.state);
        if old_state != new_state {
            if let Some(checked) = &checked {
                let mut line = journal::Entry::new(now, &name, "state");
                line.from = old_state.map(|s| s.as_str().to_string());
                line.to = Some(checked.verdict.state.as_str().to_string());
                line.detail = Some(checked.verdict.reason.clone());
                log.push(line);
            }
        }
        let present = checked
            .as_ref()
            .is_some_and(|c| c.observation.primary.is_some());
        if checked.is_some() && self.memory.record(&name, present, now) {
            self.memory_dirty = true;
        }
        let report = checked.as_ref().map(credential_report);
        if !same_visible(entry.report.as_ref().map(|(r, _)| r), report.as_ref()) {
            self.dirty = true;
        }
        entry.report = report.and_then(|report| {
            let json = serde_json::value::to_raw_value(&report).ok()?;
            Some((report, json))
        });
        entry.fingerprint = fingerprint;
        entry.checked = checked;
        self.pending_journal.extend(log);
        self.look_at_keyring_if_stale(index);
        self.plan_probe(index, now);
    }

    fn write_journal(&self, entries: &[journal::Entry]) {
        if let Err(error) = self.journal.append(entries) {
            tracing::warn!(%error, "cannot write the journal");
        }
    }

    /// Ends a batch: one journal append, one memory save, one publication at most.
    fn after_refresh(&mut self) {
        let lines = std::mem::take(&mut self.pending_journal);
        self.write_journal(&lines);
        if std::mem::take(&mut self.memory_dirty) {
            if let Err(error) = self.memory.save(&self.state_dir) {
                tracing::warn!(%error, "cannot save the memory of credentials seen");
            }
        }
        self.publish();
    }

    fn daemon_info(&self) -> DaemonInfo {
        DaemonInfo {
            running: true,
            pid: Some(self.pid),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            valid_until: self.next_state_change().map(Timestamp::rfc3339),
            config_error: self.config_error.clone(),
        }
    }

    /// Writes status.json and the prompt line, when something visible or the state's validity
    /// changed.
    fn publish(&mut self) {
        let valid_until = self.next_state_change();
        if !std::mem::take(&mut self.dirty) && self.published_until == Some(valid_until) {
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
        let items: Vec<PromptItem<'_>> = self
            .entries
            .iter()
            .filter_map(|e| {
                e.report.as_ref().map(|(report, _)| PromptItem {
                    report,
                    commands: &e.candidate.definition.commands,
                })
            })
            .collect();
        let prompt =
            prompt::PromptFile::new(&self.config.prompt_format, &items, self.pid, valid_until);
        let json = match serde_json::to_vec(&document) {
            Ok(json) => json,
            Err(error) => {
                tracing::error!(%error, "cannot serialise the state");
                return;
            }
        };
        let written = runtime::write_atomically(&self.runtime_dir.join(STATUS_FILE), &json)
            .and_then(|()| self.prompt.publish(prompt));
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
                tracing::warn!(spec, ?why, "export.prometheus_textfile cannot be expanded");
                None
            }
        }
    }

    fn shutdown(&mut self) {
        let _ = std::fs::remove_file(self.runtime_dir.join(STATUS_FILE));
        self.prompt.withdraw();
        // Metrics must not go on saying "ok" for a watchdog that stopped.
        let stopped = DaemonInfo {
            running: false,
            pid: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
            valid_until: None,
            config_error: None,
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

/// Whether two reports differ in anything but the time of the check.
fn same_visible(old: Option<&CredentialReport>, new: Option<&CredentialReport>) -> bool {
    match (old, new) {
        (None, None) => true,
        (Some(old), Some(new)) => {
            let mut aligned = new.clone();
            aligned.checked_at.clone_from(&old.checked_at);
            &aligned == old
        }
        _ => false,
    }
}

fn write_textfile(path: &Path, reports: &[&CredentialReport], daemon: &DaemonInfo) {
    let text = crate::publish::metrics::render(reports, daemon);
    if let Err(error) = crate::publish::metrics::write_textfile(path, &text) {
        tracing::warn!(error = %format!("{error:#}"), "cannot update the Prometheus textfile");
    }
}

/// The timer of the keyring `Modified` poll: its first tick one period from now.
fn keyring_poll(every: std::time::Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

/// Events that can change a store. Reads (`OPEN`, `CLOSE_NOWRITE`) are ignored: the daemon's own
/// reads would otherwise wake it up again and again.
fn is_change(event: &Event) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Events after which a watched directory may be gone or new.
/// Events that may create, remove or move a directory (a file's rename is one of these too).
fn may_move_directories(event: &Event) -> bool {
    use notify::event::{CreateKind, ModifyKind, RemoveKind};
    matches!(
        event.kind,
        EventKind::Create(CreateKind::Folder)
            | EventKind::Remove(RemoveKind::Folder)
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(RemoveKind::Any)
            | EventKind::Create(CreateKind::Any)
    )
}

fn fingerprint_of(checked: &Checked) -> Fingerprint {
    let observation = &checked.observation;
    let file = observation.primary_file().or(observation.files.first());
    let (modified, size, mode) = match file.map(|f| &f.status) {
        Some(FileStatus::Read(FileFacts { meta, .. })) => {
            (meta.modified, meta.size, Some(meta.mode))
        }
        _ => (None, 0, None),
    };
    let holds_login = matches!(
        file.map(|f| &f.status),
        Some(FileStatus::Read(FileFacts { content: Content::Parsed(facts), .. }))
            if facts.entry_present && facts.secret == Presence::Present
    ) || (observation.primary.is_some()
        && checked.verdict.state.group() == Group::Usable);
    Fingerprint {
        path: file.map(|f| f.path.clone()).unwrap_or_default(),
        present: observation.primary.is_some(),
        holds_login,
        modified,
        size,
        mode,
    }
}

fn store_events(old: &Fingerprint, new: &Fingerprint) -> Vec<&'static str> {
    match (old.present, new.present) {
        (false, true) => vec!["created"],
        (true, false) => vec!["deleted"],
        (false, false) => vec![],
        (true, true) => {
            let mut events = Vec::new();
            if old.holds_login && !new.holds_login {
                events.push("blanked");
            } else if old.modified != new.modified || old.size != new.size || old.path != new.path {
                events.push("modified");
            }
            if old.mode != new.mode && old.mode.is_some() && new.mode.is_some() {
                events.push("mode-changed");
            }
            events
        }
    }
}
