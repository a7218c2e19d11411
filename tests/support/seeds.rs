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

/// Indexes `docs` (read from `scope`) with `e` into a fresh local store at `dir` and opens it
/// for reading.
pub fn index_documents(
    docs: &[Document],
    scope: &Path,
    e: &dyn simsum::embed::Embedder,
    dir: &Path,
) -> Box<dyn simsum::store::Store> {
    let url = simsum::store::StoreUrl::Dir(dir.to_path_buf());
    let mut w = simsum::store::open_writer(&url, None, &e.model_id(), e.dim(), true).unwrap();
    let opts = simsum::store::UpdateOptions {
        scope: vec![scope.to_path_buf()],
        tagger: Some(simsum::entities::TAGGER),
        ..Default::default()
    };
    w.update(docs, e, &opts, &|_, _| {}).unwrap();
    drop(w);
    simsum::store::open(&url, None).unwrap()
}

/// The sentences of `summary` that open with a connective or a pronoun
/// ([`simsum::text::leans_on_previous`]) while the sentence before them in their document is
/// not in the summary.
pub fn dangling(summary: &[simsum::summarize::SummarySentence]) -> Vec<String> {
    summary
        .iter()
        .filter(|s| simsum::text::leans_on_previous(&s.text))
        .filter(|s| {
            !summary
                .iter()
                .any(|p| p.doc_id == s.doc_id && p.position + 1 == s.position)
        })
        .map(|s| s.text.clone())
        .collect()
}

/// Whether a theme title is supported by a member text: the text contains at least one of the
/// title's words ("and" aside), case and a plural `s` folded.
pub fn supports(title: &str, text: &str) -> bool {
    let fold = |w: &str| {
        let w = w.to_lowercase();
        w.strip_suffix('s').map(str::to_string).unwrap_or(w)
    };
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .map(fold)
        .collect();
    title
        .split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case("and"))
        .any(|t| words.contains(&fold(t)))
}
