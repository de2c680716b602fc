//! Log entries for the systemd journal, when stderr is the journal's stream (`JOURNAL_STREAM`
//! names its device and inode, as systemd sets it for a service). Each event goes to journald's
//! native socket as an entry of its own: MESSAGE (the line stderr would have shown), PRIORITY
//! (4 for a warning: `journalctl -p warning` finds it), and each field of the event as
//! `CREDWATCH_<NAME>`, a credential's name as `CREDWATCH_CREDENTIAL` (`journalctl --user -u
//! credwatch CREDWATCH_CREDENTIAL=gh`). When the socket cannot take it, the line goes to
//! stderr with its syslog priority before each line (`<4>`), which journald reads too.
//!
//! Guarantees: without `JOURNAL_STREAM`, or when it names another file than stderr (a child the
//! service started, whose stderr was redirected), nothing changes. No control character of a
//! field's value reaches the journal (a message keeps its own line breaks).

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// journald's socket for the native protocol.
pub const NATIVE_SOCKET: &str = "/run/systemd/journal/socket";

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

/// One journal entry in the native protocol: each field as its name, a newline, its length (64
/// bits, little-endian), its bytes and a newline: the form that takes any byte in a value.
pub fn native_entry(fields: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

/// A journal field name for an event's field: `CREDWATCH_` and the name in capitals, letters,
/// digits and `_` only; the credential an event is about (`credential`, or `name`) is
/// `CREDWATCH_CREDENTIAL`.
fn field_name(name: &str) -> String {
    let name = if name == "name" { "credential" } else { name };
    let mut out = String::from("CREDWATCH_");
    out.extend(
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .take(50),
    );
    out
}

/// Text from outside (a path, a file's content in an error) made inert as everywhere else
/// ([`crate::support::output::inert`]); a message keeps its own line breaks.
fn inert(text: &str, keep_newlines: bool) -> String {
    use crate::support::output::inert;
    if keep_newlines {
        text.split('\n')
            .map(|line| inert(line))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        inert(text).into_owned()
    }
}

/// The message and the fields of one event.
#[derive(Default)]
struct EventFields {
    message: String,
    fields: Vec<(String, String)>,
}

impl tracing::field::Visit for EventFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// A tracing layer that sends each event to the journal (see the module's doc).
pub struct JournalLayer {
    socket: UnixDatagram,
    target: PathBuf,
}

impl JournalLayer {
    /// A layer sending to `target` (journald's [`NATIVE_SOCKET`]); an error when no socket can
    /// be made (then stderr with priorities serves).
    pub fn new(target: &Path) -> std::io::Result<Self> {
        Ok(JournalLayer {
            socket: UnixDatagram::unbound()?,
            target: target.to_path_buf(),
        })
    }

    /// The entry for one event: what stderr would show as MESSAGE, its priority, the program,
    /// and its fields.
    fn entry(&self, level: &tracing::Level, event: EventFields) -> (String, Vec<u8>) {
        let mut line = format!("{level:>5} {}", event.message);
        for (name, value) in &event.fields {
            line.push_str(&format!(" {name}={value}"));
        }
        let line = inert(&line, true);
        let mut fields = vec![
            ("MESSAGE".to_string(), line.clone()),
            ("PRIORITY".to_string(), priority(level).to_string()),
            ("SYSLOG_IDENTIFIER".to_string(), "credwatch".to_string()),
        ];
        for (name, value) in &event.fields {
            fields.push((field_name(name), inert(value, false)));
        }
        (line, native_entry(&fields))
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for JournalLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let level = event.metadata().level();
        let (line, entry) = self.entry(level, fields);
        if self.socket.send_to(&entry, &self.target).is_err() {
            // No journald there, or an entry too large for a datagram: the stream has it.
            let text = format!("{line}\n");
            let prefix = format!("<{}>", priority(level));
            let _ = std::io::stderr().write_all(&prefixed(&prefix, text.as_bytes()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of a native entry, as journald reads them.
    fn parse_entry(mut bytes: &[u8]) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            let name = String::from_utf8(bytes[..end].to_vec()).unwrap();
            let length = u64::from_le_bytes(bytes[end + 1..end + 9].try_into().unwrap()) as usize;
            let value = String::from_utf8(bytes[end + 9..end + 9 + length].to_vec()).unwrap();
            assert_eq!(bytes[end + 9 + length], b'\n');
            fields.push((name, value));
            bytes = &bytes[end + 10 + length..];
        }
        fields
    }

    #[test]
    fn an_event_about_a_credential_reaches_the_socket_with_its_name_as_a_field() {
        use tracing_subscriber::layer::SubscriberExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("socket");
        let journald = UnixDatagram::bind(&path).unwrap();
        journald
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(JournalLayer::new(&path).unwrap());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(name = "gh", detail = "a\u{1b}[2Jb", "alert not delivered");
        });
        let mut buffer = vec![0; 65536];
        let size = journald.recv(&mut buffer).unwrap();
        let fields = parse_entry(&buffer[..size]);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
        };
        assert_eq!(get("PRIORITY"), "4");
        assert_eq!(get("CREDWATCH_CREDENTIAL"), "gh");
        assert_eq!(get("SYSLOG_IDENTIFIER"), "credwatch");
        assert_eq!(
            get("MESSAGE"),
            " WARN alert not delivered name=gh detail=a\\x1b[2Jb"
        );
        assert_eq!(get("CREDWATCH_DETAIL"), "a\\x1b[2Jb");
    }

    #[test]
    fn a_value_with_line_breaks_travels_in_the_length_prefixed_form() {
        let entry = native_entry(&[("MESSAGE".into(), "one\ntwo".into())]);
        assert_eq!(
            parse_entry(&entry),
            vec![("MESSAGE".into(), "one\ntwo".into())]
        );
        assert_eq!(field_name("credential"), "CREDWATCH_CREDENTIAL");
        assert_eq!(field_name("store-path"), "CREDWATCH_STORE_PATH");
    }

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
