//! Entry points for the fuzz targets (`fuzz/`, run with `scripts/fuzz`) and for the test that
//! replays their corpus (`fuzz/corpus/*`) on every `cargo test`. Each takes arbitrary bytes and
//! must return without panicking, in time near-linear in the input, whatever the bytes. Not an
//! API: hidden from the docs, and free to change.

use crate::define::config::{self, Definition, Source};
use crate::support::formats::{self, Format};

/// Every text format and view a store can be decoded with.
const FORMATS: [Format; 15] = [
    Format::Json,
    Format::Yaml,
    Format::Toml,
    Format::Ini,
    Format::Netrc,
    Format::Text,
    Format::Kubeconfig,
    Format::Npmrc,
    Format::AwsCredentials,
    Format::SshCertificate,
    Format::KerberosCcache,
    Format::GcloudCredentials,
    Format::X509Certificate,
    Format::SshConfig,
    Format::SshAgent,
];

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
        let _ = crate::store::file::content_of(
            &files,
            definition,
            crate::support::formats::NOTHING_BESIDE,
        );
    }
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
