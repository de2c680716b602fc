//! Where things are: expansion of `~` and `$VAR` in store paths, and credwatch's own files.
//!
//! Guarantees: expansion works on raw bytes (a non-UTF-8 `$HOME` or `$CLAUDE_CONFIG_DIR` stays
//! exact), never panics, and says which variable was missing instead of guessing a path.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// The user's home: `$HOME`, else the password database.
pub fn home_dir() -> Option<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ => directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf()),
    }
}

/// `$CREDWATCH_CONFIG`, else `$XDG_CONFIG_HOME/credwatch/config.toml` (else `~/.config/…`).
pub fn config_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CREDWATCH_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|dir| dir.join("credwatch").join("config.toml"))
}

fn xdg_dir(variable: &str, fallback_under_home: &str) -> Option<PathBuf> {
    match std::env::var_os(variable).map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => Some(dir),
        _ => home_dir().map(|home| home.join(fallback_under_home)),
    }
}

/// Why a path spec did not expand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unexpanded {
    VariableUnset(String),
    NoHome,
    Malformed(String),
}

impl std::fmt::Display for Unexpanded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unexpanded::VariableUnset(name) => write!(f, "${name} is not set"),
            Unexpanded::NoHome => f.write_str("the home directory is unknown ($HOME is not set)"),
            Unexpanded::Malformed(why) => f.write_str(why),
        }
    }
}

/// Expands `~`, `$VAR`, `${VAR}` and `${VAR:-default}` (the default expanded in turn), then splits
/// a `:`-separated list as `$KUBECONFIG` holds one. An empty variable counts as unset.
pub fn expand(spec: &str) -> Result<Vec<PathBuf>, Unexpanded> {
    expand_with(spec, &variable, &home_dir)
}

/// `spec` expanded as one value, not split at `:` (a Kerberos cache name, `FILE:/tmp/krb5cc_1`).
pub fn expand_one(spec: &str) -> Result<OsString, Unexpanded> {
    expand_variables(spec, &variable, &home_dir).map(OsString::from_vec)
}

/// An environment variable; `UID`, which shells set but do not export, is the effective uid
/// when unset (`/tmp/krb5cc_${UID}` is libkrb5's default cache).
fn variable(name: &str) -> Option<OsString> {
    super::environ::var_os(name)
        .or_else(|| (name == "UID").then(|| OsString::from(nix::unistd::geteuid().to_string())))
}

/// The names of the variables a path spec refers to (`$A`, `${B}`, `${C:-$D}`: A, B, C, D), in
/// order, each once.
pub fn variables_in(spec: &str) -> Vec<&str> {
    let bytes = spec.as_bytes();
    let mut names: Vec<&str> = Vec::new();
    for (i, _) in spec.match_indices('$') {
        let start = i + 1 + usize::from(bytes.get(i + 1) == Some(&b'{'));
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let name = &spec[start..start + len];
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Whether a path spec is a glob (`*`, `?`, `[` in its own text, not in a variable's value).
pub fn has_glob(spec: &str) -> bool {
    spec.contains(['*', '?', '['])
}

/// Like [`expand`]; for a glob spec, the values put in (home, variables) are escaped so that a
/// `[` or `*` in them matches itself. Values stay bytes: a non-UTF-8 `$HOME` is exact (see
/// [`glob`]).
pub fn expand_for_glob(spec: &str, glob: bool) -> Result<Vec<PathBuf>, Unexpanded> {
    if !glob {
        return expand(spec);
    }
    let lookup = |name: &str| variable(name).map(|v| glob_escaped(&v));
    let home = || home_dir().map(|h| PathBuf::from(glob_escaped(h.as_os_str())));
    expand_with(spec, &lookup, &home)
}

/// `value` with `*`, `?`, `[` and `]` made to match themselves in a glob (`[*]`), byte for byte.
fn glob_escaped(value: &OsStr) -> OsString {
    let mut out = Vec::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if b"*?[]".contains(&byte) {
            out.extend_from_slice(&[b'[', byte, b']']);
        } else {
            out.push(byte);
        }
    }
    OsString::from_vec(out)
}

/// One component of a glob pattern: without `*`, `?` or `[`, taken as it is, byte for byte;
/// else matched against a name as `glob` would (dot files included), a name or a pattern that is
/// not UTF-8 compared with its undecodable bytes replaced.
enum GlobComponent {
    Literal(Vec<u8>),
    /// `None`: not a valid pattern, matching nothing.
    Pattern(Option<glob::Pattern>),
}

impl GlobComponent {
    fn new(bytes: &[u8]) -> Self {
        if bytes.iter().any(|b| b"*?[".contains(b)) {
            GlobComponent::Pattern(glob::Pattern::new(&String::from_utf8_lossy(bytes)).ok())
        } else {
            GlobComponent::Literal(bytes.to_vec())
        }
    }

    fn matches(&self, name: &OsStr) -> bool {
        match self {
            GlobComponent::Literal(bytes) => bytes == name.as_bytes(),
            GlobComponent::Pattern(pattern) => pattern.as_ref().is_some_and(|p| {
                p.matches_with(&name.to_string_lossy(), glob::MatchOptions::new())
            }),
        }
    }
}

/// The paths that match a glob pattern made by [`expand_for_glob`], at most `limit` of them
/// (each component matched as [`GlobComponent`] says): a non-UTF-8 home or file name is found,
/// where the `glob` crate skips it.
pub fn glob(pattern: &std::path::Path, limit: usize) -> Vec<PathBuf> {
    let bytes = pattern.as_os_str().as_bytes();
    let mut current: Vec<PathBuf> = vec![if bytes.first() == Some(&b'/') {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    }];
    let components: Vec<&[u8]> = bytes
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for (n, component) in components.iter().enumerate() {
        let last = n + 1 == components.len();
        let mut next = Vec::new();
        match GlobComponent::new(component) {
            GlobComponent::Literal(_) => {
                for dir in current {
                    let path = dir.join(OsStr::from_bytes(component));
                    if last || path.is_dir() {
                        next.push(path);
                    }
                }
            }
            GlobComponent::Pattern(None) => return Vec::new(),
            matcher => {
                for dir in current {
                    let Ok(entries) = std::fs::read_dir(&dir) else {
                        continue;
                    };
                    for entry in entries.flatten() {
                        let name = entry.file_name();
                        if matcher.matches(&name) {
                            let path = dir.join(&name);
                            if last || path.is_dir() {
                                next.push(path);
                            }
                            if next.len() >= limit {
                                break;
                            }
                        }
                    }
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current.retain(|path| path.symlink_metadata().is_ok());
    current.truncate(limit);
    current
}

/// A glob pattern (made by [`expand_for_glob`]) compiled once, to tell quickly whether a path
/// is a match or a directory on the way to one.
pub struct GlobPrefix {
    components: Vec<GlobComponent>,
}

impl GlobPrefix {
    pub fn new(pattern: &std::path::Path) -> Self {
        GlobPrefix {
            components: pattern
                .components()
                .map(|c| GlobComponent::new(c.as_os_str().as_bytes()))
                .collect(),
        }
    }

    /// How many components the pattern has.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// Whether `path` is a match or a directory on the way to one: its components, as many as
    /// it has, each match the pattern's.
    pub fn matches_prefix(&self, path: &std::path::Path) -> bool {
        let mut wanted = self.components.iter();
        path.components().all(|have| {
            wanted
                .next()
                .is_some_and(|want| want.matches(have.as_os_str()))
        })
    }
}

pub fn expand_with(
    spec: &str,
    lookup: &dyn Fn(&str) -> Option<OsString>,
    home: &dyn Fn() -> Option<PathBuf>,
) -> Result<Vec<PathBuf>, Unexpanded> {
    let expanded = expand_variables(spec, lookup, home)?;
    Ok(expanded
        .split(|b| *b == b':')
        .filter(|part| !part.is_empty())
        .map(|part| PathBuf::from(OsString::from_vec(part.to_vec())))
        .collect())
}

fn expand_variables(
    spec: &str,
    lookup: &dyn Fn(&str) -> Option<OsString>,
    home: &dyn Fn() -> Option<PathBuf>,
) -> Result<Vec<u8>, Unexpanded> {
    let mut out: Vec<u8> = Vec::with_capacity(spec.len());
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'{') {
            let close = matching_brace(bytes, i + 1).ok_or_else(|| {
                Unexpanded::Malformed(format!("\"{spec}\": \"${{\" without a closing \"}}\""))
            })?;
            let inner = &spec[i + 2..close];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            check_name(name, spec)?;
            match (lookup(name).filter(|v| !v.is_empty()), default) {
                (Some(value), _) => out.extend_from_slice(value.as_bytes()),
                (None, Some(default)) => {
                    out.extend(expand_variables(default, lookup, home)?);
                }
                (None, None) => return Err(Unexpanded::VariableUnset(name.to_string())),
            }
            i = close + 1;
        } else {
            let len = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if len == 0 {
                out.push(b'$');
                i += 1;
                continue;
            }
            let name = &spec[i + 1..i + 1 + len];
            let value = lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Unexpanded::VariableUnset(name.to_string()))?;
            out.extend_from_slice(value.as_bytes());
            i += 1 + len;
        }
    }
    if out.first() == Some(&b'~') && matches!(out.get(1), None | Some(b'/')) {
        let home = home().ok_or(Unexpanded::NoHome)?;
        let mut with_home = home.into_os_string().into_vec();
        with_home.extend_from_slice(&out[1..]);
        out = with_home;
    }
    Ok(out)
}

fn check_name(name: &str, spec: &str) -> Result<(), Unexpanded> {
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Unexpanded::Malformed(format!(
            "\"{spec}\": \"{name}\" is not a variable name"
        )))
    }
}

fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A path for people and JSON: lossy only where the bytes are not UTF-8.
pub fn display(path: &std::path::Path) -> String {
    let mut shown = OsStr::new(path).to_string_lossy().into_owned();
    crate::support::output::make_inert(&mut shown);
    shown
}

/// A path for people: `~/…` under `home`, else as [`display`] shows it.
pub fn display_short(path: &std::path::Path, home: Option<&std::path::Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) if home.is_some_and(|h| h != std::path::Path::new("/")) => {
            format!("~/{}", display(rest))
        }
        _ => display(path),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_glob_prefix_matches_the_directories_on_the_way_component_by_component() {
        let pattern = GlobPrefix::new(std::path::Path::new("/h/.tsh/keys/*/*-ssh/*-cert.pub"));
        for on_the_way in [
            "/h",
            "/h/.tsh/keys",
            "/h/.tsh/keys/proxy",
            "/h/.tsh/keys/p/alice-ssh",
        ] {
            assert!(
                pattern.matches_prefix(std::path::Path::new(on_the_way)),
                "{on_the_way}"
            );
        }
        assert!(pattern.matches_prefix(std::path::Path::new(
            "/h/.tsh/keys/p/alice-ssh/root-cert.pub"
        )));
        for elsewhere in [
            "/h/.ssh",
            "/h/.tsh/keys/p/alice",
            "/h/.tsh/keys/p/a-ssh/x.pub",
            "/h/.tsh/keys/p/a-ssh/x-cert.pub/more",
        ] {
            assert!(
                !pattern.matches_prefix(std::path::Path::new(elsewhere)),
                "{elsewhere}"
            );
        }
    }

    use super::*;

    fn expand_in(spec: &str, vars: &[(&str, &[u8])]) -> Result<Vec<PathBuf>, Unexpanded> {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from_vec(v.to_vec())))
            .collect();
        expand_with(
            spec,
            &|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            &|| Some(PathBuf::from("/home/u")),
        )
    }

    #[test]
    fn tilde_variables_and_defaults() {
        let one = |p: &str| Ok(vec![PathBuf::from(p)]);
        assert_eq!(
            expand_in("~/.vault-token", &[]),
            one("/home/u/.vault-token")
        );
        assert_eq!(
            expand_in("${CLAUDE_CONFIG_DIR:-~/.claude}/.credentials.json", &[]),
            one("/home/u/.claude/.credentials.json")
        );
        assert_eq!(
            expand_in(
                "${CLAUDE_CONFIG_DIR:-~/.claude}/.credentials.json",
                &[("CLAUDE_CONFIG_DIR", b"/srv/c")]
            ),
            one("/srv/c/.credentials.json")
        );
        assert_eq!(expand_in("${A:-${B:-~/x}}/y", &[("B", b"/b")]), one("/b/y"));
        assert_eq!(
            expand_in("$GH_CONFIG_DIR/hosts.yml", &[]),
            Err(Unexpanded::VariableUnset("GH_CONFIG_DIR".into()))
        );
        assert_eq!(expand_in("~user/x", &[]), one("~user/x"));
    }

    #[test]
    fn lists_and_raw_bytes() {
        assert_eq!(
            expand_in(
                "${KUBECONFIG:-~/.kube/config}",
                &[("KUBECONFIG", b"/a:/b::")]
            ),
            Ok(vec![PathBuf::from("/a"), PathBuf::from("/b")])
        );
        let raw = expand_in("$D/f", &[("D", b"/t/\xff")]).unwrap();
        assert_eq!(raw[0].as_os_str().as_bytes(), b"/t/\xff/f");
    }

    #[test]
    fn globs_find_non_utf8_homes_and_names_and_take_brackets_in_values_literally() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join(OsStr::from_bytes(b"h\xff[1]"));
        let cache = home.join(".aws/sso/cache");
        std::fs::create_dir_all(&cache).unwrap();
        for name in [&b"tok\xfe.json"[..], b"a.json", b"b.txt", b".hidden.json"] {
            std::fs::write(cache.join(OsStr::from_bytes(name)), "{}").unwrap();
        }
        let pattern = expand_with("~/.aws/sso/cache/*.json", &|_| None, &|| {
            Some(PathBuf::from(glob_escaped(home.as_os_str())))
        })
        .unwrap();
        let mut found: Vec<Vec<u8>> = glob(&pattern[0], 100)
            .into_iter()
            .map(|p| p.file_name().unwrap().as_bytes().to_vec())
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                b".hidden.json".to_vec(),
                b"a.json".to_vec(),
                b"tok\xfe.json".to_vec()
            ]
        );
        assert_eq!(glob(&pattern[0], 2).len(), 2, "at most the limit");
        assert!(glob(&cache.join("*.none"), 10).is_empty());
    }

    #[test]
    fn malformed_specs() {
        assert!(matches!(
            expand_in("${A", &[]),
            Err(Unexpanded::Malformed(_))
        ));
        assert!(matches!(
            expand_in("${A B}", &[]),
            Err(Unexpanded::Malformed(_))
        ));
        assert_eq!(expand_in("a$", &[]), Ok(vec![PathBuf::from("a$")]));
    }
}
