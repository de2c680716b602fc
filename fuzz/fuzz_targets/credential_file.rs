//! Fuzz target: see `credwatch::fuzzing::credential_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credwatch::fuzzing::credential_file(data));
