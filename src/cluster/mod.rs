//! Themes: groups of items that belong together, with labels a person could have written.
//!
//! [`cluster`] takes plain [`ThemeItem`]s (id, document, text, vector) and the k-nearest-neighbour
//! graph over them ([`KnnGraph`], built by the index's HNSW or by brute force for small sets)
//! and returns a [`ThemeReport`]. The number of themes is found by modularity optimisation on
//! the kNN graph (`graph`, Leiden-style), so no n x n matrix is ever formed; items whose
//! neighbourhood does not belong to any one theme, and themes smaller than the minimum size,
//! are reported as unclustered instead of being forced into a catch-all. Labels come from
//! [`labels`] (c-TF-IDF + MMR over 1-3 word phrases); per-theme extractive summaries from
//! [`crate::summarize`] via [`attach_summaries`]; the 2-D map for HTML reports from [`layout`].
//! Rendering lives in [`crate::report`].

mod graph;
pub mod indexed;
pub mod labels;
pub mod layout;
pub mod lineage;
pub mod over;
mod partition;

use std::collections::HashMap;

use partition::{assign, communities, dense_groups, start_partition, Merged};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::embed::{dot, normalize, EmbedError, Embedder};
use crate::store::{KnnGraph, SavedThemes, Store, StoreError};
use crate::summarize::{summarize, SentenceUnit, SummarizeError, SummaryParams, SummarySentence};
use lineage::{Lineage, ThemeChange};

/// One item to cluster (an initiative or a section).
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeItem {
    pub id: String,
    pub doc_id: String,
    pub doc_title: String,
    pub text: String,
    /// The item's embedding (L2-normalised).
    pub vector: Vec<f32>,
}

/// How many themes to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "serde_json::Value", try_from = "serde_json::Value")]
pub enum ThemeCount {
    /// Found by modularity optimisation on the kNN graph.
    #[default]
    Auto,
    /// Exactly this many (or fewer, when the data cannot be split that far).
    Fixed(usize),
}

impl From<ThemeCount> for serde_json::Value {
    fn from(t: ThemeCount) -> Self {
        match t {
            ThemeCount::Auto => "auto".into(),
            ThemeCount::Fixed(n) => n.into(),
        }
    }
}

impl TryFrom<serde_json::Value> for ThemeCount {
    type Error = String;
    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        match &v {
            serde_json::Value::String(s) => s.parse(),
            serde_json::Value::Number(n) => n
                .as_u64()
                .map(|n| ThemeCount::Fixed(n as usize))
                .ok_or_else(|| format!("bad theme count {v}")),
            _ => Err(format!("bad theme count {v}")),
        }
    }
}

impl std::str::FromStr for ThemeCount {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ThemeCount::Auto),
            _ => s
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .map(ThemeCount::Fixed)
                .ok_or_else(|| format!("expected `auto` or a positive number, got `{s}`")),
        }
    }
}

/// Tuning of [`cluster`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterParams {
    pub themes: ThemeCount,
    /// Smallest theme; smaller groups are unclustered. `None`: `clamp(round(sqrt(n) / 4), 2, 50)`.
    pub min_size: Option<usize>,
    /// Seed of the node order in community detection: same seed, same themes.
    pub seed: u64,
    /// Modularity resolution: higher gives more, smaller themes.
    pub resolution: f64,
    /// Themes whose centroids are at least this similar are merged (they say the same thing).
    pub merge_similarity: f32,
    /// An item whose kNN edge weight falls less than this fraction inside its theme is
    /// unclustered (it sits between themes or in none).
    pub min_membership: f32,
    /// Keyphrases per theme.
    pub keyphrases: usize,
    /// Representative items per theme (closest to the centroid).
    pub representatives: usize,
    /// Nearest other themes listed per theme.
    pub neighbours: usize,
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            themes: ThemeCount::Auto,
            min_size: None,
            seed: 42,
            resolution: 1.0,
            merge_similarity: 0.95,
            min_membership: 0.3,
            keyphrases: 5,
            representatives: 3,
            neighbours: 3,
        }
    }
}

/// An item quoted in a report (a representative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRef {
    pub id: String,
    /// Title of the item's document.
    pub document: String,
    pub text: String,
    /// Cosine similarity to the theme centroid.
    pub similarity: f32,
}

/// A document a theme spans, with how many of the theme's items it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentShare {
    pub id: String,
    pub title: String,
    pub items: usize,
}

/// Another theme close to this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeNeighbour {
    pub id: usize,
    pub title: String,
    /// Cosine similarity of the two centroids.
    pub similarity: f32,
}

/// One theme of a [`ThemeReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// Stable across runs ([`lineage`]): a theme that carries on keeps its id; new themes are
    /// numbered above every id used before. From scratch: 1-based, in order of decreasing size.
    pub id: usize,
    /// A short (2-4 word) title (kept from the last report when the theme carries on).
    pub title: String,
    /// What became of the theme since the last report: kept, grown, new, merged or split.
    #[serde(default)]
    pub change: ThemeChange,
    /// Ids in the last report of the themes this one carries members of, most shared first.
    #[serde(default)]
    pub from: Vec<usize>,
    pub keyphrases: Vec<String>,
    pub size: usize,
    /// Documents the theme spans, most items first.
    pub documents: Vec<DocumentShare>,
    /// The items closest to the centroid.
    pub representatives: Vec<ItemRef>,
    /// Ids of all members, closest to the centroid first.
    pub members: Vec<String>,
    /// Mean cosine similarity of the members to the centroid.
    pub cohesion: f32,
    /// Nearest other themes by centroid similarity.
    pub neighbours: Vec<ThemeNeighbour>,
    /// A 2-3 sentence extractive summary, when [`attach_summaries`] ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Vec<SummarySentence>>,
    /// Members per period (`cluster --over`), in period order; empty unless asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub over: Vec<over::PeriodCount>,
    /// Indices of the members in the input, closest to the centroid first.
    #[serde(skip)]
    pub member_indices: Vec<usize>,
    /// Normalised centroid.
    #[serde(skip)]
    pub centroid: Vec<f32>,
}

/// Parameters as given plus what was resolved from the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportParams {
    #[serde(flatten)]
    pub cluster: ClusterParams,
    /// The min size actually used.
    pub min_size_used: usize,
    /// The resolution actually used (raised to reach a fixed theme count).
    pub resolution_used: f64,
    /// Items clustered.
    pub items: usize,
    /// Neighbours per item used from the kNN graph (at most `sqrt(n)`, at least 3).
    pub k: usize,
    /// What an item is (`initiative` or `section`); set by the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// How keyphrase vectors were made: `embedder` or `member-mean`.
    pub phrase_vectors: String,
    /// Modularity of the community partition (before merging and unclustering).
    pub modularity: f64,
    /// Near-copies folded into the clustered items (not in `items`; counted in theme sizes).
    #[serde(default)]
    pub copies: usize,
}

/// The themes of a set of items; serialises to the documented JSON schema
/// `{"themes":[{"id","title","change","from","keyphrases","size","documents","representatives",
/// "members","cohesion","neighbours"[,"summary"]}],"unclustered":[ids],"params":{...},
/// "lineage":{"compared_with","gone":[{"id","title","size"}],"last_id"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeReport {
    pub themes: Vec<Theme>,
    /// Ids of items that fit no theme.
    pub unclustered: Vec<String>,
    pub params: ReportParams,
    /// How the themes relate to the last report: which it was, the themes gone since, the
    /// highest id given.
    #[serde(default)]
    pub lineage: Lineage,
    /// Theme index (into `themes`) of each input item, `None` when unclustered.
    #[serde(skip)]
    pub assignment: Vec<Option<usize>>,
}

impl ThemeReport {
    /// The report last kept with `store`, with the generation it describes; `None` when there
    /// is none or it is not a report this version reads (it is made again from the store).
    pub fn load(store: &dyn Store) -> Result<Option<(u64, ThemeReport)>, StoreError> {
        Ok(crate::store::load_themes(store)?.and_then(|saved| {
            serde_json::from_value(saved.report)
                .ok()
                .map(|r| (saved.generation, r))
        }))
    }

    /// The report as a store keeps it, tagged with the generation it describes.
    pub fn to_saved(&self, generation: u64) -> SavedThemes {
        SavedThemes {
            generation,
            // Plain structs with string keys always serialise.
            report: serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

/// Errors of clustering.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{items} items but the kNN graph has {graph} rows")]
    GraphSize { items: usize, graph: usize },
    #[error("{items} items but a starting theme for {start}")]
    StartSize { items: usize, start: usize },
    #[error("item {index} has a {got}-dimensional vector, expected {expected}")]
    DimensionMismatch {
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("embedding keyphrases failed: {0}")]
    Embed(#[from] EmbedError),
}

/// Clusters `items` into themes; keyphrase vectors come from the members (no model needed).
pub fn cluster(
    items: &[ThemeItem],
    knn: &KnnGraph,
    params: &ClusterParams,
) -> Result<ThemeReport, ClusterError> {
    cluster_inner(items, knn, params, None, None)
}

/// Like [`cluster`], but keyphrase candidates are embedded with `embedder` for the MMR step.
pub fn cluster_with_embedder(
    items: &[ThemeItem],
    knn: &KnnGraph,
    params: &ClusterParams,
    embedder: &dyn Embedder,
) -> Result<ThemeReport, ClusterError> {
    cluster_inner(items, knn, params, Some(embedder), None)
}

/// Like [`cluster`] (or [`cluster_with_embedder`] with `embedder`), but the community search
/// starts from `start`, each item's theme in an earlier report (`None`: new to it, or
/// unclustered there; see [`lineage::previous_assignment`]), instead of from every item alone.
/// The optimisation then moves what the new items ask for and leaves the rest where it was, so
/// the themes of the earlier report carry on unless the data say otherwise.
pub fn cluster_from(
    items: &[ThemeItem],
    knn: &KnnGraph,
    params: &ClusterParams,
    embedder: Option<&dyn Embedder>,
    start: &[Option<usize>],
) -> Result<ThemeReport, ClusterError> {
    if start.len() != items.len() {
        return Err(ClusterError::StartSize {
            items: items.len(),
            start: start.len(),
        });
    }
    cluster_inner(items, knn, params, embedder, Some(start))
}

/// The automatic minimum theme size for `n` items.
pub fn auto_min_size(n: usize) -> usize {
    ((n as f64).sqrt() / 4.0).round().clamp(2.0, 50.0) as usize
}

fn add_into(acc: &mut [f32], v: &[f32]) {
    acc.iter_mut().zip(v).for_each(|(a, b)| *a += b);
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let mut v = v.to_vec();
    normalize(&mut v);
    v
}

pub(crate) fn cluster_inner(
    items: &[ThemeItem],
    knn: &KnnGraph,
    params: &ClusterParams,
    embedder: Option<&dyn Embedder>,
    start: Option<&[Option<usize>]>,
) -> Result<ThemeReport, ClusterError> {
    let n = items.len();
    let dim = check_inputs(items, knn)?;
    let min_size = params.min_size.unwrap_or_else(|| auto_min_size(n)).max(1);
    let mut report_params = ReportParams {
        cluster: params.clone(),
        min_size_used: min_size,
        resolution_used: params.resolution,
        items: n,
        k: knn.neighbours.iter().map(Vec::len).max().unwrap_or(0),
        level: None,
        phrase_vectors: if embedder.is_some() {
            "embedder"
        } else {
            "member-mean"
        }
        .into(),
        modularity: 0.0,
        copies: 0,
    };
    // On small sets a kNN graph with the index's k is nearly complete and has no community
    // structure left to find; sqrt(n) neighbours keep it sparse (and leave large sets alone).
    report_params.k = report_params
        .k
        .min(((n as f64).sqrt().round() as usize).max(3));
    let g = graph::Graph::from_knn(knn, report_params.k);

    let start = start.map(start_partition);
    let (comm, gamma) = communities(&g, params, min_size, start.as_deref());
    report_params.resolution_used = gamma;
    report_params.modularity = graph::modularity(&g, &comm, gamma);
    let merged = Merged::new(&comm, items, &g, params, dim, min_size);
    let assignment = assign(&g, &merged, items, params, dim, min_size);
    let (groups, assignment) = dense_groups(assignment);

    let mut themes: Vec<Theme> = groups
        .par_iter()
        .enumerate()
        .map(|(t, members)| build_theme(t, members, items, params))
        .collect();
    let centroids: Vec<Vec<f32>> = themes.iter().map(|t| t.centroid.clone()).collect();
    let near = nearest_themes(&centroids, params.neighbours);
    label(
        &mut themes,
        items,
        &assignment,
        &centroids,
        embedder,
        params,
    )?;
    name_neighbours(&mut themes, near);

    let unclustered = (0..n)
        .filter(|&i| assignment[i].is_none())
        .map(|i| items[i].id.clone())
        .collect();
    let last_id = themes.len();
    Ok(ThemeReport {
        themes,
        unclustered,
        params: report_params,
        lineage: Lineage {
            last_id,
            ..Lineage::default()
        },
        assignment,
    })
}

/// Sets each theme's neighbours from `near` (per theme: other theme indices and cosines),
/// numbered as the themes are (index + 1) and titled.
fn name_neighbours(themes: &mut [Theme], near: Vec<Vec<(usize, f32)>>) {
    let titles: Vec<String> = themes.iter().map(|t| t.title.clone()).collect();
    for (theme, near) in themes.iter_mut().zip(near) {
        theme.neighbours = near
            .into_iter()
            .map(|(b, s)| ThemeNeighbour {
                id: b + 1,
                title: titles[b].clone(),
                similarity: s,
            })
            .collect();
    }
}

/// The vectors' dimension, once the graph is known to have a row per item and every vector the
/// same length.
fn check_inputs(items: &[ThemeItem], knn: &KnnGraph) -> Result<usize, ClusterError> {
    if knn.len() != items.len() {
        return Err(ClusterError::GraphSize {
            items: items.len(),
            graph: knn.len(),
        });
    }
    let dim = items.first().map_or(0, |i| i.vector.len());
    if let Some((index, it)) = items
        .iter()
        .enumerate()
        .find(|(_, it)| it.vector.len() != dim)
    {
        return Err(ClusterError::DimensionMismatch {
            index,
            expected: dim,
            got: it.vector.len(),
        });
    }
    Ok(dim)
}

/// For each theme, its `k` nearest other themes by centroid, as (index, cosine), best first.
fn nearest_themes(centroids: &[Vec<f32>], k: usize) -> Vec<Vec<(usize, f32)>> {
    (0..centroids.len())
        .into_par_iter()
        .map(|a| {
            let mut near: Vec<(usize, f32)> = (0..centroids.len())
                .filter(|&b| b != a)
                .map(|b| (b, dot(&centroids[a], &centroids[b])))
                .collect();
            near.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            near.truncate(k);
            near
        })
        .collect()
}

/// Titles and keyphrases of every theme.
fn label(
    themes: &mut [Theme],
    items: &[ThemeItem],
    assignment: &[Option<usize>],
    centroids: &[Vec<f32>],
    embedder: Option<&dyn Embedder>,
    params: &ClusterParams,
) -> Result<(), ClusterError> {
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    let vectors: Vec<&[f32]> = items.iter().map(|i| i.vector.as_slice()).collect();
    let label_params = labels::LabelParams {
        keyphrases: params.keyphrases,
        candidates: (params.keyphrases * 4).max(40),
        mmr_lambda: 0.6,
        similarity_weight: 3.0,
        title_share: 1.0 / 3.0,
        name_share: 1.0 / 3.0,
    };
    let homes = home_documents(items, assignment, centroids.len());
    let home_refs: Vec<Option<&str>> = homes.iter().map(|h| h.as_deref()).collect();
    let labels = labels::label_themes(
        &texts,
        &vectors,
        assignment,
        centroids,
        &home_refs,
        embedder,
        &label_params,
    )?;
    for (theme, label) in themes.iter_mut().zip(labels) {
        theme.title = if label.title.is_empty() {
            format!("Theme {}", theme.id)
        } else {
            label.title
        };
        theme.keyphrases = label.keyphrases;
    }
    Ok(())
}

/// For each of `n` themes, the title of the document it is, if it is one: at least two thirds
/// of its members (two or more) come from that document, and the theme holds at least half of
/// the document's items. A theme that is one section among many of a report is not its report.
fn home_documents(
    items: &[ThemeItem],
    assignment: &[Option<usize>],
    n: usize,
) -> Vec<Option<String>> {
    let mut per_doc: HashMap<&str, usize> = HashMap::new();
    let mut per_theme: Vec<HashMap<&str, usize>> = vec![HashMap::new(); n];
    for (item, theme) in items.iter().zip(assignment) {
        *per_doc.entry(&item.doc_id).or_default() += 1;
        if let Some(t) = theme.filter(|&t| t < n) {
            *per_theme[t].entry(&item.doc_id).or_default() += 1;
        }
    }
    per_theme
        .iter()
        .map(|docs| {
            let size: usize = docs.values().sum();
            let (doc, &count) = docs.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
            let home = size >= 2 && 3 * count >= 2 * size && 2 * count >= per_doc[doc];
            home.then(|| {
                items
                    .iter()
                    .find(|i| i.doc_id == *doc)
                    .map(|i| i.doc_title.clone())
            })
            .flatten()
            .filter(|t| !t.trim().is_empty())
        })
        .collect()
}

fn median_of(xs: &[f32]) -> f32 {
    let mut v = xs.to_vec();
    v.sort_by(f32::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Cosine of `v` with the unit vector `unit`.
fn cosine_to(v: &[f32], unit: &[f32]) -> f32 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        dot(v, unit) / norm
    } else {
        0.0
    }
}

fn build_theme(t: usize, members: &[usize], items: &[ThemeItem], params: &ClusterParams) -> Theme {
    let dim = items[members[0]].vector.len();
    let mut centroid = vec![0.0f32; dim];
    for &i in members {
        add_into(&mut centroid, &items[i].vector);
    }
    normalize(&mut centroid);
    let mut sims: Vec<(usize, f32)> = members
        .iter()
        .map(|&i| (i, cosine_to(&items[i].vector, &centroid)))
        .collect();
    sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let cohesion = sims.iter().map(|s| s.1).sum::<f32>() / sims.len() as f32;
    let mut docs: HashMap<&str, (usize, &str, usize)> = HashMap::new();
    for &i in members {
        let e = docs
            .entry(items[i].doc_id.as_str())
            .or_insert((i, items[i].doc_title.as_str(), 0));
        e.2 += 1;
    }
    let mut documents: Vec<DocumentShare> = docs
        .into_iter()
        .map(|(id, (_, title, count))| DocumentShare {
            id: id.to_string(),
            title: title.to_string(),
            items: count,
        })
        .collect();
    documents.sort_by(|a, b| b.items.cmp(&a.items).then(a.id.cmp(&b.id)));
    Theme {
        id: t + 1,
        title: String::new(),
        keyphrases: Vec::new(),
        size: members.len(),
        documents,
        representatives: sims
            .iter()
            .take(params.representatives)
            .map(|&(i, s)| ItemRef {
                id: items[i].id.clone(),
                document: items[i].doc_title.clone(),
                text: items[i].text.clone(),
                similarity: s,
            })
            .collect(),
        members: sims.iter().map(|&(i, _)| items[i].id.clone()).collect(),
        change: ThemeChange::New,
        from: Vec::new(),
        cohesion,
        neighbours: Vec::new(),
        summary: None,
        over: Vec::new(),
        member_indices: sims.iter().map(|s| s.0).collect(),
        centroid,
    }
}

/// Folds near-copies back into a report made over one item per copy group (see
/// [`crate::text::copies`]): `copies[i]` are the copies of the report's input item `i`. A
/// theme's size, members and document shares then count every copy, so a theme is as large as
/// the text it holds, and a theme can never be made of copies of one paragraph (they were one
/// item while clustering). Unclustered items carry their copies along.
pub fn fold_copies(report: &mut ThemeReport, copies: &[Vec<ThemeItem>]) {
    for theme in &mut report.themes {
        let mut members = Vec::with_capacity(theme.members.len());
        for (&i, id) in theme.member_indices.iter().zip(&theme.members) {
            members.push(id.clone());
            members.extend(copies[i].iter().map(|c| c.id.clone()));
            for c in &copies[i] {
                match theme.documents.iter_mut().find(|d| d.id == c.doc_id) {
                    Some(d) => d.items += 1,
                    None => theme.documents.push(DocumentShare {
                        id: c.doc_id.clone(),
                        title: c.doc_title.clone(),
                        items: 1,
                    }),
                }
            }
        }
        theme.size = members.len();
        theme.members = members;
        theme
            .documents
            .sort_by(|a, b| b.items.cmp(&a.items).then(a.id.cmp(&b.id)));
    }
    // `unclustered` lists the unassigned input items in input order.
    let mut leads = std::mem::take(&mut report.unclustered).into_iter();
    for (i, a) in report.assignment.iter().enumerate() {
        if a.is_none() {
            report.unclustered.extend(leads.next());
            report
                .unclustered
                .extend(copies[i].iter().map(|c| c.id.clone()));
        }
    }
    report.params.copies = copies.iter().map(Vec::len).sum();
}

/// Adds a 2-3 sentence extractive summary to every theme. `sentences_of` returns the sentence
/// units (stored or freshly embedded) of the given members, which are the theme's items closest
/// to its centroid (at most `pool` of them, which bounds the cost for very large themes).
pub fn attach_summaries<F>(
    report: &mut ThemeReport,
    pool: usize,
    params: &SummaryParams,
    mut sentences_of: F,
) -> Result<(), SummarizeError>
where
    F: FnMut(&[usize]) -> Result<Vec<SentenceUnit>, SummarizeError>,
{
    for theme in &mut report.themes {
        let take = theme.member_indices.len().min(pool.max(1));
        let units = sentences_of(&theme.member_indices[..take])?;
        theme.summary = Some(summarize(&units, params)?.sentences);
    }
    Ok(())
}

/// Summary settings for theme summaries: three sentences, one per member at most in spirit
/// (MMR removes what repeats).
pub fn theme_summary_params() -> SummaryParams {
    SummaryParams {
        length: crate::summarize::Length::Sentences(3),
        ..Default::default()
    }
}
