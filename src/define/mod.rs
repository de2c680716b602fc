//! What a credential is: the states it can be in, the configuration file and its definitions,
//! and the built-in presets, written in the same form.

pub mod config;
pub mod presets;
pub mod state;
