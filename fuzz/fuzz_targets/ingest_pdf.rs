//! PDF bytes through the PDF parser. pdf-extract panics on some malformed files; simsum runs it
//! on its own thread and turns a panic into a skip, so libFuzzer's abort-on-any-panic hook is
//! replaced by a quiet one: a panic that escapes simsum still aborts (libfuzzer-sys catches it
//! at the target boundary and aborts), one that simsum catches does not.
#![no_main]
libfuzzer_sys::fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
    simsum_fuzz::ingest("pdf", data);
});
