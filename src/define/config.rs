//! The configuration file and credential definitions (contract.md, "Config").
//!
//! Guarantees: a definition that loads is complete and consistent (every path parses, every
//! duration is valid, each credential has a store); anything else is a [`ConfigError`] naming the
//! file, line and column and saying what to change. Built-in presets go through the same code.

use crate::support::docpath::DocPath;
use crate::support::formats::{line_column, Format};
use crate::support::fsread::{read_bounded, ReadOutcome};
use crate::support::timefmt::{parse_duration, EpochUnit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const DEFAULT_WARN_BEFORE_MS: i64 = 3 * 86_400_000;
pub const DEFAULT_PROMPT_FORMAT: &str = "⚠ {names}";
const CONFIG_SIZE_LIMIT: u64 = 1 << 20;

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
    #[serde(default, rename = "credential", skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<RawCredential>,
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
    fn to_vec(&self) -> Vec<String> {
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_itself: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect: Option<Detect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_marker: Option<RawAccountMarker>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring: Option<Box<KeyringSpec>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_before: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Box<Spanned<RawProbe>>>,
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

/// A validated [`KeyringSpec`].
#[derive(Debug, Clone)]
pub struct Keyring {
    pub spec: KeyringSpec,
    pub each: Option<DocPath>,
    pub in_file: Option<String>,
    pub when: Option<(DocPath, ValueTest)>,
    pub expires: Option<SecretExpiry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueTest {
    Equals(String),
    Contains(String),
}

impl ValueTest {
    pub fn holds_for(&self, text: &str) -> bool {
        match self {
            ValueTest::Equals(want) => text.trim() == want,
            ValueTest::Contains(want) => text.contains(want.as_str()),
        }
    }
}

/// Where a deadline sits inside a keyring secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretExpiry {
    Jwt,
    Key(String),
}

impl Keyring {
    /// A short description for listings: `keyring gh:{1}` or `keyring docker_cli=1`.
    pub fn describe(&self) -> String {
        match &self.spec.service {
            Some(service) => format!("keyring {service}"),
            None => {
                let attrs: Vec<String> = self
                    .spec
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("keyring {}", attrs.join(","))
            }
        }
    }
}

fn validate_keyring(
    source: &Source<'_>,
    span: std::ops::Range<usize>,
    name: &str,
    spec: &KeyringSpec,
) -> Result<Keyring, ConfigError> {
    let bad = |message: String, fix: &str| source.error_at(span.clone(), message, fix);
    if spec.service.is_none() && spec.attributes.is_empty() {
        return Err(bad(
            format!("credential \"{name}\": keyring names no item"),
            "add service = \"…\" (and account = \"…\"), or attributes = { key = \"value\" }",
        ));
    }
    let each = match &spec.each {
        Some(text) => Some(DocPath::parse(text).map_err(|why| {
            bad(
                format!("credential \"{name}\": keyring.each: {why}"),
                "write a field path with * like \"/*/users/*\"",
            )
        })?),
        None => None,
    };
    let when = match &spec.when {
        Some(when) => {
            let path = DocPath::parse(&when.path).map_err(|why| {
                bad(
                    format!("credential \"{name}\": keyring.when.path: {why}"),
                    "write a field path like \"/credsStore\"",
                )
            })?;
            let test = match (&when.equals, &when.contains) {
                (Some(value), None) => ValueTest::Equals(value.clone()),
                (None, Some(value)) => ValueTest::Contains(value.clone()),
                _ => {
                    return Err(bad(
                        format!("credential \"{name}\": keyring.when needs exactly one test"),
                        "write when = { path = \"/field\", equals = \"value\" } (or contains = \"part\")",
                    ))
                }
            };
            Some((path, test))
        }
        None => None,
    };
    let expires = match spec.expires.as_deref() {
        None => None,
        Some("jwt") => Some(SecretExpiry::Jwt),
        Some(text) => match text.strip_prefix("key:") {
            Some(key) if !key.is_empty() => Some(SecretExpiry::Key(key.to_string())),
            _ => {
                return Err(bad(
                    format!("credential \"{name}\": keyring.expires \"{text}\" is not understood"),
                    "write expires = \"jwt\" (the secret is a JWT) or \"key:NAME\" (a NAME=epoch line in the secret)",
                ))
            }
        },
    };
    let captures = each.as_ref().map_or(0, DocPath::wildcards);
    let mut templates: Vec<&str> = spec.attributes.values().map(String::as_str).collect();
    templates.extend(spec.service.as_deref());
    templates.extend(spec.account.as_deref());
    for template in templates {
        for n in placeholders(template) {
            if n == 0 || n > captures {
                return Err(bad(
                    format!("credential \"{name}\": keyring \"{template}\" uses {{{n}}}, but keyring.each has {captures} `*`"),
                    "number the placeholders from {1} up to the count of `*` in keyring.each",
                ));
            }
        }
    }
    Ok(Keyring {
        spec: spec.clone(),
        each,
        in_file: spec.in_file.clone(),
        when,
        expires,
    })
}

/// The numbers of the `{N}` placeholders in a keyring template.
pub fn placeholders(template: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                if let Ok(n) = after[..close].parse::<usize>() {
                    out.push(n);
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_exit_codes: Vec<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_output: Option<String>,
}

/// Where a definition came from, for error messages and `presets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Preset,
    Config(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpirySpec {
    pub path: DocPath,
    /// `jwt:/path`: the field holds a JWT whose `exp` claim is the expiry.
    pub jwt: bool,
}

impl ExpirySpec {
    fn parse(text: &str) -> Result<Self, String> {
        match text.strip_prefix("jwt:") {
            Some(path) => Ok(ExpirySpec {
                path: DocPath::parse(path)?,
                jwt: true,
            }),
            None => Ok(ExpirySpec {
                path: DocPath::parse(text)?,
                jwt: false,
            }),
        }
    }
}

impl std::fmt::Display for ExpirySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.jwt {
            write!(f, "the JWT in {}", self.path)
        } else {
            write!(f, "{}", self.path)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMarker {
    pub file: String,
    pub format: Format,
    pub path: DocPath,
}

/// A validated probe: what to ask, how often, how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    pub kind: ProbeKind,
    pub every_ms: i64,
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeKind {
    /// Exit 0: accepted; one of `rejected_exit_codes` or output containing `rejected_output`:
    /// rejected; anything else: unknown.
    Command {
        argv: Vec<String>,
        rejected_exit_codes: Vec<i32>,
        rejected_output: Option<String>,
    },
    /// GET, with `Authorization: Bearer <the field at bearer>` when one is named.
    Http {
        url: String,
        bearer: Option<DocPath>,
    },
}

pub const DEFAULT_PROBE_EVERY_MS: i64 = 15 * 60 * 1000;
pub const DEFAULT_PROBE_TIMEOUT_MS: i64 = 5_000;

impl PartialEq for RawProbe {
    fn eq(&self, other: &Self) -> bool {
        self.command == other.command && self.http == other.http && self.bearer == other.bearer
    }
}
impl Eq for RawProbe {}

/// A validated credential definition: everything needed to observe and evaluate it.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    pub tool: String,
    pub origin: Origin,
    pub files: Vec<String>,
    pub format: Format,
    pub secret: Vec<DocPath>,
    pub blank: BlankMeans,
    pub login_entry: Option<DocPath>,
    pub expires: Vec<ExpirySpec>,
    pub expires_unit: EpochUnit,
    pub refresh_token: Option<DocPath>,
    pub refresh_expires: Option<ExpirySpec>,
    pub renews_itself: bool,
    pub detect: Detect,
    pub account_marker: Option<AccountMarker>,
    pub keyring: Option<Box<Keyring>>,
    pub env: Vec<String>,
    pub commands: Vec<String>,
    pub fix: String,
    pub warn_before_ms: Option<i64>,
    pub probe: Option<Box<ProbeSpec>>,
    pub raw: RawCredential,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresetSelection {
    Auto,
    None,
    List(Vec<String>),
}

/// The loaded configuration: global settings and the user's own definitions.
#[derive(Debug)]
pub struct Config {
    /// The config file, when one was read.
    pub path: Option<PathBuf>,
    pub warn_before_ms: i64,
    pub presets: PresetSelection,
    pub prompt_format: String,
    /// How often the daemon polls keyring items' `Modified` time (gnome-keyring sends no signal
    /// when a secret is replaced).
    pub keyring_poll_ms: i64,
    /// The Prometheus textfile the daemon keeps up to date, as written (unexpanded).
    pub prometheus_textfile: Option<String>,
    pub definitions: Vec<Definition>,
    pub raw: RawConfig,
}

pub const DEFAULT_KEYRING_POLL_MS: i64 = 30_000;

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            warn_before_ms: DEFAULT_WARN_BEFORE_MS,
            presets: PresetSelection::Auto,
            prompt_format: DEFAULT_PROMPT_FORMAT.to_string(),
            keyring_poll_ms: DEFAULT_KEYRING_POLL_MS,
            prometheus_textfile: None,
            definitions: Vec::new(),
            raw: RawConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {problem}\n  fix: {fix}")]
    Unreadable {
        path: String,
        problem: String,
        fix: String,
    },
    #[error("{location}: {message}\n  fix: {fix}")]
    Invalid {
        location: String,
        message: String,
        fix: String,
    },
}

/// Where a piece of TOML text came from, to turn byte spans into `file:line:column`.
pub struct Source<'a> {
    pub label: String,
    pub text: &'a str,
}

impl Source<'_> {
    fn error_at(&self, span: std::ops::Range<usize>, message: String, fix: &str) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid {
            location: format!("{}:{line}:{column}", self.label),
            message,
            fix: fix.to_string(),
        }
    }
}

/// Loads the config at `path`; an absent file gives the defaults (`presets = "auto"`).
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let shown = crate::support::paths::display(path);
    let unreadable = |problem: String, fix: &str| ConfigError::Unreadable {
        path: shown.clone(),
        problem,
        fix: fix.to_string(),
    };
    let bytes = match read_bounded(path, CONFIG_SIZE_LIMIT) {
        ReadOutcome::Absent => return Ok(Config::default()),
        ReadOutcome::Read { bytes, .. } => bytes,
        ReadOutcome::NotAFile(kind) => {
            return Err(unreadable(
                format!("it is {kind}"),
                "make it a regular TOML file, or point $CREDWATCH_CONFIG elsewhere",
            ))
        }
        ReadOutcome::SymlinkLoop => {
            return Err(unreadable(
                "it is a symlink loop".into(),
                "remove the broken link",
            ))
        }
        ReadOutcome::PermissionDenied => {
            return Err(unreadable(
                "permission denied".into(),
                "make it readable by your user (chmod 600)",
            ))
        }
        ReadOutcome::TooLarge { size, .. } => {
            return Err(unreadable(
                format!("it is {size} bytes, more than the 1 MiB a config may have"),
                "check what wrote to it",
            ))
        }
        ReadOutcome::Failed(e) => return Err(unreadable(e.to_string(), "check the file system")),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        unreadable(
            format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()),
            "save it as UTF-8",
        )
    })?;
    let source = Source {
        label: shown.clone(),
        text: &text,
    };
    let mut config = parse(&source, Origin::Config(path.to_path_buf()))?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Parses and validates config text.
pub fn parse(source: &Source<'_>, origin: Origin) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        source.error_at(
            span,
            e.message().trim().to_string(),
            "correct this key or value (see `credwatch presets claude` for a complete example)",
        )
    })?;
    let warn_before_ms = match &raw.warn_before {
        Some(text) => duration_at(source, text)?,
        None => DEFAULT_WARN_BEFORE_MS,
    };
    let presets = match &raw.presets {
        None => PresetSelection::Auto,
        Some(selection) => match selection.get_ref() {
            RawPresetSelection::Mode(mode) if mode == "auto" => PresetSelection::Auto,
            RawPresetSelection::Mode(mode) if mode == "none" => PresetSelection::None,
            RawPresetSelection::Mode(other) => return Err(source.error_at(
                selection.span(),
                format!("presets = \"{other}\" is not a choice"),
                "write presets = \"auto\", presets = \"none\", or a list like [\"claude\", \"gh\"]",
            )),
            RawPresetSelection::List(names) => {
                for name in names {
                    if !crate::define::presets::names().any(|known| known == name) {
                        return Err(source.error_at(
                            selection.span(),
                            format!("unknown preset \"{name}\""),
                            &format!(
                                "use one of: {}",
                                crate::define::presets::names()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                }
                PresetSelection::List(names.clone())
            }
        },
    };
    let prompt_format = raw
        .prompt
        .as_ref()
        .and_then(|p| p.format.clone())
        .unwrap_or_else(|| DEFAULT_PROMPT_FORMAT.to_string());
    let mut definitions: Vec<Definition> = Vec::new();
    for credential in &raw.credentials {
        let definition = validate_credential(source, credential, origin.clone())?;
        if definitions.iter().any(|d| d.name == definition.name) {
            return Err(source.error_at(
                credential.name.span(),
                format!(
                    "a credential named \"{}\" is defined twice",
                    definition.name
                ),
                "give each [[credential]] its own name",
            ));
        }
        definitions.push(definition);
    }
    let keyring_poll_ms = match &raw.keyring_poll {
        Some(text) => {
            let ms = duration_at(source, text)?;
            if ms < 1000 {
                return Err(source.error_at(
                    text.span(),
                    "keyring_poll is shorter than 1 s".into(),
                    "write keyring_poll = \"30s\" (the default) or longer",
                ));
            }
            ms
        }
        None => DEFAULT_KEYRING_POLL_MS,
    };
    Ok(Config {
        path: None,
        warn_before_ms,
        presets,
        prompt_format,
        keyring_poll_ms,
        prometheus_textfile: raw
            .export
            .as_ref()
            .and_then(|e| e.prometheus_textfile.clone()),
        definitions,
        raw,
    })
}

fn duration_at(source: &Source<'_>, text: &Spanned<String>) -> Result<i64, ConfigError> {
    parse_duration(text.get_ref()).map_err(|why| {
        source.error_at(
            text.span(),
            why,
            "write a duration like \"3d\", \"12h\", \"30m\"",
        )
    })
}

fn path_at(source: &Source<'_>, text: &Spanned<String>) -> Result<DocPath, ConfigError> {
    DocPath::parse(text.get_ref()).map_err(|why| {
        source.error_at(
            text.span(),
            why,
            "write a field path like \"/claudeAiOauth/accessToken\"",
        )
    })
}

fn validate_credential(
    source: &Source<'_>,
    raw: &RawCredential,
    origin: Origin,
) -> Result<Definition, ConfigError> {
    let name = raw.name.get_ref().clone();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !name_ok {
        return Err(source.error_at(
            raw.name.span(),
            format!("credential name \"{name}\" is not usable"),
            "use 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    let files = raw
        .file
        .as_ref()
        .map(|f| f.get_ref().to_vec())
        .unwrap_or_default();
    if files.is_empty() && raw.keyring.is_none() {
        return Err(source.error_at(
            raw.name.span(),
            format!("credential \"{name}\" has no store"),
            "add file = \"~/path/to/credential\" or keyring = { service = \"…\", account = \"…\" }",
        ));
    }
    if let Some(file) = &raw.file {
        for spec in file.get_ref().to_vec() {
            if let Err(crate::support::paths::Unexpanded::Malformed(why)) =
                crate::support::paths::expand(&spec)
            {
                return Err(source.error_at(
                    file.span(),
                    why,
                    "write paths like \"~/.tool/token.json\" or \"${TOOL_DIR:-~/.tool}/token.json\"",
                ));
            }
        }
    }
    let spanned_list =
        |field: &Option<Spanned<OneOrMany>>| -> Vec<(String, std::ops::Range<usize>)> {
            field
                .as_ref()
                .map(|f| {
                    f.get_ref()
                        .to_vec()
                        .into_iter()
                        .map(|s| (s, f.span()))
                        .collect()
                })
                .unwrap_or_default()
        };
    let mut secret = Vec::new();
    for (text, span) in spanned_list(&raw.secret) {
        secret.push(path_at(source, &Spanned::new(span, text))?);
    }
    let format = raw.format.unwrap_or(Format::Text);
    if secret.is_empty() && !files.is_empty() {
        if format == Format::Text {
            secret.push(DocPath::parse("").expect("the empty path is valid"));
        } else {
            return Err(source.error_at(
                raw.name.span(),
                format!("credential \"{name}\" reads a {format} file but names no secret field"),
                "add secret = \"/path/to/token\" (the field that must be present and non-empty)",
            ));
        }
    }
    let mut expires = Vec::new();
    for (text, span) in spanned_list(&raw.expires) {
        expires.push(ExpirySpec::parse(&text).map_err(|why| {
            source.error_at(
                span,
                why,
                "write expires = \"/expires_at\" or \"jwt:/access_token\"",
            )
        })?);
    }
    let refresh_expires = match &raw.refresh_expires {
        Some(text) => Some(ExpirySpec::parse(text.get_ref()).map_err(|why| {
            source.error_at(
                text.span(),
                why,
                "write refresh_expires = \"/refresh_expires_at\"",
            )
        })?),
        None => None,
    };
    let account_marker = match &raw.account_marker {
        Some(marker) => Some(AccountMarker {
            file: marker.file.clone(),
            format: marker.format,
            path: path_at(source, &marker.path)?,
        }),
        None => None,
    };
    let probe = match &raw.probe {
        Some(probe) => Some(validate_probe(source, probe)?),
        None => None,
    };
    let keyring = match &raw.keyring {
        Some(spec) => Some(validate_keyring(source, raw.name.span(), &name, spec)?),
        None => None,
    };
    Ok(Definition {
        tool: raw.tool.clone().unwrap_or_else(|| name.clone()),
        fix: raw
            .fix
            .clone()
            .unwrap_or_else(|| format!("log in to {} again", raw.tool.as_deref().unwrap_or(&name))),
        name,
        origin,
        files,
        format,
        secret,
        blank: raw.blank.unwrap_or_default(),
        login_entry: raw
            .login_entry
            .as_ref()
            .map(|p| path_at(source, p))
            .transpose()?,
        expires,
        expires_unit: raw.expires_unit.unwrap_or_default(),
        refresh_token: raw
            .refresh_token
            .as_ref()
            .map(|p| path_at(source, p))
            .transpose()?,
        refresh_expires,
        renews_itself: raw.renews_itself.unwrap_or(false),
        detect: raw.detect.unwrap_or_default(),
        account_marker,
        keyring: keyring.map(Box::new),
        env: raw.env.clone(),
        commands: raw.commands.clone(),
        warn_before_ms: raw
            .warn_before
            .as_ref()
            .map(|d| duration_at(source, d))
            .transpose()?,
        probe: probe.map(Box::new),
        raw: raw.clone(),
    })
}

fn validate_probe(
    source: &Source<'_>,
    probe: &Spanned<RawProbe>,
) -> Result<ProbeSpec, ConfigError> {
    let raw = probe.get_ref();
    let fail = |message: String, fix: &str| source.error_at(probe.span(), message, fix);
    match (&raw.command, &raw.http) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(fail(
                "a probe needs exactly one of `command` or `http`".into(),
                "write probe = { command = [\"tool\", \"whoami\"] } or probe = { http = \"https://…\", bearer = \"/access_token\" }",
            ))
        }
        (Some(argv), None) if argv.is_empty() => {
            return Err(fail("probe command is empty".into(), "name the program to run"))
        }
        (None, Some(url)) if !url.starts_with("https://") && !is_loopback_http(url) => {
            return Err(fail(
                format!("probe URL \"{url}\" is not HTTPS: the token would travel in clear"),
                "use an https:// URL (plain http is allowed only to 127.0.0.0/8, localhost or [::1])",
            ))
        }
        _ => {}
    }
    let duration = |text: &Option<String>, default: i64| -> Result<i64, ConfigError> {
        match text {
            Some(text) => parse_duration(text)
                .map_err(|why| fail(why, "write a duration like \"15m\" or \"5s\"")),
            None => Ok(default),
        }
    };
    let every_ms = duration(&raw.every, DEFAULT_PROBE_EVERY_MS)?;
    let timeout_ms = duration(&raw.timeout, DEFAULT_PROBE_TIMEOUT_MS)?;
    if every_ms < 10_000 {
        return Err(fail(
            "probe every is shorter than 10 s".into(),
            "probe at most every 10 s (every = \"15m\" is the default)",
        ));
    }
    let kind = match (&raw.command, &raw.http) {
        (Some(argv), _) => ProbeKind::Command {
            argv: argv.clone(),
            rejected_exit_codes: raw.rejected_exit_codes.clone(),
            rejected_output: raw.rejected_output.clone(),
        },
        (None, Some(url)) => ProbeKind::Http {
            url: url.clone(),
            bearer: match &raw.bearer {
                Some(path) => Some(DocPath::parse(path).map_err(|why| {
                    fail(
                        why,
                        "write bearer = \"/access_token\" (the field that holds the token)",
                    )
                })?),
                None => None,
            },
        },
        (None, None) => unreachable!("checked above"),
    };
    Ok(ProbeSpec {
        kind,
        every_ms,
        timeout: std::time::Duration::from_millis(timeout_ms.max(1) as u64),
    })
}

/// A plain-http URL whose host is this machine: 127.0.0.0/8, `[::1]` or exactly `localhost`.
/// User info (`http://127.0.0.1@evil.example`) is refused: it hides the real host.
pub fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        match bracketed.split_once(']') {
            Some((host, port)) if port.is_empty() || port.starts_with(':') => host,
            _ => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            Some(_) => return false,
            None => authority,
        }
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_loopback_hosts_may_use_plain_http() {
        for ok in [
            "http://127.0.0.1:8080/me",
            "http://localhost/x",
            "http://[::1]:9/",
            "http://127.5.5.5",
        ] {
            assert!(is_loopback_http(ok), "{ok}");
        }
        for bad in [
            "http://localhost.evil.com/",
            "http://127.0.0.1@evil.com/",
            "http://127.1.2.3.nip.io/",
            "http://[::1].evil.com/",
            "http://example.com/",
            "https://127.0.0.1/",
            "http://127.0.0.1:80x/",
        ] {
            assert!(!is_loopback_http(bad), "{bad}");
        }
    }

    fn parse_text(text: &str) -> Result<Config, String> {
        let source = Source {
            label: "config.toml".into(),
            text,
        };
        parse(&source, Origin::Config("config.toml".into())).map_err(|e| e.to_string())
    }

    #[test]
    fn contract_example_parses() {
        let config = parse_text(
            r#"
warn_before = "3d"
presets = "auto"

[prompt]
format = "⚠ {names}"

[[credential]]
name = "my-api"
file = "~/.config/my-api/token.json"
format = "json"
secret = "/access_token"
expires = "/expires_at"
keyring = { service = "my-api", account = "me" }
commands = ["my-api"]
fix = "my-api login"
probe = { command = ["my-api", "whoami"], every = "15m", timeout = "5s" }
"#,
        )
        .unwrap();
        assert_eq!(config.warn_before_ms, DEFAULT_WARN_BEFORE_MS);
        let def = &config.definitions[0];
        assert_eq!(def.secret[0].as_str(), "/access_token");
        assert_eq!(
            def.keyring.as_ref().unwrap().spec.account.as_deref(),
            Some("me")
        );
    }

    #[test]
    fn typo_names_line_and_column() {
        let err = parse_text("[[credential]]\nname = \"x\"\nfiel = \"~/x\"\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:3:1: unknown field `fiel`"),
            "{err}"
        );
        let err = parse_text("warn_before = 3\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:1:15: invalid type: integer"),
            "{err}"
        );
        let err = parse_text("warn_before = \"3 days\"\n").unwrap_err();
        assert!(err.starts_with("config.toml:1:15:"), "{err}");
        let err = parse_text("[[credential]]\nname = \"x\"\nfile = \"~/x\"\nformat = \"jsn\"\n")
            .unwrap_err();
        assert!(
            err.starts_with("config.toml:4:10: unknown variant `jsn`"),
            "{err}"
        );
    }

    #[test]
    fn semantic_errors_are_located() {
        let err = parse_text(
            "[[credential]]\nname = \"x\"\nfile = \"~/x\"\nformat = \"json\"\nsecret = \"token\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("config.toml:5:10: field path \"token\" must start with"),
            "{err}"
        );
        let err = parse_text("[[credential]]\nname = \"x\"\n").unwrap_err();
        assert!(err.contains("has no store"), "{err}");
        let err = parse_text("presets = [\"cluade\"]\n").unwrap_err();
        assert!(err.contains("unknown preset \"cluade\""), "{err}");
        let err = parse_text(
            "[[credential]]\nname = \"x\"\nfile = \"~/x\"\nprobe = { http = \"http://api.example.com\" }\n",
        )
        .unwrap_err();
        assert!(err.contains("not HTTPS"), "{err}");
    }
}
