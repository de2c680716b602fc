//! Writing to the terminal: colour only where wanted, a closed pipe is not an error, and text
//! from outside is made inert before it is shown ([`inert`]).

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

/// Text from outside (file content, names, paths, environment values, config text) made safe to
/// show: every control character (C0, DEL, C1), the Unicode line and paragraph separators and the
/// bidirectional overrides become visible escapes (`\x1b`, `\n`, `\u{202e}`), so nothing can
/// move the cursor, set the clipboard (OSC 52), ring the bell or fake a row.
pub fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    fn dangerous(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(dangerous) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if dangerous(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if dangerous(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`inert`] in place: the text is copied only when something in it needs escaping.
pub fn make_inert(text: &mut String) {
    if let std::borrow::Cow::Owned(escaped) = inert(text) {
        *text = escaped;
    }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(inert("plain ~/.claude"), "plain ~/.claude");
        assert_eq!(
            inert("a\x1b]52;c;ZXZpbA==\x07b\nfake row\u{202e}"),
            "a\\x1b]52;c;ZXZpbA==\\x07b\\nfake row\\u{202e}"
        );
        assert_eq!(inert("\u{9b}31m"), "\\x9b31m", "C1 CSI too");
    }
}
