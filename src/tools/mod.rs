//! The formats tools keep their logins in, each decoded into one value tree (a [`Document`] of
//! JSON-like values) that definitions address with field paths, whatever the format. A format
//! is one entry here: its name, how it is decoded, and the traits of its files that the file
//! store turns into policies ([`Traits`]). The text formats are in `text`; a binary format (a
//! Kerberos ticket cache, an OpenSSH certificate) is a module of its own that decodes bytes.
//!
//! Guarantees: every format decodes into a [`Document`] or a [`ParseProblem`] that says what is
//! wrong and where (line, column) **without quoting the content**: these files hold secrets, so
//! no parser message that could echo a value reaches the user.

mod aws;
mod gcloud;
mod kerberos;
mod kubeconfig;
mod sqlite;
pub(crate) mod ssh_agent;
mod ssh_certificate;
mod text;
mod wire;
pub(crate) mod x509;

use crate::support::secret::{Document, EnvRef};
use serde_json::Value;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Ini,
    Netrc,
    Text,
    /// kubectl's config: YAML, the files of a `:`-separated list merged, seen from the current
    /// context (see `kubeconfig`).
    Kubeconfig,
    /// npm's `.npmrc`: INI whose `${VAR}`s npm replaces with the environment's values (an
    /// unset one with nothing).
    Npmrc,
    /// The AWS CLI's shared credentials file: INI, seen from the profile `AWS_PROFILE` names
    /// (see `aws`).
    AwsCredentials,
    /// An OpenSSH certificate (`*-cert.pub`): its fields, the validity window among them (see
    /// `ssh_certificate`). Public by nature.
    SshCertificate,
    /// An X.509 certificate, PEM or DER (a client certificate, Teleport's `-x509.pem`): its
    /// `not_after`. Public by nature.
    X509Certificate,
    /// OpenSSH's client configuration: each keyword with its values (for `file_from`: the
    /// `CertificateFile` it names).
    SshConfig,
    /// A Kerberos credential cache (MIT's FILE: format): the default principal and its
    /// ticket-granting ticket's times (see `kerberos`). Binary; lives in /tmp by design.
    KerberosCcache,
    /// gcloud's `credentials.db` (SQLite), seen from the active configuration's account, with
    /// the files beside it that say which one that is (see `gcloud`).
    GcloudCredentials,
    /// An ssh-agent, asked through its socket (`$SSH_AUTH_SOCK`) for the keys it holds: how
    /// many, and its certificates' validity (see `ssh_agent`).
    SshAgent,
}

impl Format {
    /// Every format. A format added to the enum needs an index (an exhaustive match), and
    /// this list is checked against the indexes when compiling, so it stays whole and in order.
    pub const ALL: [Format; 15] = [
        Format::Json,
        Format::Yaml,
        Format::Toml,
        Format::Ini,
        Format::Netrc,
        Format::Text,
        Format::Kubeconfig,
        Format::Npmrc,
        Format::AwsCredentials,
        Format::SshCertificate,
        Format::X509Certificate,
        Format::SshConfig,
        Format::KerberosCcache,
        Format::GcloudCredentials,
        Format::SshAgent,
    ];

    /// Its place in [`Format::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Format::Json => 0,
            Format::Yaml => 1,
            Format::Toml => 2,
            Format::Ini => 3,
            Format::Netrc => 4,
            Format::Text => 5,
            Format::Kubeconfig => 6,
            Format::Npmrc => 7,
            Format::AwsCredentials => 8,
            Format::SshCertificate => 9,
            Format::X509Certificate => 10,
            Format::SshConfig => 11,
            Format::KerberosCcache => 12,
            Format::GcloudCredentials => 13,
            Format::SshAgent => 14,
        }
    }
}

const _: () = {
    let mut i = 0;
    while i < Format::ALL.len() {
        assert!(Format::ALL[i].index() == i, "Format::ALL is out of order");
        i += 1;
    }
};

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
            Format::Ini => "INI",
            Format::Netrc => "netrc",
            Format::Text => "text",
            Format::Kubeconfig => "kubeconfig",
            Format::Npmrc => "npmrc",
            Format::AwsCredentials => "aws-credentials",
            Format::SshCertificate => "ssh-certificate",
            Format::KerberosCcache => "kerberos-ccache",
            Format::X509Certificate => "x509-certificate",
            Format::SshConfig => "ssh-config",
            Format::GcloudCredentials => "gcloud-credentials",
            Format::SshAgent => "ssh-agent",
        })
    }
}

/// Why a file could not be understood, in words safe to show (no content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseProblem(pub String);

impl fmt::Display for ParseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the files of a format are, for the policies a store applies to them.
#[derive(Clone, Copy, Debug)]
pub struct Traits {
    /// Its files are public by nature (a certificate): readable by others is not a flaw.
    pub public: bool,
    /// Reads a cache its name keeps outside any file (Kerberos `KEYRING:`).
    pub reads_unfiled: Option<ReadUnfiled>,
    /// Its files live in memory by design (a ticket cache in /tmp): volatile storage loses
    /// nothing the tool does not expect to lose.
    pub volatile_by_design: bool,
    /// A file spec of this format is a `:`-separated list of files, read together
    /// ([`parse_all`]), as kubectl reads `KUBECONFIG`.
    pub path_list: bool,
    /// A larger file is refused unread. Decoding costs up to ~300 ns per byte for the worst
    /// shapes (hundreds of thousands of small entries: allocation bound in every parser), so the
    /// limit is what the tools' own files need, and keeps any one file's answer well under a
    /// second (BENCHMARKS.md, `cargo bench --bench parsers`).
    pub size_limit: u64,
    /// A file spec of this format is the name of a cache, one value with its type before a `:`
    /// (Kerberos: `FILE:/tmp/krb5cc_1`, `DIR:…`, `KEYRING:…`), resolved to the file that holds
    /// it, or to why none does.
    pub names_a_cache: Option<LocateCache>,
    /// Files beside the store (patterns relative to its directory) that its view reads too:
    /// they are watched with it, and read through a [`ReadBeside`].
    pub beside: &'static [&'static str],
    /// Environment variables its reading depends on besides those in the file spec (the
    /// profile or account a view picks): a shell setting them may use another login.
    pub selected_by: &'static [&'static str],
    /// Environment variables whose presence alone changes what is said of its login (inside
    /// tmux, `TMUX`: which fix works); a shell hands over only whether they are set.
    pub told_by: &'static [&'static str],
    /// Its store is a socket that is asked, not a file that is read (an ssh-agent): the store
    /// layer connects, asks, and decodes the answer as the file's content.
    pub asked_through_socket: bool,
    /// Its view selects one login of several and views the others in `accounts` (kubeconfig
    /// contexts, AWS profiles).
    pub views_accounts: bool,
}

/// Reads a file beside the store (a name relative to its directory): its bytes, or `None` when
/// it cannot be read (absent, not a file, too large).
pub type ReadBeside<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// For a store read alone: nothing beside it.
pub const NOTHING_BESIDE: ReadBeside<'static> = &|_| None;

/// A cache kept outside any file (in the kernel's keyrings), read: its content in the format's
/// file encoding (`None`: there is no such cache), and whether the system drops it when the
/// user's sessions end (else at reboot).
#[derive(Debug)]
pub struct Unfiled {
    pub bytes: Option<Vec<u8>>,
    pub until_logout: bool,
}

/// Reads a cache that no file holds (`None`: not one this format can read), at most the given
/// number of bytes.
pub type ReadUnfiled = fn(&std::ffi::OsStr, u64) -> Option<Result<Unfiled, String>>;

/// Resolves a cache name to the file that holds it, or says why none does.
pub type LocateCache = fn(&std::ffi::OsStr) -> Result<std::path::PathBuf, Unlocated>;

/// A cache that no file holds, or whose name could not be found: what to show in its place
/// (`KEYRING:persistent:1000`), why, and what the user can do.
#[derive(Debug)]
pub struct Unlocated {
    pub name: std::ffi::OsString,
    pub why: String,
    pub fix: String,
}

/// Logins in text files are small: a token, a few hosts or profiles (1 MiB is ~10,000 entries).
pub const TEXT_SIZE_LIMIT: u64 = 1 << 20;
/// A kubeconfig holds every cluster of a fleet with its certificates (~7 KiB each): 4 MiB is
/// some 600 clusters, and the worst shape at that size is still answered in about 0.7 s.
pub const KUBECONFIG_SIZE_LIMIT: u64 = 4 << 20;

/// Text files that hold a secret: private, and lost when on volatile storage.
const SECRET_TEXT: Traits = Traits {
    public: false,
    volatile_by_design: false,
    path_list: false,
    size_limit: TEXT_SIZE_LIMIT,
    names_a_cache: None,
    beside: &[],
    selected_by: &[],
    told_by: &[],
    asked_through_socket: false,
    views_accounts: false,
    reads_unfiled: None,
};

/// An agent's list of identities: a few KiB even with many certificates.
pub const AGENT_ANSWER_LIMIT: u64 = 256 << 10;

/// gcloud keeps logins in SQLite databases, which grow with every account and cached token.
pub const SQLITE_SIZE_LIMIT: u64 = 4 << 20;

impl Format {
    pub fn traits(self) -> Traits {
        match self {
            Format::Json
            | Format::Yaml
            | Format::Toml
            | Format::Ini
            | Format::Netrc
            | Format::Text
            | Format::Npmrc
            | Format::SshConfig => SECRET_TEXT,
            Format::AwsCredentials => Traits {
                selected_by: &["AWS_PROFILE"],
                views_accounts: true,
                ..SECRET_TEXT
            },
            Format::Kubeconfig => Traits {
                path_list: true,
                views_accounts: true,
                size_limit: KUBECONFIG_SIZE_LIMIT,
                ..SECRET_TEXT
            },
            // A ticket cache lives in /tmp (or tmpfs) by design: that loses nothing kinit does
            // not expect to lose.
            Format::KerberosCcache => Traits {
                volatile_by_design: true,
                names_a_cache: Some(kerberos::locate),
                reads_unfiled: Some(kerberos::read_keyring),
                selected_by: &["KRB5_CONFIG"],
                ..SECRET_TEXT
            },
            Format::GcloudCredentials => Traits {
                size_limit: SQLITE_SIZE_LIMIT,
                beside: gcloud::BESIDE,
                selected_by: &["CLOUDSDK_ACTIVE_CONFIG_NAME", "CLOUDSDK_CORE_ACCOUNT"],
                ..SECRET_TEXT
            },
            // A socket in a private directory of /tmp, gone with the session by design; what
            // it holds is asked, and `TMUX` decides which fix works.
            Format::SshAgent => Traits {
                public: true,
                volatile_by_design: true,
                size_limit: AGENT_ANSWER_LIMIT,
                told_by: &["TMUX"],
                asked_through_socket: true,
                ..SECRET_TEXT
            },
            // A certificate is public: readable by others is not a flaw.
            Format::SshCertificate | Format::X509Certificate => Traits {
                public: true,
                ..SECRET_TEXT
            },
        }
    }
}

/// A view that selects one login of several (kubeconfig contexts, AWS profiles) views at most
/// this many of the others in `accounts`, to judge each.
pub const ACCOUNT_LIMIT: usize = 64;

/// Decodes the files of a list read together (a format with `path_list`), in order; any other
/// format reads the first (and the files beside it through `beside`).
pub fn parse_all(
    format: Format,
    files: &[Vec<u8>],
    beside: ReadBeside<'_>,
) -> Result<Document, ParseProblem> {
    match format {
        Format::Kubeconfig => {
            let values = files
                .iter()
                .map(|bytes| as_text(bytes).and_then(text::yaml))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Document::new(kubeconfig::view(values)))
        }
        _ => parse_beside(format, files.first().map_or(&[][..], Vec::as_slice), beside),
    }
}

/// Decodes a file of `format` read alone.
pub fn parse(format: Format, bytes: &[u8]) -> Result<Document, ParseProblem> {
    parse_beside(format, bytes, NOTHING_BESIDE)
}

/// Decodes a file of `format`, reading the files beside it (`Traits::beside`) through `beside`.
pub fn parse_beside(
    format: Format,
    bytes: &[u8],
    beside: ReadBeside<'_>,
) -> Result<Document, ParseProblem> {
    let value = match format {
        Format::Json => text::json(as_text(bytes)?)?,
        Format::Yaml => text::yaml(as_text(bytes)?)?,
        Format::Toml => text::toml(as_text(bytes)?)?,
        Format::Ini => text::ini(as_text(bytes)?),
        Format::Netrc => text::netrc(as_text(bytes)?),
        Format::Text => Value::String(as_text(bytes)?.trim().to_string()),
        Format::Kubeconfig => kubeconfig::view(vec![text::yaml(as_text(bytes)?)?]),
        Format::SshCertificate => ssh_certificate::view(as_text(bytes)?).map_err(ParseProblem)?,
        Format::KerberosCcache => kerberos::view(bytes).map_err(ParseProblem)?,
        Format::X509Certificate => {
            let not_after = x509::not_after(bytes).map_err(ParseProblem)?;
            serde_json::json!({ "not_after": not_after.millis() / 1000 })
        }
        Format::SshConfig => text::ssh_config(as_text(bytes)?),
        Format::SshAgent => ssh_agent::view(bytes).map_err(ParseProblem)?,
        Format::Npmrc => {
            let (value, env) = text::with_env(text::ini(as_text(bytes)?), &|name| {
                crate::support::environ::var_os(name).map(|v| v.to_string_lossy().into_owned())
            });
            let env = env
                .into_iter()
                .map(|(name, set)| EnvRef::supplies(name, set))
                .collect();
            return Ok(Document::with_env(value, env));
        }
        Format::GcloudCredentials => {
            let (value, env) = gcloud::view(bytes, beside).map_err(ParseProblem)?;
            return Ok(Document::with_env(value, env));
        }
        Format::AwsCredentials => {
            let profile = crate::support::environ::var_os("AWS_PROFILE")
                .map(|v| v.to_string_lossy().into_owned());
            let (value, env) = aws::view(text::ini(as_text(bytes)?), profile);
            return Ok(Document::with_env(value, env));
        }
    };
    Ok(Document::new(value))
}

/// The bytes of a text format as text.
fn as_text(bytes: &[u8]) -> Result<&str, ParseProblem> {
    std::str::from_utf8(bytes).map_err(|e| {
        ParseProblem(format!(
            "not text: binary or non-UTF-8 data at byte {}",
            e.valid_up_to()
        ))
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
