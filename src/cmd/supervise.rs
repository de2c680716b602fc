//! Runs a command attached to the user's terminal and waits for it, for `login`.
//!
//! Guarantees: stdin, stdout and stderr are inherited; SIGINT and SIGQUIT (which the terminal
//! sends to the command as well) are absorbed, so credwatch outlives the command it supervises;
//! SIGTERM and SIGHUP sent to credwatch are passed on to the command.

/// Runs `argv` attached to this terminal and waits for it; SIGTERM and SIGHUP sent to credwatch
/// are passed on, SIGINT and SIGQUIT (which the terminal sends to the command too) are absorbed.
pub(super) fn run_on_terminal(argv: &[String]) -> anyhow::Result<std::process::ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut quit = signal(SignalKind::quit())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let mut child = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run {}: {e}\n  fix: check the command name and PATH", crate::support::output::inert(&argv[0])))?;
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = done_tx.send(child.wait());
        });
        loop {
            tokio::select! {
                status = &mut done_rx => {
                    return Ok(status??);
                }
                _ = interrupt.recv() => {}
                _ = quit.recv() => {}
                _ = terminate.recv() => { let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM); }
                _ = hangup.recv() => { let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP); }
            }
        }
    })
}
