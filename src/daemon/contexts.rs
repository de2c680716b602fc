//! Shells' contexts: which login a command uses is decided by the shell it runs in
//! (`KUBECONFIG=~/.kube/prod`, `AWS_PROFILE=admin`, `GH_TOKEN` set), not by the daemon's own
//! environment.
//!
//! A shell hook writes `context/PID` in the runtime dir at its first prompt and when one of the
//! variables that select a login changed since (never in the steady state): NUL-separated records, the
//! context's generation (digits) first, then `NAME=VALUE` for a variable set, `NAME` for one
//! unset, and `end` last. A shadowing variable (`GH_TOKEN`) is carried as `1` when set: its
//! value never leaves the shell. The daemon reduces each context to the variables whose value
//! differs from its own environment, judges once per distinct reduced context the credentials
//! those variables select (in that environment: `support::environ`), watches what the context
//! points at, and publishes `shell/PID` (the prompt file with the generation it answers) for
//! each shell. Shells that share a context share its judgement. A shell that asked with the
//! record `@wake` (bash, fish) gets SIGURG, through a pidfd, when what its file shows changed, unless
//! it waits for a child (bash would end a `wait` builtin early).
//!
//! Guarantees: a context file is read only when it is a regular file of ours in our private
//! runtime dir, at most [`CONTEXT_LIMIT`] bytes, complete (ends with `end`), with valid names;
//! at most [`SHELL_LIMIT`] shells are followed; a shell's files are removed when it exits
//! (a pidfd tells, at no cost while it runs), its context dropped when no shell uses it.

use super::Daemon;
use crate::engine::{self, KeyringSource};
use crate::publish::prompt::{self, PromptFile, PromptItem};
use crate::publish::report::{credential_report, CredentialReport};
use crate::store::{self, WatchTarget};
use crate::support::environ::{self, Environment};
use crate::support::runtime;
use crate::support::timefmt::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Written by the shells' hooks.
pub const CONTEXT_DIR: &str = "context";
/// Published by the daemon, one prompt file per shell.
pub const SHELL_DIR: &str = prompt::SHELL_DIR;
/// A context file larger than this is not read.
pub const CONTEXT_LIMIT: u64 = 64 * 1024;
/// At most this many shells are followed; the others see the daemon's own view.
pub const SHELL_LIMIT: usize = 256;
/// The index the target index gives to what contexts point at.
pub(super) const CONTEXT_TARGET: usize = usize::MAX;

/// A shell that handed its context over.
struct Shell {
    generation: String,
    /// Its context reduced to what differs from the daemon's environment.
    key: Environment,
    publisher: prompt::Publisher,
    /// Tells the loop when the shell exits.
    exit_watch: Option<tokio::task::JoinHandle<()>>,
    /// A pidfd to wake the shell with when what it shows changes (it asked, `@wake`).
    wake: Option<rustix::fd::OwnedFd>,
}

impl Drop for Shell {
    fn drop(&mut self) {
        if let Some(task) = self.exit_watch.take() {
            task.abort();
        }
        self.publisher.withdraw();
    }
}

/// One distinct context, judged: the credentials its variables select, as they are there.
#[derive(Default)]
struct Judged {
    /// Entry index → its report in this context (`None`: not found there).
    reports: BTreeMap<usize, Option<CredentialReport>>,
    targets: Vec<PathBuf>,
    next_change: Option<Timestamp>,
    /// When to judge it again because one of its stores must be polled (an ssh-agent).
    poll_at: Option<Timestamp>,
}

pub(super) struct Contexts {
    context_dir: PathBuf,
    shell_dir: PathBuf,
    shells: BTreeMap<u32, Shell>,
    judged: BTreeMap<Environment, Judged>,
    /// Something a context depends on may have changed: judge again before publishing.
    pub(super) stale: bool,
    /// A judgement or a shell changed: publish the shells' files at the next publication.
    pub(super) republish: bool,
    exited: mpsc::UnboundedSender<u32>,
    exited_receiver: Option<mpsc::UnboundedReceiver<u32>>,
}

impl Contexts {
    pub(super) fn new(runtime_dir: &Path) -> Contexts {
        let (exited, exited_receiver) = mpsc::unbounded_channel();
        Contexts {
            context_dir: runtime_dir.join(CONTEXT_DIR),
            shell_dir: runtime_dir.join(SHELL_DIR),
            shells: BTreeMap::new(),
            judged: BTreeMap::new(),
            stale: false,
            republish: false,
            exited,
            exited_receiver: Some(exited_receiver),
        }
    }

    pub(super) fn take_receiver(&mut self) -> mpsc::UnboundedReceiver<u32> {
        self.exited_receiver
            .take()
            .expect("the receiver is taken once")
    }

    pub(super) fn context_dir(&self) -> &Path {
        &self.context_dir
    }

    /// Removes every shell's prompt file (the daemon stops or is suspended); they are written
    /// again at the next publication.
    pub(super) fn withdraw(&mut self) {
        for shell in self.shells.values_mut() {
            shell.publisher.withdraw();
        }
    }

    /// What the judged contexts point at, to watch.
    pub(super) fn targets(&self) -> impl Iterator<Item = &PathBuf> {
        self.judged.values().flat_map(|j| &j.targets)
    }

    /// When the contexts must be judged again by themselves: a state changes, a store must be
    /// polled.
    pub(super) fn next_wake(&self) -> Option<Timestamp> {
        self.judged
            .values()
            .flat_map(|j| [j.next_change, j.poll_at])
            .flatten()
            .min()
    }
}

/// A context file's content: its generation and variables; `None` when it is not complete or
/// not well formed (a hook writing it right now, or not ours to trust).
/// What a shell's hook handed over in its context file.
#[derive(Debug, PartialEq)]
pub struct HandedContext {
    pub generation: String,
    /// Each variable's value (`None`: unset or empty).
    pub values: BTreeMap<String, Option<OsString>>,
    /// The record `@wake`: the shell asks for SIGURG when what it shows changes (bash and fish,
    /// which then need not look again before each command).
    pub wake: bool,
}

/// The record by which a shell asks to be woken.
pub const WAKE_RECORD: &[u8] = b"@wake";

pub fn parse_context(bytes: &[u8]) -> Option<HandedContext> {
    let mut records: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
    // The file ends with a NUL: the last split is empty.
    if records.pop() != Some(&[][..]) || records.pop() != Some(&b"end"[..]) {
        return None;
    }
    let (generation, variables) = records.split_first()?;
    let generation = std::str::from_utf8(generation).ok()?;
    if generation.is_empty()
        || generation.len() > 40
        || !generation.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut values = BTreeMap::new();
    let mut wake = false;
    for record in variables {
        if *record == WAKE_RECORD {
            wake = true;
            continue;
        }
        let (name, value) = match record.iter().position(|b| *b == b'=') {
            Some(at) => (&record[..at], Some(&record[at + 1..])),
            None => (&record[..], None),
        };
        if !environ::is_name(name) {
            return None;
        }
        values.insert(
            String::from_utf8_lossy(name).into_owned(),
            value
                .filter(|v| !v.is_empty())
                .map(|v| OsString::from_vec(v.to_vec())),
        );
    }
    Some(HandedContext {
        generation: generation.to_string(),
        values,
        wake,
    })
}

/// `values` reduced to the variables whose value differs from this process's environment; a
/// shadowing variable (in `shadows`) counts as set or not.
fn reduce(values: BTreeMap<String, Option<OsString>>, shadows: &BTreeSet<&str>) -> Environment {
    let set = |v: &Option<OsString>| v.as_ref().is_some_and(|v| store::env::is_set(v));
    let reduced = values
        .into_iter()
        .filter_map(|(name, value)| {
            let own = std::env::var_os(&name).filter(|v| !v.is_empty());
            if shadows.contains(name.as_str()) {
                let (theirs, ours) = (set(&value), set(&own));
                (theirs != ours).then(|| (name, theirs.then(|| OsString::from("1"))))
            } else {
                (value != own).then_some((name, value))
            }
        })
        .collect();
    Environment::new(reduced)
}

/// A task that sends `pid` when it exits (a pidfd), `Ok(None)` when there is no pidfd (a kernel
/// before 5.3: the heartbeat looks for it, `drop_gone_shells`); `Err` when it is gone already.
fn exit_watch(
    pid: u32,
    exited: mpsc::UnboundedSender<u32>,
) -> Result<Option<tokio::task::JoinHandle<()>>, ()> {
    let fd = match pidfd(pid) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::SRCH) => return Err(()),
        Err(error) => {
            tracing::debug!(%error, pid, "no pidfd for a shell");
            return Ok(None);
        }
    };
    let Ok(fd) = crate::support::readable::Readable::new(fd) else {
        return Ok(None);
    };
    Ok(Some(tokio::spawn(async move {
        let _ = fd.readable().await;
        let _ = exited.send(pid);
    })))
}

/// A pidfd of `pid` (`SRCH`: it is gone, or no valid pid; another error: no pidfds, a kernel
/// before 5.3).
fn pidfd(pid: u32) -> rustix::io::Result<rustix::fd::OwnedFd> {
    let raw = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or(rustix::io::Errno::SRCH)?;
    rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty())
}

/// Wakes a shell whose state changed (SIGURG, ignored by default: a pidfd names the very
/// process that asked, never one that took its pid later). Not while it waits for a child: in
/// bash a trapped signal ends the `wait` builtin early, and the next prompt looks anyway. At
/// its prompt bash runs the hook's trap once the line is entered, before the line runs.
fn wake(pid: u32, pidfd: &rustix::fd::OwnedFd) {
    let waiting_for_a_child = std::fs::read(format!("/proc/{pid}/wchan"))
        .is_ok_and(|wchan| wchan.starts_with(b"do_wait"));
    if waiting_for_a_child {
        tracing::debug!(pid, "a shell waits for a command: not woken");
        return;
    }
    if let Err(error) = rustix::process::pidfd_send_signal(pidfd, rustix::process::Signal::URG) {
        tracing::debug!(%error, pid, "cannot wake a shell");
    }
}

fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

impl Daemon {
    /// Creates the two directories, forgets what an earlier daemon published for shells, and
    /// reads the contexts the shells left.
    pub(super) fn start_contexts(&mut self) {
        let context_dir = self.contexts.context_dir.clone();
        let shell_dir = self.contexts.shell_dir.clone();
        for dir in [&context_dir, &shell_dir] {
            if let Err(error) = runtime::ensure_private_dir(dir) {
                tracing::warn!(%error, "shells' contexts cannot be kept: prompts show the daemon's view");
                return;
            }
        }
        if let Ok(entries) = std::fs::read_dir(&shell_dir) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        self.contexts.shells.clear();
        if let Ok(entries) = std::fs::read_dir(&context_dir) {
            let paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            for path in paths {
                self.context_changed(&path);
            }
        }
    }

    /// A context file was written or removed.
    pub(super) fn context_changed(&mut self, path: &Path) {
        let Some(pid) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
        else {
            return;
        };
        let content = match runtime::read_own(path, CONTEXT_LIMIT) {
            Ok(Some(bytes)) => parse_context(&bytes),
            Ok(None) => None,
            Err(why) => {
                tracing::warn!(%why, "a shell's context is not to be trusted: ignored");
                None
            }
        };
        let Some(HandedContext {
            generation,
            values,
            wake,
        }) = content
        else {
            if !path.exists() {
                self.shell_exited(pid);
            }
            return;
        };
        if !alive(pid) {
            let _ = std::fs::remove_file(path);
            self.shell_exited(pid);
            return;
        }
        let shadows: BTreeSet<String> = self
            .entries
            .iter()
            .flat_map(|e| e.candidate.definition.context_variables().shadows)
            .collect();
        let shadows: BTreeSet<&str> = shadows.iter().map(String::as_str).collect();
        let key = reduce(values, &shadows);
        let contexts = &mut self.contexts;
        if !contexts.shells.contains_key(&pid) && contexts.shells.len() >= SHELL_LIMIT {
            tracing::warn!(
                pid,
                limit = SHELL_LIMIT,
                "too many shells: this one sees the daemon's own view"
            );
            return;
        }
        match contexts.shells.get_mut(&pid) {
            Some(shell) => {
                shell.generation = generation;
                shell.key = key;
                if wake != shell.wake.is_some() {
                    shell.wake = wake.then(|| pidfd(pid).ok()).flatten();
                }
            }
            None => {
                let Ok(exit_watch) = exit_watch(pid, contexts.exited.clone()) else {
                    let _ = std::fs::remove_file(path);
                    return;
                };
                contexts.shells.insert(
                    pid,
                    Shell {
                        generation,
                        key,
                        publisher: prompt::Publisher::named(
                            &contexts.shell_dir,
                            &pid.to_string(),
                            self.pid,
                        ),
                        exit_watch,
                        wake: wake.then(|| pidfd(pid).ok()).flatten(),
                    },
                );
            }
        }
        contexts.stale = true;
    }

    /// Drops the shells that no longer run (what a pidfd tells at once; without one, the
    /// heartbeat finds them).
    pub(super) fn drop_gone_shells(&mut self) {
        let gone: Vec<u32> = self
            .contexts
            .shells
            .keys()
            .copied()
            .filter(|pid| !alive(*pid))
            .collect();
        for pid in gone {
            self.shell_exited(pid);
        }
    }

    /// A shell exited: its files go, and its context when no other shell uses it.
    pub(super) fn shell_exited(&mut self, pid: u32) {
        if self.contexts.shells.remove(&pid).is_none() {
            return;
        }
        let _ = std::fs::remove_file(self.contexts.context_dir.join(pid.to_string()));
        let used: BTreeSet<&Environment> = self.contexts.shells.values().map(|s| &s.key).collect();
        let before = self.contexts.judged.len();
        self.contexts.judged.retain(|key, _| used.contains(key));
        if self.contexts.judged.len() != before {
            self.watching.retarget = true;
        }
    }

    /// Judges every context in use again: the credentials its variables select, observed and
    /// evaluated in it (the keyring as the daemon last saw it).
    pub(super) fn judge_contexts(&mut self) {
        self.contexts.stale = false;
        self.contexts.republish = true;
        let keys: BTreeSet<Environment> = self
            .contexts
            .shells
            .values()
            .map(|s| s.key.clone())
            .filter(|k| k.iter().next().is_some())
            .collect();
        if keys.is_empty() && self.contexts.judged.is_empty() {
            return;
        }
        let old_targets: Vec<PathBuf> = self.contexts.targets().cloned().collect();
        let now = Timestamp::now();
        // Each definition's variables, once for all contexts.
        let variables: Vec<Vec<String>> = self
            .entries
            .iter()
            .map(|e| {
                let variables = e.candidate.definition.context_variables();
                variables
                    .selects
                    .into_iter()
                    .chain(variables.shadows)
                    .collect()
            })
            .collect();
        let mut judged = BTreeMap::new();
        for key in keys {
            let mut verdicts = Judged::default();
            for (i, entry) in self.entries.iter().enumerate() {
                let definition = &entry.candidate.definition;
                if !variables[i].iter().any(|name| key.get(name).is_some()) {
                    continue;
                }
                let context = engine::Context {
                    memory: &self.memory,
                    env_is_users_shell: true,
                    keyring: KeyringSource::Known(entry.keyring.as_ref()),
                    probe: None,
                };
                let (report, targets) = environ::within(&key, || {
                    let checked = engine::judge(
                        &self.config,
                        &entry.candidate,
                        store::observe(definition),
                        &context,
                    );
                    (
                        checked.map(|c| (credential_report(&c), c.verdict.next_change_at)),
                        engine::watch_targets(definition),
                    )
                });
                // Its next change, and the moment a long command's warning about it begins.
                let long_command = report.as_ref().and_then(|(report, _)| {
                    let item = PromptItem::of(report, definition);
                    crate::publish::prompt::next_long_command_warning(
                        &self.config.long_commands,
                        &[item],
                        now,
                    )
                });
                for at in [report.as_ref().and_then(|(_, at)| *at), long_command]
                    .into_iter()
                    .flatten()
                {
                    verdicts.next_change = Some(verdicts.next_change.map_or(at, |n| n.min(at)));
                }
                verdicts.reports.insert(i, report.map(|(r, _)| r));
                for target in targets {
                    match target {
                        WatchTarget::Path(path) => verdicts.targets.push(path),
                        WatchTarget::Poll(every) => {
                            let at = now.saturating_add_millis(every);
                            verdicts.poll_at = Some(verdicts.poll_at.map_or(at, |p| p.min(at)));
                        }
                        WatchTarget::SecretService => {}
                    }
                }
            }
            judged.insert(key, verdicts);
        }
        self.contexts.judged = judged;
        if self.contexts.targets().ne(old_targets.iter()) {
            self.watching.retarget = true;
        }
    }

    /// Publishes each shell's prompt file: the daemon's reports, with those judged in the
    /// shell's context in their place.
    pub(super) fn publish_shells(&mut self, base_valid_until: Option<Timestamp>) {
        let contexts = &mut self.contexts;
        for (pid, shell) in contexts.shells.iter_mut() {
            let judged = contexts.judged.get(&shell.key);
            let items: Vec<PromptItem<'_>> = self
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| {
                    let report = match judged.and_then(|j| j.reports.get(&i)) {
                        Some(in_context) => in_context.as_ref(),
                        None => e.report.as_ref().map(|(report, _)| report),
                    }?;
                    Some(PromptItem::of(report, &e.candidate.definition))
                })
                .collect();
            let valid_until = [base_valid_until, judged.and_then(|j| j.next_change)]
                .into_iter()
                .flatten()
                .min();
            let file = PromptFile::new(
                &self.config,
                &items,
                self.pid,
                valid_until,
                Timestamp::now(),
            )
            .for_shell(&shell.generation);
            match shell.publisher.publish(file) {
                Ok(true) => {
                    if let Some(pidfd) = &shell.wake {
                        wake(*pid, pidfd);
                    }
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "cannot publish a shell's prompt file"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_file_is_read_only_when_complete_and_well_formed() {
        let handed =
            parse_context(b"42\0KUBECONFIG=/k/prod\0AWS_PROFILE\0GH_TOKEN=1\0end\0").unwrap();
        assert_eq!(handed.generation, "42");
        assert_eq!(handed.values["KUBECONFIG"], Some(OsString::from("/k/prod")));
        assert_eq!(handed.values["AWS_PROFILE"], None);
        assert_eq!(handed.values.len(), 3);
        assert!(!handed.wake);
        let handed = parse_context(b"7\0@wake\0AWS_PROFILE=dev\0end\0").unwrap();
        assert!(handed.wake, "bash asks to be woken");
        assert_eq!(handed.values.len(), 1, "@wake is not a variable");
        for bad in [
            &b"42\0KUBECONFIG=/k/prod\0"[..],
            b"42\0KUBECONFIG=/k/prod\0end",
            b"x\0end\0",
            b"\0end\0",
            b"42\0BAD-NAME=1\0end\0",
            b"42\0=1\0end\0",
            b"42\0@sleep\0end\0",
            b"",
        ] {
            assert!(parse_context(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn only_what_differs_from_the_daemon_is_kept_and_a_shadow_is_set_or_not() {
        let shadows: BTreeSet<&str> = ["CREDWATCH_TEST_SHADOW"].into();
        let values: BTreeMap<String, Option<OsString>> = [
            (
                "CREDWATCH_TEST_SELECT".to_string(),
                Some(OsString::from("/x")),
            ),
            ("CREDWATCH_TEST_UNSET".to_string(), None),
            (
                "CREDWATCH_TEST_SHADOW".to_string(),
                Some(OsString::from("1")),
            ),
        ]
        .into();
        let key = reduce(values, &shadows);
        assert_eq!(
            key.get("CREDWATCH_TEST_SELECT"),
            Some(Some(&OsString::from("/x")))
        );
        assert_eq!(key.get("CREDWATCH_TEST_UNSET"), None, "the same as here");
        assert_eq!(
            key.get("CREDWATCH_TEST_SHADOW"),
            Some(Some(&OsString::from("1")))
        );
    }
}
