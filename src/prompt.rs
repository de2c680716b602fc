//! The prompt file: what shells read, with builtins only, at every prompt.
//!
//! Format (one credential state per file, UTF-8, newline-terminated lines):
//! - line 1: `PID VALID_UNTIL MESSAGE`: the writer's pid (0 for a one-off direct check), the
//!   epoch second until which the content holds with nothing changing (0: no deadline), and the
//!   prompt segment, empty when every credential is usable;
//! - then one line per command mapped to a broken credential: `COMMAND<TAB>WARNING`.
//!
//! Guarantees: no field holds a tab or newline (they are replaced), and the steady state (all
//! well) is a single short line, so a hook's read costs microseconds.

use crate::report::CredentialReport;
use crate::state::Group;
use crate::timefmt::Timestamp;

/// The file the daemon keeps; `credwatch prompt --cache` writes [`DIRECT_FILE`] instead.
pub const DAEMON_FILE: &str = "prompt";
pub const DIRECT_FILE: &str = "prompt.direct";

/// A credential as the prompt sees it: its report and the commands that use it.
pub struct PromptItem<'a> {
    pub report: &'a CredentialReport,
    pub commands: &'a [String],
}

fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .is_some_and(|locale| {
            let upper = locale.to_ascii_uppercase();
            upper.contains("UTF-8") || upper.contains("UTF8")
        })
}

/// The prompt segment: `format` with `{names}`, `{count}`, `{worst}`; empty when all is well.
pub fn segment(format: &str, items: &[PromptItem<'_>]) -> String {
    let broken: Vec<&PromptItem<'_>> = items
        .iter()
        .filter(|i| i.report.state.group() == Group::Broken)
        .collect();
    if broken.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = broken.iter().map(|i| i.report.name.as_str()).collect();
    let text = format
        .replace("{names}", &names.join(","))
        .replace("{count}", &broken.len().to_string())
        .replace("{worst}", broken[0].report.state.as_str());
    let text = if utf8_locale() {
        text
    } else {
        text.replace('⚠', "!")
    };
    clean(&text)
}

/// The one line printed before a command that uses a broken credential.
pub fn warning(report: &CredentialReport) -> String {
    let fix = report
        .fix
        .as_deref()
        .map(|fix| format!(" — run: {fix}"))
        .unwrap_or_default();
    clean(&format!(
        "credwatch: {}: {}{fix}",
        report.tool, report.reason
    ))
}

/// The whole file content.
pub fn file_content(
    format: &str,
    items: &[PromptItem<'_>],
    pid: u32,
    valid_until: Option<Timestamp>,
) -> String {
    let mut out = format!(
        "{pid} {} {}\n",
        valid_until.map_or(0, |t| t.millis().div_euclid(1000).max(1)),
        segment(format, items)
    );
    for item in items
        .iter()
        .filter(|i| i.report.state.group() == Group::Broken)
    {
        let text = warning(item.report);
        for command in item.commands {
            out.push_str(&format!("{}\t{text}\n", clean(command)));
        }
    }
    out
}
