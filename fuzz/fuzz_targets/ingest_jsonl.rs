//! Arbitrary bytes through the jsonl parser (a `.jsonl` file).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::ingest("jsonl", data);
});
