//! What the integration tests share: the real binary (run, its success, its JSON output, its log),
//! the seed reports, and the documents and section outlines the library tests build.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use simsum::ingest::{Document, Initiative, Section, Sentence};

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

/// Runs `cmd` with `input` on its stdin; its output, not checked.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A command's stdout then its stderr, as text (a log to show when it failed).
pub fn log_of(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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

/// The sentences of `text`, split after ". ", with their byte ranges.
pub fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in text.split_inclusive(". ") {
        let t = part.trim();
        let off = start + part.find(t).unwrap_or(0);
        out.push(Sentence {
            text: t.to_string(),
            byte_range: (off, off + t.len()),
        });
        start += part.len();
    }
    out
}

/// A document at `dir/<id>.txt` with sections of paragraphs (one starting "Editor's note" is
/// boilerplate).
pub fn doc(dir: &Path, id: &str, date: Option<&str>, sections: &[(&str, &[&str])]) -> Document {
    let path = dir.join(format!("{id}.txt"));
    std::fs::write(&path, format!("{sections:?}")).unwrap();
    Document {
        id: id.into(),
        title: format!("Report {id}"),
        date: date.map(Into::into),
        source: None,
        path,
        content_hash: format!("{sections:?}"),
        format: "text".into(),
        metadata: Default::default(),
        sections: sections
            .iter()
            .enumerate()
            .map(|(n, (heading, paras))| Section {
                id: format!("{id}#s{n}"),
                ordinal: n,
                heading: heading.to_string(),
                number: None,
                byte_range: (0, 0),
                captions: vec![],
                initiatives: paras
                    .iter()
                    .enumerate()
                    .map(|(p, text)| Initiative {
                        id: format!("{id}#s{n}.p{}", p + 1),
                        text: text.to_string(),
                        boilerplate: text.starts_with("Editor's note"),
                        sentences: sentences(text),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// (ordinal, number, heading, initiatives, captions) per section.
pub fn outline(doc: &Document) -> Vec<(usize, Option<&str>, &str, usize, usize)> {
    doc.sections
        .iter()
        .map(|s| {
            (
                s.ordinal,
                s.number.as_deref(),
                s.heading.as_str(),
                s.initiatives.len(),
                s.captions.len(),
            )
        })
        .collect()
}
