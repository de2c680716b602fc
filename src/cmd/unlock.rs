//! `credwatch unlock`: unlocks the desktop keyring (the Secret Service's default collection)
//! with its password, in place, from any terminal, an SSH session included.
//!
//! Guarantees: the password is read from the terminal without echo (or one line from stdin when
//! stdin is not a terminal), kept in a redacting type, and dropped once sent; nothing is written
//! to any credential; exit 0 when the keyring is unlocked (or was already), 1 otherwise, with the
//! reason.

use super::{Context, Run};
use crate::cli::UnlockArgs;
use crate::support::secret::Secret;

impl Run for UnlockArgs {
    fn run(self, _: &Context) -> anyhow::Result<i32> {
        let password = read_password("credwatch: keyring password: ")?;
        match crate::store::keyring::unlock(password) {
            Ok(collection) => {
                eprintln!("credwatch: the keyring \"{collection}\" is unlocked");
                Ok(0)
            }
            Err(error) => {
                eprintln!("credwatch: {error}");
                Ok(1)
            }
        }
    }
}

/// One line: from the terminal without echo, else from stdin (a pipe, a test).
fn read_password(prompt: &str) -> anyhow::Result<Secret> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let saved = if terminal {
        let saved = tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
        Some(saved)
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = saved {
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
        eprintln!();
    }
    read?;
    let password = Secret::new(line.trim_end_matches(['\n', '\r']));
    line.clear();
    Ok(password)
}
