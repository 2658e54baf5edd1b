//! cargo-fuzz target: see `entries::tls_reframe` (fuzz/entries.rs) for what it covers.
#![no_main]
#[path = "../entries.rs"]
mod entries;
libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::tls_reframe(data));
