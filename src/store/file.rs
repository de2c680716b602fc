//! File stores: a credential file (text formats; a glob of files; an account marker), read
//! bounded and never blocking, parsed, reduced to facts, and dropped.
//!
//! Policies come from the file's format (see [`policies`]): a file that holds a secret must be
//! private to the user (mode and owner), and one on volatile storage (tmpfs, ramfs) is lost at
//! the next reboot; a certificate is public, a ticket cache lives in /tmp by design. The daemon
//! watches each file's directory.

use super::expiry::read_expiries;
use super::keyring::KeyringPlan;
use super::{Policies, WatchTarget};
use crate::define::config::{Definition, ExpirySpec, FileFrom};
use crate::support::docpath::DocPath;
use crate::support::fsread::{read_bounded, ReadOutcome};
use crate::support::lifetime::{self, Lifetime};
use crate::support::paths::{self, Unexpanded};
use crate::support::secret::Document;
use crate::support::timefmt::Timestamp;
use crate::tools::{self as formats, Format, ParseProblem};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How often a cache kept outside files (a kernel keyring) is looked at again.
pub const UNFILED_POLL_MS: i64 = 30_000;

/// No credential file is this large; a bigger one is `invalid` without being read. Each format
/// has its own, lower or equal, limit (`Traits::size_limit`).
pub const FILE_SIZE_LIMIT: u64 = formats::KUBECONFIG_SIZE_LIMIT;
/// Account markers (`~/.claude.json`) hold a tool's whole state and grow large.
const MARKER_SIZE_LIMIT: u64 = 64 << 20;
/// A glob store looks at most at this many matching files (all of them, newest first, up to
/// this bound on the work one observation does).
const GLOB_MATCH_LIMIT: usize = 4096;

/// What a login kept in a file of `format` must be: the format says what its files are.
pub fn policies(format: Format) -> Policies {
    let traits = format.traits();
    Policies {
        private: !traits.public,
        volatile_is_lost: !traits.volatile_by_design,
    }
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
    TooLarge {
        size: u64,
        limit: u64,
    },
    Failed(String),
    /// A cache name that leads to no file (a KEYRING: cache), or could not be resolved.
    Unlocated {
        why: String,
        fix: String,
    },
    /// A store that is asked (an ssh-agent) said why it holds no usable login: its socket is
    /// gone, it refuses, it holds no keys. `why` is the whole reason.
    Unusable {
        state: crate::define::state::State,
        why: String,
        fix: String,
    },
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
    /// Until when the system keeps it, where it empties its place by design (the runtime
    /// directory, a tmpfs).
    pub lifetime: Option<Lifetime>,
    pub modified: Option<Timestamp>,
}

#[derive(Debug)]
pub enum Content {
    /// Zero bytes, or only white space.
    Empty,
    Unparseable(ParseProblem),
    Parsed(Box<LoginFacts>),
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
    /// Which of several logins in the file that earliest deadline is (the keys its path's
    /// wildcards matched: docker's registry), when the path has wildcards.
    pub expires_in: Option<String>,
    pub refresh_expires: Option<Result<Timestamp, String>>,
    /// Until when the tool can renew its access token (`refresh_until`).
    pub refresh_until: Option<Result<Timestamp, String>>,
    /// Until when a renewer outside the tool can extend the deadline (`renewable_until`).
    pub renewable_until: Option<Result<Timestamp, String>>,
    /// Other logins in the file, not in use (`others`): their names.
    pub others: Vec<String>,
    /// Environment variables the file's view depends on.
    pub env: Vec<crate::support::secret::EnvRef>,
    /// The keyring items this file says to expect (with a keyring in the definition).
    pub keyring_plan: Option<KeyringPlan>,
    /// docker's config names a store or holds a login (`auths`, `credsStore`, `credHelpers`):
    /// docker then picks no helper by itself (see `store::docker`).
    pub names_a_store: bool,
    /// The login plugin the login in use runs for its token (kubeconfig's `user.exec`): its
    /// command, arguments and the variables it sets. No secret: a command line.
    pub exec_plugin: Option<ExecPlugin>,
    /// Where the file keeps several logins and one is selected (kubeconfig contexts, AWS
    /// profiles): the name of the one in use, and the facts of each other, as if it were
    /// selected (up to `formats::ACCOUNT_LIMIT`).
    pub account: Option<String>,
    pub accounts: Vec<(String, LoginFacts)>,
}

/// A login plugin a store names (kubeconfig's `user.exec`, `aws eks get-token …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecPlugin {
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ExecPlugin {
    /// kubeconfig's `exec` object, when it has a command.
    fn from_kubeconfig(exec: &Value) -> Option<ExecPlugin> {
        let strings = |value: Option<&Value>| -> Vec<String> {
            value
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        };
        Some(ExecPlugin {
            command: exec.get("command")?.as_str()?.to_string(),
            args: strings(exec.get("args")),
            env: exec
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|pair| {
                    Some((
                        pair.get("name")?.as_str()?.to_string(),
                        pair.get("value")?.as_str()?.to_string(),
                    ))
                })
                .collect(),
        })
    }

    /// The value of option `name` in the arguments (`--profile dev` or `--profile=dev`).
    pub fn option(&self, name: &str) -> Option<&str> {
        let mut args = self.args.iter();
        while let Some(arg) = args.next() {
            if arg == name {
                return args.next().map(String::as_str);
            }
            if let Some(value) = arg.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
                return Some(value);
            }
        }
        None
    }

    /// The value the plugin's own `env` gives `name`.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The program's file name (`aws` for `/usr/local/bin/aws`).
    pub fn program(&self) -> &str {
        self.command.rsplit('/').next().unwrap_or(&self.command)
    }
}

#[derive(Debug)]
pub struct MarkerObservation {
    pub path: PathBuf,
    pub present: bool,
}

/// What the files of a definition hold, in order of preference.
pub(crate) struct Files {
    pub files: Vec<FileObservation>,
    pub unresolved: Vec<(String, Unexpanded)>,
}

/// Observes every file spec of `definition` (expanded; globs among their newest matches); the
/// file another file names instead, with `file_from`.
pub(crate) fn observe_files(definition: &Definition) -> Files {
    let mut files = Vec::new();
    let mut unresolved = Vec::new();
    let list = definition.format.traits().path_list;
    for spec in &specs(definition) {
        if let Some(locate) = definition.format.traits().names_a_cache {
            // A cache name is one value (`FILE:/tmp/krb5cc_1`), its type before the `:`.
            match located(spec, locate) {
                Ok(found) => files.push(match found {
                    Ok(path) => FileObservation {
                        status: observe_file(&path, definition),
                        path,
                    },
                    Err(unlocated) => observe_unfiled(unlocated, definition),
                }),
                Err(why) => unresolved.push((spec.clone(), why)),
            }
            continue;
        }
        let glob = paths::has_glob(spec);
        match paths::expand_for_glob(spec, glob) {
            // `paths::expand` splits a spec's value at `:`: alternatives, or for a format read
            // as a list (KUBECONFIG=a:b), the files of the one list.
            Ok(expanded) if list => {
                if !expanded.is_empty() {
                    files.push(observe_list(&expanded, definition));
                }
            }
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
    Files { files, unresolved }
}

/// A cache that no file holds: read where the format can (a Kerberos `KEYRING:` cache, as its
/// file encoding), else said to be out of reach.
fn observe_unfiled(unlocated: formats::Unlocated, definition: &Definition) -> FileObservation {
    let traits = definition.format.traits();
    let path = PathBuf::from(&unlocated.name);
    let read = traits
        .reads_unfiled
        .and_then(|read| read(&unlocated.name, traits.size_limit));
    let status = match read {
        Some(Ok(formats::Unfiled {
            bytes: Some(bytes),
            until_logout,
        })) => FileStatus::Read(FileFacts {
            meta: FileMeta {
                // The kernel keeps it for this user alone.
                mode: 0o600,
                uid: nix::unistd::geteuid().as_raw(),
                size: bytes.len() as u64,
                fs: "kernel keyring".into(),
                persistent: false,
                lifetime: Some(Lifetime::KernelKeyring { until_logout }),
                modified: None,
            },
            content: content_of(&[bytes], definition, formats::NOTHING_BESIDE),
        }),
        Some(Ok(formats::Unfiled { bytes: None, .. })) => FileStatus::Absent,
        Some(Err(why)) => FileStatus::Unlocated {
            why: format!("{} ({why})", unlocated.why),
            fix: unlocated.fix,
        },
        None => FileStatus::Unlocated {
            why: unlocated.why,
            fix: unlocated.fix,
        },
    };
    FileObservation { path, status }
}

/// The file a cache-name spec leads to (or why no file holds that cache); `Err` when the spec
/// cannot be expanded.
fn located(
    spec: &str,
    locate: formats::LocateCache,
) -> Result<Result<PathBuf, formats::Unlocated>, Unexpanded> {
    paths::expand_one(spec).map(|name| locate(&name))
}

/// Whether the account marker names a logged-in account.
pub(crate) fn observe_marker(definition: &Definition) -> Option<MarkerObservation> {
    let marker = definition.account_marker.as_ref()?;
    let path = paths::expand(&marker.file).ok()?.into_iter().next()?;
    let present = match read_bounded(&path, MARKER_SIZE_LIMIT) {
        ReadOutcome::Read { bytes, .. } => formats::parse(marker.format, &bytes)
            .map(|doc| presence(&doc, std::slice::from_ref(&marker.path)) == Presence::Present)
            .unwrap_or(false),
        _ => false,
    };
    Some(MarkerObservation { path, present })
}

/// Where the tool records its active account, read when that file is there and parses:
/// `Some(false)` when it names none (`"active": null`).
pub(crate) fn observe_active_account(definition: &Definition) -> Option<(PathBuf, bool)> {
    let marker = definition.active_account.as_ref()?;
    let path = paths::expand(&marker.file).ok()?.into_iter().next()?;
    match read_bounded(&path, MARKER_SIZE_LIMIT) {
        ReadOutcome::Read { bytes, .. } => {
            let document = formats::parse(marker.format, &bytes).ok()?;
            let names_one =
                presence(&document, std::slice::from_ref(&marker.path)) == Presence::Present;
            Some((path, names_one))
        }
        _ => None,
    }
}

/// The file specs in use: the file `file_from` names, when it names one; else `file`.
fn specs(definition: &Definition) -> Vec<String> {
    match definition.file_from.as_ref().and_then(named_file) {
        Some(named) => vec![named],
        None => definition.files.clone(),
    }
}

/// The file named by the value of `from.option` in the command line at `from.path` of the first
/// of `from.files` that exists (`credential.helper = store --file=~/creds` names `~/creds`), or
/// without an option, by the value itself (`CertificateFile ~/.ssh/work-cert.pub`).
fn named_file(from: &FileFrom) -> Option<String> {
    let path = from
        .files
        .iter()
        .filter_map(|spec| paths::expand(spec).ok())
        .flatten()
        .find(|p| p.exists())?;
    let ReadOutcome::Read { bytes, .. } = read_bounded(&path, from.format.traits().size_limit)
    else {
        return None;
    };
    let document = formats::parse(from.format, &bytes).ok()?;
    from.path
        .resolve(document.root())
        .into_iter()
        .filter_map(Value::as_str)
        .find_map(|value| match &from.option {
            Some(option) => option_value(value, option),
            None => Some(value.trim().to_string()).filter(|v| !v.is_empty()),
        })
}

/// The value of `option` in a command line: `--file=PATH`, `--file PATH`, quotes removed.
fn option_value(command: &str, option: &str) -> Option<String> {
    let unquote = |w: &str| w.trim_matches(|c| c == '"' || c == '\'').to_string();
    let mut words = command.split_whitespace();
    while let Some(word) = words.next() {
        if let Some(value) = word.strip_prefix(option).and_then(|r| r.strip_prefix('=')) {
            return Some(unquote(value)).filter(|v| !v.is_empty());
        }
        if word == option {
            return words.next().map(unquote).filter(|v| !v.is_empty());
        }
    }
    None
}

/// The paths the daemon watches for a definition's files: each spec in use (a glob as a
/// pattern) and the files its format reads beside it, the files `file_from` reads, and the
/// account marker.
pub fn watch_targets(definition: &Definition) -> Vec<WatchTarget> {
    let traits = definition.format.traits();
    // A cache named that no file holds (a kernel keyring): nothing tells when it changes.
    let mut unfiled = false;
    let mut paths: Vec<PathBuf> = specs(definition)
        .iter()
        .flat_map(|spec| match traits.names_a_cache {
            // The file the cache name leads to (none for a cache kept outside files).
            Some(locate) => match located(spec, locate) {
                Ok(Ok(path)) => vec![path],
                Ok(Err(_)) => {
                    unfiled |= traits.reads_unfiled.is_some();
                    Vec::new()
                }
                Err(_) => Vec::new(),
            },
            None => paths::expand(spec).unwrap_or_default(),
        })
        .flat_map(|path| {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            std::iter::once(path).chain(traits.beside.iter().map(move |name| dir.join(name)))
        })
        .collect();
    if let Some(from) = &definition.file_from {
        paths.extend(
            from.files
                .iter()
                .filter_map(|spec| paths::expand(spec).ok())
                .flatten(),
        );
    }
    for marker in definition
        .account_marker
        .iter()
        .chain(definition.active_account.iter())
    {
        paths.extend(paths::expand(&marker.file).ok().into_iter().flatten());
    }
    let mut targets: Vec<WatchTarget> = paths.into_iter().map(WatchTarget::Path).collect();
    if unfiled {
        targets.push(WatchTarget::Poll(UNFILED_POLL_MS));
    }
    if traits.asked_through_socket {
        // Keys added or removed, an agent killed with its socket left: nothing tells.
        targets.push(WatchTarget::Poll(super::agent::POLL_MS));
    }
    targets
}

pub(crate) fn holds_login(status: &FileStatus) -> bool {
    matches!(status, FileStatus::Read(FileFacts { content: Content::Parsed(f), .. })
        if f.entry_present && f.secret == Presence::Present)
}

/// A parsed file without the secret field at all is not this tool's login (the AWS SSO cache
/// also holds client registrations): a glob passes over it.
fn lacks_secret_field(status: &FileStatus) -> bool {
    matches!(status, FileStatus::Read(FileFacts { content: Content::Parsed(f), .. })
        if f.secret == Presence::Absent)
}

/// Among a glob's matches, newest first, the first that holds a login; when none does, the newest that
/// is not plainly something else (or, with none, the pattern itself as absent).
fn observe_glob(pattern_path: &Path, definition: &Definition) -> FileObservation {
    let mut matches: Vec<(Option<std::time::SystemTime>, PathBuf)> =
        paths::glob(pattern_path, GLOB_MATCH_LIMIT)
            .into_iter()
            .map(|p| (std::fs::metadata(&p).and_then(|m| m.modified()).ok(), p))
            .collect();
    matches.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut newest: Option<FileObservation> = None;
    for (_, candidate) in matches {
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

/// A file's bytes and facts about it, or why it cannot be read.
fn read_file(path: &Path, limit: u64) -> Result<(Vec<u8>, FileMeta), FileStatus> {
    let (bytes, file, metadata) = match read_bounded(path, limit) {
        ReadOutcome::Absent => return Err(FileStatus::Absent),
        ReadOutcome::NotAFile(kind) => return Err(FileStatus::NotAFile(kind)),
        ReadOutcome::SymlinkLoop => return Err(FileStatus::SymlinkLoop),
        ReadOutcome::PermissionDenied => return Err(FileStatus::PermissionDenied),
        ReadOutcome::TooLarge { size, limit } => return Err(FileStatus::TooLarge { size, limit }),
        ReadOutcome::Failed(e) => return Err(FileStatus::Failed(e.to_string())),
        ReadOutcome::Read {
            bytes,
            file,
            metadata,
        } => (bytes, file, metadata),
    };
    let (fs, persistent) = filesystem_of(&file);
    let lifetime = lifetime::of(path, &fs, persistent, nix::unistd::geteuid().as_raw());
    let meta = FileMeta {
        mode: metadata.mode() & 0o7777,
        uid: metadata.uid(),
        size: metadata.len(),
        fs,
        persistent,
        lifetime,
        modified: metadata.modified().ok().map(Timestamp::from_system_time),
    };
    Ok((bytes, meta))
}

/// An agent's answer as a file's content, its socket as the file.
fn ask_agent(path: &Path, limit: u64) -> Result<(Vec<u8>, FileMeta), FileStatus> {
    use super::agent::{ask, Problem};
    match ask(path, limit) {
        Ok(answer) => {
            let meta = FileMeta {
                mode: answer.mode,
                uid: answer.uid,
                size: answer.bytes.len() as u64,
                fs: "socket".into(),
                persistent: false,
                lifetime: None,
                modified: None,
            };
            Ok((answer.bytes, meta))
        }
        Err(Problem::Unusable { state, why, fix }) => Err(FileStatus::Unusable { state, why, fix }),
        Err(Problem::PermissionDenied) => Err(FileStatus::PermissionDenied),
        Err(Problem::TooLarge(size)) => Err(FileStatus::TooLarge { size, limit }),
        Err(Problem::Failed(error)) => Err(FileStatus::Failed(error)),
    }
}

fn observe_file(path: &Path, definition: &Definition) -> FileStatus {
    let limit = definition.format.traits().size_limit;
    let read = if definition.format.traits().asked_through_socket {
        ask_agent(path, limit)
    } else {
        read_file(path, limit)
    };
    match read {
        Err(status) => status,
        Ok((bytes, meta)) => {
            let dir = path.parent().unwrap_or(Path::new("/"));
            let beside = |name: &str| match read_bounded(&dir.join(name), limit) {
                ReadOutcome::Read { bytes, .. } => Some(bytes),
                _ => None,
            };
            FileStatus::Read(FileFacts {
                meta,
                content: content_of(&[bytes], definition, &beside),
            })
        }
    }
}

/// The files' content, decoded together (with what the format reads beside them), reduced to
/// facts; the bytes are dropped on return.
pub(crate) fn content_of(
    files: &[Vec<u8>],
    definition: &Definition,
    beside: formats::ReadBeside<'_>,
) -> Content {
    if files
        .iter()
        .all(|bytes| bytes.iter().all(u8::is_ascii_whitespace))
    {
        return Content::Empty;
    }
    match formats::parse_all(definition.format, files, beside) {
        Ok(document) => Content::Parsed(Box::new(login_facts(&document, definition))),
        Err(problem) => Content::Unparseable(problem),
    }
}

/// The files of a list read together: the first that exists stands for all (its path, mode and
/// place); one that exists but cannot be read is what is reported; absent ones are skipped.
fn observe_list(list: &[PathBuf], definition: &Definition) -> FileObservation {
    let mut contents = Vec::new();
    let mut first: Option<(PathBuf, FileMeta)> = None;
    for path in list {
        match read_file(path, definition.format.traits().size_limit) {
            Err(FileStatus::Absent) => {}
            Err(status) => {
                return FileObservation {
                    path: path.clone(),
                    status,
                }
            }
            Ok((bytes, meta)) => {
                first.get_or_insert((path.clone(), meta));
                contents.push(bytes);
            }
        }
    }
    match first {
        None => FileObservation {
            path: list[0].clone(),
            status: FileStatus::Absent,
        },
        Some((path, meta)) => FileObservation {
            path,
            status: FileStatus::Read(FileFacts {
                meta,
                content: content_of(&contents, definition, formats::NOTHING_BESIDE),
            }),
        },
    }
}

fn login_facts(document: &Document, definition: &Definition) -> LoginFacts {
    let mut facts = selected_login_facts(document, definition);
    if !definition.format.traits().views_accounts {
        return facts;
    }
    facts.account = document
        .root()
        .get("account")
        .and_then(Value::as_str)
        .map(String::from);
    if let Some(Value::Array(accounts)) = document.root().get("accounts") {
        facts.accounts = accounts
            .iter()
            .filter_map(|view| {
                let name = view.get("account")?.as_str()?.to_string();
                let view = Document::new(view.clone());
                Some((name, selected_login_facts(&view, definition)))
            })
            .collect();
    }
    facts
}

/// The facts of the login a view selects.
fn selected_login_facts(document: &Document, definition: &Definition) -> LoginFacts {
    let entry_present = definition
        .login_entry
        .as_ref()
        .is_none_or(|entry| !entry.resolve(document.root()).is_empty())
        // docker's `credHelpers` keep their registries' logins without an `auths` entry, and
        // so does the ECR helper as `credsStore` (it logs in by itself).
        || (super::docker::is_docker_config(definition)
            && (document
                .root()
                .get("credHelpers")
                .and_then(Value::as_object)
                .is_some_and(|helpers| !helpers.is_empty())
                || super::docker::uses_ecr_helper(document.root())));
    let expiries = read_expiries(document, &definition.expires, definition.expires_unit);
    let one = |spec: &Option<ExpirySpec>| {
        spec.as_ref().and_then(|spec| {
            read_expiries(
                document,
                std::slice::from_ref(spec),
                definition.expires_unit,
            )
            .earliest
        })
    };
    let secret = presence(document, &definition.secret);
    LoginFacts {
        account: None,
        accounts: Vec::new(),
        exec_plugin: if definition.format == crate::tools::Format::Kubeconfig {
            document
                .root()
                .pointer("/user/exec")
                .and_then(ExecPlugin::from_kubeconfig)
        } else if super::docker::is_docker_config(definition)
            && super::docker::uses_ecr_helper(document.root())
        {
            Some(ExecPlugin {
                command: super::docker::ECR_HELPER.into(),
                args: Vec::new(),
                env: Vec::new(),
            })
        } else {
            None
        },
        names_a_store: super::docker::names_a_store(document.root()),
        entry_present,
        secret,
        refresh: definition
            .refresh_token
            .as_ref()
            .map_or(Presence::Absent, |p| {
                presence(document, std::slice::from_ref(p))
            }),
        expires: expiries.earliest,
        expires_in: expiries.earliest_in,
        refresh_expires: one(&definition.refresh_expires),
        refresh_until: one(&definition.refresh_until),
        renewable_until: one(&definition.renewable_until),
        env: document.env().to_vec(),
        others: definition
            .others
            .as_ref()
            .map(|(path, _)| {
                path.resolve(document.root())
                    .into_iter()
                    .flat_map(|v| match v {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    })
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        keyring_plan: definition
            .keyring
            .as_ref()
            // A plain keyring entry is the other place the secret may be: looked at only when
            // the file does not hold it. With `each` or `when`, the file says what to expect.
            .filter(|k| k.each.is_some() || k.when.is_some() || secret != Presence::Present)
            .and_then(|keyring| super::keyring::plan(keyring, Some(document.root()))),
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
