//! The write side of the local store: an index directory held under the writer lock, updated
//! in four phases, each a function: plan (what the documents become, what must be embedded:
//! [`super::plan`]), embed (the model, asked only for new texts), commit (one SQLite
//! transaction, then the manifest) and refresh graphs (extend, rebuild or drop each level's
//! graph, and repair one a reader found damaged). A crash before the commit leaves the previous
//! state; after it, the new state with graphs that readers search around until the next writer
//! refreshes them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::files::IndexFiles;
use super::graphs::{self, GraphSpec};
use super::layout::{HnswParams, COMPACT_TOMBSTONE_RATIO};
use super::lock::WriterLock;
use super::manifest::Manifest;
use super::plan::Plan;
use super::sqlite::{Commit, Db, ItemWrite};
use super::LocalStore;
use crate::embed::{Embedder, ModelId};
use crate::ingest::Document;
use crate::store::update::norm_path;
use crate::store::{Level, Store, StoreError, StoreWriter, Tagger, UpdateOptions, UpdateStats};

/// How a writer sets up the index: the HNSW parameters and the size below which a level is
/// searched exactly, recorded in the manifest. `None` keeps what the index records (the
/// defaults of [`super::layout`] for a new index). Graphs built with other parameters are
/// rebuilt by the next update.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalOptions {
    pub hnsw: Option<HnswParams>,
    pub exact_threshold: Option<usize>,
}

/// The write side: an index directory held under the writer lock.
pub struct LocalWriter {
    store: LocalStore,
    _lock: WriterLock,
    /// Opened with `rebuild`: the next update starts over whatever its options say.
    rebuild_pending: bool,
}

impl LocalWriter {
    /// Opens the index in `dir` for writing with the parameters it records (see
    /// [`Self::open_with`]).
    pub fn open(
        dir: &Path,
        model: &ModelId,
        dim: usize,
        rebuild: bool,
    ) -> Result<Self, StoreError> {
        Self::open_with(dir, model, dim, rebuild, LocalOptions::default())
    }

    /// Opens the index in `dir` for writing, creating it when absent, under the writer lock.
    /// Fails when another writer holds the lock, or when the index was built with another
    /// model (unless `rebuild`). With `rebuild`, an unreadable database is moved aside.
    /// `options` set the search parameters from the next update on.
    pub fn open_with(
        dir: &Path,
        model: &ModelId,
        dim: usize,
        rebuild: bool,
        options: LocalOptions,
    ) -> Result<Self, StoreError> {
        let files = IndexFiles::new(dir);
        files.create_dir()?;
        let lock = WriterLock::try_acquire(dir)?;
        // Under the lock no other writer is mid-write: what a killed one left can go.
        files.clear_leftovers();
        let opened = files.has_manifest().then(|| LocalStore::open(dir));
        let mut store = match opened {
            Some(Ok(mut store)) => {
                if rebuild {
                    store.manifest = Manifest {
                        created_at: store.manifest.created_at.clone(),
                        ..Manifest::new(model.clone(), dim)
                    };
                    store.db.set_dimension(dim);
                } else {
                    store.check_model(model, dim)?;
                }
                store
            }
            Some(Err(e)) if !rebuild => return Err(e),
            other => {
                if let Some(Err(_)) = other {
                    // Rebuilding over an unreadable index: keep the old files for inspection.
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    files.set_aside_broken(stamp)?;
                }
                // Database, then manifest: a crash during the first update leaves a valid
                // empty index.
                let manifest = Manifest::new(model.clone(), dim);
                let db = Db::open(&files.db(), true, dim)?;
                files.write_manifest(&manifest)?;
                LocalStore::from_parts(files, manifest, db)
            }
        };
        store.db.prepare_writes()?;
        store.db.ensure_tags()?;
        if let Some(hnsw) = options.hnsw {
            store.manifest.hnsw = hnsw;
        }
        if let Some(t) = options.exact_threshold {
            store.manifest.exact_threshold = t;
        }
        Ok(Self {
            store,
            _lock: lock,
            rebuild_pending: rebuild,
        })
    }

    /// The index being written (for reads after an update).
    pub fn index(&self) -> &LocalStore {
        &self.store
    }

    /// Gives up the lock and returns the index for reading.
    pub fn into_index(self) -> LocalStore {
        self.store
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
    ) -> Result<UpdateStats, StoreError> {
        let opts = UpdateOptions {
            rebuild: opts.rebuild || std::mem::take(&mut self.rebuild_pending),
            ..opts.clone()
        };
        let mut plan = Plan::new(&self.store.db, docs, &opts)?;
        let embedded = embed(&plan.to_embed, embedder, opts.batch_size, progress)?;
        plan.attach_vectors(embedded);
        let mut stats = self.commit(&plan, opts.rebuild, opts.tagger)?;
        self.refresh_graphs(opts.rebuild, &mut stats)?;
        Ok(stats)
    }

    /// The commit phase: one transaction takes the database from the old state to the new
    /// one, then the manifest is rewritten to describe it.
    fn commit(
        &mut self,
        plan: &Plan<'_>,
        rebuild: bool,
        tagger: Option<Tagger>,
    ) -> Result<UpdateStats, StoreError> {
        let mut stats = UpdateStats {
            embedded: plan.to_embed.len(),
            documents_removed: plan.removed_docs.len(),
            ..Default::default()
        };
        let mut changed = false;
        let new_ids: HashSet<&str> = plan.items.iter().map(|i| i.row.id.as_str()).collect();
        let mut remove_items = Vec::new();
        for (id, row) in &plan.existing {
            if !new_ids.contains(id.as_str()) {
                remove_items.push(id.as_str());
                stats.level_mut(row.level).removed += 1;
                changed = true;
            }
        }
        let mut writes = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let (row, vector) = (&item.row, item.vector.as_deref().unwrap_or(&[]));
            let counts = stats.level_mut(row.level);
            match plan.existing.get(&row.id) {
                Some(old) if old == row => {
                    counts.unchanged += 1;
                    continue;
                }
                Some(old) if old.content_hash == row.content_hash => {
                    writes.push(ItemWrite::Meta(row));
                    counts.updated += 1;
                }
                Some(_) => {
                    writes.push(ItemWrite::Replace(row, vector));
                    counts.updated += 1;
                }
                None => {
                    writes.push(ItemWrite::Insert(row, vector));
                    counts.added += 1;
                }
            }
            changed = true;
        }
        let store = &mut self.store;
        let generation = store.db.commit(&Commit {
            rebuild,
            remove_items,
            remove_docs: &plan.removed_docs,
            docs: plan
                .docs
                .iter()
                .map(|d| (d, norm_path(&d.path).to_string_lossy().into_owned()))
                .collect(),
            writes,
            bump: changed || !plan.removed_docs.is_empty() || rebuild,
            model_json: serde_json::to_string(&store.manifest.model).expect("json"),
            dimension: store.manifest.dimension,
            tagger,
        })?;
        // Derived state, after the commit.
        store.levels = Default::default();
        store.manifest.counts = store.db.counts()?;
        store.manifest.generation = generation;
        store.manifest.built_at = crate::store::update::now_rfc3339();
        store.manifest.simsum_version = env!("CARGO_PKG_VERSION").to_string();
        store.files.write_manifest(&store.manifest)?;
        Ok(stats)
    }

    /// The last phase: brings each searchable level's saved graph in line with the database.
    fn refresh_graphs(&mut self, rebuild: bool, stats: &mut UpdateStats) -> Result<(), StoreError> {
        for level in [Level::Section, Level::Initiative] {
            if let Some(what) = self.refresh_graph(level, rebuild)? {
                stats.graphs.push((level, what));
            }
        }
        Ok(())
    }

    /// Brings a level's saved graph up to date: nothing for small levels (exact search) or a
    /// current, intact graph; an insert of missing items when the saved graph is intact; a
    /// rebuild when it is missing, damaged, built otherwise or full of tombstones. Returns
    /// what it did.
    fn refresh_graph(&self, level: Level, rebuild: bool) -> Result<Option<String>, StoreError> {
        let store = &self.store;
        let m = &store.manifest;
        let n_live = match level {
            Level::Section => m.counts.sections,
            Level::Initiative => m.counts.initiatives,
            Level::Sentence => m.counts.sentences,
        };
        if n_live < m.exact_threshold {
            store.files.remove_graph(level)?;
            return Ok(None);
        }
        let spec: GraphSpec = store.graph_spec();
        if !rebuild && graphs::is_current(&store.files, level, spec, m.generation) {
            return Ok(None);
        }
        let live = store.db.live_vectors(level)?;
        let existing = if rebuild {
            None
        } else {
            graphs::load_writable(&store.files, level, spec)
        };
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
                        graphs::build(&live, m.hnsw),
                        format!("rebuilt ({tombstones} tombstones compacted)"),
                    )
                } else {
                    let n = missing.len();
                    g.insert(&missing);
                    (g, format!("added {n} points, {tombstones} tombstones"))
                }
            }
            None => (
                graphs::build(&live, m.hnsw),
                format!("built over {} points", live.len()),
            ),
        };
        graphs::save(&store.files, level, &graph, m.generation)?;
        Ok(Some(what))
    }
}

/// The embed phase: vectors for the planned texts, `batch_size` at a time (0: 256),
/// normalised, by content hash.
fn embed(
    to_embed: &[(String, String)],
    embedder: &dyn Embedder,
    batch_size: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<HashMap<String, Vec<f32>>, StoreError> {
    let batch = if batch_size == 0 { 256 } else { batch_size };
    let mut out = HashMap::with_capacity(to_embed.len());
    progress(0, to_embed.len());
    for (n, chunk) in to_embed.chunks(batch).enumerate() {
        let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
        for ((h, _), e) in chunk.iter().zip(embedder.embed(&texts)?) {
            let mut v = e.vector;
            crate::embed::normalize(&mut v);
            out.insert(h.clone(), v);
        }
        progress(
            (n * batch + chunk.len()).min(to_embed.len()),
            to_embed.len(),
        );
    }
    Ok(out)
}

impl StoreWriter for LocalWriter {
    fn store(&self) -> &dyn Store {
        &self.store
    }
    fn update(
        &mut self,
        docs: &[Document],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<UpdateStats, StoreError> {
        LocalWriter::update(self, docs, embedder, opts, progress)
    }
}
