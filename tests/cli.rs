//! The real binary, run as a user would: `embed`, `model info`, bad input.

use std::io::Write;
use std::process::{Command, Stdio};

fn simsum() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simsum"))
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = simsum()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn embed_prints_json_lines_in_input_order() {
    let out = run_with_stdin(
        &["embed", "--device", "cpu"],
        b"first line\n\nthird line, a little longer\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["id"], i);
        assert_eq!(l["embedding"].as_array().unwrap().len(), 384);
        assert_eq!(l["truncated"], false);
    }
    assert_eq!(lines[0]["text"], "first line");
    assert_eq!(lines[1]["n_tokens"], 2, "the empty line is [CLS] [SEP]");
    let norm: f64 = lines[2]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap().powi(2))
        .sum();
    assert!((norm - 1.0).abs() < 1e-4);
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr when piped: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn embed_reports_truncated_inputs() {
    let long = "word ".repeat(400);
    let out = run_with_stdin(
        &["embed", "--device", "cpu"],
        format!("short\n{long}\n").as_bytes(),
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 of 2 inputs") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_names_the_line_unless_lossy() {
    let input = b"ok\nbad \xff byte\n";
    let out = run_with_stdin(&["--model", "hash:8", "embed"], input);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("<stdin>:2") && err.contains("--lossy"),
        "{err}"
    );
    let out = run_with_stdin(&["--model", "hash:8", "embed", "--lossy"], input);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn model_info_names_source_and_hash() {
    let out = simsum().args(["model", "info", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dimension"], 384);
    assert_eq!(v["max_seq_length"], 256);
    assert_eq!(v["pooling"], "mean");
    assert_eq!(v["weights_sha256"], simsum::model::DEFAULT_WEIGHTS_SHA256);
    assert!(v["source"].is_string());
}

#[test]
fn a_missing_model_directory_is_a_clear_error() {
    let out = simsum()
        .args(["--model", "./no/such/model", "model", "info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not exist") && err.contains("Fix:"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
