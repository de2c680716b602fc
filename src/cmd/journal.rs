//! `credwatch journal [NAME]`: what happened to each credential, oldest first; with `--follow`,
//! then each new entry as the daemon writes it (inotify on the journal's directory, no polling),
//! until Ctrl-C or until whatever reads the output goes away (a closed pipe ends it, exit 0).

use super::{Context, Run};
use crate::cli::JournalArgs;
use crate::engine::journal::{Journal, Record, JOURNAL_FILE};
use crate::support::output::print;
use crate::support::timefmt::Timestamp;
use std::path::Path;

impl Run for JournalArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        let Some(dir) = crate::support::runtime::state_dir() else {
            anyhow::bail!("cannot tell where the journal is: $HOME and $XDG_STATE_HOME are unset\n  fix: set HOME");
        };
        if self.follow {
            follow(&dir, self.name.as_deref(), self.json)
        } else {
            show(&dir, self.name.as_deref(), self.json)
        }
    }
}

fn show(dir: &Path, name: Option<&str>, json: bool) -> anyhow::Result<i32> {
    let entries: Vec<_> = Journal::read(dir)
        .into_iter()
        .filter(|e| name.is_none_or(|n| e.name == n))
        .collect();
    let mut out = String::new();
    if json {
        for entry in &entries {
            out.push_str(&serde_json::to_string(entry)?);
            out.push('\n');
        }
    } else if entries.is_empty() {
        out.push_str(&format!(
            "The journal is empty{}: the daemon writes it (credwatch daemon).\n",
            name.map(|n| format!(" for {n}")).unwrap_or_default()
        ));
    } else {
        let width = entries
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0);
        for entry in &entries {
            out.push_str(&row(entry, width));
        }
    }
    print(&out);
    Ok(0)
}

/// One entry for people: when, which credential, what happened, and the detail or path.
fn row(entry: &Record, width: usize) -> String {
    let at = Timestamp::parse_datetime(&entry.at).map_or(entry.at.clone(), |t| t.human_seconds());
    let what = match entry.event.as_str() {
        "state" => format!(
            "{} → {}",
            entry.from.as_deref().unwrap_or("(new)"),
            entry.to.as_deref().unwrap_or("?")
        ),
        other => other.to_string(),
    };
    let detail = entry
        .detail
        .as_deref()
        .or(entry.path.as_deref())
        .unwrap_or("");
    format!("{at}  {:<width$}  {what}  {detail}\n", entry.name)
}

/// `journal --follow`: the entries so far, then each new one as it is appended. The journal's
/// directory is watched for writes and for the file being replaced (rotation); the file is read
/// only when it changed, from where the last read ended.
fn follow(dir: &Path, name: Option<&str>, json: bool) -> anyhow::Result<i32> {
    use crate::support::watch::{Mask, Watcher};
    if let Err(error) = crate::support::runtime::ensure_private_dir(dir) {
        anyhow::bail!("{error}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        let mut watcher = Watcher::new()
            .map_err(|errno| anyhow::anyhow!(crate::support::watch::instance_failure(errno)))?;
        // Watching starts before the first read: nothing written in between is missed.
        watcher
            .watch(
                dir,
                Mask::IN_CLOSE_WRITE
                    | Mask::IN_MODIFY
                    | Mask::IN_CREATE
                    | Mask::IN_MOVED_TO
                    | Mask::IN_DELETE_SELF
                    | Mask::IN_MOVE_SELF,
            )
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        let path = dir.join(JOURNAL_FILE);
        let mut tail = Tail::at_end(&path);
        show(dir, name, json)?;
        let width = 12;
        loop {
            watcher.next_batch().await?;
            for entry in tail.new_entries(&path) {
                if name.is_some_and(|n| entry.name != n) {
                    continue;
                }
                let text = if json {
                    serde_json::to_string(&entry)? + "\n"
                } else {
                    row(&entry, width)
                };
                if !print(&text) {
                    // Whoever read the output is gone (a closed pipe): done.
                    return Ok(0);
                }
            }
        }
    })
}

/// Where reading the journal file left off: its inode and the bytes of it consumed.
struct Tail {
    inode: Option<u64>,
    offset: usize,
}

impl Tail {
    fn at_end(path: &Path) -> Tail {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path).ok();
        Tail {
            inode: meta.as_ref().map(|m| m.ino()),
            offset: meta.map_or(0, |m| m.len() as usize),
        }
    }

    /// The complete lines appended since the last call (from the start of a new file after a
    /// rotation).
    fn new_entries(&mut self, path: &Path) -> Vec<Record> {
        let (inode, bytes) = read_with_inode(path);
        if inode != self.inode || bytes.len() < self.offset {
            self.inode = inode;
            self.offset = 0;
        }
        let fresh = &bytes[self.offset..];
        let Some(end) = fresh.iter().rposition(|b| *b == b'\n') else {
            return Vec::new();
        };
        self.offset += end + 1;
        String::from_utf8_lossy(&fresh[..end])
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// The journal file's inode and bytes (none when it is absent or not the user's own).
fn read_with_inode(path: &Path) -> (Option<u64>, Vec<u8>) {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::symlink_metadata(path).ok().map(|m| m.ino());
    let bytes = crate::support::runtime::read_own(path, 64 << 20)
        .ok()
        .flatten()
        .unwrap_or_default();
    (inode, bytes)
}
