//! Which command the user's own processes run now, read from `/proc` (never touched: read only).
//!
//! Guarantees: only processes of this process's user are looked at (the owner of their `/proc`
//! entry); a command line (and, to tell whose home a process works in, an environment) is read
//! up to [`CMDLINE_LIMIT`] bytes and never kept, logged or returned: the answer is one of the
//! commands the caller asked about, as the caller wrote it, or a count. A process that is gone
//! or unreadable is skipped.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// More of a command line than this is not read.
pub const CMDLINE_LIMIT: u64 = 64 * 1024;

/// Programs that run a script named in a later argument (`node /usr/bin/npm logout`): the
/// program's name is looked for among the first arguments too.
const INTERPRETER_ARGS: usize = 2;

/// Those of `commands` (`npm logout`, `gh auth logout`) that a running process of this user
/// other than this one runs: one pass over `/proc` for all of them.
pub fn running_commands<'a>(commands: &[&'a str]) -> BTreeSet<&'a str> {
    let mut found = BTreeSet::new();
    if commands.is_empty() {
        return found;
    }
    each_own_process(|argv| found.extend(commands.iter().filter(|c| argv_runs(argv, c))));
    found
}

/// How many running processes of this user other than this one run one of `commands` with
/// `HOME` set to `home` (`claude`: the Claude Code sessions that share this home's login, each
/// process counted once).
pub fn count_running_in_home(commands: &[&str], home: &[u8]) -> usize {
    let mut count = 0;
    if commands.is_empty() {
        return count;
    }
    each_own_process_dir(|dir, argv| {
        if commands.iter().any(|c| argv_runs(argv, c)) && home_of(dir).as_deref() == Some(home) {
            count += 1;
        }
    });
    count
}

/// The `HOME` in a process's environment.
fn home_of(dir: &Path) -> Option<Vec<u8>> {
    read_limited(dir, "environ")?
        .split(|b| *b == 0)
        .find_map(|pair| pair.strip_prefix(b"HOME="))
        .map(<[u8]>::to_vec)
}

/// Calls `look` with the arguments of each process of this user other than this one.
fn each_own_process(mut look: impl FnMut(&[&[u8]])) {
    each_own_process_dir(|_, argv| look(argv));
}

/// Calls `look` with the `/proc` entry and the arguments of each process of this user other
/// than this one.
fn each_own_process_dir(mut look: impl FnMut(&Path, &[&[u8]])) {
    let own_uid = rustix::process::getuid().as_raw();
    let own_pid = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if pid == own_pid {
            continue;
        }
        let dir = entry.path();
        if std::fs::metadata(&dir).map(|m| m.uid()).ok() != Some(own_uid) {
            continue;
        }
        let Some(cmdline) = read_limited(&dir, "cmdline") else {
            continue;
        };
        look(&dir, &arguments(&cmdline));
    }
}

/// The arguments of a `/proc/PID/cmdline`. A process that set its title (npm: `npm config
/// delete //r/:_authToken`, one string padded with spaces) gives its words.
fn arguments(cmdline: &[u8]) -> Vec<&[u8]> {
    let argv: Vec<&[u8]> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    match argv[..] {
        [title] => title
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .collect(),
        _ => argv,
    }
}

/// A file of a `/proc/PID` entry, up to [`CMDLINE_LIMIT`] bytes.
fn read_limited(dir: &Path, name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(dir.join(name))
        .ok()?
        .take(CMDLINE_LIMIT)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Whether a process with these arguments runs `command`: its program (the base name of one of
/// the first arguments, for a script run by an interpreter), then each further word of
/// `command` among the later arguments, in order (`npm --global logout` runs `npm logout`).
pub fn argv_runs(argv: &[&[u8]], command: &str) -> bool {
    let mut want = command.split_whitespace();
    let Some(program) = want.next() else {
        return false;
    };
    let Some(at) = argv
        .iter()
        .take(INTERPRETER_ARGS + 1)
        .position(|arg| base_name(arg) == program.as_bytes())
    else {
        return false;
    };
    let mut rest = argv[at + 1..].iter();
    want.all(|word| rest.any(|arg| *arg == word.as_bytes()))
}

fn base_name(arg: &[u8]) -> &[u8] {
    arg.rsplit(|b| *b == b'/').next().unwrap_or(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(argv: &[&str], command: &str) -> bool {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        argv_runs(&argv, command)
    }

    #[test]
    fn a_command_is_its_program_then_its_words_in_order() {
        assert!(runs(&["/usr/bin/gh", "auth", "logout"], "gh auth logout"));
        assert!(runs(&["gh", "auth", "logout", "-h", "x"], "gh auth logout"));
        assert!(runs(
            &["gh", "--verbose", "auth", "logout"],
            "gh auth logout"
        ));
        assert!(!runs(&["gh", "logout", "auth"], "gh auth logout"), "order");
        assert!(!runs(&["gh", "auth", "login"], "gh auth logout"));
        assert!(!runs(&["ghx", "auth", "logout"], "gh auth logout"));
        assert!(!runs(&[], "gh auth logout"));
        assert!(!runs(&["gh"], ""));
    }

    #[test]
    fn a_script_run_by_an_interpreter_is_found() {
        // What /proc shows for npm, a node script.
        assert!(runs(
            &[
                "node",
                "/usr/bin/npm",
                "config",
                "delete",
                "//r/:_authToken"
            ],
            "npm config delete"
        ));
        assert!(runs(
            &["/usr/bin/node", "/usr/local/bin/npm", "logout"],
            "npm logout"
        ));
        // Not an argument far down the line (`grep npm logout.txt`).
        assert!(!runs(&["grep", "-r", "-n", "npm", "logout"], "npm logout"));
    }

    #[test]
    fn a_title_set_by_the_process_is_read_as_words() {
        let title = b"npm config delete //r/:_authToken            \0";
        let argv = arguments(title);
        assert!(argv_runs(&argv, "npm config delete"));
        let argv = arguments(b"node\0/usr/bin/npm\0logout\0");
        assert!(argv_runs(&argv, "npm logout"));
        assert_eq!(arguments(b"").len(), 0);
    }

    #[test]
    fn this_users_running_processes_are_seen_and_others_commands_are_not_returned() {
        let mut child = std::process::Command::new("sleep")
            .arg("29.4321")
            .spawn()
            .unwrap();
        // Past its exec (the spawn returns when the exec closes a pipe, before the new
        // command line is in place).
        let cmdline = format!("/proc/{}/cmdline", child.id());
        while std::fs::read(&cmdline).is_ok_and(|c| c.is_empty()) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut misses = Vec::new();
        for _ in 0..50 {
            let found = running_commands(&["nothing-runs-this", "sleep 29.4321"]);
            if !found.contains("sleep 29.4321") {
                let dir = format!("/proc/{}", child.id());
                misses.push(format!(
                    "{:?} {:?}",
                    std::fs::metadata(&dir).map(|m| m.uid()),
                    std::fs::read(format!("{dir}/cmdline"))
                ));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(misses.is_empty(), "{misses:?}");
        assert!(running_commands(&["nothing-runs-this at-all"]).is_empty());
        assert!(running_commands(&[]).is_empty());
    }
}
