//! Reading the config file (bounded, any kind of bad file answered with its path and the fix),
//! and the built-in presets, which go through the same validation.

use super::model::{Config, Definition};
use super::validate::{parse, ConfigError, Source};
use crate::support::fsread::{read_bounded, ReadOutcome};
use std::path::Path;

const CONFIG_SIZE_LIMIT: u64 = 1 << 20;

/// Loads the config at `path`; an absent file gives the defaults (`presets = "auto"`).
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let shown = crate::support::paths::display(path);
    let unreadable = |problem: String, fix: &str| ConfigError::Unreadable {
        path: shown.clone(),
        problem,
        fix: fix.to_string(),
    };
    let bytes = match read_bounded(path, CONFIG_SIZE_LIMIT) {
        ReadOutcome::Absent => return Ok(Config::default()),
        ReadOutcome::Read { bytes, .. } => bytes,
        ReadOutcome::NotAFile(kind) => {
            return Err(unreadable(
                format!("it is {kind}"),
                "make it a regular TOML file, or point $CREDWATCH_CONFIG elsewhere",
            ))
        }
        ReadOutcome::SymlinkLoop => {
            return Err(unreadable(
                "it is a symlink loop".into(),
                "remove the broken link",
            ))
        }
        ReadOutcome::PermissionDenied => {
            return Err(unreadable(
                "permission denied".into(),
                "make it readable by your user (chmod 600)",
            ))
        }
        ReadOutcome::TooLarge { size, .. } => {
            return Err(unreadable(
                format!("it is {size} bytes, more than the 1 MiB a config may have"),
                "check what wrote to it",
            ))
        }
        ReadOutcome::Failed(e) => return Err(unreadable(e.to_string(), "check the file system")),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        unreadable(
            format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()),
            "save it as UTF-8",
        )
    })?;
    let source = Source {
        label: shown.clone(),
        text: &text,
    };
    let mut config = parse(&source)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// The built-in preset named `name`, as validated when credwatch was built: a line of
/// `presets/compiled.jsonl` (in `presets::PRESETS` order), read in a fraction of what parsing
/// its TOML costs at every run. [`compile_presets`] writes the file; a test fails when it is stale.
pub fn preset(name: &str) -> Option<Result<Definition, ConfigError>> {
    let index = crate::define::presets::names().position(|n| n == name)?;
    // The lines found once: looking each preset's up from the start made `status` scan the
    // compiled presets once per preset (~700,000 instructions of its ~3,000,000, callgrind).
    static LINES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let line = LINES
        .get_or_init(|| crate::define::presets::COMPILED.lines().collect())
        .get(index)
        .copied();
    let stale = |message: String| ConfigError::Invalid {
        location: format!("<built-in preset {name}>"),
        message,
        fix: "presets/compiled.jsonl is stale: cargo run --example generate-assets, then rebuild"
            .into(),
    };
    Some(match line {
        None => Err(stale("missing from the compiled presets".into())),
        Some(line) => serde_json::from_str::<Definition>(line)
            .map_err(|e| stale(e.to_string()))
            .and_then(|definition| {
                if definition.name == name {
                    Ok(definition)
                } else {
                    Err(stale(format!("found {} in its place", definition.name)))
                }
            }),
    })
}

/// The built-in preset named `name`, parsed and validated from its TOML (what
/// [`compile_presets`] compiles, and `config show` prints).
pub fn preset_from_source(name: &str) -> Option<Result<Definition, ConfigError>> {
    let text = crate::define::presets::source(name)?;
    let source = Source {
        label: format!("<built-in preset {name}>"),
        text,
    };
    Some(parse(&source).map(|mut config| config.definitions.remove(0)))
}

/// Every preset validated from its TOML, one JSON line each: `presets/compiled.jsonl`.
pub fn compile_presets() -> Result<String, ConfigError> {
    let mut out = String::new();
    for name in crate::define::presets::names() {
        let definition = preset_from_source(name).expect("listed")?;
        out.push_str(&serde_json::to_string(&definition).expect("a definition serialises"));
        out.push('\n');
    }
    Ok(out)
}
