//! Arbitrary bytes through the encoding detector and decoder (BOMs, UTF-16, legacy encodings,
//! binary detection) as every text format reads them.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::decode(data);
});
