//! Entry points for the fuzz targets (`fuzz/`, run with `scripts/fuzz`) and for the test that
//! replays their corpus (`fuzz/corpus/*`) on every `cargo test`. Each takes arbitrary bytes and
//! must return without panicking, in time near-linear in the input, whatever the bytes. Not an
//! API: hidden from the docs, and free to change.

use crate::define::config::{self, Definition, Source};
use crate::tools::{self as formats, Format};

/// Every text format and view a store can be decoded with.
const FORMATS: [Format; 15] = Format::ALL;

fn preset_definitions() -> &'static [Definition] {
    static DEFINITIONS: std::sync::OnceLock<Vec<Definition>> = std::sync::OnceLock::new();
    DEFINITIONS.get_or_init(|| {
        crate::define::presets::names()
            .filter_map(|name| config::preset(name)?.ok())
            .collect()
    })
}

/// The bytes as a credential file: decoded in every format, and as the file of every preset
/// (its fields looked up, its deadlines read: JSON Web Tokens, certificates, timestamps), as
/// `status` does.
pub fn credential_file(data: &[u8]) {
    for format in FORMATS {
        let _ = formats::parse(format, data);
    }
    let files = [data.to_vec()];
    for definition in preset_definitions() {
        let _ = crate::store::file::content_of(&files, definition, crate::tools::NOTHING_BESIDE);
    }
}

/// Every format's name, as a definition's `format` writes it ([`Format::ALL`]).
pub fn format_names() -> Vec<String> {
    Format::ALL
        .iter()
        .map(|f| f.to_string().to_lowercase())
        .collect()
}

/// The built-in presets' names, in their order.
pub fn preset_names() -> Vec<&'static str> {
    crate::define::presets::names().collect()
}

/// Every variable a preset reads from the environment (each preset's
/// [`Definition::context_variables`]: those that select a login, then those that shadow one),
/// each once, in the presets' order.
pub fn context_variables() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = Vec::new();
        for definition in preset_definitions() {
            let variables = definition.context_variables();
            for name in variables.selects.into_iter().chain(variables.shadows) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    })
}

/// The bytes as a shell's context, as the daemon is handed one (NUL-separated records): each
/// record's first byte picks one of [`context_variables`] (its high bit: unset), the rest is
/// its value, any bytes. Every preset that reads one of them is observed and judged in that
/// environment, and reported, as `status` and the daemon do.
pub fn environment(data: &[u8]) {
    let names = context_variables();
    let mut values = std::collections::BTreeMap::new();
    for record in data.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let name = names[usize::from(record[0] & 0x7f) % names.len()].clone();
        let value = (record[0] & 0x80 == 0)
            .then(|| std::os::unix::ffi::OsStrExt::from_bytes(&record[1..]))
            .map(|v: &std::ffi::OsStr| v.to_os_string());
        values.insert(name, value);
    }
    judge_in(&crate::support::environ::Environment::new(values));
}

/// Observes, judges and reports, inside `env`, every preset that reads one of its variables.
pub fn judge_in(env: &crate::support::environ::Environment) {
    use crate::engine::{self, Candidate, Context, KeyringSource};
    let config = config::Config::default();
    let memory = crate::engine::memory::Memory::default();
    let context = Context {
        memory: &memory,
        env_is_users_shell: true,
        keyring: KeyringSource::Known(None),
        probe: None,
    };
    for definition in preset_definitions() {
        let variables = definition.context_variables();
        if !variables
            .selects
            .iter()
            .chain(&variables.shadows)
            .any(|name| env.get(name).is_some())
        {
            continue;
        }
        let candidate = Candidate {
            definition: definition.clone(),
            only_if_detected: false,
        };
        crate::support::environ::within(env, || {
            let _ = crate::store::watch_targets(definition);
            if let Some(checked) = engine::judge(
                &config,
                &candidate,
                crate::store::observe(definition),
                &context,
            ) {
                let report = crate::publish::report::credential_report(&checked);
                let _ = serde_json::to_string(&report);
            }
        });
    }
}

/// Values no environment variable may make credwatch fall over on (non-UTF-8, control
/// characters, `:`-lists, cache names, very long, empty); `None`: unset. No NUL: no environment
/// value holds one.
pub fn hostile_values() -> Vec<Option<Vec<u8>>> {
    vec![
        None,
        Some(b"".to_vec()),
        Some(b"\xff\xff\xff:x".to_vec()),
        Some(b"\xff".to_vec()),
        Some(b"FILE:\xff\xfe/x".to_vec()),
        Some(b"DIR::\xff".to_vec()),
        Some(b"\xc3:\xa9:\xe2\x82".to_vec()),
        Some(b"\x01\x1b[31m\r\n\t\x7f".to_vec()),
        Some(b":".to_vec()),
        Some(b":::::".to_vec()),
        Some(b"/:/tmp:/nonexistent/\xff:~:.:..".to_vec()),
        Some(b"${HOME}$HOME~%{uid}*?[".to_vec()),
        Some(b"0".to_vec()),
        Some(vec![b'a'; 60_000]),
        Some(b":".repeat(30_000)),
        Some(b"/tmp/x:".repeat(8_000)),
        Some(vec![0xff; 60_000]),
    ]
}

/// A format's worst shape at its size limit: the files of its store (two for a format read as a
/// list), or the SQL that makes it (a SQLite database, made by the `sqlite3` shell).
pub struct WorstShape {
    pub format: Format,
    /// The format's size limit (`Traits::size_limit`).
    pub size_limit: u64,
    pub shape: &'static str,
    pub files: Vec<Vec<u8>>,
    pub sql: Option<String>,
    /// A field path that the shape's view holds, for a definition's `secret`.
    pub secret: &'static str,
}

/// `line(i)` for i = 0.. as long as the whole stays within `size`, after `head`.
fn lines_up_to(size: u64, head: &[u8], line: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut out = head.to_vec();
    for i in 0.. {
        let next = line(i);
        if out.len() + next.len() > size {
            break;
        }
        out.extend_from_slice(&next);
    }
    out
}

/// For every format ([`Format::ALL`]), its worst shape up to its size limit
/// (`Traits::size_limit`): the most entries that fit, each as small as the format allows
/// (decoding is allocation bound; names merged across files are where a quadratic hid, #25).
pub fn worst_shapes() -> Vec<WorstShape> {
    let shape = |format: Format, shape, files: Vec<Vec<u8>>, secret| WorstShape {
        format,
        size_limit: format.traits().size_limit,
        shape,
        files,
        sql: None,
        secret,
    };
    Format::ALL
        .into_iter()
        .map(|format| {
            let limit = format.traits().size_limit;
            let f = |s: String| s.into_bytes();
            match format {
                Format::Json => shape(
                    format,
                    "an array of small objects",
                    vec![{
                        let mut v = lines_up_to(limit - 2, b"[", |i| f(format!("{{\"k\":{i}}},")));
                        v.extend_from_slice(b"0]");
                        v
                    }],
                    "/0",
                ),
                Format::Yaml => shape(
                    format,
                    "a mapping of many keys",
                    vec![lines_up_to(limit, b"", |i| f(format!("k{i}: v\n")))],
                    "/k0",
                ),
                Format::Toml => shape(
                    format,
                    "many tables",
                    vec![lines_up_to(limit, b"", |i| f(format!("[t{i}]\nk = 1\n")))],
                    "/t0/k",
                ),
                Format::Ini => shape(
                    format,
                    "many sections",
                    vec![lines_up_to(limit, b"", |i| f(format!("[s{i}]\nk=v\n")))],
                    "/s0/k",
                ),
                Format::Netrc => shape(
                    format,
                    "many machines",
                    vec![lines_up_to(limit, b"", |i| {
                        f(format!("machine m{i} login u password p\n"))
                    })],
                    "/m0/password",
                ),
                Format::Text => shape(format, "one long line", vec![vec![b'x'; limit as usize]], ""),
                Format::Kubeconfig => {
                    let users = |from: usize| {
                        lines_up_to(
                            limit,
                            b"apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n",
                            |i| f(format!("- name: user-{}\n  user: {{token: t}}\n", from + i)),
                        )
                    };
                    shape(
                        format,
                        "KUBECONFIG=a:b, ~100,000 users in each",
                        vec![users(0), users(1_000_000)],
                        "/user/token",
                    )
                }
                Format::Npmrc => shape(
                    format,
                    "many ${VARIABLES}",
                    vec![lines_up_to(limit, b"", |i| f(format!("k{i}=${{V{i}}}\n")))],
                    "/k0",
                ),
                Format::AwsCredentials => shape(
                    format,
                    "many profiles",
                    vec![lines_up_to(limit, b"[default]\naws_access_key_id=A\n", |i| {
                        f(format!("[p{i}]\naws_access_key_id=A\n"))
                    })],
                    "/profile/aws_access_key_id",
                ),
                Format::SshCertificate => shape(
                    format,
                    "one long line of base64",
                    vec![lines_up_to(limit, b"ssh-ed25519-cert-v01@openssh.com ", |_| {
                        b"AAAA".to_vec()
                    })],
                    "/key_id",
                ),
                Format::X509Certificate => shape(
                    format,
                    "a PEM block of many lines",
                    vec![{
                        let end = b"-----END CERTIFICATE-----\n";
                        let mut v = lines_up_to(
                            limit - end.len() as u64,
                            b"-----BEGIN CERTIFICATE-----\n",
                            |_| [b"MIIB".repeat(16), b"\n".to_vec()].concat(),
                        );
                        v.extend_from_slice(end);
                        v
                    }],
                    "/not_after",
                ),
                Format::SshConfig => shape(
                    format,
                    "many hosts",
                    vec![lines_up_to(limit, b"", |i| {
                        f(format!("Host h{i}\n  CertificateFile ~/c{i}\n"))
                    })],
                    "/certificatefile",
                ),
                Format::KerberosCcache => shape(
                    format,
                    "many tiny tickets",
                    vec![lines_up_to(limit, &ccache_head(), |_| ccache_ticket())],
                    "/tgt/server",
                ),
                Format::GcloudCredentials => WorstShape {
                    sql: Some({
                        let mut sql = String::from(
                            "CREATE TABLE credentials (account_id TEXT PRIMARY KEY, value BLOB);\nBEGIN;\n",
                        );
                        // ~50 bytes a row in the file: as many as fit in the limit.
                        for i in 0..(limit / 64) {
                            sql.push_str(&format!(
                                "INSERT INTO credentials VALUES ('a{i}@example.com', 'x');\n"
                            ));
                        }
                        sql.push_str("COMMIT;\n");
                        sql
                    }),
                    ..shape(format, "many accounts", Vec::new(), "/other-accounts")
                },
                Format::SshAgent => shape(
                    format,
                    "an answer of many tiny keys",
                    vec![{
                        let key = |_| [&4u32.to_be_bytes()[..], b"key!", &0u32.to_be_bytes()].concat();
                        let mut v = lines_up_to(limit, &[0; 5], key);
                        let count = ((v.len() - 5) / 12) as u32;
                        v[0] = crate::tools::ssh_agent::IDENTITIES_ANSWER;
                        v[1..5].copy_from_slice(&count.to_be_bytes());
                        v
                    }],
                    "/login",
                ),
            }
        })
        .collect()
}

/// A version 4 credential cache's header and default principal (`u@R`).
fn ccache_head() -> Vec<u8> {
    let mut out = vec![5, 4, 0, 0];
    out.extend_from_slice(&ccache_principal());
    out
}

fn ccache_principal() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&1u32.to_be_bytes()); // name type
    out.extend_from_slice(&1u32.to_be_bytes()); // one component
    for part in [&b"R"[..], b"u"] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// One ticket for `u@R`, all of it as short as the format allows.
fn ccache_ticket() -> Vec<u8> {
    let mut out = ccache_principal();
    out.extend_from_slice(&ccache_principal());
    out.extend_from_slice(&0u16.to_be_bytes()); // enctype
    out.extend_from_slice(&0u32.to_be_bytes()); // key
    out.extend_from_slice(&[0; 16]); // times
    out.push(0); // is_skey
    out.extend_from_slice(&[0; 4 + 4 + 4 + 4 + 4]); // flags, addresses, authdata, tickets
    out
}

/// The bytes as a config file: parsed and validated.
pub fn config_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = config::parse(&Source {
            label: "fuzz".into(),
            text,
        });
    }
}

/// The bytes as a certificate (PEM or DER): its `notAfter`.
pub fn certificate(data: &[u8]) {
    let _ = formats::x509::not_after(data);
}

/// The bytes as the short texts credwatch reads from configs, files and the environment: a
/// timestamp, a duration, a field path, a path spec; and as text shown to a terminal.
pub fn short_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::support::timefmt::Timestamp::parse_datetime(text);
    let _ = crate::support::timefmt::parse_duration(text);
    let _ = crate::support::docpath::DocPath::parse(text);
    let _ = crate::support::paths::expand_with(
        text,
        &|name| (name.len() % 2 == 0).then(|| std::ffi::OsString::from("/v:a[*]")),
        &|| Some(std::path::PathBuf::from("/home/u")),
    );
    let _ = crate::support::output::inert(text);
}

#[cfg(test)]
mod tests {
    /// Every input in the fuzz corpus (seeds, and what fuzzing found) runs through its target on
    /// every `cargo test`: a crash found once stays fixed.
    #[test]
    fn the_fuzz_corpus_replays_without_a_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        type Target = fn(&[u8]);
        let targets: [(&str, Target); 5] = [
            ("credential_file", super::credential_file),
            ("environment", super::environment),
            ("config_file", super::config_file),
            ("certificate", super::certificate),
            ("short_text", super::short_text),
        ];
        let mut replayed = 0;
        for (name, target) in targets {
            let dir = root.join(name);
            let entries =
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).unwrap();
                target(&data);
                replayed += 1;
            }
        }
        assert!(replayed >= 20, "only {replayed} corpus inputs");
    }

    /// Every format's worst shape at its size limit is decoded (a store read as a list: both
    /// files) in bounded time: near-linear, so well under a second in a release build
    /// (BENCHMARKS.md, "Parsers: worst shapes (#25)"); 10 s allowed here for a debug build on a
    /// busy machine. Each shape is a full-size one: the size check is part of the test.
    #[test]
    fn every_formats_worst_shape_at_its_size_limit_is_decoded_in_bounded_time() {
        let shapes = super::worst_shapes();
        assert_eq!(shapes.len(), super::Format::ALL.len());
        for shape in shapes.iter().filter(|s| s.sql.is_none()) {
            let limit = shape.format.traits().size_limit as usize;
            for file in &shape.files {
                assert!(
                    file.len() <= limit && file.len() + 128 > limit,
                    "{}: {} bytes for a limit of {limit}",
                    shape.format,
                    file.len()
                );
            }
            let started = std::time::Instant::now();
            let parsed =
                crate::tools::parse_all(shape.format, &shape.files, crate::tools::NOTHING_BESIDE);
            let took = started.elapsed();
            eprintln!(
                "{} ({}): {took:?}, ok: {}",
                shape.format,
                shape.shape,
                parsed.is_ok()
            );
            // Valid or not (a certificate of garbage is an error): answered, and in time.
            let _ = parsed;
            assert!(took.as_secs() < 10, "{}: {took:?}", shape.format);
        }
    }

    /// Issue #25: a non-UTF-8 `KRB5CCNAME` panicked `status` and the daemon. Every variable a
    /// preset reads, with each hostile value (non-UTF-8, control characters, `:`-lists, very
    /// long, empty, unset), is observed, judged and reported without a panic.
    #[test]
    fn non_utf8_krb5ccname_and_every_hostile_value_of_every_context_variable_do_not_panic() {
        use crate::support::environ::Environment;
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let names = super::context_variables();
        assert!(names.iter().any(|n| n == "KRB5CCNAME"), "{names:?}");
        assert!(names.iter().any(|n| n == "KUBECONFIG"), "{names:?}");
        assert!(names.iter().any(|n| n == "GH_TOKEN"), "{names:?}");
        for name in names {
            for value in super::hostile_values() {
                let env = Environment::new([(name.clone(), value.map(OsString::from_vec))].into());
                super::judge_in(&env);
            }
        }
        super::environment(b"\x01\xff\xff\xff:x\0\x81\0\x02::\xc3");
    }
}
