//! Fuzz target: see `credwatch::fuzzing::short_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credwatch::fuzzing::short_text(data));
