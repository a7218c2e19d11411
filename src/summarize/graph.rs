//! The sentence graph of a summary: cosine and word-overlap (TF-IDF) similarity matrices,
//! continuous LexRank over them, closeness to the centroid. Pure functions over vectors and
//! texts; [`super::score`] turns them into features.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::embed::{dot, normalize};

/// Cosine of each (normalised) vector with the normalised mean vector.
pub(super) fn centroid_closeness(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors[0].len();
    let mut c = vec![0.0f32; dim];
    for v in vectors {
        c.iter_mut().zip(v).for_each(|(a, b)| *a += b);
    }
    normalize(&mut c);
    vectors.iter().map(|v| dot(v, &c)).collect()
}

/// Dense row-major cosine matrix of normalised vectors.
pub(super) fn similarity_matrix(vectors: &[&[f32]]) -> Vec<f32> {
    let n = vectors.len();
    let mut m = vec![0.0f32; n * n];
    m.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = if i == j {
                1.0
            } else {
                crate::embed::dot(vectors[i], vectors[j])
            };
        }
    });
    m
}

/// Dense row-major TF-IDF cosine matrix of `texts` (each text a document for the IDF, as in
/// LexRank): words are the stemmed content words of [`crate::text::stems`]. The diagonal is 1.
pub fn lexical_similarity(texts: &[&str]) -> Vec<f32> {
    let n = texts.len();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let bags: Vec<Vec<(usize, f32)>> = texts
        .iter()
        .map(|t| {
            let mut counts: HashMap<usize, f32> = HashMap::new();
            for stem in crate::text::stems(t) {
                let next = ids.len();
                *counts.entry(*ids.entry(stem).or_insert(next)).or_default() += 1.0;
            }
            let mut bag: Vec<(usize, f32)> = counts.into_iter().collect();
            bag.sort_unstable_by_key(|&(id, _)| id);
            bag
        })
        .collect();
    let mut df = vec![0usize; ids.len()];
    for bag in &bags {
        for &(id, _) in bag {
            df[id] += 1;
        }
    }
    // tf * idf, unit length; postings list the (sentence, weight) pairs of every term.
    let mut postings: Vec<Vec<(usize, f32)>> = vec![Vec::new(); ids.len()];
    let weighted: Vec<Vec<(usize, f32)>> = bags
        .iter()
        .enumerate()
        .map(|(i, bag)| {
            let mut w: Vec<(usize, f32)> = bag
                .iter()
                .map(|&(id, tf)| (id, tf * ((n as f32 / df[id] as f32).ln() + 1.0)))
                .collect();
            let norm = w.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                w.iter_mut().for_each(|(_, x)| *x /= norm);
            }
            for &(id, x) in &w {
                postings[id].push((i, x));
            }
            w
        })
        .collect();
    let mut m = vec![0.0f32; n * n];
    m.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
        for &(id, x) in &weighted[i] {
            for &(j, y) in &postings[id] {
                row[j] += x * y;
            }
        }
        row[i] = 1.0;
    });
    m
}

/// Continuous LexRank: PageRank (damping 0.85) on the graph whose edge weights are the
/// positive cosine similarities, self-loops excluded.
pub(super) fn lexrank(sims: &[f32], n: usize) -> Vec<f32> {
    if n == 1 {
        return vec![1.0];
    }
    let damping = 0.85f32;
    let row_sums: Vec<f32> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i)
                .map(|j| sims[i * n + j].max(0.0))
                .sum()
        })
        .collect();
    let mut rank = vec![1.0 / n as f32; n];
    for _ in 0..100 {
        // Mass of nodes without any positive edge is spread uniformly (dangling nodes).
        let dangling: f32 = (0..n)
            .filter(|&j| row_sums[j] <= 0.0)
            .map(|j| rank[j])
            .sum::<f32>()
            / n as f32;
        let next: Vec<f32> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut acc = dangling;
                for j in 0..n {
                    if j != i && row_sums[j] > 0.0 {
                        // The matrix is symmetric: sims[j][i] == sims[i][j].
                        acc += sims[i * n + j].max(0.0) / row_sums[j] * rank[j];
                    }
                }
                (1.0 - damping) / n as f32 + damping * acc
            })
            .collect();
        let delta: f32 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        rank = next;
        if delta < 1e-6 {
            break;
        }
    }
    rank
}

/// Rescales to 0..=1; a constant input becomes all ones.
pub(super) fn min_max(xs: &[f32]) -> Vec<f32> {
    let lo = xs.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !(hi - lo).is_normal() {
        return vec![1.0; xs.len()];
    }
    xs.iter().map(|x| (x - lo) / (hi - lo)).collect()
}

/// Blends word overlap into the similarities (weight `lw`), and its counterpart of closeness to
/// the centroid (mean word overlap with all) into `close`.
pub(super) fn blend_lexical(texts: &[&str], lw: f32, sims: &mut [f32], close: &mut [f32]) {
    let words = lexical_similarity(texts);
    let n = texts.len();
    sims.iter_mut()
        .zip(&words)
        .for_each(|(s, w)| *s = (1.0 - lw) * *s + lw * w);
    for (i, c) in close.iter_mut().enumerate() {
        let mean = words[i * n..(i + 1) * n].iter().sum::<f32>() / n as f32;
        *c = (1.0 - lw) * *c + lw * mean;
    }
}
