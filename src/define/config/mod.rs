//! The configuration file and credential definitions (docs/contract.md, "Config"): the file's
//! shapes as written (`raw`), the validated model (`model`), validation (`validate`) and
//! loading (`load`).
//!
//! Guarantees: a definition that loads is complete and consistent (every path parses, every
//! duration is valid, each credential has a store); anything else is a [`ConfigError`] naming the
//! file, line and column and saying what to change. Built-in presets go through the same code.

mod load;
mod model;
mod raw;
mod validate;

pub use load::{compile_presets, load, preset, preset_from_source};
pub use model::*;
pub use raw::*;
pub use validate::ConfigError;
pub use validate::{parse, Source};
