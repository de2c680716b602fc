//! Types that hold secret material and refuse to show it.
//!
//! Guarantees: `Debug` and `Display` of [`Secret`] and [`Document`] print a fixed placeholder, so a
//! stray `{:?}` in a log line or an error cannot leak a token. Values are dropped as soon as the
//! check that needed them is done; nothing in this crate serialises them.

use std::fmt;

const REDACTED: &str = "[redacted]";

/// A secret string (a token, a password). Only [`Secret::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: call only where a check needs the value, and drop it right after.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A parsed credential file. It holds tokens, so it redacts itself like [`Secret`].
pub struct Document {
    value: serde_json::Value,
    /// Environment variables the file's values were taken from (npm's `${NPM_TOKEN}`), each
    /// with whether it was set: names only, never a value.
    env: Vec<(String, bool)>,
}

impl Document {
    pub fn new(value: serde_json::Value) -> Self {
        Document {
            value,
            env: Vec::new(),
        }
    }

    /// A document whose values were taken in part from these environment variables.
    pub fn with_env(value: serde_json::Value, env: Vec<(String, bool)>) -> Self {
        Document { value, env }
    }

    pub fn root(&self) -> &serde_json::Value {
        &self.value
    }

    /// The environment variables its values came from, and whether each was set.
    pub fn env(&self) -> &[(String, bool)] {
        &self.env
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_format() {
        let secret = Secret::new("sk-ant-canary");
        let doc = Document::new(serde_json::json!({"token": "sk-ant-canary"}));
        let shown = format!("{secret} {secret:?} {doc:?} {:?}", Some(&secret));
        assert!(!shown.contains("canary"), "{shown}");
        assert_eq!(secret.expose(), "sk-ant-canary");
    }
}
