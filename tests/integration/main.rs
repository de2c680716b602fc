//! credwatch's integration tests: the real binary against real files in an isolated HOME.

mod bad_input;
mod config;
mod daemon;
mod harness;
mod presets;
mod secrets;
mod shells;
mod status;
