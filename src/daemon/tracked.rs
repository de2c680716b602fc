//! What the daemon knows of each credential between events ([`Tracked`]): its definition, what
//! its stores say to watch, the last check and what was published of it, and what happened to
//! its stores (written, lost, their keyring items, its probe). Refreshing one observes and
//! evaluates it again, journals what changed in its stores and state, and keeps a loss in view.

use super::settle::Settling;
use super::{leads, probes, reads, Daemon};
use crate::define::state::Group;
use crate::engine::memory::KeptIn;
use crate::engine::{self, journal, Candidate, Checked, Context};
use crate::evaluate;
use crate::publish::report::{credential_report, CredentialReport};
use crate::store::{Content, FileFacts, FileStatus, Presence, WatchTarget};
use crate::support::paths;
use crate::support::timefmt::Timestamp;
use serde_json::value::RawValue;
use std::path::PathBuf;

/// What the daemon knows of one credential between events.
pub(super) struct Tracked {
    pub(super) candidate: Candidate,
    /// What its stores say to watch (store paths, globs as patterns, the account marker; the
    /// Secret Service; a poll period).
    pub(super) targets: Vec<WatchTarget>,
    pub(super) checked: Option<Checked>,
    /// What is published for it, kept to tell whether a refresh changed anything visible,
    /// with its JSON serialised once (publication splices these instead of re-serialising all).
    pub(super) report: Option<(CredentialReport, Box<RawValue>)>,
    fingerprint: Option<Fingerprint>,
    pub(super) last_write: Option<Timestamp>,
    pub(super) recheck_at: Option<Timestamp>,
    pub(super) loss: Option<evaluate::Loss>,
    /// Its working login overwritten by a logged-out copy, while it stays so.
    pub(super) overwrite: Option<evaluate::Overwrite>,
    /// The last keyring lookup for it, and whether one is under way (or wanted again after it).
    pub(super) keyring: Option<crate::store::keyring::KeyringObservation>,
    pub(super) keyring_fetching: bool,
    pub(super) keyring_again: bool,
    /// When it was last looked at because its kind of store must be polled.
    pub(super) polled_at: Option<Timestamp>,
    /// Its recorded state, and a new one that has not held long enough yet.
    pub(super) settling: Settling,
    pub(super) probe: probes::ProbeState,
    /// A read of its large store under way off the event loop.
    pub(super) read: reads::ReadState,
    /// The lead times before its deadline reached so far.
    pub(super) leads: leads::Leads,
    /// One of the tool's own logout commands seen running when its store changed, and when.
    pub(super) logout_seen: Option<(Timestamp, String)>,
}

impl Tracked {
    /// The paths to watch with inotify, and to match events against.
    pub(super) fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.targets.iter().filter_map(|t| match t {
            WatchTarget::Path(path) => Some(path),
            _ => None,
        })
    }

    /// The bytes its store files hold now (what reading them will cost).
    fn store_size(&self) -> u64 {
        self.paths()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len())
            .sum()
    }

    /// How often its kind of store must be looked at, when nothing tells it changed (ms).
    pub(super) fn poll_every(&self) -> Option<i64> {
        self.targets
            .iter()
            .filter_map(|t| match t {
                WatchTarget::Poll(every) => Some(*every),
                _ => None,
            })
            .min()
    }
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

impl Daemon {
    /// The entry of the credential named `name`, if it is still configured.
    pub(super) fn entry_index(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.candidate.definition.name == name)
    }

    pub(super) fn active_count(&self) -> usize {
        self.entries.iter().filter(|e| e.checked.is_some()).count()
    }

    /// (Re)creates entries from the config, keeping what was known of credentials by name.
    pub(super) fn rebuild_entries(&mut self) {
        let candidates = match engine::candidates(&self.config) {
            Ok(c) => c,
            Err(error) => {
                self.config_error = Some(format!("{error:#}"));
                return;
            }
        };
        let mut old: Vec<Tracked> = std::mem::take(&mut self.entries);
        for candidate in candidates {
            let targets = engine::watch_targets(&candidate.definition);
            let kept = old
                .iter()
                .position(|e| e.candidate.definition.name == candidate.definition.name)
                .map(|i| old.swap_remove(i));
            self.entries.push(Tracked {
                candidate,
                targets,
                checked: None,
                report: None,
                fingerprint: kept.as_ref().and_then(|e| e.fingerprint.clone()),
                last_write: kept.as_ref().and_then(|e| e.last_write),
                recheck_at: kept.as_ref().and_then(|e| e.recheck_at),
                loss: kept.as_ref().and_then(|e| e.loss),
                overwrite: kept.as_ref().and_then(|e| e.overwrite),
                keyring: kept.as_ref().and_then(|e| e.keyring.clone()),
                keyring_fetching: false,
                keyring_again: false,
                polled_at: None,
                settling: kept
                    .as_ref()
                    .map(|e| e.settling.clone())
                    .unwrap_or_default(),
                leads: kept.as_ref().map(|e| e.leads).unwrap_or_default(),
                logout_seen: None,
                probe: kept.map(|e| e.probe).unwrap_or_default(),
                read: reads::ReadState::default(),
            });
        }
        self.environment = self
            .entries
            .iter()
            .flat_map(|e| crate::publish::report::judged_in(&e.candidate.definition))
            .collect();
        self.reindex();
    }

    /// Rebuilds the index from paths to credentials.
    pub(super) fn reindex(&mut self) {
        let config = self.config_targets();
        self.watching.reindex(
            self.entries
                .iter()
                .enumerate()
                .flat_map(|(i, e)| e.paths().map(move |t| (i, t)))
                .chain(
                    self.contexts
                        .targets()
                        .map(|t| (super::contexts::CONTEXT_TARGET, t)),
                ),
            &config,
        );
    }

    pub(super) fn config_targets(&self) -> Vec<PathBuf> {
        self.config_path.iter().cloned().collect()
    }

    pub(super) fn refresh_all(&mut self) {
        let started = std::time::Instant::now();
        let all: Vec<usize> = (0..self.entries.len()).collect();
        self.refresh_entries(all, Timestamp::now());
        self.after_refresh();
        tracing::info!(
            credentials = self.entries.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "full rescan"
        );
    }

    /// Re-observes these credentials: small stores here, smallest first; a large one (a fleet's
    /// kubeconfig) on a thread of its own (`reads`), so one slow store never holds back the
    /// others. A first scan reads everything here: nothing is published before all is known.
    pub(super) fn refresh_entries(&mut self, indices: Vec<usize>, now: Timestamp) {
        let mut by_size: Vec<(u64, usize)> = indices
            .into_iter()
            .map(|i| (self.entries[i].store_size(), i))
            .collect();
        by_size.sort_unstable();
        for (size, i) in by_size {
            if size > reads::LARGE && self.entries[i].fingerprint.is_some() {
                tracing::debug!(
                    credential = %self.entries[i].candidate.definition.name,
                    bytes = size,
                    "large store: reading it off the event loop"
                );
                self.read_in_background(i);
            } else {
                self.refresh_entry(i, now);
            }
        }
    }

    /// Re-observes one credential, journals what changed, and applies the post-write re-check.
    pub(super) fn refresh_entry(&mut self, index: usize, now: Timestamp) {
        let observation = crate::store::observe(&self.entries[index].candidate.definition);
        self.apply_observation(index, observation, now);
    }

    /// Judges what was observed of one credential, journals what changed, and applies the
    /// post-write re-check.
    pub(super) fn apply_observation(
        &mut self,
        index: usize,
        observation: crate::store::Observation,
        now: Timestamp,
    ) {
        let context = Context {
            memory: &self.memory,
            env_is_users_shell: false,
            keyring: engine::KeyringSource::Known(self.entries[index].keyring.as_ref()),
            probe: self.entries[index].probe.report.as_ref(),
        };
        let mut checked = engine::judge(
            &self.config,
            &self.entries[index].candidate,
            observation,
            &context,
        );
        let entry = &mut self.entries[index];
        entry.polled_at = Some(now);
        let name = entry.candidate.definition.name.clone();
        let mut log = Vec::new();
        // The first scan sets the baseline; a credential not watched yet counts as absent, so one
        // that appears later is journaled as created.
        let mut fingerprint = checked
            .as_ref()
            .map_or_else(Fingerprint::absent, fingerprint_of);
        // Whether a store holds a login is not known while it cannot be reached (a locked
        // keyring): that is no blanking, and no new login either.
        if checked
            .as_ref()
            .is_some_and(|c| c.verdict.state.group() == Group::Undetermined)
        {
            if let Some(old) = &entry.fingerprint {
                fingerprint.holds_login = old.holds_login;
            }
        }
        let fingerprint = Some(fingerprint);
        if let (Some(old), Some(new)) = (&entry.fingerprint, &fingerprint) {
            for event in store_events(old, new) {
                let mut line = journal::Record::new(now, &name, event);
                line.path = Some(paths::display(&new.path));
                log.push(line);
                if matches!(event, "created" | "modified") && new.holds_login {
                    entry.last_write = Some(now);
                    entry.recheck_at = Some(now.saturating_add_millis(self.grace_ms));
                }
                // A working login written over with a logged-out copy (the store's file itself
                // rewritten: not a login that another file, a configuration, stopped naming),
                // by no logout of the tool's: how many of its processes run now (read from
                // /proc, never touched).
                let definition = &entry.candidate.definition;
                let rewritten =
                    old.path == new.path && (old.modified != new.modified || old.size != new.size);
                if event == "blanked"
                    && rewritten
                    && definition.refresh_token.is_some()
                    && entry.logout_seen.is_none()
                {
                    let programs: Vec<&str> = definition
                        .commands
                        .iter()
                        .filter_map(|c| c.split_whitespace().next())
                        .collect();
                    // (Sessions of this home's login only: another HOME has a store of its own.)
                    let home = crate::support::paths::home_dir().unwrap_or_default();
                    entry.overwrite = Some(evaluate::Overwrite {
                        at: now,
                        processes: crate::support::processes::count_running_in_home(
                            &programs,
                            std::os::unix::ffi::OsStrExt::as_bytes(home.as_os_str()),
                        ),
                    });
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
            if print.holds_login {
                entry.overwrite = None;
            }
            if entry.loss.is_some() || entry.overwrite.is_some() {
                checked.history.loss = entry.loss;
                checked.history.overwrite = entry.overwrite;
                engine::rejudge(&self.config, checked);
            }
        }
        // The published state follows every step; the transition is recorded once it held.
        if let Some(checked) = &checked {
            entry
                .settling
                .saw(checked.verdict.state, &checked.verdict.reason, now);
            entry.leads.saw(
                checked.verdict.expires_at,
                now,
                &self.config.alerts.lead_times_ms,
            );
        }
        let usable = checked
            .as_ref()
            .is_some_and(|c| c.verdict.state.is_usable());
        // A new login of a forgotten credential: it is watched again.
        if usable && self.memory.forgotten.credentials.remove(&name).is_some() {
            tracing::info!(credential = %name, "a usable login appeared: no longer forgotten");
            save_forgotten(&self.memory.forgotten, &self.state_dir);
        }
        // A store that stopped being usable while the tool's own logout ran: logged out on
        // purpose. Forgotten, as `credwatch forget` would, until a new login appears.
        if let Some((seen_at, command)) = entry.logout_seen.take() {
            if !usable
                && now.millis() - seen_at.millis() <= LOGOUT_WINDOW_MS
                && !self.memory.forgotten.contains(&name)
            {
                self.memory
                    .forgotten
                    .credentials
                    .insert(name.clone(), now.rfc3339());
                save_forgotten(&self.memory.forgotten, &self.state_dir);
                if let Some(checked) = checked.as_mut() {
                    checked.history.forgotten = true;
                }
                tracing::info!(credential = %name, %command, "logged out on purpose: forgotten until a new login");
                let mut line = journal::Record::new(now, &name, "forgotten");
                line.detail = Some(format!(
                    "logged out with `{command}`: no flag, no warning and no failing exit code until a new login (undo: credwatch forget --undo {name})"
                ));
                log.push(line);
            }
        }
        let present_at = checked.as_ref().and_then(|c| c.observation.present_at());
        let kept = checked
            .as_ref()
            .and_then(|c| KeptIn::of(&c.definition, &c.observation));
        if checked.is_some()
            && self
                .memory
                .record(&name, present_at.as_deref(), usable, kept, now)
        {
            self.memory_dirty = true;
        }
        let report = checked.as_ref().map(credential_report);
        let changed = !same_visible(entry.report.as_ref().map(|(r, _)| r), report.as_ref());
        if changed {
            self.dirty = true;
        }
        entry.report = report.and_then(|report| {
            let json = serde_json::value::to_raw_value(&report).ok()?;
            Some((report, json))
        });
        entry.fingerprint = fingerprint;
        entry.checked = checked;
        // A file that names the store (`file_from`) may name another one now.
        if entry.candidate.definition.file_from.is_some() {
            let targets = engine::watch_targets(&entry.candidate.definition);
            if targets != entry.targets {
                entry.targets = targets;
                self.watching.retarget = true;
            }
        }
        self.journal.extend(log);
        self.look_at_keyring_if_stale(index);
        self.plan_probe(index, now);
        // A login that others' login plugins need (`engine::chain`): those are judged again now.
        if changed && engine::chain::LOGINS_BEHIND.contains(&name.as_str()) {
            for (other, entry) in self.entries.iter_mut().enumerate() {
                let has_plugin = entry
                    .checked
                    .as_ref()
                    .and_then(|c| c.observation.login_facts())
                    .is_some_and(|facts| facts.exec_plugin.is_some());
                if other != index && has_plugin {
                    entry.recheck_at = Some(now);
                }
            }
        }
    }
}

/// How long after the tool's logout command was seen running a store that stops being usable
/// counts as logged out by it.
const LOGOUT_WINDOW_MS: i64 = 10_000;

fn save_forgotten(forgotten: &crate::engine::memory::Forgotten, state_dir: &std::path::Path) {
    if let Err(error) = forgotten.save(state_dir) {
        tracing::warn!(%error, "cannot save the forgotten credentials");
    }
}

impl Daemon {
    /// Notes, for each credential whose store just changed, one of the tool's own logout
    /// commands running now (`npm logout`), before it exits: read when the credential is judged.
    pub(super) fn note_logouts(
        &mut self,
        touched: &std::collections::BTreeSet<usize>,
        now: Timestamp,
    ) {
        // One pass over /proc for every credential the batch touched.
        let commands: Vec<&str> = touched
            .iter()
            .filter_map(|&index| self.entries.get(index))
            .flat_map(|e| e.candidate.definition.logout.iter().map(String::as_str))
            .collect();
        let running: Vec<String> = crate::support::processes::running_commands(&commands)
            .into_iter()
            .map(str::to_string)
            .collect();
        if running.is_empty() {
            return;
        }
        for &index in touched {
            let Some(entry) = self.entries.get_mut(index) else {
                continue;
            };
            let logout = &entry.candidate.definition.logout;
            if let Some(command) = logout.iter().find(|c| running.contains(c)) {
                entry.logout_seen = Some((now, command.clone()));
            }
        }
    }
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
