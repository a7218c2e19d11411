//! The data behind simsum's learned summary weights, and a cheap way to try summary settings.
//!
//! Reads one half of a summary corpus (benches/corpora/summaries.py: `{"id", "title",
//! "reference", "text", "split"}` lines), splits and embeds it as `simsum summarize` would
//! (all-MiniLM-L6-v2; the vectors are kept in `OUT/units.jsonl` and read back on the next run),
//! and writes
//! - `OUT/features.jsonl`: per document, every candidate sentence with its features
//!   (`simsum::summarize::FEATURE_NAMES`), for `benches/quality/fit_summary_weights.py`;
//! - `OUT/summaries.jsonl` (with `--variants`): per document and per variant, the summary
//!   simsum makes with the default settings overlaid by the variant (a JSON object of
//!   `SummaryParams` fields), so settings can be compared on the tune half without embedding
//!   again.
//!
//! Run: `cargo run --example summary_features -- CORPUS.jsonl tune OUT_DIR
//!       [--words 75] [--variants '[{}, {"scorer": "blend"}]']`

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use simsum::embed::Embedder;
use simsum::summarize::{
    embed_documents, sentence_features, summarize, Length, SentenceUnit, SummaryParams,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!(
            "usage: summary_features CORPUS.jsonl tune|test OUT_DIR [--words N] [--variants JSON]"
        );
        std::process::exit(2);
    }
    let (corpus, split, out) = (&args[1], &args[2], PathBuf::from(&args[3]));
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let words: usize = option("--words").map_or(75, |w| w.parse().expect("--words N"));
    let variants: Vec<Value> = option("--variants")
        .map(|v| serde_json::from_str(&v).expect("--variants: a JSON array of objects"))
        .unwrap_or_default();
    std::fs::create_dir_all(&out).unwrap();

    let units = load_or_embed(corpus, split, &out);
    let mut by_doc: BTreeMap<String, (String, Vec<SentenceUnit>)> = BTreeMap::new();
    for u in units {
        by_doc
            .entry(u.doc_id.clone())
            .or_insert_with(|| (u.doc_title.clone(), Vec::new()))
            .1
            .push(u);
    }
    let base = SummaryParams {
        length: Length::Words(words),
        ..Default::default()
    };
    let mut features = std::fs::File::create(out.join("features.jsonl")).unwrap();
    for (id, (title, units)) in &by_doc {
        let f = sentence_features(units, &base).unwrap();
        let sentences: Vec<Value> = f
            .iter()
            .map(|s| {
                json!({"text": units[s.index].text, "position": units[s.index].position,
                       "features": s.values})
            })
            .collect();
        let line = json!({"id": id, "title": title, "sentences": sentences});
        writeln!(features, "{line}").unwrap();
    }
    if variants.is_empty() {
        return;
    }
    let mut summaries = std::fs::File::create(out.join("summaries.jsonl")).unwrap();
    for (k, v) in variants.iter().enumerate() {
        let mut p = serde_json::to_value(&base).unwrap();
        if let (Some(p), Some(v)) = (p.as_object_mut(), v.as_object()) {
            p.extend(v.clone());
        }
        let params: SummaryParams = serde_json::from_value(p).expect("a variant's fields");
        for (id, (_, units)) in &by_doc {
            let s = summarize(units, &params).unwrap();
            let texts: Vec<&str> = s.sentences.iter().map(|s| s.text.as_str()).collect();
            let positions: Vec<usize> = s.sentences.iter().map(|s| s.position).collect();
            let line = json!({"id": id, "variant": k, "summary": texts, "positions": positions});
            writeln!(summaries, "{line}").unwrap();
        }
    }
}

/// The sentence units of the split, embedded, from `OUT/units.jsonl` when an earlier run left
/// them there.
fn load_or_embed(corpus: &str, split: &str, out: &Path) -> Vec<SentenceUnit> {
    let cache = out.join("units.jsonl");
    if let Ok(f) = std::fs::File::open(&cache) {
        eprintln!("reading {}", cache.display());
        return std::io::BufReader::new(f)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(&l.unwrap()).unwrap();
                SentenceUnit {
                    text: v["text"].as_str().unwrap().into(),
                    initiative_id: v["initiative"].as_str().unwrap().into(),
                    doc_id: v["doc"].as_str().unwrap().into(),
                    doc_title: v["title"].as_str().unwrap().into(),
                    position: v["position"].as_u64().unwrap() as usize,
                    vector: serde_json::from_value(v["vector"].clone()).unwrap(),
                }
            })
            .collect();
    }
    let records = out.join("records.jsonl");
    let mut w = std::fs::File::create(&records).unwrap();
    for line in std::io::BufReader::new(std::fs::File::open(corpus).unwrap()).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["split"] == split {
            let r = json!({"id": v["id"], "title": v["title"], "text": v["text"]});
            writeln!(w, "{r}").unwrap();
        }
    }
    drop(w);
    let e = {
        use simsum::model::{self, ResolveOptions, DEFAULT_MODEL};
        let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default()).unwrap();
        simsum::embed::bert::BertEmbedder::load(&files, Default::default()).unwrap()
    };
    let docs = simsum::ingest::ingest_paths(
        &[records],
        &simsum::ingest::IngestOptions {
            max_tokens: e.max_tokens(),
            ..Default::default()
        },
        &|t: &str| e.count_tokens(t),
    )
    .documents;
    let started = std::time::Instant::now();
    let units = embed_documents(&docs, &e).unwrap();
    eprintln!(
        "embedded {} sentences of {} documents in {:.1} s",
        units.len(),
        docs.len(),
        started.elapsed().as_secs_f64()
    );
    let mut w = std::io::BufWriter::new(std::fs::File::create(&cache).unwrap());
    for u in &units {
        let line = json!({"text": u.text, "initiative": u.initiative_id, "doc": u.doc_id,
                          "title": u.doc_title, "position": u.position, "vector": u.vector});
        writeln!(w, "{line}").unwrap();
    }
    units
}
