//! Writing to the terminal: colour only where wanted, and a closed pipe is not an error.

use std::io::{IsTerminal, Write};

/// Colour when stdout is a terminal and `NO_COLOR` is unset or empty (no-color.org).
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

pub fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Prints all of `text` at once; returns false only when stdout is gone (e.g. `| head`).
pub fn print(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_ok()
}
