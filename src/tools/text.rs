//! The text formats: JSON, YAML, TOML, INI (as npm, AWS and git write it) and netrc, each into
//! JSON-like values (INI sections and netrc machines become objects).

use super::{line_column, ParseProblem};
use serde_json::{Map, Value};

/// How deep brackets may nest in a file of logins. The tools' own files nest a handful of
/// levels; parsers' time can grow with the square of the depth (libyaml's flow levels), so
/// deeper is refused before parsing.
pub(super) const MAX_NESTING: usize = 64;

pub(super) fn json(text: &str) -> Result<Value, ParseProblem> {
    serde_json::from_str(text).map_err(|e| {
        let at = format!("line {}, column {}", e.line(), e.column());
        ParseProblem(match e.classify() {
            serde_json::error::Category::Eof => format!("truncated JSON: it ends early at {at}"),
            // serde_json's own guard (128 levels); its message quotes no content.
            _ if e.to_string().starts_with("recursion limit exceeded") => {
                format!("nested too deep (more than 128 levels) at {at}: no tool writes a login like this")
            }
            _ => format!("not valid JSON at {at}"),
        })
    })
}

/// Refuses text whose `[` `{` brackets (outside quoted strings and comments) nest deeper than
/// [`MAX_NESTING`], in one linear pass. Quoting follows YAML and TOML closely enough for this:
/// a quote opens a string only where a value can start (after a blank, a bracket, `,`, `:` or `=`,
/// or at a line's start); `#` after a blank or at a line's start opens a comment.
pub(super) fn within_nesting(text: &str, format: &str) -> Result<(), ParseProblem> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Single,
        Double,
        Comment,
    }
    let bytes = text.as_bytes();
    let yaml = format == "YAML";
    let mut state = In::Code;
    let mut depth = 0usize;
    let mut previous = b'\n';
    // YAML's compact block sequences nest on one line: `- - - 0`.
    let mut line_start = true;
    let mut dashes = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if yaml && state == In::Code && line_start {
            match byte {
                b' ' => {}
                b'-' if matches!(bytes.get(i + 1), Some(b' ' | b'\n') | None) => {
                    dashes += 1;
                    if dashes > MAX_NESTING {
                        let (line, column) = line_column(text, i);
                        return Err(ParseProblem(format!(
                            "not valid {format}: nested more than {MAX_NESTING} levels deep at line {line}, column {column} (no tool writes a login like this)"
                        )));
                    }
                }
                _ => line_start = false,
            }
        }
        match state {
            In::Code => match byte {
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        let (line, column) = line_column(text, i);
                        return Err(ParseProblem(format!(
                            "not valid {format}: nested more than {MAX_NESTING} levels deep at line {line}, column {column} (no tool writes a login like this)"
                        )));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b'\'' | b'"' if b" \t\n\r[{,:=".contains(&previous) => {
                    state = if byte == b'"' { In::Double } else { In::Single };
                }
                b'#' if b" \t\n\r".contains(&previous) => state = In::Comment,
                _ => {}
            },
            In::Single if byte == b'\'' => state = In::Code,
            In::Double if byte == b'\\' => i += 1,
            In::Double if byte == b'"' => state = In::Code,
            In::Comment if byte == b'\n' => state = In::Code,
            _ => {}
        }
        if byte == b'\n' && state == In::Code {
            line_start = true;
            dashes = 0;
        }
        previous = byte;
        i += 1;
    }
    Ok(())
}

pub(super) fn yaml(text: &str) -> Result<Value, ParseProblem> {
    within_nesting(text, "YAML")?;
    // An empty YAML document is null, which callers treat as "no fields".
    serde_norway::from_str::<Value>(text).map_err(|e| {
        ParseProblem(match e.location() {
            Some(at) => format!(
                "not valid YAML at line {}, column {}",
                at.line(),
                at.column()
            ),
            None => "not valid YAML".to_string(),
        })
    })
}

pub(super) fn toml(text: &str) -> Result<Value, ParseProblem> {
    within_nesting(text, "TOML")?;
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        ParseProblem(match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("not valid TOML at line {line}, column {column}")
            }
            None => "not valid TOML".to_string(),
        })
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

/// INI as npm, AWS and git write it: `[section]`, `key = value`, `;`/`#` comments. Keys before
/// any section are top-level. Lenient: a line without `=` is a flag set to `true`.
pub(super) fn ini(text: &str) -> Value {
    let mut root = Map::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_string();
            root.entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            section = Some(name);
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Value::String(unquote(v.trim()).to_string())),
            None => (line, Value::Bool(true)),
        };
        let target = match &section {
            Some(name) => match root.get_mut(name) {
                Some(Value::Object(map)) => map,
                _ => continue,
            },
            None => &mut root,
        };
        target.insert(key.to_string(), value);
    }
    Value::Object(root)
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

/// OpenSSH's client configuration (`~/.ssh/config`): each keyword, lower-cased, with the values
/// it is given, in order, whatever `Host` or `Match` block they sit in (`Keyword value` or
/// `Keyword=value`; quotes removed; `%d`, the home directory, and a leading `~` become `~`).
pub(super) fn ssh_config(text: &str) -> Value {
    let mut root: Map<String, Value> = Map::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let split = line
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(line.len());
        let (keyword, rest) = line.split_at(split);
        let value = rest
            .trim_start()
            .strip_prefix('=')
            .unwrap_or(rest)
            .trim()
            .trim_matches('"')
            .replace("%d", "~");
        if let Value::Array(values) = root
            .entry(keyword.to_ascii_lowercase())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value));
        }
    }
    Value::Object(root)
}

/// `.netrc`: `machine HOST login USER password PASS account ACCT`, and `default`, as
/// `{HOST: {login, password, account}}`. `macdef` bodies are skipped; unknown words ignored.
pub(super) fn netrc(text: &str) -> Value {
    let mut root = Map::new();
    let mut current: Option<String> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut words = line.split_whitespace();
        while let Some(word) = words.next() {
            if word.starts_with('#') {
                break;
            }
            match word {
                "machine" => current = words.next().map(str::to_string),
                "default" => current = Some("default".to_string()),
                "login" | "password" | "account" => {
                    if let (Some(host), Some(value)) = (&current, words.next()) {
                        let entry = root
                            .entry(host.clone())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let Value::Object(map) = entry {
                            map.insert(word.to_string(), Value::String(value.to_string()));
                        }
                    }
                }
                "macdef" => {
                    for body in lines.by_ref() {
                        if body.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                _ => {}
            }
        }
        if let Some(host) = &current {
            root.entry(host.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    Value::Object(root)
}

/// `${NAME}` and `${NAME?}` in keys and values replaced by `lookup(NAME)` (nothing when it is
/// unset: npm then sends `${NAME}` itself, or nothing, and neither is a login), as npm does in
/// `.npmrc`; returns the names met, each with whether it was set (names only).
pub(super) fn with_env(
    value: Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (Value, Vec<(String, bool)>) {
    let mut met: Vec<(String, bool)> = Vec::new();
    // Each name looked up once: a set of those met keeps this linear in the references (a list
    // searched for each was quadratic: 1 MiB of distinct ${VARIABLES} took seconds, #25).
    let mut values: std::collections::HashMap<String, Option<String>> =
        std::collections::HashMap::new();
    let mut replace = |text: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let written = &rest[start + 2..start + 2 + len];
            // `${NAME?}`: npm's "empty when unset"; either way no token is sent.
            let name = written.strip_suffix('?').unwrap_or(written);
            out.push_str(&rest[..start]);
            let found = match values.get(name) {
                Some(found) => found,
                None => {
                    let found = lookup(name);
                    met.push((name.to_string(), found.is_some()));
                    values.entry(name.to_string()).or_insert(found)
                }
            };
            out.push_str(found.as_deref().unwrap_or_default());
            rest = &rest[start + 3 + len..];
        }
        out.push_str(rest);
        out
    };
    fn walk(value: Value, replace: &mut dyn FnMut(&str) -> String) -> Value {
        match value {
            Value::String(s) if s.contains("${") => Value::String(replace(&s)),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let k = if k.contains("${") { replace(&k) } else { k };
                        (k, walk(v, replace))
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    let value = walk(value, &mut replace);
    (value, met)
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Format};
    use super::*;

    /// Issue #25 (found by the worst-shape test): each `${NAME}` searched the list of names met
    /// so far, quadratic in distinct names: a 1 MiB `.npmrc` of them took 48 s in a debug build.
    #[test]
    fn npmrc_variables_are_not_quadratic() {
        let text: String = (0..80_000).map(|i| format!("k{i}=${{V{i}}}\n")).collect();
        let parsed = ini(&text);
        let started = std::time::Instant::now();
        let (_, met) = with_env(parsed, &|_| None);
        let took = started.elapsed();
        assert_eq!(met.len(), 80_000);
        assert!(took.as_secs() < 5, "{took:?} for 80,000 variables");
    }

    #[test]
    fn npm_variables_are_replaced_and_an_unset_one_gives_nothing() {
        let parsed = ini("//r/:_authToken=${NPM_TOKEN?}\n//${HOST}/:x=a${SET}b\n");
        let (value, mut met) = with_env(parsed, &|name| {
            (name != "NPM_TOKEN").then(|| format!("<{name}>"))
        });
        assert_eq!(value["//r/:_authToken"], "");
        assert_eq!(value["//<HOST>/:x"], "a<SET>b");
        met.sort();
        assert_eq!(
            met,
            vec![
                ("HOST".to_string(), true),
                ("NPM_TOKEN".to_string(), false),
                ("SET".to_string(), true)
            ]
        );
        let (value, _) = with_env(ini("k=${UNCLOSED\n"), &|_| None);
        assert_eq!(
            value["k"], "${UNCLOSED",
            "an unclosed reference is kept as it is"
        );
    }
    use serde_json::json;

    const CANARY: &str = "sk-canary-7f3a";

    fn problem(format: Format, text: &str) -> String {
        parse(format, text.as_bytes()).unwrap_err().0
    }

    #[test]
    fn problems_never_quote_content() {
        let cases = [
            (Format::Json, format!("{{\"token\": \"{CANARY}\"")),
            (Format::Json, format!("{{\"token\": {CANARY}}}")),
            (Format::Yaml, format!("token: \"{CANARY}\n  : - ]")),
            (Format::Yaml, format!("{CANARY}: [\n")),
            (Format::Toml, format!("token = {CANARY}")),
            (Format::Toml, format!("{CANARY} = \"x\"\n{CANARY} = \"y\"")),
        ];
        for (format, text) in cases {
            let message = problem(format, &text);
            assert!(!message.contains("canary"), "{format}: {message}");
            assert!(message.contains("line"), "{format}: {message}");
        }
    }

    #[test]
    fn nesting_deeper_than_any_login_is_refused_before_parsing_and_quotes_count_right() {
        let deep = format!("t: {}0{}", "[".repeat(65), "]".repeat(65));
        let message = problem(Format::Yaml, &deep);
        assert!(
            message.contains("nested more than 64 levels deep at line 1, column 68"),
            "{message}"
        );
        let message = problem(Format::Yaml, &format!("t:\n{}0\n", "- ".repeat(65)));
        assert!(
            message.contains("nested more than 64 levels deep at line 2"),
            "{message}"
        );
        assert!(parse(Format::Yaml, b"t:\n- - - 0\n- x\n-\n  - y\n").is_ok());
        let message = problem(
            Format::Toml,
            &format!("t = {}0{}", "{a = ".repeat(65), "}".repeat(65)),
        );
        assert!(message.contains("nested more than 64"), "{message}");
        let message = problem(
            Format::Json,
            &format!("{}0{}", "[".repeat(200), "]".repeat(200)),
        );
        assert!(message.contains("nested too deep"), "{message}");
        // Brackets inside strings and comments, and a plain scalar's apostrophe, are no nesting.
        let brackets = "[".repeat(100);
        let fine = format!(
            "a: '{brackets}'\nb: \"{brackets}\\\"{brackets}\"\nc: don't [x]\n# {brackets}\nd: [[1]]\n"
        );
        assert!(parse(Format::Yaml, fine.as_bytes()).is_ok(), "{fine}");
        let fine = format!("a = '{brackets}'\nb = \"{brackets}\"\n# {brackets}\nc = [[1]]\n");
        assert!(parse(Format::Toml, fine.as_bytes()).is_ok());
    }

    #[test]
    fn truncated_json_is_named() {
        assert_eq!(
            problem(Format::Json, "{\"a\": {\"b\""),
            "truncated JSON: it ends early at line 1, column 10"
        );
    }

    #[test]
    fn binary_is_not_text() {
        let message = parse(Format::Json, &[b'{', 0xff, 0xfe, 0]).unwrap_err().0;
        assert_eq!(message, "not text: binary or non-UTF-8 data at byte 1");
    }

    #[test]
    fn ini_npmrc_and_aws() {
        let doc = parse(
            Format::Ini,
            b"; npm\n//registry.npmjs.org/:_authToken=abc\nflag\n[profile x]\nregion = \"eu\"\n",
        )
        .unwrap();
        assert_eq!(
            doc.root(),
            &json!({"//registry.npmjs.org/:_authToken": "abc", "flag": true, "profile x": {"region": "eu"}})
        );
    }

    #[test]
    fn netrc_entries_and_macdef() {
        let doc = parse(
            Format::Netrc,
            b"machine a.example login u password p\nmacdef init\ncd /\n\ndefault login anonymous\n",
        )
        .unwrap();
        assert_eq!(
            doc.root(),
            &json!({"a.example": {"login": "u", "password": "p"}, "default": {"login": "anonymous"}})
        );
    }

    #[test]
    fn toml_datetimes_become_strings() {
        let doc = parse(Format::Toml, b"[auth]\nexpires = 2026-11-25T08:00:00Z\n").unwrap();
        assert_eq!(
            doc.root(),
            &json!({"auth": {"expires": "2026-11-25T08:00:00Z"}})
        );
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 10), (1, 1));
    }
}
