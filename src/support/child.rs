//! The one place credwatch runs another program and waits for it.
//!
//! - [`run_bounded`] (and [`run_bounded_blocking`] for a thread outside tokio): no shell, stdin
//!   closed, in a process group of its own, with the environment given added. Of each output
//!   stream it keeps the first bytes asked for and drains the rest (a child that writes a lot
//!   never blocks on a full pipe); a stream nothing is kept of goes to `/dev/null`. At its
//!   deadline the whole group is killed (helpers it started too). The child's end is waited
//!   for, not its pipes': after it ends, output is collected until the pipes close or for
//!   [`OUTPUT_GRACE`] at most (a helper in a session of its own, out of reach of the group kill,
//!   may hold them open for ever), and what was read by then is kept.
//! - [`run_attached`]: on the user's terminal (stdin, stdout and stderr inherited, in the
//!   terminal's foreground group), no deadline. SIGINT and SIGQUIT, which the terminal sends to
//!   the child as well, are absorbed, so credwatch outlives the command; SIGTERM and SIGHUP sent
//!   to credwatch are passed on to it.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// How long output is still read after the child ended, when its pipes stay open.
pub const OUTPUT_GRACE: Duration = Duration::from_millis(200);

/// A child to run to completion or to its deadline.
pub struct Bounded<'a> {
    /// The program and its arguments (not empty).
    pub argv: &'a [String],
    /// Added to credwatch's own environment.
    pub env: &'a [(&'a str, String)],
    /// Bytes of standard output kept (0: it goes to `/dev/null`).
    pub keep_stdout: usize,
    /// Bytes of standard error kept (0: it goes to `/dev/null`).
    pub keep_stderr: usize,
    pub timeout: Duration,
}

/// How a bounded child ended.
#[derive(Debug)]
pub enum Ended {
    /// It exited, or a signal not credwatch's ended it.
    Exited {
        status: ExitStatus,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    /// Still running at its deadline: its process group was killed.
    TimedOut,
    /// It could not be started (or waited for).
    Failed(std::io::Error),
}

/// Runs `spec` (inside the tokio runtime). `started` is called with the child's pid, which is
/// also its process group's, once it runs; what it returns is kept until the child is done
/// (a registration the caller takes back when dropped).
pub async fn run_bounded<G>(spec: &Bounded<'_>, started: impl FnOnce(i32) -> G) -> Ended {
    let piped_or_null = |keep: usize| {
        if keep > 0 {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let mut command = tokio::process::Command::new(&spec.argv[0]);
    command
        .args(&spec.argv[1..])
        .envs(spec.env.iter().map(|(name, value)| (*name, value)))
        .stdin(Stdio::null())
        .stdout(piped_or_null(spec.keep_stdout))
        .stderr(piped_or_null(spec.keep_stderr))
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return Ended::Failed(error),
    };
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    let _registration = group.map(started);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stdout = child
        .stdout
        .take()
        .map(|pipe| tokio::spawn(read_kept(pipe, spec.keep_stdout, stopped.clone())));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| tokio::spawn(read_kept(pipe, spec.keep_stderr, stopped)));
    let status = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(Ok(status)) => status,
        Ok(Err(error)) => return Ended::Failed(error),
        Err(_elapsed) => {
            if let Some(group) = group {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(group),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.wait().await;
            return Ended::TimedOut;
        }
    };
    let give_up = tokio::spawn(async move {
        tokio::time::sleep(OUTPUT_GRACE).await;
        let _ = stop.send(true);
    });
    let mut collected = [Vec::new(), Vec::new()];
    for (slot, reader) in collected.iter_mut().zip([stdout, stderr]) {
        if let Some(reader) = reader {
            *slot = reader.await.unwrap_or_default();
        }
    }
    give_up.abort();
    let [stdout, stderr] = collected;
    Ended::Exited {
        status,
        stdout,
        stderr,
    }
}

/// [`run_bounded`] from a thread that is not in the tokio runtime (it runs one of its own).
pub fn run_bounded_blocking(spec: &Bounded<'_>) -> Ended {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run_bounded(spec, |_| ())),
        Err(error) => Ended::Failed(error),
    }
}

/// The first `keep` bytes of `pipe`, the rest drained, until it closes or `stop` turns true.
async fn read_kept(
    mut pipe: impl AsyncRead + Unpin,
    keep: usize,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        tokio::select! {
            read = pipe.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = keep.saturating_sub(kept.len());
                    kept.extend_from_slice(&buffer[..n.min(room)]);
                }
            },
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    kept
}

/// Runs `argv` attached to this terminal and waits for it (see the module's guarantees).
pub fn run_attached(argv: &[String]) -> anyhow::Result<ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut quit = signal(SignalKind::quit())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let mut child = tokio::process::Command::new(&argv[0])
            .args(&argv[1..])
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot run {}: {e}\n  fix: check the command name and PATH",
                    super::output::inert(&argv[0])
                )
            })?;
        let pid = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .map(nix::unistd::Pid::from_raw);
        let pass_on = |signal: nix::sys::signal::Signal| {
            if let Some(pid) = pid {
                let _ = nix::sys::signal::kill(pid, signal);
            }
        };
        loop {
            tokio::select! {
                status = child.wait() => return Ok(status?),
                _ = interrupt.recv() => {}
                _ = quit.recv() => {}
                _ = terminate.recv() => pass_on(nix::sys::signal::Signal::SIGTERM),
                _ = hangup.recv() => pass_on(nix::sys::signal::Signal::SIGHUP),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(script: &str) -> Vec<String> {
        ["sh", "-c", script].iter().map(|s| s.to_string()).collect()
    }

    fn bounded(argv: &[String], timeout_ms: u64) -> Ended {
        run_bounded_blocking(&Bounded {
            argv,
            env: &[("CHILD_TEST", "given".to_string())],
            keep_stdout: 16,
            keep_stderr: 1 << 20,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    #[test]
    fn output_is_kept_up_to_its_limit_and_the_rest_drained() {
        // 1 MiB on stdout (far past a pipe's buffer) and the environment given on stderr.
        let ended = bounded(
            &argv("head -c 1048576 /dev/zero | tr '\\0' x; echo \"$CHILD_TEST\" >&2; exit 3"),
            10_000,
        );
        let Ended::Exited {
            status,
            stdout,
            stderr,
        } = ended
        else {
            panic!("{ended:?}");
        };
        assert_eq!(status.code(), Some(3));
        assert_eq!(stdout, b"xxxxxxxxxxxxxxxx");
        assert_eq!(stderr, b"given\n");
    }

    #[test]
    fn at_its_deadline_the_whole_group_is_killed() {
        let marker = std::env::temp_dir().join(format!("credwatch-child-{}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        // A helper in the child's group that would write the marker after the deadline.
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let started = std::time::Instant::now();
        let ended = bounded(&argv(&script), 200);
        assert!(matches!(ended, Ended::TimedOut), "{ended:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            !marker.exists(),
            "a helper of the child outlived the deadline"
        );
    }

    #[test]
    fn a_helper_holding_the_pipes_open_delays_the_end_by_the_grace_at_most() {
        // The helper leaves the child's group (setsid) and keeps stdout open for 5 s.
        let started = std::time::Instant::now();
        let ended = bounded(&argv("echo said; setsid sleep 5 & exit 0"), 10_000);
        let Ended::Exited { status, stdout, .. } = ended else {
            panic!("{ended:?}");
        };
        assert!(status.success());
        assert_eq!(stdout, b"said\n");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_program_that_is_not_there_fails_to_start() {
        let ended = bounded(&["/nonexistent/credwatch-test".to_string()], 1_000);
        assert!(matches!(ended, Ended::Failed(_)), "{ended:?}");
    }
}
