//! Why a hit matched: the query's terms as found in its text, its best sentence (by cosine, or
//! by the share of the query's terms where the query has no vector), and for `similar` and
//! `links` the best-aligned sentence pairs of two items.

use super::{AlignedSentence, AlignedSentences, BestSentence, TermMatch};
use crate::store::{StoredItem, StoredSentence};

/// What a hit's `why` and best sentence are made from.
pub(super) struct Explain<'a> {
    /// The query's vector (none in lexical mode).
    pub(super) vector: Option<&'a [f32]>,
    /// The query's terms.
    pub(super) terms: &'a [String],
    /// Whether to report BM25 scores.
    pub(super) lexical: bool,
    /// `similar`: the item asked about, whose sentences are aligned with each hit's.
    pub(super) aligned_with: Option<&'a StoredItem>,
}

/// The query's terms in `text`, as found.
pub(super) fn term_matches(text: &str, terms: &[String]) -> Vec<TermMatch> {
    if terms.is_empty() {
        return Vec::new();
    }
    crate::text::lexical::matches(text, terms)
        .into_iter()
        .map(|(r, hit)| TermMatch {
            text: text[r.clone()].to_string(),
            term: hit.into_iter().next().unwrap_or_default(),
            byte_range: [r.start, r.end],
        })
        .collect()
}

/// The sentence closest to the query: by cosine where the query has a vector, else the one
/// holding the largest share of the query's terms (that share is its score).
pub(super) fn best_sentence(
    sentences: Vec<StoredSentence>,
    explain: &Explain<'_>,
) -> Option<BestSentence> {
    let score = |s: &StoredSentence| match explain.vector {
        Some(v) => crate::embed::dot(v, &s.vector),
        None => {
            let found: std::collections::HashSet<String> =
                crate::text::lexical::matches(&s.text, explain.terms)
                    .into_iter()
                    .flat_map(|(_, t)| t)
                    .collect();
            found.len() as f32 / explain.terms.len().max(1) as f32
        }
    };
    sentences
        .into_iter()
        .map(|s| (score(&s), s))
        // The first of equals (reading order) wins.
        .fold(
            None,
            |best: Option<(f32, StoredSentence)>, (sc, s)| match best {
                Some((b, bs)) if b >= sc => Some((b, bs)),
                _ => Some((sc, s)),
            },
        )
        .map(|(score, s)| BestSentence {
            text: s.text,
            score,
            byte_range: [s.byte_range.0, s.byte_range.1],
            initiative_id: s.initiative_id,
        })
}

/// Sentence pairs `similar` and `links` report per result.
pub const ALIGNED_PAIRS: usize = 3;

/// Up to `n` pairs of a sentence of `this` and a sentence of `that`, best cosine first, each
/// sentence in at most one pair.
pub fn align_sentences(
    this: &[StoredSentence],
    that: &[StoredSentence],
    n: usize,
) -> Vec<AlignedSentences> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::with_capacity(this.len() * that.len());
    for (i, a) in this.iter().enumerate() {
        for (j, b) in that.iter().enumerate() {
            pairs.push((crate::embed::dot(&a.vector, &b.vector), i, j));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let (mut used_a, mut used_b) = (vec![false; this.len()], vec![false; that.len()]);
    let side = |s: &StoredSentence| AlignedSentence {
        id: s.id.clone(),
        text: s.text.clone(),
        byte_range: [s.byte_range.0, s.byte_range.1],
    };
    let mut out = Vec::new();
    for (score, i, j) in pairs {
        if out.len() == n {
            break;
        }
        if used_a[i] || used_b[j] {
            continue;
        }
        used_a[i] = true;
        used_b[j] = true;
        out.push(AlignedSentences {
            score,
            this: side(&this[i]),
            that: side(&that[j]),
        });
    }
    out
}
