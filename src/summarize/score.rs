//! What a candidate sentence is worth. Each candidate gets [`FEATURES`] features in 0..=1
//! ([`FEATURE_NAMES`]): centrality in the sentence graph, closeness to the centroid of the
//! input and of its own section, its place in the document and in its section, the rank of its
//! section, its length, its overlap with the document's title, and whether it leans on the
//! sentence before it. The score the choice ranks by is a linear blend of them with weights
//! fitted on the tune halves of two public corpora ([`LEARNED_WEIGHTS`];
//! `benches/quality/fit_summary_weights.py`), or the hand-set blend of centrality, closeness
//! and position that came before ([`Scorer::Blend`]).

use std::collections::{HashMap, HashSet};

use super::graph::{blend_lexical, centroid_closeness, lexrank, min_max, similarity_matrix};
use super::{id_order, word_count, Length, Scorer, SentenceUnit, SummaryParams};
use crate::embed::{dot, normalize};

/// How many features a candidate has.
pub const FEATURES: usize = 10;

/// The features' names, in order (the fitting script and the benchmark's JSON use them).
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "centrality",
    "closeness",
    "document_place",
    "section_place",
    "section_first",
    "section_rank",
    "section_closeness",
    "length",
    "title_overlap",
    "leans_on_previous",
];

/// Weights of [`Scorer::Learned`], one per feature of [`FEATURE_NAMES`]: logistic regression of
/// "the sentence is in the ROUGE-2 oracle summary of 75 words" on the features, fitted on the
/// tune halves of the encyclopaedia (47 Wikipedia articles) and proposals (616 RFCs and PEPs)
/// corpora, 65,671 sentences (benches/quality/README.md, `fit_summary_weights.py`,
/// 2026-12-07). Only their ratios matter: scores are rescaled to 0..=1. Centrality and
/// closeness move together; what counts is centrality beyond closeness (their weights have
/// opposite signs).
pub const LEARNED_WEIGHTS: [f32; FEATURES] = [
    7.058, -5.607, 0.926, 1.564, 0.115, 0.901, -0.619, -1.258, 1.189, -0.183,
];

/// Index of the length feature in [`FEATURE_NAMES`].
const LENGTH: usize = 7;

/// Sentences longer than this many words count as this long for the length feature.
const LONG_SENTENCE: f32 = 40.0;

/// The features of one candidate sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceFeatures {
    /// Index of the sentence in the input.
    pub index: usize,
    /// The features in [`FEATURE_NAMES`] order.
    pub values: [f32; FEATURES],
}

/// The sentences a summary may choose from, with what the choice reads.
pub(super) struct Candidates {
    /// Index into the input sentences of each candidate.
    pub(super) sentence: Vec<usize>,
    /// Pairwise similarity, row-major `n x n` (cosine blended with word overlap).
    pub(super) sims: Vec<f32>,
    /// Score in 0..=1 ([`Scorer`]).
    pub(super) scores: Vec<f32>,
    pub(super) words: Vec<usize>,
    pub(super) features: Vec<[f32; FEATURES]>,
}

impl Candidates {
    /// All distinct sentences, or the closest to the centroid when there are too many for a
    /// dense similarity graph (closeness is the first-order approximation of degree centrality).
    pub(super) fn score(
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
        let words: Vec<usize> = sentence
            .iter()
            .map(|&i| word_count(&sentences[i].text))
            .collect();
        let features = features(sentences, &sentence, &cand_vectors, &lex, &close, &words);
        let scores: Vec<f32> = match params.scorer {
            Scorer::Learned => {
                let mut weights = *params.weights.as_ref().unwrap_or(&LEARNED_WEIGHTS);
                // The weights were fitted under a word budget, where a short sentence leaves
                // room for another; counting sentences, length costs nothing.
                if !matches!(params.length, Length::Words(_)) {
                    weights[LENGTH] = 0.0;
                }
                min_max(
                    &features
                        .iter()
                        .map(|f| f.iter().zip(&weights).map(|(x, w)| x * w).sum())
                        .collect::<Vec<f32>>(),
                )
            }
            Scorer::Blend => {
                let w = params.centrality_weight.clamp(0.0, 1.0);
                let pw = params.position_weight.clamp(0.0, 1.0);
                features
                    .iter()
                    .map(|f| (1.0 - pw) * (w * f[0] + (1.0 - w) * f[1]) + pw * f[2])
                    .collect()
            }
        };
        Self {
            sentence,
            sims,
            scores,
            words,
            features,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.sentence.len()
    }
}

/// Earlier is higher: 1 for the first, 1/sqrt(1 + rank) after.
fn early(rank: usize) -> f32 {
    1.0 / (1.0 + rank as f32).sqrt()
}

/// The section a sentence belongs to: the first number of its initiative id
/// (`doc#s2.p3` -> 2); 0 when the id has none.
fn section_of(unit: &SentenceUnit) -> u64 {
    id_order(&unit.initiative_id)
        .first()
        .copied()
        .unwrap_or_default()
}

/// The features of the candidates `sentence` (indices into `sentences`) in
/// [`FEATURE_NAMES`] order, given their rescaled centrality `lex` and closeness `close`.
fn features(
    sentences: &[SentenceUnit],
    sentence: &[usize],
    vectors: &[&[f32]],
    lex: &[f32],
    close: &[f32],
    words: &[usize],
) -> Vec<[f32; FEATURES]> {
    // Places in sections and section ranks are counted over every input sentence, so a
    // sentence left out as a near-copy still holds its place.
    let mut in_section: HashMap<(&str, u64), Vec<usize>> = HashMap::new();
    let mut sections: HashMap<&str, Vec<u64>> = HashMap::new();
    for s in sentences {
        let sec = section_of(s);
        in_section
            .entry((s.doc_id.as_str(), sec))
            .or_default()
            .push(s.position);
        sections.entry(s.doc_id.as_str()).or_default().push(sec);
    }
    in_section.values_mut().for_each(|v| v.sort_unstable());
    sections.values_mut().for_each(|v| {
        v.sort_unstable();
        v.dedup();
    });
    // Each section's centroid among the candidates.
    let mut centroids: HashMap<(&str, u64), Vec<f32>> = HashMap::new();
    for (&i, v) in sentence.iter().zip(vectors) {
        let s = &sentences[i];
        let c = centroids
            .entry((s.doc_id.as_str(), section_of(s)))
            .or_insert_with(|| vec![0.0; v.len()]);
        c.iter_mut().zip(v.iter()).for_each(|(a, b)| *a += b);
    }
    centroids.values_mut().for_each(|c| normalize(c));
    let mut titles: HashMap<&str, HashSet<String>> = HashMap::new();
    sentence
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let s = &sentences[i];
            let sec = section_of(s);
            let key = (s.doc_id.as_str(), sec);
            let place = in_section[&key].partition_point(|&p| p < s.position);
            let rank = sections[s.doc_id.as_str()].partition_point(|&x| x < sec);
            let title = titles
                .entry(s.doc_title.as_str())
                .or_insert_with(|| crate::text::stems(&s.doc_title).into_iter().collect());
            let title_overlap = if title.is_empty() {
                0.0
            } else {
                let own: HashSet<String> = crate::text::stems(&s.text).into_iter().collect();
                title.intersection(&own).count() as f32 / title.len() as f32
            };
            [
                lex[k],
                close[k],
                early(s.position),
                early(place),
                f32::from(u8::from(place == 0)),
                early(rank),
                dot(vectors[k], &centroids[&key]).clamp(0.0, 1.0),
                (words[k] as f32).min(LONG_SENTENCE) / LONG_SENTENCE,
                title_overlap,
                f32::from(u8::from(crate::text::leans_on_previous(&s.text))),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(text: &str, initiative: &str, position: usize, vector: Vec<f32>) -> SentenceUnit {
        SentenceUnit {
            text: text.into(),
            initiative_id: initiative.into(),
            doc_id: "d".into(),
            doc_title: "Harbour cranes".into(),
            position,
            vector,
        }
    }

    #[test]
    fn features_read_sections_places_and_the_title() {
        let s = vec![
            unit(
                "Harbour cranes lift containers.",
                "d#s0.p0",
                0,
                vec![1.0, 0.0],
            ),
            unit("They run on rails.", "d#s0.p0", 1, vec![0.8, 0.6]),
            unit("Cranes need power.", "d#s1.p0", 2, vec![0.6, 0.8]),
        ];
        let vectors: Vec<&[f32]> = s.iter().map(|u| u.vector.as_slice()).collect();
        let f = features(&s, &[0, 1, 2], &vectors, &[1.0; 3], &[1.0; 3], &[4, 4, 3]);
        assert_eq!(f[0][4], 1.0, "first of its section");
        assert_eq!(f[1][4], 0.0);
        assert_eq!(f[2][4], 1.0, "first of the second section");
        assert_eq!(f[2][5], early(1), "second section");
        assert_eq!(f[0][8], 1.0, "names both title words");
        assert_eq!(f[2][8], 0.5, "names one of two");
        assert_eq!(f[1][9], 1.0, "`They` leans on the sentence before");
        assert!(
            (f[2][6] - 1.0).abs() < 1e-6,
            "alone in its section: its own centroid"
        );
    }
}
