//! Measures `simsum::cluster::cluster` (community detection, unclustering, labels, report) on
//! synthetic data shaped like a large index: N items (default 100,000) of 384-d unit vectors
//! around 200 topics, each with a ~45-word text drawn from its topic's vocabulary plus common
//! filler, and a 15-NN graph (13 in-topic neighbours by exact similarity, 2 from other topics),
//! standing in for the index's HNSW graph. Building the data and the graph is not timed.
//!
//! With `hnsw` as third argument, the kNN graph instead comes from searching an HNSW graph of
//! the vectors (M=16, ef_construction=200; its build is not timed: an index already has it) for
//! every item at `simsum::store::local::graphs::knn::graph_ef(k)`, the way `simsum cluster` reads an index above 10,000 items; that search
//! is timed and reported with its recall against the exact in-topic graph.
//!
//! Run: `cargo run --release --example cluster_scale -- [N] [threads] [hnsw]`

use std::time::Instant;

use simsum::cluster::{cluster, ClusterParams};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    if let Some(t) = args.get(2).and_then(|s| s.parse::<usize>().ok()) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .unwrap();
    }
    let (topics, dim, k) = (200usize, 384usize, 15usize);
    let t0 = Instant::now();
    let (items, topic_of) = synthetic::topic_items(n, topics, dim, 1);
    let mut knn = synthetic::topic_knn(&items, &topic_of, k);
    eprintln!(
        "data and {k}-NN graph for {n} items built in {:.1} s (not timed)",
        t0.elapsed().as_secs_f64()
    );
    let mut knn_secs = 0.0;
    if args.get(3).map(String::as_str) == Some("hnsw") {
        use rayon::prelude::*;
        let params = simsum::store::local::layout::HnswParams {
            m: 16,
            ef_construction: 200,
            ef_search: 128,
        };
        let vectors: Vec<Vec<f32>> = items.iter().map(|i| i.vector.clone()).collect();
        let t = Instant::now();
        let graph = simsum::store::local::graphs::HnswGraph::build(&vectors, params);
        eprintln!(
            "HNSW graph built in {:.1} s (not timed)",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let neighbours: Vec<Vec<(usize, f32)>> = vectors
            .par_iter()
            .enumerate()
            .map(|(i, v)| {
                let mut row =
                    graph.search(v, k + 1, simsum::store::local::graphs::knn::graph_ef(k));
                row.retain(|&(j, _)| j != i);
                row.truncate(k);
                row
            })
            .collect();
        knn_secs = t.elapsed().as_secs_f64();
        // Recall against the in-topic part of the exact graph (its first k - 2 neighbours).
        let mut hit = 0usize;
        for (row, exact) in neighbours.iter().zip(&knn.neighbours) {
            let got: std::collections::HashSet<usize> = row.iter().map(|x| x.0).collect();
            hit += exact
                .iter()
                .take(k - 2)
                .filter(|x| got.contains(&x.0))
                .count();
        }
        println!(
            "kNN graph from HNSW: {:.2} s, recall of the in-topic neighbours {:.3}",
            knn_secs,
            hit as f64 / (n * (k - 2)) as f64
        );
        knn = simsum::store::KnnGraph { neighbours };
    }

    let t = Instant::now();
    let report = cluster(&items, &knn, &ClusterParams::default()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let unclustered = report.unclustered.len();
    // Purity: share of clustered items whose theme's majority topic is their own.
    let mut pure = 0usize;
    for th in &report.themes {
        let mut counts = std::collections::HashMap::new();
        for &i in &th.member_indices {
            *counts.entry(topic_of[i]).or_insert(0usize) += 1;
        }
        pure += counts.values().max().copied().unwrap_or(0);
    }
    println!(
        "cluster: {n} items, {} themes, {unclustered} unclustered, purity {:.3}, {:.2} s on {} threads (with the kNN graph: {:.2} s)",
        report.themes.len(),
        pure as f64 / (n - unclustered).max(1) as f64,
        secs,
        rayon::current_num_threads(),
        secs + knn_secs
    );
    for th in report.themes.iter().take(3) {
        println!(
            "  #{} {} {:?} ({} items)",
            th.id, th.title, th.keyphrases, th.size
        );
    }
}
