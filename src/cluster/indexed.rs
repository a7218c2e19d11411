//! Themes of an index: reads the stored items and their kNN graph from [`Store`], clusters
//! them with [`super::cluster`] and summarizes each theme from the members' stored sentence
//! vectors (nothing is embedded again; the embedder, when given, only embeds keyphrase
//! candidates for the label step).

use std::time::Instant;

use crate::embed::Embedder;
use crate::index::IndexError;
use crate::store::{Level, Store, StoredItem};
use crate::summarize::{units_from_items, SummarizeError};

use super::{
    attach_summaries, theme_summary_params, ClusterError, ClusterParams, ThemeItem, ThemeReport,
};

/// Neighbours per item asked of the index's kNN graph.
pub const GRAPH_K: usize = 15;

/// Members (closest to the centroid first) whose sentences feed a theme's summary.
pub const SUMMARY_POOL: usize = 40;

/// Errors of clustering an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexedClusterError {
    #[error(transparent)]
    Index(#[from] IndexError),
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
    /// The clustered items, as the report's HTML map needs them.
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
    if level == Level::Sentence {
        return Err(IndexedClusterError::Level);
    }
    let mut timings = Vec::with_capacity(4);
    let mut t = Instant::now();
    let mut lap = |name: &'static str, t: &mut Instant| {
        timings.push((name, t.elapsed().as_secs_f64()));
        *t = Instant::now();
    };
    let stored = index.knn_items(level)?;
    let items = theme_items(&stored);
    lap("read items", &mut t);
    let knn = index.knn_graph(level, GRAPH_K)?;
    lap("kNN graph", &mut t);
    let mut report = match embedder {
        Some(e) => super::cluster_with_embedder(&items, &knn, params, e)?,
        None => super::cluster(&items, &knn, params)?,
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
    Ok(IndexedThemes {
        report,
        items,
        stored,
        timings,
    })
}
