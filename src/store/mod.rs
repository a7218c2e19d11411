//! The store interface: documents, items (sections, initiatives, sentences), their vectors and
//! nearest-neighbour search over them, and BM25 over their words ([`lexical`]), whichever engine
//! keeps them.
//!
//! Everything that asks questions of stored items (search, similar, links, clustering,
//! summaries, the demo and the server) takes a [`Store`] and never learns which one it is.
//! Two engines implement it: the local index directory ([`local`]: SQLite, `hnsw_rs`
//! graphs and their flat copies) and, for archives beyond one machine, a Milvus server. Another
//! engine (Qdrant, pgvector) is one more implementation of [`Store`] and [`StoreWriter`], plus
//! a scheme in [`StoreUrl`].
//!
//! Items are addressed by two names: the stable text id (`doc#s1.p2`) users see, and a `u64`
//! key the engine assigns, used inside searches and graphs.

mod error;
pub mod items;
pub mod lexical;
#[cfg(feature = "milvus")]
pub mod milvus;
pub mod update;
mod url;

pub use error::{ModelMismatch, StoreError};
pub use url::{MilvusTls, StoreUrl};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::embed::{Embedder, ModelId};
use crate::ingest::Document;
pub use local::graphs::KnnGraph;
pub use local::manifest::Counts;

pub mod local;

/// Levels with fewer live items than this are searched exactly (brute force): below it a scan of
/// all vectors costs about what one HNSW query does, and is exact. Measured here (one core,
/// 384-d; `cargo bench --bench index -- search` times both at 20k): a scan costs about 30 ns per
/// item (10k items: 0.31 ms; 20k: 1.3 ms once the vectors leave the cache), against about
/// 0.26 ms per HNSW query on real sentence embeddings (hnswlib's 3,900 queries/s at recall
/// 0.985). Random vectors are a worst case for HNSW (1.7 ms per query at 10k) and were not used
/// to set this.
///
/// Both engines start from this default; a store records its own value
/// ([`StoreInfo::exact_threshold`]).
pub const EXACT_THRESHOLD: usize = 10_000;

/// The granularity of an indexed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A section: its vector is the normalised mean of its initiatives' vectors.
    Section,
    /// A paragraph-level initiative.
    Initiative,
    /// One sentence of an initiative (for summaries and for explaining matches).
    Sentence,
}

impl Level {
    /// All levels.
    pub const ALL: [Level; 3] = [Level::Section, Level::Initiative, Level::Sentence];

    /// Name as used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Section => "section",
            Level::Initiative => "initiative",
            Level::Sentence => "sentence",
        }
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            Level::Section => 1,
            Level::Initiative => 2,
            Level::Sentence => 3,
        }
    }

    pub(crate) fn from_code(c: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == c)
    }

    pub(crate) fn slot(self) -> usize {
        self.code() as usize - 1
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown level `{s}`: use section, initiative or sentence"))
    }
}

/// One sentence of a stored item, with its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSentence {
    /// `<initiative id>:<n>` (1-based).
    pub id: String,
    /// The initiative the sentence belongs to.
    pub initiative_id: String,
    pub text: String,
    /// Byte range inside the initiative's text.
    pub byte_range: (usize, usize),
    pub vector: Vec<f32>,
}

/// An item as stored: what clustering, search results and summaries read.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    /// Database key; stable while the item is unchanged, and the id used inside graphs.
    pub key: u64,
    pub id: String,
    pub level: Level,
    pub doc_id: String,
    pub doc_title: String,
    pub doc_date: Option<String>,
    pub doc_path: PathBuf,
    pub section_id: String,
    pub heading: String,
    pub text: String,
    pub boilerplate: bool,
    /// For a sentence, its initiative; for an initiative, its section; for a section, none.
    pub parent_id: Option<String>,
    pub vector: Vec<f32>,
    /// The item's sentences in reading order (for a section: those of all its initiatives;
    /// for a sentence: empty). Filled by [`local::LocalStore::items`] and [`local::LocalStore::item`].
    pub sentences: Vec<StoredSentence>,
}

/// What an update did, per level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LevelStats {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// What [`local::LocalWriter::update`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateStats {
    pub sections: LevelStats,
    pub initiatives: LevelStats,
    pub sentences: LevelStats,
    pub documents_removed: usize,
    /// Texts sent to the model (the rest reused stored vectors).
    pub embedded: usize,
    /// Graphs rebuilt or updated, as `(level, what)`.
    pub graphs: Vec<(Level, String)>,
}

impl UpdateStats {
    /// The counts of one level.
    pub fn level_mut(&mut self, level: Level) -> &mut LevelStats {
        match level {
            Level::Section => &mut self.sections,
            Level::Initiative => &mut self.initiatives,
            Level::Sentence => &mut self.sentences,
        }
    }

    /// Sections and initiatives together: the numbers `simsum index` reports.
    pub fn items(&self) -> LevelStats {
        let (a, b) = (&self.sections, &self.initiatives);
        LevelStats {
            added: a.added + b.added,
            updated: a.updated + b.updated,
            removed: a.removed + b.removed,
            unchanged: a.unchanged + b.unchanged,
        }
    }
}

/// Settings of one update.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// Paths that were ingested: stored documents under them that were not ingested again are
    /// removed (their files were deleted). Documents elsewhere are left alone.
    pub scope: Vec<PathBuf>,
    /// Files that could not be read this time: their stored documents are kept as they were.
    pub keep_paths: Vec<PathBuf>,
    /// Start over: drop everything stored and embed all again (implied by the first update
    /// after [`local::LocalWriter::open`] with `rebuild`).
    pub rebuild: bool,
    /// Texts per embedding call (0: 256).
    pub batch_size: usize,
    /// Computes each new or changed item's tags (its entities) from its text; `None` stores
    /// none, and the store then says it keeps no tags.
    pub tagger: Option<Tagger>,
}

/// A fact about an item that a store keeps as data it does not interpret: a kind and a value
/// (entities, such as `country` `KE`, `year` `2021`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub kind: String,
    pub value: String,
}

/// How an update tags items: a pure function of an item's text, and the name of its rules. A
/// store tagged under other rules is tagged again whole by the next update; otherwise only new
/// and changed items are.
#[derive(Clone, Copy)]
pub struct Tagger {
    pub version: &'static str,
    pub tag: fn(&str) -> Vec<Tag>,
}

impl std::fmt::Debug for Tagger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tagger")
            .field("version", &self.version)
            .finish()
    }
}

/// How many items of a level, and how many documents, carry a tag value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub value: String,
    pub items: usize,
    pub documents: usize,
}

/// Which documents' items a query keeps, as values each engine translates and pushes down
/// (the local store tests its documents in memory; Milvus writes a boolean expression): a
/// filter is data, never a closure, so no engine has to ask it about every document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocScope {
    /// Only these documents (ids); `None`: every document.
    pub ids: Option<std::sync::Arc<std::collections::BTreeSet<String>>>,
    /// Never these documents (ids).
    pub exclude: Vec<String>,
    /// Dated on or after this (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`); undated documents drop when
    /// either bound is set.
    pub since: Option<String>,
    /// Dated on or before this (a prefix date includes its whole period).
    pub until: Option<String>,
}

impl DocScope {
    /// Whether it keeps every document.
    pub fn is_empty(&self) -> bool {
        self.ids.is_none() && self.exclude.is_empty() && !self.has_dates()
    }

    /// Whether it bounds the date.
    pub fn has_dates(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a document dated `date` passes the date bounds.
    pub fn date_ok(&self, date: Option<&str>) -> bool {
        if !self.has_dates() {
            return true;
        }
        let Some(date) = date else {
            return false;
        };
        if self.since.as_deref().is_some_and(|s| date < s) {
            return false;
        }
        match self.until.as_deref() {
            Some(u) => date.get(..u.len()).unwrap_or(date) <= u,
            None => true,
        }
    }

    /// Whether it keeps `doc`.
    pub fn matches(&self, doc: &DocumentInfo) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&doc.id))
            && !self.exclude.contains(&doc.id)
            && self.date_ok(doc.date.as_deref())
    }
}

/// Item filter for [`Store::nearest`] and [`Store::lexical`]: which stored items may be
/// returned, as data an engine translates (SQL, a Milvus expression) and applies before its
/// nearest-neighbour search, so that `m` allowed items give `min(k, m)` results.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter<'a> {
    /// Keep boilerplate items (excluded by default).
    pub include_boilerplate: bool,
    /// Keep only items of these documents.
    pub documents: DocScope,
    /// Drop items with these keys.
    pub exclude_keys: Vec<u64>,
    /// Keep only items with these keys.
    pub keys: Option<&'a std::collections::HashSet<u64>>,
    /// Keep only items that carry, for every clause, one of its tags (an entity filter,
    /// `--country`, `--org`, `--year`, as the entity filters of the question layer make it): each
    /// engine translates it (Milvus: a `json_contains_any` per clause inside its search; the
    /// local store: its tags table, [`tag_keys`]).
    pub tags: Vec<Vec<Tag>>,
    /// Compare the query with every allowed item (brute force, `--exact`) even where an
    /// approximate graph would be used. A setting of the query, not of the store handle, so one
    /// open store answers both kinds of search.
    pub exact: bool,
    /// The approximate search's candidate list (HNSW `ef`, `--ef`); `None`: the engine's
    /// choice for `k` ([`search_ef`]).
    pub ef: Option<usize>,
}

impl<'a> ItemFilter<'a> {
    /// The same filter with its key set and tag clauses replaced by `keys` (what [`tag_keys`]
    /// resolved them to), for an engine that applies tags as keys.
    pub fn with_keys<'b>(&self, keys: Option<&'b std::collections::HashSet<u64>>) -> ItemFilter<'b>
    where
        'a: 'b,
    {
        ItemFilter {
            keys,
            tags: Vec::new(),
            ..self.clone()
        }
    }
}

/// The keys a filter's key set and tag clauses let through at `level` (tags resolved with
/// [`Store::tagged`]); `None` when it names neither.
pub fn tag_keys(
    store: &dyn Store,
    level: Level,
    filter: &ItemFilter<'_>,
) -> Result<Option<std::collections::HashSet<u64>>, StoreError> {
    let mut acc: Option<std::collections::HashSet<u64>> = filter.keys.cloned();
    for clause in &filter.tags {
        let mut by_kind: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for t in clause {
            by_kind.entry(&t.kind).or_default().push(t.value.clone());
        }
        let mut any = std::collections::HashSet::new();
        for (kind, values) in by_kind {
            any.extend(
                tags_of(store)?
                    .tagged(level, kind, &values)?
                    .into_iter()
                    .map(|(k, _)| k),
            );
        }
        acc = Some(match acc {
            None => any,
            Some(a) => a.intersection(&any).copied().collect(),
        });
    }
    Ok(acc)
}

/// The HNSW candidate list a search of `k` results uses unless the query names one: the
/// local index's default (`ef_search` 128), never under `k`. Milvus's own default (16 for
/// k 10) gave recall@10 0.94 at 91k items where the local index gave 0.999; at ef 64 Milvus
/// reached 0.85 against the local 0.94 on the harder hash vectors (BENCHMARKS.md, issue 36).
pub fn search_ef(k: usize, asked: Option<usize>) -> usize {
    asked.unwrap_or(DEFAULT_EF).max(k)
}

/// The default HNSW search candidate list of every engine (`--ef` overrides it).
pub const DEFAULT_EF: usize = 128;

/// Stored facts about a document, as filters and results see them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentInfo {
    pub id: String,
    pub title: String,
    pub date: Option<String>,
    pub path: PathBuf,
}

/// A store's description of itself, for `model info`, `/v1/info` and checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreInfo {
    /// Where the store is, as a URL (`dir:PATH`, `milvus://HOST:PORT/NAME`).
    pub url: String,
    /// The model the stored vectors were made with.
    pub model: ModelId,
    pub dimension: usize,
    /// Below this many items of a level, searches are exact (brute force).
    pub exact_threshold: usize,
}

/// How an engine keeps and searches a store, for `simsum store info`: its name and version,
/// and each level's vector index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EngineInfo {
    /// `local` (SQLite and hnsw_rs) or `milvus`.
    pub engine: String,
    /// The engine's version (the index format of a local store, the server's build of Milvus).
    pub version: String,
    pub levels: Vec<LevelIndexInfo>,
}

/// One level's vector index as an engine describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelIndexInfo {
    pub level: Level,
    /// `HNSW`, `FLAT`, or what a server reports.
    pub index_type: String,
    /// Build parameters (`M`, `efConstruction`) as JSON text, as the engine keeps them.
    pub params: String,
    /// The search-time candidate list used unless a query names one (`None`: per query).
    pub ef_search: Option<usize>,
    /// Rows the index covers, and rows the engine holds (a server counts rows not yet
    /// indexed, and deleted ones until compaction).
    pub indexed_rows: u64,
    pub total_rows: u64,
}

/// The read side of a store. Implementations are safe to share between threads: the server
/// answers many queries from one store at once.
pub trait Store: Send + Sync {
    /// What the store is and which model its vectors come from.
    fn info(&self) -> StoreInfo;

    /// Fails with [`StoreError::ModelMismatch`] unless the store was built by this model.
    fn check_model(&self, model: &ModelId, dim: usize) -> Result<(), StoreError> {
        let info = self.info();
        if info.model != *model || info.dimension != dim {
            return Err(StoreError::ModelMismatch(Box::new(ModelMismatch {
                store: info.url,
                index_model: info.model.name.clone(),
                index_sha: short_sha(&info.model.weights_sha256),
                index_dim: info.dimension,
                current_model: model.name.clone(),
                current_sha: short_sha(&model.weights_sha256),
                current_dim: dim,
            })));
        }
        Ok(())
    }

    /// How the engine keeps the store: its version and each level's index. The default: an
    /// engine that says nothing about itself.
    fn engine_info(&self) -> Result<EngineInfo, StoreError> {
        Ok(EngineInfo::default())
    }

    /// A number that changes with every committed update (readers use it to notice changes).
    fn generation(&self) -> Result<u64, StoreError>;

    /// Item and document counts.
    fn counts(&self) -> Result<Counts, StoreError>;

    /// All stored documents, by id.
    fn documents(&self) -> Result<Vec<DocumentInfo>, StoreError>;

    /// All items of a level in reading order (document id, then position), with their
    /// sentences (texts and vectors). Boilerplate items are included; check `boilerplate`.
    fn items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError>;

    /// The items of one document of a level in reading order, with their sentences. The
    /// default reads the whole level; engines that can select by document override it.
    fn items_of_document(&self, level: Level, doc_id: &str) -> Result<Vec<StoredItem>, StoreError> {
        Ok(self
            .items(level)?
            .into_iter()
            .filter(|i| i.doc_id == doc_id)
            .collect())
    }

    /// One item by its id, with its sentences.
    fn item(&self, id: &str) -> Result<StoredItem, StoreError>;

    /// Items by key, in the order of `keys` (without sentences).
    fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, StoreError>;

    /// The sentences of an item in reading order (for a sentence: none).
    fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, StoreError>;

    /// The sentences of each of `items`, in their order. The default asks item by item;
    /// an engine where a request costs more than a row overrides it with one request.
    fn sentences_of_many(
        &self,
        items: &[&StoredItem],
    ) -> Result<Vec<Vec<StoredSentence>>, StoreError> {
        items.iter().map(|i| self.sentences_of(i)).collect()
    }

    /// The `k` stored items of `level` most similar to `query` (an L2-normalised vector), as
    /// `(key, cosine)`, best first, ties by key.
    fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError>;

    /// The `k` items of `level` that best match `terms` (query terms from
    /// [`crate::text::lexical::query_terms`]) by BM25 ([`lexical::LexicalIndex`]), as
    /// `(key, score)`, best first, ties by key; items holding none of the terms are left out.
    fn lexical(
        &self,
        level: Level,
        terms: &[String],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError>;

    /// The BM25 scores for `terms` of the items of `level` with these keys (0 for one holding
    /// none of them), in the order of `keys`.
    fn lexical_scores(
        &self,
        level: Level,
        terms: &[String],
        keys: &[u64],
    ) -> Result<Vec<f32>, StoreError>;

    /// Whether a search of `level` (without [`ItemFilter::exact`]) uses an approximate index
    /// rather than brute force.
    fn uses_graph(&self, level: Level) -> Result<bool, StoreError>;

    /// The non-boilerplate items of a level that clustering reads, in the order of
    /// [`Store::knn_graph`]'s rows.
    fn knn_items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        Ok(self
            .items(level)?
            .into_iter()
            .filter(|i| !i.boilerplate)
            .collect())
    }

    /// For each of [`Store::knn_items`], its `k` nearest others among them. The default
    /// compares all pairs with blocked matrix products (exact; fine to tens of thousands).
    fn knn_graph(&self, level: Level, k: usize) -> Result<KnnGraph, StoreError> {
        let vectors: Vec<Vec<f32>> = self
            .knn_items(level)?
            .into_iter()
            .map(|i| i.vector)
            .collect();
        Ok(KnnGraph::brute_force(&vectors, k))
    }

    /// The store's entity tags (countries, organisations, years of each item), when its engine
    /// keeps them; `None` for one that does not. A capability an engine may lack is a trait of
    /// its own ([`TagStore`], [`ThemeStore`]), asked for here, never a method that fails.
    fn tags(&self) -> Option<&dyn TagStore> {
        None
    }

    /// Where the store keeps its theme reports, when its engine keeps them.
    fn themes(&self) -> Option<&dyn ThemeStore> {
        None
    }
}

/// Entity tags kept with the items (countries, organisations, years): what facets and tag
/// filters read.
pub trait TagStore: Send + Sync {
    /// Whether every stored item carries its tags (the last update tagged them).
    fn has_tags(&self) -> Result<bool, StoreError>;

    /// `(key, document id)` of the items of `level` with a tag of `kind` whose value is one of
    /// `values`, by key. Fails with [`StoreError::NoTags`] when the items carry none yet.
    fn tagged(
        &self,
        level: Level,
        kind: &str,
        values: &[String],
    ) -> Result<Vec<(u64, String)>, StoreError>;

    /// Each value of `kind` with the items of `level` and the documents that carry it, most
    /// items first (ties by value).
    fn tag_counts(&self, level: Level, kind: &str) -> Result<Vec<TagCount>, StoreError>;

    /// The tags of the items with these keys (items without tags are absent).
    fn tags_of(&self, keys: &[u64])
        -> Result<std::collections::HashMap<u64, Vec<Tag>>, StoreError>;
}

/// Theme reports kept with a store ([`save_themes`] writes them).
pub trait ThemeStore: Send + Sync {
    /// The last theme report saved, with the generation it describes; `None` when there is
    /// none.
    fn load_themes(&self) -> Result<Option<SavedThemes>, StoreError>;
}

/// The tags of `store`, or [`StoreError::NoTags`] when its engine keeps none.
pub fn tags_of(store: &dyn Store) -> Result<&dyn TagStore, StoreError> {
    store.tags().ok_or_else(|| StoreError::NoTags {
        url: store.info().url,
    })
}

/// The last theme report kept with `store`; `None` when there is none or its engine keeps none.
pub fn load_themes(store: &dyn Store) -> Result<Option<SavedThemes>, StoreError> {
    store.themes().map_or(Ok(None), ThemeStore::load_themes)
}

/// A theme report as kept with a store, tagged with the generation it describes. The store
/// keeps the report as data it does not interpret (JSON); the clustering stage's `ThemeReport`
/// reads and writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedThemes {
    pub generation: u64,
    pub report: serde_json::Value,
}

/// Keeps a theme report with the store at `url` (`summarize --theme` and the server read it).
/// Not an index update: it takes no writer lock or lease, since a report names the generation it
/// describes and a stale one is made again.
pub fn save_themes(
    url: &StoreUrl,
    token: Option<&str>,
    themes: &SavedThemes,
) -> Result<(), StoreError> {
    match url {
        StoreUrl::Dir(dir) => local::files::IndexFiles::new(dir).write_themes(themes),
        #[cfg(feature = "milvus")]
        StoreUrl::Milvus { .. } => milvus::save_themes(url, token, themes),
        #[cfg(not(feature = "milvus"))]
        StoreUrl::Milvus { .. } => {
            let _ = token;
            Err(url.not_built())
        }
    }
}

/// The write side of a store: one update brings stored items in line with ingested documents.
pub trait StoreWriter: Send {
    /// The store being written, for reads after an update.
    fn store(&self) -> &dyn Store;

    /// Brings the stored items of the documents in `opts.scope` in line with `docs`: embeds
    /// only new or changed texts (by content hash), removes items and documents that are gone,
    /// and commits. `progress(done, total)` is called while embedding.
    fn update(
        &mut self,
        docs: &[Document],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<UpdateStats, StoreError>;
}

/// How to reach a store: its URL and, for servers that need one, a token (never logged).
#[derive(Clone, Default)]
pub struct StoreConfig {
    pub url: Option<StoreUrl>,
    pub token: Option<String>,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Opens an existing store for reading.
pub fn open(url: &StoreUrl, token: Option<&str>) -> Result<Box<dyn Store>, StoreError> {
    match url {
        StoreUrl::Dir(dir) => Ok(Box::new(local::LocalStore::open(dir)?)),
        #[cfg(feature = "milvus")]
        StoreUrl::Milvus { .. } => Ok(Box::new(milvus::MilvusStore::open(url, token)?)),
        #[cfg(not(feature = "milvus"))]
        StoreUrl::Milvus { .. } => {
            let _ = token;
            Err(url.not_built())
        }
    }
}

/// Opens a store for writing (creating it when absent), refusing one built by another model
/// unless `rebuild`.
pub fn open_writer(
    url: &StoreUrl,
    token: Option<&str>,
    model: &ModelId,
    dim: usize,
    rebuild: bool,
) -> Result<Box<dyn StoreWriter>, StoreError> {
    open_shard_writer(url, token, model, dim, rebuild, update::Shard::ALL)
}

/// Opens a store for writing one shard of a corpus: a Milvus store lets writers of disjoint
/// shards run at once (each holds a lease on its shard); the local index has one writer at a
/// time whatever the shard.
pub fn open_shard_writer(
    url: &StoreUrl,
    token: Option<&str>,
    model: &ModelId,
    dim: usize,
    rebuild: bool,
    shard: update::Shard,
) -> Result<Box<dyn StoreWriter>, StoreError> {
    match url {
        StoreUrl::Dir(dir) => Ok(Box::new(local::LocalWriter::open(
            dir, model, dim, rebuild,
        )?)),
        #[cfg(feature = "milvus")]
        StoreUrl::Milvus { .. } => Ok(Box::new(milvus::MilvusWriter::open(
            url, token, model, dim, rebuild, shard,
        )?)),
        #[cfg(not(feature = "milvus"))]
        StoreUrl::Milvus { .. } => {
            let _ = (token, shard);
            Err(url.not_built())
        }
    }
}

pub(crate) fn short_sha(s: &str) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s.chars().take(12).collect()
    }
}
