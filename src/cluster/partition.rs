//! The partition: communities of the kNN graph by modularity (Leiden-style, `graph`), merged
//! down to themes of at least the minimum size by centroid similarity, then each item assigned
//! to the theme its neighbourhood and centroid agree on, or left unclustered (outliers).

use super::*;

/// Union-find with path halving.
pub(super) fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// A starting partition from earlier themes: items of one earlier theme together, every other
/// item alone.
pub(super) fn start_partition(start: &[Option<usize>]) -> Vec<usize> {
    let themes = start.iter().flatten().max().map_or(0, |t| t + 1);
    start
        .iter()
        .enumerate()
        .map(|(i, t)| t.unwrap_or(themes + i))
        .collect()
}

/// Community detection, and the resolution used; for a fixed count, the resolution rises until
/// there are enough themes (they are merged down to the count later).
pub(super) fn communities(
    g: &graph::Graph,
    params: &ClusterParams,
    min_size: usize,
    start: Option<&[usize]>,
) -> (Vec<usize>, f64) {
    let mut gamma = params.resolution.max(1e-6);
    let mut comm = graph::leiden(g, gamma, params.seed, start);
    if let ThemeCount::Fixed(want) = params.themes {
        for _ in 0..24 {
            let big = count_big(&comm, min_size);
            if big >= want || gamma > 1e4 {
                break;
            }
            gamma *= 1.6;
            comm = graph::leiden(g, gamma, params.seed, start);
        }
    }
    (comm, gamma)
}

/// Communities after merging those that say the same thing: a union-find over communities
/// with each one's vector sum and size.
pub(super) struct Merged {
    /// Each item's merged community.
    label: Vec<usize>,
    sizes: Vec<usize>,
}

impl Merged {
    pub(super) fn new(
        comm: &[usize],
        items: &[ThemeItem],
        g: &graph::Graph,
        params: &ClusterParams,
        dim: usize,
        min_size: usize,
    ) -> Self {
        let n_comm = comm.iter().copied().max().map_or(0, |x| x + 1);
        let mut sums = vec![vec![0.0f32; dim]; n_comm];
        let mut sizes = vec![0usize; n_comm];
        for (i, &c) in comm.iter().enumerate() {
            add_into(&mut sums[c], &items[i].vector);
            sizes[c] += 1;
        }
        let mut parent: Vec<usize> = (0..n_comm).collect();
        // Neighbouring communities whose centroids are alike (e.g. identical items split by
        // ties), most similar first.
        for (s, a, b) in scored_pairs(comm, g, &sums) {
            if s < params.merge_similarity {
                break;
            }
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra == rb {
                continue;
            }
            if dot(&normalized(&sums[ra]), &normalized(&sums[rb])) >= params.merge_similarity {
                join(&mut parent, &mut sums, &mut sizes, ra, rb);
            }
        }
        // A fixed count: merge the most similar big themes until the count is reached.
        if let ThemeCount::Fixed(want) = params.themes {
            loop {
                let roots: Vec<usize> = (0..n_comm)
                    .filter(|&c| parent[c] == c && sizes[c] >= min_size)
                    .collect();
                if roots.len() <= want.max(1) {
                    break;
                }
                let (a, b) = closest_pair(&roots, &sums);
                join(&mut parent, &mut sums, &mut sizes, a, b);
            }
        }
        let label = (0..comm.len())
            .map(|i| find(&mut parent, comm[i]))
            .collect();
        Self { label, sizes }
    }
}

/// Merges community `b` into `a` (the lower index survives).
pub(super) fn join(
    parent: &mut [usize],
    sums: &mut [Vec<f32>],
    sizes: &mut [usize],
    a: usize,
    b: usize,
) {
    let (keep, gone) = (a.min(b), a.max(b));
    parent[gone] = keep;
    let moved = std::mem::take(&mut sums[gone]);
    add_into(&mut sums[keep], &moved);
    sizes[keep] += sizes[gone];
}

/// Pairs of neighbouring communities as (cosine of their centroids, a, b), best first.
pub(super) fn scored_pairs(
    comm: &[usize],
    g: &graph::Graph,
    sums: &[Vec<f32>],
) -> Vec<(f32, usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for i in 0..comm.len() {
        for (j, _) in g.neighbours(i) {
            if comm[i] != comm[j] {
                pairs.push((comm[i].min(comm[j]), comm[i].max(comm[j])));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut scored: Vec<(f32, usize, usize)> = pairs
        .par_iter()
        .map(|&(a, b)| (dot(&normalized(&sums[a]), &normalized(&sums[b])), a, b))
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    scored
}

/// The two of `roots` whose centroids are most alike.
pub(super) fn closest_pair(roots: &[usize], sums: &[Vec<f32>]) -> (usize, usize) {
    let cents: Vec<Vec<f32>> = roots.iter().map(|&r| normalized(&sums[r])).collect();
    let mut best = (f32::NEG_INFINITY, 0, 0);
    for a in 0..roots.len() {
        for b in a + 1..roots.len() {
            let s = dot(&cents[a], &cents[b]);
            if s > best.0 {
                best = (s, roots[a], roots[b]);
            }
        }
    }
    (best.1, best.2)
}

/// Each item's theme (a merged community), or `None`: too small a theme, too weak a membership
/// (the share of its kNN edge weight that stays in its theme), or an outlier; themes left below
/// the minimum size dissolve.
pub(super) fn assign(
    g: &graph::Graph,
    merged: &Merged,
    items: &[ThemeItem],
    params: &ClusterParams,
    dim: usize,
    min_size: usize,
) -> Vec<Option<usize>> {
    let label = &merged.label;
    let mut assignment: Vec<Option<usize>> = label
        .iter()
        .map(|&c| (merged.sizes[c] >= min_size).then_some(c))
        .collect();
    for (i, slot) in assignment.iter_mut().enumerate() {
        let Some(c) = *slot else { continue };
        let (mut inside, mut total) = (0.0f64, 0.0f64);
        for (j, w) in g.neighbours(i) {
            total += w;
            if label[j] == c {
                inside += w;
            }
        }
        if total > 0.0 && inside / total < params.min_membership as f64 {
            *slot = None;
        }
    }
    for i in outliers(&assignment, items, dim) {
        assignment[i] = None;
    }
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for c in assignment.iter().flatten() {
        *counts.entry(*c).or_default() += 1;
    }
    for a in assignment.iter_mut() {
        if a.is_some_and(|c| counts[&c] < min_size) {
            *a = None;
        }
    }
    assignment
}

/// Items far less similar to their theme's centroid than its members typically are (robust
/// z-score below -3.5 on the median and MAD): they only joined for want of a better place.
pub(super) fn outliers(
    assignment: &[Option<usize>],
    items: &[ThemeItem],
    dim: usize,
) -> Vec<usize> {
    let mut by_theme: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, a) in assignment.iter().enumerate() {
        if let Some(c) = a {
            by_theme.entry(*c).or_default().push(i);
        }
    }
    by_theme
        .par_iter()
        .flat_map_iter(|(_, members)| {
            let mut centroid = vec![0.0f32; dim];
            for &i in members {
                add_into(&mut centroid, &items[i].vector);
            }
            normalize(&mut centroid);
            let sims: Vec<f32> = members
                .iter()
                .map(|&i| cosine_to(&items[i].vector, &centroid))
                .collect();
            let median = median_of(&sims);
            let mad = median_of(&sims.iter().map(|s| (s - median).abs()).collect::<Vec<_>>());
            let scale = (1.4826 * mad).max(0.05);
            members
                .iter()
                .zip(sims)
                .filter(move |(_, s)| (median - s) / scale > 3.5)
                .map(|(&i, _)| i)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Members of each theme with dense theme indices, biggest first (ties: earliest first member),
/// and each item's index among them.
pub(super) fn dense_groups(
    assignment: Vec<Option<usize>>,
) -> (Vec<Vec<usize>>, Vec<Option<usize>>) {
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, a) in assignment.iter().enumerate() {
        if let Some(c) = a {
            groups.entry(*c).or_default().push(i);
        }
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let mut dense = vec![None; assignment.len()];
    for (t, g) in groups.iter().enumerate() {
        for &i in g {
            dense[i] = Some(t);
        }
    }
    (groups, dense)
}

pub(super) fn count_big(comm: &[usize], min_size: usize) -> usize {
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for &c in comm {
        *sizes.entry(c).or_default() += 1;
    }
    sizes.values().filter(|&&s| s >= min_size).count()
}
