//! Indexing files into a store, the one way every command does it ([`index_paths`]: ingest,
//! then one update), shards of a corpus for parallel writers ([`Shard`]), and copying a store
//! into another without embedding again ([`copy`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::embed::{EmbedError, Embedder, Embedding, ModelId};
use crate::ingest::{Document, IngestOptions, IngestReport, Initiative, Section, Sentence};
use crate::store::{
    DocumentInfo, Level, Store, StoreError, StoreWriter, StoredItem, UpdateOptions, UpdateStats,
};

/// The absolute form of a path that stores record and compare (symlinks resolved when the file
/// exists).
pub fn norm_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()))
}

/// Which stored documents an update speaks for: the one rule every engine's writer follows.
pub struct UpdateScope {
    scope: Vec<PathBuf>,
    keep: std::collections::HashSet<PathBuf>,
    rebuild: bool,
}

impl UpdateScope {
    pub fn new(opts: &UpdateOptions) -> Self {
        Self {
            scope: opts.scope.iter().map(|p| norm_path(p)).collect(),
            keep: opts.keep_paths.iter().map(|p| norm_path(p)).collect(),
            rebuild: opts.rebuild,
        }
    }

    /// Whether a stored document at `path` (as stored, normalised) that this update did not
    /// ingest again is gone: it lies under an ingested path (or the update is a rebuild) and
    /// its file was not merely unreadable this time.
    pub fn removes(&self, path: &Path) -> bool {
        let in_scope = self.rebuild || self.scope.iter().any(|s| path.starts_with(s));
        in_scope && (self.rebuild || !self.keep.contains(path))
    }
}

/// The current time as RFC 3339 (seconds, UTC), as stores record creation and build times.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A document as stored, without its sections (ingest-only facts left empty).
pub fn document_shell(d: &DocumentInfo, format: &str) -> Document {
    Document {
        id: d.id.clone(),
        title: d.title.clone(),
        date: d.date.clone(),
        source: None,
        path: d.path.clone(),
        content_hash: String::new(),
        format: format.into(),
        metadata: Default::default(),
        sections: Vec::new(),
    }
}

/// A stored section with its stored initiatives and their sentences, as the document model has
/// them (byte ranges inside the file and captions are not stored).
pub fn section_tree(s: &StoredItem, ordinal: usize, initiatives: &[&StoredItem]) -> Section {
    Section {
        id: s.id.clone(),
        ordinal,
        heading: s.heading.clone(),
        number: None,
        byte_range: (0, 0),
        captions: Vec::new(),
        initiatives: initiatives
            .iter()
            .map(|i| Initiative {
                id: i.id.clone(),
                text: i.text.clone(),
                boilerplate: i.boilerplate,
                sentences: i
                    .sentences
                    .iter()
                    .map(|s| Sentence {
                        text: s.text.clone(),
                        byte_range: s.byte_range,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// One of `count` shards of a corpus (`index` from 1): the files whose path hash falls in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole corpus.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether the file at `path` (as stores record it) belongs to this shard. The hash is of
    /// the absolute path, so machines sharing a corpus must see it under the same path.
    pub fn contains(&self, path: &Path) -> bool {
        if self.count <= 1 {
            return true;
        }
        let h = Sha256::digest(norm_path(path).to_string_lossy().as_bytes());
        let n = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
        n % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// Whether a file can belong to both shards.
    pub fn overlaps(&self, other: &Shard) -> bool {
        self.count != other.count || self.index == other.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("shard `{s}`: use I/N with 1 <= I <= N, e.g. 1/2");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Settings of [`index_paths`].
#[derive(Debug, Clone, Default)]
pub struct IndexPathsOptions {
    pub ingest: IngestOptions,
    /// Index only this shard's files (`None`: all).
    pub shard: Option<Shard>,
    pub rebuild: bool,
    pub batch_size: usize,
    /// How items are tagged with their entities (see [`UpdateOptions::tagger`]).
    pub tagger: Option<super::Tagger>,
}

/// What [`index_paths`] did.
#[derive(Debug)]
pub struct IndexRun {
    /// The documents read (of this shard) and the files skipped.
    pub report: IngestReport,
    pub stats: UpdateStats,
    pub ingest_seconds: f64,
    pub update_seconds: f64,
}

/// Ingests `paths` and brings the store in line with them: new or changed files are embedded
/// and stored, files gone from the folders are removed, unreadable files keep what was stored.
/// With a shard, only its files are read and only its stored documents may be removed.
pub fn index_paths(
    writer: &mut dyn StoreWriter,
    embedder: &dyn Embedder,
    paths: &[PathBuf],
    opts: &IndexPathsOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<IndexRun, StoreError> {
    let started = Instant::now();
    let count = |t: &str| embedder.count_tokens(t);
    let mut report = crate::ingest::ingest_paths(paths, &opts.ingest, &count);
    let mut keep_paths: Vec<PathBuf> = report.skipped.iter().map(|s| s.path.clone()).collect();
    if let Some(shard) = opts.shard {
        report.documents.retain(|d| shard.contains(&d.path));
        report.skipped.retain(|s| shard.contains(&s.path));
        // Other shards' documents are not this writer's to remove.
        keep_paths.extend(
            writer
                .store()
                .documents()?
                .into_iter()
                .filter(|d| !shard.contains(&d.path))
                .map(|d| d.path),
        );
    }
    let ingest_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let update = UpdateOptions {
        scope: paths.to_vec(),
        keep_paths,
        rebuild: opts.rebuild,
        batch_size: opts.batch_size,
        tagger: opts.tagger,
    };
    let stats = writer.update(&report.documents, embedder, &update, progress)?;
    Ok(IndexRun {
        report,
        stats,
        ingest_seconds,
        update_seconds: started.elapsed().as_secs_f64(),
    })
}

/// An embedder that answers with vectors already stored, by text: how [`copy`] writes a store
/// without running the model.
struct StoredVectors {
    model: ModelId,
    dim: usize,
    by_text: HashMap<String, Vec<f32>>,
}

impl Embedder for StoredVectors {
    fn dim(&self) -> usize {
        self.dim
    }
    fn model_id(&self) -> ModelId {
        self.model.clone()
    }
    fn max_tokens(&self) -> usize {
        usize::MAX
    }
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
        crate::embed::looked_up(&self.by_text, texts, |t| {
            format!("no stored vector for the text `{t}`")
        })
    }
}

/// What [`copy`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyStats {
    pub documents: usize,
    pub stats: UpdateStats,
}

/// Copies documents, items and vectors of `from` into `to` (opened for the same model), without
/// embedding: documents are rebuilt from their stored sections, initiatives and sentences, and
/// every text gets its stored vector back. Documents in `to` that `from` lacks are kept.
pub fn copy(from: &dyn Store, to: &mut dyn StoreWriter) -> Result<CopyStats, StoreError> {
    copy_tagged(from, to, None)
}

/// [`copy`], tagging the copied items with `tagger` (their entities are made again from the
/// text: a store keeps tags as data it does not interpret, so they are not read back).
pub fn copy_tagged(
    from: &dyn Store,
    to: &mut dyn StoreWriter,
    tagger: Option<super::Tagger>,
) -> Result<CopyStats, StoreError> {
    let info = from.info();
    let docs_info = from.documents()?;
    let sections = from.items(Level::Section)?;
    let initiatives = from.items(Level::Initiative)?;
    let mut by_text: HashMap<String, Vec<f32>> = HashMap::new();
    let mut inits_of: HashMap<&str, Vec<&crate::store::StoredItem>> = HashMap::new();
    for i in &initiatives {
        by_text
            .entry(i.text.clone())
            .or_insert_with(|| i.vector.clone());
        for s in &i.sentences {
            by_text
                .entry(s.text.clone())
                .or_insert_with(|| s.vector.clone());
        }
        inits_of.entry(i.section_id.as_str()).or_default().push(i);
    }
    let mut docs: HashMap<&str, Document> = docs_info
        .iter()
        .map(|d| (d.id.as_str(), document_shell(d, "copied")))
        .collect();
    for s in &sections {
        let Some(doc) = docs.get_mut(s.doc_id.as_str()) else {
            continue;
        };
        let inits = inits_of
            .get(s.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let ordinal = doc.sections.len();
        doc.sections.push(section_tree(s, ordinal, inits));
    }
    let mut docs: Vec<Document> = docs.into_values().collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    for d in &mut docs {
        let mut h = Sha256::new();
        for s in &d.sections {
            for i in &s.initiatives {
                h.update(i.text.as_bytes());
                h.update([0u8]);
            }
        }
        d.content_hash = hex::encode(h.finalize());
    }
    let embedder = StoredVectors {
        model: info.model,
        dim: info.dimension,
        by_text,
    };
    let opts = UpdateOptions {
        tagger,
        ..Default::default()
    };
    let stats = to.update(&docs, &embedder, &opts, &|_, _| {})?;
    Ok(CopyStats {
        documents: docs.len(),
        stats,
    })
}
