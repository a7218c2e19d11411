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
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::embed::ModelId;
use crate::store::{
    short_sha, Counts, DocumentInfo, ItemFilter, Level, ModelMismatch, SavedThemes, Store,
    StoreError, StoreInfo, StoreUrl, StoredItem, StoredSentence,
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
    /// Force brute-force search even where a graph would be used.
    exact: bool,
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
            exact: false,
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

    /// Forces brute-force search (`--exact`).
    pub fn set_exact(&mut self, exact: bool) {
        self.exact = exact;
    }

    fn graph_spec(&self) -> GraphSpec {
        GraphSpec {
            dimension: self.manifest.dimension,
            params: self.manifest.hnsw,
        }
    }

    /// Fails with [`StoreError::ModelMismatch`] unless the index was built by this model.
    pub fn check_model(&self, model: &ModelId, dim: usize) -> Result<(), StoreError> {
        let m = &self.manifest;
        if m.model != *model || m.dimension != dim {
            return Err(StoreError::ModelMismatch(Box::new(ModelMismatch {
                dir: self.files.dir().to_path_buf(),
                index_model: m.model.name.clone(),
                index_sha: short_sha(&m.model.weights_sha256),
                index_dim: m.dimension,
                current_model: model.name.clone(),
                current_sha: short_sha(&model.weights_sha256),
                current_dim: dim,
            })));
        }
        Ok(())
    }

    /// Current database generation (bumped by each committed update).
    pub fn generation(&self) -> Result<u64, StoreError> {
        self.db.generation()
    }

    /// Item and document counts, read from the database.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.db.counts()
    }

    /// All stored documents.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, StoreError> {
        self.db.documents()
    }

    /// All items of a level in reading order (document id, then position), with their
    /// sentences (texts and vectors). Boilerplate items are included; check `boilerplate`.
    pub fn items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
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
    pub fn item(&self, id: &str) -> Result<StoredItem, StoreError> {
        let mut item = self
            .db
            .item_by_id(id)?
            .ok_or_else(|| StoreError::UnknownItem {
                dir: self.files.dir().to_path_buf(),
                id: id.to_string(),
            })?;
        item.sentences = self.db.sentences_of(&item)?;
        Ok(item)
    }

    /// Items by key, in the order given (unknown keys are skipped), without sentences.
    pub fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for &k in keys {
            out.extend(self.db.item_by_key(k)?);
        }
        Ok(out)
    }

    /// The sentences of an initiative or section, in reading order, with their vectors.
    pub fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, StoreError> {
        self.db.sentences_of(item)
    }

    /// The exact or approximate kNN graph of a level's non-boilerplate items: node `i` is the
    /// `i`-th item of `items(level)` filtered the same way (see [`LocalStore::knn_items`]).
    ///
    /// Small levels (or `--exact`) get the exact graph; large ones query the level's stored HNSW
    /// graph (the one search uses, loaded from disk), so no graph is built again. Without a
    /// usable stored graph, one is built in memory.
    pub fn knn_graph(&self, level: Level, k: usize) -> Result<KnnGraph, StoreError> {
        let items = self.knn_items(level)?;
        if items.len() < self.manifest.exact_threshold || self.exact {
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

    /// The items [`LocalStore::knn_graph`] numbers: `items(level)` without boilerplate.
    pub fn knn_items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        Ok(self
            .items(level)?
            .into_iter()
            .filter(|i| !i.boilerplate)
            .collect())
    }

    fn level_index(&self, level: Level) -> Result<&LevelIndex, StoreError> {
        let slot = &self.levels[level.slot()];
        if let Some(l) = slot.get() {
            return Ok(l);
        }
        let built = LevelIndex::load(self, level)?;
        Ok(slot.get_or_init(|| built))
    }

    /// The `k` stored items of `level` most similar to `query` (an L2-normalised vector), as
    /// `(key, cosine)`, best first. Exact below the manifest's `exact_threshold` items, with
    /// `--exact`, when the filter leaves few items, or when the level's graph is missing or
    /// damaged; HNSW otherwise.
    pub fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        self.level_index(level)?.search(self, query, k, filter)
    }

    /// Whether a search of `level` would use the HNSW graph (for reports and tests).
    pub fn uses_graph(&self, level: Level) -> Result<bool, StoreError> {
        Ok(!self.exact && self.level_index(level)?.graph().is_some())
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
    fn check_model(&self, model: &ModelId, dim: usize) -> Result<(), StoreError> {
        LocalStore::check_model(self, model, dim)
    }
    fn set_exact(&mut self, exact: bool) {
        LocalStore::set_exact(self, exact)
    }
    fn generation(&self) -> Result<u64, StoreError> {
        LocalStore::generation(self)
    }
    fn counts(&self) -> Result<Counts, StoreError> {
        LocalStore::counts(self)
    }
    fn documents(&self) -> Result<Vec<DocumentInfo>, StoreError> {
        LocalStore::documents(self)
    }
    fn items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        LocalStore::items(self, level)
    }
    fn item(&self, id: &str) -> Result<StoredItem, StoreError> {
        LocalStore::item(self, id)
    }
    fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, StoreError> {
        LocalStore::items_by_key(self, keys)
    }
    fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, StoreError> {
        LocalStore::sentences_of(self, item)
    }
    fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        LocalStore::nearest(self, level, query, k, filter)
    }
    fn uses_graph(&self, level: Level) -> Result<bool, StoreError> {
        LocalStore::uses_graph(self, level)
    }
    fn knn_items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        LocalStore::knn_items(self, level)
    }
    fn knn_graph(&self, level: Level, k: usize) -> Result<KnnGraph, StoreError> {
        LocalStore::knn_graph(self, level, k)
    }
    fn load_themes(&self) -> Result<Option<SavedThemes>, StoreError> {
        self.files.read_themes()
    }
    /// Written through the file owner (atomic, fsynced, versioned). Saving a report is not an
    /// index update: it does not take the writer lock (a report names the generation it
    /// describes, and a stale one is made again).
    fn save_themes(&self, themes: &SavedThemes) -> Result<(), StoreError> {
        self.files.write_themes(themes)
    }
}

/// Normalises a document path as stored (absolute, symlinks resolved where possible).
pub(crate) fn norm_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()))
}
