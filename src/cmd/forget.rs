//! `credwatch forget NAME...`: the user does not use this login here. While it is not usable,
//! it raises no flag, no warning before a command and no failing exit code, and `status` lists
//! it as forgotten; a new login of it (usable again) ends that by itself. `--undo` watches it
//! again at once.
//!
//! Guarantees: it writes only `forgotten.json` in credwatch's state dir (names and times); a
//! running daemon is asked to reload (SIGHUP) so prompts follow at once; a name that names no
//! credential is a usage error (exit 2).

use super::{Context, Run};
use crate::cli::ForgetArgs;
use crate::engine::memory::Forgotten;
use crate::support::timefmt::Timestamp;

impl Run for ForgetArgs {
    fn run(self, context: &Context) -> anyhow::Result<i32> {
        let config = context.config()?;
        // Each name must name a credential in play (a typo forgets nothing).
        super::named(&config, &self.names)?;
        let dir = crate::support::runtime::state_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no state dir to keep what is forgotten in\n  fix: set HOME or XDG_STATE_HOME"
            )
        })?;
        crate::support::runtime::ensure_private_dir(&dir).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut forgotten = Forgotten::load(Some(&dir));
        let now = Timestamp::now().rfc3339();
        for name in &self.names {
            if self.undo {
                forgotten.credentials.remove(name);
            } else {
                forgotten.credentials.insert(name.clone(), now.clone());
            }
        }
        forgotten.save(&dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot write {}: {e}\n  fix: make the directory writable (it holds credwatch's state)",
                crate::support::paths::display(&dir.join(crate::engine::memory::FORGOTTEN_FILE))
            )
        })?;
        let names = self.names.join(", ");
        if self.undo {
            eprintln!("credwatch: {names} watched again");
        } else {
            eprintln!(
                "credwatch: {names} forgotten: no flag, no warning and no failing exit code while it is not usable; a new login of it is watched again (undo: credwatch forget --undo {})",
                self.names.join(" ")
            );
        }
        if let Some(pid) = crate::publish::report::daemon_seen().pid {
            // The daemon reads the file again on reload, and judges everything anew.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGHUP,
            );
        }
        Ok(0)
    }
}
