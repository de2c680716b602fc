//! The `status --json` document (docs/contract.md), built from checked credentials.
//!
//! Guarantees: field names and shapes follow the contract; it is built only from observations and
//! verdicts, which hold no secret, so no secret can reach it.

use crate::define::config::Definition;
use crate::define::state::State;
use crate::engine::Checked;
use crate::store::keyring::{KeyringObservation, KeyringPlan, Reach};
use crate::store::FileStatus;
use crate::support::output::inert;
use crate::support::paths::display;
use crate::support::timefmt::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

impl StatusDocument {
    /// The exit code of `status` and `export` for it (docs/contract.md): forgotten credentials
    /// count for nothing.
    pub fn exit_code(&self) -> i32 {
        crate::define::state::exit_code(
            self.credentials
                .iter()
                .filter(|c| !c.forgotten)
                .map(|c| c.state),
        )
    }
}

#[derive(Serialize, Deserialize)]
pub struct StatusDocument {
    pub schema: u32,
    pub generated_at: String,
    /// `direct` (evaluated by this command) or `daemon` (read from the daemon's published state).
    pub source: String,
    pub daemon: DaemonInfo,
    pub credentials: Vec<CredentialReport>,
}

#[derive(Serialize, Deserialize)]
pub struct DaemonInfo {
    pub running: bool,
    pub pid: Option<u32>,
    #[serde(default)]
    pub version: Option<String>,
    /// Until when the published state holds with nothing changing (the next deadline).
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Why the config file was not (re)loaded; the daemon keeps the last good one.
    #[serde(default)]
    pub config_error: Option<String>,
    /// Paths the daemon could not watch (the inotify watch limit, no permission): what they
    /// cover is polled, and readers check it directly.
    #[serde(default)]
    pub unwatched: Vec<UnwatchedReport>,
    /// The daemon's own value of every variable that selects a login of a credential in play,
    /// listed or not (`null`: unset or empty): a reader whose values differ checks again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, Option<String>>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct UnwatchedReport {
    pub path: String,
    pub reason: String,
    pub fix: String,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialReport {
    pub name: String,
    pub tool: String,
    pub state: State,
    pub usable: bool,
    pub reason: String,
    pub fix: Option<String>,
    pub expires_at: Option<String>,
    pub access_expires_at: Option<String>,
    pub checked_at: String,
    pub changed_at: Option<String>,
    pub stores: Vec<StoreReport>,
    pub shadowed_by: Vec<String>,
    /// Forgotten by the user (`credwatch forget`) while not usable: no flag, no warning, no
    /// failing exit code; absent otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forgotten: bool,
    pub probe: Option<crate::probe::ProbeReport>,
    /// The environment variables the login was taken from (npm's `${NPM_TOKEN}`): names only.
    /// The daemon's environment is no shell's, so `status` checks these in the caller's shell.
    #[serde(default)]
    pub depends_on_env: Vec<String>,
    /// The environment it was judged in: the value of each variable that selects its login
    /// (`KUBECONFIG`, `AWS_PROFILE`, …; `null`: unset or empty). A reader whose own values differ
    /// uses another login, and checks it again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, Option<String>>,
    /// Each account, where the store keeps several and tells the active one (gh's users of a
    /// host), the active first; absent otherwise. The state is the active ones'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountReport>,
    /// A usable login the system takes away by design: `logout` (it is in the runtime
    /// directory), `reboot` (on a file system held in memory); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_until: Option<String>,
}

/// One of several accounts (`accounts` in docs/contract.md).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountReport {
    pub name: String,
    pub active: bool,
    pub state: State,
    pub reason: String,
}

impl CredentialReport {
    /// The times its reason measures spans to: the deadline and the access token's expiry.
    fn span_ends(&self) -> (Option<Timestamp>, Vec<Timestamp>) {
        let written = Timestamp::parse_datetime(&self.checked_at);
        let times = [&self.expires_at, &self.access_expires_at]
            .into_iter()
            .flatten()
            .filter_map(|t| Timestamp::parse_datetime(t))
            .collect();
        (written, times)
    }

    /// The reason as of `now` (a published state is read later than it was written).
    pub fn reason_now(&self, now: Timestamp) -> String {
        match self.span_ends() {
            (Some(written), times) => {
                crate::support::timefmt::restate(&self.reason, written, now, &times)
            }
            (None, _) => self.reason.clone(),
        }
    }

    /// The reason with no span that would go stale, for text printed later as it is.
    pub fn reason_without_spans(&self) -> String {
        match self.span_ends() {
            (Some(written), times) => {
                crate::support::timefmt::without_spans(&self.reason, written, &times)
            }
            (None, _) => self.reason.clone(),
        }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StoreReport {
    File {
        path: String,
        present: bool,
        mode: Option<String>,
        owner_ok: Option<bool>,
        persistent: Option<bool>,
        fs: Option<String>,
    },
    Keyring {
        /// `null` for items found by other attributes (listed in `attributes`).
        service: Option<String>,
        account: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        attributes: BTreeMap<String, String>,
        /// `null` when the keyring could not be asked.
        present: Option<bool>,
        collection: Option<String>,
        locked: Option<bool>,
        /// False for the in-memory `session` collection.
        #[serde(default)]
        persistent: Option<bool>,
        #[serde(default)]
        modified_at: Option<String>,
    },
}

pub fn credential_report(checked: &Checked) -> CredentialReport {
    let observation = &checked.observation;
    let verdict = &checked.verdict;
    let mut stores: Vec<StoreReport> = observation
        .files
        .iter()
        .map(|file| {
            let meta = match &file.status {
                FileStatus::Read(facts) => Some(&facts.meta),
                _ => None,
            };
            StoreReport::File {
                path: display(&file.path),
                present: !matches!(file.status, FileStatus::Absent),
                mode: meta.map(|m| format!("{:04o}", m.mode)),
                owner_ok: meta.map(|m| m.uid == observation.uid),
                persistent: meta.map(|m| m.persistent),
                fs: meta.map(|m| m.fs.clone()),
            }
        })
        .collect();
    if let Some(plan) = &observation.keyring_plan {
        stores.extend(keyring_stores(plan, observation.keyring.as_ref()));
    }
    let changed_at = observation
        .primary_file()
        .and_then(|file| match &file.status {
            FileStatus::Read(facts) => facts.meta.modified,
            _ => None,
        });
    CredentialReport {
        name: checked.definition.name.clone(),
        tool: inert(&checked.definition.tool).into_owned(),
        state: verdict.state,
        usable: verdict.state.is_usable(),
        reason: verdict.reason.clone(),
        fix: verdict.fix.clone(),
        expires_at: verdict.expires_at.map(Timestamp::rfc3339),
        access_expires_at: verdict.access_expires_at.map(Timestamp::rfc3339),
        checked_at: checked.checked_at.rfc3339(),
        changed_at: changed_at.map(Timestamp::rfc3339),
        stores,
        shadowed_by: observation.shadowed_by.clone(),
        forgotten: checked.history.forgotten && !verdict.state.is_usable(),
        probe: checked.history.probe.clone(),
        depends_on_env: observation.env_refs(),
        environment: judged_in(&checked.definition),
        accounts: verdict
            .accounts
            .iter()
            .map(|a| AccountReport {
                name: inert(&a.name).into_owned(),
                active: a.active,
                state: a.state,
                reason: inert(&a.reason).into_owned(),
            })
            .collect(),
        kept_until: verdict.kept_until.map(|until| until.as_str().to_string()),
    }
}

/// The values, in the environment in force, of the variables that select `definition`'s login.
pub fn judged_in(definition: &Definition) -> BTreeMap<String, Option<String>> {
    definition
        .context_variables()
        .selects
        .into_iter()
        .map(|name| {
            let value = crate::support::environ::var_text(&name);
            (name, value)
        })
        .collect()
}

/// One store line per expected keyring item, with what the last lookup found.
fn keyring_stores(plan: &KeyringPlan, seen: Option<&KeyringObservation>) -> Vec<StoreReport> {
    let seen = seen.filter(|s| s.answers(plan));
    let locked_collection = match seen.map(|s| &s.reach) {
        Some(Reach::Locked { collection }) => Some(collection.clone()),
        _ => None,
    };
    plan.items
        .iter()
        .enumerate()
        .map(|(i, wanted)| {
            let lookup = seen.and_then(|s| s.items.get(i));
            let found = lookup.and_then(|l| l.found.first());
            let attributes = if wanted.service.is_some() {
                BTreeMap::new()
            } else {
                wanted.attributes.clone()
            };
            let attributes = attributes
                .into_iter()
                .map(|(k, v)| (inert(&k).into_owned(), inert(&v).into_owned()))
                .collect();
            StoreReport::Keyring {
                service: wanted.service.as_deref().map(|s| inert(s).into_owned()),
                account: wanted.account.as_deref().map(|s| inert(s).into_owned()),
                attributes,
                present: lookup.map(|l| !l.found.is_empty()),
                collection: found
                    .map(|f| f.collection.clone())
                    .or(locked_collection.clone()),
                locked: found
                    .map(|f| f.locked)
                    .or(locked_collection.as_ref().map(|_| true)),
                persistent: found.map(|f| f.persistent),
                modified_at: found.and_then(|f| f.modified).map(Timestamp::rfc3339),
            }
        })
        .collect()
}

/// The daemon as a direct check sees it: whether one runs (from its lock file), not its state.
pub fn daemon_seen() -> DaemonInfo {
    let lock = crate::support::runtime::runtime_dir().join(crate::support::runtime::LOCK_FILE);
    let pid = crate::support::runtime::read_own(&lock, 4096)
        .ok()
        .flatten()
        .and_then(|bytes| {
            String::from_utf8_lossy(&bytes)
                .split_whitespace()
                .next()?
                .parse::<u32>()
                .ok()
        })
        .filter(|pid| crate::support::runtime::credwatch_process_alive(*pid));
    DaemonInfo {
        running: pid.is_some(),
        pid,
        version: None,
        valid_until: None,
        config_error: None,
        unwatched: Vec::new(),
        environment: Default::default(),
    }
}

/// The published state of a live daemon whose state still holds (whatever it cannot watch:
/// the caller decides), or what was found instead when it is not to be trusted (another user's
/// directory or file, a symlink, a FIFO, a file others may write).
pub fn read_daemon_document_or_refusal(now: Timestamp) -> Result<Option<StatusDocument>, String> {
    let path = crate::support::runtime::runtime_dir().join(crate::support::runtime::STATUS_FILE);
    let Some(bytes) = crate::support::runtime::read_own(&path, 64 << 20)? else {
        return Ok(None);
    };
    Ok(trusted_document(&bytes, now))
}

fn trusted_document(bytes: &[u8], now: Timestamp) -> Option<StatusDocument> {
    let document: StatusDocument = serde_json::from_slice(bytes).ok()?;
    let pid = document.daemon.pid?;
    if document.schema != SCHEMA_VERSION || !crate::support::runtime::credwatch_process_alive(pid) {
        return None;
    }
    let holds = match &document.daemon.valid_until {
        Some(until) => Timestamp::parse_datetime(until).is_some_and(|until| until > now),
        None => true,
    };
    holds.then_some(document)
}

pub fn status_document(checked: &[Checked], generated_at: Timestamp) -> StatusDocument {
    StatusDocument {
        schema: SCHEMA_VERSION,
        generated_at: generated_at.rfc3339(),
        source: "direct".into(),
        daemon: daemon_seen(),
        credentials: checked.iter().map(credential_report).collect(),
    }
}
