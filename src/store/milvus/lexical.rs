//! The lexical side of a Milvus store. Milvus 2.3 keeps no term statistics (BM25 arrived with
//! sparse vectors in 2.5), so simsum keeps them: the first lexical query of a level reads the
//! level's texts once per handle (as exact search reads its vectors) and builds the same
//! [`LexicalIndex`] the local index builds from its stored terms. Both engines therefore score
//! every item alike, whatever the level's size. Why not a wide dense candidate set scored
//! lexically: a name the model blurs is exactly what such a set misses (see BENCHMARKS.md).

use std::collections::{HashMap, HashSet};

use crate::store::lexical::LexicalIndex;
use crate::store::{ItemFilter, StoredItem};

/// A level's BM25 postings and what filters need per key.
pub(super) struct LexicalLevel {
    index: LexicalIndex,
    /// Per key: document id and boilerplate flag.
    facts: HashMap<u64, (String, bool)>,
}

impl LexicalLevel {
    /// Postings of `items` (all live items of one level, texts filled in).
    pub(super) fn build(items: &[StoredItem]) -> Self {
        Self {
            index: LexicalIndex::build(
                items
                    .iter()
                    .map(|i| (i.key, crate::text::lexical::terms(&i.text))),
            ),
            facts: items
                .iter()
                .map(|i| (i.key, (i.doc_id.clone(), i.boilerplate)))
                .collect(),
        }
    }

    /// The `k` best matches that `filter` lets through (`allowed_docs`: the documents its
    /// scope keeps, `None` for all).
    pub(super) fn search(
        &self,
        allowed_docs: Option<&HashSet<&str>>,
        terms: &[String],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Vec<(u64, f32)> {
        let excluded: HashSet<u64> = filter.exclude_keys.iter().copied().collect();
        let allowed = |key: u64| {
            self.facts.get(&key).is_some_and(|(doc, bp)| {
                (filter.include_boilerplate || !bp)
                    && allowed_docs.is_none_or(|a| a.contains(doc.as_str()))
                    && !excluded.contains(&key)
                    && filter.keys.is_none_or(|k| k.contains(&key))
            })
        };
        self.index.search(terms, k, &allowed)
    }

    /// BM25 scores of `keys`.
    pub(super) fn scores(&self, terms: &[String], keys: &[u64]) -> Vec<f32> {
        self.index.scores(terms, keys)
    }
}
