//! Per-level search state of a reader: what filters need (key, document, boilerplate flag) and
//! either the level's saved graph or, for exact search, the vectors. A level below the exact
//! threshold, or whose graph is missing, damaged or built otherwise, is scanned exactly; a
//! graph that lacks some live items (a writer was killed before refreshing it) is searched and
//! the items it lacks are scanned. Nothing here writes: the next writer repairs the graph.
//! The level's lexical index (BM25, [`LexicalIndex`]) is built from the stored terms on the
//! first lexical query and kept, like the vectors.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use super::graphs::{self, FlatGraph};
use super::LocalStore;
use crate::embed::dot;
use crate::store::lexical::{LexicalBuilder, LexicalIndex};
use crate::store::{DocumentInfo, ItemFilter, Level, StoreError};

pub(super) struct LevelIndex {
    level: Level,
    /// Live items: key, document position, boilerplate flag.
    keys: Vec<u64>,
    doc_of: Vec<u32>,
    boilerplate: Vec<bool>,
    docs: Vec<DocumentInfo>,
    /// Position of each key in `keys`.
    pos: HashMap<u64, usize>,
    /// Flat vectors of the live items for exact search (loaded lazily).
    vectors: OnceLock<Vec<f32>>,
    /// BM25 postings of the live items (loaded lazily).
    lexical: OnceLock<LexicalIndex>,
    /// The saved graph, when the level is large and it is usable; plus the positions of live
    /// items the graph lacks (searched exactly).
    graph: Option<FlatGraph>,
    missing: Vec<usize>,
}

impl LevelIndex {
    pub(super) fn load(store: &LocalStore, level: Level) -> Result<Self, StoreError> {
        let docs = store.db.documents()?;
        let doc_pos: HashMap<&str, u32> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i as u32))
            .collect();
        let rows = store.db.level_keys(level)?;
        let mut li = LevelIndex {
            level,
            keys: Vec::with_capacity(rows.len()),
            doc_of: Vec::with_capacity(rows.len()),
            boilerplate: Vec::with_capacity(rows.len()),
            pos: HashMap::with_capacity(rows.len()),
            docs: Vec::new(),
            vectors: OnceLock::new(),
            lexical: OnceLock::new(),
            graph: None,
            missing: Vec::new(),
        };
        for (key, doc, bp) in rows {
            li.pos.insert(key, li.keys.len());
            li.keys.push(key);
            li.doc_of
                .push(doc_pos.get(doc.as_str()).copied().unwrap_or(u32::MAX));
            li.boilerplate.push(bp);
        }
        li.docs = docs;
        if li.keys.len() >= store.manifest.exact_threshold && level != Level::Sentence {
            // Missing, damaged or built otherwise: searched exactly until a writer rebuilds it.
            if let Some(graph) = graphs::load_search(&store.files, level, store.graph_spec()) {
                let in_graph: HashSet<usize> = graph.ids().iter().copied().collect();
                li.missing = (0..li.keys.len())
                    .filter(|&i| !in_graph.contains(&(li.keys[i] as usize)))
                    .collect();
                li.graph = Some(graph);
            }
        }
        Ok(li)
    }

    /// The saved graph in use, if any.
    pub(super) fn graph(&self) -> Option<&FlatGraph> {
        self.graph.as_ref()
    }

    /// Live items, and those of them the saved graph holds (0 without one).
    pub(super) fn sizes(&self) -> (usize, usize) {
        let in_graph = if self.graph.is_some() {
            self.keys.len() - self.missing.len()
        } else {
            0
        };
        (self.keys.len(), in_graph)
    }

    /// Whether the graph holds every live item.
    pub(super) fn complete(&self) -> bool {
        self.missing.is_empty()
    }

    fn flat_vectors(&self, store: &LocalStore) -> Result<&Vec<f32>, StoreError> {
        if let Some(v) = self.vectors.get() {
            return Ok(v);
        }
        let dim = store.manifest.dimension;
        let mut flat = vec![0f32; self.keys.len() * dim];
        store.db.each_live_vector(self.level, |key, v| {
            if let Some(&p) = self.pos.get(&key) {
                flat[p * dim..(p + 1) * dim].copy_from_slice(v);
            }
        })?;
        Ok(self.vectors.get_or_init(|| flat))
    }

    /// The level's BM25 index, built from the stored terms on first use.
    pub(super) fn lexical(&self, store: &LocalStore) -> Result<&LexicalIndex, StoreError> {
        if let Some(l) = self.lexical.get() {
            return Ok(l);
        }
        let mut builder = LexicalBuilder::default();
        store.db.each_level_terms(self.level, |key, terms| {
            if self.pos.contains_key(&key) {
                builder.add(key, terms);
            }
        })?;
        let built = builder.finish();
        Ok(self.lexical.get_or_init(|| built))
    }

    /// Which item positions `filter` lets through.
    fn allowed<'a, 'f>(
        &'a self,
        filter: &'a ItemFilter<'f>,
    ) -> impl Fn(usize) -> bool + use<'a, 'f> {
        // Without a document filter, no document is asked (an archive has tens of thousands).
        let scope = &filter.documents;
        let doc_ok: Option<Vec<bool>> =
            (!scope.is_empty()).then(|| self.docs.iter().map(|d| scope.matches(d)).collect());
        let excluded: HashSet<u64> = filter.exclude_keys.iter().copied().collect();
        move |p: usize| -> bool {
            let doc = self.doc_of[p] as usize;
            (filter.include_boilerplate || !self.boilerplate[p])
                && match &doc_ok {
                    Some(ok) => ok.get(doc).copied().unwrap_or(false),
                    None => doc < self.docs.len(),
                }
                && (excluded.is_empty() || !excluded.contains(&self.keys[p]))
                && filter.keys.is_none_or(|k| k.contains(&self.keys[p]))
        }
    }

    /// The `k` best BM25 matches of `terms` that `filter` lets through.
    pub(super) fn lexical_search(
        &self,
        store: &LocalStore,
        terms: &[String],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        let allowed = self.allowed(filter);
        let by_key = |key: u64| self.pos.get(&key).is_some_and(|&p| allowed(p));
        Ok(self.lexical(store)?.search(terms, k, &by_key))
    }

    pub(super) fn search(
        &self,
        store: &LocalStore,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        let allowed = self.allowed(filter);
        // A key filter (entities) names its items: only those positions are looked at, so a
        // selective filter costs what it matches, not the level's size.
        let keyed: Option<Vec<usize>> = filter.keys.map(|keys| {
            let mut v: Vec<usize> = keys
                .iter()
                .filter_map(|key| self.pos.get(key).copied())
                .filter(|&p| allowed(p))
                .collect();
            v.sort_unstable();
            v
        });
        let n_allowed = match &keyed {
            Some(v) => v.len(),
            None => (0..self.keys.len()).filter(|&p| allowed(p)).count(),
        };
        if k == 0 || n_allowed == 0 {
            return Ok(Vec::new());
        }
        let all_allowed = || positions(keyed.as_deref(), self.keys.len(), &allowed);
        let dim = store.manifest.dimension;
        let exact_scan = |positions: &mut dyn Iterator<Item = usize>, vectors: &[f32]| {
            let mut hits: Vec<(u64, f32)> = positions
                .map(|p| (self.keys[p], dot(query, &vectors[p * dim..(p + 1) * dim])))
                .collect();
            top_k(&mut hits, k);
            hits
        };
        let threshold = store.manifest.exact_threshold;
        match &self.graph {
            // A selective filter makes graph search miss; few allowed items are cheap to scan.
            Some(g) if !filter.exact && n_allowed >= threshold.min(self.keys.len() / 10).max(k) => {
                let keep = |key: usize| self.pos.get(&(key as u64)).is_some_and(|&p| allowed(p));
                let mut hits: Vec<(u64, f32)> = g
                    .search(
                        query,
                        k,
                        filter.ef.unwrap_or(store.manifest.hnsw.ef_search).max(k),
                        Some(&keep),
                    )
                    .into_iter()
                    .map(|(key, s)| (key as u64, s))
                    .collect();
                if !self.missing.is_empty() {
                    let vectors = self.flat_vectors(store)?;
                    hits.extend(exact_scan(
                        &mut self.missing.iter().copied().filter(|&p| allowed(p)),
                        vectors,
                    ));
                    top_k(&mut hits, k);
                }
                // A filtered graph walk can run out of candidates before it finds `k` allowed
                // items; a short page is never the answer while allowed items remain.
                if hits.len() < k.min(n_allowed) {
                    let vectors = self.flat_vectors(store)?;
                    return Ok(exact_scan(&mut all_allowed(), vectors));
                }
                Ok(hits)
            }
            _ => {
                let vectors = self.flat_vectors(store)?;
                Ok(exact_scan(&mut all_allowed(), vectors))
            }
        }
    }
}

/// The allowed positions: those a key filter named (already checked), or every position
/// `allowed` keeps.
fn positions<'a>(
    keyed: Option<&'a [usize]>,
    n: usize,
    allowed: &'a dyn Fn(usize) -> bool,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    match keyed {
        Some(v) => Box::new(v.iter().copied()),
        None => Box::new((0..n).filter(move |&p| allowed(p))),
    }
}

fn top_k(hits: &mut Vec<(u64, f32)>, k: usize) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(k);
}
