//! Validated definitions and settings: what the rest of credwatch works from. Everything here
//! is complete and consistent (see `validate`).

use super::raw::{BlankMeans, Detect, KeyringSpec, RawConfig, RawCredential};
use crate::support::docpath::DocPath;
use crate::support::timefmt::EpochUnit;
use crate::tools::Format;
use std::path::PathBuf;

pub const DEFAULT_WARN_BEFORE_MS: i64 = 3 * 86_400_000;
pub const DEFAULT_PROMPT_FORMAT: &str = "⚠ {names}";

/// A validated [`KeyringSpec`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Keyring {
    pub spec: KeyringSpec,
    pub each: Option<DocPath>,
    pub in_file: Option<String>,
    pub when: Option<(DocPath, ValueTest)>,
    pub expires: Option<SecretExpiry>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExpirySpec {
    pub path: DocPath,
    pub reading: Reading,
}

/// How an expiry is read from a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reading {
    /// A date: epoch seconds or milliseconds, or a date in text.
    Date,
    /// `jwt:/path`: a JWT whose `exp` claim is the expiry.
    Jwt,
    /// `jwt?:/path`: a token that may be a JWT (`kubectl create token` gives one; a static token
    /// is opaque): its `exp` when it is one, nothing when it is not.
    MaybeJwt,
    /// `x509:/path`: a certificate (PEM, or base64 of PEM or DER as kubeconfig's
    /// `client-certificate-data`) whose `notAfter` is the expiry.
    X509,
    /// `ecr?:/path`: docker's `auth` (base64 of `USER:PASSWORD`) that may hold an Amazon ECR
    /// authorization token (user `AWS`, the password base64 of JSON with `expiration`, epoch
    /// seconds, 12 h after issue): that expiration when it does, nothing when it does not.
    MaybeEcr,
}

impl ExpirySpec {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let (reading, path) = [
            ("jwt?:", Reading::MaybeJwt),
            ("jwt:", Reading::Jwt),
            ("x509:", Reading::X509),
            ("ecr?:", Reading::MaybeEcr),
        ]
        .iter()
        .find_map(|(prefix, reading)| text.strip_prefix(prefix).map(|path| (*reading, path)))
        .unwrap_or((Reading::Date, text));
        Ok(ExpirySpec {
            path: DocPath::parse(path)?,
            reading,
        })
    }
}

impl std::fmt::Display for ExpirySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.reading {
            Reading::Date => write!(f, "{}", self.path),
            Reading::Jwt | Reading::MaybeJwt => write!(f, "the JWT in {}", self.path),
            Reading::X509 => write!(f, "the certificate in {}", self.path),
            Reading::MaybeEcr => write!(f, "the ECR token in {}", self.path),
        }
    }
}

/// A validated `file_from`: the credential file is the value of `option` in the command line at
/// `path` of the first of `files` that exists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileFrom {
    pub files: Vec<String>,
    pub format: Format,
    pub path: DocPath,
    /// The option that gives the path in a command line; `None`: the value is the path.
    pub option: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountMarker {
    pub file: String,
    pub format: Format,
    pub path: DocPath,
}

/// A validated probe: what to ask, how often, how long to wait.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProbeSpec {
    pub kind: ProbeKind,
    pub every_ms: i64,
    pub timeout: std::time::Duration,
    /// Run only when asked (`verify`, `login`), never by the daemon.
    #[serde(default)]
    pub on_request: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProbeKind {
    /// Exit 0: accepted; one of `rejected_exit_codes` or output containing `rejected_output`:
    /// rejected; anything else: unknown.
    Command {
        argv: Vec<String>,
        rejected_exit_codes: Vec<i32>,
        rejected_output: Option<String>,
    },
    /// GET, with `Authorization: Bearer <the field at bearer>` when one is named, or the value
    /// of the first `bearer_env` variable set (the token the tool then uses); the header
    /// `expires_header` of the answer is the token's deadline.
    Http {
        url: String,
        bearer: Option<DocPath>,
        #[serde(default)]
        bearer_env: Vec<String>,
        #[serde(default)]
        expires_header: Option<String>,
    },
}

pub const DEFAULT_PROBE_EVERY_MS: i64 = 15 * 60 * 1000;
pub const DEFAULT_PROBE_TIMEOUT_MS: i64 = 5_000;

/// A validated credential definition: everything needed to observe and evaluate it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Definition {
    pub name: String,
    pub tool: String,
    pub files: Vec<String>,
    pub format: Format,
    pub secret: Vec<DocPath>,
    pub blank: BlankMeans,
    pub login_entry: Option<DocPath>,
    pub expires: Vec<ExpirySpec>,
    pub expires_unit: EpochUnit,
    pub refresh_token: Option<DocPath>,
    pub refresh_expires: Option<ExpirySpec>,
    pub refresh_until: Option<ExpirySpec>,
    /// Until when a renewer outside the tool can extend the deadline: shown, not counted.
    pub renewable_until: Option<ExpirySpec>,
    pub renews_itself: bool,
    pub secret_name: Option<String>,
    /// Names at this path are other logins in the file, not in use; said with these words.
    pub others: Option<(DocPath, String)>,
    pub file_from: Option<FileFrom>,
    pub detect: Detect,
    pub account_marker: Option<AccountMarker>,
    /// Where the tool records the active account; present and naming none: logged out.
    #[serde(default)]
    pub active_account: Option<AccountMarker>,
    pub keyring: Option<Box<Keyring>>,
    pub env: Vec<String>,
    /// Variables that carry the deadline of the login the `env` variables give the tool
    /// (`AWS_CREDENTIAL_EXPIRATION`, set by aws-vault beside the keys): the first that holds a
    /// date counts. Their values select (a date is no secret).
    #[serde(default)]
    pub env_expires: Vec<String>,
    pub commands: Vec<String>,
    /// The tool's own logout commands (`npm logout`): a store that stops being usable while one
    /// of them runs was logged out on purpose.
    pub logout: Vec<String>,
    pub fix: String,
    pub warn_before_ms: Option<i64>,
    pub probe: Option<Box<ProbeSpec>>,
    /// The definition as written, for `config show`; a built-in preset's is not kept (its TOML
    /// is in the binary: see `presets`).
    #[serde(skip)]
    pub raw: Option<RawCredential>,
}

impl Definition {
    /// The environment variables that decide which login it finds: those its file specs name
    /// and its format reads (their values matter), then those that shadow it or only change
    /// what is said (only whether they are set matters: a name in both lists is only there, so
    /// that its value is never carried). `HOME` and `UID` are the user's, not a shell's.
    pub fn context_variables(&self) -> ContextVariables {
        fn add(list: &mut Vec<String>, name: &str) {
            if !list.iter().any(|known| known == name) {
                list.push(name.to_string());
            }
        }
        let traits = self.format.traits();
        let mut shadows: Vec<String> = Vec::new();
        for name in self
            .env
            .iter()
            .map(String::as_str)
            .chain(traits.told_by.iter().copied())
        {
            add(&mut shadows, name);
        }
        let specs = self
            .files
            .iter()
            .chain(self.file_from.iter().flat_map(|f| &f.files))
            .chain(self.account_marker.iter().map(|m| &m.file))
            .chain(self.active_account.iter().map(|m| &m.file));
        let mut selects: Vec<String> = Vec::new();
        for name in specs
            .flat_map(|spec| crate::support::paths::variables_in(spec))
            .chain(traits.selected_by.iter().copied())
        {
            if !["HOME", "UID"].contains(&name) && !shadows.iter().any(|s| s == name) {
                add(&mut selects, name);
            }
        }
        for name in &self.env_expires {
            if !shadows.iter().any(|s| s == name) {
                add(&mut selects, name);
            }
        }
        ContextVariables { selects, shadows }
    }
}

/// See [`Definition::context_variables`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextVariables {
    pub selects: Vec<String>,
    pub shadows: Vec<String>,
}

/// What happened to a credential that the daemon tells about on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    /// It became broken (expired, logged out, missing, invalid, …).
    Broken,
    /// It entered its warning window.
    Expiring,
    /// Usable again after being broken or expiring (or undetermined, when those are told).
    Recovered,
    /// A lead time before its deadline was reached.
    Lead,
    /// It cannot be checked (unknown, unavailable).
    Undetermined,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::Broken,
        AlertKind::Expiring,
        AlertKind::Recovered,
        AlertKind::Lead,
        AlertKind::Undetermined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Broken => "broken",
            AlertKind::Expiring => "expiring",
            AlertKind::Recovered => "recovered",
            AlertKind::Lead => "lead",
            AlertKind::Undetermined => "undetermined",
        }
    }
}

/// A command run on transitions (`[[on_change]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// `None`: every credential.
    pub credentials: Option<Vec<String>>,
    pub on: Vec<AlertKind>,
    pub argv: Vec<String>,
    pub timeout_ms: i64,
}

pub const DEFAULT_LEAD_TIMES_MS: [i64; 2] = [86_400_000, 3_600_000];
pub const DEFAULT_HOOK_TIMEOUT_MS: i64 = 10_000;

/// What the daemon says on its own (`[notify]`, `[[on_change]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alerts {
    pub desktop: bool,
    /// Longest first.
    pub lead_times_ms: Vec<i64>,
    pub undetermined: bool,
    pub hooks: Vec<Hook>,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            desktop: true,
            lead_times_ms: DEFAULT_LEAD_TIMES_MS.to_vec(),
            undetermined: false,
            hooks: Vec::new(),
        }
    }
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
    pub alerts: Alerts,
    /// `[long_commands]`, in the order of their commands.
    pub long_commands: Vec<LongCommand>,
    pub definitions: Vec<Definition>,
    pub raw: RawConfig,
}

/// A command that runs long (`terraform apply`) and the time it needs: before it, the hooks warn
/// when a login it uses ends sooner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongCommand {
    /// Its words, one space between them, as the hooks match them (`git push` runs in
    /// `git -C dir push origin`).
    pub command: String,
    pub needs_ms: i64,
    /// The credentials it uses when the config names them; otherwise those with a command it
    /// runs (`terraform` for `terraform apply`).
    pub logins: Option<Vec<String>>,
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
            alerts: Alerts::default(),
            long_commands: Vec::new(),
            definitions: Vec::new(),
            raw: RawConfig::default(),
        }
    }
}
