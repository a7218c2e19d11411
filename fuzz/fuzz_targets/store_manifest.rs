//! A valid index directory with one file replaced by the input, opened and read through
//! `simsum::store::open` (see `simsum_fuzz::store_file`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::store_file(simsum_fuzz::MANIFEST, data);
});
