//! k-nearest-neighbour graphs over item vectors: the input of clustering.

use rayon::prelude::*;

/// For each item, its nearest other items as `(item, cosine similarity)`, most similar first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnnGraph {
    pub neighbours: Vec<Vec<(usize, f32)>>,
}

impl KnnGraph {
    /// Exact kNN graph by comparing every pair: O(n^2 d), for small sets and for tests.
    /// `vectors` must be L2-normalised.
    pub fn brute_force(vectors: &[Vec<f32>], k: usize) -> Self {
        let neighbours = (0..vectors.len())
            .into_par_iter()
            .map(|i| {
                let mut row: Vec<(usize, f32)> = (0..vectors.len())
                    .filter(|&j| j != i)
                    .map(|j| (j, crate::embed::dot(&vectors[i], &vectors[j])))
                    .collect();
                row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                row.truncate(k);
                row
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

impl KnnGraph {
    /// Approximate kNN graph through an HNSW graph built with `params`: for large sets, where
    /// [`KnnGraph::brute_force`] is too slow. `vectors` must be L2-normalised.
    pub fn from_hnsw(vectors: &[Vec<f32>], k: usize, params: super::layout::HnswParams) -> Self {
        let graph = super::hnsw::HnswGraph::build(vectors, params);
        let neighbours = (0..vectors.len())
            .into_par_iter()
            .map(|i| {
                let mut row = graph.search(&vectors[i], k + 1, params.ef_search.max(k + 1));
                row.retain(|&(j, _)| j != i);
                row.truncate(k);
                row
            })
            .collect();
        Self { neighbours }
    }
}
