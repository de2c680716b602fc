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
        let targets: [(&str, Target); 4] = [
            ("credential_file", super::credential_file),
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
}
