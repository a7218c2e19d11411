//! `manifest.json`: the small human-readable description of an index directory (format version,
//! model, dimension, metric, HNSW parameters, counts, build time). It is written atomically after
//! every committed change and checked on open, so an index built by another model or a newer
//! simsum is refused with the fix spelled out. The database stays the source of truth; the
//! manifest describes it.

use serde::{Deserialize, Serialize};

use super::layout::{HnswParams, EXACT_THRESHOLD, FORMAT_VERSION, METRIC, VECTOR_ENCODING};
use crate::embed::ModelId;

/// Item counts per level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub documents: usize,
    pub sections: usize,
    pub initiatives: usize,
    pub sentences: usize,
}

impl std::fmt::Display for Counts {
    /// `N documents, N sections, N initiatives, N sentences`, as the commands report them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} documents, {} sections, {} initiatives, {} sentences",
            self.documents, self.sections, self.initiatives, self.sentences
        )
    }
}

/// The contents of `manifest.json`. Fields added after format 1 must use `#[serde(default)]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// The simsum version that last wrote the index.
    pub simsum_version: String,
    pub model: ModelId,
    pub dimension: usize,
    pub metric: String,
    pub vector_encoding: String,
    pub hnsw: HnswParams,
    pub exact_threshold: usize,
    pub counts: Counts,
    /// Database generation (bumped by every committed change) this manifest describes.
    pub generation: u64,
    /// When the index was first created and last updated (RFC 3339, UTC).
    pub created_at: String,
    pub built_at: String,
    /// The precision the vectors were computed at (`f32`, `bf16`, `f16`); empty in indexes
    /// written before simsum recorded it.
    #[serde(default)]
    pub dtype: String,
}

impl Manifest {
    /// A manifest for a new, empty index.
    pub fn new(model: ModelId, dimension: usize) -> Self {
        let now = crate::store::update::now_rfc3339();
        Self {
            dtype: model.dtype.clone(),
            format_version: FORMAT_VERSION,
            simsum_version: env!("CARGO_PKG_VERSION").to_string(),
            model,
            dimension,
            metric: METRIC.to_string(),
            vector_encoding: VECTOR_ENCODING.to_string(),
            hnsw: HnswParams::default(),
            exact_threshold: EXACT_THRESHOLD,
            counts: Counts::default(),
            generation: 0,
            created_at: now.clone(),
            built_at: now,
        }
    }
}
