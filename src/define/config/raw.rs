//! The config file's shapes as written (serde), kept whole so `config show` can print them back.
//! Unknown keys are refused, with their line and column.

use crate::support::timefmt::EpochUnit;
use crate::tools::Format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// The file as written, kept so `config show` can print it back.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_before: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presets: Option<Spanned<RawPresetSelection>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<RawPrompt>,
    /// How often the daemon polls the `Modified` time of watched keyring items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring_poll: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<RawExport>,
    /// What the daemon says on its own: desktop notifications and lead times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<RawNotify>,
    /// Commands the daemon runs on transitions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_change: Vec<Spanned<RawOnChange>>,
    /// Commands that run long, and the time each needs (`"terraform apply" = "45m"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub long_commands: BTreeMap<String, Spanned<RawLongCommand>>,
    #[serde(default, rename = "credential", skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<RawCredential>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    /// Desktop notifications over D-Bus (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop: Option<bool>,
    /// How long before a login's deadline to warn (default ["1d", "1h"]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_times: Option<Spanned<Vec<String>>>,
    /// Notify undetermined states too (unknown, unavailable; default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undetermined: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnChange {
    /// Which credentials (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<String>>,
    /// Which events: broken, expiring, recovered, lead, undetermined (default: all but
    /// undetermined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<String>>,
    /// The program and its arguments (no shell unless written).
    pub command: Vec<String>,
    /// Killed (with its process group) past this (default 10 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// A `[long_commands]` entry: the time the command needs, alone or with the logins it uses.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawLongCommand {
    Needs(String),
    Table(RawLongCommandTable),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLongCommandTable {
    pub needs: String,
    /// The credentials it uses (default: those whose commands it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logins: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawPresetSelection {
    Mode(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawExport {
    /// A Prometheus textfile the daemon keeps up to date (`~` and `$VAR` expand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_textfile: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrompt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(super) fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// What an absent or empty secret means for this tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlankMeans {
    /// The tool blanks the file on logout (Claude Code, gh, az): `logged-out`.
    LoggedOut,
    /// A required field is absent or empty: `invalid`.
    #[default]
    Invalid,
    /// The file holds logins, but none for what is in use (an AWS profile that is not there):
    /// `missing`.
    Missing,
}

/// When `presets = "auto"` turns a preset on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detect {
    /// The store file (or the account marker) exists.
    #[default]
    Store,
    /// The store holds a login (for files that exist without one, like `~/.npmrc`).
    Login,
    /// The file says the keyring is in use (`keyring.when` holds), e.g. a git credential helper.
    Keyring,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub name: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Spanned<OneOrMany>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Spanned<OneOrMany>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blank: Option<BlankMeans>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_entry: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Spanned<OneOrMany>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_unit: Option<EpochUnit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires: Option<Spanned<String>>,
    /// The tool renews its access token only until this time (AWS SSO: the client
    /// registration's end); past it, the access token's own expiry is the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_until: Option<Spanned<String>>,
    /// A renewer outside the tool (krenew, sssd) can extend the deadline until this time: shown
    /// beside the deadline, never counted (Kerberos' `renew_till`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewable_until: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_itself: Option<bool>,
    /// What holds the login, in words, for reasons ("a token for the current context's user").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Names listed in the file that are not the login in use, named in reasons ("users the
    /// current context does not use: bob").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others: Option<RawOthers>,
    /// The credential file's path is given by another file (git's `store --file=PATH` helper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_from: Option<Spanned<RawFileFrom>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect: Option<Detect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_marker: Option<RawAccountMarker>,
    /// A file where the tool records which account is active (Gemini CLI's
    /// `google_accounts.json`, `active`): present and naming none, the tool asks to sign in
    /// again whatever the store holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_account: Option<RawAccountMarker>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring: Option<Box<KeyringSpec>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Variables that hold the deadline of the login in `env` (`AWS_CREDENTIAL_EXPIRATION`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_expires: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// The tool's own logout commands: a store that stops being usable while one runs was
    /// logged out on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logout: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_before: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Box<Spanned<RawProbe>>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOthers {
    pub path: Spanned<String>,
    pub say: String,
}

/// Where another file names the credential file: the value of `option` (`--file`) in the
/// command line at `path` of the first of `file` that exists.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFileFrom {
    pub file: OneOrMany,
    #[serde(default = "default_file_from_format")]
    pub format: Format,
    pub path: String,
    /// The option of a command line that gives the path; without one, the value is the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
}

fn default_file_from_format() -> Format {
    Format::Ini
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccountMarker {
    pub file: String,
    #[serde(default = "default_marker_format")]
    pub format: Format,
    pub path: Spanned<String>,
}

fn default_marker_format() -> Format {
    Format::Json
}

/// Secret Service items that hold the credential, as written in a definition.
///
/// `service`/`account` are the `service`/`username` attributes the `keyring` crate, gh and most
/// tools use; `attributes` adds (or replaces them with) other attribute matches. With `each`, one
/// item is expected per match of that field path in the credential file, and `{1}`, `{2}`… in the
/// strings above stand for the keys the path's `*`s matched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyringSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// A field path with `*` into the credential file: one item per match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
    /// A field under each match that, when filled, holds the token in the file itself (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_file: Option<String>,
    /// The keyring is used only when this field of the file says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<KeyringWhen>,
    /// The secret carries its own deadline: `"jwt"` (its `exp`) or `"key:NAME"` (a `NAME=` line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// How to log in without the keyring, where it cannot be reached (SSH): e.g.
    /// `gh auth login --insecure-storage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without: Option<String>,
    /// With `each`: the field (`{1}`… filled in) that names the active one among a match's
    /// siblings, by its last key (gh: `/{1}/user`). The others are accounts not in use: listed,
    /// never what the state is judged by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyringWhen {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<String>,
    /// Variables whose value, when one is set in the shell, is the token the tool uses and the
    /// probe sends (GH_TOKEN), instead of the file's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bearer_env: Vec<String>,
    /// A response header that gives the token's deadline (GitHub's
    /// `github-authentication-token-expiration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_header: Option<String>,
    /// Only when asked (`verify`, `login`): the daemon never runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_request: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_exit_codes: Vec<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_output: Option<String>,
}

impl PartialEq for RawProbe {
    fn eq(&self, other: &Self) -> bool {
        self.command == other.command && self.http == other.http && self.bearer == other.bearer
    }
}
impl Eq for RawProbe {}
