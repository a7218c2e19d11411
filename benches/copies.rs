//! Near-copy grouping at scale (issue 29: "grouping 1M items in under 60 s").
//!
//! What: the two steps that fold near-copies together wherever items are read (search,
//! clustering, summaries): `simsum::text::copy_key` over every item's text, then
//! `simsum::text::copies::group` over the keys and vectors. One thread each, as the library runs
//! them.
//! Data: 1,000,000 synthetic items with 384-dimensional vectors (all-MiniLM-L6-v2's size):
//! 47,500 made-up paragraphs of ~30 words, each in 20 versions (the original naming "Beijing"
//! and 19 copies naming "Tianjin1" ... "Tianjin19" with their numbers changed; each copy's
//! vector is its original's plus noise, cosine about 0.7), and 50,000 short formulaic texts that
//! share one copy key but have unrelated vectors (the crowded-key case, where the comparisons
//! per item are bounded). Deterministic; generating it is not timed.
//! Run: `cargo bench --bench copies` (recorded in benches/quality/README.md, "Near-copies").

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use rayon::prelude::*;
use simsum::embed::normalize;

#[path = "support/synthetic.rs"]
mod synthetic;
use synthetic::{word, Rng};

const DIM: usize = 384;
const PARAGRAPHS: usize = 47_500;
const VERSIONS: usize = 20;
const FORMULAIC: usize = 50_000;
/// Noise per coordinate of a copy's vector: cosine to the original about 0.7.
const COPY_NOISE: f32 = 0.055;

/// Item texts and their vectors (flat, `DIM` per item), copies next to their originals.
struct Corpus {
    texts: Vec<String>,
    vectors: Vec<f32>,
}

fn gaussian_unit(rng: &mut Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.gauss()).collect();
    normalize(&mut v);
    v
}

/// The versions of paragraph `p`: texts and vectors.
fn paragraph_versions(p: usize) -> Vec<(String, Vec<f32>)> {
    let mut rng = Rng(0x5EED ^ (p as u64).wrapping_mul(0x9E37_79B9));
    let words: Vec<String> = (0..28).map(|_| word(&mut rng)).collect();
    let base = gaussian_unit(&mut rng);
    (0..VERSIONS)
        .map(|v| {
            let city = if v == 0 {
                "Beijing".to_string()
            } else {
                format!("Tianjin{v}")
            };
            let text = format!(
                "The {city} office trained {} local workers in {}, then {} more in {}.",
                100 + rng.below(900),
                words[..14].join(" "),
                10 + rng.below(90),
                words[14..].join(" "),
            );
            let vector = if v == 0 {
                base.clone()
            } else {
                let mut x: Vec<f32> = base.iter().map(|b| b + COPY_NOISE * rng.gauss()).collect();
                normalize(&mut x);
                x
            };
            (text, vector)
        })
        .collect()
}

fn corpus() -> Corpus {
    let mut items: Vec<(String, Vec<f32>)> = (0..PARAGRAPHS)
        .into_par_iter()
        .flat_map_iter(paragraph_versions)
        .collect();
    items.par_extend((0..FORMULAIC).into_par_iter().map(|i| {
        let mut rng = Rng(0xF0F0 ^ i as u64);
        let text = format!("Contact the Beijing office for more information about {i} programmes.");
        (text, gaussian_unit(&mut rng))
    }));
    let mut texts = Vec::with_capacity(items.len());
    let mut vectors = Vec::with_capacity(items.len() * DIM);
    for (t, v) in items {
        texts.push(t);
        vectors.extend(v);
    }
    Corpus { texts, vectors }
}

fn keys_of(texts: &[String]) -> Vec<Option<u64>> {
    texts.iter().map(|t| simsum::text::copy_key(t)).collect()
}

fn grouping(c: &mut Criterion) {
    let corpus = corpus();
    let n = corpus.texts.len();
    let vectors: Vec<&[f32]> = corpus.vectors.chunks_exact(DIM).collect();
    let keys = keys_of(&corpus.texts);
    // The data are what they claim to be: every paragraph's versions form one group.
    let groups = simsum::text::copies::group(&keys, &vectors);
    let paragraph_groups = groups.iter().filter(|g| g.len() == VERSIONS).count();
    eprintln!(
        "{n} items, {} groups, {paragraph_groups} of {PARAGRAPHS} paragraphs in one group each",
        groups.len()
    );
    assert_eq!(paragraph_groups, PARAGRAPHS);

    let mut g = c.benchmark_group("copies");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("copy_key/1M-texts", |b| b.iter(|| keys_of(&corpus.texts)));
    g.bench_function("group/1M-items", |b| {
        b.iter(|| simsum::text::copies::group(&keys, &vectors))
    });
    g.bench_function("copy_key+group/1M-items", |b| {
        b.iter(|| simsum::text::copies::group(&keys_of(&corpus.texts), &vectors))
    });
    g.finish();
}

criterion_group!(benches, grouping);
criterion_main!(benches);
