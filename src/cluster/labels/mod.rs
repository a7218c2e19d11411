//! Theme labels: keyphrases and a title that read like a person wrote them.
//!
//! Candidates are the noun phrases of the members' text ([`crate::text::phrases`]: "alkali
//! metals", "training for local workers"; never across "and", punctuation, a verb or a stop
//! word), at most four words, starting and ending with a word that names something (not a
//! generic word of product prose, not a markup remnant); a phrase found in most of the corpus
//! names no theme and is left out. They are scored by class-based TF-IDF (each theme's members
//! against everything else, BERTopic's `tf * ln(1 + A / f)`) and by distinctiveness (the share
//! of the theme's members containing the phrase minus the share of other items that do); the
//! best are re-ranked as KeyBERT does, by embedding similarity to the theme centroid, with
//! maximal marginal relevance, so the chosen phrases are both typical of the theme and different
//! from each other. The title is the best phrase that at least half of the theme's members
//! contain, written as the members write it with its first letter capitalised ("Alkali
//! metals"). A phrase that is a sub- or super-phrase of a chosen one (after folding plurals) is
//! a duplicate and never chosen. Phrase vectors come from the embedder when one is given,
//! otherwise from the mean vector of the members that contain the phrase, which needs no model.
//!
//! Chinese writes no spaces, so its candidates are the substrings of two to six
//! characters of each run of Chinese text that neither start nor end with a
//! function character (`的`, `和`, `在`...): no dictionary, and the scoring does the rest. A
//! fragment that crosses a word boundary is as frequent as the longer phrase it sits in at most,
//! and is dropped as subsumed by it; the real words and terms are what the members repeat.
//! Duplicates and commonness compare Chinese phrases by their character bigrams, as English
//! ones by their words. Titles are written in the corpus's majority language (Chinese or not):
//! a theme of both takes its title from that language's phrases when it has one.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::embed::{dot, normalize, EmbedError, Embedder};
use crate::text::cjk::Language;

mod titles;
mod words;

use titles::{dedupe_titles, home_title, make_title, pick_keyphrases, TitlePhrase, TitleRules};
use words::{common_stems, duplicates, for_each_candidate, is_multi_word, stems};

/// The stop words labels leave out (kept here for callers of the old path).
pub use crate::text::is_stopword;

/// Tuning of the labeller.
#[derive(Debug, Clone)]
pub(crate) struct LabelParams {
    /// Keyphrases per theme.
    pub keyphrases: usize,
    /// c-TF-IDF candidates passed to the MMR step.
    pub candidates: usize,
    /// MMR trade-off between relevance and diversity.
    pub mmr_lambda: f32,
    /// Weight of a phrase's embedding similarity to the theme centroid in its relevance, next
    /// to c-TF-IDF and distinctiveness (weight 1 each).
    pub similarity_weight: f32,
    /// Share of a theme's members that must contain a phrase for it to be the title (else the
    /// best phrase is).
    pub title_share: f32,
    /// Share of a theme's members that must mention a name (every word capitalised) for it to
    /// be the title or lead the keyphrases.
    pub name_share: f32,
}

impl LabelParams {
    fn rules(&self, language: Language) -> TitleRules {
        TitleRules {
            title_share: self.title_share,
            name_share: self.name_share,
            language,
        }
    }
}

/// Title and keyphrases of one theme.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ThemeLabel {
    pub title: String,
    pub keyphrases: Vec<String>,
}

struct Candidate {
    hash: u64,
    ctfidf: f32,
    /// Share of the theme's members containing the phrase minus the share of the other items
    /// that do (-1..=1): high for words most members use and few others do.
    distinct: f32,
    /// Positions (in the theme's member list) of the members containing the phrase.
    holders: Vec<u32>,
    /// Occurrences of the phrase in the theme's members.
    count: u32,
    surface: String,
    vector: Vec<f32>,
}

/// A phrase in more than this share of all items says nothing about one theme (unless the
/// theme itself holds that much of the corpus).
const COMMON_SHARE: f64 = 0.5;

/// Labels every theme. `class[i]` is item i's theme (or `None` when unclustered, which still
/// counts as "the rest" for c-TF-IDF); `centroids` are normalised theme centroids.
pub(crate) fn label_themes(
    texts: &[&str],
    vectors: &[&[f32]],
    class: &[Option<usize>],
    centroids: &[Vec<f32>],
    homes: &[Option<&str>],
    embedder: Option<&dyn Embedder>,
    params: &LabelParams,
) -> Result<Vec<ThemeLabel>, EmbedError> {
    let t = centroids.len();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); t + 1];
    for (i, c) in class.iter().enumerate() {
        members[c.unwrap_or(t)].push(i);
    }
    let terms = TermCounts::of(texts, &members);
    let mut cands: Vec<Vec<Candidate>> = (0..t)
        .into_par_iter()
        .map(|c| {
            let scored = terms.scored(c, members[c].len(), params.candidates);
            candidates(&scored, &members[c], texts, vectors, centroids[c].len())
        })
        .collect();
    drop_common_words(&mut cands, texts);
    cands.iter_mut().for_each(drop_subsumed);
    if let Some(e) = embedder {
        embed_phrases(&mut cands, e)?;
    }
    let sizes: Vec<usize> = members[..t].iter().map(Vec::len).collect();
    let rules = params.rules(majority_language(texts));
    let home = |c: usize| homes.get(c).copied().flatten();
    let mut labels: Vec<ThemeLabel> = (0..t)
        .map(|c| mmr_labels(&cands[c], &centroids[c], sizes[c], home(c), params, &rules))
        .collect();
    dedupe_titles(
        &mut labels,
        &cands,
        centroids,
        &sizes,
        homes,
        params,
        &rules,
    );
    Ok(labels)
}

/// The language most of `texts` are written in (Chinese only when more than half are).
fn majority_language(texts: &[&str]) -> Language {
    let chinese = texts
        .iter()
        .filter(|t| Language::of(t) == Language::Chinese)
        .count();
    if 2 * chinese > texts.len() {
        Language::Chinese
    } else {
        Language::Other
    }
}

/// Term statistics per class (each theme, then the unclustered items): for each term, its
/// count and the number of members containing it; and the same over all classes.
struct TermCounts {
    counts: Vec<HashMap<u64, (u32, u32)>>,
    total_freq: HashMap<u64, u64>,
    /// Items containing each term, over all classes.
    total_df: HashMap<u64, u64>,
    n_items: f64,
    avg_words: f64,
}

impl TermCounts {
    fn of(texts: &[&str], members: &[Vec<usize>]) -> Self {
        let counts: Vec<HashMap<u64, (u32, u32)>> = members
            .par_iter()
            .map(|m| {
                let mut map: HashMap<u64, (u32, u32)> = HashMap::new();
                let mut seen = HashSet::new();
                for &i in m {
                    seen.clear();
                    for_each_candidate(texts[i], |h, _| {
                        let e = map.entry(h).or_default();
                        e.0 += 1;
                        if seen.insert(h) {
                            e.1 += 1;
                        }
                    });
                }
                map
            })
            .collect();
        let mut total_freq: HashMap<u64, u64> = HashMap::with_capacity(counts[0].len() * 2);
        let mut total_df: HashMap<u64, u64> = HashMap::with_capacity(counts[0].len() * 2);
        let mut total_words = 0u64;
        for map in &counts {
            for (&h, &(tf, df)) in map {
                *total_freq.entry(h).or_default() += tf as u64;
                *total_df.entry(h).or_default() += df as u64;
                total_words += tf as u64;
            }
        }
        let classes_present = members.iter().filter(|m| !m.is_empty()).count().max(1);
        Self {
            counts,
            total_freq,
            total_df,
            n_items: texts.len().max(1) as f64,
            avg_words: total_words as f64 / classes_present as f64,
        }
    }

    /// The pool of class `c` (of `m` members) for the MMR step, as (term, c-TF-IDF,
    /// distinctiveness), best first, at most `limit`: terms typical of the theme's text
    /// (c-TF-IDF) and found in many of its members but few others (distinctiveness), equally
    /// weighted.
    fn scored(&self, c: usize, m: usize, limit: usize) -> Vec<(u64, f32, f32)> {
        let map = &self.counts[c];
        let class_words: u64 = map.values().map(|v| v.0 as u64).sum();
        if class_words == 0 {
            return Vec::new();
        }
        let min_df = if m >= 3 { 2 } else { 1 };
        let m = m as f64;
        let rest = (self.n_items - m).max(1.0);
        let big_theme = m / self.n_items >= COMMON_SHARE;
        let mut scored: Vec<(u64, f32, f32)> = map
            .iter()
            .filter(|(h, v)| {
                v.1 >= min_df
                    && (big_theme || self.total_df[h] as f64 / self.n_items <= COMMON_SHARE)
            })
            .map(|(&h, &(tf, df))| {
                let idf = (1.0 + self.avg_words / self.total_freq[&h] as f64).ln();
                let distinct = df as f64 / m - (self.total_df[&h] - df as u64) as f64 / rest;
                (
                    h,
                    (tf as f64 / class_words as f64 * idf) as f32,
                    distinct as f32,
                )
            })
            .collect();
        let max_tfidf = scored.iter().map(|s| s.1).fold(f32::MIN_POSITIVE, f32::max);
        let pool_score = |s: &(u64, f32, f32)| s.1 / max_tfidf + s.2;
        scored.sort_by(|a, b| pool_score(b).total_cmp(&pool_score(a)).then(a.0.cmp(&b.0)));
        // Single words outscore the phrases that contain them on counts alone: half of the pool
        // is kept for phrases of several words, which the embedding step may then prefer.
        let (multi, single): (Vec<_>, Vec<_>) =
            scored.into_iter().partition(|s| is_multi_word(s.0));
        let mut scored: Vec<(u64, f32, f32)> = Vec::with_capacity(limit);
        let (mut m, mut s) = (multi.into_iter().peekable(), single.into_iter().peekable());
        while scored.len() < limit && (m.peek().is_some() || s.peek().is_some()) {
            for next in [m.next(), s.next()].into_iter().flatten() {
                if scored.len() < limit {
                    scored.push(next);
                }
            }
        }
        scored
    }
}

/// The scored terms of one theme as candidates: each with its most frequent surface form, the
/// members holding it and a model-free phrase vector (the mean of those members' vectors).
fn candidates(
    scored: &[(u64, f32, f32)],
    members: &[usize],
    texts: &[&str],
    vectors: &[&[f32]],
    dim: usize,
) -> Vec<Candidate> {
    let wanted: HashMap<u64, usize> = scored.iter().enumerate().map(|(k, s)| (s.0, k)).collect();
    let mut surfaces: Vec<HashMap<String, u32>> = vec![HashMap::new(); scored.len()];
    let mut sums = vec![vec![0.0f32; dim]; scored.len()];
    let mut holders: Vec<Vec<u32>> = vec![Vec::new(); scored.len()];
    let mut seen = HashSet::new();
    for (pos, &i) in members.iter().enumerate() {
        seen.clear();
        for_each_candidate(texts[i], |h, surface| {
            if let Some(&k) = wanted.get(&h) {
                *surfaces[k].entry(surface.to_string()).or_default() += 1;
                if seen.insert(h) {
                    holders[k].push(pos as u32);
                    sums[k]
                        .iter_mut()
                        .zip(vectors[i])
                        .for_each(|(a, b)| *a += b);
                }
            }
        });
    }
    scored
        .iter()
        .zip(surfaces)
        .zip(sums)
        .zip(holders)
        .map(
            |(((&(hash, ctfidf, distinct), surf), mut vector), holders)| {
                normalize(&mut vector);
                let count = surf.values().sum();
                let surface = surf
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                    .map(|s| s.0)
                    .unwrap_or_default();
                Candidate {
                    hash,
                    ctfidf,
                    distinct,
                    holders,
                    count,
                    surface,
                    vector,
                }
            },
        )
        .collect()
}

/// A word found in most of the corpus names no theme, inside a phrase either ("Beijing
/// Construction" in a corpus about Beijing): such phrases leave the pool, unless nothing else
/// is left for the theme.
fn drop_common_words(cands: &mut [Vec<Candidate>], texts: &[&str]) {
    let common = common_stems(texts);
    for cs in cands {
        let keep: Vec<bool> = cs
            .iter()
            .map(|c| !stems(&c.surface).iter().any(|w| common.contains(w)))
            .collect();
        if keep.iter().any(|&k| k) {
            let mut k = keep.into_iter();
            cs.retain(|_| k.next().unwrap_or(true));
        }
    }
}

/// Drops a phrase that the theme's members mostly write inside a longer candidate: "alkali"
/// and "metals" when at least half of their occurrences are in "alkali metals". The longer
/// phrase is what the members say; its parts would otherwise outscore it on counts and then
/// shut it out as their duplicate.
fn drop_subsumed(cs: &mut Vec<Candidate>) {
    let stem_sets: Vec<Vec<String>> = cs.iter().map(|c| stems(&c.surface)).collect();
    let inside =
        |a: &[String], b: &[String]| a.len() < b.len() && b.windows(a.len()).any(|w| w == a);
    let subsumed: Vec<bool> = (0..cs.len())
        .map(|a| {
            (0..cs.len()).any(|b| {
                inside(&stem_sets[a], &stem_sets[b]) && 2 * cs[b].count >= cs[a].count.max(1)
            })
        })
        .collect();
    let mut k = subsumed.into_iter();
    cs.retain(|_| !k.next().unwrap_or(false));
}

/// Replaces the model-free phrase vectors with the model's embeddings of the phrases.
fn embed_phrases(cands: &mut [Vec<Candidate>], e: &dyn Embedder) -> Result<(), EmbedError> {
    let phrases: Vec<String> = cands
        .iter()
        .flat_map(|cs| cs.iter().map(|c| c.surface.to_lowercase()))
        .collect();
    let refs: Vec<&str> = phrases.iter().map(String::as_str).collect();
    let embedded = e.embed(&refs)?;
    if embedded.len() != phrases.len() {
        return Err(EmbedError::Service(format!(
            "{} vectors for {} phrases",
            embedded.len(),
            phrases.len()
        )));
    }
    let mut it = embedded.into_iter();
    for c in cands.iter_mut().flatten() {
        if let Some(emb) = it.next() {
            let mut v = emb.vector;
            normalize(&mut v);
            c.vector = v;
        }
    }
    Ok(())
}

/// MMR ranking of one theme's candidates; returns the chosen phrases in rank order.
fn mmr_rank(cs: &[Candidate], centroid: &[f32], params: &LabelParams, limit: usize) -> Vec<usize> {
    if cs.is_empty() {
        return Vec::new();
    }
    let max_tfidf = cs
        .iter()
        .map(|c| c.ctfidf)
        .fold(f32::MIN_POSITIVE, f32::max);
    let sims: Vec<f32> = cs.iter().map(|c| dot(&c.vector, centroid)).collect();
    // Relevance blends how typical the phrase is in the text (c-TF-IDF), how close its
    // meaning is to the theme's (embedding similarity) and how many of the theme's members but
    // few others contain it (distinctiveness).
    let relevance: Vec<f32> = cs
        .iter()
        .zip(&sims)
        .map(|(c, s)| {
            let w = params.similarity_weight;
            (c.ctfidf / max_tfidf + w * s + c.distinct) / (2.0 + w)
        })
        .collect();
    let stem_sets: Vec<Vec<String>> = cs.iter().map(|c| stems(&c.surface)).collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < limit {
        let mut best: Option<(usize, f32)> = None;
        for i in 0..cs.len() {
            if chosen.contains(&i) || cs[i].surface.is_empty() {
                continue;
            }
            if chosen
                .iter()
                .any(|&j| duplicates(&stem_sets[i], &stem_sets[j]))
            {
                continue;
            }
            let redundancy = chosen
                .iter()
                .map(|&j| dot(&cs[i].vector, &cs[j].vector))
                .fold(0.0f32, f32::max);
            let score = params.mmr_lambda * relevance[i] - (1.0 - params.mmr_lambda) * redundancy;
            if best.is_none_or(|(b, bs)| score > bs || (score == bs && cs[i].hash < cs[b].hash)) {
                best = Some((i, score));
            }
        }
        match best {
            Some((i, _)) => chosen.push(i),
            None => break,
        }
    }
    chosen
}

fn mmr_labels(
    cs: &[Candidate],
    centroid: &[f32],
    members: usize,
    home: Option<&str>,
    params: &LabelParams,
    rules: &TitleRules,
) -> ThemeLabel {
    // Greedy MMR ranks a prefix the same whatever the limit: one wide ranking serves the
    // keyphrases and the title, which may come from further down when no keyphrase is
    // supported by half of the members.
    let wider = mmr_rank(cs, centroid, params, params.candidates);
    let phrases: Vec<TitlePhrase> = wider
        .iter()
        .map(|&i| (cs[i].surface.as_str(), cs[i].holders.as_slice()))
        .collect();
    ThemeLabel {
        title: home_title(&phrases, home, members, &HashSet::new(), rules)
            .or_else(|| make_title(&phrases, members, &HashSet::new(), rules))
            .unwrap_or_default(),
        keyphrases: pick_keyphrases(&phrases, members, params.keyphrases, rules),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two themes of Chinese texts, model-free vectors (a one-hot per theme): each titled by
    /// the term its members repeat, whole, in Chinese.
    #[test]
    fn a_chinese_corpus_gets_chinese_titles_of_whole_terms() {
        let texts = [
            "北京市推动行业协会参与民间外交。",
            "行业协会组织企业赴非洲开展合作。",
            "多家行业协会与国外同行签署协议。",
            "行业协会举办国际论坛，交流经验。",
            "社区开展垃圾分类宣传活动。",
            "学校组织学生学习垃圾分类知识。",
            "垃圾分类设施在街道全面铺开。",
            "志愿者指导居民进行垃圾分类。",
        ];
        let v0 = [1.0f32, 0.0];
        let v1 = [0.0f32, 1.0];
        let vectors: Vec<&[f32]> = (0..8)
            .map(|i| if i < 4 { &v0[..] } else { &v1[..] })
            .collect();
        let class: Vec<Option<usize>> = (0..8).map(|i| Some(i / 4)).collect();
        let params = LabelParams {
            keyphrases: 3,
            candidates: 40,
            mmr_lambda: 0.6,
            similarity_weight: 3.0,
            title_share: 1.0 / 3.0,
            name_share: 1.0 / 3.0,
        };
        let labels = label_themes(
            &texts,
            &vectors,
            &class,
            &[v0.to_vec(), v1.to_vec()],
            &[None, None],
            None,
            &params,
        )
        .unwrap();
        assert_eq!(labels[0].title, "行业协会", "{labels:?}");
        assert_eq!(labels[1].title, "垃圾分类", "{labels:?}");
    }
}
