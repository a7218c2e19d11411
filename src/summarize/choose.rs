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
pub(super) fn choose(
    c: &Candidates,
    sentences: &[SentenceUnit],
    params: &SummaryParams,
) -> Vec<usize> {
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

#[cfg(test)]
mod tests {
    use super::super::{summarize, word_count, Length, SentenceUnit, SummaryParams};

    /// A sentence of document `d` at `position`, with a vector pointing mostly along axis `axis`
    /// (sentences on the same axis say the same thing).
    fn unit(text: &str, position: usize, axis: usize) -> SentenceUnit {
        let mut vector = vec![0.1f32; 8];
        vector[axis] = 1.0;
        SentenceUnit {
            text: text.into(),
            initiative_id: format!("d#s{}.p{position}", position / 4),
            doc_id: "d".into(),
            doc_title: "Port cranes".into(),
            position,
            vector,
        }
    }

    fn with(length: Length) -> SummaryParams {
        SummaryParams {
            length,
            ..Default::default()
        }
    }

    fn article() -> Vec<SentenceUnit> {
        (0..24)
            .map(|i| {
                let words = 6 + (i * 7) % 19;
                let text = format!(
                    "Port cranes lift containers number {i}{}.",
                    " and more cargo".repeat(words / 3)
                );
                unit(&text, i, i % 5)
            })
            .collect()
    }

    #[test]
    fn a_word_budget_is_never_exceeded() {
        let u = article();
        for budget in [5, 12, 30, 75, 200] {
            let s = summarize(&u, &with(Length::Words(budget))).unwrap();
            let used: usize = s.sentences.iter().map(|x| word_count(&x.text)).sum();
            assert!(used <= budget, "{budget}: {used} words");
            if budget >= 75 {
                assert!(s.sentences.len() >= 2, "{budget}: room for more than one");
            }
        }
    }

    #[test]
    fn no_opener_is_chosen_when_its_antecedent_is_absent() {
        // The opener (position 5) is the most central sentence, but position 4 is not in the
        // input (left out of a query's results): it must never be chosen.
        let mut u = vec![
            unit("Cranes at the port lift containers from ships.", 0, 0),
            unit("The harbour master keeps a log of arrivals.", 1, 1),
            unit("Cranes lift containers onto trucks and trains.", 2, 0),
            unit("Dock workers guide the cranes by radio.", 3, 0),
            unit("However, cranes lift containers faster at night.", 5, 0),
            unit("Fish markets open before dawn.", 6, 2),
        ];
        u[4].vector = vec![0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        for length in [
            Length::Sentences(1),
            Length::Sentences(3),
            Length::Words(75),
        ] {
            let s = summarize(&u, &with(length)).unwrap();
            assert!(
                s.sentences.iter().all(|x| !x.text.starts_with("However")),
                "{length:?}: {:?}",
                s.sentences
            );
        }
    }

    #[test]
    fn redundant_sentences_are_not_both_chosen() {
        // Two wordings of one statement (the same vector) and two other statements.
        let u = vec![
            unit("Cranes lift containers from the ships at the port.", 0, 0),
            unit(
                "At the port, containers are lifted off ships by cranes.",
                1,
                0,
            ),
            unit("The harbour master keeps a log of every arrival.", 2, 1),
            unit("Fish markets near the docks open before dawn.", 3, 2),
        ];
        let s = summarize(&u, &with(Length::Sentences(3))).unwrap();
        let same = s.sentences.iter().filter(|x| x.position <= 1).count();
        assert_eq!(same, 1, "{:?}", s.sentences);
        assert_eq!(s.sentences.len(), 3);
    }

    #[test]
    fn custom_weights_are_read() {
        // Only the length feature weighs: under a word budget the longest sentence comes first.
        let u = article();
        let mut weights = [0.0; super::super::FEATURES];
        weights[7] = 1.0;
        let p = SummaryParams {
            weights: Some(weights),
            mmr_lambda: 1.0,
            coverage_weight: 0.0,
            ..with(Length::Words(35))
        };
        let s = summarize(&u, &p).unwrap();
        let longest = u.iter().map(|x| word_count(&x.text)).max().unwrap();
        assert!(
            s.sentences.iter().any(|x| word_count(&x.text) == longest),
            "{:?}",
            s.sentences
        );
    }
}
