//! Arbitrary bytes through the markdown parser (a `.md` file).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::ingest("md", data);
});
