//! The greedy choice of a summary's sentences: maximal marginal relevance with a
//! facility-location coverage gain, under the sentence and word limits, with the rule that an
//! opener ([`crate::text::openers`]) comes with the sentence it leans on or not at all.

use std::collections::HashMap;

use super::score::Candidates;
use super::{Length, SentenceUnit, SummaryParams};

/// For each candidate, whether it opens with a connective or an anaphoric word ("To this end",
/// "They") and so is only chosen together with the sentence before it (same document, previous
/// position), and which candidate that is.
pub(super) fn openers(
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
pub(super) fn limits(params: &SummaryParams, candidates: usize) -> (usize, usize) {
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
pub(super) fn choose(c: &Candidates, sentences: &[SentenceUnit], params: &SummaryParams) -> Vec<usize> {
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

/// How much choosing `i` would raise the facility-location coverage
/// `sum_k max_{j chosen} sim(k, j)` of all sentences.
pub(super) fn coverage_gain(sims: &[f32], cover: &[f32], i: usize) -> f32 {
    let n = cover.len();
    (0..n)
        .map(|k| (sims[k * n + i].max(0.0) - cover[k]).max(0.0))
        .sum()
}

