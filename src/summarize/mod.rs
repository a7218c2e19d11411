//! Extractive summaries: sentences chosen from the source, so every statement can be traced to
//! the initiative and document it came from.
//!
//! [`summarize`] works on plain [`SentenceUnit`]s (text, provenance, vector), so it does not care
//! whether the vectors were stored in an index or computed a moment ago by
//! [`embed_documents`]. Three steps, one module each:
//! - `graph`: the sentence-similarity graph (embedding cosine blended with TF-IDF word overlap),
//!   continuous LexRank on it, closeness to the centroid;
//! - `score`: each sentence's features (centrality, closeness to the input's and to its
//!   section's centroid, place in the document and in its section, section rank, length,
//!   overlap with the title, whether it leans on the sentence before) and its score: a linear
//!   blend with weights fitted on public data ([`LEARNED_WEIGHTS`]), or the hand-set blend that
//!   came before ([`Scorer::Blend`]);
//! - `choose`: maximal marginal relevance plus a facility-location coverage gain (the picks
//!   span the input rather than its largest part; no two say the same thing) under a sentence
//!   or word budget ([`Length`]; two Chinese characters count one word, [`word_count`]).
//!   A sentence that leans on the one before it (it opens with a connective or a pronoun,
//!   [`crate::text::openers`]) is chosen only together with that sentence, or not at all.
//!
//! Near-copies ([`crate::text::copies`]) count as one sentence, and the summary comes back in
//! source order. The same code serves one document, a theme (see [`crate::cluster`]) or the top
//! results of a query: cross-document redundancy is removed by the same MMR step.

mod choose;
mod graph;
mod score;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::embed::{normalize, EmbedError, Embedder};
use crate::ingest::Document;
use crate::store::{Level, Store, StoreError, StoredItem};
pub use graph::lexical_similarity;
use score::Candidates;
pub use score::{SentenceFeatures, FEATURES, FEATURE_NAMES, LEARNED_WEIGHTS};

/// One sentence that may be chosen for a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceUnit {
    pub text: String,
    /// Id of the initiative the sentence belongs to (`<doc>#s<section>.p<paragraph>`).
    pub initiative_id: String,
    pub doc_id: String,
    pub doc_title: String,
    /// Reading-order position of the sentence inside its document.
    pub position: usize,
    /// Sentence embedding; L2-normalised vectors are expected (others are normalised here).
    pub vector: Vec<f32>,
}

/// How long a summary may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    /// About 3 sentences, or 20% of a short input (at least one).
    #[default]
    Auto,
    /// At most this many sentences.
    Sentences(usize),
    /// At most this many words in total (a sentence that does not fit is skipped).
    Words(usize),
}

/// Default [`SummaryParams::position_weight`], chosen on half of the manual-page benchmark
/// (benches/quality/) and reported on the other half.
pub const POSITION_WEIGHT: f32 = 0.3;

/// Default [`SummaryParams::lexical_weight`], chosen on half of the design-proposal benchmark
/// (benches/quality/) and reported on the other half.
pub const LEXICAL_WEIGHT: f32 = 0.2;

/// Default [`SummaryParams::mmr_lambda`], chosen with [`LEARNED_WEIGHTS`] on the tune halves of
/// the 75-word benchmark (benches/quality/README.md; 0.7 before).
pub const MMR_LAMBDA: f32 = 0.85;

/// Default [`SummaryParams::coverage_weight`], chosen with [`MMR_LAMBDA`] (0.5 before).
pub const COVERAGE_WEIGHT: f32 = 0.25;

/// Tuning of [`summarize`]; the defaults suit paragraph-level reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryParams {
    pub length: Length,
    /// MMR trade-off: 1.0 is pure relevance, 0.0 pure novelty.
    pub mmr_lambda: f32,
    /// Weight of LexRank centrality against closeness to the centroid (0..=1).
    pub centrality_weight: f32,
    /// Weight of a sentence's place in its document (earlier is higher: `1/sqrt(1 + position)`)
    /// against its content score (0..=1). Reports, news and manual pages say what they are
    /// about first; 0 ranks by content alone.
    #[serde(default)]
    pub position_weight: f32,
    /// Weight of word overlap (TF-IDF cosine of stemmed words) against embedding cosine in the
    /// sentence-similarity graph (0..=1). Embeddings see paraphrase; words see the names and
    /// terms a summary must repeat exactly. 0 uses the embeddings alone.
    #[serde(default)]
    pub lexical_weight: f32,
    /// A sentence at least this similar (blended similarity) to a chosen one is never chosen.
    pub redundancy: f32,
    /// Weight of the coverage gain (how much of the input a sentence newly represents).
    pub coverage_weight: f32,
    /// Sentences with fewer words are only chosen when nothing longer exists.
    pub min_words: usize,
    /// Above this many sentences, LexRank runs on the ones closest to the centroid only, which
    /// keeps the similarity graph small for large themes.
    pub max_candidates: usize,
    /// A sentence that leans on the one before it (an opener, [`crate::text::openers`]) is
    /// chosen only together with that sentence. `false` lets it stand alone, as before issue
    /// 20; only the benchmarks compare the two.
    #[serde(default = "yes")]
    pub keep_openers_with_context: bool,
    /// How candidates are scored (learned weights, or the hand-set blend).
    #[serde(default)]
    pub scorer: Scorer,
    /// Feature weights for [`Scorer::Learned`] in place of [`LEARNED_WEIGHTS`] (for the
    /// benchmark that fits them; `None` in normal use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<[f32; FEATURES]>,
}

/// How candidate sentences are scored before the choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scorer {
    /// A linear blend of every feature ([`FEATURE_NAMES`]) with weights fitted on public
    /// data ([`LEARNED_WEIGHTS`]); `position_weight` and `centrality_weight` are not read.
    #[default]
    Learned,
    /// The hand-set blend: centrality and closeness (`centrality_weight`), then position
    /// (`position_weight`). What summaries used before issue 38.
    Blend,
}

impl std::str::FromStr for Scorer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "learned" => Ok(Self::Learned),
            "blend" => Ok(Self::Blend),
            other => Err(format!("unknown scorer `{other}` (learned or blend)")),
        }
    }
}

fn yes() -> bool {
    true
}

impl Default for SummaryParams {
    fn default() -> Self {
        Self {
            length: Length::Auto,
            mmr_lambda: MMR_LAMBDA,
            centrality_weight: 0.5,
            position_weight: POSITION_WEIGHT,
            lexical_weight: LEXICAL_WEIGHT,
            redundancy: 0.85,
            coverage_weight: COVERAGE_WEIGHT,
            min_words: 5,
            max_candidates: 2000,
            keep_openers_with_context: true,
            scorer: Scorer::Learned,
            weights: None,
        }
    }
}

pub use crate::answer::SummarySentence;

/// An extractive summary; serialises as `{"summary":[{"text","initiative","document","score"}],
/// "params":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Chosen sentences in source order (documents in input order, then position).
    #[serde(rename = "summary")]
    pub sentences: Vec<SummarySentence>,
    pub params: SummaryParams,
}

impl Summary {
    /// Total number of words of the chosen sentences.
    pub fn word_count(&self) -> usize {
        self.sentences.iter().map(|s| word_count(&s.text)).sum()
    }
}

/// Errors of the summarizer.
#[derive(Debug, thiserror::Error)]
pub enum SummarizeError {
    #[error("sentence {index} has a {got}-dimensional vector, expected {expected}")]
    DimensionMismatch {
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("embedding sentences failed: {0}")]
    Embed(#[from] EmbedError),
}

/// Words as a reader counts them: whitespace-separated tokens containing a letter or digit,
/// where a run of Chinese or Japanese characters (written without spaces) counts one word per
/// two characters, so a budget of 75 words is about 150 such characters.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| {
            let cjk = w.chars().filter(|&c| crate::text::cjk::is_cjk(c)).count();
            let other = w
                .chars()
                .any(|c| c.is_alphanumeric() && !crate::text::cjk::is_cjk(c));
            cjk.div_ceil(2) + usize::from(other)
        })
        .sum()
}

/// The features of every candidate sentence of `sentences` (the distinct ones; see
/// [`summarize`]), as [`Scorer::Learned`] reads them. For the benchmark that fits
/// [`LEARNED_WEIGHTS`] (`examples/summary_features.rs`).
pub fn sentence_features(
    sentences: &[SentenceUnit],
    params: &SummaryParams,
) -> Result<Vec<SentenceFeatures>, SummarizeError> {
    check_dimensions(sentences)?;
    let (kept, vectors) = distinct(sentences);
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let c = Candidates::score(sentences, &kept, &vectors, params);
    Ok(c.sentence
        .iter()
        .zip(&c.features)
        .map(|(&index, &values)| SentenceFeatures { index, values })
        .collect())
}

/// Picks the sentences that best summarize `sentences`, in source order.
///
/// The steps: distinct statements (exact repeats and near-copies once), their features and
/// scores ([`Scorer`]), the greedy choice under the length limits (MMR with coverage, openers
/// kept with their context), then source order.
pub fn summarize(
    sentences: &[SentenceUnit],
    params: &SummaryParams,
) -> Result<Summary, SummarizeError> {
    let empty = Summary {
        sentences: Vec::new(),
        params: params.clone(),
    };
    check_dimensions(sentences)?;
    let (kept, vectors) = distinct(sentences);
    if kept.is_empty() {
        return Ok(empty);
    }
    let c = Candidates::score(sentences, &kept, &vectors, params);
    let chosen = choose::choose(&c, sentences, params);
    let mut out: Vec<SummarySentence> = chosen
        .iter()
        .map(|&i| {
            let s = &sentences[c.sentence[i]];
            SummarySentence {
                text: s.text.clone(),
                initiative: s.initiative_id.clone(),
                document: s.doc_title.clone(),
                score: c.scores[i],
                doc_id: s.doc_id.clone(),
                position: s.position,
            }
        })
        .collect();
    in_source_order(&mut out, sentences);
    Ok(Summary {
        sentences: out,
        params: params.clone(),
    })
}

fn check_dimensions(sentences: &[SentenceUnit]) -> Result<(), SummarizeError> {
    let dim = sentences.first().map_or(0, |s| s.vector.len());
    match sentences
        .iter()
        .enumerate()
        .find(|(_, s)| s.vector.len() != dim)
    {
        Some((index, s)) => Err(SummarizeError::DimensionMismatch {
            index,
            expected: dim,
            got: s.vector.len(),
        }),
        None => Ok(()),
    }
}

/// The distinct statements among `sentences` (indices) with their normalised vectors. Empty
/// sentences and exact repeats (after whitespace and case folding: the same sentence quoted in
/// two documents) drop, and so do near-copies (the same sentence with a name or number changed,
/// as in a report republished by another office): the first of each group stays.
fn distinct(sentences: &[SentenceUnit]) -> (Vec<usize>, Vec<Vec<f32>>) {
    let mut seen = HashSet::new();
    let kept: Vec<usize> = (0..sentences.len())
        .filter(|&i| {
            let key = sentences[i]
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            !key.is_empty() && seen.insert(key)
        })
        .collect();
    let vectors: Vec<Vec<f32>> = kept
        .iter()
        .map(|&i| {
            let mut v = sentences[i].vector.clone();
            normalize(&mut v);
            v
        })
        .collect();
    let keys: Vec<Option<u64>> = kept
        .iter()
        .map(|&i| crate::text::copy_key(&sentences[i].text))
        .collect();
    let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
    let mut firsts: Vec<usize> = crate::text::copies::group(&keys, &refs)
        .into_iter()
        .map(|g| g[0])
        .collect();
    firsts.sort_unstable();
    (
        firsts.iter().map(|&k| kept[k]).collect(),
        firsts.iter().map(|&k| vectors[k].clone()).collect(),
    )
}

/// Source order: documents in the order they first appear in the input, then position.
fn in_source_order(out: &mut [SummarySentence], sentences: &[SentenceUnit]) {
    let mut doc_order: HashMap<&str, usize> = HashMap::new();
    for s in sentences {
        let next = doc_order.len();
        doc_order.entry(s.doc_id.as_str()).or_insert(next);
    }
    out.sort_by(|a, b| {
        doc_order[a.doc_id.as_str()]
            .cmp(&doc_order[b.doc_id.as_str()])
            .then(a.position.cmp(&b.position))
            .then(a.initiative.cmp(&b.initiative))
    });
}

/// Embeds the sentences of `documents` for [`summarize`], skipping boilerplate initiatives (like
/// a shared editor's note); captions are not initiatives and never appear. Positions count
/// sentences in reading order within each document.
pub fn embed_documents(
    documents: &[Document],
    embedder: &dyn Embedder,
) -> Result<Vec<SentenceUnit>, SummarizeError> {
    let mut units = Vec::new();
    for doc in documents {
        let mut position = 0usize;
        for (_, initiative) in doc.initiatives() {
            for sentence in &initiative.sentences {
                if !initiative.boilerplate && !sentence.text.trim().is_empty() {
                    units.push(SentenceUnit {
                        text: sentence.text.clone(),
                        initiative_id: initiative.id.clone(),
                        doc_id: doc.id.clone(),
                        doc_title: doc.title.clone(),
                        position,
                        vector: Vec::new(),
                    });
                }
                position += 1;
            }
        }
    }
    let texts: Vec<&str> = units.iter().map(|u| u.text.as_str()).collect();
    let vectors = embedder.embed(&texts)?;
    for (u, e) in units.iter_mut().zip(vectors) {
        u.vector = e.vector;
    }
    Ok(units)
}

/// Reading-order key of an item id such as `report#s2.p3.1`: the numbers after the `#`.
pub(super) fn id_order(id: &str) -> Vec<u64> {
    let tail = id.rsplit_once('#').map_or(id, |(_, t)| t);
    tail.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Whether the item numbered `next` comes right after `prev` in its document: the same numbers
/// but the last, which is one higher (`d#s2.p3` then `d#s2.p4`).
fn follows(prev: &[u64], next: &[u64]) -> bool {
    prev.len() == next.len()
        && !next.is_empty()
        && prev[..prev.len() - 1] == next[..next.len() - 1]
        && prev[prev.len() - 1] + 1 == next[next.len() - 1]
}

/// The initiatives of the stored document `doc` (what `summarize --doc` and the API's `"doc"`
/// cover); `None` when the store holds none of it.
pub fn document_items(store: &dyn Store, doc: &str) -> Result<Option<Vec<StoredItem>>, StoreError> {
    let items = store.items_of_document(Level::Initiative, doc)?;
    Ok((!items.is_empty()).then_some(items))
}

/// The stored items of `level` that `members` names (a theme's members), in the members'
/// order; members no longer stored are left out.
pub fn member_items(
    store: &dyn Store,
    level: Level,
    members: &[String],
) -> Result<Vec<StoredItem>, StoreError> {
    let mut by_id: HashMap<String, StoredItem> = store
        .items(level)?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    Ok(members.iter().filter_map(|m| by_id.remove(m)).collect())
}

/// The stored sentences (with their stored vectors: nothing is embedded) of indexed
/// initiatives or sections, for [`summarize`]. Boilerplate items are skipped. Documents keep the
/// order in which they first appear in `items`; inside a document, sentences are numbered in
/// reading order whatever the order of `items`.
pub fn units_from_items(items: &[StoredItem]) -> Vec<SentenceUnit> {
    let mut doc_rank: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for i in items {
        let n = doc_rank.len();
        doc_rank.entry(i.doc_id.as_str()).or_insert(n);
    }
    let mut ordered: Vec<&StoredItem> = items.iter().filter(|i| !i.boilerplate).collect();
    ordered.sort_by_cached_key(|i| (doc_rank[i.doc_id.as_str()], id_order(&i.id)));
    let mut units = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut position = 0usize;
    let mut last: Option<(&str, Vec<u64>)> = None;
    for item in ordered {
        let order = id_order(&item.id);
        match &last {
            Some((doc, _)) if *doc != item.doc_id.as_str() => position = 0,
            // Items that do not follow each other in the document (a gap in a query's
            // results or a theme's members) get a gap in positions too, so no sentence looks
            // like the one just before another (see the opener rule in `summarize`).
            Some((_, prev)) if !follows(prev, &order) => position += 1,
            _ => {}
        }
        last = Some((item.doc_id.as_str(), order));
        for s in &item.sentences {
            // A section and one of its initiatives may both be given: each sentence once.
            if s.text.trim().is_empty() || !seen.insert(s.id.as_str()) {
                continue;
            }
            units.push(SentenceUnit {
                text: s.text.clone(),
                initiative_id: s.initiative_id.clone(),
                doc_id: item.doc_id.clone(),
                doc_title: item.doc_title.clone(),
                position,
                vector: s.vector.clone(),
            });
            position += 1;
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::graph::{lexrank, min_max};
    use super::*;

    #[test]
    fn id_order_reads_the_numbers_after_the_hash() {
        assert_eq!(id_order("a-2#s2.p10.1"), vec![2, 10, 1]);
        assert!(id_order("d#s1.p2") < id_order("d#s1.p10"));
        assert!(id_order("d#s0.p9") < id_order("d#s1.p1"));
    }

    #[test]
    fn follows_only_the_next_paragraph_of_the_same_section() {
        assert!(follows(&id_order("d#s2.p3"), &id_order("d#s2.p4")));
        assert!(!follows(&id_order("d#s2.p3"), &id_order("d#s2.p5")));
        assert!(!follows(&id_order("d#s2.p3"), &id_order("d#s3.p1")));
        assert!(follows(&id_order("d#s2"), &id_order("d#s3")));
    }

    #[test]
    fn chinese_characters_count_half_a_word() {
        assert_eq!(word_count("Cranes lift containers."), 3);
        assert_eq!(word_count("港口起重机装卸集装箱。"), 5);
        assert_eq!(word_count("使用AI技术 提升效率"), 5);
        assert_eq!(word_count("— , ."), 0);
    }

    #[test]
    fn min_max_of_constant_is_ones() {
        assert_eq!(min_max(&[0.3, 0.3]), vec![1.0, 1.0]);
        assert_eq!(min_max(&[0.0, 1.0, 0.5]), vec![0.0, 1.0, 0.5]);
    }

    #[test]
    fn lexrank_sums_to_one_and_favours_the_hub() {
        // Node 0 is similar to both others; 1 and 2 are unrelated.
        let sims = vec![1.0, 0.8, 0.8, 0.8, 1.0, 0.0, 0.8, 0.0, 1.0];
        let r = lexrank(&sims, 3);
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(r[0] > r[1] && r[0] > r[2]);
    }
}
