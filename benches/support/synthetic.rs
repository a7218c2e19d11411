//! Synthetic data shaped like a large index, for benchmarks that need more items than the seeds
//! have: unit vectors scattered around topic centres, each item with a ~45-word text drawn from
//! its topic's vocabulary plus common filler, and a kNN graph that stands in for the index's
//! HNSW graph (mostly in-topic neighbours by exact similarity, two random ones). Deterministic.
#![allow(dead_code)]

use rayon::prelude::*;
use simsum::cluster::ThemeItem;
use simsum::embed::{dot, normalize};
use simsum::store::KnnGraph;

/// SplitMix64: small, fast, reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn gauss(&mut self) -> f32 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let v = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * (u + 1e-12).ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// A pronounceable made-up word of 2-3 syllables.
pub fn word(rng: &mut Rng) -> String {
    const C: &[u8] = b"bcdfghklmnprstvz";
    const V: &[u8] = b"aeiou";
    let syl = 2 + rng.below(2);
    (0..syl)
        .flat_map(|_| [C[rng.below(C.len())] as char, V[rng.below(V.len())] as char])
        .collect()
}

/// `n` unit vectors of `dim` dimensions around `topics` random centres (noise 0.06 per
/// coordinate), item `i` in topic `i % topics`; returns the vectors and each one's topic.
pub fn topic_vectors(
    n: usize,
    topics: usize,
    dim: usize,
    seed: u64,
) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut rng = Rng(seed);
    let centres: Vec<Vec<f32>> = (0..topics)
        .map(|_| {
            let mut c: Vec<f32> = (0..dim).map(|_| rng.gauss()).collect();
            normalize(&mut c);
            c
        })
        .collect();
    let mut vectors = Vec::with_capacity(n);
    let mut topic_of = Vec::with_capacity(n);
    for i in 0..n {
        let t = i % topics;
        let mut v: Vec<f32> = centres[t].iter().map(|c| c + 0.06 * rng.gauss()).collect();
        normalize(&mut v);
        vectors.push(v);
        topic_of.push(t);
    }
    (vectors, topic_of)
}

/// Clustering input: [`topic_vectors`] with a text per item (20 items per document).
pub fn topic_items(n: usize, topics: usize, dim: usize, seed: u64) -> (Vec<ThemeItem>, Vec<usize>) {
    let (vectors, topic_of) = topic_vectors(n, topics, dim, seed);
    let mut rng = Rng(seed ^ 0xA5A5);
    let vocab: Vec<Vec<String>> = (0..topics)
        .map(|_| (0..30).map(|_| word(&mut rng)).collect())
        .collect();
    let common: Vec<String> = (0..300).map(|_| word(&mut rng)).collect();
    let filler = [
        "the", "and", "of", "to", "in", "with", "for", "their", "has", "have",
    ];
    let items = vectors
        .into_iter()
        .enumerate()
        .map(|(i, vector)| {
            let t = topic_of[i];
            let text: Vec<&str> = (0..45)
                .map(|j| match j % 3 {
                    0 => filler[rng.below(filler.len())],
                    1 => vocab[t][rng.below(30)].as_str(),
                    _ if rng.below(2) == 0 => vocab[t][rng.below(30)].as_str(),
                    _ => common[rng.below(common.len())].as_str(),
                })
                .collect();
            ThemeItem {
                id: format!("doc{}#s0.p{}", i / 20, i % 20),
                doc_id: format!("doc{}", i / 20),
                doc_title: format!("Document {}", i / 20),
                text: text.join(" ") + ".",
                vector,
            }
        })
        .collect();
    (items, topic_of)
}

/// A `k`-NN graph: the `k - 2` most similar items of the same topic (exact) and two random
/// items, sorted by similarity, as the index's HNSW graph would give on such data.
pub fn topic_knn(items: &[ThemeItem], topic_of: &[usize], k: usize) -> KnnGraph {
    let n = items.len();
    let topics = topic_of.iter().max().map_or(0, |m| m + 1);
    let mut by_topic = vec![Vec::new(); topics];
    for (i, &t) in topic_of.iter().enumerate() {
        by_topic[t].push(i);
    }
    let neighbours = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut row: Vec<(usize, f32)> = by_topic[topic_of[i]]
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| (j, dot(&items[i].vector, &items[j].vector)))
                .collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            row.truncate(k.saturating_sub(2));
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
    KnnGraph { neighbours }
}
