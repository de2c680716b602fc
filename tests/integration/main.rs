//! credwatch's integration tests: the real binary against real files in an isolated HOME.

mod agent;
mod alerts;
mod bad_input;
mod bus;
mod clients;
mod completions;
mod config;
mod contexts;
mod daemon;
mod exit_codes;
mod export;
mod faults;
mod frameworks;
mod harness;
mod hooks;
mod hostile;
mod journal;
mod keyring;
mod limits;
mod login;
mod logins;
mod presets;
mod pty;
mod secrets;
mod shells;
mod status;
