//! What the integration tests share: the real binary, its JSON output, the seed reports.
#![allow(dead_code)]

use std::process::{Command, Output};

pub mod seeds;

/// The `simsum` binary this test run built.
pub fn simsum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simsum"))
}

/// Asserts that the command succeeded (showing its stderr if not) and parses its stdout as JSON.
pub fn json_output(out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
