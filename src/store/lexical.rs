//! BM25 over the items of one level, held in memory: the lexical side of hybrid search, shared
//! by both engines so that they score alike (the Milvus check asks for the same answers as the
//! local index).
//!
//! Terms come from [`crate::text::lexical`]; the local index keeps each item's terms in SQLite
//! (written in the same transaction as the item) and builds this index on the first lexical
//! query of a level; a Milvus store builds it from the texts it reads. Scoring walks the
//! postings of the query's terms (a query has a handful; the longest list in a 100k-item level
//! is tens of thousands of entries, a fraction of a millisecond), so no pruning is needed and
//! the result is exact. Why not FTS5's `bm25()` or tantivy: see BENCHMARKS.md (lexical index).
//!
//! BM25 as Lucene and tantivy define it: `idf = ln(1 + (N - n + 0.5) / (n + 0.5))` (never
//! negative), `k1 = 1.2`, `b = 0.75`, document length in terms.

use std::collections::HashMap;

/// Term-frequency saturation.
pub const K1: f32 = 1.2;
/// Length normalisation.
pub const B: f32 = 0.75;

/// The postings of one level.
#[derive(Debug, Default)]
pub struct LexicalIndex {
    term_ids: HashMap<String, u32>,
    /// Per term: (item position, term frequency), by position.
    postings: Vec<Vec<(u32, u32)>>,
    keys: Vec<u64>,
    pos: HashMap<u64, u32>,
    /// Per item: `k1 * (1 - b + b * length / average length)`, the length part of BM25.
    norms: Vec<f32>,
}

impl LexicalIndex {
    /// An index over `(key, terms)` pairs (terms with repeats, as
    /// [`crate::text::lexical::terms`] gives them).
    pub fn build<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = (u64, Vec<S>)>,
        S: AsRef<str>,
    {
        let mut ix = LexicalIndex::default();
        let mut ids: Vec<u32> = Vec::new();
        let mut total: u64 = 0;
        let mut lengths: Vec<u32> = Vec::new();
        for (key, terms) in items {
            let p = ix.keys.len() as u32;
            ix.keys.push(key);
            ix.pos.insert(key, p);
            ids.clear();
            for t in &terms {
                let t = t.as_ref();
                let id = match ix.term_ids.get(t) {
                    Some(&id) => id,
                    None => {
                        let id = ix.postings.len() as u32;
                        ix.term_ids.insert(t.to_string(), id);
                        ix.postings.push(Vec::new());
                        id
                    }
                };
                ids.push(id);
            }
            lengths.push(ids.len() as u32);
            total += ids.len() as u64;
            ids.sort_unstable();
            for run in ids.chunk_by(|a, b| a == b) {
                ix.postings[run[0] as usize].push((p, run.len() as u32));
            }
        }
        let avg_len = if ix.keys.is_empty() {
            0.0
        } else {
            total as f32 / ix.keys.len() as f32
        };
        ix.norms = lengths
            .into_iter()
            .map(|l| K1 * (1.0 - B + B * l as f32 / avg_len.max(1e-9)))
            .collect();
        ix
    }

    /// Items indexed.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no item is indexed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn idf(&self, postings: usize) -> f32 {
        let n = self.keys.len() as f32;
        let df = postings as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn term_score(&self, idf: f32, tf: u32, p: u32) -> f32 {
        let tf = tf as f32;
        idf * tf * (K1 + 1.0) / (tf + self.norms[p as usize])
    }

    /// Distinct known terms of a query, as `(term id, idf)`.
    fn query(&self, terms: &[String]) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = Vec::new();
        for t in terms {
            if let Some(&id) = self.term_ids.get(t.as_str()) {
                let id = id as usize;
                if !out.iter().any(|(i, _)| *i == id) {
                    out.push((id, self.idf(self.postings[id].len())));
                }
            }
        }
        out
    }

    /// The `k` best-scoring items holding at least one of `terms` and passing `allowed`, as
    /// `(key, score)`, best first, ties by key.
    pub fn search(
        &self,
        terms: &[String],
        k: usize,
        allowed: &dyn Fn(u64) -> bool,
    ) -> Vec<(u64, f32)> {
        let q = self.query(terms);
        if q.is_empty() || k == 0 {
            return Vec::new();
        }
        // A dense accumulator and the positions touched: cheaper than a map at these sizes.
        let mut acc = vec![0f32; self.keys.len()];
        let mut touched: Vec<u32> = Vec::new();
        for &(id, idf) in &q {
            for &(p, tf) in &self.postings[id] {
                let a = &mut acc[p as usize];
                if *a == 0.0 {
                    touched.push(p);
                }
                *a += self.term_score(idf, tf, p).max(f32::MIN_POSITIVE);
            }
        }
        let mut hits: Vec<(u64, f32)> = touched
            .into_iter()
            .map(|p| (self.keys[p as usize], acc[p as usize]))
            .collect();
        let order = |a: &(u64, f32), b: &(u64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        // Filters usually pass most items: check the best few first, and only when too few of
        // them pass, all of them.
        let few = k.saturating_mul(4).max(64);
        if hits.len() > few {
            let mut best = hits.clone();
            best.select_nth_unstable_by(few - 1, order);
            best.truncate(few);
            best.retain(|h| allowed(h.0));
            if best.len() >= k {
                best.sort_by(order);
                best.truncate(k);
                return best;
            }
        }
        hits.retain(|h| allowed(h.0));
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, order);
            hits.truncate(k);
        }
        hits.sort_by(order);
        hits
    }

    /// The BM25 score of each of `keys` (0 for an item with none of the terms, or unknown).
    pub fn scores(&self, terms: &[String], keys: &[u64]) -> Vec<f32> {
        let q = self.query(terms);
        keys.iter()
            .map(|key| {
                let Some(&p) = self.pos.get(key) else {
                    return 0.0;
                };
                q.iter()
                    .filter_map(|&(id, idf)| {
                        let list = &self.postings[id];
                        list.binary_search_by_key(&p, |e| e.0)
                            .ok()
                            .map(|i| self.term_score(idf, list[i].1, p))
                    })
                    .sum()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ix() -> LexicalIndex {
        LexicalIndex::build([
            (10, vec!["school", "meal", "child"]),
            (11, vec!["school", "school", "bus"]),
            (
                12,
                vec![
                    "adms", "fund", "school", "meal", "meal", "meal", "long", "text", "here",
                ],
            ),
            (13, vec!["river", "flood"]),
        ])
    }

    fn t(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rare_terms_outweigh_common_ones_and_unmatched_items_are_left_out() {
        let ix = ix();
        let hits = ix.search(&t(&["adms", "school"]), 10, &|_| true);
        assert_eq!(hits[0].0, 12);
        assert_eq!(hits.len(), 3, "{hits:?}");
        assert!(ix.search(&t(&["nothing"]), 10, &|_| true).is_empty());
        assert!(ix
            .search(&t(&["school"]), 10, &|k| k != 11)
            .iter()
            .all(|h| h.0 != 11));
    }

    #[test]
    fn scores_match_a_hand_computed_bm25() {
        let ix = ix();
        // "child": n = 1 of N = 4; item 10 has 3 terms, the average is 17 / 4.
        let idf = (1.0f32 + (4.0 - 1.0 + 0.5) / 1.5).ln();
        let norm = 1.0 - B + B * 3.0 / (17.0 / 4.0);
        let want = idf * (K1 + 1.0) / (1.0 + K1 * norm);
        let got = ix.scores(&t(&["child"]), &[10, 13, 99]);
        assert!((got[0] - want).abs() < 1e-6, "{got:?} {want}");
        assert_eq!(&got[1..], [0.0, 0.0]);
        let hits = ix.search(&t(&["child", "child"]), 1, &|_| true);
        assert!(
            (hits[0].1 - want).abs() < 1e-6,
            "a repeated query term counts once"
        );
    }

    #[test]
    fn ties_break_by_key() {
        let ix = LexicalIndex::build([(5, vec!["a1"]), (3, vec!["a1"]), (4, vec!["a1"])]);
        let keys: Vec<u64> = ix
            .search(&t(&["a1"]), 2, &|_| true)
            .iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(keys, [3, 4]);
    }
}
