//! Themes of an index: reads the stored items and their kNN graph from [`Store`], clusters
//! them with [`super::cluster`] and summarizes each theme from the members' stored sentence
//! vectors (nothing is embedded again; the embedder, when given, only embeds keyphrase
//! candidates for the label step). Near-copies ([`crate::text::copies`]) are clustered as one
//! item and folded back into the themes afterwards ([`super::fold_copies`]). Given the last
//! saved report, the clustering starts from its themes and the new themes are matched with them
//! ([`super::lineage`]), so themes keep their ids and titles from run to run.

use std::time::Instant;

use crate::embed::Embedder;
use crate::store::{KnnGraph, Level, Store, StoreError, StoredItem};
use crate::summarize::{units_from_items, SummarizeError};

use super::lineage::{carry_over, previous_assignment, Previous};
use super::{
    attach_summaries, theme_summary_params, ClusterError, ClusterParams, ThemeItem, ThemeReport,
};

/// Neighbours per item asked of the index's kNN graph.
pub const GRAPH_K: usize = 15;

/// Members (closest to the centroid first) whose sentences feed a theme's summary.
pub const SUMMARY_POOL: usize = 40;

/// Up to this many distinct texts, the kNN graph over them (when near-copies were folded) is
/// exact; above, it comes from an HNSW graph built over them.
const EXACT_GRAPH_ITEMS: usize = 20_000;

/// Errors of clustering an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexedClusterError {
    #[error(transparent)]
    Index(#[from] StoreError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Summarize(#[from] SummarizeError),
    #[error("level must be initiative or section")]
    Level,
}

/// A theme report over an index, with the items it numbers.
pub struct IndexedThemes {
    pub report: ThemeReport,
    /// The clustered items (one per near-copy group), as the report's HTML map needs them.
    pub items: Vec<ThemeItem>,
    /// The same items as stored (with their sentences).
    pub stored: Vec<StoredItem>,
    /// Seconds per stage: reading items, kNN graph, clustering and labels, summaries.
    pub timings: Vec<(&'static str, f64)>,
}

/// Converts stored items to clustering input.
pub fn theme_items(items: &[StoredItem]) -> Vec<ThemeItem> {
    items
        .iter()
        .map(|i| ThemeItem {
            id: i.id.clone(),
            doc_id: i.doc_id.clone(),
            doc_title: i.doc_title.clone(),
            text: i.text.clone(),
            vector: i.vector.clone(),
        })
        .collect()
}

/// Clusters the non-boilerplate items of `level` in `index` and attaches a summary to each
/// theme. With `embedder`, keyphrase candidates are embedded for the MMR label step; without,
/// their vectors are the mean of the member vectors that contain them.
pub fn cluster_index(
    index: &dyn Store,
    level: Level,
    params: &ClusterParams,
    embedder: Option<&dyn Embedder>,
) -> Result<IndexedThemes, IndexedClusterError> {
    cluster_index_with(index, level, params, embedder, None, None)
}

/// Whether `previous` is a report over `level` (a report of another level shares no items).
fn same_level(previous: &ThemeReport, level: Level) -> bool {
    previous.params.level.as_deref().unwrap_or("initiative") == level.as_str()
}

/// [`cluster_index`] over the items whose keys are in `keep` (an entity filter,
/// [`crate::facets::allowed_keys`]); all of them when `None`. With `previous` (the last saved
/// report, [`ThemeReport::load`]) over the same level, the themes carry on from it
/// ([`super::lineage`]); without, they are numbered from 1.
pub fn cluster_index_with(
    index: &dyn Store,
    level: Level,
    params: &ClusterParams,
    embedder: Option<&dyn Embedder>,
    keep: Option<&std::collections::HashSet<u64>>,
    previous: Option<Previous>,
) -> Result<IndexedThemes, IndexedClusterError> {
    let previous = previous.filter(|p| same_level(p.report, level));
    if level == Level::Sentence {
        return Err(IndexedClusterError::Level);
    }
    let mut timings = Vec::with_capacity(4);
    let mut t = Instant::now();
    let mut lap = |name: &'static str, t: &mut Instant| {
        timings.push((name, t.elapsed().as_secs_f64()));
        *t = Instant::now();
    };
    let mut all = index.knn_items(level)?;
    if let Some(keep) = keep {
        all.retain(|i| keep.contains(&i.key));
    }
    let groups = {
        let keys: Vec<Option<u64>> = all.iter().map(|i| crate::text::copy_key(&i.text)).collect();
        let vectors: Vec<&[f32]> = all.iter().map(|i| i.vector.as_slice()).collect();
        crate::text::copies::group(&keys, &vectors)
    };
    lap("read items", &mut t);
    let (stored, copies, knn) = distinct_items(index, level, all, &groups, keep.is_some())?;
    let items = theme_items(&stored);
    lap("kNN graph", &mut t);
    let mut report = match previous {
        Some(p) => {
            let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
            let start = previous_assignment(&ids, p.report);
            super::cluster_from(&items, &knn, params, embedder, &start)?
        }
        None => super::cluster_inner(&items, &knn, params, embedder, None)?,
    };
    report.params.level = Some(level.as_str().to_string());
    lap("cluster + labels", &mut t);
    attach_summaries(
        &mut report,
        SUMMARY_POOL,
        &theme_summary_params(),
        |members| {
            let chosen: Vec<StoredItem> = members.iter().map(|&m| stored[m].clone()).collect();
            Ok(units_from_items(&chosen))
        },
    )?;
    lap("summaries", &mut t);
    if copies.iter().any(|c| !c.is_empty()) {
        super::fold_copies(&mut report, &copies);
    }
    carry_over(&mut report, previous);
    Ok(IndexedThemes {
        report,
        items,
        stored,
        timings,
    })
}

/// The items to cluster (as stored), the copies folded into each, and the kNN graph over them.
type Distinct = (Vec<StoredItem>, Vec<Vec<ThemeItem>>, KnnGraph);

/// The items to cluster, one per near-copy group, with the copies of each and the kNN graph
/// over them: the store's graph when every item stands alone and none is filtered out (it
/// spans the whole level), else one built here (the store's graph links copies to each other).
fn distinct_items(
    index: &dyn Store,
    level: Level,
    all: Vec<StoredItem>,
    groups: &[Vec<usize>],
    filtered: bool,
) -> Result<Distinct, StoreError> {
    if groups.len() == all.len() && !filtered {
        let knn = index.knn_graph(level, GRAPH_K)?;
        return Ok((all, Vec::new(), knn));
    }
    let mut copies = Vec::with_capacity(groups.len());
    let mut slots: Vec<Option<StoredItem>> = all.into_iter().map(Some).collect();
    let mut stored = Vec::with_capacity(groups.len());
    for g in groups {
        stored.push(slots[g[0]].take().expect("each item in one group"));
        let rest: Vec<StoredItem> = g[1..].iter().filter_map(|&c| slots[c].take()).collect();
        copies.push(
            rest.iter()
                .map(|c| ThemeItem {
                    id: c.id.clone(),
                    doc_id: c.doc_id.clone(),
                    doc_title: c.doc_title.clone(),
                    text: String::new(),
                    vector: Vec::new(),
                })
                .collect::<Vec<_>>(),
        );
    }
    let vectors: Vec<Vec<f32>> = stored.iter().map(|i| i.vector.clone()).collect();
    let knn = if vectors.len() <= EXACT_GRAPH_ITEMS {
        KnnGraph::brute_force(&vectors, GRAPH_K)
    } else {
        KnnGraph::approximate(&vectors, GRAPH_K)
    };
    Ok((stored, copies, knn))
}
