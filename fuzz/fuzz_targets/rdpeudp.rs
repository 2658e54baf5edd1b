//! cargo-fuzz target: see `entries::rdpeudp` (fuzz/entries.rs) for what it covers.
#![no_main]
#[path = "../entries.rs"]
mod entries;
libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::rdpeudp(data));
