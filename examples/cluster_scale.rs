//! Measures `simsum::cluster::cluster` (community detection, unclustering, labels, report) on
//! synthetic data shaped like a large index: N items (default 100,000) of 384-d unit vectors
//! around 200 topics, each with a ~45-word text drawn from its topic's vocabulary plus common
//! filler, and a 15-NN graph (13 in-topic neighbours by exact similarity, 2 from other topics),
//! standing in for the index's HNSW graph. Building the data and the graph is not timed.
//!
//! Run: `cargo run --release --example cluster_scale -- [N] [threads]`

use std::time::Instant;

use rayon::prelude::*;
use simsum::cluster::{cluster, ClusterParams, ThemeItem};
use simsum::embed::{dot, normalize};
use simsum::index::knn::KnnGraph;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn gauss(&mut self) -> f32 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let v = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * (u + 1e-12).ln()).sqrt() * (6.283185307 * v).cos()) as f32
    }
}

fn word(rng: &mut Rng) -> String {
    const C: &[u8] = b"bcdfghklmnprstvz";
    const V: &[u8] = b"aeiou";
    let syl = 2 + rng.below(2);
    (0..syl)
        .flat_map(|_| [C[rng.below(C.len())] as char, V[rng.below(V.len())] as char])
        .collect()
}

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
    let mut rng = Rng(1);
    let centres: Vec<Vec<f32>> = (0..topics)
        .map(|_| {
            let mut c: Vec<f32> = (0..dim).map(|_| rng.gauss()).collect();
            normalize(&mut c);
            c
        })
        .collect();
    let vocab: Vec<Vec<String>> = (0..topics)
        .map(|_| (0..30).map(|_| word(&mut rng)).collect())
        .collect();
    let common: Vec<String> = (0..300).map(|_| word(&mut rng)).collect();
    let filler = [
        "the", "and", "of", "to", "in", "with", "for", "their", "has", "have",
    ];
    let mut items = Vec::with_capacity(n);
    let mut topic_of = Vec::with_capacity(n);
    for i in 0..n {
        let t = i % topics;
        let mut v: Vec<f32> = centres[t].iter().map(|c| c + 0.06 * rng.gauss()).collect();
        normalize(&mut v);
        let text: Vec<&str> = (0..45)
            .map(|j| match j % 3 {
                0 => filler[rng.below(filler.len())],
                1 => vocab[t][rng.below(30)].as_str(),
                _ => {
                    if rng.below(2) == 0 {
                        vocab[t][rng.below(30)].as_str()
                    } else {
                        common[rng.below(common.len())].as_str()
                    }
                }
            })
            .collect();
        items.push(ThemeItem {
            id: format!("doc{}#s0.p{}", i / 20, i % 20),
            doc_id: format!("doc{}", i / 20),
            doc_title: format!("Document {}", i / 20),
            text: text.join(" ") + ".",
            vector: v,
        });
        topic_of.push(t);
    }
    let t0 = Instant::now();
    let mut by_topic = vec![Vec::new(); topics];
    for (i, &t) in topic_of.iter().enumerate() {
        by_topic[t].push(i);
    }
    let neighbours: Vec<Vec<(usize, f32)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let same = &by_topic[topic_of[i]];
            let mut row: Vec<(usize, f32)> = same
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| (j, dot(&items[i].vector, &items[j].vector)))
                .collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            row.truncate(k - 2);
            let mut r = Rng(i as u64);
            for _ in 0..2 {
                let j = r.below(n);
                if j != i {
                    row.push((j, dot(&items[i].vector, &items[j].vector)));
                }
            }
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            row
        })
        .collect();
    let knn = KnnGraph { neighbours };
    eprintln!(
        "data and {k}-NN graph for {n} items built in {:.1} s (not timed)",
        t0.elapsed().as_secs_f64()
    );

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
        "cluster: {n} items, {} themes, {unclustered} unclustered, purity {:.3}, {:.2} s on {} threads",
        report.themes.len(),
        pure as f64 / (n - unclustered).max(1) as f64,
        secs,
        rayon::current_num_threads()
    );
    for th in report.themes.iter().take(3) {
        println!(
            "  #{} {} {:?} ({} items)",
            th.id, th.title, th.keyphrases, th.size
        );
    }
}
