//! BM25 over the items of one level, held in memory: the lexical side of hybrid search, shared
//! by both engines so that they score alike (the Milvus check asks for the same answers as the
//! local index).
//!
//! Terms come from [`crate::text::lexical`]; the local index keeps each item's terms in SQLite
//! (written in the same transaction as the item) and builds this index on the first lexical
//! query of a level; a Milvus store builds it from the texts it reads. The top `k` are found
//! with MaxScore (Turtle and Flood 1995; what Lucene's top-k scoring does, per term rather
//! than per block): every term knows the most it can add to any item, so once `k` items are
//! held, the terms whose bounds together cannot lift an item past the k-th are no longer walked,
//! only looked up for the items the other terms bring. A query of common words then costs its
//! rarest word's postings, not the corpus (the exhaustive walk it replaced read every posting of
//! every term, ~5x a dense search at 91k items). The result is exact: the same items and the
//! same scores (each summed in the query's term order) as walking everything, which
//! [`LexicalIndex::search_exhaustive`] still does for the tests. Why not FTS5's `bm25()` or
//! tantivy: see BENCHMARKS.md (lexical index).
//!
//! BM25 as Lucene and tantivy define it: `idf = ln(1 + (N - n + 0.5) / (n + 0.5))` (never
//! negative), `k1 = 1.2`, `b = 0.75`, document length in terms.

use std::collections::HashMap;

/// Term-frequency saturation.
pub const K1: f32 = 1.2;
/// Length normalisation.
pub const B: f32 = 0.75;

/// The postings of one level, laid out flat: every term's postings in one array (three large
/// allocations for the whole level, not one per term), so building a new store generation's
/// index churns no small objects and the old one is returned whole when it is dropped.
#[derive(Debug, Default)]
pub struct LexicalIndex {
    term_ids: HashMap<Box<str>, u32>,
    /// Every term's postings, term after term: (item position, term frequency), by position.
    postings: Vec<(u32, u32)>,
    /// Where each term's postings start in `postings` (one entry more than terms).
    offsets: Vec<usize>,
    keys: Vec<u64>,
    pos: HashMap<u64, u32>,
    /// Per item: `k1 * (1 - b + b * length / average length)`, the length part of BM25.
    norms: Vec<f32>,
    /// Per term: the largest `tf * (k1 + 1) / (tf + norm)` over its postings, which times the
    /// term's idf bounds what it adds to any item's score.
    max_impact: Vec<f32>,
}

/// Builds a [`LexicalIndex`] item by item, from borrowed terms (a database row's, say).
#[derive(Debug, Default)]
pub struct LexicalBuilder {
    term_ids: HashMap<Box<str>, u32>,
    /// (term id, item position, term frequency), in item order.
    entries: Vec<(u32, u32, u32)>,
    keys: Vec<u64>,
    lengths: Vec<u32>,
    total: u64,
    scratch: Vec<u32>,
}

impl LexicalBuilder {
    /// Adds the item `key` with its terms (with repeats, as [`crate::text::lexical::terms`]
    /// gives them).
    pub fn add<'t>(&mut self, key: u64, terms: impl IntoIterator<Item = &'t str>) {
        let p = self.keys.len() as u32;
        self.keys.push(key);
        self.scratch.clear();
        for t in terms {
            let id = match self.term_ids.get(t) {
                Some(&id) => id,
                None => {
                    let id = self.term_ids.len() as u32;
                    self.term_ids.insert(t.into(), id);
                    id
                }
            };
            self.scratch.push(id);
        }
        self.lengths.push(self.scratch.len() as u32);
        self.total += self.scratch.len() as u64;
        self.scratch.sort_unstable();
        for run in self.scratch.chunk_by(|a, b| a == b) {
            self.entries.push((run[0], p, run.len() as u32));
        }
    }

    /// The index: postings grouped by term (a counting sort, which keeps each term's
    /// postings in item order), lengths and bounds.
    pub fn finish(self) -> LexicalIndex {
        let mut offsets = vec![0usize; self.term_ids.len() + 1];
        for &(t, _, _) in &self.entries {
            offsets[t as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut next = offsets.clone();
        let mut postings = vec![(0u32, 0u32); self.entries.len()];
        for (t, p, tf) in self.entries {
            let at = &mut next[t as usize];
            postings[*at] = (p, tf);
            *at += 1;
        }
        let avg_len = if self.keys.is_empty() {
            0.0
        } else {
            self.total as f32 / self.keys.len() as f32
        };
        let mut ix = LexicalIndex {
            term_ids: self.term_ids,
            postings,
            offsets,
            pos: self
                .keys
                .iter()
                .enumerate()
                .map(|(p, &k)| (k, p as u32))
                .collect(),
            keys: self.keys,
            norms: self
                .lengths
                .into_iter()
                .map(|l| K1 * (1.0 - B + B * l as f32 / avg_len.max(1e-9)))
                .collect(),
            max_impact: Vec::new(),
        };
        ix.max_impact = (0..ix.term_ids.len())
            .map(|id| {
                ix.list(id)
                    .iter()
                    .map(|&(p, tf)| ix.term_score(1.0, tf, p))
                    .fold(0.0, f32::max)
            })
            .collect();
        ix
    }
}

impl LexicalIndex {
    /// An index over `(key, terms)` pairs (terms with repeats, as
    /// [`crate::text::lexical::terms`] gives them).
    pub fn build<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = (u64, Vec<S>)>,
        S: AsRef<str>,
    {
        let mut b = LexicalBuilder::default();
        for (key, terms) in items {
            b.add(key, terms.iter().map(AsRef::as_ref));
        }
        b.finish()
    }

    /// The postings of term `id`.
    fn list(&self, id: usize) -> &[(u32, u32)] {
        &self.postings[self.offsets[id]..self.offsets[id + 1]]
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
                    out.push((id, self.idf(self.list(id).len())));
                }
            }
        }
        out
    }

    /// The `k` best-scoring items holding at least one of `terms` and passing `allowed`, as
    /// `(key, score)`, best first, ties by key (MaxScore; see the module docs).
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
        // Terms by their bound, smallest first; `below[i]`: the bounds of terms 0..=i summed.
        let mut order: Vec<usize> = (0..q.len()).collect();
        let bound = |i: usize| q[i].1 * self.max_impact[q[i].0] + f32::MIN_POSITIVE;
        order.sort_by(|&a, &b| bound(a).total_cmp(&bound(b)));
        let below: Vec<f32> = order
            .iter()
            .scan(0.0f32, |s, &i| {
                *s += bound(i);
                Some(*s)
            })
            .collect();
        let lists: Vec<&[(u32, u32)]> = order.iter().map(|&i| self.list(q[i].0)).collect();
        let mut at = vec![0usize; lists.len()];
        let mut heap = TopK::new(k);
        // Terms 0..walked_from are looked up, not walked: together they cannot reach the k-th.
        let mut walked_from = 0;
        let mut parts = vec![0f32; q.len()];
        loop {
            let next = (walked_from..lists.len())
                .filter_map(|i| lists[i].get(at[i]).map(|e| e.0))
                .min();
            let Some(p) = next else { break };
            parts.iter_mut().for_each(|x| *x = 0.0);
            let mut partial = 0.0f32;
            for i in walked_from..lists.len() {
                if let Some(&(pp, tf)) = lists[i].get(at[i]) {
                    if pp == p {
                        let c = self.term_score(q[order[i]].1, tf, p).max(f32::MIN_POSITIVE);
                        parts[order[i]] = c;
                        partial += c;
                        at[i] += 1;
                    }
                }
            }
            let mut hopeless = false;
            for i in (0..walked_from).rev() {
                if !heap.may_enter(partial + below[i]) {
                    hopeless = true;
                    break;
                }
                let list = lists[i];
                at[i] += list[at[i]..].partition_point(|e| e.0 < p);
                if let Some(&(pp, tf)) = list.get(at[i]) {
                    if pp == p {
                        let c = self.term_score(q[order[i]].1, tf, p).max(f32::MIN_POSITIVE);
                        parts[order[i]] = c;
                        partial += c;
                    }
                }
            }
            let key = self.keys[p as usize];
            if hopeless || !heap.may_enter(partial) || !allowed(key) {
                continue;
            }
            // The score as the exhaustive walk sums it: in the query's term order.
            let score = parts
                .iter()
                .fold(0.0f32, |s, &x| if x > 0.0 { s + x } else { s });
            if heap.offer(key, score) {
                let theta = heap.threshold();
                while walked_from < lists.len() && below[walked_from] < theta * (1.0 - SLACK) {
                    walked_from += 1;
                }
            }
        }
        heap.into_sorted()
    }

    /// [`LexicalIndex::search`] by walking every posting of every term: the reference the
    /// pruned search is tested against.
    pub fn search_exhaustive(
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
            for &(p, tf) in self.list(id) {
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
                        let list = self.list(id);
                        list.binary_search_by_key(&p, |e| e.0)
                            .ok()
                            .map(|i| self.term_score(idf, list[i].1, p))
                    })
                    .sum()
            })
            .collect()
    }
}

/// Relative slack on the pruning bounds: a bound summed in another order may differ from the
/// exact score in the last bits, so an item is given up only when it is clearly below.
const SLACK: f32 = 1e-5;

/// The best `k` (key, score) pairs seen, best first by score then smaller key.
struct TopK {
    k: usize,
    /// Kept sorted best first (k is small: a fusion depth of 100 at most in practice).
    best: Vec<(u64, f32)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            best: Vec::with_capacity(k.min(1024) + 1),
        }
    }

    fn order(a: &(u64, f32), b: &(u64, f32)) -> std::cmp::Ordering {
        b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
    }

    /// The score an item must reach to be kept (0 until k are held).
    fn threshold(&self) -> f32 {
        if self.best.len() < self.k {
            0.0
        } else {
            self.best.last().map_or(0.0, |b| b.1)
        }
    }

    /// Whether an item whose score is at most `bound` could still be kept.
    fn may_enter(&self, bound: f32) -> bool {
        self.best.len() < self.k || bound >= self.threshold() * (1.0 - SLACK)
    }

    /// Keeps (key, score) if it ranks among the best k; true when the set changed.
    fn offer(&mut self, key: u64, score: f32) -> bool {
        let e = (key, score);
        let at = self
            .best
            .partition_point(|b| Self::order(b, &e) == std::cmp::Ordering::Less);
        if at >= self.k {
            return false;
        }
        self.best.insert(at, e);
        self.best.truncate(self.k);
        true
    }

    fn into_sorted(self) -> Vec<(u64, f32)> {
        self.best
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

    /// A level of `n` items over a Zipf-like vocabulary (a few very common terms, many rare).
    fn zipf_level(n: usize, seed: u64) -> LexicalIndex {
        let mut s = seed;
        let mut next = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize
        };
        LexicalIndex::build((0..n).map(|i| {
            let len = 3 + next() % 20;
            let terms: Vec<String> = (0..len)
                .map(|_| {
                    let r = next() % 1000 + 1;
                    format!("w{}", 1000 / r)
                })
                .collect();
            ((i as u64 * 7919) % 100_003, terms)
        }))
    }

    #[test]
    fn pruned_search_equals_the_exhaustive_walk() {
        let ix = zipf_level(3000, 7);
        let queries: Vec<Vec<String>> = vec![
            t(&["w1"]),
            t(&["w1", "w2", "w3"]),
            t(&["w1", "w500", "w2"]),
            t(&["w7", "w1000", "w1", "w1", "w33"]),
            t(&["w250", "w3", "nothing"]),
            t(&["w1", "w2", "w3", "w4", "w5", "w6", "w8", "w10"]),
        ];
        let filters: [&dyn Fn(u64) -> bool; 3] = [&|_| true, &|k| k % 3 != 0, &|k| k % 97 == 1];
        for terms in &queries {
            for (f, allowed) in filters.iter().enumerate() {
                for k in [1, 10, 100, 5000] {
                    let fast = ix.search(terms, k, allowed);
                    let slow = ix.search_exhaustive(terms, k, allowed);
                    assert_eq!(fast, slow, "{terms:?} filter {f} k {k}");
                }
            }
        }
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
