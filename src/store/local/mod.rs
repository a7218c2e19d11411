//! The local store: an index directory holding documents, items (sections, initiatives,
//! sentences) and their vectors, kept current incrementally, with nearest-neighbour search.
//!
//! Layout ([`files`] knows every path and writes every file): `manifest.json` (human-readable
//! description, checked on open), `index.sqlite` (the source of truth; `sqlite.rs` is the only
//! code that speaks SQL), `lock` (the writer lock, [`lock`]), `themes.json` (the last theme
//! report) and `graph/<level>/` (derived graphs, [`graphs`]: the `hnsw_rs` files writers
//! extend and the flat copy searches read, verified by checksum).
//!
//! [`LocalStore`] reads and never writes: a missing or damaged graph is searched around
//! exactly (`level.rs`), and the next writer rebuilds and saves it. [`LocalWriter`] updates under
//! the lock, in phases (`writer.rs`: plan, embed, commit, refresh graphs).

pub mod files;
pub mod graphs;
pub mod layout;
mod level;
pub mod lock;
pub mod manifest;
mod plan;
mod sqlite;
mod writer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::store::{
    Counts, DocumentInfo, ItemFilter, Level, SavedThemes, Store, StoreError, StoreInfo, StoreUrl,
    StoredItem, StoredSentence, Tag, TagCount, TagStore, ThemeStore,
};
use files::IndexFiles;
use graphs::{knn, GraphSpec, KnnGraph};
use level::LevelIndex;
use manifest::Manifest;
use sqlite::Db;

pub use files::THEMES_FILE;
pub use lock::WriterLock;
pub use writer::{LocalOptions, LocalWriter};

/// An open index directory (read side). Cheap queries; per-level search structures are loaded
/// on first use and kept. Never writes a file and never takes the writer lock.
pub struct LocalStore {
    files: IndexFiles,
    manifest: Manifest,
    db: Db,
    levels: [OnceLock<LevelIndex>; 3],
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("dir", &self.files.dir())
            .field("manifest", &self.manifest)
            .finish()
    }
}

impl LocalStore {
    /// Opens an existing index for reading: checks the manifest's format version, opens the
    /// database and checks that it is readable and not of a newer format.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let files = IndexFiles::new(dir);
        let manifest = files.read_manifest()?;
        let db = Db::open(&files.db(), false, manifest.dimension)?;
        Ok(Self::from_parts(files, manifest, db))
    }

    fn from_parts(files: IndexFiles, manifest: Manifest, db: Db) -> Self {
        Self {
            files,
            manifest,
            db,
            levels: Default::default(),
        }
    }

    /// The index directory.
    pub fn path(&self) -> &Path {
        self.files.dir()
    }

    /// The manifest as read on open (or as last written by this process's writer).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn graph_spec(&self) -> GraphSpec {
        GraphSpec {
            dimension: self.manifest.dimension,
            params: self.manifest.hnsw,
        }
    }

    fn level_index(&self, level: Level) -> Result<&LevelIndex, StoreError> {
        let slot = &self.levels[level.slot()];
        if let Some(l) = slot.get() {
            return Ok(l);
        }
        let built = LevelIndex::load(self, level)?;
        Ok(slot.get_or_init(|| built))
    }
}

impl Store for LocalStore {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            url: StoreUrl::Dir(self.files.dir().to_path_buf()).to_string(),
            model: self.manifest.model.clone(),
            dimension: self.manifest.dimension,
            exact_threshold: self.manifest.exact_threshold,
        }
    }
    /// The index format, and per level the saved HNSW graph searches use (or the exact scan
    /// of a level without one: small, or not built yet).
    fn engine_info(&self) -> Result<crate::store::EngineInfo, StoreError> {
        let hnsw = self.manifest.hnsw;
        let mut levels = Vec::new();
        for level in [Level::Section, Level::Initiative] {
            let (live, in_graph) = self.level_index(level)?.sizes();
            let graph = self.level_index(level)?.graph().is_some();
            levels.push(crate::store::LevelIndexInfo {
                level,
                index_type: if graph { "HNSW" } else { "FLAT (exact scan)" }.into(),
                params: serde_json::json!({"M": hnsw.m, "efConstruction": hnsw.ef_construction})
                    .to_string(),
                ef_search: graph.then_some(hnsw.ef_search),
                indexed_rows: in_graph as u64,
                total_rows: live as u64,
            });
        }
        Ok(crate::store::EngineInfo {
            engine: "local".into(),
            version: format!(
                "index format {} (SQLite, hnsw_rs)",
                self.manifest.format_version
            ),
            levels,
        })
    }

    /// Current database generation (bumped by each committed update).
    fn generation(&self) -> Result<u64, StoreError> {
        self.db.generation()
    }

    /// Item and document counts, read from the database.
    fn counts(&self) -> Result<Counts, StoreError> {
        self.db.counts()
    }

    /// All stored documents.
    fn documents(&self) -> Result<Vec<DocumentInfo>, StoreError> {
        self.db.documents()
    }

    /// All items of a level in reading order (document id, then position), with their
    /// sentences (texts and vectors). Boilerplate items are included; check `boilerplate`.
    fn items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        let mut items = self.db.items_of_level(level)?;
        if level != Level::Sentence {
            let mut by_parent = self.db.sentences_by_parent(level)?;
            for item in &mut items {
                item.sentences = by_parent.remove(&item.id).unwrap_or_default();
            }
        }
        Ok(items)
    }

    /// One item by id, with its sentences.
    fn item(&self, id: &str) -> Result<StoredItem, StoreError> {
        let mut item = self
            .db
            .item_by_id(id)?
            .ok_or_else(|| StoreError::UnknownItem {
                store: self.info().url,
                id: id.to_string(),
            })?;
        item.sentences = self.db.sentences_of(&item)?;
        Ok(item)
    }

    /// Items by key, in the order given (unknown keys are skipped), without sentences.
    fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for &k in keys {
            out.extend(self.db.item_by_key(k)?);
        }
        Ok(out)
    }

    /// The sentences of an initiative or section, in reading order, with their vectors.
    fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, StoreError> {
        self.db.sentences_of(item)
    }

    /// The exact or approximate kNN graph of a level's non-boilerplate items: node `i` is the
    /// `i`-th item of `items(level)` filtered the same way (see [`LocalStore::knn_items`]).
    ///
    /// Small levels (or `--exact`) get the exact graph; large ones query the level's stored HNSW
    /// graph (the one search uses, loaded from disk), so no graph is built again. Without a
    /// usable stored graph, one is built in memory.
    fn knn_graph(&self, level: Level, k: usize) -> Result<KnnGraph, StoreError> {
        let items = self.knn_items(level)?;
        if items.len() < self.manifest.exact_threshold {
            let vectors: Vec<Vec<f32>> = items.into_iter().map(|i| i.vector).collect();
            return Ok(KnnGraph::brute_force(&vectors, k));
        }
        let li = self.level_index(level)?;
        if let (Some(g), true) = (li.graph(), li.complete()) {
            let row_of: HashMap<u64, usize> = items
                .iter()
                .enumerate()
                .map(|(i, it)| (it.key, i))
                .collect();
            let ef = knn::graph_ef(k);
            let neighbours = items
                .par_iter()
                .enumerate()
                .map(|(i, it)| {
                    let keep = |key: usize| row_of.contains_key(&(key as u64));
                    let mut row: Vec<(usize, f32)> = g
                        .search(&it.vector, k + 1, ef, Some(&keep))
                        .into_iter()
                        .filter_map(|(key, s)| row_of.get(&(key as u64)).map(|&j| (j, s)))
                        .filter(|&(j, _)| j != i)
                        .collect();
                    row.truncate(k);
                    row
                })
                .collect();
            return Ok(KnnGraph { neighbours });
        }
        let vectors: Vec<Vec<f32>> = items.into_iter().map(|i| i.vector).collect();
        Ok(KnnGraph::from_hnsw(&vectors, k, self.manifest.hnsw))
    }

    /// The `k` stored items of `level` most similar to `query` (an L2-normalised vector), as
    /// `(key, cosine)`, best first. Exact below the manifest's `exact_threshold` items, with
    /// `--exact`, when the filter leaves few items, or when the level's graph is missing or
    /// damaged; HNSW otherwise.
    fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        if filter.tags.is_empty() {
            return self.level_index(level)?.search(self, query, k, filter);
        }
        let keys = crate::store::tag_keys(self, level, filter)?;
        let by_keys = filter.with_keys(keys.as_ref());
        self.level_index(level)?.search(self, query, k, &by_keys)
    }

    /// BM25 over the level's stored terms (the postings are built on the first lexical query of
    /// a level and kept).
    fn lexical(
        &self,
        level: Level,
        terms: &[String],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        if filter.tags.is_empty() {
            return self
                .level_index(level)?
                .lexical_search(self, terms, k, filter);
        }
        let keys = crate::store::tag_keys(self, level, filter)?;
        let by_keys = filter.with_keys(keys.as_ref());
        self.level_index(level)?
            .lexical_search(self, terms, k, &by_keys)
    }

    fn lexical_scores(
        &self,
        level: Level,
        terms: &[String],
        keys: &[u64],
    ) -> Result<Vec<f32>, StoreError> {
        let li = self.level_index(level)?;
        Ok(li.lexical(self)?.scores(terms, keys))
    }

    /// Whether a search of `level` would use the HNSW graph (for reports and tests).
    fn uses_graph(&self, level: Level) -> Result<bool, StoreError> {
        Ok(self.level_index(level)?.graph().is_some())
    }
    /// One query for the document's items and one per item for its sentences: never the whole
    /// level.
    fn items_of_document(&self, level: Level, doc_id: &str) -> Result<Vec<StoredItem>, StoreError> {
        let mut items = self.db.items_of_document(level, doc_id)?;
        if level != Level::Sentence {
            for item in &mut items {
                item.sentences = self.db.sentences_of(item)?;
            }
        }
        Ok(items)
    }
    fn tags(&self) -> Option<&dyn TagStore> {
        Some(self)
    }

    fn themes(&self) -> Option<&dyn ThemeStore> {
        Some(self)
    }
}

impl ThemeStore for LocalStore {
    fn load_themes(&self) -> Result<Option<SavedThemes>, StoreError> {
        self.files.read_themes()
    }
}

impl TagStore for LocalStore {
    fn has_tags(&self) -> Result<bool, StoreError> {
        self.db.has_tags()
    }

    fn tagged(
        &self,
        level: Level,
        kind: &str,
        values: &[String],
    ) -> Result<Vec<(u64, String)>, StoreError> {
        self.require_tags()?;
        self.db.tagged(level, kind, values)
    }

    fn tag_counts(&self, level: Level, kind: &str) -> Result<Vec<TagCount>, StoreError> {
        self.require_tags()?;
        self.db.tag_counts(level, kind)
    }

    fn tags_of(&self, keys: &[u64]) -> Result<HashMap<u64, Vec<Tag>>, StoreError> {
        self.require_tags()?;
        self.db.tags_of(keys)
    }
}

impl LocalStore {
    fn require_tags(&self) -> Result<(), StoreError> {
        if self.db.has_tags()? {
            Ok(())
        } else {
            Err(StoreError::NoTags {
                url: self.info().url,
            })
        }
    }
}
