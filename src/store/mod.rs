//! Stores: where a login is kept, one module per kind. Every piece of I/O that evaluation needs
//! happens here, and nothing more.
//!
//! A kind of store says, for a definition:
//! - what it observes: facts, with the secret dropped before `observe` returns (an
//!   [`Observation`] holds no secret);
//! - what the daemon must watch to see it change ([`WatchTarget`]);
//! - its policies ([`Policies`]): must a login kept there be private to the user, does volatile
//!   storage mean it will be lost.
//!
//! The kinds: [`file`] (text formats), [`keyring`] (Secret Service items), and [`env`] (variables
//! that take precedence over a stored login). [`expiry`] reads deadlines for all of them.
//!
//! Guarantees: reading is bounded ([`file::FILE_SIZE_LIMIT`]) and never blocks; failures become
//! facts too: nothing here panics or errors.

pub mod agent;
pub mod docker;
pub mod env;
pub mod expiry;
pub mod file;
pub mod keyring;

pub use file::{
    Content, FileFacts, FileObservation, FileStatus, LoginFacts, MarkerObservation, Presence,
};

use crate::define::config::Definition;
use crate::store::keyring::{KeyringObservation, KeyringPlan};
use crate::support::paths::{self, Unexpanded};
use std::path::PathBuf;

/// What the daemon must watch to see a store change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum WatchTarget {
    /// A file (or a glob pattern): its directory is watched with inotify.
    Path(PathBuf),
    /// Secret Service items: the service's D-Bus signals, and a poll of the items' `Modified`
    /// time (no signal comes when a secret is replaced in place).
    SecretService,
    /// Nothing tells when it changes: look again this often (ms). The schedule polls it (an
    /// ssh-agent).
    Poll(i64),
}

/// What a login kept in a kind of store must be, for evaluation to judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// Readable by other users (or owned by another user) makes a usable login `insecure`.
    pub private: bool,
    /// Kept on volatile storage (tmpfs, ramfs; the keyring's in-memory `session` collection)
    /// means lost at the next reboot or logout: `unpersisted`.
    pub volatile_is_lost: bool,
}

/// Everything the daemon must watch for `definition`, over all its kinds of store.
pub fn watch_targets(definition: &Definition) -> Vec<WatchTarget> {
    let mut targets = file::watch_targets(definition);
    targets.extend(keyring::watch_targets(definition));
    targets
}

#[derive(Debug)]
pub struct Observation {
    /// The file stores looked at, in order of preference.
    pub files: Vec<FileObservation>,
    /// Index into `files` of the store in use: the first that exists.
    pub primary: Option<usize>,
    /// File specs that could not be expanded (an unset variable, no home).
    pub unresolved: Vec<(String, Unexpanded)>,
    pub marker: Option<MarkerObservation>,
    /// Where the tool records its active account, and whether it names one (`active_account`;
    /// `None`: no such file here, or the definition has none).
    pub active_account: Option<(PathBuf, bool)>,
    /// Names of environment variables, set in this process, that override the stored login.
    pub shadowed_by: Vec<String>,
    /// The user the check ran as.
    pub uid: u32,
    /// The home directory, to show paths under it as `~/…`.
    pub home: Option<PathBuf>,
    /// The keyring items the definition expects here; `None` when it uses no keyring (or the
    /// file says the keyring is not in use).
    pub keyring_plan: Option<KeyringPlan>,
    /// What the keyring said of them (filled by the caller: a lookup, or the daemon's last one).
    pub keyring: Option<KeyringObservation>,
    /// Whether the environment it was observed in is the user's shell (`status`, `prompt`), not
    /// the daemon's own (which takes no shell's variables): set by the caller.
    pub env_is_users_shell: bool,
    /// The helper docker picks by itself where its config names none (see [`docker`]).
    pub default_helper: Option<docker::DefaultHelper>,
}

impl Observation {
    pub fn primary_file(&self) -> Option<&FileObservation> {
        self.primary.map(|i| &self.files[i])
    }

    /// Where the credential is present (its store in use), for the memory of credentials seen.
    pub fn present_at(&self) -> Option<String> {
        self.primary_file().map(|f| paths::display(&f.path))
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

    /// Whether `presets = "auto"` should turn this definition on: the tool is in use here.
    /// With `detect = "login"`, a store that holds a login, one the tool blanked (logged out),
    /// and one that is damaged (unreadable, truncated, oversized, not a file) all count: the
    /// moment credwatch is installed is often the moment a login broke, and a healthy file
    /// without a login (an `.npmrc` with settings only) does not.
    pub fn detected(&self, definition: &Definition) -> bool {
        if self.marker_present() {
            return true;
        }
        match definition.detect {
            crate::define::config::Detect::Store => self.primary.is_some(),
            crate::define::config::Detect::Login => {
                self.login_facts()
                    .is_some_and(|f| f.entry_present && f.secret != Presence::Absent)
                    || self.store_damaged(definition)
            }
            crate::define::config::Detect::Keyring => self.keyring_plan.is_some(),
        }
    }

    /// The store in use exists but cannot be understood: unreadable, not a file, too large,
    /// unparseable, or an empty JSON file (a truncated one).
    fn store_damaged(&self, definition: &Definition) -> bool {
        match self.primary_file().map(|f| &f.status) {
            None | Some(FileStatus::Absent) => false,
            Some(FileStatus::Read(FileFacts { content, .. })) => match content {
                Content::Parsed(_) => false,
                Content::Unparseable(_) => true,
                Content::Empty => definition.format == crate::tools::Format::Json,
            },
            Some(_) => true,
        }
    }
}

/// Observes every store of `definition` as the current user, in the current environment.
pub fn observe(definition: &Definition) -> Observation {
    let file::Files { files, unresolved } = file::observe_files(definition);
    let primary = files
        .iter()
        .position(|f| !matches!(f.status, FileStatus::Absent));
    // The marker (often a large file) is read only when the stores hold no login.
    let holds_login = primary.is_some_and(|i| file::holds_login(&files[i].status));
    let marker = if holds_login {
        None
    } else {
        file::observe_marker(definition)
    };
    let active_account = file::observe_active_account(definition);
    let keyring_plan = definition.keyring.as_ref().and_then(|keyring| {
        match primary.map(|i| &files[i].status) {
            // No file (or none configured): only a plan that needs nothing from a file.
            None => keyring::plan(keyring, None),
            Some(FileStatus::Read(FileFacts {
                content: Content::Parsed(facts),
                ..
            })) => facts.keyring_plan.clone(),
            Some(_) => None,
        }
    });
    let home = paths::home_dir();
    // docker picks a helper by itself only while its config names none: no file, an empty one,
    // or one without auths, credsStore or credHelpers.
    let default_helper = match primary.map(|i| &files[i].status) {
        None => docker::default_helper(definition, None, home.as_deref()),
        Some(FileStatus::Read(FileFacts { content, .. })) => match content {
            Content::Parsed(facts) if facts.names_a_store => None,
            Content::Parsed(_) | Content::Empty => {
                docker::default_helper(definition, None, home.as_deref())
            }
            Content::Unparseable(_) => None,
        },
        Some(_) => None,
    };
    Observation {
        files,
        primary,
        unresolved,
        marker,
        active_account,
        shadowed_by: env::shadowing_env(definition),
        uid: nix::unistd::geteuid().as_raw(),
        home,
        keyring_plan,
        keyring: None,
        env_is_users_shell: true,
        default_helper,
    }
}

impl Observation {
    /// The environment variables the login in use was taken from (names only).
    pub fn env_refs(&self) -> Vec<String> {
        self.login_facts()
            .map(|f| f.env.iter().map(|e| e.name.clone()).collect())
            .unwrap_or_default()
    }
}
