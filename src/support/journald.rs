//! Log lines for the systemd journal: when stderr is the journal's stream (`JOURNAL_STREAM`
//! names its device and inode, as systemd sets it for a service), each line starts with its
//! syslog priority (`<4>` for a warning), which journald reads, so `journalctl -p warning`
//! finds what the daemon warned about. A line the message breaks in two keeps its priority.
//!
//! Guarantees: without `JOURNAL_STREAM`, or when it names another file than stderr (a child the
//! service started, whose stderr was redirected), nothing changes.

use std::io::Write;
use std::os::unix::fs::MetadataExt;

/// Whether stderr is the journal's stream connection.
pub fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    std::fs::metadata("/proc/self/fd/2")
        .is_ok_and(|meta| names(&stream.to_string_lossy(), meta.dev(), meta.ino()))
}

/// Whether a `JOURNAL_STREAM` value (`DEVICE:INODE`) names this file.
fn names(stream: &str, dev: u64, ino: u64) -> bool {
    stream
        .split_once(':')
        .and_then(|(d, i)| Some((d.parse::<u64>().ok()?, i.parse::<u64>().ok()?)))
        == Some((dev, ino))
}

/// The syslog priority of a tracing level.
pub fn priority(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 3,
        tracing::Level::WARN => 4,
        tracing::Level::INFO => 6,
        _ => 7,
    }
}

/// Writes to stderr with `<PRIORITY>` before each line.
pub struct PrefixedStderr {
    prefix: String,
}

impl PrefixedStderr {
    pub fn new(priority: u8) -> Self {
        PrefixedStderr {
            prefix: format!("<{priority}>"),
        }
    }
}

/// Prefixes each line of `text` (a formatted event, ending with a newline).
pub fn prefixed(prefix: &str, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + prefix.len());
    for line in text.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(line);
    }
    out
}

impl Write for PrefixedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write_all(&prefixed(&self.prefix, buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A `MakeWriter` for tracing: each event's lines with its level's priority.
pub struct JournalWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for JournalWriter {
    type Writer = PrefixedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        PrefixedStderr::new(6)
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        PrefixedStderr::new(priority(meta.level()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_an_event_keeps_its_priority() {
        assert_eq!(
            prefixed("<4>", b"WARN config not reloaded\n  fix: edit it\n"),
            b"<4>WARN config not reloaded\n<4>  fix: edit it\n".to_vec()
        );
        assert_eq!(prefixed("<6>", b"one"), b"<6>one".to_vec());
        assert_eq!(priority(&tracing::Level::WARN), 4);
        assert_eq!(priority(&tracing::Level::ERROR), 3);
    }

    #[test]
    fn the_stream_is_the_journal_only_when_it_names_this_file() {
        assert!(names("64769:12345", 64769, 12345));
        assert!(!names("64769:12345", 64769, 12346));
        assert!(!names("garbage", 1, 2));
        assert!(!names("1:", 1, 0));
    }
}
