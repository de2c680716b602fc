//! Which AWS login the next command uses: an SSO profile's role credentials, cached by the AWS
//! CLI v2, or the SSO session behind them. The CLI caches the role credentials it got with the
//! SSO session in `~/.aws/cli/cache/SHA1.json` (SHA1 of `{"accountId", "roleName", "sessionName"
//! or "startUrl"}`, keys sorted, compact; seen in aws-cli 2.9.19's botocore,
//! `SSOCredentialFetcher._create_cache_key`) and uses them while they last, whatever became of
//! the session: an expired SSO session does not fail the next command until they end; and once
//! they end, it renews them only while the session works.
//!
//! Guarantees: it reads the AWS config and one cache file, bounded, and never their secrets'
//! values into anything it returns; nothing is sent anywhere.

use crate::evaluate::CachedRole;
use crate::support::environ;
use crate::support::fsread::{read_bounded, ReadOutcome};
use crate::support::paths;
use crate::support::timefmt::Timestamp;
use crate::tools::{self as formats, Format};
use serde_json::Value;
use std::path::PathBuf;

/// The login whose session the cached role credentials come from.
pub const SESSION_LOGIN: &str = "aws-sso";

/// The SSO profile in use (`AWS_PROFILE`, else `default`) and what names its cache file, from
/// the AWS config (`AWS_CONFIG_FILE`, else `~/.aws/config`); `None` when it is not an SSO
/// profile.
fn sso_profile() -> Option<(String, String)> {
    let profile = environ::var_text("AWS_PROFILE")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".into());
    let ReadOutcome::Read { bytes, .. } = read_bounded(&config_path()?, formats::TEXT_SIZE_LIMIT)
    else {
        return None;
    };
    let document = formats::parse(Format::Ini, &bytes).ok()?;
    let root = document.root();
    let section = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let field = |section: &str, key: &str| -> Option<String> {
        root.get(section)?
            .get(key)?
            .as_str()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let account = field(&section, "sso_account_id")?;
    let role = field(&section, "sso_role_name")?;
    let mut key = serde_json::Map::new();
    key.insert("accountId".into(), Value::String(account));
    key.insert("roleName".into(), Value::String(role));
    match field(&section, "sso_session") {
        Some(session) => key.insert("sessionName".into(), Value::String(session)),
        None => key.insert(
            "startUrl".into(),
            Value::String(field(&section, "sso_start_url")?),
        ),
    };
    // Inserted in sorted order, and `to_string` is compact: botocore's `json.dumps(args,
    // sort_keys=True, separators=(',', ':'))` (values are escaped alike for ASCII text).
    Some((profile, Value::Object(key).to_string()))
}

/// What the daemon watches besides the session login's own store, since its verdict depends
/// on them: the AWS config (which profile is an SSO one, and its role) and the role cache.
pub fn watch_targets() -> Vec<crate::store::WatchTarget> {
    [config_path(), cache_dir().map(|dir| dir.join("*.json"))]
        .into_iter()
        .flatten()
        .map(crate::store::WatchTarget::Path)
        .collect()
}

/// The AWS config: `AWS_CONFIG_FILE`, else `~/.aws/config`.
fn config_path() -> Option<PathBuf> {
    match environ::var_os("AWS_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(paths::home_dir()?.join(".aws/config")),
    }
}

/// Where the AWS CLI caches credentials it got (`~/.aws/cli/cache`).
fn cache_dir() -> Option<PathBuf> {
    Some(paths::home_dir()?.join(".aws/cli/cache"))
}

/// The lowercase hex SHA-1 of `text`.
fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cached role credentials of the SSO profile in use, when there are some with a readable
/// expiration.
pub fn for_profile_in_use() -> Option<CachedRole> {
    let (profile, key) = sso_profile()?;
    let path = cache_dir()?.join(format!("{}.json", sha1_hex(&key)));
    let ReadOutcome::Read { bytes, .. } = read_bounded(&path, formats::TEXT_SIZE_LIMIT) else {
        return None;
    };
    let document = formats::parse(Format::Json, &bytes).ok()?;
    let expiration = document
        .root()
        .pointer("/Credentials/Expiration")?
        .as_str()?;
    let present = document
        .root()
        .pointer("/Credentials/SessionToken")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    if !present {
        return None;
    }
    Some(CachedRole {
        path: paths::display_short(&path, paths::home_dir().as_deref()),
        profile,
        expires_at: Timestamp::parse_datetime(expiration)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key botocore hashes, checked against the SHA-1 Python's hashlib gives for it.
    #[test]
    fn the_cache_key_is_botocores() {
        let key = r#"{"accountId":"123456789012","roleName":"Dev","startUrl":"https://example.awsapps.com/start"}"#;
        let mut map = serde_json::Map::new();
        map.insert("accountId".into(), "123456789012".into());
        map.insert("roleName".into(), "Dev".into());
        map.insert(
            "startUrl".into(),
            "https://example.awsapps.com/start".into(),
        );
        assert_eq!(Value::Object(map).to_string(), key);
        // python3 -c 'import hashlib; print(hashlib.sha1(KEY.encode()).hexdigest())'
        assert_eq!(sha1_hex(key), "fa51bd3e76cd40204a50b2090681f49e9f05d723");
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
