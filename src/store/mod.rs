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

pub mod items;
pub mod lexical;
pub mod milvus;
pub mod update;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::embed::{EmbedError, Embedder, ModelId};
use crate::ingest::Document;
use local::graphs::GraphError;
pub use local::graphs::KnnGraph;
pub use local::manifest::Counts;

pub mod local;

/// Errors of a store; each names the file, folder or server involved and, where there is one,
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no index at {dir}: create one with `simsum index PATH...`")]
    NotFound { dir: PathBuf },
    #[error("{path}: not a valid index manifest ({reason}); rebuild with `simsum index --rebuild PATH...`")]
    Manifest { path: PathBuf, reason: String },
    #[error("{path}: index format {found} is newer than this simsum reads (up to {supported}); upgrade simsum, or rebuild with `simsum index --rebuild PATH...`")]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}: index format {found} is older than this simsum reads (from {oldest}); rebuild with `simsum index --rebuild PATH...`")]
    OlderFormat {
        path: PathBuf,
        found: u32,
        oldest: u32,
    },
    #[error("{0}")]
    ModelMismatch(Box<ModelMismatch>),
    #[error("index {dir} is locked by another writer ({holder}); wait for it to finish")]
    Locked { dir: PathBuf, holder: String },
    #[error("{path}: database error: {source}")]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: the index database is corrupt ({reason}); rebuild with `simsum index --rebuild PATH...`")]
    CorruptDatabase { path: PathBuf, reason: String },
    #[error("embedding failed: {0}")]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("no item `{id}` in store {store}")]
    UnknownItem { store: String, id: String },
    #[error("store URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("store {url}: TLS: {reason}")]
    Tls { url: String, reason: String },
    #[error("store {url}: refusing to send the store token in clear (plain HTTP) to {host}, which is not this machine; turn TLS on with milvus+tls://{host}:{port}/{name} (and --store-ca FILE for a private CA), or reach the server through 127.0.0.1")]
    TokenInClear {
        url: String,
        host: String,
        port: u16,
        name: String,
    },
    #[error("store `{url}`: this build of simsum cannot open it yet")]
    Unsupported { url: String },
    #[error("cannot reach the Milvus server of {url} ({reason}); start it, or check the host and port in --store / SIMSUM_STORE")]
    Unreachable { url: String, reason: String },
    #[error("Milvus server of {url}: {what} failed: {message}")]
    Server {
        url: String,
        what: String,
        message: String,
    },
    #[error("no simsum store at {url}: create one with `simsum index --store {url} PATH...`")]
    NoStore { url: String },
    #[error("store {url}: {reason}")]
    BadData { url: String, reason: String },
    #[error("store {url} keeps no entities yet: run `simsum index PATH...` again to add them (only the entities are computed; nothing is embedded again)")]
    NoTags { url: String },
    #[error("store {url}: shard {shard} is being written by another writer ({holder}, shard {other}); wait for it to finish, or for its lease to expire in {seconds} s")]
    Leased {
        url: String,
        shard: String,
        other: String,
        holder: String,
        seconds: u64,
    },
}

/// The model recorded in an index differs from the one in use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store {store} was built with model `{index_model}` ({index_dim}-d, weights sha256 {index_sha}), but the current model is `{current_model}` ({current_dim}-d, weights sha256 {current_sha}); pass `--model {index_model}`, or rebuild with `simsum index --rebuild PATH...`")]
pub struct ModelMismatch {
    /// The store's URL (`dir:PATH`, `milvus://HOST:PORT/NAME`).
    pub store: String,
    pub index_model: String,
    pub index_sha: String,
    pub index_dim: usize,
    pub current_model: String,
    pub current_sha: String,
    pub current_dim: usize,
}

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
                store
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

    /// The last theme report saved with [`save_themes`], with the generation it describes;
    /// `None` when there is none.
    fn load_themes(&self) -> Result<Option<SavedThemes>, StoreError>;

    /// Whether every stored item carries its tags (the last update tagged them). The default:
    /// an engine that keeps none.
    fn has_tags(&self) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// `(key, document id)` of the items of `level` with a tag of `kind` whose value is one of
    /// `values`, by key. Fails with [`StoreError::NoTags`] when the store keeps none.
    fn tagged(
        &self,
        _level: Level,
        _kind: &str,
        _values: &[String],
    ) -> Result<Vec<(u64, String)>, StoreError> {
        Err(StoreError::NoTags {
            url: self.info().url,
        })
    }

    /// Each value of `kind` with the items of `level` and the documents that carry it, most
    /// items first (ties by value).
    fn tag_counts(&self, _level: Level, _kind: &str) -> Result<Vec<TagCount>, StoreError> {
        Err(StoreError::NoTags {
            url: self.info().url,
        })
    }

    /// The tags of the items with these keys (items without tags are absent).
    fn tags_of(
        &self,
        _keys: &[u64],
    ) -> Result<std::collections::HashMap<u64, Vec<Tag>>, StoreError> {
        Err(StoreError::NoTags {
            url: self.info().url,
        })
    }
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
        StoreUrl::Milvus { .. } => milvus::save_themes(url, token, themes),
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

/// Where a store is: the value of `--store` (or `--index DIR` when `--store` is unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A local index directory (`dir:PATH`, or a plain path).
    Dir(PathBuf),
    /// A Milvus server: `milvus://HOST:PORT/NAME` (plain HTTP) or `milvus+tls://HOST:PORT/NAME`
    /// (HTTPS); collections are named from `name`.
    Milvus {
        host: String,
        port: u16,
        name: String,
        /// Set for `milvus+tls://`: how to check the server's certificate.
        tls: Option<MilvusTls>,
    },
}

/// TLS settings of a `milvus+tls://` store: the system's roots, plus a CA of one's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MilvusTls {
    /// A PEM file of CA certificates trusted beside the system's (`--store-ca FILE`).
    pub ca: Option<PathBuf>,
}

impl StoreUrl {
    /// Parses `dir:PATH`, `milvus://HOST[:PORT]/NAME` or `milvus+tls://HOST[:PORT]/NAME` (port
    /// 19530 by default) or a plain path (a local index directory). Another scheme is refused,
    /// naming the ones known.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::BadUrl {
            url: s.to_string(),
            reason: why.to_string(),
        };
        if let Some(path) = s.strip_prefix("dir:") {
            if path.is_empty() {
                return Err(bad("`dir:` needs a path, e.g. `dir:.simsum`"));
            }
            return Ok(StoreUrl::Dir(PathBuf::from(path)));
        }
        let milvus = match s.strip_prefix("milvus://") {
            Some(rest) => Some((rest, None)),
            None => s
                .strip_prefix("milvus+tls://")
                .map(|rest| (rest, Some(MilvusTls::default()))),
        };
        if let Some((rest, tls)) = milvus {
            let (hostport, name) = rest
                .split_once('/')
                .ok_or_else(|| bad("no collection name: use milvus://HOST:PORT/NAME"))?;
            let name = name.trim_end_matches('/');
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(bad(
                    "the name must be letters, digits and `_`, starting with a letter or `_`",
                ));
            }
            let (host, port) = match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>()
                        .map_err(|_| bad(&format!("`{p}` is not a port number")))?,
                ),
                None => (hostport.to_string(), 19530),
            };
            if host.is_empty() {
                return Err(bad("no host: use milvus://HOST:PORT/NAME"));
            }
            return Ok(StoreUrl::Milvus {
                host,
                port,
                name: name.to_string(),
                tls,
            });
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(bad(&format!(
                "unknown scheme `{scheme}`: use dir:PATH, milvus://HOST:PORT/NAME or \
                 milvus+tls://HOST:PORT/NAME"
            )));
        }
        Ok(StoreUrl::Dir(PathBuf::from(s)))
    }

    /// Trusts the CA certificates of the PEM file `ca` beside the system's (`--store-ca`): only
    /// for a `milvus+tls://` store; another is refused, saying how to turn TLS on.
    pub fn with_ca(self, ca: PathBuf) -> Result<Self, StoreError> {
        match self {
            StoreUrl::Milvus {
                host,
                port,
                name,
                tls: Some(_),
            } => Ok(StoreUrl::Milvus {
                host,
                port,
                name,
                tls: Some(MilvusTls { ca: Some(ca) }),
            }),
            other => Err(StoreError::BadUrl {
                reason: format!(
                    "a CA file ({}) is for a TLS store: use milvus+tls://HOST:PORT/NAME",
                    ca.display()
                ),
                url: other.to_string(),
            }),
        }
    }

    /// The local directory, for `Dir`.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            StoreUrl::Dir(p) => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Dir(p) => write!(f, "dir:{}", p.display()),
            StoreUrl::Milvus {
                host,
                port,
                name,
                tls,
            } => {
                let scheme = if tls.is_some() {
                    "milvus+tls"
                } else {
                    "milvus"
                };
                write!(f, "{scheme}://{host}:{port}/{name}")
            }
        }
    }
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
        StoreUrl::Milvus { .. } => Ok(Box::new(milvus::MilvusStore::open(url, token)?)),
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
        StoreUrl::Milvus { .. } => Ok(Box::new(milvus::MilvusWriter::open(
            url, token, model, dim, rebuild, shard,
        )?)),
    }
}

pub(crate) fn short_sha(s: &str) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s.chars().take(12).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_or_say_what_is_wrong() {
        assert_eq!(
            StoreUrl::parse("dir:.simsum").unwrap(),
            StoreUrl::Dir(".simsum".into())
        );
        assert_eq!(StoreUrl::parse("idx").unwrap(), StoreUrl::Dir("idx".into()));
        assert_eq!(
            StoreUrl::parse("milvus://127.0.0.1:19530/reports").unwrap(),
            StoreUrl::Milvus {
                host: "127.0.0.1".into(),
                port: 19530,
                name: "reports".into(),
                tls: None,
            }
        );
        let tls = StoreUrl::parse("milvus+tls://db.example.org/reports").unwrap();
        assert_eq!(tls.to_string(), "milvus+tls://db.example.org:19530/reports");
        assert_eq!(StoreUrl::parse(&tls.to_string()).unwrap(), tls);
        let with_ca = tls.clone().with_ca("ca.pem".into()).unwrap();
        assert!(matches!(
            with_ca,
            StoreUrl::Milvus { tls: Some(MilvusTls { ca: Some(ref p) }), .. } if p == Path::new("ca.pem")
        ));
        let e = StoreUrl::parse("milvus://db/reports")
            .unwrap()
            .with_ca("ca.pem".into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("ca.pem") && e.contains("milvus+tls://"), "{e}");
        assert_eq!(
            StoreUrl::parse("milvus://db/reports").unwrap().to_string(),
            "milvus://db:19530/reports"
        );
        for bad in [
            "qdrant://x/y",
            "milvus://h:99999/n",
            "milvus://h:1",
            "milvus://h:1/bad-name",
            "milvus+tls://h:1",
            "dir:",
        ] {
            let e = StoreUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
