//! k-nearest-neighbour graphs over item vectors: the input of clustering.

use rayon::prelude::*;

/// For each item, its nearest other items as `(item, cosine similarity)`, most similar first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnnGraph {
    pub neighbours: Vec<Vec<(usize, f32)>>,
}

impl KnnGraph {
    /// Exact kNN graph by comparing every pair: O(n^2 d), for small sets and for tests.
    /// `vectors` must be L2-normalised. Similarities come from blocked matrix products (256
    /// rows against all items at a time, blocks in parallel) and each row keeps its top `k` by
    /// selection, so a few thousand items take a fraction of a second. Ties are broken by the
    /// lower item number, so the graph is deterministic.
    pub fn brute_force(vectors: &[Vec<f32>], k: usize) -> Self {
        const BLOCK: usize = 256;
        let n = vectors.len();
        let d = vectors.first().map_or(0, Vec::len);
        if n == 0 || vectors.iter().any(|v| v.len() != d) {
            return Self::brute_force_scalar(vectors, k);
        }
        let flat: Vec<f32> = vectors.concat();
        let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
        let blocks: Vec<Vec<Vec<(usize, f32)>>> = starts
            .into_par_iter()
            .map(|start| {
                let rows = BLOCK.min(n - start);
                let mut sims = vec![0f32; rows * n];
                crate::embed::cpu::matmul_wt(
                    rows,
                    n,
                    d,
                    &mut sims,
                    &flat[start * d..(start + rows) * d],
                    &flat,
                    gemm::Parallelism::None,
                );
                sims.chunks(n)
                    .enumerate()
                    .map(|(r, row)| top_k(row, start + r, k))
                    .collect()
            })
            .collect();
        Self {
            neighbours: blocks.into_iter().flatten().collect(),
        }
    }

    /// The same graph with one dot product per pair (any vector lengths).
    fn brute_force_scalar(vectors: &[Vec<f32>], k: usize) -> Self {
        let neighbours = (0..vectors.len())
            .into_par_iter()
            .map(|i| {
                let row: Vec<f32> = vectors
                    .iter()
                    .map(|v| crate::embed::dot(&vectors[i], v))
                    .collect();
                top_k(&row, i, k)
            })
            .collect();
        Self { neighbours }
    }

    /// Number of items in the graph.
    pub fn len(&self) -> usize {
        self.neighbours.len()
    }

    /// True when the graph has no items.
    pub fn is_empty(&self) -> bool {
        self.neighbours.is_empty()
    }
}

/// Candidate list size for the HNSW searches that build a kNN graph: twice the neighbours
/// asked for (one query per item; a clustering graph tolerates a missed neighbour far better
/// than a user's search does, and search time grows with ef).
pub fn graph_ef(k: usize) -> usize {
    (2 * (k + 1)).max(16)
}

/// The `k` highest entries of `row` other than `skip`, best first, ties to the lower index.
fn top_k(row: &[f32], skip: usize, k: usize) -> Vec<(usize, f32)> {
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let mut all: Vec<(usize, f32)> = row
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != skip)
        .map(|(j, &s)| (j, s))
        .collect();
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    if k < all.len() {
        all.select_nth_unstable_by(k - 1, order);
    }
    // A new vector of `k`: truncating `all` would keep its capacity, a whole row per item
    // (n² entries for the graph: 169 MB held while 3,000 items were clustered).
    let mut best = all[..k].to_vec();
    best.sort_by(order);
    best
}

impl KnnGraph {
    /// Approximate kNN graph through an HNSW graph built with `params`: for large sets, where
    /// [`KnnGraph::brute_force`] is too slow. `vectors` must be L2-normalised.
    /// An approximate graph through an HNSW graph built in memory with the engine's default
    /// parameters (callers outside the store need not know them).
    pub fn approximate(vectors: &[Vec<f32>], k: usize) -> Self {
        Self::from_hnsw(
            vectors,
            k,
            crate::store::local::layout::HnswParams::default(),
        )
    }

    pub fn from_hnsw(
        vectors: &[Vec<f32>],
        k: usize,
        params: crate::store::local::layout::HnswParams,
    ) -> Self {
        let graph = super::hnsw::HnswGraph::build(vectors, params);
        let neighbours = (0..vectors.len())
            .into_par_iter()
            .map(|i| {
                let mut row = graph.search(&vectors[i], k + 1, graph_ef(k));
                row.retain(|&(j, _)| j != i);
                row.truncate(k);
                row
            })
            .collect();
        Self { neighbours }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The graph holds `k` neighbours per item, not a row of the similarity matrix: each list's
    /// allocation is `k` long (the lists once kept a whole row's capacity, n² entries in all).
    #[test]
    fn brute_force_lists_hold_k_neighbours_best_first() {
        let n = 300;
        let vectors: Vec<Vec<f32>> = (0..n)
            .map(|i| {
                let a = i as f32 * 0.01;
                vec![a.cos(), a.sin(), 0.5]
            })
            .collect();
        let g = KnnGraph::brute_force(&vectors, 5);
        assert_eq!(g.len(), n);
        for (i, list) in g.neighbours.iter().enumerate() {
            assert_eq!(list.len(), 5);
            assert!(
                list.capacity() <= 5,
                "item {i}: capacity {}",
                list.capacity()
            );
            assert!(list.iter().all(|&(j, _)| j != i));
            assert!(list.windows(2).all(|w| w[0].1 >= w[1].1));
        }
        // The nearest of item 10 on the arc are its neighbours on either side.
        let near: Vec<usize> = g.neighbours[10][..2].iter().map(|x| x.0).collect();
        assert!(near.contains(&9) && near.contains(&11), "{near:?}");
    }
}
