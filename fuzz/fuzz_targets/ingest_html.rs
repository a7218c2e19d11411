//! Arbitrary bytes through the html parser (a `.html` file).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::ingest("html", data);
});
