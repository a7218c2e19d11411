//! Community detection on the kNN graph: a Leiden-style modularity optimiser.
//!
//! The kNN graph from [`crate::store::local::graphs::knn`] is made undirected (an edge's weight is the sum of
//! both directions' positive similarities, so mutual neighbours count twice), then partitioned by
//! repeated rounds of (1) local moving of nodes in a seeded random order to the neighbouring
//! community with the best modularity gain, (2) refinement, which splits every community into
//! its connected parts so no community is held together by nothing (the guarantee that sets
//! Leiden apart from Louvain), and (3) aggregation of the refined parts into super-nodes that
//! start in their unrefined community. Cost is linear in the number of edges per round, so it
//! scales to the 1M-item kNN graphs of large indexes; nothing here is n x n.

use crate::store::KnnGraph;

/// An undirected weighted graph in compressed sparse row form.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    /// Self-loop weight of each node (from aggregation).
    self_loops: Vec<f64>,
}

impl Graph {
    pub(crate) fn len(&self) -> usize {
        self.self_loops.len()
    }

    pub(crate) fn neighbours(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.offsets[i]..self.offsets[i + 1];
        self.targets[r.clone()]
            .iter()
            .zip(&self.weights[r])
            .map(|(&t, &w)| (t as usize, w))
    }

    /// Weighted degree, self-loop counted twice as in modularity's conventions.
    fn degree(&self, i: usize) -> f64 {
        self.neighbours(i).map(|(_, w)| w).sum::<f64>() + 2.0 * self.self_loops[i]
    }

    /// Builds the undirected graph of the `k` nearest neighbours of each node in `knn`,
    /// ignoring non-positive similarities and self edges.
    pub(crate) fn from_knn(knn: &KnnGraph, k: usize) -> Self {
        let n = knn.len();
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for (i, row) in knn.neighbours.iter().enumerate() {
            for &(j, s) in row.iter().take(k) {
                if j != i && j < n && s > 0.0 && s.is_finite() {
                    let (a, b) = (i.min(j) as u32, i.max(j) as u32);
                    edges.push((a, b, s as f64));
                }
            }
        }
        let merged = merge_edges(edges);
        Self::from_edges(n, &merged, vec![0.0; n])
    }

    /// CSR from undirected edges `(a, b, w)` with `a < b`, each listed once.
    fn from_edges(n: usize, edges: &[(u32, u32, f64)], self_loops: Vec<f64>) -> Self {
        let mut deg = vec![0usize; n + 1];
        for &(a, b, _) in edges {
            deg[a as usize + 1] += 1;
            deg[b as usize + 1] += 1;
        }
        for i in 0..n {
            deg[i + 1] += deg[i];
        }
        let offsets = deg.clone();
        let mut fill = deg;
        let mut targets = vec![0u32; offsets[n]];
        let mut weights = vec![0.0f64; offsets[n]];
        for &(a, b, w) in edges {
            for (x, y) in [(a, b), (b, a)] {
                let p = fill[x as usize];
                targets[p] = y;
                weights[p] = w;
                fill[x as usize] += 1;
            }
        }
        Self {
            offsets,
            targets,
            weights,
            self_loops,
        }
    }

    /// Collapses each community of `part` (dense labels 0..k) into one node.
    fn aggregate(&self, part: &[usize], k: usize) -> Self {
        let mut self_loops = vec![0.0f64; k];
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for i in 0..self.len() {
            let ci = part[i];
            self_loops[ci] += self.self_loops[i];
            for (j, w) in self.neighbours(i) {
                let cj = part[j];
                if ci == cj {
                    // Each internal edge is seen from both ends.
                    self_loops[ci] += w / 2.0;
                } else if ci < cj {
                    edges.push((ci as u32, cj as u32, w));
                }
            }
        }
        let merged = merge_edges(edges);
        Self::from_edges(k, &merged, self_loops)
    }

    fn total_weight(&self) -> f64 {
        (0..self.len()).map(|i| self.degree(i)).sum::<f64>() / 2.0
    }
}

/// A small, fast, seedable generator (SplitMix64): determinism for a given `--seed` without
/// depending on a generator crate's stream staying the same across versions.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            xs.swap(i, j);
        }
    }
}

/// Relabels to dense ids 0..k in order of first appearance; returns k.
fn relabel(part: &mut [usize]) -> usize {
    let mut map = std::collections::HashMap::new();
    for p in part.iter_mut() {
        let next = map.len();
        *p = *map.entry(*p).or_insert(next);
    }
    map.len()
}

/// One pass of local moving; returns whether any node moved.
fn local_moving(g: &Graph, part: &mut [usize], gamma: f64, rng: &mut SplitMix64) -> bool {
    let n = g.len();
    let m2 = 2.0 * g.total_weight();
    if m2 <= 0.0 {
        return false;
    }
    let degree: Vec<f64> = (0..n).map(|i| g.degree(i)).collect();
    let mut tot = vec![0.0f64; n.max(part.iter().copied().max().map_or(0, |x| x + 1))];
    for i in 0..n {
        tot[part[i]] += degree[i];
    }
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut link = vec![0.0f64; tot.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut any = false;
    // Sweep until a full pass makes no move (bounded: each pass strictly improves modularity).
    for _ in 0..50 {
        let mut moved = 0usize;
        for &i in &order {
            let ci = part[i];
            for (j, w) in g.neighbours(i) {
                let cj = part[j];
                if link[cj] == 0.0 {
                    touched.push(cj);
                }
                link[cj] += w;
            }
            tot[ci] -= degree[i];
            let ki = degree[i];
            let gain = |c: usize, l: f64| l - gamma * ki * tot[c] / m2;
            let mut best = ci;
            let mut best_gain = gain(ci, link[ci]);
            for &c in &touched {
                let gc = gain(c, link[c]);
                if gc > best_gain + 1e-12 || (best != ci && gc >= best_gain - 1e-12 && c < best) {
                    best = c;
                    best_gain = gc;
                }
            }
            tot[best] += degree[i];
            if best != ci {
                part[i] = best;
                moved += 1;
            }
            for &c in &touched {
                link[c] = 0.0;
            }
            touched.clear();
        }
        if moved == 0 {
            break;
        }
        any = true;
    }
    any
}

/// Splits every community into its connected components (the refinement step).
fn refine_connected(g: &Graph, part: &[usize]) -> Vec<usize> {
    let n = g.len();
    let mut refined = vec![usize::MAX; n];
    let mut next = 0usize;
    let mut stack = Vec::new();
    for s in 0..n {
        if refined[s] != usize::MAX {
            continue;
        }
        refined[s] = next;
        stack.push(s);
        while let Some(u) = stack.pop() {
            for (v, _) in g.neighbours(u) {
                if refined[v] == usize::MAX && part[v] == part[s] {
                    refined[v] = next;
                    stack.push(v);
                }
            }
        }
        next += 1;
    }
    refined
}

/// Partitions the graph's nodes into communities maximising modularity at resolution `gamma`,
/// starting from `start` (any labels, one per node) or from every node alone. Returns a dense
/// community label per node; every community is connected.
pub(crate) fn leiden(g: &Graph, gamma: f64, seed: u64, start: Option<&[usize]>) -> Vec<usize> {
    let n = g.len();
    let mut rng = SplitMix64::new(seed);
    // membership[i]: the current aggregate node holding original node i.
    let mut membership: Vec<usize> = (0..n).collect();
    let mut level = g.clone();
    let mut part: Vec<usize> = match start {
        Some(s) if s.len() == n => {
            let mut p = s.to_vec();
            relabel(&mut p);
            p
        }
        _ => (0..n).collect(),
    };
    for _ in 0..32 {
        let moved = local_moving(&level, &mut part, gamma, &mut rng);
        let k = relabel(&mut part);
        let mut refined = refine_connected(&level, &part);
        let kr = relabel(&mut refined);
        if !moved && kr == level.len() {
            break;
        }
        // Aggregate on the refined parts; each super-node starts in its unrefined community.
        let mut start = vec![0usize; kr];
        for i in 0..level.len() {
            start[refined[i]] = part[i];
        }
        for m in membership.iter_mut() {
            *m = refined[*m];
        }
        level = level.aggregate(&refined, kr);
        part = start;
        if kr == k && !moved {
            break;
        }
    }
    // Final communities: the last partition of the aggregate nodes, then connected parts in the
    // original graph (a community stitched together by moves can be disconnected).
    let mut labels: Vec<usize> = membership.iter().map(|&m| part[m]).collect();
    relabel(&mut labels);
    let mut out = refine_connected(g, &labels);
    relabel(&mut out);
    out
}

/// Modularity of `part` at resolution `gamma` (for tests and the report's parameters).
pub(crate) fn modularity(g: &Graph, part: &[usize], gamma: f64) -> f64 {
    let m2 = 2.0 * g.total_weight();
    if m2 <= 0.0 {
        return 0.0;
    }
    let k = part.iter().copied().max().map_or(0, |x| x + 1);
    let mut internal = vec![0.0f64; k];
    let mut tot = vec![0.0f64; k];
    for i in 0..g.len() {
        tot[part[i]] += g.degree(i);
        internal[part[i]] += 2.0 * g.self_loops[i];
        for (j, w) in g.neighbours(i) {
            if part[j] == part[i] {
                internal[part[i]] += w;
            }
        }
    }
    (0..k)
        .map(|c| internal[c] / m2 - gamma * (tot[c] / m2).powi(2))
        .sum()
}

/// Edges `(a, b, w)` sorted by `(a, b)`, repeats merged by adding their weights.
fn merge_edges(mut edges: Vec<(u32, u32, f64)>) -> Vec<(u32, u32, f64)> {
    edges.sort_unstable_by_key(|x| (x.0, x.1));
    let mut merged: Vec<(u32, u32, f64)> = Vec::with_capacity(edges.len());
    for e in edges {
        match merged.last_mut() {
            Some(last) if last.0 == e.0 && last.1 == e.1 => last.2 += e.2,
            _ => merged.push(e),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_cliques() -> KnnGraph {
        // Two 5-cliques joined by one weak edge.
        let mut neighbours = vec![Vec::new(); 10];
        for (i, row) in neighbours.iter_mut().enumerate() {
            for j in 0..10 {
                if i != j && i / 5 == j / 5 {
                    row.push((j, 0.9));
                }
            }
        }
        neighbours[4].push((5, 0.1));
        KnnGraph { neighbours }
    }

    #[test]
    fn finds_two_cliques() {
        let g = Graph::from_knn(&two_cliques(), 10);
        let p = leiden(&g, 1.0, 7, None);
        assert!(p[..5].iter().all(|&x| x == p[0]));
        assert!(p[5..].iter().all(|&x| x == p[5]));
        assert_ne!(p[0], p[5]);
        assert!(modularity(&g, &p, 1.0) > 0.4);
    }

    #[test]
    fn isolated_nodes_stay_alone() {
        let g = Graph::from_knn(
            &KnnGraph {
                neighbours: vec![vec![], vec![], vec![]],
            },
            10,
        );
        let p = leiden(&g, 1.0, 1, None);
        assert_eq!(p, vec![0, 1, 2]);
    }

    #[test]
    fn aggregation_keeps_total_weight() {
        let g = Graph::from_knn(&two_cliques(), 10);
        let part: Vec<usize> = (0..10).map(|i| i / 5).collect();
        let a = g.aggregate(&part, 2);
        assert!((a.total_weight() - g.total_weight()).abs() < 1e-9);
        assert!((modularity(&a, &[0, 1], 1.0) - modularity(&g, &part, 1.0)).abs() < 1e-9);
    }
}
