//! Field paths into parsed credential files: JSON Pointer (RFC 6901) with `*` wildcards.
//!
//! `/claudeAiOauth/expiresAt` names one field; `/users/*/user/token` every user's token;
//! `/*:_authToken` every key ending in `:_authToken`. `~1` stands for `/` and `~0` for `~` inside a
//! key. The empty path names the whole document. Resolution never fails: absent fields give no match.

use serde_json::Value;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct DocPath {
    text: String,
    segments: Vec<Segment>,
}

/// Written as its text (`"/users/*/token"`), and parsed again when read back.
impl serde::Serialize for DocPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for DocPath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DocPath::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Pattern(String),
}

impl DocPath {
    /// Parses a path; the error says how to write one.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(DocPath {
                text: String::new(),
                segments: Vec::new(),
            });
        }
        let Some(body) = text.strip_prefix('/') else {
            return Err(format!(
                "field path \"{text}\" must start with \"/\" (e.g. \"/access_token\"), or be \"\" for the whole file"
            ));
        };
        let mut segments = Vec::new();
        for raw in body.split('/') {
            if raw.contains('~') && !valid_escapes(raw) {
                return Err(format!(
                    "field path \"{text}\": \"~\" must be followed by 0 (for ~) or 1 (for /)"
                ));
            }
            let key = if raw.contains('~') {
                raw.replace("~1", "/").replace("~0", "~")
            } else {
                raw.to_string()
            };
            segments.push(if key.contains('*') {
                Segment::Pattern(key)
            } else {
                Segment::Key(key)
            });
        }
        Ok(DocPath {
            text: text.to_string(),
            segments,
        })
    }

    /// How many segments hold a `*`.
    pub fn wildcards(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Pattern(_)))
            .count()
    }

    /// Every value this path reaches, with the keys its wildcard segments matched, in order.
    pub fn resolve_with_keys<'a>(&self, root: &'a Value) -> Vec<(Vec<String>, &'a Value)> {
        let mut current: Vec<(Vec<String>, &'a Value)> = vec![(Vec::new(), root)];
        for segment in &self.segments {
            let mut next = Vec::new();
            for (keys, value) in current {
                match (segment, value) {
                    (Segment::Key(key), Value::Object(map)) => {
                        next.extend(map.get(key).map(|v| (keys.clone(), v)))
                    }
                    (Segment::Key(key), Value::Array(items)) => next.extend(
                        key.parse::<usize>()
                            .ok()
                            .and_then(|i| items.get(i))
                            .map(|v| (keys.clone(), v)),
                    ),
                    (Segment::Pattern(pattern), Value::Object(map)) => {
                        for (k, v) in map.iter().filter(|(k, _)| wildcard_match(pattern, k)) {
                            let mut keys = keys.clone();
                            keys.push(k.clone());
                            next.push((keys, v));
                        }
                    }
                    (Segment::Pattern(pattern), Value::Array(items)) if pattern == "*" => {
                        for (i, v) in items.iter().enumerate() {
                            let mut keys = keys.clone();
                            keys.push(i.to_string());
                            next.push((keys, v));
                        }
                    }
                    _ => {}
                }
            }
            current = next;
        }
        current
    }

    /// Every value this path reaches in `root`, in document order.
    pub fn resolve<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![root];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in current {
                match (segment, value) {
                    (Segment::Key(key), Value::Object(map)) => next.extend(map.get(key)),
                    (Segment::Key(key), Value::Array(items)) => {
                        next.extend(key.parse::<usize>().ok().and_then(|i| items.get(i)))
                    }
                    (Segment::Pattern(pattern), Value::Object(map)) => next.extend(
                        map.iter()
                            .filter(|(k, _)| wildcard_match(pattern, k))
                            .map(|(_, v)| v),
                    ),
                    (Segment::Pattern(pattern), Value::Array(items)) if pattern == "*" => {
                        next.extend(items.iter())
                    }
                    _ => {}
                }
            }
            current = next;
        }
        current
    }
}

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.text.is_empty() {
            "(whole file)"
        } else {
            &self.text
        })
    }
}

impl fmt::Debug for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocPath({:?})", self.text)
    }
}

fn valid_escapes(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes
        .iter()
        .enumerate()
        .all(|(i, b)| *b != b'~' || matches!(bytes.get(i + 1), Some(b'0') | Some(b'1')))
}

/// `*` matches any run of characters (including none); everything else matches itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolve(path: &str, doc: &Value) -> Vec<Value> {
        DocPath::parse(path)
            .unwrap()
            .resolve(doc)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn keys_indexes_and_wildcards() {
        let doc = json!({
            "a": {"b": 1},
            "users": [{"user": {"token": "x"}}, {"user": {"exec": {}}}],
            "//registry.npmjs.org/:_authToken": "t",
            "~we/ird": 2
        });
        assert_eq!(resolve("/a/b", &doc), vec![json!(1)]);
        assert_eq!(resolve("/users/1/user/exec", &doc), vec![json!({})]);
        assert_eq!(resolve("/users/*/user/token", &doc), vec![json!("x")]);
        assert_eq!(resolve("/*:_authToken", &doc), vec![json!("t")]);
        assert_eq!(resolve("/~0we~1ird", &doc), vec![json!(2)]);
        assert_eq!(resolve("", &doc).len(), 1);
        assert!(resolve("/a/b/c", &doc).is_empty());
        assert!(resolve("/users/9", &doc).is_empty());
    }

    #[test]
    fn malformed_paths_explain_themselves() {
        assert!(DocPath::parse("access_token")
            .unwrap_err()
            .contains("must start with"));
        assert!(DocPath::parse("/a~2").unwrap_err().contains("~"));
    }

    #[test]
    fn wildcard_edges() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "abc"));
        assert!(wildcard_match("a*b*c", "a-b--c"));
        assert!(!wildcard_match("a*b*c", "acb"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }
}
