//! The ssh-agent as a store: the socket a shell's `SSH_AUTH_SOCK` names, asked for the
//! identities the agent holds (the answer is then decoded as the store's content by the
//! `ssh-agent` format).
//!
//! Guarantees: only a socket owned by the user is asked (a path in /tmp that another user
//! planted is not); connecting and the whole exchange end within [`TIMEOUT`] (an agent can
//! hang); the answer is bounded; nothing is sent but the request to list identities; each
//! failure is a state with its reason and the fix that works where the shell is (inside tmux:
//! tmux's current `SSH_AUTH_SOCK`). The daemon asks again when the socket's directory changes
//! and every [`POLL_MS`], never because a prompt is drawn (`status` and `prompt` run in a shell
//! ask it when they check that shell's agent themselves).

use crate::define::state::State;
use crate::support::environ;
use crate::support::paths::display;
use crate::tools::ssh_agent;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest an agent is waited for, connection and answer together.
pub const TIMEOUT: Duration = Duration::from_secs(1);
/// How often the daemon asks an agent again when nothing tells it changed (keys added or
/// removed, an agent killed with its socket left behind).
pub const POLL_MS: i64 = 30_000;
/// `SSH2_AGENTC_REQUEST_IDENTITIES`, with its length.
const REQUEST_IDENTITIES: [u8; 5] = [0, 0, 0, 1, 11];

/// The agent's answer, and its socket's mode and owner.
pub struct Answer {
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
}

/// Why an agent gave no usable answer.
pub enum Problem {
    /// A state with its whole reason and fix (gone, refused, no keys, hanging, not a socket).
    Unusable {
        state: State,
        why: String,
        fix: String,
    },
    PermissionDenied,
    TooLarge(u64),
    Failed(String),
}

/// The agent's answer to "list your identities", with what the socket is; or why there is none.
pub fn ask(path: &Path, limit: u64) -> Result<Answer, Problem> {
    let shown = display(path);
    let unusable = |state, why: String, fix: String| Problem::Unusable { state, why, fix };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(unusable(
                State::Missing,
                format!("the ssh-agent socket {shown} is gone: its agent exited, or the SSH connection that forwarded it has ended"),
                reconnect_fix(),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Problem::PermissionDenied)
        }
        Err(e) => return Err(Problem::Failed(e.to_string())),
    };
    if !metadata.file_type().is_socket() {
        return Err(unusable(
            State::Invalid,
            format!("SSH_AUTH_SOCK names {shown}, which is not a socket"),
            "point SSH_AUTH_SOCK at your agent's socket (ssh-agent prints it), or unset it".into(),
        ));
    }
    let uid = nix::unistd::geteuid().as_raw();
    if metadata.uid() != uid {
        return Err(unusable(
            State::Insecure,
            format!(
                "the ssh-agent socket {shown} belongs to uid {}, not to you: it was not asked",
                metadata.uid()
            ),
            "unset SSH_AUTH_SOCK, or point it at your own agent's socket".into(),
        ));
    }
    let answer = exchange_or_book(path, limit).map_err(|failure| match failure {
        Failure::Refused => unusable(
            State::Missing,
            format!("the ssh-agent at {shown} refuses connections: it is no longer running (its socket was left behind)"),
            reconnect_fix(),
        ),
        Failure::TimedOut => unusable(
            State::Unknown,
            format!(
                "the ssh-agent at {shown} did not answer within {} s",
                TIMEOUT.as_secs()
            ),
            "check it with ssh-add -l; restart the agent if it hangs".into(),
        ),
        Failure::TooLarge(size) => Problem::TooLarge(size),
        Failure::Other(error) => Problem::Failed(error),
        Failure::Asking => unusable(
            State::Unknown,
            format!("the ssh-agent at {shown} is being asked"),
            "wait a moment: its answer is on the way".into(),
        ),
    })?;
    if ssh_agent::count(&answer) == 0 && answer.first() == Some(&ssh_agent::IDENTITIES_ANSWER) {
        return Err(unusable(
            State::LoggedOut,
            format!("the ssh-agent at {shown} holds no keys"),
            "ssh-add (or ssh-add ~/.ssh/KEY)".into(),
        ));
    }
    Ok(Answer {
        bytes: answer,
        mode: metadata.mode() & 0o7777,
        uid: metadata.uid(),
    })
}

/// What works to get a live agent again, where this shell is.
fn reconnect_fix() -> String {
    if environ::var_os("TMUX").is_some_and(|v| !v.is_empty()) {
        r#"take tmux's current agent into this shell: eval "$(tmux show-environment -s SSH_AUTH_SOCK)""#.into()
    } else {
        r#"reconnect with agent forwarding (ssh -A), or start an agent here: eval "$(ssh-agent -s)" && ssh-add"#.into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    Refused,
    TimedOut,
    TooLarge(u64),
    Other(String),
    /// Not asked on this thread: its answer is on the way (see [`keep_book`]).
    Asking,
}

/// How long an agent's answer in the book is used without asking again.
const FRESH: Duration = Duration::from_secs(1);
/// How long an agent not asked about any more stays in the book.
const FORGOTTEN: Duration = Duration::from_secs(3600);

/// The agents' answers, for a thread that must never wait for an agent (the daemon's event
/// loop: an agent that hangs would hold up every other credential for [`TIMEOUT`], once per
/// shell that names it). The sockets to ask are collected; they are asked on other threads
/// ([`ask_for_book`]) and their answers entered ([`enter`]).
#[derive(Default)]
struct Book {
    /// Agents are still asked here, and their answers kept (the daemon's first scan: nothing is
    /// published before all is known, and what it learnt is not asked again at once).
    in_place: bool,
    known: std::collections::HashMap<std::path::PathBuf, (Result<Vec<u8>, Failure>, Instant)>,
    /// Socket → the size limit of the answer.
    wanted: std::collections::BTreeMap<std::path::PathBuf, u64>,
}

thread_local! {
    static BOOK: std::cell::RefCell<Option<Book>> = const { std::cell::RefCell::new(None) };
}

/// From now on, on this thread, the agents' answers are kept in a book: each agent is still
/// asked here, until [`ask_off_this_thread`].
pub fn keep_book() {
    BOOK.with(|book| {
        *book.borrow_mut() = Some(Book {
            in_place: true,
            ..Book::default()
        })
    });
}

/// From now on, on this thread (which keeps a book), no agent is asked here: the last answer of
/// its socket is used (and the socket asked again elsewhere once the answer is older than
/// [`FRESH`]); before any answer, the state says it is being asked. (What is checked of the
/// socket itself, that it is there, a socket and the user's, is still checked here: a `stat`.)
pub fn ask_off_this_thread() {
    BOOK.with(|book| {
        if let Some(book) = book.borrow_mut().as_mut() {
            book.in_place = false;
        }
    });
}

/// A socket to ask off this thread, with the size limit of its answer: taken from the book.
pub fn wanted() -> Vec<(std::path::PathBuf, u64)> {
    BOOK.with(|book| {
        book.borrow_mut()
            .as_mut()
            .map(|book| std::mem::take(&mut book.wanted).into_iter().collect())
            .unwrap_or_default()
    })
}

/// An agent's answer for the book (what it holds is opaque: it is entered, not read).
pub struct Exchanged(Result<Vec<u8>, Failure>);

/// Asks the agent at `path` (waits up to [`TIMEOUT`]): call it off the thread that keeps the book.
pub fn ask_for_book(path: &Path, limit: u64) -> Exchanged {
    Exchanged(exchange(path, limit))
}

/// Enters an answer in this thread's book; true when it differs from the one before (what asks
/// that agent must be judged again).
pub fn enter(path: std::path::PathBuf, answer: Exchanged) -> bool {
    BOOK.with(|book| {
        let mut book = book.borrow_mut();
        let Some(book) = book.as_mut() else {
            return false;
        };
        let now = Instant::now();
        book.known
            .retain(|_, (_, at)| now.duration_since(*at) < FORGOTTEN);
        let before = book.known.insert(path, (answer.0.clone(), now));
        before.is_none_or(|(old, _)| old != answer.0)
    })
}

/// The agent's answer: asked here, or, on a thread that keeps a book, taken from it.
fn exchange_or_book(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    let booked = BOOK.with(|book| {
        let mut book = book.borrow_mut();
        let book = book.as_mut()?;
        if book.in_place {
            let answer = exchange(path, limit);
            book.known
                .insert(path.to_path_buf(), (answer.clone(), Instant::now()));
            return Some(answer);
        }
        let known = book.known.get(path);
        if known.is_none_or(|(_, at)| at.elapsed() >= FRESH) {
            book.wanted.insert(path.to_path_buf(), limit);
        }
        Some(known.map_or(Err(Failure::Asking), |(answer, _)| answer.clone()))
    });
    booked.unwrap_or_else(|| exchange(path, limit))
}

/// Connects (without blocking past the deadline), asks, and reads one answer.
fn exchange(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, UnixAddr};
    let deadline = Instant::now() + TIMEOUT;
    let other = |e: nix::errno::Errno| Failure::Other(e.desc().to_string());
    let fd: OwnedFd = socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(other)?;
    let address = UnixAddr::new(path).map_err(other)?;
    match socket::connect(fd.as_raw_fd(), &address) {
        Ok(()) => {}
        Err(nix::errno::Errno::ECONNREFUSED) => return Err(Failure::Refused),
        // A UNIX socket connects at once or not at all: EAGAIN is a listener whose backlog is
        // full, an agent that no longer accepts (hung).
        Err(nix::errno::Errno::EAGAIN) => return Err(Failure::TimedOut),
        Err(e) => return Err(other(e)),
    }
    let mut stream = std::os::unix::net::UnixStream::from(fd);
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Failure::TimedOut,
        std::io::ErrorKind::ConnectionRefused => Failure::Refused,
        _ => Failure::Other(e.to_string()),
    };
    stream.set_nonblocking(false).map_err(io)?;
    stream
        .set_write_timeout(Some(time_left(deadline).map_err(io)?))
        .map_err(io)?;
    stream.write_all(&REQUEST_IDENTITIES).map_err(io)?;
    let mut length = [0u8; 4];
    read_exact_by(&mut stream, &mut length, deadline).map_err(io)?;
    let length = u64::from(u32::from_be_bytes(length));
    if length > limit {
        return Err(Failure::TooLarge(length));
    }
    let mut answer = vec![0u8; length as usize];
    read_exact_by(&mut stream, &mut answer, deadline).map_err(io)?;
    Ok(answer)
}

/// `read_exact`, each read with the time left before `deadline` (an agent that trickles its
/// answer byte by byte still ends at the deadline).
fn read_exact_by(
    stream: &mut std::os::unix::net::UnixStream,
    mut buffer: &mut [u8],
    deadline: Instant,
) -> std::io::Result<()> {
    while !buffer.is_empty() {
        stream.set_read_timeout(Some(time_left(deadline)?))?;
        match stream.read(buffer) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buffer = &mut buffer[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The time left before `deadline`; none left is a timeout.
fn time_left(deadline: Instant) -> std::io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| std::io::ErrorKind::TimedOut.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const LIMIT: u64 = 1 << 20;

    /// An agent at `path` that holds no keys; counts the connections it answered.
    fn agent(path: &Path) -> Arc<AtomicUsize> {
        let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
        let asked = Arc::new(AtomicUsize::new(0));
        let count = asked.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = [0u8; 5];
                if stream.read_exact(&mut request).is_ok() {
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ =
                        stream.write_all(&[0, 0, 0, 5, ssh_agent::IDENTITIES_ANSWER, 0, 0, 0, 0]);
                }
            }
        });
        asked
    }

    fn state_of(path: &Path) -> State {
        match ask(path, LIMIT) {
            Ok(_) => State::Ok,
            Err(Problem::Unusable { state, .. }) => state,
            Err(_) => panic!("not a state"),
        }
    }

    /// Regression: the daemon's first scan asked its agents in place and kept nothing, so the
    /// next judgement of the same agent published "being asked" (unknown) until a thread
    /// answered. An answer asked in place is kept.
    #[test]
    fn an_agent_the_first_scan_asked_is_not_being_asked_at_the_next_judgement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let asked = agent(&path);
        keep_book();
        assert_eq!(state_of(&path), State::LoggedOut, "asked in place");
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        ask_off_this_thread();
        assert_eq!(state_of(&path), State::LoggedOut, "the answer kept");
        assert_eq!(asked.load(Ordering::SeqCst), 1, "not asked again here");
        assert!(wanted().is_empty(), "fresh: not asked elsewhere either");

        // A socket not asked before: being asked, and wanted; its answer, once entered, is used.
        let other = dir.path().join("other.sock");
        let other_asked = agent(&other);
        assert_eq!(state_of(&other), State::Unknown);
        assert_eq!(other_asked.load(Ordering::SeqCst), 0);
        assert_eq!(wanted(), vec![(other.clone(), LIMIT)]);
        let answer = ask_for_book(&other, LIMIT);
        assert!(enter(other.clone(), answer), "a new answer");
        assert_eq!(state_of(&other), State::LoggedOut);
    }
}
