//! credwatch's integration tests: the real binary against real files in an isolated HOME.

mod bad_input;
mod bus;
mod config;
mod daemon;
mod harness;
mod keyring;
mod presets;
mod secrets;
mod shells;
mod status;
