//! Questions asked of an index: `search` (free text), `similar` (more like a stored item) and
//! `links` (the cross-document map of related initiatives). Each result carries the document,
//! the section, the single best-matching sentence and `why` it matched (the query's terms as
//! found in its text, and the score of each ranking). Nearest-neighbour search itself is
//! [`Store::nearest`]; BM25 is [`Store::lexical`].
//!
//! Text queries rank by [`SearchMode`]: `hybrid` (the default) fuses the dense ranking (cosine
//! of embeddings: meaning, paraphrase) with the lexical one (BM25 over stemmed terms: names,
//! acronyms, numbers, which a small model blurs); the fusion lives here, not in a store, so
//! every store fuses alike. How it fuses ([`Fusion`]) was chosen on a known-item benchmark
//! (`simsum bench search`, BENCHMARKS.md). `similar` and `links` compare stored vectors only.
//!
//! Near-copies (the same text with names or numbers changed, [`crate::text::copies`]) are one
//! result: the best-ranked member is the hit and the others are listed in its `copies`. The
//! grouping is computed from the items' text and vectors at query time, so it needs nothing from
//! the store beyond its items.
//!
//! The results are the typed result model of [`crate::answer`] (re-exported here), which the
//! CLI and the API both serialise.

mod fusion;
mod why;

use globset::{Glob, GlobMatcher};

pub use fusion::{fuse, Fusion, SearchMode, DEFAULT_LEXICAL_WEIGHT, FUSION_DEPTH};
pub use why::{align_sentences, ALIGNED_PAIRS};
use why::{best_sentence, term_matches, Explain};

pub use crate::answer::{
    AlignedSentence, AlignedSentences, BestSentence, DocRef, ItemRef, Link, SearchHit, SectionRef,
    TermMatch, Why,
};
use crate::embed::{EmbedError, Embedder};
use crate::facets::{allowed_keys, entity_clauses, EntityFilter, EntityReader, FacetError};
use crate::store::{DocScope, DocumentInfo, ItemFilter, Level, Store, StoreError, StoredItem};

/// Errors of a query.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Index(#[from] StoreError),
    #[error("embedding the query failed: {0}")]
    Embed(#[from] EmbedError),
    #[error("bad --doc glob `{glob}`: {reason}")]
    BadGlob { glob: String, reason: String },
    #[error("bad date `{0}`: use YYYY, YYYY-MM or YYYY-MM-DD")]
    BadDate(String),
    #[error(transparent)]
    Filter(#[from] FacetError),
    #[error("the query {0:?} has no words to search for: give some text (letters or digits)")]
    EmptyQuery(String),
    #[error("a {0} search needs the query's embedding")]
    MissingVector(SearchMode),
}

/// Fails with [`SearchError::EmptyQuery`] when `query` holds no letter or digit (an empty or
/// punctuation-only query): there is nothing to rank by.
pub fn check_query(query: &str) -> Result<(), SearchError> {
    if query.chars().any(char::is_alphanumeric) {
        Ok(())
    } else {
        Err(SearchError::EmptyQuery(query.to_string()))
    }
}

/// Most results one query may ask for (`-k`): bounds the work and memory of a request.
pub const MAX_K: usize = 10_000;

/// Largest HNSW candidate list a query may ask for (`--ef`, `"ef"`): Milvus refuses more than
/// 32,768, and past a few thousand a graph walk costs more than a scan (`--exact`).
pub const MAX_EF: usize = 4_096;

/// Which documents a query looks at.
#[derive(Debug, Clone, Default)]
pub struct DocFilter {
    /// Glob matched against the document id, its file name and its full path.
    pub glob: Option<String>,
    /// Keep documents dated on or after this (YYYY, YYYY-MM or YYYY-MM-DD); undated ones drop.
    pub since: Option<String>,
    /// Keep documents dated on or before this (a prefix date includes its whole period).
    pub until: Option<String>,
    /// Keep items that mention these countries, organisations and years.
    pub entities: EntityFilter,
}

/// A [`DocFilter`] with its glob compiled and its dates checked.
pub struct CompiledDocFilter {
    glob: Option<GlobMatcher>,
    since: Option<String>,
    until: Option<String>,
    /// Documents to drop (by id), e.g. the query item's own document for `--other-docs`.
    pub exclude_doc: Option<String>,
    /// Items must mention these entities (resolved against the store at query time).
    pub entities: EntityFilter,
}

/// Checks a `--since`/`--until` date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, with a real month and
/// a day that exists in that month (so `2023-13-45` is an error, not an empty result).
pub fn check_date(d: &str) -> Result<String, SearchError> {
    let shape = match d.len() {
        4 | 7 | 10 => d.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        }),
        _ => false,
    };
    let num = |r: std::ops::Range<usize>| d.get(r).and_then(|p| p.parse::<u32>().ok());
    let ok = shape
        && match (num(0..4), num(5..7), num(8..10)) {
            (Some(_), None, None) => true,
            (Some(_), Some(m), None) => (1..=12).contains(&m),
            (Some(y), Some(m), Some(day)) => {
                let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                let days = match m {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    1..=12 => 31,
                    _ => 0,
                };
                (1..=days).contains(&day)
            }
            _ => false,
        };
    ok.then(|| d.to_string())
        .ok_or_else(|| SearchError::BadDate(d.to_string()))
}

impl DocFilter {
    /// Every document, items mentioning `entities` (the filter of `similar`, `links` and
    /// `summarize --query`, which take no glob or dates).
    pub fn of_entities(entities: EntityFilter) -> Self {
        Self {
            entities,
            ..Default::default()
        }
    }

    /// Checks the dates and compiles the glob.
    pub fn compile(&self) -> Result<CompiledDocFilter, SearchError> {
        let glob = match &self.glob {
            Some(g) => Some(
                Glob::new(g)
                    .map_err(|e| SearchError::BadGlob {
                        glob: g.clone(),
                        reason: e.to_string(),
                    })?
                    .compile_matcher(),
            ),
            None => None,
        };
        Ok(CompiledDocFilter {
            glob,
            since: self.since.as_deref().map(check_date).transpose()?,
            until: self.until.as_deref().map(check_date).transpose()?,
            exclude_doc: None,
            entities: self.entities.clone(),
        })
    }
}

impl CompiledDocFilter {
    /// Whether the filter keeps every document (then searches need not ask it).
    pub fn is_empty(&self) -> bool {
        self.glob.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.exclude_doc.is_none()
    }

    /// Whether the filter keeps `doc`.
    pub fn matches(&self, doc: &DocumentInfo) -> bool {
        self.glob_ok(doc) && self.dates().matches(doc)
    }

    fn glob_ok(&self, doc: &DocumentInfo) -> bool {
        let Some(g) = &self.glob else {
            return true;
        };
        let name = doc.path.file_name().map(std::path::Path::new);
        g.is_match(&doc.id) || g.is_match(&doc.path) || name.is_some_and(|n| g.is_match(n))
    }

    /// The filter without its glob: dates and the excluded document, as data.
    fn dates(&self) -> DocScope {
        DocScope {
            ids: None,
            exclude: self.exclude_doc.iter().cloned().collect(),
            since: self.since.clone(),
            until: self.until.clone(),
        }
    }

    /// The filter as data a store pushes down: the glob becomes the ids of the documents it
    /// matches (read from the store's document list, which engines keep per generation);
    /// dates and the excluded document stay values.
    pub fn scope(&self, store: &dyn Store) -> Result<DocScope, StoreError> {
        let mut scope = self.dates();
        if self.glob.is_some() {
            let ids: std::collections::BTreeSet<String> = store
                .documents()?
                .into_iter()
                .filter(|d| self.glob_ok(d))
                .map(|d| d.id)
                .collect();
            scope.ids = Some(std::sync::Arc::new(ids));
        }
        Ok(scope)
    }
}

/// Settings of a `search` or `similar` query.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub k: usize,
    pub level: Level,
    pub docs: DocFilter,
    /// Also return boilerplate items (shared editor's notes and the like).
    pub include_boilerplate: bool,
    /// `similar` only: skip items of the query item's own document.
    pub other_docs: bool,
    /// Brute-force search even where an approximate graph would be used (`--exact`).
    pub exact: bool,
    /// How a text query ranks (`similar` always compares vectors).
    pub mode: SearchMode,
    /// How `hybrid` fuses its rankings.
    pub fusion: Fusion,
    /// The approximate search's candidate list (`--ef`, the API's `"ef"`); `None`: the
    /// store's choice for `k` ([`crate::store::search_ef`]).
    pub ef: Option<usize>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            k: 10,
            level: Level::Initiative,
            docs: DocFilter::default(),
            include_boilerplate: false,
            other_docs: false,
            exact: false,
            mode: SearchMode::default(),
            fusion: Fusion::default(),
            ef: None,
        }
    }
}

/// Near-copy groups of `items` (indices, groups in input order, members in input order).
fn copy_groups(items: &[StoredItem]) -> Vec<Vec<usize>> {
    let keys: Vec<Option<u64>> = items
        .iter()
        .map(|i| crate::text::copy_key(&i.text))
        .collect();
    let vectors: Vec<&[f32]> = items.iter().map(|i| i.vector.as_slice()).collect();
    crate::text::copies::group(&keys, &vectors)
}

/// Documents other than `own` among `members`.
fn other_documents(own: &str, members: &[&StoredItem]) -> usize {
    let mut docs: Vec<&str> = members
        .iter()
        .map(|m| m.doc_id.as_str())
        .filter(|d| *d != own)
        .collect();
    docs.sort_unstable();
    docs.dedup();
    docs.len()
}

/// Most results a query fetches while looking for `k` distinct texts among near-copies.
fn fetch_cap(k: usize) -> usize {
    k.saturating_mul(64).max(1024)
}

/// Ranked items of `opts.level` for the text `query`, by `opts.mode` (the model embeds the
/// query unless the mode is lexical).
pub fn search(
    index: &dyn Store,
    embedder: &dyn Embedder,
    query: &str,
    opts: &SearchOptions,
) -> Result<Vec<SearchHit>, SearchError> {
    check_query(query)?;
    let filter = opts.docs.compile()?;
    let vector = if opts.mode.needs_vector() {
        Some(query_vector(
            embedder.embed_as(&[query], crate::embed::InputKind::Query)?,
        ))
    } else {
        None
    };
    search_text(index, query, vector.as_deref(), opts, &filter)
}

/// A query's vector as searches take it: the one embedding of the query text (embedded as
/// [`crate::embed::InputKind::Query`]), L2-normalised. The CLI embeds with the model, the
/// server through its queue; both end here.
pub fn query_vector(embedded: Vec<crate::embed::Embedding>) -> Vec<f32> {
    let mut v = embedded
        .into_iter()
        .next()
        .map(|e| e.vector)
        .unwrap_or_default();
    crate::embed::normalize(&mut v);
    v
}

/// Ranked items for the text `query` by `opts.mode`, given its embedding (L2-normalised;
/// needed unless the mode is lexical): what [`search`] does once the query is embedded (the
/// server embeds in batches first).
pub fn search_text(
    index: &dyn Store,
    query: &str,
    vector: Option<&[f32]>,
    opts: &SearchOptions,
    docs: &CompiledDocFilter,
) -> Result<Vec<SearchHit>, SearchError> {
    check_query(query)?;
    let terms = crate::text::lexical::query_terms(query);
    let filter = ItemFilter {
        include_boilerplate: opts.include_boilerplate,
        documents: docs.scope(index)?,
        exclude_keys: Vec::new(),
        keys: None,
        tags: entity_clauses(index, opts.level, &docs.entities)?,
        exact: opts.exact,
        ef: opts.ef,
    };
    let vector = match (opts.mode.needs_vector(), vector) {
        (true, None) => return Err(SearchError::MissingVector(opts.mode)),
        (_, v) => v,
    };
    let rank = |fetch: usize| -> Result<Vec<(u64, f32)>, SearchError> {
        let lexical = |n: usize| -> Result<Vec<(u64, f32)>, SearchError> {
            if terms.is_empty() {
                return Ok(Vec::new());
            }
            Ok(index.lexical(opts.level, &terms, n, &filter)?)
        };
        Ok(match (opts.mode, vector) {
            (SearchMode::Lexical, _) => lexical(fetch)?,
            (SearchMode::Dense, Some(v)) => index.nearest(opts.level, v, fetch, &filter)?,
            (SearchMode::Hybrid, Some(v)) => {
                let depth = fetch.max(FUSION_DEPTH);
                let dense = index.nearest(opts.level, v, depth, &filter)?;
                let lexical = lexical(depth)?;
                let other_language = other_language_keys(index, query, &dense, &lexical)?;
                let mut fused = fuse(&dense, &lexical, opts.fusion, &|k| {
                    other_language.contains(&k)
                });
                fused.truncate(fetch);
                fused
            }
            (_, None) => Vec::new(),
        })
    };
    let explain = Explain {
        vector,
        terms: &terms,
        lexical: opts.mode != SearchMode::Dense,
        aligned_with: None,
    };
    ranked_hits(index, opts, &rank, &explain)
}

/// The dense candidates that the lexical ranking lacks and that are written in another language
/// than `query` ([`crate::text::cjk::Language`]): the lexical ranking could not have judged
/// them ([`fuse`]). Empty when there is no lexical ranking to fuse.
fn other_language_keys(
    index: &dyn Store,
    query: &str,
    dense: &[(u64, f32)],
    lexical: &[(u64, f32)],
) -> Result<std::collections::HashSet<u64>, SearchError> {
    use crate::text::cjk::Language;
    if lexical.is_empty() {
        return Ok(Default::default());
    }
    let found: std::collections::HashSet<u64> = lexical.iter().map(|h| h.0).collect();
    let keys: Vec<u64> = dense
        .iter()
        .map(|h| h.0)
        .filter(|k| !found.contains(k))
        .collect();
    let language = Language::of(query);
    Ok(index
        .items_by_key(&keys)?
        .into_iter()
        .filter(|it| Language::of(&it.text) != language)
        .map(|it| it.key)
        .collect())
}

/// Ranked items most similar to a vector (L2-normalised), skipping `exclude_keys`: dense only,
/// as `similar` and the themes' summaries ask.
pub fn search_vector(
    index: &dyn Store,
    query: &[f32],
    opts: &SearchOptions,
    docs: &CompiledDocFilter,
    exclude_keys: &[u64],
) -> Result<Vec<SearchHit>, SearchError> {
    let filter = ItemFilter {
        include_boilerplate: opts.include_boilerplate,
        documents: docs.scope(index)?,
        exclude_keys: exclude_keys.to_vec(),
        keys: None,
        tags: entity_clauses(index, opts.level, &docs.entities)?,
        exact: opts.exact,
        ef: opts.ef,
    };
    let rank = |fetch: usize| Ok(index.nearest(opts.level, query, fetch, &filter)?);
    let explain = Explain {
        vector: Some(query),
        terms: &[],
        lexical: false,
        aligned_with: None,
    };
    ranked_hits(index, opts, &rank, &explain)
}

/// The top `opts.k` distinct texts of a ranking, as hits. `rank(n)` gives the ranking's best
/// `n`; near-copies fold into one hit, so more than `k` are fetched, widening until one more
/// group than needed shows up or nothing more is found.
fn ranked_hits(
    index: &dyn Store,
    opts: &SearchOptions,
    rank: &dyn Fn(usize) -> Result<Vec<(u64, f32)>, SearchError>,
    explain: &Explain<'_>,
) -> Result<Vec<SearchHit>, SearchError> {
    let mut fetch = opts.k.saturating_mul(3).max(opts.k + 10);
    let (found, items, groups) = loop {
        let found = rank(fetch)?;
        let keys: Vec<u64> = found.iter().map(|(k, _)| *k).collect();
        let items = index.items_by_key(&keys)?;
        let groups = copy_groups(&items);
        if groups.len() > opts.k || found.len() < fetch || fetch >= fetch_cap(opts.k) {
            break (found, items, groups);
        }
        fetch = fetch.saturating_mul(4).min(fetch_cap(opts.k));
    };
    let score_of: std::collections::HashMap<u64, f32> = found.into_iter().collect();
    let leads: Vec<&[usize]> = groups.iter().take(opts.k).map(Vec::as_slice).collect();
    let lexical_scores = if explain.lexical && !explain.terms.is_empty() {
        let keys: Vec<u64> = leads.iter().map(|g| items[g[0]].key).collect();
        index.lexical_scores(opts.level, explain.terms, &keys)?
    } else {
        Vec::new()
    };
    let lead_items: Vec<&StoredItem> = leads.iter().map(|g| &items[g[0]]).collect();
    let mut all_sentences = index.sentences_of_many(&lead_items)?.into_iter();
    let mut hits = Vec::with_capacity(opts.k);
    for (n, group) in leads.into_iter().enumerate() {
        let (lead, copies) = (group[0], &group[1..]);
        let item = &items[lead];
        let sentences = all_sentences.next().unwrap_or_default();
        let why = Why {
            dense: explain.vector.map(|v| crate::embed::dot(v, &item.vector)),
            lexical: explain
                .lexical
                .then(|| lexical_scores.get(n).copied().unwrap_or(0.0)),
            terms: term_matches(&item.text, explain.terms),
            aligned: match explain.aligned_with {
                Some(this) => align_sentences(&this.sentences, &sentences, ALIGNED_PAIRS),
                None => Vec::new(),
            },
        };
        let copy_items: Vec<&StoredItem> = copies.iter().map(|&c| &items[c]).collect();
        hits.push(SearchHit {
            rank: hits.len() + 1,
            score: score_of.get(&item.key).copied().unwrap_or(0.0),
            doc: DocRef::from(item),
            section: SectionRef {
                id: item.section_id.clone(),
                heading: item.heading.clone(),
            },
            id: item.id.clone(),
            level: item.level,
            text: item.text.clone(),
            boilerplate: item.boilerplate,
            best_sentence: best_sentence(sentences, explain),
            copies: copy_items.iter().map(|c| c.id.clone()).collect(),
            copy_documents: other_documents(&item.doc_id, &copy_items),
            why,
            entities: None,
        });
    }
    attach_entities(index, &items, &mut hits)?;
    Ok(hits)
}

/// Gives each hit the entities of its item (none when the store keeps no entities).
fn attach_entities(
    index: &dyn Store,
    items: &[StoredItem],
    hits: &mut [SearchHit],
) -> Result<(), StoreError> {
    let reader = EntityReader::new(index)?;
    if !reader.enabled() {
        return Ok(());
    }
    let key_of: std::collections::HashMap<&str, u64> =
        items.iter().map(|i| (i.id.as_str(), i.key)).collect();
    let keys: Vec<u64> = hits
        .iter()
        .filter_map(|h| key_of.get(h.id.as_str()).copied())
        .collect();
    let mut found = reader.read(&keys)?;
    for h in hits {
        h.entities = key_of.get(h.id.as_str()).and_then(|k| found.remove(k));
    }
    Ok(())
}

/// Items most similar to the stored item `id` (an initiative or a section; its level decides
/// the level searched). Returns the item and the hits.
pub fn similar(
    index: &dyn Store,
    id: &str,
    opts: &SearchOptions,
) -> Result<(StoredItem, Vec<SearchHit>), SearchError> {
    let item = index.item(id)?;
    let mut filter = opts.docs.compile()?;
    if opts.other_docs {
        filter.exclude_doc = Some(item.doc_id.clone());
    }
    let opts = SearchOptions {
        level: item.level,
        ..opts.clone()
    };
    let items_filter = ItemFilter {
        include_boilerplate: opts.include_boilerplate,
        documents: filter.scope(index)?,
        exclude_keys: vec![item.key],
        keys: None,
        tags: entity_clauses(index, opts.level, &filter.entities)?,
        exact: opts.exact,
        ef: opts.ef,
    };
    let rank = |fetch: usize| Ok(index.nearest(opts.level, &item.vector, fetch, &items_filter)?);
    let explain = Explain {
        vector: Some(&item.vector),
        terms: &[],
        lexical: false,
        aligned_with: Some(&item),
    };
    let hits = ranked_hits(index, &opts, &rank, &explain)?;
    Ok((item, hits))
}

/// Settings of [`links`].
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Smallest cosine similarity of a reported pair.
    pub threshold: f32,
    /// Most links kept per item (its best ones).
    pub per_item: usize,
    pub level: Level,
    pub include_boilerplate: bool,
    pub docs: DocFilter,
    /// Brute-force search even where an approximate graph would be used (`--exact`).
    pub exact: bool,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            threshold: 0.6,
            per_item: 5,
            level: Level::Initiative,
            include_boilerplate: false,
            docs: DocFilter::default(),
            exact: false,
        }
    }
}

/// For each item, its most similar items in other documents scoring at least the threshold,
/// as unordered pairs (each reported once, `a` before `b` in reading order), best first.
pub fn links(index: &dyn Store, opts: &LinkOptions) -> Result<Vec<Link>, SearchError> {
    let docs = opts.docs.compile()?;
    let allowed = allowed_keys(index, opts.level, &docs.entities)?;
    let items: Vec<StoredItem> = index
        .items(opts.level)?
        .into_iter()
        .filter(|i| opts.include_boilerplate || !i.boilerplate)
        .filter(|i| allowed.as_ref().is_none_or(|a| a.contains(&i.key)))
        .collect();
    // Near-copies link as one item (the group's first, in reading order): a pair is two
    // different texts, never two versions of one.
    let groups = copy_groups(&items);
    let mut group_of = vec![0usize; items.len()];
    for (g, members) in groups.iter().enumerate() {
        for &m in members {
            group_of[m] = g;
        }
    }
    let largest = groups.iter().map(Vec::len).max().unwrap_or(1);
    // Copies take neighbour slots; ask for enough to still see `per_item` other texts.
    let fetch = opts
        .per_item
        .saturating_mul(largest)
        .min(opts.per_item.max(fetch_cap(1)));
    let scope = docs.scope(index)?;
    let pos: std::collections::HashMap<u64, usize> =
        items.iter().enumerate().map(|(n, i)| (i.key, n)).collect();
    let mut pairs: std::collections::BTreeMap<(usize, usize), f32> = Default::default();
    for (g, members) in groups.iter().enumerate() {
        let item = &items[members[0]];
        if !docs.matches(&info(item)) {
            continue;
        }
        let mut documents = scope.clone();
        documents.exclude.push(item.doc_id.clone());
        let filter = ItemFilter {
            include_boilerplate: opts.include_boilerplate,
            documents,
            exclude_keys: vec![item.key],
            keys: allowed.as_ref(),
            tags: Vec::new(),
            exact: opts.exact,
            ef: None,
        };
        let mut near = std::collections::HashSet::new();
        for (key, score) in index.nearest(opts.level, &item.vector, fetch, &filter)? {
            if score < opts.threshold {
                break;
            }
            let Some(&m) = pos.get(&key) else { continue };
            let h = group_of[m];
            if h == g || near.contains(&h) {
                continue;
            }
            if near.len() == opts.per_item {
                break;
            }
            near.insert(h);
            let e = pairs.entry((g.min(h), g.max(h))).or_insert(score);
            *e = e.max(score);
        }
    }
    let reader = EntityReader::new(index)?;
    let linked: Vec<u64> = pairs
        .keys()
        .flat_map(|&(a, b)| [items[groups[a][0]].key, items[groups[b][0]].key])
        .collect();
    let entities = reader.read(&linked)?;
    let item_ref = |g: usize| {
        let lead = &items[groups[g][0]];
        let copies: Vec<&StoredItem> = groups[g][1..].iter().map(|&c| &items[c]).collect();
        let mut r: ItemRef = lead.into();
        r.copies = copies.iter().map(|c| c.id.clone()).collect();
        r.copy_documents = other_documents(&lead.doc_id, &copies);
        r.entities = entities.get(&lead.key).cloned();
        r
    };
    let mut out: Vec<Link> = pairs
        .into_iter()
        .map(|((a, b), score)| Link {
            score,
            a: item_ref(a),
            b: item_ref(b),
            aligned: align_sentences(
                &items[groups[a][0]].sentences,
                &items[groups[b][0]].sentences,
                ALIGNED_PAIRS,
            ),
        })
        .collect();
    out.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then_with(|| x.a.id.cmp(&y.a.id))
            .then_with(|| x.b.id.cmp(&y.b.id))
    });
    Ok(out)
}

fn info(i: &StoredItem) -> DocumentInfo {
    DocumentInfo {
        id: i.doc_id.clone(),
        title: i.doc_title.clone(),
        date: i.doc_date.clone(),
        path: i.doc_path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, date: Option<&str>) -> DocumentInfo {
        DocumentInfo {
            id: id.into(),
            title: String::new(),
            date: date.map(Into::into),
            path: format!("/d/{id}.txt").into(),
        }
    }

    #[test]
    fn queries_without_letters_or_digits_are_refused() {
        assert!(check_query("CANGO").is_ok());
        assert!(check_query("2023").is_ok());
        assert!(check_query("東京").is_ok());
        for q in ["", "  ", "?!", "\"\" * ( ) -"] {
            assert!(
                matches!(check_query(q), Err(SearchError::EmptyQuery(_))),
                "{q:?}"
            );
        }
    }

    #[test]
    fn date_filters_take_prefix_dates_as_whole_periods() {
        let f = DocFilter {
            since: Some("2023".into()),
            until: Some("2023-02".into()),
            glob: None,
            entities: Default::default(),
        }
        .compile()
        .unwrap();
        assert!(f.matches(&doc("a", Some("2023-02-28"))));
        assert!(!f.matches(&doc("a", Some("2023-03-01"))));
        assert!(!f.matches(&doc("a", Some("2022-12-31"))));
        assert!(!f.matches(&doc("a", None)));
        assert!(DocFilter {
            since: Some("23-1-1".into()),
            ..Default::default()
        }
        .compile()
        .is_err());
    }

    #[test]
    fn doc_glob_matches_id_or_file_name() {
        let glob = |g: &str| {
            DocFilter {
                glob: Some(g.into()),
                ..Default::default()
            }
            .compile()
            .unwrap()
        };
        let f = glob("ent*");
        assert!(f.matches(&doc("enterprises", None)));
        assert!(!f.matches(&doc("culture", None)));
        assert!(glob("*.txt").matches(&doc("culture", None)));
    }
}
