//! The `status --json` document (contract.md), built from checked credentials.
//!
//! Guarantees: field names and shapes follow the contract; it is built only from observations and
//! verdicts, which hold no secret, so no secret can reach it.

use crate::checks::Checked;
use crate::observe::FileStatus;
use crate::paths::display;
use crate::state::State;
use crate::timefmt::Timestamp;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct StatusDocument {
    pub schema: u32,
    pub generated_at: String,
    pub source: &'static str,
    pub daemon: DaemonInfo,
    pub credentials: Vec<CredentialReport>,
}

#[derive(Serialize)]
pub struct DaemonInfo {
    pub running: bool,
    pub pid: Option<u32>,
}

#[derive(Serialize)]
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
    pub probe: Option<serde_json::Value>,
}

#[derive(Serialize)]
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
        service: String,
        account: Option<String>,
        present: Option<bool>,
        collection: Option<String>,
        locked: Option<bool>,
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
    if let Some(keyring) = &checked.definition.keyring {
        stores.push(StoreReport::Keyring {
            service: keyring.service.clone(),
            account: keyring.account.clone(),
            present: None,
            collection: None,
            locked: None,
        });
    }
    let changed_at = observation
        .primary_file()
        .and_then(|file| match &file.status {
            FileStatus::Read(facts) => facts.meta.modified,
            _ => None,
        });
    CredentialReport {
        name: checked.definition.name.clone(),
        tool: checked.definition.tool.clone(),
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
        probe: None,
    }
}

pub fn status_document(checked: &[Checked], generated_at: Timestamp) -> StatusDocument {
    StatusDocument {
        schema: SCHEMA_VERSION,
        generated_at: generated_at.rfc3339(),
        source: "direct",
        daemon: DaemonInfo {
            running: false,
            pid: None,
        },
        credentials: checked.iter().map(credential_report).collect(),
    }
}
