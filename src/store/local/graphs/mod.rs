//! The derived search graphs of an index directory, one per large level: the `hnsw_rs` graph
//! that writers build and extend ([`hnsw`]), the flat copy that searches walk ([`flat`]) and the
//! kNN graphs clustering reads ([`knn`]). A saved graph is used only when its checksums hold and
//! it was built with the index's dimension and HNSW parameters; otherwise it counts as missing.
//! Where graphs are written is [`super::files`]'s business; when, the writer's.

pub mod flat;
pub mod hnsw;
mod hnsw_files;
pub mod knn;

pub use flat::FlatGraph;
pub use hnsw::{GraphError, GraphStamp, HnswGraph};
pub use knn::KnnGraph;

use super::files::IndexFiles;
use super::layout::HnswParams;
use crate::store::{Level, StoreError};

/// What a level's graph must have been built with to be used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GraphSpec {
    pub dimension: usize,
    pub params: HnswParams,
}

impl GraphSpec {
    fn fits(&self, stamp: &GraphStamp) -> bool {
        stamp.dimension == self.dimension
            && stamp.params.m == self.params.m
            && stamp.params.ef_construction == self.params.ef_construction
    }
}

/// Builds a graph over `(key, vector)` pairs; the keys are what searches return.
pub(crate) fn build(live: &[(u64, Vec<f32>)], params: HnswParams) -> HnswGraph {
    let items: Vec<(&[f32], usize)> = live
        .iter()
        .map(|(k, v)| (v.as_slice(), *k as usize))
        .collect();
    HnswGraph::build_with_ids(&items, params)
}

/// The saved `hnsw_rs` graph of a level, for a writer to extend; `None` when it is missing,
/// damaged or does not fit `spec`.
pub(crate) fn load_writable(
    files: &IndexFiles,
    level: Level,
    spec: GraphSpec,
) -> Option<HnswGraph> {
    let (g, stamp) = HnswGraph::load(&files.graph(level)).ok()?;
    spec.fits(&stamp).then_some(g)
}

/// The saved search copy of a level's graph, under the same conditions as [`load_writable`].
pub(crate) fn load_search(files: &IndexFiles, level: Level, spec: GraphSpec) -> Option<FlatGraph> {
    let (g, stamp) = hnsw::load_flat(&files.graph(level)).ok()?;
    spec.fits(&stamp).then_some(g)
}

/// Whether the saved graph of a level describes `generation`, fits `spec` and has every file
/// intact (checksums verified), so a writer can leave it as it is.
pub(crate) fn is_current(
    files: &IndexFiles,
    level: Level,
    spec: GraphSpec,
    generation: u64,
) -> bool {
    hnsw::verify(&files.graph(level))
        .is_ok_and(|s| s.source_tag == generation && s.points > 0 && spec.fits(&s))
}

/// Saves a level's graph, tagged with the database generation it describes.
pub(crate) fn save(
    files: &IndexFiles,
    level: Level,
    g: &HnswGraph,
    generation: u64,
) -> Result<(), StoreError> {
    files.replace_graph(level, |dir| {
        g.save(dir, generation)?;
        Ok(())
    })
}
