//! Golden `--json` outputs: the shape and values of every result the CLI prints as JSON, pinned
//! on the seeds with the deterministic `hash:64` embedder (no model download), so a change to the
//! result model shows up as a diff here before it reaches a user's script. The API serialises the
//! same types (tests/serve.rs compares the two faces).
//!
//! Floats are compared to 1e-4 (the vector kernels differ by CPU in the last bits); keys, order of
//! arrays, strings, integers and booleans exactly. `SIMSUM_BLESS=1 cargo test --test golden`
//! rewrites the files after an intended change.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

/// Indexes the seeds with `hash:64` into a fresh folder and returns it.
fn seed_index() -> tempfile::TempDir {
    support::seed_index(Some("hash:64"))
}

/// Runs a command for its JSON, with this checkout's path written as `$REPO` (document paths
/// are absolute; the golden files hold for any checkout).
fn run_json(index: &Path, args: &[&str]) -> Value {
    let mut cmd: Command = support::simsum();
    cmd.args(["--model", "hash:64", "--index"])
        .arg(index)
        .args(args);
    let mut out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace(env!("CARGO_MANIFEST_DIR"), "$REPO");
    out.stdout = text.into_bytes();
    support::json_output(out)
}

/// Compares `actual` with `expected`, naming the JSON path of the first difference.
fn same(path: &str, actual: &Value, expected: &Value) -> Result<(), String> {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) if a.is_f64() || e.is_f64() => {
            let (a, e) = (a.as_f64().unwrap(), e.as_f64().unwrap());
            if (a - e).abs() <= 1e-4 {
                Ok(())
            } else {
                Err(format!("{path}: {a} != {e}"))
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            let (ka, ke): (Vec<_>, Vec<_>) = (a.keys().collect(), e.keys().collect());
            if ka != ke {
                return Err(format!("{path}: keys {ka:?} != {ke:?}"));
            }
            for (k, v) in a {
                same(&format!("{path}.{k}"), v, &e[k])?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!("{path}: {} items != {}", a.len(), e.len()));
            }
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                same(&format!("{path}[{i}]"), x, y)?;
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{path}: {actual} != {expected}")),
    }
}

fn check(name: &str, actual: Value) {
    let file = golden_dir().join(format!("{name}.json"));
    if std::env::var_os("SIMSUM_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&file, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with SIMSUM_BLESS=1 cargo test --test golden",
            file.display()
        )
    });
    let expected: Value = serde_json::from_str(&text).unwrap();
    if let Err(diff) = same(name, &actual, &expected) {
        panic!(
            "{name} --json differs from {}: {diff}\n(after an intended change: SIMSUM_BLESS=1)",
            file.display()
        );
    }
}

#[test]
fn json_outputs_match_the_golden_files() {
    let dir = seed_index();
    let idx = dir.path();
    check(
        "search",
        run_json(
            idx,
            &["search", "vocational training abroad", "-k", "5", "--json"],
        ),
    );
    check(
        "search_section",
        run_json(
            idx,
            &[
                "search",
                "youth exchange",
                "--level",
                "section",
                "-k",
                "3",
                "--json",
            ],
        ),
    );
    let first = run_json(idx, &["search", "Kenya", "-k", "1", "--json"]);
    let id = first["results"][0]["id"].as_str().unwrap().to_string();
    check(
        "similar",
        run_json(idx, &["similar", &id, "-k", "4", "--other-docs", "--json"]),
    );
    check(
        "links",
        run_json(idx, &["links", "--threshold", "0.3", "--json"]),
    );
    check(
        "cluster",
        run_json(idx, &["cluster", "--no-model", "--json"]),
    );
    let docs = run_json(idx, &["search", "China", "-k", "1", "--json"]);
    let doc = docs["results"][0]["doc"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    check(
        "summarize_doc",
        run_json(
            idx,
            &["summarize", "--doc", &doc, "--sentences", "2", "--json"],
        ),
    );
}
