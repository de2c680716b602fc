//! The prompt file: what shells read, with builtins only, when the state changes.
//!
//! Format (UTF-8, newline-terminated lines):
//! - line 1: `PID VALID_UNTIL STAMP MESSAGE`: the writer's pid (0 for a one-off direct check), the
//!   epoch second until which the content holds with nothing changing (0: no deadline), the
//!   content's stamp (0 for a direct check), and the prompt segment, empty when every credential
//!   is usable;
//! - then one line per command mapped to a broken credential (or one a variable of the shell
//!   decides): `COMMAND<TAB>WARNING`;
//! - then one line per long command (`[long_commands]`) that a login it uses would not outlast,
//!   from the moment its deadline is nearer than the time the command needs:
//!   `COMMAND<TAB>WARNING` (the prompt's segment does not change: the login still works);
//! - then one line per command of their fixes, before which no warning is given:
//!   `!COMMAND<TAB>`.
//!
//! The daemon also keeps an empty marker file, `prompt.STAMP`, for exactly as long as the content
//! with that stamp is the published one ([`Publisher`]). A hook that has read the content
//! therefore knows, from one `stat` of the marker, that nothing changed: the steady state opens
//! no file at all. A content that changes gets a new stamp, unique across daemon restarts.
//!
//! A shell that handed the daemon its context (`daemon::contexts`) gets a file of its own,
//! `shell/PID`, with markers `shell/PID.STAMP`; its first line carries one more field after the
//! stamp, the generation of the context it answers: `PID VALID_UNTIL STAMP GENERATION MESSAGE`.
//!
//! Guarantees: no field holds a tab or newline (they are replaced); a stamp is digits and dots;
//! the marker appears before the content that names it and goes after its successor is in place.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::define::config::{Config, LongCommand};
use crate::define::state::{Group, State};
use crate::publish::report::CredentialReport;
use crate::support::timefmt::Timestamp;

/// The file the daemon keeps; `credwatch prompt --cache` writes [`DIRECT_FILE`] instead.
pub const DAEMON_FILE: &str = "prompt";
pub const DIRECT_FILE: &str = "prompt.direct";
/// The directory of the shells' own prompt files (`shell/PID`, and `shell/PID.direct` that
/// `credwatch prompt --cache --shell PID` writes while no daemon runs).
pub const SHELL_DIR: &str = "shell";

/// A credential as the prompt sees it: its report and the commands that use it.
pub struct PromptItem<'a> {
    pub report: &'a CredentialReport,
    pub commands: &'a [String],
    /// The definition's fix, said before a long command even while the login works (the
    /// report's is there only once it is broken).
    pub fix: &'a str,
}

impl<'a> PromptItem<'a> {
    /// `report`, with what its definition says before commands.
    pub fn of(
        report: &'a CredentialReport,
        definition: &'a crate::define::config::Definition,
    ) -> Self {
        PromptItem {
            report,
            commands: &definition.commands,
            fix: &definition.fix,
        }
    }
}

fn clean(text: &str) -> String {
    crate::support::output::inert(text).into_owned()
}

/// A segment as this process's locale shows it: `!` for the flag when the locale is not UTF-8.
pub fn for_locale(segment: &str) -> String {
    if utf8_locale() {
        segment.to_string()
    } else {
        segment.replace('⚠', "!")
    }
}

fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .is_some_and(|locale| {
            let upper = locale.to_ascii_uppercase();
            upper.contains("UTF-8") || upper.contains("UTF8")
        })
}

/// The prompt segment: `format` with `{names}`, `{count}`, `{worst}` for the broken logins, then
/// one mark for each variable of this shell that decides a login instead of its store
/// (`$GH_TOKEN`) and one for each token other users can read (`readable:npm`); empty when all
/// is well.
pub fn segment(format: &str, items: &[PromptItem<'_>]) -> String {
    let items: Vec<&PromptItem<'_>> = items.iter().filter(|i| !i.report.forgotten).collect();
    let broken: Vec<&PromptItem<'_>> = items
        .iter()
        .copied()
        .filter(|i| i.report.state.group() == Group::Broken)
        .collect();
    let mut parts = Vec::new();
    if !broken.is_empty() {
        let names: Vec<&str> = broken.iter().map(|i| i.report.name.as_str()).collect();
        parts.push(
            format
                .replace("{names}", &names.join(","))
                .replace("{count}", &broken.len().to_string())
                .replace("{worst}", broken[0].report.state.as_str()),
        );
    }
    let mut variables: Vec<&str> = items
        .iter()
        .flat_map(|i| i.report.shadowed_by.iter().map(String::as_str))
        .collect();
    variables.dedup();
    parts.extend(variables.iter().map(|name| format!("${name}")));
    parts.extend(
        items
            .iter()
            .filter(|i| i.report.state == State::Insecure)
            .map(|i| format!("readable:{}", i.report.name)),
    );
    // Always the UTF-8 flag: the reader (a shell's hook, `credwatch prompt`) knows its own locale
    // and puts `!` in its place when it is not UTF-8 (see [`for_locale`]).
    clean(&parts.join(" "))
}

/// Whether a credential gets a line before the commands that use it: broken, or decided by a
/// variable of the shell instead of its store.
fn warns(report: &CredentialReport) -> bool {
    !report.forgotten && (report.state.group() == Group::Broken || !report.shadowed_by.is_empty())
}

/// The one line printed before a command that uses a broken credential.
pub fn warning(report: &CredentialReport) -> String {
    let fix = report
        .fix
        .as_deref()
        .map(|fix| {
            if reads_as_prose(fix) {
                format!(" — {fix}")
            } else {
                format!(" — run: {fix}")
            }
        })
        .unwrap_or_default();
    clean(&format!(
        "credwatch: {}: {}{fix}",
        report.tool,
        report.reason_without_spans()
    ))
}

/// Whether a fix is a sentence (`refresh your kubeconfig …`, `run a git command …`) rather than a
/// command (`claude /login`): "— run: run a git command" would read wrong.
fn reads_as_prose(fix: &str) -> bool {
    const VERBS: &[&str] = &[
        "run", "refresh", "ask", "create", "sign", "log", "use", "set", "check", "remove", "put",
        "add", "open", "wait", "name", "restart", "install", "start", "keep", "delete", "make",
        "see", "edit", "give", "renew", "rotate", "move", "fix",
    ];
    let first = fix.split_whitespace().next().unwrap_or_default();
    VERBS.contains(&first)
}

/// The commands in a fix that make the login (`gh auth login`, `npm login (or npm config set
/// //REGISTRY/:_authToken=TOKEN)`): each up to its first placeholder or punctuation, kept when it
/// runs one of the credential's programs. A warning before them would be before the repair.
pub fn login_commands(fix: Option<&str>, commands: &[String]) -> Vec<String> {
    let Some(fix) = fix else {
        return Vec::new();
    };
    let programs: Vec<&str> = commands
        .iter()
        .filter_map(|c| c.split_whitespace().next())
        .collect();
    let fix = fix.strip_prefix("log in again: ").unwrap_or(fix);
    let mut found = Vec::new();
    for piece in fix.split("(or ").chain(fix.split("; or ").skip(1)) {
        let mut words = Vec::new();
        for word in piece.split_whitespace() {
            let plain = word.trim_end_matches([',', ';', ')', ':']);
            if plain.is_empty()
                || plain
                    .chars()
                    .any(|c| c.is_ascii_uppercase() || "/=…'\"`<>".contains(c))
            {
                break;
            }
            words.push(plain);
            if plain.len() != word.len() || words.len() == 4 {
                break;
            }
        }
        // Two words at least: `claude /login` names no command of its own to exempt (`claude`
        // alone is every use of it).
        if words.len() >= 2 && programs.contains(&words[0]) && !reads_as_prose(piece.trim()) {
            found.push(words.join(" "));
        }
    }
    found
}

/// Whether a line that starts with the words of `long` runs `command` (a credential's): its
/// program, then each further word of `command` among the later words, in order, as for a
/// running process (`git -C dir push` runs `git push`).
fn runs(long: &str, command: &str) -> bool {
    let words: Vec<&[u8]> = long.split_whitespace().map(str::as_bytes).collect();
    crate::support::processes::argv_runs(&words, command)
}

/// When the warning before `long` about this login begins (its deadline less the time the
/// command needs), and the deadline; `None` when the command does not use it, or it has no
/// deadline, or it is already broken (then it has a warning of its own).
pub fn long_command_window(
    long: &LongCommand,
    item: &PromptItem<'_>,
) -> Option<(Timestamp, Timestamp)> {
    let report = item.report;
    if report.forgotten || report.state.group() == Group::Broken {
        return None;
    }
    let used = match &long.logins {
        Some(names) => names.contains(&report.name),
        None => item.commands.iter().any(|c| runs(&long.command, c)),
    };
    if !used {
        return None;
    }
    let deadline = Timestamp::parse_datetime(report.expires_at.as_deref()?)?;
    Some((deadline.saturating_add_millis(-long.needs_ms), deadline))
}

/// The next moment, after `now`, at which a long command's warning begins.
pub fn next_long_command_warning(
    long: &[LongCommand],
    items: &[PromptItem<'_>],
    now: Timestamp,
) -> Option<Timestamp> {
    long.iter()
        .flat_map(|l| items.iter().filter_map(|i| long_command_window(l, i)))
        .map(|(begins, _)| begins)
        .filter(|begins| *begins > now)
        .min()
}

/// The line before a long command that a login it uses would not outlast.
fn long_command_warning(long: &LongCommand, item: &PromptItem<'_>, deadline: Timestamp) -> String {
    let report = item.report;
    let fix = match report
        .fix
        .as_deref()
        .or(Some(item.fix).filter(|f| !f.is_empty()))
    {
        Some(fix) if reads_as_prose(fix) => format!(" — {fix} first"),
        Some(fix) => format!(" — run first: {fix}"),
        None => " — log in again first".into(),
    };
    clean(&format!(
        "credwatch: {}: the login ends at {}, before `{}` is done (it needs {}){fix}",
        report.tool,
        deadline.human(),
        long.command,
        crate::support::timefmt::describe_span(long.needs_ms),
    ))
}

/// What the prompt file says, before it is stamped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptFile {
    pid: u32,
    /// The generation of the shell's context it answers (a shell's own file only).
    generation: Option<String>,
    valid_until: i64,
    message: String,
    warnings: String,
}

impl PromptFile {
    /// The content for `items` at `now`: the segment (in the config's `prompt.format`), the
    /// warnings before the commands that use a broken login, and those before the config's
    /// `[long_commands]` that a login would not outlast. `valid_until` ends no later than the
    /// next such warning begins.
    pub fn new(
        config: &Config,
        items: &[PromptItem<'_>],
        pid: u32,
        valid_until: Option<Timestamp>,
        now: Timestamp,
    ) -> PromptFile {
        let format = config.prompt_format.as_str();
        let long = config.long_commands.as_slice();
        let mut warnings = String::new();
        let mut exempt: Vec<String> = Vec::new();
        for item in items.iter().filter(|i| warns(i.report)) {
            let text = warning(item.report);
            for command in item.commands {
                warnings.push_str(&format!("{}\t{text}\n", clean(command)));
            }
            for command in login_commands(item.report.fix.as_deref(), item.commands) {
                if !exempt.contains(&command) {
                    exempt.push(command);
                }
            }
        }
        for command in long {
            for item in items {
                match long_command_window(command, item) {
                    Some((begins, deadline)) if begins <= now && now < deadline => {
                        let text = long_command_warning(command, item, deadline);
                        warnings.push_str(&format!("{}\t{text}\n", clean(&command.command)));
                    }
                    _ => {}
                }
            }
        }
        let valid_until = [valid_until, next_long_command_warning(long, items, now)]
            .into_iter()
            .flatten()
            .min();
        // The commands that make the login (the fix): never warned before (`!COMMAND`, no text).
        for command in exempt {
            warnings.push_str(&format!("!{}\t\n", clean(&command)));
        }
        PromptFile {
            pid,
            generation: None,
            valid_until: valid_until.map_or(0, |t| t.millis().div_euclid(1000).max(1)),
            message: segment(format, items),
            warnings,
        }
    }

    /// The same, as the answer to a shell's context of `generation` (digits).
    pub fn for_shell(mut self, generation: &str) -> PromptFile {
        self.generation = Some(generation.to_string());
        self
    }

    /// The whole file, with `stamp` (digits and dots) on its first line.
    pub fn render(&self, stamp: &str) -> String {
        let generation = self
            .generation
            .as_deref()
            .map(|g| format!("{g} "))
            .unwrap_or_default();
        format!(
            "{} {} {stamp} {generation}{}\n{}",
            self.pid, self.valid_until, self.message, self.warnings
        )
    }
}

/// The daemon's side: writes the prompt file only when its content changes, each time with a
/// new stamp and its marker.
pub struct Publisher {
    dir: PathBuf,
    /// The file's name in `dir`; its markers are `NAME.STAMP`.
    name: String,
    pid: u32,
    /// Starts at the daemon's start time in ms, so a restarted daemon that gets the same pid
    /// never repeats a stamp a shell may still hold.
    serial: u64,
    published: Option<(PromptFile, PathBuf)>,
}

impl Publisher {
    /// Removes markers that a daemon which did not stop cleanly left in `dir` (the caller holds
    /// the per-user lock, so none of them is live).
    pub fn new(dir: &Path, pid: u32) -> Publisher {
        Publisher::named(dir, DAEMON_FILE, pid)
    }

    /// A publisher of the file `name` in `dir` (a shell's: `shell/PID`).
    pub fn named(dir: &Path, name: &str, pid: u32) -> Publisher {
        let prefix = format!("{name}.");
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_str()
                    .and_then(|found| found.strip_prefix(&prefix))
                    .is_some_and(is_stamp)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Publisher {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            pid,
            serial: Timestamp::now().millis().max(0) as u64,
            published: None,
        }
    }

    /// Publishes `file` unless it is what is published already. True when what a shell shows
    /// or warns about changed from an earlier file (not for the first one, nor for a new
    /// deadline or stamp alone).
    pub fn publish(&mut self, file: PromptFile) -> std::io::Result<bool> {
        if self.published.as_ref().is_some_and(|(old, _)| *old == file) {
            return Ok(false);
        }
        let shown_changed = self
            .published
            .as_ref()
            .is_some_and(|(old, _)| old.message != file.message || old.warnings != file.warnings);
        self.serial += 1;
        let stamp = format!("{}.{}", self.pid, self.serial);
        let marker = self.dir.join(format!("{}.{stamp}", self.name));
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
            .open(&marker)?;
        if let Err(error) = crate::support::runtime::write_atomically(
            &self.dir.join(&self.name),
            file.render(&stamp).as_bytes(),
        ) {
            let _ = std::fs::remove_file(&marker);
            return Err(error);
        }
        if let Some((_, old_marker)) = self.published.replace((file, marker)) {
            let _ = std::fs::remove_file(old_marker);
        }
        Ok(shown_changed)
    }

    /// Removes the prompt file and its marker (the daemon stops).
    pub fn withdraw(&mut self) {
        let _ = std::fs::remove_file(self.dir.join(&self.name));
        if let Some((_, marker)) = self.published.take() {
            let _ = std::fs::remove_file(marker);
        }
    }
}

fn is_stamp(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_command_uses_the_logins_of_the_commands_it_runs() {
        use super::runs;
        assert!(runs("terraform apply", "terraform"));
        assert!(runs("aws s3 sync", "aws"));
        assert!(runs("git -C repo push", "git push"));
        assert!(!runs("git status", "git push"));
        assert!(!runs("terraform apply", "aws"));
        assert!(!runs("terraform", "terraform apply"));
    }

    #[test]
    fn the_commands_that_make_a_login_are_read_from_its_fix() {
        let of = |fix: &str, commands: &[&str]| {
            let commands: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
            super::login_commands(Some(fix), &commands)
        };
        assert_eq!(of("gh auth login", &["gh"]), ["gh auth login"]);
        assert_eq!(
            of(
                "npm login (or npm config set //REGISTRY/:_authToken=TOKEN)",
                &["npm", "npx"]
            ),
            ["npm login", "npm config set"]
        );
        assert_eq!(
            of(
                "aws configure (or the tool that issues your keys)",
                &["aws"]
            ),
            ["aws configure"]
        );
        assert_eq!(
            of(
                "gh auth login; if it is lost again, `credwatch journal gh` shows what happened",
                &["gh"]
            ),
            ["gh auth login"]
        );
        assert!(
            of("claude /login", &["claude"]).is_empty(),
            "every use of claude"
        );
        assert!(of(
            "run a git command that authenticates (e.g. git fetch)",
            &["git fetch"]
        )
        .is_empty());
        assert!(of("unset GH_TOKEN to use the stored login", &["gh"]).is_empty());
    }
    use super::*;

    fn file(message: &str) -> PromptFile {
        PromptFile {
            pid: 42,
            generation: None,
            valid_until: 0,
            message: message.into(),
            warnings: String::new(),
        }
    }

    fn markers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("prompt.") && !n.starts_with("prompt.direct"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_unchanged_content_is_not_rewritten_and_keeps_its_marker() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prompt.7.7"), "").unwrap();
        std::fs::write(dir.path().join("prompt.direct"), "0 0 0 \n").unwrap();
        let mut publisher = Publisher::new(dir.path(), 42);
        assert!(markers(dir.path()).is_empty(), "stale markers are removed");
        assert!(dir.path().join("prompt.direct").exists(), "not a marker");

        assert!(
            !publisher.publish(file("")).unwrap(),
            "a first file changes nothing shown"
        );
        let content = std::fs::read_to_string(dir.path().join(DAEMON_FILE)).unwrap();
        let stamp = content.split(' ').nth(2).unwrap().to_string();
        assert!(is_stamp(&stamp) && stamp.starts_with("42."), "{content:?}");
        assert_eq!(markers(dir.path()), vec![format!("prompt.{stamp}")]);
        let inode = std::fs::metadata(dir.path().join(DAEMON_FILE))
            .unwrap()
            .ino();

        assert!(!publisher.publish(file("")).unwrap());
        assert_eq!(
            std::fs::metadata(dir.path().join(DAEMON_FILE))
                .unwrap()
                .ino(),
            inode,
            "not rewritten"
        );
        assert_eq!(markers(dir.path()), vec![format!("prompt.{stamp}")]);

        assert!(
            publisher.publish(file("⚠ claude")).unwrap(),
            "a new message is a change shown"
        );
        let content = std::fs::read_to_string(dir.path().join(DAEMON_FILE)).unwrap();
        let new_stamp = content.split(' ').nth(2).unwrap().to_string();
        assert_ne!(new_stamp, stamp);
        assert!(content.ends_with(" ⚠ claude\n"), "{content:?}");
        assert_eq!(markers(dir.path()), vec![format!("prompt.{new_stamp}")]);

        publisher.withdraw();
        assert!(markers(dir.path()).is_empty());
        assert!(!dir.path().join(DAEMON_FILE).exists());
    }

    #[test]
    fn a_restarted_daemon_with_the_same_pid_never_repeats_a_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Publisher::new(dir.path(), 42);
        first.publish(file("")).unwrap();
        let content = std::fs::read_to_string(dir.path().join(DAEMON_FILE)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut second = Publisher::new(dir.path(), 42);
        second.publish(file("")).unwrap();
        let again = std::fs::read_to_string(dir.path().join(DAEMON_FILE)).unwrap();
        assert_ne!(content, again);
    }
}
