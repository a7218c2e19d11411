//! Micro-benchmarks of clustering and sentence ranking (the summarizer).
//!
//! What: `simsum::cluster::cluster` (community detection, unclustering, c-TF-IDF + MMR labels,
//! representatives, neighbours; keyphrase vectors from member vectors) on the seed initiatives
//! and on 10,000 synthetic items; `simsum::summarize::summarize` (LexRank centrality blended with
//! centroid closeness, MMR selection) on each seed report's sentences and on 2,000 synthetic
//! sentences (the default cap of the similarity graph).
//! Data: the seed reports in `seeds/` embedded with the default model (real text, real vectors;
//! embedding is not timed), and topic-mixture vectors with made-up texts from
//! `benches/support/synthetic.rs` for the larger sizes. The kNN graphs are exact here (the index
//! stage is benchmarked in `benches/index.rs`).
//! Run: `cargo bench --bench themes`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use simsum::cluster::{cluster, ClusterParams};
use simsum::store::KnnGraph;
use simsum::summarize::{embed_documents, summarize, SentenceUnit, SummaryParams};

#[path = "../tests/support/seeds.rs"]
mod seeds;
#[path = "support/synthetic.rs"]
mod synthetic;

fn clustering(c: &mut Criterion) {
    let e = seeds::minilm();
    let seed = seeds::seed_items(&e);
    let (synthetic, topics) = synthetic::topic_items(10_000, 50, 384, 4);
    let mut g = c.benchmark_group("cluster");
    g.sample_size(10);
    for (name, items, knn) in [
        (
            "seed-initiatives",
            &seed,
            KnnGraph::brute_force(
                &seed.iter().map(|i| i.vector.clone()).collect::<Vec<_>>(),
                15,
            ),
        ),
        (
            "synthetic-10000",
            &synthetic,
            synthetic::topic_knn(&synthetic, &topics, 15),
        ),
    ] {
        g.throughput(Throughput::Elements(items.len() as u64));
        g.bench_function(BenchmarkId::new(name, items.len()), |b| {
            b.iter(|| cluster(items, &knn, &ClusterParams::default()).unwrap())
        });
    }
    g.finish();
}

fn ranking(c: &mut Criterion) {
    let e = seeds::minilm();
    let docs = seeds::seed_documents_for(&e);
    let units = embed_documents(&docs, &e).unwrap();
    let (vectors, _) = synthetic::topic_vectors(2_000, 20, 384, 5);
    let synthetic: Vec<SentenceUnit> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, vector)| SentenceUnit {
            text: format!("Synthetic sentence number {i} with a few words."),
            initiative_id: format!("doc#s1.p{}", i / 5),
            doc_id: "doc".into(),
            doc_title: "Document".into(),
            position: i,
            vector,
        })
        .collect();
    let params = SummaryParams::default();
    let mut g = c.benchmark_group("summarize");
    for (k, d) in docs.iter().enumerate() {
        let one: Vec<SentenceUnit> = units.iter().filter(|u| u.doc_id == d.id).cloned().collect();
        g.throughput(Throughput::Elements(one.len() as u64));
        g.bench_function(
            BenchmarkId::new(
                format!("seed-report-{}", k + 1),
                format!("{}-sentences", one.len()),
            ),
            |b| b.iter(|| summarize(&one, &params).unwrap()),
        );
    }
    g.sample_size(10);
    g.throughput(Throughput::Elements(synthetic.len() as u64));
    g.bench_function("synthetic/2000-sentences", |b| {
        b.iter(|| summarize(&synthetic, &params).unwrap())
    });
    g.finish();
}

criterion_group!(benches, clustering, ranking);
criterion_main!(benches);
