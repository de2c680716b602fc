//! gcloud's login, seen from its configuration directory (`CLOUDSDK_CONFIG`, default
//! `~/.config/gcloud`) as gcloud itself resolves it: the active configuration
//! (`CLOUDSDK_ACTIVE_CONFIG_NAME`, else the name in `active_config`, else `default`), its
//! `[core] account` (`CLOUDSDK_CORE_ACCOUNT` first), that account's row in `credentials.db`, and
//! the expiry of its cached access token in `access_tokens.db`.
//!
//! ```text
//! {"configuration": "default", "account": "me@example.com", "credential": "stored",
//!  "other-accounts": ["ci@p.iam.gserviceaccount.com"], "access-token-expiry": "2026-…Z"}
//! ```
//!
//! `account` is absent when none is set, `credential` when the account has no row (logged out,
//! revoked), `access-token-expiry` when no token is cached. The access token (one hour) renews
//! itself from the stored credential; the real limit of a user login is the organisation's
//! re-authentication policy, which is stored nowhere.
//!
//! Guarantees: the databases are read as bytes (never locked: gcloud is never kept waiting);
//! only `account_id` and `token_expiry` are decoded: the credential blob, the access token, the
//! RAPT and ID tokens are never copied out of the file's buffer.

use super::sqlite::{Cell, Database};
use super::text;
use crate::support::secret::EnvRef;
use crate::support::timefmt::Timestamp;
use serde_json::{Map, Value};

/// The files beside `credentials.db` that the view reads, for the daemon to watch.
pub const BESIDE: &[&str] = &[
    "access_tokens.db",
    "active_config",
    "configurations/config_*",
];

/// The view of `credentials.db`, reading the files beside it through `beside`, and the
/// variables that choose what it shows.
pub(super) fn view(
    credentials: &[u8],
    beside: super::ReadBeside<'_>,
) -> Result<(Value, Vec<EnvRef>), String> {
    let accounts: Vec<String> = Database::open(credentials)?
        .rows("credentials", &["account_id"])?
        .ok_or("credentials.db has no credentials table")?
        .into_iter()
        .filter_map(|row| row.into_iter().next()?.text().map(String::from))
        .collect();
    let chosen_configuration = non_empty_var("CLOUDSDK_ACTIVE_CONFIG_NAME");
    let chosen_account = non_empty_var("CLOUDSDK_CORE_ACCOUNT");
    let env = vec![
        EnvRef::selects(
            "CLOUDSDK_ACTIVE_CONFIG_NAME",
            chosen_configuration.is_some(),
        ),
        EnvRef::selects("CLOUDSDK_CORE_ACCOUNT", chosen_account.is_some()),
    ];
    let configuration = match chosen_configuration {
        Some(name) => name,
        None => beside("active_config")
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|text| text.trim().to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "default".into()),
    };
    let account = match chosen_account {
        Some(account) => Some(account),
        // A name with a `/` would read another file than gcloud does: gcloud refuses it.
        None if configuration.contains('/') => None,
        None => beside(&format!("configurations/config_{configuration}"))
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|config| {
                text::ini(&config)
                    .pointer("/core/account")?
                    .as_str()
                    .map(|a| a.trim().to_string())
            })
            .filter(|account| !account.is_empty()),
    };
    let mut view = Map::new();
    view.insert("configuration".into(), Value::String(configuration));
    view.insert(
        "other-accounts".into(),
        accounts
            .iter()
            .filter(|a| Some(*a) != account.as_ref())
            .map(|a| Value::String(a.clone()))
            .collect(),
    );
    if let Some(account) = account {
        if accounts.contains(&account) {
            view.insert("credential".into(), Value::String("stored".into()));
            if let Some(expiry) =
                beside("access_tokens.db").and_then(|bytes| token_expiry(&bytes, &account))
            {
                view.insert("access-token-expiry".into(), Value::String(expiry));
            }
        }
        view.insert("account".into(), Value::String(account));
    }
    Ok((Value::Object(view), env))
}

/// The cached access token's expiry for `account` (naive UTC in the database), as RFC 3339.
fn token_expiry(bytes: &[u8], account: &str) -> Option<String> {
    let rows = Database::open(bytes)
        .ok()?
        .rows("access_tokens", &["account_id", "token_expiry"])
        .ok()??;
    rows.into_iter().find_map(|row| match &row[..] {
        [Cell::Text(id), Cell::Text(expiry)] if id == account => {
            Timestamp::parse_datetime(expiry).map(Timestamp::rfc3339)
        }
        _ => None,
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    crate::support::environ::var_text(name)
}
