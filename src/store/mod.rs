//! Looking at a credential's stores: every piece of I/O that evaluation needs, and nothing more.
//!
//! Guarantees: reading is bounded ([`FILE_SIZE_LIMIT`]) and never blocks; the content is parsed,
//! reduced to facts (is the secret there, when does it expire) and dropped before this returns, so
//! an [`Observation`] holds no secret. Failures become facts too: nothing here panics or errors.

pub mod keyring;

use crate::define::config::{Definition, ExpirySpec};
use crate::store::keyring::{KeyringObservation, KeyringPlan};
use crate::support::docpath::DocPath;
use crate::support::formats::{self, ParseProblem};
use crate::support::fsread::{read_bounded, ReadOutcome};
use crate::support::paths::{self, Unexpanded};
use crate::support::secret::{Document, Secret};
use crate::support::timefmt::{EpochUnit, Timestamp};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// No credential file is this large; a bigger one is `invalid` without being read.
pub const FILE_SIZE_LIMIT: u64 = 8 << 20;
/// Account markers (`~/.claude.json`) hold a tool's whole state and grow large.
const MARKER_SIZE_LIMIT: u64 = 64 << 20;
/// A glob store looks at most at this many of its newest files.
const GLOB_CANDIDATES: usize = 32;

#[derive(Debug)]
pub struct Observation {
    /// The file stores looked at, in order of preference.
    pub files: Vec<FileObservation>,
    /// Index into `files` of the store in use: the first that exists.
    pub primary: Option<usize>,
    /// File specs that could not be expanded (an unset variable, no home).
    pub unresolved: Vec<(String, Unexpanded)>,
    pub marker: Option<MarkerObservation>,
    /// Names of environment variables, set in this process, that override the stored login.
    pub shadowed_by: Vec<String>,
    /// The user the check ran as.
    pub uid: u32,
    /// The home directory, to show paths under it as `~/…`.
    pub home: Option<PathBuf>,
    /// When a credential seen before was first found gone (from the memory of credentials seen).
    pub gone_since: Option<Timestamp>,
    /// The keyring items the definition expects here; `None` when it uses no keyring (or the
    /// file says the keyring is not in use).
    pub keyring_plan: Option<KeyringPlan>,
    /// What the keyring said of them (filled by the caller: a lookup, or the daemon's last one).
    pub keyring: Option<KeyringObservation>,
    /// The last live probe, when one ran since the store last changed (filled by the caller).
    pub probe: Option<crate::probe::ProbeReport>,
}

#[derive(Debug)]
pub struct FileObservation {
    pub path: PathBuf,
    pub status: FileStatus,
}

#[derive(Debug)]
pub enum FileStatus {
    Absent,
    NotAFile(&'static str),
    SymlinkLoop,
    PermissionDenied,
    TooLarge { size: u64, limit: u64 },
    Failed(String),
    Read(FileFacts),
}

#[derive(Debug)]
pub struct FileFacts {
    pub meta: FileMeta,
    pub content: Content,
}

#[derive(Debug, Clone)]
pub struct FileMeta {
    pub mode: u32,
    pub uid: u32,
    pub size: u64,
    pub fs: String,
    pub persistent: bool,
    pub modified: Option<Timestamp>,
}

#[derive(Debug)]
pub enum Content {
    /// Zero bytes, or only white space.
    Empty,
    Unparseable(ParseProblem),
    Parsed(LoginFacts),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Present,
    Blank,
    Absent,
}

#[derive(Debug)]
pub struct LoginFacts {
    /// The `login_entry` field exists (always true when none is configured).
    pub entry_present: bool,
    pub secret: Presence,
    pub refresh: Presence,
    /// The earliest `expires` value: `None` when no such field is there.
    pub expires: Option<Result<Timestamp, String>>,
    /// The latest readable `expires` value (for renewed access tokens: the one in use).
    pub latest_expires: Option<Timestamp>,
    pub refresh_expires: Option<Result<Timestamp, String>>,
    /// The keyring items this file says to expect (with a keyring in the definition).
    pub keyring_plan: Option<KeyringPlan>,
}

#[derive(Debug)]
pub struct MarkerObservation {
    pub path: PathBuf,
    pub present: bool,
}

impl Observation {
    pub fn primary_file(&self) -> Option<&FileObservation> {
        self.primary.map(|i| &self.files[i])
    }

    pub fn login_facts(&self) -> Option<&LoginFacts> {
        match &self.primary_file()?.status {
            FileStatus::Read(FileFacts {
                content: Content::Parsed(facts),
                ..
            }) => Some(facts),
            _ => None,
        }
    }

    fn marker_present(&self) -> bool {
        self.marker.as_ref().is_some_and(|m| m.present)
    }

    /// Whether `presets = "auto"` should turn this definition on.
    pub fn detected(&self, definition: &Definition) -> bool {
        if self.marker_present() {
            return true;
        }
        match definition.detect {
            crate::define::config::Detect::Store => self.primary.is_some(),
            crate::define::config::Detect::Login => self
                .login_facts()
                .is_some_and(|f| f.entry_present && f.secret == Presence::Present),
            crate::define::config::Detect::Keyring => self.keyring_plan.is_some(),
        }
    }
}

/// Observes every store of `definition` as the current user, in the current environment.
pub fn observe(definition: &Definition) -> Observation {
    let mut files = Vec::new();
    let mut unresolved = Vec::new();
    for spec in &definition.files {
        let glob = paths::has_glob(spec);
        match paths::expand_for_glob(spec, glob) {
            Ok(expanded) => {
                for path in expanded {
                    files.push(if glob {
                        observe_glob(&path, definition)
                    } else {
                        FileObservation {
                            status: observe_file(&path, definition),
                            path,
                        }
                    });
                }
            }
            Err(why) => unresolved.push((spec.clone(), why)),
        }
    }
    let primary = files
        .iter()
        .position(|f| !matches!(f.status, FileStatus::Absent));
    // The marker (often a large file) is read only when the stores hold no login.
    let holds_login = primary.is_some_and(|i| holds_login(&files[i].status));
    let marker = definition
        .account_marker
        .as_ref()
        .filter(|_| !holds_login)
        .and_then(|marker| {
            let path = paths::expand(&marker.file).ok()?.into_iter().next()?;
            let present = match read_bounded(&path, MARKER_SIZE_LIMIT) {
                ReadOutcome::Read { bytes, .. } => formats::parse(marker.format, &bytes)
                    .map(|doc| {
                        presence(&doc, std::slice::from_ref(&marker.path)) == Presence::Present
                    })
                    .unwrap_or(false),
                _ => false,
            };
            Some(MarkerObservation { path, present })
        });
    let shadowed_by = shadowing_env(definition);
    let keyring_plan = definition.keyring.as_ref().and_then(|keyring| {
        match primary.map(|i| &files[i].status) {
            // No file (or none configured): only a plan that needs nothing from a file.
            None => crate::store::keyring::plan(keyring, None),
            Some(FileStatus::Read(FileFacts {
                content: Content::Parsed(facts),
                ..
            })) => facts.keyring_plan.clone(),
            Some(_) => None,
        }
    });
    Observation {
        files,
        primary,
        unresolved,
        marker,
        shadowed_by,
        uid: nix::unistd::geteuid().as_raw(),
        home: paths::home_dir(),
        gone_since: None,
        keyring_plan,
        keyring: None,
        probe: None,
    }
}

/// Names of the definition's environment variables that are set in this process and so take
/// precedence over the stored login.
pub fn shadowing_env(definition: &Definition) -> Vec<String> {
    definition
        .env
        .iter()
        .filter(|name| std::env::var_os(name).is_some_and(|v| is_set(&v)))
        .cloned()
        .collect()
}

/// Whether an environment value turns something on: set, non-empty, and not `0`/`false`/`no`/`off`
/// (`CLAUDE_CODE_USE_BEDROCK=0` does not switch Claude Code to Bedrock).
pub fn is_set(value: &std::ffi::OsStr) -> bool {
    let text = value.to_string_lossy();
    let text = text.trim();
    !text.is_empty()
        && !["0", "false", "no", "off"]
            .iter()
            .any(|f| text.eq_ignore_ascii_case(f))
}

fn holds_login(status: &FileStatus) -> bool {
    matches!(status, FileStatus::Read(FileFacts { content: Content::Parsed(f), .. })
        if f.entry_present && f.secret == Presence::Present)
}

/// A parsed file without the secret field at all is not this tool's login (the AWS SSO cache
/// also holds client registrations): a glob passes over it.
fn lacks_secret_field(status: &FileStatus) -> bool {
    matches!(status, FileStatus::Read(FileFacts { content: Content::Parsed(f), .. })
        if f.secret == Presence::Absent)
}

/// Among a glob's newest matches, the first that holds a login; when none does, the newest that
/// is not plainly something else (or, with none, the pattern itself as absent).
fn observe_glob(pattern_path: &Path, definition: &Definition) -> FileObservation {
    let pattern = pattern_path.to_str().unwrap_or_default();
    let mut matches: Vec<(Option<std::time::SystemTime>, PathBuf)> = glob::glob(pattern)
        .map(|paths| {
            paths
                .filter_map(Result::ok)
                .take(4096)
                .map(|p| (std::fs::metadata(&p).and_then(|m| m.modified()).ok(), p))
                .collect()
        })
        .unwrap_or_default();
    matches.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut newest: Option<FileObservation> = None;
    for (_, candidate) in matches.into_iter().take(GLOB_CANDIDATES) {
        let status = observe_file(&candidate, definition);
        if holds_login(&status) {
            return FileObservation {
                path: candidate,
                status,
            };
        }
        if newest.is_none() && !lacks_secret_field(&status) {
            newest = Some(FileObservation {
                path: candidate,
                status,
            });
        }
    }
    newest.unwrap_or(FileObservation {
        path: pattern_path.to_path_buf(),
        status: FileStatus::Absent,
    })
}

fn observe_file(path: &Path, definition: &Definition) -> FileStatus {
    let (bytes, file, metadata) = match read_bounded(path, FILE_SIZE_LIMIT) {
        ReadOutcome::Absent => return FileStatus::Absent,
        ReadOutcome::NotAFile(kind) => return FileStatus::NotAFile(kind),
        ReadOutcome::SymlinkLoop => return FileStatus::SymlinkLoop,
        ReadOutcome::PermissionDenied => return FileStatus::PermissionDenied,
        ReadOutcome::TooLarge { size, limit } => return FileStatus::TooLarge { size, limit },
        ReadOutcome::Failed(e) => return FileStatus::Failed(e.to_string()),
        ReadOutcome::Read {
            bytes,
            file,
            metadata,
        } => (bytes, file, metadata),
    };
    let (fs, persistent) = filesystem_of(&file);
    let meta = FileMeta {
        mode: metadata.mode() & 0o7777,
        uid: metadata.uid(),
        size: metadata.len(),
        fs,
        persistent,
        modified: metadata.modified().ok().map(Timestamp::from_system_time),
    };
    let content = if bytes.iter().all(u8::is_ascii_whitespace) {
        Content::Empty
    } else {
        match formats::parse(definition.format, &bytes) {
            Ok(document) => Content::Parsed(login_facts(&document, definition)),
            Err(problem) => Content::Unparseable(problem),
        }
    };
    drop(bytes);
    FileStatus::Read(FileFacts { meta, content })
}

fn login_facts(document: &Document, definition: &Definition) -> LoginFacts {
    let entry_present = definition
        .login_entry
        .as_ref()
        .is_none_or(|entry| !entry.resolve(document.root()).is_empty());
    let expiries = read_expiries(document, &definition.expires, definition.expires_unit);
    let secret = presence(document, &definition.secret);
    LoginFacts {
        entry_present,
        secret,
        refresh: definition
            .refresh_token
            .as_ref()
            .map_or(Presence::Absent, |p| {
                presence(document, std::slice::from_ref(p))
            }),
        expires: expiries.earliest,
        latest_expires: expiries.latest,
        refresh_expires: definition.refresh_expires.as_ref().and_then(|spec| {
            read_expiries(
                document,
                std::slice::from_ref(spec),
                definition.expires_unit,
            )
            .earliest
        }),
        keyring_plan: definition
            .keyring
            .as_ref()
            // A plain keyring entry is the other place the secret may be: looked at only when
            // the file does not hold it. With `each` or `when`, the file says what to expect.
            .filter(|k| k.each.is_some() || k.when.is_some() || secret != Presence::Present)
            .and_then(|keyring| crate::store::keyring::plan(keyring, Some(document.root()))),
    }
}

fn presence(document: &Document, paths: &[DocPath]) -> Presence {
    let mut found_blank = false;
    for path in paths {
        for value in path.resolve(document.root()) {
            if is_filled(value) {
                return Presence::Present;
            }
            found_blank = true;
        }
    }
    if found_blank {
        Presence::Blank
    } else {
        Presence::Absent
    }
}

fn is_filled(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(_) => true,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

struct Expiries {
    /// The earliest readable value, or the first problem when none is readable.
    earliest: Option<Result<Timestamp, String>>,
    latest: Option<Timestamp>,
}

/// The expiries among all fields the specs reach. Unreadable values count only when nothing
/// readable is found (then the error names the field, never its value).
fn read_expiries(document: &Document, specs: &[ExpirySpec], unit: EpochUnit) -> Expiries {
    let mut found: Vec<Timestamp> = Vec::new();
    let mut problem: Option<String> = None;
    for spec in specs {
        for value in spec.path.resolve(document.root()) {
            match read_expiry(value, spec.jwt, unit) {
                Ok(Some(at)) => found.push(at),
                Ok(None) => {}
                Err(why) => {
                    problem.get_or_insert(format!("{} {why}", spec.path));
                }
            }
        }
    }
    let earliest = match (found.iter().min(), problem) {
        (Some(at), _) => Some(Ok(*at)),
        (None, Some(why)) => Some(Err(why)),
        (None, None) => None,
    };
    Expiries {
        earliest,
        latest: found.iter().max().copied(),
    }
}

pub(crate) fn read_expiry(
    value: &Value,
    jwt: bool,
    unit: EpochUnit,
) -> Result<Option<Timestamp>, String> {
    if jwt {
        return match value {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(token) => jwt_expiry(&Secret::new(token.as_str())).map(Some),
            _ => Err("is not a JWT".into()),
        };
    }
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .and_then(|n| Timestamp::from_epoch_number(n, unit))
            .map(Some)
            .ok_or_else(|| "is not a usable epoch number".into()),
        Value::String(s) => {
            let text = s.trim();
            if text.is_empty() {
                Ok(None)
            } else if let Ok(number) = text.parse::<f64>() {
                Timestamp::from_epoch_number(number, unit)
                    .map(Some)
                    .ok_or_else(|| "is not a usable epoch number".into())
            } else {
                Timestamp::parse_datetime(text)
                    .map(Some)
                    .ok_or_else(|| "is not a date and time this tool knows".into())
            }
        }
        _ => Err("is not a timestamp".into()),
    }
}

/// The `exp` claim of a JWT (payload decoded without verifying the signature: only the date is read).
pub(crate) fn jwt_expiry(token: &Secret) -> Result<Timestamp, String> {
    use base64::Engine;
    let payload = token
        .expose()
        .split('.')
        .nth(1)
        .ok_or("is not a JWT (no payload)")?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "is not a JWT (payload is not base64url)")?;
    let claims: Value =
        serde_json::from_slice(&decoded).map_err(|_| "is not a JWT (payload is not JSON)")?;
    claims
        .get("exp")
        .and_then(Value::as_f64)
        .and_then(|exp| Timestamp::from_epoch_number(exp, EpochUnit::Seconds))
        .ok_or_else(|| "is a JWT without an exp claim".into())
}

/// The file system a file lives on, and whether it survives a reboot.
pub(crate) fn filesystem_of(file: &std::fs::File) -> (String, bool) {
    const TMPFS: i64 = 0x0102_1994;
    const RAMFS: i64 = 0x8584_58f6;
    let Ok(stat) = nix::sys::statfs::fstatfs(file) else {
        return ("unknown".to_string(), true);
    };
    // The magic's integer type differs between architectures.
    // Through u32: on 32-bit targets the ramfs magic would otherwise be sign-extended.
    #[allow(clippy::unnecessary_cast)]
    let magic = i64::from(stat.filesystem_type().0 as u32);
    let name = match magic {
        0xEF53 => "ext4",
        TMPFS => "tmpfs",
        RAMFS => "ramfs",
        0x9123_683E => "btrfs",
        0x5846_5342 => "xfs",
        0x794c_7630 => "overlay",
        0x2fc1_2fc1 => "zfs",
        0xF2F5_2010 => "f2fs",
        0x6969 => "nfs",
        0xFF53_4D42 | 0xFE53_4D42 => "cifs",
        0x0102_1997 => "9p",
        0x6573_5546 => "fuse",
        0x4d44 => "vfat",
        0x7366_746e | 0x5346_544e => "ntfs",
        0x7371_7368 => "squashfs",
        _ => return (format!("0x{magic:x}"), true),
    };
    (name.to_string(), magic != TMPFS && magic != RAMFS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> Secret {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        Secret::new(format!("{}.{}.sig", b64("{\"alg\":\"none\"}"), b64(claims)))
    }

    #[test]
    fn jwt_exp_is_read() {
        assert_eq!(
            jwt_expiry(&jwt("{\"exp\":1764057600}")).unwrap().rfc3339(),
            "2025-11-25T08:00:00Z"
        );
        assert!(jwt_expiry(&jwt("{\"sub\":\"x\"}"))
            .unwrap_err()
            .contains("without an exp"));
        assert!(jwt_expiry(&Secret::new("opaque-token"))
            .unwrap_err()
            .contains("not a JWT"));
        assert!(jwt_expiry(&Secret::new("a.%%%.c"))
            .unwrap_err()
            .contains("base64url"));
    }

    #[test]
    fn expiry_values_in_every_form() {
        let read = |v: Value| read_expiry(&v, false, EpochUnit::Auto);
        let at = Some(Timestamp::from_secs(1_764_057_600));
        assert_eq!(read(serde_json::json!(1_764_057_600)), Ok(at));
        assert_eq!(read(serde_json::json!(1_764_057_600_000i64)), Ok(at));
        assert_eq!(read(serde_json::json!("1764057600")), Ok(at));
        assert_eq!(read(serde_json::json!("2025-11-25T08:00:00UTC")), Ok(at));
        assert_eq!(read(serde_json::json!(null)), Ok(None));
        assert_eq!(read(serde_json::json!("")), Ok(None));
        assert!(read(serde_json::json!("soon")).is_err());
        assert!(read(serde_json::json!({"a": 1})).is_err());
    }
}
