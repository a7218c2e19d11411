//! Extractive summaries: sentences chosen from the source, so every statement can be traced to
//! the initiative and document it came from.
//!
//! [`summarize`] works on plain [`SentenceUnit`]s (text, provenance, vector), so it does not care
//! whether the vectors were stored in an index or computed a moment ago by
//! [`embed_documents`]. Sentences are ranked by centrality in the sentence-similarity graph
//! (continuous LexRank on a graph whose edges blend embedding cosine with TF-IDF word overlap)
//! blended with closeness to the centroid, then picked with
//! maximal marginal relevance (plus a facility-location coverage gain, so the picks span the
//! input rather than its largest part) so no two chosen sentences say the same thing, and returned in
//! source order. A sentence that leans on the one before it (it opens with a connective or a
//! pronoun, [`crate::text::openers`]) is chosen only together with that sentence, or not at all;
//! near-copies ([`crate::text::copies`]) count as one sentence. The same code serves one
//! document, a theme (see [`crate::cluster`]) or the top results of a query: cross-document
//! redundancy is removed by the same MMR step.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::embed::{dot, normalize, EmbedError, Embedder};
use crate::ingest::Document;
use crate::store::StoredItem;

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
}

fn yes() -> bool {
    true
}

impl Default for SummaryParams {
    fn default() -> Self {
        Self {
            length: Length::Auto,
            mmr_lambda: 0.7,
            centrality_weight: 0.5,
            position_weight: POSITION_WEIGHT,
            lexical_weight: LEXICAL_WEIGHT,
            redundancy: 0.85,
            coverage_weight: 0.5,
            min_words: 5,
            max_candidates: 2000,
            keep_openers_with_context: true,
        }
    }
}

/// One chosen sentence with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummarySentence {
    pub text: String,
    /// Id of the initiative the sentence comes from.
    pub initiative: String,
    /// Title of the document the sentence comes from.
    pub document: String,
    /// Blended centrality score in 0..=1 (higher is more central).
    pub score: f32,
    /// Document id (not serialised: the initiative id already starts with it).
    #[serde(skip)]
    pub doc_id: String,
    /// Position of the sentence inside its document (not serialised).
    #[serde(skip)]
    pub position: usize,
}

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

/// Words as a reader counts them (whitespace-separated tokens containing a letter or digit).
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Picks the sentences that best summarize `sentences`, in source order.
///
/// The steps: distinct statements ([`distinct`]), their scores ([`Candidates::score`]:
/// centrality, closeness to the centroid, word overlap, position), the greedy choice under
/// the length limits ([`choose`]: MMR with coverage, openers kept with their context), then
/// source order.
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
    let chosen = choose(&c, sentences, params);
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

/// The sentences a summary may choose from, with what the choice reads.
struct Candidates {
    /// Index into the input sentences of each candidate.
    sentence: Vec<usize>,
    /// Pairwise similarity, row-major `n x n` (cosine blended with word overlap).
    sims: Vec<f32>,
    /// Blended score in 0..=1 (centrality, closeness, position).
    scores: Vec<f32>,
    words: Vec<usize>,
}

impl Candidates {
    /// All distinct sentences, or the closest to the centroid when there are too many for a
    /// dense similarity graph (closeness is the first-order approximation of degree centrality).
    fn score(
        sentences: &[SentenceUnit],
        kept: &[usize],
        vectors: &[Vec<f32>],
        params: &SummaryParams,
    ) -> Self {
        let closeness = centroid_closeness(vectors);
        let mut candidates: Vec<usize> = (0..kept.len()).collect();
        if candidates.len() > params.max_candidates.max(1) {
            candidates.sort_by(|&a, &b| closeness[b].total_cmp(&closeness[a]).then(a.cmp(&b)));
            candidates.truncate(params.max_candidates.max(1));
            candidates.sort_unstable();
        }
        let sentence: Vec<usize> = candidates.iter().map(|&c| kept[c]).collect();
        let cand_vectors: Vec<&[f32]> = candidates.iter().map(|&c| vectors[c].as_slice()).collect();
        let mut sims = similarity_matrix(&cand_vectors);
        let mut close: Vec<f32> = candidates.iter().map(|&c| closeness[c]).collect();
        let lw = params.lexical_weight.clamp(0.0, 1.0);
        if lw > 0.0 {
            let texts: Vec<&str> = sentence
                .iter()
                .map(|&i| sentences[i].text.as_str())
                .collect();
            blend_lexical(&texts, lw, &mut sims, &mut close);
        }
        let lex = min_max(&lexrank(&sims, cand_vectors.len()));
        let close = min_max(&close);
        let w = params.centrality_weight.clamp(0.0, 1.0);
        let pw = params.position_weight.clamp(0.0, 1.0);
        let scores: Vec<f32> = lex
            .iter()
            .zip(&close)
            .zip(&sentence)
            .map(|((l, c), &i)| {
                let place = 1.0 / (1.0 + sentences[i].position as f32).sqrt();
                (1.0 - pw) * (w * l + (1.0 - w) * c) + pw * place
            })
            .collect();
        let words = sentence
            .iter()
            .map(|&i| word_count(&sentences[i].text))
            .collect();
        Self {
            sentence,
            sims,
            scores,
            words,
        }
    }

    fn len(&self) -> usize {
        self.sentence.len()
    }
}

/// Blends word overlap into the similarities (weight `lw`), and its counterpart of closeness to
/// the centroid (mean word overlap with all) into `close`.
fn blend_lexical(texts: &[&str], lw: f32, sims: &mut [f32], close: &mut [f32]) {
    let words = lexical_similarity(texts);
    let n = texts.len();
    sims.iter_mut()
        .zip(&words)
        .for_each(|(s, w)| *s = (1.0 - lw) * *s + lw * w);
    for (i, c) in close.iter_mut().enumerate() {
        let mean = words[i * n..(i + 1) * n].iter().sum::<f32>() / n as f32;
        *c = (1.0 - lw) * *c + lw * mean;
    }
}

/// For each candidate, whether it opens with a connective or an anaphoric word ("To this end",
/// "They") and so is only chosen together with the sentence before it (same document, previous
/// position), and which candidate that is.
fn openers(
    c: &Candidates,
    sentences: &[SentenceUnit],
    params: &SummaryParams,
) -> (Vec<bool>, Vec<Option<usize>>) {
    let leans: Vec<bool> = c
        .sentence
        .iter()
        .map(|&i| {
            params.keep_openers_with_context && crate::text::leans_on_previous(&sentences[i].text)
        })
        .collect();
    let at: HashMap<(&str, usize), usize> = c
        .sentence
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let s = &sentences[i];
            ((s.doc_id.as_str(), s.position), k)
        })
        .collect();
    let before: Vec<Option<usize>> = c
        .sentence
        .iter()
        .map(|&i| {
            let s = &sentences[i];
            let p = s.position.checked_sub(1)?;
            at.get(&(s.doc_id.as_str(), p)).copied()
        })
        .collect();
    (leans, before)
}

/// How many sentences and words a summary may have.
fn limits(params: &SummaryParams, candidates: usize) -> (usize, usize) {
    let sentences = match params.length {
        Length::Auto => 3usize
            .min(((candidates as f32) * 0.2).ceil() as usize)
            .max(1),
        Length::Sentences(n) => n,
        Length::Words(_) => usize::MAX,
    };
    let words = match params.length {
        Length::Words(w) => w,
        _ => usize::MAX,
    };
    (sentences, words)
}

/// The greedy choice: MMR with facility-location coverage, one sentence (or one opener with its
/// context) at a time, within the limits; candidates too similar to a chosen one are never
/// chosen. Nothing fitting, it takes the best sentence that stands on its own.
fn choose(c: &Candidates, sentences: &[SentenceUnit], params: &SummaryParams) -> Vec<usize> {
    let n = c.len();
    let (limit, word_budget) = limits(params, n);
    let (leans, before) = openers(c, sentences, params);
    let (sims, scores, words) = (&c.sims, &c.scores, &c.words);
    let has_long = words.iter().any(|&w| w >= params.min_words);
    let mut chosen: Vec<usize> = Vec::new();
    let mut is_chosen = vec![false; n];
    let mut max_sim = vec![f32::NEG_INFINITY; n];
    let mut used_words = 0usize;
    // Too similar to a chosen sentence; never chosen, not even to introduce another.
    let mut redundant = vec![false; n];
    let short: Vec<bool> = (0..n)
        .map(|i| has_long && words[i] < params.min_words)
        .collect();
    // The sentences choosing `i` brings in: `i` and, while the last one leans on its
    // predecessor and that one is not chosen yet, the predecessor (at most three in all);
    // `None` when a needed predecessor is missing or redundant.
    let bundle = |i: usize, is_chosen: &[bool], redundant: &[bool]| -> Option<Vec<usize>> {
        let mut b = vec![i];
        let mut cur = i;
        while leans[cur] {
            let p = before[cur]?;
            if is_chosen[p] {
                break;
            }
            if redundant[p] || b.len() == 3 {
                return None;
            }
            b.push(p);
            cur = p;
        }
        Some(b)
    };
    let mut cover = vec![0.0f32; n];
    while chosen.len() < limit {
        let max_gain = (0..n)
            .map(|i| coverage_gain(sims, &cover, i))
            .fold(1e-9f32, f32::max);
        let mmr_of = |i: usize| {
            let novelty = if chosen.is_empty() { 0.0 } else { max_sim[i] };
            let gain = coverage_gain(sims, &cover, i) / max_gain;
            params.mmr_lambda * scores[i] - (1.0 - params.mmr_lambda) * novelty
                + params.coverage_weight * gain
        };
        let mut best: Option<(Vec<usize>, f32)> = None;
        for i in 0..n {
            if is_chosen[i] || redundant[i] || short[i] {
                continue;
            }
            let Some(b) = bundle(i, &is_chosen, &redundant) else {
                continue;
            };
            let bundle_words: usize = b.iter().map(|&j| words[j]).sum();
            if chosen.len() + b.len() > limit || used_words + bundle_words > word_budget {
                continue;
            }
            // A bundle is worth the mean of its sentences: a weak introduction costs.
            let mmr = b.iter().map(|&j| mmr_of(j)).sum::<f32>() / b.len() as f32;
            if best.as_ref().is_none_or(|(_, s)| mmr > *s) {
                best = Some((b, mmr));
            }
        }
        let Some((picks, _)) = best else { break };
        for pick in picks {
            chosen.push(pick);
            is_chosen[pick] = true;
            used_words += words[pick];
            for (k, cv) in cover.iter_mut().enumerate() {
                *cv = cv.max(sims[k * n + pick].max(0.0));
            }
            for i in 0..n {
                let s = sims[i * n + pick];
                max_sim[i] = max_sim[i].max(s);
                if s >= params.redundancy && !is_chosen[i] {
                    redundant[i] = true;
                }
            }
        }
    }
    // Nothing fitted (every sentence that stands on its own is too short, or every pair too
    // long for the budget): a summary still says something, the best sentence that stands on
    // its own and fits the word budget.
    if chosen.is_empty() && limit > 0 {
        if let Some(i) = (0..n)
            .filter(|&i| !leans[i] && words[i] <= word_budget)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
        {
            chosen.push(i);
        }
    }
    chosen
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

/// How much choosing `i` would raise the facility-location coverage
/// `sum_k max_{j chosen} sim(k, j)` of all sentences.
fn coverage_gain(sims: &[f32], cover: &[f32], i: usize) -> f32 {
    let n = cover.len();
    (0..n)
        .map(|k| (sims[k * n + i].max(0.0) - cover[k]).max(0.0))
        .sum()
}

/// Cosine of each (normalised) vector with the normalised mean vector.
fn centroid_closeness(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors[0].len();
    let mut c = vec![0.0f32; dim];
    for v in vectors {
        c.iter_mut().zip(v).for_each(|(a, b)| *a += b);
    }
    normalize(&mut c);
    vectors.iter().map(|v| dot(v, &c)).collect()
}

/// Dense row-major cosine matrix of normalised vectors.
fn similarity_matrix(vectors: &[&[f32]]) -> Vec<f32> {
    let n = vectors.len();
    let mut m = vec![0.0f32; n * n];
    m.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = if i == j {
                1.0
            } else {
                crate::embed::dot(vectors[i], vectors[j])
            };
        }
    });
    m
}

/// Dense row-major TF-IDF cosine matrix of `texts` (each text a document for the IDF, as in
/// LexRank): words are the stemmed content words of [`crate::text::stems`]. The diagonal is 1.
pub fn lexical_similarity(texts: &[&str]) -> Vec<f32> {
    let n = texts.len();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let bags: Vec<Vec<(usize, f32)>> = texts
        .iter()
        .map(|t| {
            let mut counts: HashMap<usize, f32> = HashMap::new();
            for stem in crate::text::stems(t) {
                let next = ids.len();
                *counts.entry(*ids.entry(stem).or_insert(next)).or_default() += 1.0;
            }
            let mut bag: Vec<(usize, f32)> = counts.into_iter().collect();
            bag.sort_unstable_by_key(|&(id, _)| id);
            bag
        })
        .collect();
    let mut df = vec![0usize; ids.len()];
    for bag in &bags {
        for &(id, _) in bag {
            df[id] += 1;
        }
    }
    // tf * idf, unit length; postings list the (sentence, weight) pairs of every term.
    let mut postings: Vec<Vec<(usize, f32)>> = vec![Vec::new(); ids.len()];
    let weighted: Vec<Vec<(usize, f32)>> = bags
        .iter()
        .enumerate()
        .map(|(i, bag)| {
            let mut w: Vec<(usize, f32)> = bag
                .iter()
                .map(|&(id, tf)| (id, tf * ((n as f32 / df[id] as f32).ln() + 1.0)))
                .collect();
            let norm = w.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                w.iter_mut().for_each(|(_, x)| *x /= norm);
            }
            for &(id, x) in &w {
                postings[id].push((i, x));
            }
            w
        })
        .collect();
    let mut m = vec![0.0f32; n * n];
    m.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
        for &(id, x) in &weighted[i] {
            for &(j, y) in &postings[id] {
                row[j] += x * y;
            }
        }
        row[i] = 1.0;
    });
    m
}

/// Continuous LexRank: PageRank (damping 0.85) on the graph whose edge weights are the
/// positive cosine similarities, self-loops excluded.
fn lexrank(sims: &[f32], n: usize) -> Vec<f32> {
    if n == 1 {
        return vec![1.0];
    }
    let damping = 0.85f32;
    let row_sums: Vec<f32> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i)
                .map(|j| sims[i * n + j].max(0.0))
                .sum()
        })
        .collect();
    let mut rank = vec![1.0 / n as f32; n];
    for _ in 0..100 {
        // Mass of nodes without any positive edge is spread uniformly (dangling nodes).
        let dangling: f32 = (0..n)
            .filter(|&j| row_sums[j] <= 0.0)
            .map(|j| rank[j])
            .sum::<f32>()
            / n as f32;
        let next: Vec<f32> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut acc = dangling;
                for j in 0..n {
                    if j != i && row_sums[j] > 0.0 {
                        // The matrix is symmetric: sims[j][i] == sims[i][j].
                        acc += sims[i * n + j].max(0.0) / row_sums[j] * rank[j];
                    }
                }
                (1.0 - damping) / n as f32 + damping * acc
            })
            .collect();
        let delta: f32 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        rank = next;
        if delta < 1e-6 {
            break;
        }
    }
    rank
}

/// Rescales to 0..=1; a constant input becomes all ones.
fn min_max(xs: &[f32]) -> Vec<f32> {
    let lo = xs.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !(hi - lo).is_normal() {
        return vec![1.0; xs.len()];
    }
    xs.iter().map(|x| (x - lo) / (hi - lo)).collect()
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
fn id_order(id: &str) -> Vec<u64> {
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
