//! Makes `src/embed/centres/multilingual-e5-small.json`: the per-language mean vectors that
//! simsum takes out of multilingual-e5-small's embeddings (`src/embed/centring.rs`).
//!
//! What: the mean of the L2-normalised, uncentred vectors of reference texts, per language and
//! kind of input (query, passage). Data, in two domains, each in both languages so that what
//! the two languages' means differ by is the language rather than the subject: the paragraphs
//! of the seed reports in `seeds/` (English) and of the Chinese test report in `tests/data/zh/`
//! (diplomacy), and the English and the Chinese texts of tests/data/parallel/gnu-zh_CN.jsonl
//! (GNU manuals; each language's texts taken alone, their pairing unused). Measured
//! (BENCHMARKS.md, 2026-12-07 (2)): means from one domain alone help the other domain little,
//! so both are in.
//! Run: `cargo run --example e5_centres` (then rebuild: the file is compiled in).

use simsum::embed::bert::{BertEmbedder, BertOptions};
use simsum::embed::centring::LanguageCentres;
use simsum::embed::{DType, Device, Embedder, InputKind};
use simsum::model::{self, ResolveOptions, E5_MODEL};
use simsum::text::cjk::Language;

fn paragraphs(dir: &str, min_chars: usize) -> Vec<String> {
    let dir = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .split("\n\n")
                .map(|p| p.trim().to_string())
                .filter(|p| p.chars().count() > min_chars)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn main() {
    let files = model::resolve(E5_MODEL, &ResolveOptions::default()).unwrap();
    let e = BertEmbedder::load(
        &files,
        BertOptions {
            device: Device::Cpu,
            dtype: DType::F32,
            centre_languages: false,
            ..Default::default()
        },
    )
    .unwrap();
    let mut en = paragraphs("seeds", 40);
    let mut zh = paragraphs("tests/data/zh", 15);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/parallel/gnu-zh_CN.jsonl"
    );
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        en.push(v["en"].as_str().unwrap().to_string());
        zh.push(v["zh"].as_str().unwrap().to_string());
    }
    let mut means = Vec::new();
    for (lang, texts) in [(Language::Other, &en), (Language::Chinese, &zh)] {
        let mismatched = texts.iter().filter(|t| Language::of(t) != lang).count();
        assert!(
            mismatched * 20 < texts.len(),
            "{mismatched} texts of another language"
        );
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for kind in [InputKind::Query, InputKind::Passage] {
            let out = e.embed_as(&refs, kind).unwrap();
            let mut m = vec![0f32; e.dim()];
            for o in &out {
                m.iter_mut()
                    .zip(&o.vector)
                    .for_each(|(a, b)| *a += b / out.len() as f32);
            }
            means.push((
                lang,
                kind,
                m.iter().map(|x| (x * 1e6).round() / 1e6).collect(),
            ));
        }
    }
    let about = serde_json::json!({
        "model": E5_MODEL,
        "weights_sha256": files.weights_sha256,
        "made_by": "cargo run --example e5_centres",
        "texts": {"other": en.len(), "zh": zh.len()},
        "sources": "seeds/ and tests/data/zh/ paragraphs; tests/data/parallel/gnu-zh_CN.jsonl texts",
    });
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/embed/centres/multilingual-e5-small.json"
    );
    std::fs::write(path, LanguageCentres::to_json(&means, about)).unwrap();
    println!(
        "{path}: means of {} English and {} Chinese paragraphs",
        en.len(),
        zh.len()
    );
}
