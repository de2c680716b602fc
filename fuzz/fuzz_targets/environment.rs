//! Fuzz target: see `credwatch::fuzzing::environment`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credwatch::fuzzing::environment(data));
