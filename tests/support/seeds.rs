//! The two seed reports as [`Document`]s (read by `simsum::ingest`), for tests, plus the
//! embedder they use.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use simsum::ingest::Document;

pub fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

/// Both seeds as `simsum::ingest` reads them, with paragraphs that occur in both marked as
/// boilerplate (the editor's note).
pub fn seed_documents() -> Vec<Document> {
    read_seeds(
        &simsum::ingest::IngestOptions::default(),
        &simsum::ingest::estimate_tokens,
    )
}

/// The seeds split as the index splits them for `e` (its tokenizer and token budget).
pub fn seed_documents_for(e: &dyn simsum::embed::Embedder) -> Vec<Document> {
    let opts = simsum::ingest::IngestOptions {
        max_tokens: e.max_tokens(),
        ..Default::default()
    };
    read_seeds(&opts, &|t: &str| e.count_tokens(t))
}

fn read_seeds(
    opts: &simsum::ingest::IngestOptions,
    count: &dyn Fn(&str) -> usize,
) -> Vec<Document> {
    let report = simsum::ingest::ingest_paths(&[seed_dir()], opts, count);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let mut docs = report.documents;
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    docs
}

/// The default sentence-transformer, loaded as users would load it.
pub fn minilm() -> simsum::embed::bert::BertEmbedder {
    use simsum::model::{self, ResolveOptions, DEFAULT_MODEL};
    let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default())
        .unwrap_or_else(|e| panic!("the seed-quality tests need the default model: {e}"));
    let opts = simsum::embed::bert::BertOptions {
        device: simsum::embed::Device::Cpu,
        ..Default::default()
    };
    simsum::embed::bert::BertEmbedder::load(&files, opts).unwrap()
}

/// The seeds' initiatives (boilerplate excluded) as clustering input, embedded with `e`.
pub fn seed_items(e: &dyn simsum::embed::Embedder) -> Vec<simsum::cluster::ThemeItem> {
    let docs = seed_documents_for(e);
    let mut items = Vec::new();
    for d in &docs {
        for (_, i) in d.initiatives().filter(|(_, i)| !i.boilerplate) {
            items.push(simsum::cluster::ThemeItem {
                id: i.id.clone(),
                doc_id: d.id.clone(),
                doc_title: d.title.clone(),
                text: i.text.clone(),
                vector: Vec::new(),
            });
        }
    }
    let vectors = {
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        e.embed(&texts).unwrap()
    };
    for (it, v) in items.iter_mut().zip(vectors) {
        it.vector = v.vector;
    }
    items
}
