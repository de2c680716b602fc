//! Kerberos credential caches (MIT krb5's FILE: format, versions 1 to 4): the default principal
//! and its ticket-granting ticket's times, and where a cache name (`KRB5CCNAME`) keeps its file.
//!
//! Guarantees: every length is checked against what is left (a truncated or hostile file is an
//! error, never a panic or an overflow); the keyblocks and tickets are skipped over, never copied
//! (the only secret bytes here stay in the buffer the caller drops); configuration entries
//! (`X-CACHECONF:`) are not tickets; a cache type that has no file (KEYRING:, KCM:, MEMORY:)
//! is said to be one, never guessed at.

use super::wire::Reader;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Where the cache named `name` (a `KRB5CCNAME` value, or a path) keeps its tickets as a file;
/// an empty name is the default cache, as libkrb5 finds it: `default_ccache_name` in krb5.conf,
/// else `FILE:/tmp/krb5cc_%{uid}`.
pub fn locate(name: &std::ffi::OsStr) -> Result<PathBuf, super::Unlocated> {
    let default;
    let name = if name.is_empty() {
        default = default_cache_name(&config_files()).map_err(|why| super::Unlocated {
            name: "default_ccache_name (krb5.conf)".into(),
            why,
            fix: "set KRB5CCNAME to the cache klist shows".into(),
        })?;
        std::ffi::OsStr::new(&default)
    } else {
        name
    };
    locate_named(name).map_err(|why| super::Unlocated {
        name: name.to_os_string(),
        why,
        fix: "klist shows its tickets; for credwatch to follow them, use a file cache: \
              KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u) kinit"
            .into(),
    })
}

fn locate_named(name: &std::ffi::OsStr) -> Result<PathBuf, String> {
    use std::os::unix::ffi::OsStrExt;
    // Bytes throughout: a name is whatever the environment holds, and every offset is one into
    // these bytes (an offset taken from a lossy UTF-8 copy does not fit them).
    let bytes = name.as_bytes();
    let (kind, rest) = match bytes.iter().position(|&b| b == b':') {
        Some(colon) if !bytes[..colon].contains(&b'/') => {
            (bytes[..colon].to_ascii_uppercase(), &bytes[colon + 1..])
        }
        _ => return Ok(PathBuf::from(name)),
    };
    match kind.as_slice() {
        b"FILE" => Ok(PathBuf::from(std::ffi::OsStr::from_bytes(rest))),
        b"DIR" => {
            // A collection: `primary` names the cache in use (kinit writes it; never created
            // here); without one, libkrb5 uses `tkt`. `DIR::PATH` names one cache of it.
            if let Some(one) = rest.strip_prefix(b":") {
                return Ok(PathBuf::from(std::ffi::OsStr::from_bytes(one)));
            }
            let dir = Path::new(std::ffi::OsStr::from_bytes(rest));
            let primary = std::fs::read_to_string(dir.join("primary"))
                .ok()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty() && !p.contains('/'))
                .unwrap_or_else(|| "tkt".into());
            Ok(dir.join(primary))
        }
        b"KEYRING" | b"KCM" | b"MEMORY" | b"API" | b"MSLSA" => Err(format!(
            "a {}: credential cache keeps its tickets outside any file, where credwatch cannot read them (klist can)",
            String::from_utf8_lossy(&kind)
        )),
        _ => Ok(PathBuf::from(name)),
    }
}

/// A cache kept in the kernel's keyrings (`KEYRING:`), as MIT krb5 keeps it (its
/// `cc_keyring.c`): under an anchor keyring (`persistent`: the user's persistent keyring, which
/// outlives logouts until it is unused for days or the machine restarts; `session`, `user`,
/// or a bare name (legacy, the session keyring): until the user's sessions end), a collection
/// keyring (`_krb`, or `_krb_NAME`) holds cache keyrings and a `krb_ccache:primary` key naming
/// the one in use; a cache keyring holds `__krb5_princ__` (the default principal) and one key
/// per credential, each in the FILE format's version 4 encoding.
///
/// Reads the `KEYRING:` cache `name` names, at most `limit` bytes in all; `None` for a name of
/// another type.
pub fn read_keyring(name: &std::ffi::OsStr, limit: u64) -> Option<Result<super::Unfiled, String>> {
    use crate::support::keyutils;
    use std::os::unix::ffi::OsStrExt;
    let residual = name.as_bytes().strip_prefix(b"KEYRING:")?;
    let residual = String::from_utf8_lossy(residual).into_owned();
    let mut parts = residual.splitn(3, ':');
    let first = parts.next().unwrap_or_default().to_string();
    let (anchor, collection, subsidiary) = match parts.next() {
        None => ("legacy".to_string(), first, None),
        Some(collection) => (
            first,
            collection.to_string(),
            parts.next().map(String::from),
        ),
    };
    let absent = |until_logout| {
        Ok(super::Unfiled {
            bytes: None,
            until_logout,
        })
    };
    let (collection_id, until_logout) = match anchor.as_str() {
        "persistent" => {
            let uid = if collection.is_empty() {
                nix::unistd::geteuid().as_raw()
            } else {
                match collection.parse::<u32>() {
                    Ok(uid) => uid,
                    Err(_) => return Some(Err(format!("{collection:?} is not a user id"))),
                }
            };
            // Only one's own: asking for another user's would create it.
            if uid != nix::unistd::geteuid().as_raw() {
                return Some(Err(format!(
                    "it is the persistent keyring of user {uid}, not yours"
                )));
            }
            let persistent = match keyutils::persistent(uid) {
                Ok(id) => id,
                Err(e) => return Some(Err(format!("the persistent keyring cannot be read ({e})"))),
            };
            match keyutils::search(persistent, "keyring", "_krb") {
                Ok(id) => (id, false),
                Err(_) => return Some(absent(false)),
            }
        }
        "session" | "legacy" | "user" => {
            let anchor_id = if anchor == "user" {
                keyutils::USER_KEYRING
            } else {
                keyutils::SESSION_KEYRING
            };
            match keyutils::search(anchor_id, "keyring", &format!("_krb_{collection}")) {
                Ok(id) => (id, true),
                Err(_) => return Some(absent(true)),
            }
        }
        "process" | "thread" => {
            return Some(Err(format!(
                "a {anchor} keyring cache lives only inside the process that made it"
            )))
        }
        other => {
            return Some(Err(format!(
                "{other:?} is not a keyring anchor MIT krb5 knows"
            )))
        }
    };
    // The cache in use: named, else the collection's primary, else the collection's own name
    // (`tkt` for an empty one), as libkrb5 resolves it.
    let subsidiary = subsidiary.unwrap_or_else(|| {
        keyutils::search(collection_id, "user", "krb_ccache:primary")
            .and_then(|key| keyutils::read(key, 4096))
            .ok()
            .and_then(|payload| {
                let version = u32::from_be_bytes(payload.get(..4)?.try_into().ok()?);
                let len = u32::from_be_bytes(payload.get(4..8)?.try_into().ok()?) as usize;
                (version == 1)
                    .then(|| payload.get(8..8 + len))
                    .flatten()
                    .map(|name| String::from_utf8_lossy(name).into_owned())
            })
            .unwrap_or_else(|| {
                if collection.is_empty() {
                    "tkt".into()
                } else {
                    collection.clone()
                }
            })
    });
    let Ok(cache) = keyutils::search(collection_id, "keyring", &subsidiary) else {
        return Some(absent(until_logout));
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let keys = match keyutils::keys(cache, 4096) {
        Ok(keys) => keys,
        Err(e) => return Some(Err(format!("its keyring cannot be read ({e})"))),
    };
    let mut principal = None;
    let mut credentials = Vec::new();
    let mut total = 0usize;
    for key in keys {
        // A key removed meanwhile (its ticket ended) is skipped, as libkrb5 does.
        let Ok((kind, description)) = keyutils::describe(key) else {
            continue;
        };
        if kind != "user" && kind != "big_key" || description == "__krb5_time_offsets__" {
            continue;
        }
        let Ok(payload) = keyutils::read(key, limit.saturating_sub(total)) else {
            continue;
        };
        total += payload.len();
        if description == "__krb5_princ__" {
            principal = Some(payload);
        } else {
            credentials.push(payload);
        }
    }
    let Some(principal) = principal else {
        return Some(absent(until_logout));
    };
    // The FILE format, version 4, with no header fields: then the principal and credentials
    // in the very encoding the keys hold.
    let mut bytes = vec![5, 4, 0, 0];
    bytes.extend_from_slice(&principal);
    for credential in credentials {
        bytes.extend_from_slice(&credential);
    }
    Some(Ok(super::Unfiled {
        bytes: Some(bytes),
        until_logout,
    }))
}

/// The krb5.conf files libkrb5 reads, in order: `KRB5_CONFIG` (a `:`-separated list), else
/// /etc/krb5.conf.
fn config_files() -> Vec<PathBuf> {
    match crate::support::environ::var_os("KRB5_CONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => vec![PathBuf::from("/etc/krb5.conf")],
    }
}

/// `default_ccache_name` of `[libdefaults]` in the first of `files` that sets it (following
/// `include FILE` and `includedir DIR` where they stand, as libkrb5 does; Fedora sets `KCM:` in
/// /etc/krb5.conf.d/), its `%{uid}`-style tokens expanded; else libkrb5's compiled default. A
/// file or directory writable by another user is not believed (it would choose which cache is
/// judged).
fn default_cache_name(files: &[PathBuf]) -> Result<String, String> {
    let mut budget = CONFIG_FILES_LIMIT;
    for file in files {
        if let Some(value) = setting_in(file, &mut budget, 0)? {
            return expand_tokens(&value);
        }
    }
    expand_tokens("FILE:/tmp/krb5cc_%{uid}")
}

/// At most this many krb5.conf files are read for one lookup (includes loop, or fan out).
const CONFIG_FILES_LIMIT: usize = 64;

/// Whether a krb5.conf file or include directory may be believed: root's or the user's, and
/// not writable by group or others.
fn trusted(path: &Path, metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let euid = nix::unistd::geteuid().as_raw();
    if (metadata.uid() != 0 && metadata.uid() != euid) || metadata.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by another user, so its default_ccache_name is not believed: \
             make it owned by root and not group- or world-writable",
            path.display()
        ));
    }
    Ok(())
}

/// `default_ccache_name` as `file` (and what it includes, in place) sets it, if it does.
fn setting_in(file: &Path, budget: &mut usize, depth: usize) -> Result<Option<String>, String> {
    use crate::support::fsread::{read_bounded, ReadOutcome};
    if *budget == 0 || depth > 8 {
        return Ok(None);
    }
    *budget -= 1;
    let ReadOutcome::Read {
        bytes, metadata, ..
    } = read_bounded(file, 1 << 20)
    else {
        return Ok(None);
    };
    trusted(file, &metadata)?;
    let mut in_libdefaults = false;
    for line in String::from_utf8_lossy(&bytes).lines() {
        let line = line.trim();
        let directive = |name: &str| {
            line.strip_prefix(name)
                .filter(|rest| rest.starts_with(char::is_whitespace))
                .map(str::trim)
        };
        if let Some(included) = directive("include") {
            if let Some(value) = setting_in(Path::new(included), budget, depth + 1)? {
                return Ok(Some(value));
            }
        } else if let Some(dir) = directive("includedir") {
            let dir = Path::new(dir);
            let Ok(metadata) = std::fs::metadata(dir) else {
                continue;
            };
            trusted(dir, &metadata)?;
            // libkrb5 reads names of letters, digits, `-` and `_`, or ending in `.conf`.
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|name| {
                            name.ends_with(".conf")
                                || name
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        })
                })
                .collect();
            names.sort();
            for path in names {
                if let Some(value) = setting_in(&path, budget, depth + 1)? {
                    return Ok(Some(value));
                }
            }
        } else if line.starts_with('[') {
            in_libdefaults = line.starts_with("[libdefaults]");
        } else if let Some(value) = in_libdefaults
            .then(|| line.strip_prefix("default_ccache_name"))
            .flatten()
            .and_then(|rest| rest.trim_start().strip_prefix('='))
        {
            return Ok(Some(value.trim().to_string()));
        }
    }
    Ok(None)
}

/// libkrb5's path tokens: `%{uid}`, `%{euid}`, `%{USERID}`, `%{username}`, `%{TEMP}`, `%{null}`.
fn expand_tokens(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or("default_ccache_name has a %{ without its }")?;
        let token = &rest[start + 2..start + end];
        let euid = nix::unistd::geteuid();
        match token {
            "uid" | "euid" | "USERID" => out.push_str(&euid.to_string()),
            "TEMP" => out.push_str(
                &std::env::var("TMPDIR")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "/tmp".into()),
            ),
            "username" => out.push_str(
                &nix::unistd::User::from_uid(euid)
                    .ok()
                    .flatten()
                    .map(|u| u.name)
                    .ok_or("default_ccache_name uses %{username}, and this user has no name")?,
            ),
            "null" => {}
            other => {
                return Err(format!(
                    "default_ccache_name uses %{{{other}}}, which credwatch does not expand: \
                     set KRB5CCNAME to the cache klist shows"
                ))
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The view of a cache: `{version, principal, tgt, tickets}`, where `tgt` is
/// `{server, authtime, starttime, endtime, renew_till}` (epoch seconds) for the default
/// principal's ticket-granting ticket, or null.
pub fn view(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader::new(bytes, "the credential cache");
    if reader.u8()? != 5 {
        return Err("not a Kerberos credential cache (it does not start with byte 5)".into());
    }
    let version = reader.u8()?;
    match version {
        1 | 2 => reader.big_endian = cfg!(target_endian = "big"),
        3 => {}
        4 => {
            let header_length = reader.u16()? as usize;
            reader.take(header_length)?;
        }
        _ => {
            return Err(format!(
                "a credential cache of version {version}, which credwatch does not know"
            ))
        }
    }
    let default_principal = principal(&mut reader, version)?;
    let realm = default_principal
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let wanted = format!("krbtgt/{realm}@{realm}");
    let mut tgt = Value::Null;
    let mut tickets = 0;
    while !reader.rest.is_empty() {
        let _client = principal(&mut reader, version)?;
        let server = principal(&mut reader, version)?;
        // keyblock: enctype (and a repeated one in v3), then the key: skipped, never copied.
        reader.u16()?;
        if version == 3 {
            reader.u16()?;
        }
        reader.data()?;
        let authtime = reader.u32()?;
        let starttime = reader.u32()?;
        let endtime = reader.u32()?;
        let renew_till = reader.u32()?;
        reader.u8()?; // is_skey
        reader.u32()?; // flags
        for _ in 0..2 {
            // addresses, then authdata: a count of (u16 type, data)
            let count = reader.u32()?;
            for _ in 0..count {
                reader.u16()?;
                reader.data()?;
            }
        }
        reader.data()?; // ticket
        reader.data()?; // second ticket
        if server.contains("@X-CACHECONF:") || server.starts_with("X-CACHECONF:") {
            continue;
        }
        tickets += 1;
        if server == wanted {
            let start = if starttime == 0 { authtime } else { starttime };
            tgt = json!({
                "server": server,
                "authtime": authtime,
                "starttime": start,
                "endtime": endtime,
                "renew_till": (renew_till != 0).then_some(renew_till),
            });
        }
    }
    Ok(
        json!({ "version": version, "principal": default_principal, "tgt": tgt, "tickets": tickets }),
    )
}

/// `name/components@REALM` (v1 has no name type and counts the realm among the components).
fn principal(reader: &mut Reader<'_>, version: u8) -> Result<String, String> {
    if version != 1 {
        reader.u32()?; // name type
    }
    let mut count = reader.u32()? as usize;
    if version == 1 {
        count = count.checked_sub(1).ok_or("a principal without a realm")?;
    }
    let realm = String::from_utf8_lossy(reader.data()?).into_owned();
    let mut components = Vec::new();
    for _ in 0..count {
        components.push(String::from_utf8_lossy(reader.data()?).into_owned());
    }
    Ok(format!("{}@{realm}", components.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }

    fn principal(out: &mut Vec<u8>, realm: &str, components: &[&str]) {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&(components.len() as u32).to_be_bytes());
        data(out, realm.as_bytes());
        for c in components {
            data(out, c.as_bytes());
        }
    }

    /// A v4 cache for alice@R with a config entry and a TGT ending at `end`.
    fn cache(end: u32) -> Vec<u8> {
        let mut out = vec![5, 4, 0, 12, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0];
        principal(&mut out, "R", &["alice"]);
        for (server, realm) in [
            (&["krb5_ccache_conf_data", "pa_type"][..], "X-CACHECONF:"),
            (&["krbtgt", "R"][..], "R"),
        ] {
            principal(&mut out, "R", &["alice"]);
            principal(&mut out, realm, server);
            out.extend_from_slice(&18u16.to_be_bytes());
            data(&mut out, &[0x5e; 32]);
            for t in [100u32, 100, end, end + 300] {
                out.extend_from_slice(&t.to_be_bytes());
            }
            out.push(0);
            out.extend_from_slice(&0u32.to_be_bytes());
            out.extend_from_slice(&0u32.to_be_bytes());
            out.extend_from_slice(&0u32.to_be_bytes());
            data(&mut out, b"ticket");
            data(&mut out, b"");
        }
        out
    }

    #[test]
    fn the_tgt_and_its_times_and_config_entries_skipped() {
        let value = view(&cache(5000)).unwrap();
        assert_eq!(value["principal"], "alice@R");
        assert_eq!(value["tgt"]["server"], "krbtgt/R@R");
        assert_eq!(value["tgt"]["endtime"], 5000);
        assert_eq!(value["tgt"]["renew_till"], 5300);
        assert_eq!(value["tickets"], 1);
    }

    #[test]
    fn damaged_caches_are_errors_never_panics() {
        let whole = cache(5000);
        for cut in 0..whole.len() {
            let _ = view(&whole[..cut]);
        }
        assert!(view(&whole[..whole.len() - 3]).is_err());
        assert!(view(&[5, 9]).unwrap_err().contains("version 9"));
        assert!(view(b"{}").is_err());
        let mut huge = whole.clone();
        huge[20..24].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(view(&huge).is_err());
    }

    /// Issue #25: `KRB5CCNAME=$'\xff\xff\xff:x'` panicked (a byte offset taken from a lossy
    /// UTF-8 copy sliced the raw bytes). Any bytes are a name, judged or refused, never a panic.
    #[test]
    fn non_utf8_krb5ccname_does_not_panic() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(
            locate(OsStr::from_bytes(b"\xff\xff\xff:x")).unwrap(),
            PathBuf::from(OsStr::from_bytes(b"\xff\xff\xff:x"))
        );
        assert_eq!(
            locate(OsStr::from_bytes(b"FILE:/tmp/\xff\xfe")).unwrap(),
            PathBuf::from(OsStr::from_bytes(b"/tmp/\xff\xfe"))
        );
        assert_eq!(
            locate(OsStr::from_bytes(b"file:\xff")).unwrap(),
            PathBuf::from(OsStr::from_bytes(b"\xff"))
        );
        assert!(locate(OsStr::from_bytes(b"KCM:\xff")).is_err());
        for name in [
            &b"\xff:"[..],
            b":",
            b"::",
            b"DIR:",
            b"DIR::",
            b"DIR:\xff\xff",
            b"DIR::\xff",
            b"\xc3:\xa9",
            b"\xe2\x82:x",
            b"\x00:\x01",
            b"\xff\xff\xff:x:y:z",
        ] {
            let _ = locate(OsStr::from_bytes(name));
        }
    }

    #[test]
    fn cache_names_lead_to_files_or_say_they_have_none() {
        use std::ffi::OsStr;
        assert_eq!(
            locate(OsStr::new("FILE:/tmp/krb5cc_1")).unwrap(),
            PathBuf::from("/tmp/krb5cc_1")
        );
        assert_eq!(
            locate(OsStr::new("/tmp/krb5cc_1")).unwrap(),
            PathBuf::from("/tmp/krb5cc_1")
        );
        assert!(locate(OsStr::new("KEYRING:persistent:1000"))
            .unwrap_err()
            .why
            .contains("KEYRING:"));
        assert!(locate(OsStr::new("KCM:")).is_err());
        let dir = tempfile::tempdir().unwrap();
        let name = format!("DIR:{}", dir.path().display());
        assert_eq!(locate(OsStr::new(&name)).unwrap(), dir.path().join("tkt"));
        std::fs::write(dir.path().join("primary"), "tktAbc\n").unwrap();
        assert_eq!(
            locate(OsStr::new(&name)).unwrap(),
            dir.path().join("tktAbc")
        );
        let one = format!("DIR::{}/tktX", dir.path().display());
        assert_eq!(locate(OsStr::new(&one)).unwrap(), dir.path().join("tktX"));
    }

    #[test]
    fn the_default_cache_is_krb5_confs_or_libkrb5s_own() {
        use std::ffi::OsStr;
        use std::os::unix::fs::PermissionsExt;
        let uid = nix::unistd::geteuid().to_string();
        let dir = tempfile::tempdir().unwrap();
        let none = dir.path().join("absent.conf");
        assert_eq!(
            default_cache_name(std::slice::from_ref(&none)).unwrap(),
            format!("FILE:/tmp/krb5cc_{uid}")
        );
        let conf = dir.path().join("krb5.conf");
        std::fs::write(
            &conf,
            "[realms]\n default_ccache_name = FILE:/nope\n[libdefaults]\n  default_realm = X\n  default_ccache_name = DIR:/run/user/%{uid}/krb5cc%{null}\n",
        )
        .unwrap();
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            default_cache_name(&[none.clone(), conf.clone()]).unwrap(),
            format!("DIR:/run/user/{uid}/krb5cc")
        );
        std::fs::write(
            &conf,
            "[libdefaults]\ndefault_ccache_name = KEYRING:persistent:%{uid}\n",
        )
        .unwrap();
        assert!(locate_named(OsStr::new(
            &default_cache_name(std::slice::from_ref(&conf)).unwrap()
        ))
        .unwrap_err()
        .contains("KEYRING:"));
        std::fs::write(
            &conf,
            "[libdefaults]\ndefault_ccache_name = FILE:%{LIBDIR}/x\n",
        )
        .unwrap();
        assert!(default_cache_name(std::slice::from_ref(&conf))
            .unwrap_err()
            .contains("KRB5CCNAME"));
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(default_cache_name(std::slice::from_ref(&conf))
            .unwrap_err()
            .contains("writable"));
        // Fedora's layout: the setting in a file of an included directory, read where the
        // include stands.
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
        let dropins = dir.path().join("krb5.conf.d");
        std::fs::create_dir(&dropins).unwrap();
        std::fs::set_permissions(&dropins, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            dropins.join("kcm_default_ccache"),
            "[libdefaults]\n    default_ccache_name = KCM:\n",
        )
        .unwrap();
        std::fs::write(
            dropins.join("ignored.rpmsave"),
            "[libdefaults]\n default_ccache_name = FILE:/x\n",
        )
        .unwrap();
        std::fs::write(
            &conf,
            format!(
                "includedir {}\n[libdefaults]\n default_ccache_name = FILE:/late\n",
                dropins.display()
            ),
        )
        .unwrap();
        assert_eq!(
            default_cache_name(std::slice::from_ref(&conf)).unwrap(),
            "KCM:"
        );
        // An include that includes itself ends.
        std::fs::write(&conf, format!("include {}\n", conf.display())).unwrap();
        assert_eq!(
            default_cache_name(std::slice::from_ref(&conf)).unwrap(),
            format!("FILE:/tmp/krb5cc_{uid}")
        );
    }
}
