//! Fuzz target: see `credwatch::fuzzing::config_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credwatch::fuzzing::config_file(data));
