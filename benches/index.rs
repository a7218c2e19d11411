//! Micro-benchmarks of the index stage.
//!
//! What: HNSW insertion (building a graph of 10,000 points, M=16, ef_construction=200, on all
//! threads), HNSW search (top 10 at ef 64, one query at a time, on a graph of 20,000 points),
//! the exact scan (AVX2 dot products, as `search --exact` does) it replaces above 10,000 items
//! (top 10 over the same 20,000 points), and the kNN graph that clustering reads (k = 15 for every point of a 5,000-point graph).
//! Data: 384-dimensional unit vectors scattered around 200 topic centres (see
//! `benches/support/synthetic.rs`); real sentence embeddings are benchmarked at scale by
//! `simsum bench index --vectors FILE.npy` (benches/run.sh).
//! Run: `cargo bench --bench index`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use simsum::embed::dot;
use simsum::store::local::graphs::HnswGraph;
use simsum::store::local::layout::HnswParams;
use simsum::store::KnnGraph;

#[path = "support/synthetic.rs"]
mod synthetic;

fn params() -> HnswParams {
    HnswParams {
        m: 16,
        ef_construction: 200,
        ef_search: 64,
    }
}

fn insert(c: &mut Criterion) {
    let (vectors, _) = synthetic::topic_vectors(10_000, 200, 384, 1);
    let mut g = c.benchmark_group("hnsw");
    g.sample_size(10);
    g.throughput(Throughput::Elements(vectors.len() as u64));
    g.bench_function("insert/10000x384", |b| {
        b.iter(|| HnswGraph::build(&vectors, params()))
    });
    g.finish();
}

fn search(c: &mut Criterion) {
    let (vectors, _) = synthetic::topic_vectors(20_000, 200, 384, 2);
    let (queries, _) = synthetic::topic_vectors(256, 200, 384, 2);
    let graph = HnswGraph::build(&vectors, params());
    let mut g = c.benchmark_group("search");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function("hnsw-ef64/top10-of-20000", |b| {
        b.iter(|| {
            queries
                .iter()
                .map(|q| graph.search(q, 10, 64).len())
                .sum::<usize>()
        })
    });
    g.bench_function("exact/top10-of-20000", |b| {
        b.iter(|| {
            queries
                .iter()
                .map(|q| {
                    let mut s: Vec<(usize, f32)> =
                        vectors.iter().map(|v| dot(q, v)).enumerate().collect();
                    s.select_nth_unstable_by(10, |a, b| b.1.total_cmp(&a.1));
                    s.truncate(10);
                    s.len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

fn knn(c: &mut Criterion) {
    let (vectors, _) = synthetic::topic_vectors(5_000, 200, 384, 3);
    let mut g = c.benchmark_group("knn-graph");
    g.sample_size(10);
    g.throughput(Throughput::Elements(vectors.len() as u64));
    g.bench_function("hnsw-k15/5000", |b| {
        b.iter(|| KnnGraph::from_hnsw(&vectors, 15, params()))
    });
    g.finish();
}

criterion_group!(benches, insert, search, knn);
criterion_main!(benches);
