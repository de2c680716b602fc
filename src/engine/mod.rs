//! Which credentials to check, and checking them: definitions × observation × evaluation.
//!
//! Guarantees: user definitions replace presets of the same name; `presets = "auto"` keeps only
//! presets whose store was found; naming a credential checks it whether or not it was detected.

pub mod chain;
pub mod journal;
pub mod memory;
pub mod role_cache;

use crate::define::config::{Config, Definition, PresetSelection};
use crate::engine::memory::Memory;
use crate::evaluate::{evaluate, History, Verdict};
use crate::store::keyring::KeyringObservation;
use crate::store::{observe, Observation};
use crate::support::timefmt::Timestamp;

pub struct Checked {
    pub definition: Definition,
    pub observation: Observation,
    /// What was known beyond the stores when it was judged.
    pub history: History,
    pub verdict: Verdict,
    pub checked_at: Timestamp,
}

/// A definition and whether it is kept only when detected on this machine.
pub struct Candidate {
    pub definition: Definition,
    pub only_if_detected: bool,
}

/// Every definition in play, in display order: presets first (in their order), then the user's.
pub fn candidates(config: &Config) -> anyhow::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for name in crate::define::presets::names() {
        let only_if_detected = match &config.presets {
            PresetSelection::Auto => true,
            PresetSelection::None => continue,
            PresetSelection::List(names) if names.iter().any(|n| n == name) => false,
            PresetSelection::List(_) => continue,
        };
        let definition = match config.definitions.iter().find(|d| d.name == name) {
            Some(own) => Candidate {
                definition: own.clone(),
                only_if_detected: false,
            },
            None => Candidate {
                definition: load_preset(name)?,
                only_if_detected,
            },
        };
        out.push(definition);
    }
    for own in &config.definitions {
        if !out.iter().any(|c| c.definition.name == own.name) {
            out.push(Candidate {
                definition: own.clone(),
                only_if_detected: false,
            });
        }
    }
    Ok(out)
}

fn load_preset(name: &str) -> anyhow::Result<Definition> {
    crate::define::config::preset(name)
        .expect("names() lists only known presets")
        .map_err(anyhow::Error::from)
}

/// Resolves names given on the command line to definitions: the config's, else a preset.
pub fn named(config: &Config, names: &[String]) -> anyhow::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for name in names {
        let definition = match config.definitions.iter().find(|d| &d.name == name) {
            Some(own) => own.clone(),
            None if crate::define::presets::source(name).is_some() => load_preset(name)?,
            None => {
                let mut known: Vec<String> =
                    crate::define::presets::names().map(String::from).collect();
                known.extend(config.definitions.iter().map(|d| d.name.clone()));
                known.sort();
                known.dedup();
                anyhow::bail!(
                    "no credential named \"{name}\"\n  fix: use one of: {}",
                    known.join(", ")
                );
            }
        };
        out.push(Candidate {
            definition,
            only_if_detected: false,
        });
    }
    Ok(out)
}

/// What a check knows beyond the definition: the memory of credentials seen, and whether the
/// environment is the user's shell (`status`) or the daemon's own (which shadows nothing).
pub struct Context<'a> {
    pub memory: &'a Memory,
    pub env_is_users_shell: bool,
    pub keyring: KeyringSource<'a>,
    /// The last probe of this credential, when one ran (the daemon's, or `verify`'s).
    pub probe: Option<&'a crate::probe::ProbeReport>,
}

/// Where a check gets what the keyring says.
pub enum KeyringSource<'a> {
    /// Ask it now (a short-lived D-Bus client): `status`, `prompt`, `verify`.
    LookNow,
    /// The daemon's last lookup for this credential (it looks again on signals and polls).
    Known(Option<&'a KeyringObservation>),
}

/// Everything the daemon must watch to see `definition`'s verdict change: its stores, and what
/// its verdict reads besides them (the role cache of the SSO session login).
pub fn watch_targets(definition: &Definition) -> Vec<crate::store::WatchTarget> {
    let mut targets = crate::store::watch_targets(definition);
    if definition.name == role_cache::SESSION_LOGIN {
        targets.extend(role_cache::watch_targets());
        targets.sort();
        targets.dedup();
    }
    targets
}

/// Observes and evaluates one definition; `None` when it is an auto preset with no store here
/// that was never seen before.
pub fn check_one(config: &Config, candidate: &Candidate, context: &Context<'_>) -> Option<Checked> {
    judge(config, candidate, observe(&candidate.definition), context)
}

/// [`check_one`] on an observation made already (the daemon reads a large store on a thread of
/// its own, then judges here).
pub fn judge(
    config: &Config,
    candidate: &Candidate,
    mut observation: Observation,
    context: &Context<'_>,
) -> Option<Checked> {
    let definition = &candidate.definition;
    let seen_before = context.memory.was_seen(&definition.name);
    if candidate.only_if_detected && !seen_before && !observation.detected(definition) {
        return None;
    }
    if !context.env_is_users_shell {
        observation.shadowed_by.clear();
    }
    observation.env_is_users_shell = context.env_is_users_shell;
    if let Some(plan) = &observation.keyring_plan {
        observation.keyring = match &context.keyring {
            KeyringSource::LookNow => Some(crate::store::keyring::fetch_blocking(plan)),
            KeyringSource::Known(seen) => seen.cloned(),
        };
    }
    let looked_at = || -> Vec<String> {
        observation
            .files
            .iter()
            .map(|f| crate::support::paths::display(&f.path))
            .collect()
    };
    let gone = observation.primary.is_none();
    let history = History {
        gone_since: if gone {
            context
                .memory
                .vanished_from(&definition.name, &looked_at())
                .and_then(Timestamp::parse_datetime)
        } else {
            None
        },
        cached_role: (definition.name == role_cache::SESSION_LOGIN)
            .then(role_cache::for_profile_in_use)
            .flatten(),
        taken_by_system: if gone {
            context
                .memory
                .taken_by_system(&definition.name, &looked_at())
        } else {
            None
        },
        probe: context.probe.cloned(),
        loss: None,
        overwrite: None,
        forgotten: context.memory.forgotten.contains(&definition.name),
        behind: observation
            .login_facts()
            .and_then(|facts| facts.exec_plugin.as_ref())
            .and_then(|plugin| chain::behind(config, plugin)),
    };
    let now = Timestamp::now();
    let verdict = evaluate(
        definition,
        &observation,
        &history,
        now,
        config.warn_before_ms,
    );
    Some(Checked {
        definition: definition.clone(),
        observation,
        history,
        verdict,
        checked_at: now,
    })
}

/// Evaluates a check again after its history changed (a probe answered, the daemon saw a loss):
/// no I/O, the observation is kept.
pub fn rejudge(config: &Config, checked: &mut Checked) {
    checked.verdict = evaluate(
        &checked.definition,
        &checked.observation,
        &checked.history,
        checked.checked_at,
        config.warn_before_ms,
    );
}

/// The credentials present (or remembered) here, as the user sees them, without asking the
/// keyring or a server: for commands that only need to know what is in play (`config show`,
/// `doctor`, `verify` with no name).
pub fn found_here(config: &Config) -> anyhow::Result<Vec<Checked>> {
    Ok(found_among(config, candidates(config)?))
}

/// [`found_here`] among these candidates.
pub fn found_among(config: &Config, candidates: Vec<Candidate>) -> Vec<Checked> {
    let memory = Memory::load(crate::support::runtime::state_dir().as_deref());
    let context = Context {
        memory: &memory,
        env_is_users_shell: true,
        keyring: KeyringSource::Known(None),
        probe: None,
    };
    check(config, candidates, &context)
}

/// Observes and evaluates candidates, dropping undetected auto presets.
pub fn check(config: &Config, candidates: Vec<Candidate>, context: &Context<'_>) -> Vec<Checked> {
    candidates
        .iter()
        .filter_map(|candidate| check_one(config, candidate, context))
        .collect()
}

/// Records in the memory which credentials are present (so one that later vanishes stays listed
/// as `missing`); writes `seen.json` only when something changed. Failing to write is not an
/// error for a check: it is logged.
pub fn remember(memory: &mut Memory, checked: &[Checked]) {
    let now = Timestamp::now();
    let mut changed = false;
    for c in checked {
        changed |= memory.record(
            &c.definition.name,
            c.observation.present_at().as_deref(),
            c.verdict.state.is_usable(),
            memory::KeptIn::of(&c.definition, &c.observation),
            now,
        );
    }
    if !changed {
        return;
    }
    let Some(dir) = crate::support::runtime::state_dir() else {
        return;
    };
    let saved = crate::support::runtime::ensure_private_dir(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| memory.save(&dir).map_err(|e| e.to_string()));
    if let Err(error) = saved {
        tracing::warn!(%error, "cannot save the memory of credentials seen");
    }
}

/// What `status` and `prompt` do without a daemon: check in the user's own shell, with the
/// memory of credentials seen, and remember what was found.
pub fn check_for_user(config: &Config, candidates: Vec<Candidate>) -> Vec<Checked> {
    let mut memory = Memory::load(crate::support::runtime::state_dir().as_deref());
    let context = Context {
        memory: &memory,
        env_is_users_shell: true,
        keyring: KeyringSource::LookNow,
        probe: None,
    };
    let checked = check(config, candidates, &context);
    remember(&mut memory, &checked);
    checked
}
