//! What the integration tests share: the real binary, its JSON output, the seed reports.
#![allow(dead_code)]

use std::process::{Command, Output};

pub mod seeds;

/// The `simsum` binary this test run built.
pub fn simsum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simsum"))
}

/// A fresh index (directory) of the seed reports made with `model` (`None`: the default model).
pub fn seed_index(model: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = simsum();
    if let Some(m) = model {
        cmd.args(["--model", m]);
    }
    let out = cmd
        .arg("--index")
        .arg(dir.path())
        .arg("index")
        .arg(seeds::seed_dir())
        .output()
        .unwrap();
    assert_success(&out);
    dir
}

/// Asserts that a command succeeded, showing its stderr if not.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts that the command succeeded (showing its stderr if not) and parses its stdout as JSON.
pub fn json_output(out: Output) -> serde_json::Value {
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
