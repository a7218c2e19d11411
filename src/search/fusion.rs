//! How hybrid search ranks: the [`SearchMode`] of a text query and the [`Fusion`] of its dense
//! and lexical rankings into one. The one place that decides it (a store only answers each
//! ranking); the default was chosen on a known-item benchmark's dev queries (BENCHMARKS.md).
//!
//! Across languages a lexical score cannot exist: a Chinese query shares no word with the
//! English version of what it asks for. A dense candidate in another language than the query
//! that the lexical ranking lacks is therefore not judged by it ([`fuse`]'s `unjudged`): its
//! dense evidence stands for both rankings, instead of counting as a lexical zero that every
//! same-language text with a stray shared word would beat.

pub use crate::answer::SearchMode;

/// How hybrid search fuses the dense and lexical rankings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal rank fusion: `1/(k + rank)` summed over both rankings.
    Rrf { k: f32 },
    /// A convex combination of the two scores, each scaled to [0, 1] over its candidates
    /// (cosine: min to max; BM25: 0 to max): `(1 - w) * dense + w * lexical`.
    Convex { lexical_weight: f32 },
    /// The same combination of standard scores (each ranking's candidates centred on their
    /// mean and divided by their spread); a candidate missing from a ranking counts as that
    /// ranking's lowest.
    ZScore { lexical_weight: f32 },
}

impl Default for Fusion {
    /// The default, chosen on the benchmark's dev queries (BENCHMARKS.md, hybrid search).
    fn default() -> Self {
        Fusion::Convex {
            lexical_weight: DEFAULT_LEXICAL_WEIGHT,
        }
    }
}

/// The lexical weight of the default [`Fusion::Convex`].
pub const DEFAULT_LEXICAL_WEIGHT: f32 = 0.5;

/// Candidates each ranking contributes to a fusion (at least; more when `k` asks for more).
pub const FUSION_DEPTH: usize = 100;

/// The fused ranking of a dense and a lexical one (each best first), best first, ties by key.
/// `unjudged(key)` says that the lexical ranking could not have judged a dense candidate it
/// lacks (another language than the query's): such a candidate's dense score stands for both.
pub fn fuse(
    dense: &[(u64, f32)],
    lexical: &[(u64, f32)],
    fusion: Fusion,
    unjudged: &dyn Fn(u64) -> bool,
) -> Vec<(u64, f32)> {
    let mut score: std::collections::HashMap<u64, f32> = Default::default();
    let in_lexical: std::collections::HashSet<u64> = lexical.iter().map(|h| h.0).collect();
    let stands_for_both = |key: u64| !in_lexical.contains(&key) && unjudged(key);
    match fusion {
        Fusion::Rrf { k } => {
            for list in [dense, lexical] {
                for (rank, (key, _)) in list.iter().enumerate() {
                    *score.entry(*key).or_default() += 1.0 / (k + rank as f32 + 1.0);
                }
            }
            for (rank, (key, _)) in dense.iter().enumerate() {
                if stands_for_both(*key) {
                    *score.entry(*key).or_default() += 1.0 / (k + rank as f32 + 1.0);
                }
            }
        }
        Fusion::ZScore { lexical_weight: w } => {
            let standard = |list: &[(u64, f32)]| -> (Vec<(u64, f32)>, f32) {
                let n = list.len().max(1) as f32;
                let mean = list.iter().map(|h| h.1).sum::<f32>() / n;
                let var = list.iter().map(|h| (h.1 - mean).powi(2)).sum::<f32>() / n;
                let sd = var.sqrt().max(1e-6);
                let z: Vec<(u64, f32)> = list.iter().map(|&(k, s)| (k, (s - mean) / sd)).collect();
                let floor = z.iter().map(|h| h.1).fold(0.0f32, f32::min);
                (z, floor)
            };
            let (d, d_floor) = standard(dense);
            let (l, l_floor) = standard(lexical);
            let keys: std::collections::HashSet<u64> = d.iter().chain(&l).map(|h| h.0).collect();
            let dm: std::collections::HashMap<u64, f32> = d.into_iter().collect();
            let lm: std::collections::HashMap<u64, f32> = l.into_iter().collect();
            for k in keys {
                let dz = dm.get(&k).copied().unwrap_or(d_floor);
                let lz = if stands_for_both(k) {
                    dz
                } else {
                    lm.get(&k).copied().unwrap_or(l_floor)
                };
                score.insert(k, (1.0 - w) * dz + w * lz);
            }
        }
        Fusion::Convex { lexical_weight: w } => {
            let (lo, hi) = dense.iter().fold((f32::MAX, f32::MIN), |(lo, hi), (_, s)| {
                (lo.min(*s), hi.max(*s))
            });
            let span = hi - lo;
            for (key, s) in dense {
                let d = if span > 0.0 { (s - lo) / span } else { 1.0 };
                let weight = if stands_for_both(*key) { 1.0 } else { 1.0 - w };
                *score.entry(*key).or_default() += weight * d;
            }
            let top = lexical.iter().map(|(_, s)| *s).fold(0.0, f32::max);
            for (key, s) in lexical {
                let l = if top > 0.0 { s / top } else { 0.0 };
                *score.entry(*key).or_default() += w * l;
            }
        }
    }
    let mut out: Vec<(u64, f32)> = score.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_sums_reciprocal_ranks() {
        let dense = [(1, 0.9), (2, 0.8), (3, 0.1)];
        let lexical = [(3, 12.0), (1, 3.0)];
        let f = fuse(&dense, &lexical, Fusion::Rrf { k: 60.0 }, &|_| false);
        let keys: Vec<u64> = f.iter().map(|h| h.0).collect();
        assert_eq!(keys, [1, 3, 2]);
        assert!((f[0].1 - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-6);
    }

    /// The dense and lexical rankings of the weighted fusions' tests.
    const DENSE: [(u64, f32); 3] = [(1, 0.9), (2, 0.5), (3, 0.1)];
    const LEXICAL: [(u64, f32); 2] = [(3, 10.0), (2, 5.0)];

    /// [`DENSE`] and [`LEXICAL`] fused, no candidate unjudged.
    fn fused(fusion: Fusion) -> Vec<(u64, f32)> {
        fuse(&DENSE, &LEXICAL, fusion, &|_| false)
    }

    /// The keys of [`fused`], best first.
    fn order(fusion: Fusion) -> Vec<u64> {
        fused(fusion).iter().map(|h| h.0).collect()
    }

    #[test]
    fn convex_fusion_scales_each_ranking_before_weighing() {
        let keys = |w: f32| order(Fusion::Convex { lexical_weight: w });
        // Dense only: the dense order.
        assert_eq!(keys(0.0), [1, 2, 3]);
        assert_eq!(keys(1.0)[..2], [3, 2]);
        // 0.5: item 2 = 0.5 * 0.5 + 0.5 * 0.5 = 0.5, item 1 = 0.5, item 3 = 0.5: ties by key.
        let f = fused(Fusion::Convex {
            lexical_weight: 0.5,
        });
        assert!(f.iter().all(|h| (h.1 - 0.5).abs() < 1e-6), "{f:?}");
        assert_eq!(keys(0.5), [1, 2, 3]);
        // No lexical candidates (a query of stop words): the dense order.
        let f = fuse(&DENSE, &[], Fusion::default(), &|_| false);
        assert_eq!(f.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn zscore_fusion_standardises_each_ranking() {
        let keys = |w: f32| order(Fusion::ZScore { lexical_weight: w });
        assert_eq!(keys(0.0), [1, 2, 3]);
        assert_eq!(keys(1.0)[0], 3);
        // Item 1 is missing from the lexical ranking: it counts as its lowest (item 2's).
        let f = fused(Fusion::ZScore {
            lexical_weight: 1.0,
        });
        let s: std::collections::HashMap<u64, f32> = f.into_iter().collect();
        assert!((s[&1] - s[&2]).abs() < 1e-6 && s[&3] > s[&2], "{s:?}");
    }

    #[test]
    fn a_cross_lingual_dense_match_is_not_drowned_by_same_language_words() {
        // Item 1 (English) is the dense best for a Chinese query; items 2 and 3 (Chinese) share
        // a word with it. Without the language known, a lexical zero sinks item 1.
        let dense = [(1, 0.90), (2, 0.85), (3, 0.80)];
        let lexical = [(2, 4.0), (3, 3.0)];
        let english = |k: u64| k == 1;
        for fusion in [
            Fusion::default(),
            Fusion::Rrf { k: 60.0 },
            Fusion::ZScore {
                lexical_weight: 0.5,
            },
        ] {
            let blind = fuse(&dense, &lexical, fusion, &|_| false);
            assert_ne!(blind[0].0, 1, "{fusion:?}: the old behaviour, pinned");
            let aware = fuse(&dense, &lexical, fusion, &english);
            assert_eq!(aware[0].0, 1, "{fusion:?}: {aware:?}");
            // Same-language candidates keep their order.
            assert_eq!(aware[1].0, 2, "{fusion:?}");
        }
        // A candidate of the other language that the lexical ranking did find keeps its real
        // lexical score: only what the lexical ranking could not judge is filled in.
        let lexical = [(2, 4.0), (1, 1.0)];
        let f = fuse(&dense, &lexical, Fusion::default(), &english);
        let s: std::collections::HashMap<u64, f32> = f.into_iter().collect();
        assert!((s[&1] - (0.5 + 0.5 * 0.25)).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn modes_parse_and_name_the_choices() {
        for m in SearchMode::ALL {
            assert_eq!(m.as_str().parse::<SearchMode>().unwrap(), m);
        }
        assert!("bm25"
            .parse::<SearchMode>()
            .unwrap_err()
            .contains("hybrid, dense or lexical"));
        assert_eq!(SearchMode::default(), SearchMode::Hybrid);
    }
}
