//! The real binary, run as a user would: `embed`, `model info`, bad input.

use std::io::Write;
use std::process::Stdio;

mod support;
use support::{json_output, seeds::seed_dir as seeds_dir, simsum};

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    support::output_with_stdin(simsum().args(args), stdin)
}

#[test]
fn embed_prints_json_lines_in_input_order() {
    let out = run_with_stdin(
        &["embed", "--device", "cpu"],
        b"first line\n\nthird line, a little longer\n",
    );
    support::assert_success(&out);
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
    support::assert_success(&out);
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

/// Indexes the seeds into a fresh directory with the real model (the product's own path).
fn seed_index() -> tempfile::TempDir {
    support::seed_index(None)
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> (String, String) {
    let out = simsum()
        .arg("--index")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{args:?} failed: {e}");
    (o, e)
}

#[test]
fn cluster_then_summarize_a_theme_a_document_and_a_query() {
    let dir = seed_index();
    let (json, _) = run_in(dir.path(), &["cluster", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let themes = v["themes"].as_array().unwrap();
    assert!(themes.len() >= 2, "{json}");
    for key in [
        "id",
        "title",
        "keyphrases",
        "size",
        "documents",
        "representatives",
        "members",
        "cohesion",
        "neighbours",
        "summary",
    ] {
        assert!(themes[0].get(key).is_some(), "theme lacks {key}");
    }
    assert!(v["unclustered"].is_array() && v["params"].is_object());
    // The saved report numbers the themes `summarize --theme` uses.
    let members: Vec<&str> = themes[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let (s, _) = run_in(dir.path(), &["summarize", "--theme", "1", "--json"]);
    let s: serde_json::Value = serde_json::from_str(&s).unwrap();
    let picked = s["summary"].as_array().unwrap();
    assert!(!picked.is_empty());
    for p in picked {
        let init = p["initiative"].as_str().unwrap();
        assert!(members.contains(&init), "{init} is not a member of theme 1");
    }
    // A stored document: at most the sentences asked for, none from the editor's note.
    let doc = "002_b4bb908d9f129013";
    let (s, _) = run_in(
        dir.path(),
        &["summarize", "--doc", doc, "--sentences", "2", "--json"],
    );
    let s: serde_json::Value = serde_json::from_str(&s).unwrap();
    let picked = s["summary"].as_array().unwrap();
    assert!(!picked.is_empty() && picked.len() <= 2);
    assert!(picked
        .iter()
        .all(|p| p["initiative"].as_str().unwrap().starts_with(doc)));
    assert!(picked
        .iter()
        .all(|p| !p["text"].as_str().unwrap().contains("Editor's Note")));
    // The results of a query.
    let (s, _) = run_in(
        dir.path(),
        &[
            "summarize",
            "--query",
            "vocational training of local workers",
            "-k",
            "3",
            "--words",
            "60",
        ],
    );
    assert!(s.to_lowercase().contains("train"), "{s}");
    // An unknown document is a clear error naming what exists.
    let out = simsum()
        .arg("--index")
        .arg(dir.path())
        .args(["summarize", "--doc", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("no document `nope`") && e.contains(doc), "{e}");
}

#[test]
fn cluster_writes_a_self_contained_html_report() {
    let dir = seed_index();
    let html = dir.path().join("report.html");
    run_in(
        dir.path(),
        &["cluster", "--format", "html", "-o", html.to_str().unwrap()],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"),
        "{}",
        &page[..60.min(page.len())]
    );
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(page.contains("<svg") || page.contains("<canvas"));
}

#[test]
fn summarize_a_file_that_is_not_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("note.md");
    std::fs::write(
        &f,
        "# Notes\n\nThe team trained forty local technicians to maintain the new solar plant. \
         Training covered safety, wiring and inverter repair.\n\n\
         The plant replaced a diesel generator and cut the village's emissions by half. \
         Waste batteries are collected and recycled.\n",
    )
    .unwrap();
    let out = simsum()
        .arg("--index")
        .arg(dir.path().join("none"))
        .args(["summarize", "--sentences", "2", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    let v = json_output(out);
    let picked = v["summary"].as_array().unwrap();
    assert_eq!(picked.len(), 2);
    assert!(picked
        .iter()
        .all(|p| p["initiative"].as_str().unwrap().starts_with("note#")));
    // Nothing was indexed on the way.
    assert!(!dir.path().join("none").exists());
    // Weights outside 0..=1 are refused with the flag's name, before any work.
    for flag in ["--lexical-weight", "--position-weight"] {
        let out = simsum()
            .arg("--index")
            .arg(dir.path().join("none"))
            .args(["summarize", flag, "1.5"])
            .arg(&f)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(flag) && err.contains("between 0 and 1"),
            "{err}"
        );
    }
}

#[test]
fn demo_indexes_queries_clusters_and_summarizes_the_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = dir.path().join("report.html");
    let demo = || {
        simsum()
            .current_dir(root)
            .arg("--index")
            .arg(dir.path().join("idx"))
            .args(["demo", "--report"])
            .arg(&report)
            .output()
            .unwrap()
    };
    let out = demo();
    let text = String::from_utf8_lossy(&out.stdout);
    support::assert_success(&out);
    assert!(text.contains("2 documents"), "{text}");
    assert_eq!(text.matches("Initiatives like").count(), 2, "{text}");
    assert!(text.contains("In other documents, initiatives like"));
    assert!(text.contains("Themes") && text.contains("#1 "));
    assert_eq!(text.matches("Summary of").count(), 2);
    assert!(text.contains("Vocational training was provided"), "{text}");
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .contains("</html>"));
    // A second run reuses every stored vector.
    let again = demo();
    assert!(String::from_utf8_lossy(&again.stdout).contains("(0 texts embedded"));
}

#[test]
fn bench_summarize_times_each_stage_of_a_summary() {
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/seeds/002_b4bb908d9f129013.txt"
    );
    let out = simsum()
        .args([
            "--device",
            "cpu",
            "bench",
            "summarize",
            "--repeat",
            "2",
            "--json",
            seed,
        ])
        .output()
        .unwrap();
    let r = json_output(out);
    assert_eq!(r["benchmark"], "summarize");
    assert_eq!(r["repeat"], 2);
    let stages: Vec<&str> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "load model",
            "read + split",
            "embed sentences",
            "rank + pick"
        ]
    );
    let (sentences, distinct) = (
        r["sentences"].as_u64().unwrap(),
        r["distinct_sentences"].as_u64().unwrap(),
    );
    assert!(
        sentences > 10 && distinct <= sentences && distinct > 10,
        "{r}"
    );
    // Every sentence costs [CLS] and [SEP] plus at least one word piece.
    assert!(
        r["tokens_embedded"].as_u64().unwrap() >= 3 * distinct,
        "{r}"
    );
    assert!(r["embed_gflop"].as_f64().unwrap() > 0.0);
    assert!(r["f32_gemm_peak_gflops"].as_f64().unwrap() > 0.0);
    let sum: f64 = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["median_seconds"].as_f64().unwrap())
        .sum();
    assert!(r["total_median_seconds"].as_f64().unwrap() > 0.0 && sum > 0.0);

    let hash = simsum()
        .args(["--model", "hash:64", "bench", "summarize", seed])
        .output()
        .unwrap();
    assert!(!hash.status.success());
    assert!(String::from_utf8_lossy(&hash.stderr).contains("needs a transformer model"));
}

// ---------------------------------------------------------------------------------------------
// Day one: what a new user tries first. These use the model-free `--model hash:N` embedder.

#[test]
fn empty_input_embeds_nothing() {
    let out = run_with_stdin(&["--model", "hash:16", "embed"], b"");
    support::assert_success(&out);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // One empty line is still one (empty) text.
    let out = run_with_stdin(&["--model", "hash:16", "embed"], b"\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn invalid_dates_k_levels_and_formats_name_the_flag_and_the_accepted_form() {
    let f = seeds_dir().join("000_23f0baf8f5491e38.txt");
    let f = f.to_str().unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["search", "q", "--since", "2023-13-45"],
            "--since",
            "YYYY-MM-DD",
        ),
        (
            &["search", "q", "--until", "2023-02-30"],
            "--until",
            "YYYY-MM-DD",
        ),
        (
            &["search", "q", "--since", "yesterday"],
            "--since",
            "YYYY-MM-DD",
        ),
        (
            &["similar", "x#s1.p1", "--until", "2023-00"],
            "--until",
            "YYYY-MM",
        ),
        (&["search", "q", "-k", "0"], "-k", "1..=10000"),
        (&["search", "q", "-k", "many"], "-k", "1..=10000"),
        (&["search", "q", "-k", "100000000000"], "-k", "1..=10000"),
        (&["summarize", "--query", "q", "-k", "0"], "-k", "1..=10000"),
        (&["demo", "-k", "-3"], "-k", "1..=10000"),
        (
            &["search", "q", "--level", "sentence"],
            "--level",
            "initiative or section",
        ),
        (
            &["cluster", "--level", "paragraph"],
            "--level",
            "initiative or section",
        ),
        (
            &["links", "--level", "paragraph"],
            "--level",
            "section, initiative or sentence",
        ),
        (&["sections", "--format", "docx", f], "--format", "pdf"),
        (&["summarize", "--format", "docx", f], "--format", "pdf"),
        (&["index", "--format", "docx", f], "--format", "pdf"),
        (
            &["cluster", "--format", "pdf"],
            "--format",
            "text, md, json or html",
        ),
    ];
    for (args, flag, form) in cases {
        let out = simsum()
            .args(["--model", "hash:16", "--index", "/nonexistent/simsum-index"])
            .args(*args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag) && err.contains(form), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Indexes the seeds with the model-free embedder.
fn hash_index() -> tempfile::TempDir {
    support::seed_index(Some("hash:64"))
}

/// Runs a command whose standard output is closed before it writes (what `| head -c 0`
/// does): it must end quietly, with exit 0.
fn with_closed_stdout(index: &std::path::Path, args: &[&str]) {
    let mut child = simsum()
        .args(["--model", "hash:64", "--index"])
        .arg(index)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    // Ignore the error when the command does not read its input.
    let _ = stdin.write_all("one line\nanother line\n".repeat(2000).as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    assert!(
        !err.contains("Broken pipe") && !err.contains("panicked"),
        "{args:?}: {err}"
    );
}

#[test]
fn a_closed_output_pipe_ends_every_command_quietly() {
    let index = hash_index();
    let i = index.path();
    let seeds = seeds_dir();
    let seed = seeds.join("000_23f0baf8f5491e38.txt");
    let (seeds, seed) = (seeds.to_str().unwrap(), seed.to_str().unwrap());
    let fresh = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["embed"],
        &["sections", seeds],
        &["sections", "--json", seeds],
        &["search", "training for local workers"],
        &["search", "training for local workers", "--json"],
        &["similar", "000_23f0baf8f5491e38#s1.p1"],
        &["similar", "000_23f0baf8f5491e38#s1.p1", "--json"],
        &["links", "--threshold", "0.1"],
        &["links", "--threshold", "0.1", "--json"],
        &["cluster", "--no-model"],
        &["cluster", "--no-model", "--format", "json"],
        &["summarize", seed],
        &["summarize", "--json", seed],
        &["summarize", "--doc", "000_23f0baf8f5491e38"],
        &["model", "info"],
    ];
    for args in commands {
        with_closed_stdout(i, args);
    }
    // `index` prints after writing: a fresh index.
    with_closed_stdout(fresh.path(), &["index", seeds]);
    with_closed_stdout(fresh.path(), &["index", "--json", "--rebuild", seeds]);
}

// ---------------------------------------------------------------------------------------------
// A build without the optional parts (`cargo test --no-default-features`, run by `.ci/run`):
// each refusal names the cargo feature to turn on.

/// A build without the `pdf` feature skips a PDF with the reason, and the batch goes on.
#[cfg(not(feature = "pdf"))]
#[test]
fn without_the_pdf_feature_a_pdf_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.pdf"), b"%PDF-1.4\n% any bytes\n").unwrap();
    std::fs::copy(
        seeds_dir().join("000_23f0baf8f5491e38.txt"),
        dir.path().join("seed.txt"),
    )
    .unwrap();
    let out = simsum()
        .args(["--model", "hash:16", "sections", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "one input skipped: {err}");
    assert!(
        err.contains("report.pdf") && err.contains("cargo feature `pdf`"),
        "{err}"
    );
    let docs: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 1, "the text file is read all the same");
    assert_eq!(docs[0]["id"], "seed");
}

/// The stderr of a failed run, which must exit 2.
#[cfg(any(not(feature = "server"), not(feature = "milvus")))]
fn refused(args: &[&str]) -> String {
    let out = simsum().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[cfg(not(feature = "server"))]
#[test]
fn without_the_server_feature_serve_says_so() {
    let err = refused(&["--model", "hash:16", "serve", "--addr", "127.0.0.1:0"]);
    assert!(err.contains("cargo feature `server`"), "{err}");
}

#[cfg(not(feature = "milvus"))]
#[test]
fn without_the_milvus_feature_a_milvus_store_says_so() {
    let err = refused(&[
        "--model",
        "hash:16",
        "--store",
        "milvus://127.0.0.1:19530/x",
        "search",
        "water",
    ]);
    assert!(err.contains("cargo feature `milvus`"), "{err}");
}
