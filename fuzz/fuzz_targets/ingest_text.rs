//! Arbitrary bytes through the text parser (a `.txt` file).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::ingest("txt", data);
});
