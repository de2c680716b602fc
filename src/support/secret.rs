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

/// An environment variable a document's view depends on: names only, never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvRef {
    pub name: String,
    pub set: bool,
    /// It chooses which login of the file is in use (`AWS_PROFILE`), rather than supplying the
    /// login itself (npm's `${NPM_TOKEN}`, where an unset one means no token).
    pub selects: bool,
}

impl EnvRef {
    pub fn supplies(name: impl Into<String>, set: bool) -> Self {
        EnvRef {
            name: name.into(),
            set,
            selects: false,
        }
    }

    pub fn selects(name: impl Into<String>, set: bool) -> Self {
        EnvRef {
            name: name.into(),
            set,
            selects: true,
        }
    }
}

/// A parsed credential file. It holds tokens, so it redacts itself like [`Secret`].
pub struct Document {
    value: serde_json::Value,
    /// Environment variables the file's view depends on.
    env: Vec<EnvRef>,
}

impl Document {
    pub fn new(value: serde_json::Value) -> Self {
        Document {
            value,
            env: Vec::new(),
        }
    }

    /// A document whose view depends on these environment variables.
    pub fn with_env(value: serde_json::Value, env: Vec<EnvRef>) -> Self {
        Document { value, env }
    }

    pub fn root(&self) -> &serde_json::Value {
        &self.value
    }

    /// The environment variables its view depends on.
    pub fn env(&self) -> &[EnvRef] {
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
