//! The environment as a store: variables that take precedence over a stored login (their names
//! only; a value is never read beyond telling whether it is set).

use crate::define::config::Definition;
use crate::support::environ;

/// Names of the definition's environment variables that are set in this process and so take
/// precedence over the stored login.
pub fn shadowing_env(definition: &Definition) -> Vec<String> {
    definition
        .env
        .iter()
        .filter(|name| environ::var_os(name).is_some_and(|v| is_set(&v)))
        .cloned()
        .collect()
}

/// The values that leave a variable off, in any case (`CLAUDE_CODE_USE_BEDROCK=0` does not switch
/// Claude Code to Bedrock). The shell hooks are given this list when they are rendered.
pub const OFF_VALUES: [&str; 4] = ["0", "false", "no", "off"];

/// Whether an environment value turns something on: set, non-empty, and not one of
/// [`OFF_VALUES`].
pub fn is_set(value: &std::ffi::OsStr) -> bool {
    let text = value.to_string_lossy();
    let text = text.trim();
    !text.is_empty() && !OFF_VALUES.iter().any(|f| text.eq_ignore_ascii_case(f))
}
