//! `credwatch daemon`: keeps an always-fresh published state and remembers what happened.
//!
//! Event-driven, on a single-threaded tokio runtime: inotify (`support::watch`) on the stores'
//! parent and grandparent directories for entries created, deleted and renamed, and on the store
//! files for writes (never for reads); one timer set to the earliest moment a state changes by
//! itself (a warning window opens, a deadline passes, a post-write re-check is due) or the
//! heartbeat; and signals. No periodic polling of files: with nothing happening it wakes once per
//! [`HEARTBEAT_MS`], to say it still runs.
//!
//! Guarantees: one daemon per user (a `flock` on `daemon.lock`, released by the kernel even on
//! `kill -9`, and taken again when the runtime dir is deleted and recreated: a second daemon
//! that took it meanwhile makes this one stop); the runtime dir verified before each publication;
//! state files replaced atomically; a published state never holds past the next heartbeat
//! plus a margin, so a frozen daemon (SIGSTOP) is noticed even by readers that cannot look at
//! its process; on SIGTSTP (Ctrl-Z) it withdraws its state before it stops; a config that breaks at reload keeps the last good
//! one and says why; on SIGTERM/SIGINT the published files are removed, so no stale "ok" is left.
//! It never writes to another tool's files.

mod agents;
mod alerts;
mod contexts;
mod events;
mod inotify;
mod journaling;
mod keyring;
mod leads;
mod probes;
mod publication;
mod reads;
mod schedule;
mod serve;
mod settle;
mod tracked;
mod wallclock;
mod watching;

use crate::define::config::{self, Config};
use crate::engine::{journal::Journal, memory::Memory};
use crate::publish::prompt;
use crate::support::paths;
use crate::support::runtime::{self, LOCK_FILE};

use crate::support::timefmt::Timestamp;
use crate::support::watch::{self, Watcher};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit code when the daemon cannot run (another one runs, the runtime dir is unusable).
pub const EXIT_CANNOT_RUN: i32 = 1;
/// The longest single sleep. Deadlines wait on a wall-clock timer that counts suspended time and
/// wakes on clock changes (`wallclock`); this only bounds what a missed wake-up could cost.
const MAX_SLEEP_MS: i64 = 10 * 60 * 1000;
/// How soon the runtime dir is looked at again when its lock could not be taken (the dir was
/// being removed).
const RUNTIME_RETRY_MS: i64 = 250;
/// How often an idle daemon republishes its state's validity.
const HEARTBEAT_MS: i64 = 15 * 60 * 1000;
/// How long past the last heartbeat a published state holds: a daemon frozen by SIGSTOP is taken
/// for stopped by the shell hooks at most this long after its last heartbeat.
const VALIDITY_CAP_MS: i64 = HEARTBEAT_MS + 2 * 60 * 1000;

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
        Err(LockFailure::Held(message) | LockFailure::Unusable(message)) => {
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Few blocking tasks (large stores' reads): one thread for them keeps memory flat (each
        // extra thread would keep a malloc arena).
        .max_blocking_threads(1)
        .build()?;
    let _in_runtime = runtime.enter();
    let watcher = match Watcher::new() {
        Ok(watcher) => watcher,
        Err(errno) => {
            eprintln!("credwatch daemon: {}", watch::instance_failure(errno));
            return Ok(EXIT_CANNOT_RUN);
        }
    };
    let mut daemon = Daemon {
        config_path: options.config_path,
        config,
        config_error: None,
        entries: Vec::new(),
        watching: watching::Watching::new(watcher),
        prompt: prompt::Publisher::new(&runtime_dir, std::process::id()),
        contexts: contexts::Contexts::new(&runtime_dir),
        environment: Default::default(),
        runtime_dir,
        lock,
        runtime_retry_at: None,
        stop: None,
        heartbeat_at: Timestamp::now(),
        journal: journaling::JournalWriter::new(Journal::new(&state_dir)),
        memory: Memory::load(Some(&state_dir)),
        state_dir,
        grace_ms: options.grace_ms,
        pid: std::process::id(),
        dirty: true,
        published_until: None,
        memory_dirty: false,
        keyring: keyring::KeyringLink::new(),
        probes: probes::ProbeLink::new(),
        reads: reads::ReadLink::new(),
        agents: agents::AgentLink::new(),
        textfile_override: options.prometheus_textfile,
        alerts: alerts::AlertLink::new(),
        quiet: alerts::Quiet::default(),
    };
    runtime.block_on(daemon.serve())
}

/// Why the per-user lock was not taken.
enum LockFailure {
    /// Another daemon holds it (the message says which pid).
    Held(String),
    /// The lock file could not be opened or locked (the runtime dir is being removed, …).
    Unusable(String),
}

/// Takes the per-user lock, or says which pid holds it.
fn acquire_lock(runtime_dir: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, LockFailure> {
    let path = runtime_dir.join(LOCK_FILE);
    let file = crate::support::runtime::open_own_for_writing(&path, false).map_err(|e| {
        LockFailure::Unusable(format!("cannot open {}: {e}", paths::display(&path)))
    })?;
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
            let holder = crate::support::runtime::read_own(&path, 4096)
                .ok()
                .flatten()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let pid = holder.split_whitespace().next().unwrap_or("?");
            Err(LockFailure::Held(format!(
                "another credwatch daemon is already running (pid {pid}); only one runs per user\n  fix: use that one (credwatch status), or stop it first: kill {pid}"
            )))
        }
        Err((_, errno)) => Err(LockFailure::Unusable(format!(
            "cannot lock {}: {errno}",
            paths::display(&path)
        ))),
    }
}

struct Daemon {
    config_path: Option<PathBuf>,
    config: Config,
    config_error: Option<String>,
    entries: Vec<tracked::Tracked>,
    /// The watches, and which credentials a changed path touches.
    watching: watching::Watching,
    runtime_dir: PathBuf,
    /// The per-user lock, taken again if the runtime dir is recreated.
    lock: nix::fcntl::Flock<std::fs::File>,
    /// When to look at the runtime dir again: its lock could not be taken (it was being
    /// removed).
    runtime_retry_at: Option<Timestamp>,
    /// Set when the daemon must stop (its runtime dir was taken over): the exit code.
    stop: Option<i32>,
    /// The last heartbeat: the published state never holds longer than [`VALIDITY_CAP_MS`] past it.
    heartbeat_at: Timestamp,
    /// The prompt file and its marker.
    prompt: prompt::Publisher,
    /// The shells' contexts, and the prompt file of each shell.
    contexts: contexts::Contexts,
    /// Its own value of each variable that selects a login of a credential in play (published:
    /// a reader whose values differ checks again).
    environment: std::collections::BTreeMap<String, Option<String>>,
    state_dir: PathBuf,
    /// The journal, written once per batch.
    journal: journaling::JournalWriter,
    memory: Memory,
    grace_ms: i64,
    pid: u32,
    /// Something visible changed since the last publication.
    dirty: bool,
    /// The validity (`next_state_change`) last published; `None` before the first publication.
    /// A new validity alone is published too: readers judge the state stale after it.
    published_until: Option<Option<Timestamp>>,
    /// Memory changes waiting for the end of the batch.
    memory_dirty: bool,
    keyring: keyring::KeyringLink,
    probes: probes::ProbeLink,
    reads: reads::ReadLink,
    /// The ssh-agents being asked off the event loop.
    agents: agents::AgentLink,
    /// `--prometheus-textfile`, which wins over the config's.
    textfile_override: Option<PathBuf>,
    /// Notifications and hooks, and their rate limits.
    alerts: alerts::AlertLink,
    quiet: alerts::Quiet,
}

impl Daemon {
    /// Ends a batch: one journal append, one memory save, one publication at most.
    fn after_refresh(&mut self) {
        if self.contexts.stale || self.dirty {
            self.judge_contexts();
        }
        if std::mem::take(&mut self.watching.retarget) {
            self.reindex();
            self.rewatch();
        }
        self.journal.end_batch();
        if std::mem::take(&mut self.memory_dirty) {
            if let Err(error) = self.memory.save(&self.state_dir) {
                tracing::warn!(%error, "cannot save the memory of credentials seen");
            }
        }
        self.publish();
        self.agents.ask_wanted();
    }
}
