//! The index directory: documents, items (sections, initiatives, sentences) and their vectors on
//! disk, kept current incrementally, plus nearest-neighbour search over them.
//!
//! Layout (see [`layout`]): `manifest.json` (human-readable description, checked on open),
//! `index.sqlite` (the source of truth: texts, metadata, vectors; one transaction per update),
//! `lock` (the writer lock) and `graph/<level>/` (derived HNSW graphs: the `hnsw_rs` files that
//! writers update ([`hnsw`]) and the flat copy that searches read ([`flat`]), verified by
//! checksum and rebuilt from the stored vectors when missing, stale or corrupt). [`IndexDir`] reads;
//! [`IndexWriter`] updates under the lock. [`crate::search`] builds queries on top of
//! [`IndexDir::nearest`]; clustering reads [`IndexDir::items`] and [`IndexDir::knn_graph`].

pub mod flat;
pub mod hnsw;
pub mod knn;
pub mod layout;
pub mod lock;
pub mod manifest;
mod store;

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};

use crate::embed::{Embedder, ModelId};
use crate::ingest::Document;
use hnsw::{FlatGraph, HnswGraph};
use layout::{
    decode_vector, encode_vector, HnswParams, COMPACT_TOMBSTONE_RATIO, DB_FILE, FORMAT_VERSION,
    GRAPH_DIR, MANIFEST_FILE, OLDEST_READABLE_FORMAT,
};
use manifest::{Counts, Manifest};
use store::{db_err, ItemRow};

pub use knn::KnnGraph;
pub use lock::WriterLock;
// The interface types live with the store interface; these names keep older paths working.
use crate::store::{short_sha, SavedThemes, Store, StoreInfo, StoreWriter};
pub use crate::store::{
    DocumentInfo, ItemFilter, Level, LevelStats, ModelMismatch, StoreError as IndexError,
    StoredItem, StoredSentence, UpdateOptions, UpdateStats,
};

/// An open index directory (read side). Cheap queries; per-level search structures are loaded
/// on first use and kept.
pub struct IndexDir {
    dir: PathBuf,
    manifest: Manifest,
    db_path: PathBuf,
    conn: Mutex<Connection>,
    levels: [OnceLock<LevelIndex>; 3],
    /// Force brute-force search even where a graph would be used.
    exact: bool,
}

impl std::fmt::Debug for IndexDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexDir")
            .field("dir", &self.dir)
            .field("manifest", &self.manifest)
            .finish()
    }
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn read_manifest(dir: &Path) -> Result<Manifest, IndexError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(IndexError::NotFound {
                dir: dir.to_path_buf(),
            })
        }
        Err(source) => return Err(IndexError::Io { path, source }),
    };
    // Check the version before the rest, so a newer format is reported as such.
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| IndexError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let found = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| IndexError::Manifest {
            path: path.clone(),
            reason: "no `format_version`".into(),
        })? as u32;
    if found > FORMAT_VERSION {
        return Err(IndexError::NewerFormat {
            path,
            found,
            supported: FORMAT_VERSION,
        });
    }
    if found < OLDEST_READABLE_FORMAT {
        return Err(IndexError::OlderFormat {
            path,
            found,
            oldest: OLDEST_READABLE_FORMAT,
        });
    }
    serde_json::from_value(value).map_err(|e| IndexError::Manifest {
        path,
        reason: e.to_string(),
    })
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), IndexError> {
    let path = dir.join(MANIFEST_FILE);
    let mut json = serde_json::to_vec_pretty(m).expect("manifest serialises");
    json.push(b'\n');
    crate::model::write_atomic(&path, &json).map_err(|source| IndexError::Io { path, source })
}

fn norm_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()))
}

impl IndexDir {
    /// Opens an existing index for reading: checks the manifest's format version, opens the
    /// database and checks that it is readable and agrees with the manifest.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let manifest = read_manifest(dir)?;
        let db_path = dir.join(DB_FILE);
        let conn = store::open(&db_path, false)?;
        let db_format = store::meta_get(&conn, &db_path, "format_version")?;
        if let Some(v) = db_format.as_deref().and_then(|v| v.parse::<u32>().ok()) {
            if v > FORMAT_VERSION {
                return Err(IndexError::NewerFormat {
                    path: db_path,
                    found: v,
                    supported: FORMAT_VERSION,
                });
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            db_path,
            conn: Mutex::new(conn),
            levels: Default::default(),
            exact: false,
        })
    }

    /// The index directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The manifest as read on open (or as last written by this process's writer).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Forces brute-force search (`--exact`).
    pub fn set_exact(&mut self, exact: bool) {
        self.exact = exact;
    }

    /// Fails with [`IndexError::ModelMismatch`] unless the index was built by this model.
    pub fn check_model(&self, model: &ModelId, dim: usize) -> Result<(), IndexError> {
        let m = &self.manifest;
        if m.model != *model || m.dimension != dim {
            return Err(IndexError::ModelMismatch(Box::new(ModelMismatch {
                dir: self.dir.clone(),
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

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn db<T>(&self, r: rusqlite::Result<T>) -> Result<T, IndexError> {
        r.map_err(|e| db_err(&self.db_path, e))
    }

    /// Current database generation (bumped by each committed update).
    pub fn generation(&self) -> Result<u64, IndexError> {
        let conn = self.conn();
        Ok(store::meta_get(&conn, &self.db_path, "generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0))
    }

    /// Item and document counts, read from the database.
    pub fn counts(&self) -> Result<Counts, IndexError> {
        let conn = self.conn();
        let count = |sql: &str| -> Result<usize, IndexError> {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| db_err(&self.db_path, e))
        };
        Ok(Counts {
            documents: count("SELECT count(*) FROM documents")?,
            sections: count("SELECT count(*) FROM items WHERE level = 1")?,
            initiatives: count("SELECT count(*) FROM items WHERE level = 2")?,
            sentences: count("SELECT count(*) FROM items WHERE level = 3")?,
        })
    }

    /// All stored documents.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, IndexError> {
        let conn = self.conn();
        let mut st =
            self.db(conn.prepare("SELECT id, title, date, path FROM documents ORDER BY id"))?;
        let rows = self.db(st.query_map([], |r| {
            Ok(DocumentInfo {
                id: r.get(0)?,
                title: r.get(1)?,
                date: r.get(2)?,
                path: PathBuf::from(r.get::<_, String>(3)?),
            })
        }))?;
        self.db(rows.collect())
    }

    const ITEM_SELECT: &'static str =
        "SELECT i.key, i.id, i.level, i.doc_id, d.title, d.date, d.path,
        i.section_id, i.heading, i.text, i.boilerplate, i.parent_id, i.vector
        FROM items i JOIN documents d ON d.id = i.doc_id";

    fn row_to_item(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<(StoredItem, Vec<u8>)> {
        let level: i64 = r.get(2)?;
        Ok((
            StoredItem {
                key: r.get::<_, i64>(0)? as u64,
                id: r.get(1)?,
                level: Level::from_code(level).unwrap_or(Level::Sentence),
                doc_id: r.get(3)?,
                doc_title: r.get(4)?,
                doc_date: r.get(5)?,
                doc_path: PathBuf::from(r.get::<_, String>(6)?),
                section_id: r.get(7)?,
                heading: r.get(8)?,
                text: r.get(9)?,
                boilerplate: r.get(10)?,
                parent_id: r.get(11)?,
                vector: Vec::new(),
                sentences: Vec::new(),
            },
            r.get(12)?,
        ))
    }

    fn decode(&self, blob: &[u8], what: &str) -> Result<Vec<f32>, IndexError> {
        decode_vector(blob, self.manifest.dimension).ok_or_else(|| IndexError::CorruptDatabase {
            path: self.db_path.clone(),
            reason: format!(
                "vector of `{what}` has {} bytes, expected {}",
                blob.len(),
                self.manifest.dimension * 4
            ),
        })
    }

    fn query_items(
        &self,
        where_sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredItem>, IndexError> {
        let rows: Vec<(StoredItem, Vec<u8>)> = {
            let conn = self.conn();
            let sql = format!("{} {where_sql}", Self::ITEM_SELECT);
            let mut st = self.db(conn.prepare_cached(&sql))?;
            let rows = self.db(st.query_map(args, |r| self.row_to_item(r)))?;
            self.db(rows.collect::<rusqlite::Result<Vec<_>>>())?
        };
        rows.into_iter()
            .map(|(mut item, blob)| {
                item.vector = self.decode(&blob, &item.id)?;
                Ok(item)
            })
            .collect()
    }

    /// All items of a level in reading order (document id, then position), with their
    /// sentences (texts and vectors). Boilerplate items are included; check `boilerplate`.
    pub fn items(&self, level: Level) -> Result<Vec<StoredItem>, IndexError> {
        let mut items = self.query_items(
            "WHERE i.level = ?1 ORDER BY i.doc_id, i.ordinal",
            &[&level.code()],
        )?;
        if level != Level::Sentence {
            let sentences =
                self.query_items("WHERE i.level = 3 ORDER BY i.doc_id, i.ordinal", &[])?;
            let mut by_parent: HashMap<String, Vec<StoredSentence>> = HashMap::new();
            let ranges = self.sentence_ranges()?;
            for s in sentences {
                let key = match level {
                    Level::Section => s.section_id.clone(),
                    _ => s.parent_id.clone().unwrap_or_default(),
                };
                by_parent
                    .entry(key)
                    .or_default()
                    .push(to_sentence(s, &ranges));
            }
            for item in &mut items {
                item.sentences = by_parent.remove(&item.id).unwrap_or_default();
            }
        }
        Ok(items)
    }

    fn sentence_ranges(&self) -> Result<HashMap<u64, (usize, usize)>, IndexError> {
        let conn = self.conn();
        let mut st = self.db(
            conn.prepare_cached("SELECT key, start_byte, end_byte FROM items WHERE level = 3")
        )?;
        let rows = self.db(st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                (
                    r.get::<_, Option<i64>>(1)?.unwrap_or(0) as usize,
                    r.get::<_, Option<i64>>(2)?.unwrap_or(0) as usize,
                ),
            ))
        }))?;
        self.db(rows.collect())
    }

    /// One item by id, with its sentences.
    pub fn item(&self, id: &str) -> Result<StoredItem, IndexError> {
        let mut item = self
            .query_items("WHERE i.id = ?1", &[&id])?
            .pop()
            .ok_or_else(|| IndexError::UnknownItem {
                dir: self.dir.clone(),
                id: id.to_string(),
            })?;
        item.sentences = self.sentences_of(&item)?;
        Ok(item)
    }

    /// Items by key, in the order given (unknown keys are skipped), without sentences.
    pub fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, IndexError> {
        let mut out = Vec::with_capacity(keys.len());
        for &k in keys {
            out.extend(self.query_items("WHERE i.key = ?1", &[&(k as i64)])?);
        }
        Ok(out)
    }

    /// The sentences of an initiative or section, in reading order, with their vectors.
    pub fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, IndexError> {
        let found = match item.level {
            Level::Initiative => self.query_items(
                "WHERE i.level = 3 AND i.parent_id = ?1 ORDER BY i.ordinal",
                &[&item.id],
            )?,
            Level::Section => self.query_items(
                "WHERE i.level = 3 AND i.section_id = ?1 ORDER BY i.ordinal",
                &[&item.id],
            )?,
            Level::Sentence => return Ok(Vec::new()),
        };
        let mut ranges = HashMap::new();
        {
            let conn = self.conn();
            let mut st = self
                .db(conn.prepare_cached("SELECT start_byte, end_byte FROM items WHERE key = ?1"))?;
            for s in &found {
                let r = self.db(st.query_row([s.key as i64], |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?.unwrap_or(0) as usize,
                        r.get::<_, Option<i64>>(1)?.unwrap_or(0) as usize,
                    ))
                }))?;
                ranges.insert(s.key, r);
            }
        }
        Ok(found.into_iter().map(|s| to_sentence(s, &ranges)).collect())
    }

    /// The exact or approximate kNN graph of a level's non-boilerplate items: node `i` is the
    /// `i`-th item of `items(level)` filtered the same way (see [`IndexDir::knn_items`]).
    ///
    /// Small levels (or `--exact`) get the exact graph; large ones query the level's stored HNSW
    /// graph (the one search uses, loaded from disk), so no graph is built again.
    pub fn knn_graph(&self, level: Level, k: usize) -> Result<KnnGraph, IndexError> {
        let items = self.knn_items(level)?;
        if items.len() < self.manifest.exact_threshold || self.exact {
            let vectors: Vec<Vec<f32>> = items.into_iter().map(|i| i.vector).collect();
            return Ok(KnnGraph::brute_force(&vectors, k));
        }
        let li = self.level_index(level)?;
        let vectors: Vec<Vec<f32>> = match &li.graph {
            Some(g) if li.missing.is_empty() => {
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
            _ => items.into_iter().map(|i| i.vector).collect(),
        };
        Ok(KnnGraph::from_hnsw(&vectors, k, self.manifest.hnsw))
    }

    /// The items [`IndexDir::knn_graph`] numbers: `items(level)` without boilerplate.
    pub fn knn_items(&self, level: Level) -> Result<Vec<StoredItem>, IndexError> {
        Ok(self
            .items(level)?
            .into_iter()
            .filter(|i| !i.boilerplate)
            .collect())
    }

    fn level_index(&self, level: Level) -> Result<&LevelIndex, IndexError> {
        let slot = &self.levels[level.slot()];
        if let Some(l) = slot.get() {
            return Ok(l);
        }
        let built = LevelIndex::load(self, level)?;
        Ok(slot.get_or_init(|| built))
    }

    /// The `k` stored items of `level` most similar to `query` (an L2-normalised vector), as
    /// `(key, cosine)`, best first. Exact below the manifest's `exact_threshold` items, with `--exact`, or
    /// when the filter leaves few items; HNSW otherwise.
    pub fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, IndexError> {
        let li = self.level_index(level)?;
        li.search(self, query, k, filter, self.manifest.hnsw.ef_search)
    }

    /// Whether a search of `level` would use the HNSW graph (for reports and tests).
    pub fn uses_graph(&self, level: Level) -> Result<bool, IndexError> {
        Ok(!self.exact && self.level_index(level)?.graph.is_some())
    }

    fn graph_dir(&self, level: Level) -> PathBuf {
        self.dir.join(GRAPH_DIR).join(level.as_str())
    }

    /// Live `(key, vector)` pairs of a level.
    fn live_vectors(&self, level: Level) -> Result<Vec<(u64, Vec<f32>)>, IndexError> {
        let rows: Vec<(i64, Vec<u8>)> = {
            let conn = self.conn();
            let mut st = self.db(
                conn.prepare_cached("SELECT key, vector FROM items WHERE level = ?1 ORDER BY key")
            )?;
            let rows = self.db(st.query_map([level.code()], |r| Ok((r.get(0)?, r.get(1)?))))?;
            self.db(rows.collect::<rusqlite::Result<Vec<_>>>())?
        };
        rows.into_iter()
            .map(|(k, b)| Ok((k as u64, self.decode(&b, &format!("key {k}"))?)))
            .collect()
    }
}

fn to_sentence(s: StoredItem, ranges: &HashMap<u64, (usize, usize)>) -> StoredSentence {
    StoredSentence {
        byte_range: ranges.get(&s.key).copied().unwrap_or((0, 0)),
        initiative_id: s.parent_id.unwrap_or_default(),
        id: s.id,
        text: s.text,
        vector: s.vector,
    }
}

/// Per-level search state: item metadata for filters, and either the graph or the vectors.
struct LevelIndex {
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
    /// The graph, when the level is large; plus live keys the graph lacks (searched exactly).
    graph: Option<FlatGraph>,
    missing: Vec<usize>,
}

impl LevelIndex {
    fn load(index: &IndexDir, level: Level) -> Result<Self, IndexError> {
        let docs = index.documents()?;
        let doc_pos: HashMap<&str, u32> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i as u32))
            .collect();
        let rows: Vec<(i64, String, bool)> = {
            let conn = index.conn();
            let mut st = index.db(conn.prepare_cached(
                "SELECT key, doc_id, boilerplate FROM items WHERE level = ?1 ORDER BY key",
            ))?;
            let rows =
                index.db(st.query_map([level.code()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))?;
            index.db(rows.collect::<rusqlite::Result<Vec<_>>>())?
        };
        let mut li = LevelIndex {
            level,
            keys: Vec::with_capacity(rows.len()),
            doc_of: Vec::with_capacity(rows.len()),
            boilerplate: Vec::with_capacity(rows.len()),
            pos: HashMap::with_capacity(rows.len()),
            docs: Vec::new(),
            vectors: OnceLock::new(),
            graph: None,
            missing: Vec::new(),
        };
        for (key, doc, bp) in rows {
            li.pos.insert(key as u64, li.keys.len());
            li.keys.push(key as u64);
            li.doc_of
                .push(doc_pos.get(doc.as_str()).copied().unwrap_or(u32::MAX));
            li.boilerplate.push(bp);
        }
        li.docs = docs;
        if li.keys.len() >= index.manifest.exact_threshold
            && !index.exact
            && level != Level::Sentence
        {
            let graph = match load_search_graph(index, level) {
                Some(g) => g,
                None => {
                    // Missing, stale or corrupt: rebuild from the stored vectors, and keep it when
                    // no writer is busy.
                    let live = index.live_vectors(level)?;
                    let g = build_graph(&live, index.manifest.hnsw);
                    if let Ok(_lock) = WriterLock::try_acquire(&index.dir) {
                        let _ = save_graph(index, level, &g, index.generation()?);
                    }
                    g.into_flat()
                }
            };
            let in_graph: HashSet<usize> = graph.ids().iter().copied().collect();
            li.missing = (0..li.keys.len())
                .filter(|&i| !in_graph.contains(&(li.keys[i] as usize)))
                .collect();
            li.graph = Some(graph);
        }
        Ok(li)
    }

    fn flat_vectors(&self, index: &IndexDir) -> Result<&Vec<f32>, IndexError> {
        if let Some(v) = self.vectors.get() {
            return Ok(v);
        }
        let live = index.live_vectors(self.level)?;
        let mut flat = vec![0f32; self.keys.len() * index.manifest.dimension];
        let dim = index.manifest.dimension;
        for (key, v) in live {
            if let Some(&p) = self.pos.get(&key) {
                flat[p * dim..(p + 1) * dim].copy_from_slice(&v);
            }
        }
        Ok(self.vectors.get_or_init(|| flat))
    }

    fn search(
        &self,
        index: &IndexDir,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
        ef: usize,
    ) -> Result<Vec<(u64, f32)>, IndexError> {
        let doc_ok: Vec<bool> = match filter.document {
            Some(f) => self.docs.iter().map(f).collect(),
            None => vec![true; self.docs.len()],
        };
        let excluded: HashSet<u64> = filter.exclude_keys.iter().copied().collect();
        let allowed = |p: usize| -> bool {
            (filter.include_boilerplate || !self.boilerplate[p])
                && doc_ok
                    .get(self.doc_of[p] as usize)
                    .copied()
                    .unwrap_or(false)
                && !excluded.contains(&self.keys[p])
        };
        let n_allowed = (0..self.keys.len()).filter(|&p| allowed(p)).count();
        if k == 0 || n_allowed == 0 {
            return Ok(Vec::new());
        }
        let dim = index.manifest.dimension;
        let exact_scan = |positions: &mut dyn Iterator<Item = usize>, vectors: &[f32]| {
            let mut hits: Vec<(u64, f32)> = positions
                .map(|p| {
                    (
                        self.keys[p],
                        layout::dot(query, &vectors[p * dim..(p + 1) * dim]),
                    )
                })
                .collect();
            top_k(&mut hits, k);
            hits
        };
        match &self.graph {
            // A selective filter makes graph search miss; few allowed items are cheap to scan.
            Some(g)
                if !index.exact
                    && n_allowed
                        >= index
                            .manifest
                            .exact_threshold
                            .min(self.keys.len() / 10)
                            .max(k) =>
            {
                let keep = |key: usize| self.pos.get(&(key as u64)).is_some_and(|&p| allowed(p));
                let mut hits: Vec<(u64, f32)> = g
                    .search(query, k, ef, Some(&keep))
                    .into_iter()
                    .map(|(key, s)| (key as u64, s))
                    .collect();
                if !self.missing.is_empty() {
                    let vectors = self.flat_vectors(index)?;
                    hits.extend(exact_scan(
                        &mut self.missing.iter().copied().filter(|&p| allowed(p)),
                        vectors,
                    ));
                    top_k(&mut hits, k);
                }
                Ok(hits)
            }
            _ => {
                let vectors = self.flat_vectors(index)?;
                Ok(exact_scan(
                    &mut (0..self.keys.len()).filter(|&p| allowed(p)),
                    vectors,
                ))
            }
        }
    }
}

fn top_k(hits: &mut Vec<(u64, f32)>, k: usize) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(k);
}

fn build_graph(live: &[(u64, Vec<f32>)], params: HnswParams) -> HnswGraph {
    let items: Vec<(&[f32], usize)> = live
        .iter()
        .map(|(k, v)| (v.as_slice(), *k as usize))
        .collect();
    HnswGraph::build_with_ids(&items, params)
}

/// Whether a saved graph was built with the index's dimension and HNSW parameters.
fn graph_fits(index: &IndexDir, stamp: &hnsw::GraphStamp) -> bool {
    stamp.dimension == index.manifest.dimension
        && stamp.params.m == index.manifest.hnsw.m
        && stamp.params.ef_construction == index.manifest.hnsw.ef_construction
}

/// Loads the saved graph of a level when it is intact and [`graph_fits`]; `None` otherwise (the
/// caller rebuilds).
fn load_graph(index: &IndexDir, level: Level) -> Option<HnswGraph> {
    let (g, stamp) = HnswGraph::load(&index.graph_dir(level)).ok()?;
    graph_fits(index, &stamp).then_some(g)
}

/// Loads only the flat search copy of a level's saved graph, under the same conditions as
/// [`load_graph`]; `None` when it is missing, damaged or was built otherwise.
fn load_search_graph(index: &IndexDir, level: Level) -> Option<FlatGraph> {
    let (g, stamp) = hnsw::load_flat(&index.graph_dir(level)).ok()?;
    graph_fits(index, &stamp).then_some(g)
}

/// Saves a graph into a fresh folder and swaps it into place.
fn save_graph(
    index: &IndexDir,
    level: Level,
    g: &HnswGraph,
    generation: u64,
) -> Result<(), IndexError> {
    let root = index.dir.join(GRAPH_DIR);
    let io = |path: &Path, source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
    let tmp = root.join(format!("{}.tmp-{}", level.as_str(), std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    g.save(&tmp, generation)?;
    let target = index.graph_dir(level);
    let old = root.join(format!("{}.old-{}", level.as_str(), std::process::id()));
    if target.exists() {
        std::fs::rename(&target, &old).map_err(|e| io(&target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| io(&tmp, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The write side: an index directory held under the writer lock.
pub struct IndexWriter {
    index: IndexDir,
    _lock: WriterLock,
    /// Opened with `rebuild`: the next update starts over whatever its options say.
    rebuild_pending: bool,
}

/// An item built from a freshly ingested document, before it is stored.
struct NewItem {
    row: ItemRow,
    vector: Option<Vec<f32>>,
}

impl IndexWriter {
    /// Opens the index in `dir` for writing, creating it when absent, under the writer lock.
    /// Fails when another writer holds the lock, or when the index was built with another
    /// model (unless `rebuild`). With `rebuild`, an unreadable database is moved aside.
    pub fn open(
        dir: &Path,
        model: &ModelId,
        dim: usize,
        rebuild: bool,
    ) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = WriterLock::try_acquire(dir)?;
        let manifest_path = dir.join(MANIFEST_FILE);
        let opened = if manifest_path.exists() {
            Some(IndexDir::open(dir))
        } else {
            None
        };
        let index = match opened {
            Some(Ok(mut index)) => {
                if rebuild {
                    index.manifest = Manifest {
                        created_at: index.manifest.created_at.clone(),
                        ..Manifest::new(model.clone(), dim)
                    };
                } else {
                    index.check_model(model, dim)?;
                }
                index
            }
            Some(Err(e)) if !rebuild => return Err(e),
            other => {
                if let Some(Err(_)) = other {
                    // Rebuilding over an unreadable index: keep the old files for inspection.
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    for name in [
                        DB_FILE.to_string(),
                        format!("{DB_FILE}-wal"),
                        format!("{DB_FILE}-shm"),
                    ] {
                        let p = dir.join(&name);
                        if p.exists() {
                            let to = dir.join(format!("{name}.broken-{stamp}"));
                            std::fs::rename(&p, &to)
                                .map_err(|source| IndexError::Io { path: p, source })?;
                        }
                    }
                    let _ = std::fs::remove_dir_all(dir.join(GRAPH_DIR));
                }
                // Manifest first: a crash during the first update leaves a valid empty index.
                let manifest = Manifest::new(model.clone(), dim);
                let db_path = dir.join(DB_FILE);
                let conn = store::open(&db_path, true)?;
                store::meta_set(
                    &conn,
                    &db_path,
                    "format_version",
                    &FORMAT_VERSION.to_string(),
                )?;
                write_manifest(dir, &manifest)?;
                IndexDir {
                    dir: dir.to_path_buf(),
                    manifest,
                    db_path,
                    conn: Mutex::new(conn),
                    levels: Default::default(),
                    exact: false,
                }
            }
        };
        Ok(Self {
            index,
            _lock: lock,
            rebuild_pending: rebuild,
        })
    }

    /// Sets the HNSW parameters and the exact-search threshold recorded in the manifest (from
    /// the next update on; graphs built with other parameters are rebuilt).
    pub fn configure(&mut self, hnsw: HnswParams, exact_threshold: usize) {
        self.index.manifest.hnsw = hnsw;
        self.index.manifest.exact_threshold = exact_threshold;
    }

    /// The index being written (for reads after an update).
    pub fn index(&self) -> &IndexDir {
        &self.index
    }

    /// Gives up the lock and returns the index for reading.
    pub fn into_index(self) -> IndexDir {
        self.index
    }

    /// Brings the stored items of the documents in `opts.scope` in line with `docs`: embeds only
    /// new or changed texts (by content hash; identical texts reuse stored vectors), removes
    /// items and documents that are gone, and commits everything in one transaction. Then
    /// rewrites the manifest and updates or rebuilds the graphs. `progress(done, total)` is
    /// called while embedding.
    pub fn update(
        &mut self,
        docs: &[Document],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<UpdateStats, IndexError> {
        let rebuild_opts;
        let opts = if std::mem::take(&mut self.rebuild_pending) {
            rebuild_opts = UpdateOptions {
                rebuild: true,
                ..opts.clone()
            };
            &rebuild_opts
        } else {
            opts
        };
        let ix = &mut self.index;
        let db_path = ix.db_path.clone();
        let dim = ix.manifest.dimension;
        let mut stats = UpdateStats::default();

        // Which stored documents this update speaks for.
        let scope: Vec<PathBuf> = opts.scope.iter().map(|p| norm_path(p)).collect();
        let keep: HashSet<PathBuf> = opts.keep_paths.iter().map(|p| norm_path(p)).collect();
        let new_doc_ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let stored_docs = {
            let conn = ix.conn();
            store::document_paths(&conn, &db_path)?
        };
        let mut affected: Vec<String> = Vec::new();
        let mut removed_docs: Vec<String> = Vec::new();
        for (id, path) in &stored_docs {
            let in_scope = opts.rebuild || scope.iter().any(|s| path.starts_with(s));
            if new_doc_ids.contains(id.as_str()) {
                affected.push(id.clone());
            } else if in_scope && (opts.rebuild || !keep.contains(path)) {
                affected.push(id.clone());
                removed_docs.push(id.clone());
            }
        }
        // A rebuild stores everything anew: nothing counts as existing.
        let existing = if opts.rebuild {
            HashMap::new()
        } else {
            let conn = ix.conn();
            store::rows_of_docs(&conn, &db_path, &affected)?
        };

        // The new items, sentences and initiatives first (sections derive from them).
        let mut new_items = flatten(docs);
        let reuse = !opts.rebuild;
        let mut by_hash: HashMap<String, Vec<f32>> = HashMap::new();
        let mut to_embed: Vec<(String, String)> = Vec::new();
        let mut queued: HashSet<String> = HashSet::new();
        {
            let conn = ix.conn();
            for item in new_items.iter().filter(|i| i.row.level != Level::Section) {
                let h = &item.row.content_hash;
                let unchanged_text = existing
                    .get(&item.row.id)
                    .is_some_and(|e| &e.content_hash == h);
                if by_hash.contains_key(h) || queued.contains(h) {
                    continue;
                }
                if reuse || unchanged_text {
                    if let Some(blob) = store::vector_by_hash(&conn, &db_path, h)? {
                        if let Some(v) = decode_vector(&blob, dim).filter(|_| reuse) {
                            by_hash.insert(h.clone(), v);
                            continue;
                        }
                    }
                }
                queued.insert(h.clone());
                to_embed.push((h.clone(), item.row.text.clone()));
            }
        }
        let batch = if opts.batch_size == 0 {
            256
        } else {
            opts.batch_size
        };
        progress(0, to_embed.len());
        for (n, chunk) in to_embed.chunks(batch).enumerate() {
            let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
            let out = embedder.embed(&texts)?;
            for ((h, _), e) in chunk.iter().zip(out) {
                let mut v = e.vector;
                crate::embed::normalize(&mut v);
                by_hash.insert(h.clone(), v);
            }
            progress(
                (n * batch + chunk.len()).min(to_embed.len()),
                to_embed.len(),
            );
        }
        stats.embedded = to_embed.len();
        for item in new_items
            .iter_mut()
            .filter(|i| i.row.level != Level::Section)
        {
            item.vector = by_hash.get(&item.row.content_hash).cloned();
        }
        // Section vectors: the normalised mean of their (non-boilerplate, if any) initiatives.
        let mut init_vecs: HashMap<String, Vec<(bool, Vec<f32>)>> = HashMap::new();
        for item in new_items
            .iter()
            .filter(|i| i.row.level == Level::Initiative)
        {
            if let Some(v) = &item.vector {
                init_vecs
                    .entry(item.row.section_id.clone())
                    .or_default()
                    .push((item.row.boilerplate, v.clone()));
            }
        }
        for item in new_items
            .iter_mut()
            .filter(|i| i.row.level == Level::Section)
        {
            let vs = init_vecs
                .get(&item.row.id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let own: Vec<&Vec<f32>> = vs.iter().filter(|(bp, _)| !bp).map(|(_, v)| v).collect();
            let pick: Vec<&Vec<f32>> = if own.is_empty() {
                vs.iter().map(|(_, v)| v).collect()
            } else {
                own
            };
            if pick.is_empty() {
                continue;
            }
            let mut mean = vec![0f32; dim];
            for v in &pick {
                mean.iter_mut().zip(v.iter()).for_each(|(m, x)| *m += x);
            }
            crate::embed::normalize(&mut mean);
            item.vector = Some(mean);
        }
        new_items.retain(|i| i.vector.is_some());

        // One transaction: the database moves from the old state to the new one or not at all.
        let mut changed_levels: HashSet<Level> = HashSet::new();
        {
            let mut conn = ix.conn();
            let tx = conn.transaction().map_err(|e| db_err(&db_path, e))?;
            if opts.rebuild {
                tx.execute_batch("DELETE FROM items; DELETE FROM documents;")
                    .map_err(|e| db_err(&db_path, e))?;
                store::meta_set(&tx, &db_path, "format_version", &FORMAT_VERSION.to_string())?;
            }
            let new_ids: HashSet<&str> = new_items.iter().map(|i| i.row.id.as_str()).collect();
            for (id, row) in &existing {
                if !new_ids.contains(id.as_str()) {
                    tx.execute("DELETE FROM items WHERE id = ?1", [id])
                        .map_err(|e| db_err(&db_path, e))?;
                    level_stats(&mut stats, row.level).removed += 1;
                    changed_levels.insert(row.level);
                }
            }
            for id in &removed_docs {
                tx.execute("DELETE FROM documents WHERE id = ?1", [id])
                    .map_err(|e| db_err(&db_path, e))?;
                stats.documents_removed += 1;
            }
            for d in docs {
                let metadata = serde_json::to_string(&d.metadata).unwrap_or_else(|_| "{}".into());
                tx.execute(
                    "INSERT INTO documents(id, path, title, date, source, format, content_hash, metadata)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(id) DO UPDATE SET path = ?2, title = ?3, date = ?4, source = ?5,
                         format = ?6, content_hash = ?7, metadata = ?8",
                    params![
                        d.id,
                        norm_path(&d.path).to_string_lossy(),
                        d.title,
                        d.date,
                        d.source,
                        d.format,
                        d.content_hash,
                        metadata
                    ],
                )
                .map_err(|e| db_err(&db_path, e))?;
            }
            for item in &new_items {
                let row = &item.row;
                let stats_l = level_stats(&mut stats, row.level);
                let blob = || encode_vector(item.vector.as_deref().unwrap_or(&[]));
                match existing.get(&row.id) {
                    Some(old) if old == row && !opts.rebuild => stats_l.unchanged += 1,
                    Some(old) if old.content_hash == row.content_hash && !opts.rebuild => {
                        store::update_item_meta(&tx, &db_path, row)?;
                        stats_l.updated += 1;
                        changed_levels.insert(row.level);
                    }
                    Some(_) => {
                        // A new vector gets a new key: the old key becomes a graph tombstone.
                        tx.execute("DELETE FROM items WHERE id = ?1", [&row.id])
                            .map_err(|e| db_err(&db_path, e))?;
                        store::insert_item(&tx, &db_path, row, &blob())?;
                        stats_l.updated += 1;
                        changed_levels.insert(row.level);
                    }
                    None => {
                        store::insert_item(&tx, &db_path, row, &blob())?;
                        stats_l.added += 1;
                        changed_levels.insert(row.level);
                    }
                }
            }
            let generation = store::meta_get(&tx, &db_path, "generation")?
                .and_then(|g| g.parse::<u64>().ok())
                .unwrap_or(0)
                + u64::from(
                    !changed_levels.is_empty() || stats.documents_removed > 0 || opts.rebuild,
                );
            store::meta_set(&tx, &db_path, "generation", &generation.to_string())?;
            store::meta_set(
                &tx,
                &db_path,
                "model",
                &serde_json::to_string(&ix.manifest.model).expect("json"),
            )?;
            store::meta_set(&tx, &db_path, "dimension", &dim.to_string())?;
            tx.commit().map_err(|e| db_err(&db_path, e))?;
        }

        // Derived state, after the commit: manifest, then graphs.
        ix.levels = Default::default();
        let generation = ix.generation()?;
        ix.manifest.counts = ix.counts()?;
        ix.manifest.generation = generation;
        ix.manifest.built_at = manifest::now_rfc3339();
        ix.manifest.simsum_version = env!("CARGO_PKG_VERSION").to_string();
        write_manifest(&ix.dir, &ix.manifest)?;
        for level in [Level::Section, Level::Initiative] {
            if let Some(what) = refresh_graph(ix, level, generation, opts.rebuild)? {
                stats.graphs.push((level, what));
            }
        }
        Ok(stats)
    }
}

/// Brings a level's saved graph up to date: nothing for small levels (exact search), an insert
/// of missing items when the saved graph is intact, a rebuild when it is missing, corrupt or
/// full of tombstones. Returns what it did.
fn refresh_graph(
    ix: &IndexDir,
    level: Level,
    generation: u64,
    rebuild: bool,
) -> Result<Option<String>, IndexError> {
    let dir = ix.graph_dir(level);
    let n_live = match level {
        Level::Section => ix.manifest.counts.sections,
        Level::Initiative => ix.manifest.counts.initiatives,
        Level::Sentence => ix.manifest.counts.sentences,
    };
    if n_live < ix.manifest.exact_threshold {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|source| IndexError::Io { path: dir, source })?;
        }
        return Ok(None);
    }
    if !rebuild {
        if let Ok(stamp) = HnswGraph::read_stamp(&dir) {
            if stamp.source_tag == generation && stamp.points > 0 {
                // Already current (checksums are verified when it is loaded).
                return Ok(None);
            }
        }
    }
    let live = ix.live_vectors(level)?;
    let existing = if rebuild { None } else { load_graph(ix, level) };
    let (graph, what) = match existing {
        Some(mut g) => {
            let live_keys: HashSet<usize> = live.iter().map(|(k, _)| *k as usize).collect();
            let tombstones = g.ids().filter(|id| !live_keys.contains(id)).count();
            let missing: Vec<(&[f32], usize)> = live
                .iter()
                .filter(|(k, _)| !g.contains(*k as usize))
                .map(|(k, v)| (v.as_slice(), *k as usize))
                .collect();
            let total = g.len() + missing.len();
            if (tombstones as f64) > COMPACT_TOMBSTONE_RATIO * total as f64 {
                (
                    build_graph(&live, ix.manifest.hnsw),
                    format!("rebuilt ({tombstones} tombstones compacted)"),
                )
            } else {
                let n = missing.len();
                g.insert(&missing);
                (g, format!("added {n} points, {tombstones} tombstones"))
            }
        }
        None => (
            build_graph(&live, ix.manifest.hnsw),
            format!("built over {} points", live.len()),
        ),
    };
    save_graph(ix, level, &graph, generation)?;
    Ok(Some(what))
}

fn level_stats(stats: &mut UpdateStats, level: Level) -> &mut LevelStats {
    match level {
        Level::Section => &mut stats.sections,
        Level::Initiative => &mut stats.initiatives,
        Level::Sentence => &mut stats.sentences,
    }
}

/// Turns documents into item rows (sections, initiatives, sentences) with content hashes.
fn flatten(docs: &[Document]) -> Vec<NewItem> {
    let mut out = Vec::new();
    for d in docs {
        let mut ordinal = 0i64;
        let mut next = || {
            ordinal += 1;
            ordinal
        };
        for s in &d.sections {
            let mut section_hash_parts: Vec<String> = vec![s.heading.clone()];
            let section_text: Vec<&str> = s.initiatives.iter().map(|i| i.text.as_str()).collect();
            let section_ordinal = next();
            let mut section_items = Vec::new();
            for init in &s.initiatives {
                let h = sha256_hex(&[&init.text]);
                section_hash_parts.push(format!("{}:{h}", init.boilerplate));
                section_items.push(NewItem {
                    row: ItemRow {
                        id: init.id.clone(),
                        level: Level::Initiative,
                        doc_id: d.id.clone(),
                        section_id: s.id.clone(),
                        parent_id: Some(s.id.clone()),
                        ordinal: next(),
                        heading: s.heading.clone(),
                        text: init.text.clone(),
                        boilerplate: init.boilerplate,
                        byte_range: None,
                        content_hash: h,
                    },
                    vector: None,
                });
                for (n, sent) in init.sentences.iter().enumerate() {
                    section_items.push(NewItem {
                        row: ItemRow {
                            id: format!("{}:{}", init.id, n + 1),
                            level: Level::Sentence,
                            doc_id: d.id.clone(),
                            section_id: s.id.clone(),
                            parent_id: Some(init.id.clone()),
                            ordinal: next(),
                            heading: s.heading.clone(),
                            text: sent.text.clone(),
                            boilerplate: init.boilerplate,
                            byte_range: Some(sent.byte_range),
                            content_hash: sha256_hex(&[&sent.text]),
                        },
                        vector: None,
                    });
                }
            }
            if !s.initiatives.is_empty() {
                let parts: Vec<&str> = section_hash_parts.iter().map(String::as_str).collect();
                out.push(NewItem {
                    row: ItemRow {
                        id: s.id.clone(),
                        level: Level::Section,
                        doc_id: d.id.clone(),
                        section_id: s.id.clone(),
                        parent_id: None,
                        ordinal: section_ordinal,
                        heading: s.heading.clone(),
                        text: section_text.join("\n\n"),
                        boilerplate: s.initiatives.iter().all(|i| i.boilerplate),
                        byte_range: None,
                        content_hash: sha256_hex(&[&format!("section\0{}", parts.join("\0"))]),
                    },
                    vector: None,
                });
            }
            out.extend(section_items);
        }
    }
    out
}

/// The file in the index directory holding the last theme report.
pub const THEMES_FILE: &str = "themes.json";

impl Store for IndexDir {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            url: crate::store::StoreUrl::Dir(self.dir.clone()).to_string(),
            model: self.manifest.model.clone(),
            dimension: self.manifest.dimension,
            exact_threshold: self.manifest.exact_threshold,
        }
    }
    fn check_model(&self, model: &ModelId, dim: usize) -> Result<(), IndexError> {
        IndexDir::check_model(self, model, dim)
    }
    fn set_exact(&mut self, exact: bool) {
        IndexDir::set_exact(self, exact)
    }
    fn generation(&self) -> Result<u64, IndexError> {
        IndexDir::generation(self)
    }
    fn counts(&self) -> Result<Counts, IndexError> {
        IndexDir::counts(self)
    }
    fn documents(&self) -> Result<Vec<DocumentInfo>, IndexError> {
        IndexDir::documents(self)
    }
    fn items(&self, level: Level) -> Result<Vec<StoredItem>, IndexError> {
        IndexDir::items(self, level)
    }
    fn item(&self, id: &str) -> Result<StoredItem, IndexError> {
        IndexDir::item(self, id)
    }
    fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, IndexError> {
        IndexDir::items_by_key(self, keys)
    }
    fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, IndexError> {
        IndexDir::sentences_of(self, item)
    }
    fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, IndexError> {
        IndexDir::nearest(self, level, query, k, filter)
    }
    fn uses_graph(&self, level: Level) -> Result<bool, IndexError> {
        IndexDir::uses_graph(self, level)
    }
    fn knn_items(&self, level: Level) -> Result<Vec<StoredItem>, IndexError> {
        IndexDir::knn_items(self, level)
    }
    fn knn_graph(&self, level: Level, k: usize) -> Result<KnnGraph, IndexError> {
        IndexDir::knn_graph(self, level, k)
    }
    fn load_themes(&self) -> Result<Option<SavedThemes>, IndexError> {
        let path = self.dir.join(THEMES_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(IndexError::Io { path, source }),
        };
        // An unreadable report is as good as none: it is made again from the index.
        Ok(serde_json::from_slice(&bytes).ok())
    }
    fn save_themes(&self, themes: &SavedThemes) -> Result<(), IndexError> {
        let path = self.dir.join(THEMES_FILE);
        let json = serde_json::to_vec(themes).expect("theme report serialises");
        crate::model::write_atomic(&path, &json).map_err(|source| IndexError::Io { path, source })
    }
}

impl StoreWriter for IndexWriter {
    fn store(&self) -> &dyn Store {
        &self.index
    }
    fn update(
        &mut self,
        docs: &[Document],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<UpdateStats, IndexError> {
        IndexWriter::update(self, docs, embedder, opts, progress)
    }
}
