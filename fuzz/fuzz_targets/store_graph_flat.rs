//! One index file's reader fed the input, in a copy of a valid index made once per thread (see
//! `simsum_fuzz::index_file`); the corpus also replays through the whole open path in
//! `cargo test` (`simsum_fuzz::store_file`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simsum_fuzz::index_file(simsum_fuzz::GRAPH_FLAT, data);
});
