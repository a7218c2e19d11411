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

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::embed::{dot, normalize, EmbedError, Embedder};
use crate::text::phrases::{self, Word};

/// The stop words labels leave out (kept here for callers of the old path).
pub use crate::text::is_stopword;

/// A word usable in a keyphrase: not a stopword, has a letter, at least two characters.
fn is_content(lower: &str) -> bool {
    lower.chars().count() >= 2
        && lower.chars().any(char::is_alphabetic)
        && !crate::text::is_stopword_lower(lower)
}

/// Words that describe what any text does rather than what it is about: the verbs and generic
/// nouns of product and report prose ("Files and Allows", "Application and Support" were
/// titles over Debian's package descriptions). They may sit inside a phrase ("network tool
/// kit" is not "tool"), never start or end one.
const GENERIC_WORDS: &[&str] = &[
    "allow",
    "allowed",
    "allowing",
    "allows",
    "application",
    "applications",
    "based",
    "can",
    "contain",
    "contained",
    "containing",
    "contains",
    "easy",
    "enable",
    "enabled",
    "enables",
    "enabling",
    "etc",
    "feature",
    "featured",
    "features",
    "helps",
    "include",
    "included",
    "includes",
    "including",
    "let",
    "lets",
    "makes",
    "offer",
    "offered",
    "offers",
    "program",
    "programs",
    "provide",
    "provided",
    "provides",
    "providing",
    "simple",
    "software",
    "support",
    "supported",
    "supporting",
    "supports",
    "tool",
    "tools",
    "use",
    "used",
    "useful",
    "uses",
    "utility",
    "various",
];

/// Names of HTML character references and tags: what is left of markup that reached the text
/// undecoded (`&apos;` read as the word "apos").
const MARKUP_WORDS: &[&str] = &[
    "amp", "apos", "br", "div", "gt", "hellip", "href", "http", "https", "laquo", "ldquo", "lsquo",
    "lt", "mdash", "nbsp", "ndash", "quot", "raquo", "rdquo", "rsquo", "www",
];

/// A word that may start or end a keyphrase or title: content, and neither generic nor markup.
fn is_label_word(lower: &str) -> bool {
    is_content(lower) && !GENERIC_WORDS.contains(&lower) && !MARKUP_WORDS.contains(&lower)
}

/// Adjectives of report and product prose that qualify a topic without naming one: fine inside
/// a phrase ("local workers"), not as a title word of their own ("Investment and Foreign").
const QUALIFIERS: &[&str] = &[
    "active",
    "additional",
    "advanced",
    "complete",
    "cultural",
    "different",
    "economic",
    "fast",
    "foreign",
    "global",
    "graphical",
    "high",
    "important",
    "interactive",
    "international",
    "large",
    "lightweight",
    "local",
    "main",
    "major",
    "modern",
    "multiple",
    "national",
    "overseas",
    "personal",
    "powerful",
    "small",
    "social",
    "specific",
];

/// Whether a single word can be (half of) a title: not a qualifier, and not a past participle
/// (`trained`, `organized`: a verb form, though `speed` and `seed` are nouns).
fn stands_alone(word: &str) -> bool {
    let lower = word.to_lowercase();
    let participle = lower.len() > 5 && lower.ends_with("ed") && !lower.ends_with("eed");
    !QUALIFIERS.contains(&lower.as_str()) && !participle
}

/// FNV-1a: a stable 64-bit hash of a phrase's lower-case words (deterministic across runs and
/// platforms), whose top bit says whether the phrase has more than one word.
fn fnv(words: &[Word]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, w) in words.iter().enumerate() {
        if k > 0 {
            h ^= b' ' as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in w.lower.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let multi = (words.len() > 1) as u64;
    (h >> 1) | (multi << 63)
}

/// Whether a candidate's hash ([`fnv`]) is that of a phrase of several words.
fn is_multi_word(hash: u64) -> bool {
    hash >> 63 == 1
}

/// Calls `f(hash, surface)` for every candidate of `text`: a noun phrase
/// ([`phrases::for_each_phrase`]) that starts and ends with a label word ([`is_label_word`]);
/// `surface` is the phrase as the text writes it (spaces folded).
fn for_each_candidate(text: &str, mut f: impl FnMut(u64, &str)) {
    let mut surface = String::new();
    for seg in phrases::segments(text) {
        phrases::for_each_phrase(&seg, |p| {
            let (first, last) = (&p[0], &p[p.len() - 1]);
            if !is_label_word(first.lower.trim_end_matches("'s")) || !is_label_word(&last.lower) {
                return;
            }
            surface.clear();
            for part in text[first.start..last.end].split_whitespace() {
                if !surface.is_empty() {
                    surface.push(' ');
                }
                surface.push_str(part);
            }
            f(fnv(p), &surface);
        });
    }
}

/// Plural-folded word, for telling duplicates apart.
fn stem(w: &str) -> String {
    let w = w.to_lowercase().replace('\u{2019}', "'");
    let w = w.strip_suffix("'s").map(str::to_string).unwrap_or(w);
    if let Some(x) = w.strip_suffix("ies").filter(|x| x.len() > 2) {
        return format!("{x}y");
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..w.len() - 1].to_string();
    }
    w
}

/// Plural-folded words found in more than [`COMMON_SHARE`] of the texts.
fn common_stems(texts: &[&str]) -> HashSet<String> {
    let mut df: HashMap<String, usize> = HashMap::new();
    for t in texts {
        let words: HashSet<String> = phrases::segments(t)
            .into_iter()
            .flatten()
            .map(|w| stem(&w.lower))
            .collect();
        for w in words {
            *df.entry(w).or_default() += 1;
        }
    }
    let n = texts.len().max(1) as f64;
    df.into_iter()
        .filter(|(_, d)| *d as f64 / n > COMMON_SHARE)
        .map(|(w, _)| w)
        .collect()
}

fn stems(phrase: &str) -> Vec<String> {
    phrase.split_whitespace().map(stem).collect()
}

/// Duplicate phrases: one's words (plural-folded) contained in the other's.
fn duplicates(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.iter().all(|w| long.contains(w))
}

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
    fn rules(&self) -> TitleRules {
        TitleRules {
            title_share: self.title_share,
            name_share: self.name_share,
        }
    }
}

/// Who may be a title: the shares of a theme's members that must contain a phrase, and a name.
struct TitleRules {
    title_share: f32,
    name_share: f32,
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
    let mut labels: Vec<ThemeLabel> = cands
        .iter()
        .zip(centroids)
        .zip(&sizes)
        .map(|((cs, centroid), &m)| mmr_labels(cs, centroid, m, params))
        .collect();
    dedupe_titles(&mut labels, &cands, centroids, &sizes, params);
    Ok(labels)
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
    params: &LabelParams,
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
        title: make_title(&phrases, members, &HashSet::new(), &params.rules()).unwrap_or_default(),
        keyphrases: pick_keyphrases(&phrases, members, params.keyphrases, &params.rules()),
    }
}

/// The first `limit` of `phrases` (best first) under the title's rules ([`is_topical`]); the
/// phrases that break them only fill a short list.
fn pick_keyphrases(
    phrases: &[TitlePhrase],
    members: usize,
    limit: usize,
    rules: &TitleRules,
) -> Vec<String> {
    let (topical, other): (Vec<&TitlePhrase>, Vec<&TitlePhrase>) =
        phrases.iter().partition(|k| is_topical(k, members, rules));
    topical
        .into_iter()
        .chain(other)
        .take(limit)
        .map(|k| k.0.to_string())
        .collect()
}

/// A phrase offered as (part of) a title, with the member positions that contain it.
type TitlePhrase<'a> = (&'a str, &'a [u32]);

/// A phrase whose every word is capitalised where the members write it: a name (an
/// organisation, a place, a product), which says who or where, not what a theme is about.
fn is_proper_name(surface: &str) -> bool {
    surface
        .split_whitespace()
        .all(|w| w.chars().next().is_some_and(char::is_uppercase))
}

/// The title of a theme from `phrases` (best first; see [`title_from`]). Single words that
/// only qualify ([`stands_alone`]) are left out, and names
/// ("Construction Engineering Group", "China and Association") take part only when every
/// member mentions them, or when the theme offers nothing else: a reader wants the category,
/// and a name in a pair would name one member's organisation as much as a topic.
fn make_title(
    phrases: &[TitlePhrase],
    members: usize,
    taken: &HashSet<String>,
    rules: &TitleRules,
) -> Option<String> {
    let topical: Vec<TitlePhrase> = phrases
        .iter()
        .filter(|k| is_topical(k, members, rules))
        .copied()
        .collect();
    title_from(&topical, members, taken, rules)
        .or_else(|| title_from(phrases, members, taken, rules))
}

/// Whether a phrase names what a theme of `members` items is about: not a name that only some
/// members mention, not a lone qualifier or participle.
fn is_topical(k: &TitlePhrase, members: usize, rules: &TitleRules) -> bool {
    let one_word = !k.0.contains(char::is_whitespace);
    (!is_proper_name(k.0) || k.1.len() as f32 >= rules.name_share * members as f32)
        && (!one_word || stands_alone(k.0))
}

/// The title from `phrases` (best first): the best phrase that at least half of the theme's
/// `members` contain, else the best phrase; one noun phrase as the members write it, never two
/// words joined by "and". Titles in `taken` are not used again.
fn title_from(
    phrases: &[TitlePhrase],
    members: usize,
    taken: &HashSet<String>,
    rules: &TitleRules,
) -> Option<String> {
    let free = |t: &String| !taken.contains(&t.to_lowercase());
    let enough = |n: usize| n as f32 >= rules.title_share * members as f32;
    phrases
        .iter()
        .filter(|k| enough(k.1.len()))
        .chain(phrases)
        .map(|k| sentence_case(k.0))
        .find(free)
}

/// A phrase as a title: its first letter upper case, the rest as the members write it (names
/// and acronyms keep their case).
fn sentence_case(phrase: &str) -> String {
    let mut cs = phrase.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

/// Two themes never share a title: a later (smaller) theme takes its next best phrase.
fn dedupe_titles(
    labels: &mut [ThemeLabel],
    cands: &[Vec<Candidate>],
    centroids: &[Vec<f32>],
    sizes: &[usize],
    params: &LabelParams,
) {
    let mut taken: HashSet<String> = HashSet::new();
    for (k, label) in labels.iter_mut().enumerate() {
        if label.title.is_empty() || taken.contains(&label.title.to_lowercase()) {
            let wider = mmr_rank(&cands[k], &centroids[k], params, params.candidates);
            let phrases: Vec<TitlePhrase> = wider
                .iter()
                .map(|&i| (cands[k][i].surface.as_str(), cands[k][i].holders.as_slice()))
                .collect();
            label.title =
                make_title(&phrases, sizes[k], &taken, &params.rules()).unwrap_or_default();
        }
        if !label.title.is_empty() {
            taken.insert(label.title.to_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules these tests were written for: a title in half the members, a name in all.
    const HALF: TitleRules = TitleRules {
        title_share: 0.5,
        name_share: 1.0,
    };

    fn candidates_of(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_candidate(text, |_, surface| out.push(surface.to_string()));
        out
    }

    #[test]
    fn candidates_are_noun_phrases_without_stopwords_numbers_or_punctuation() {
        let grams = candidates_of("Training of local workers, in 2022: the workforce's skills.");
        assert_eq!(
            grams,
            [
                "Training",
                "Training of local workers",
                "local workers",
                "workers",
                "workforce's skills",
                "skills"
            ]
        );
    }

    #[test]
    fn alkali_metals_are_one_candidate_and_keep_their_hash_in_any_case() {
        let mut found = Vec::new();
        for_each_candidate("Alkali metals and the alkali metals.", |h, s| {
            found.push((h, s.to_string()))
        });
        let metals: Vec<&(u64, String)> = found
            .iter()
            .filter(|(_, s)| s.eq_ignore_ascii_case("alkali metals"))
            .collect();
        assert_eq!(metals.len(), 2, "{found:?}");
        assert_eq!(metals[0].0, metals[1].0);
        assert!(found.iter().all(|(_, s)| !s.contains("and")), "{found:?}");
    }

    #[test]
    fn duplicates_fold_plurals_and_sub_phrases() {
        assert!(duplicates(&stems("local workers"), &stems("worker")));
        assert!(duplicates(&stems("Local Worker"), &stems("local workers")));
        assert!(!duplicates(
            &stems("local workers"),
            &stems("workforce training")
        ));
    }

    #[test]
    fn titles_are_one_phrase_never_two_words_joined_by_and() {
        let none = HashSet::new();
        let all: &[u32] = &[0, 1, 2, 3];
        assert_eq!(
            make_title(
                &[("local workforce", all), ("training", all)],
                4,
                &none,
                &HALF
            )
            .unwrap(),
            "Local workforce"
        );
        assert_eq!(
            make_title(&[("alkali", all), ("metals", all)], 4, &none, &HALF).unwrap(),
            "Alkali"
        );
        assert_eq!(
            make_title(&[("WIPO rules", all)], 4, &none, &HALF).unwrap(),
            "WIPO rules"
        );
        let taken: HashSet<String> = ["alkali".to_string()].into();
        assert_eq!(
            make_title(&[("alkali", all), ("metals", all)], 4, &taken, &HALF).unwrap(),
            "Metals"
        );
    }

    #[test]
    fn generic_words_and_markup_remnants_never_start_or_end_a_phrase() {
        let grams: Vec<String> = candidates_of(
            "The game&apos;s tool allows players to use a network tool kit and features.",
        )
        .iter()
        .map(|g| g.to_lowercase())
        .collect();
        for g in &grams {
            let words: Vec<&str> = g.split(' ').collect();
            for edge in [words[0], words[words.len() - 1]] {
                assert!(is_label_word(edge), "{g:?} in {grams:?}");
            }
        }
        for gone in ["apos", "tool", "allows", "use", "support", "features"] {
            assert!(!grams.iter().any(|g| g == gone), "{gone} in {grams:?}");
        }
        // Inside a phrase a generic word is fine: it is part of a name for a thing.
        assert!(grams.iter().any(|g| g == "network tool kit"), "{grams:?}");
        assert!(grams.iter().any(|g| g == "players"), "{grams:?}");
    }

    #[test]
    fn names_are_in_titles_only_when_every_member_mentions_them() {
        let none = HashSet::new();
        let phrases: &[TitlePhrase] = &[
            ("Construction Engineering Group", &[0, 1, 2]),
            ("China", &[0, 1, 2]),
            ("vocational training", &[0, 1, 3]),
        ];
        assert_eq!(
            make_title(phrases, 4, &none, &HALF).unwrap(),
            "Vocational training"
        );
        let everywhere: &[TitlePhrase] = &[
            ("Construction Engineering Group", &[0, 1, 2, 3]),
            ("vocational training", &[0, 1, 3]),
        ];
        assert_eq!(
            make_title(everywhere, 4, &none, &HALF).unwrap(),
            "Construction Engineering Group"
        );
        // Nor does a name pair with a topic word: the topic stands alone.
        let pair: &[TitlePhrase] = &[("PostgreSQL", &[0, 1]), ("database", &[2, 3])];
        assert_eq!(make_title(pair, 4, &none, &HALF).unwrap(), "Database");
        // Names are all a theme offers: still better than no title.
        let names: &[TitlePhrase] = &[("Kenya", &[0, 1])];
        assert_eq!(make_title(names, 4, &none, &HALF).unwrap(), "Kenya");
    }

    #[test]
    fn qualifiers_and_participles_are_no_title_words_of_their_own() {
        let none = HashSet::new();
        let all: &[u32] = &[0, 1, 2, 3];
        let phrases: &[TitlePhrase] = &[
            ("foreign", all),
            ("trained", all),
            ("investment", all),
            ("local workers", &[0]),
            ("trade", all),
        ];
        assert_eq!(make_title(phrases, 4, &none, &HALF).unwrap(), "Investment");
        // Inside a phrase they qualify a noun.
        let phrases: &[TitlePhrase] = &[("foreign", all), ("local workers", all)];
        assert_eq!(
            make_title(phrases, 4, &none, &HALF).unwrap(),
            "Local workers"
        );
        assert!(stands_alone("speed") && stands_alone("training") && !stands_alone("Organized"));
    }

    #[test]
    fn keyphrases_put_topics_before_names_and_qualifiers() {
        let ranked: &[TitlePhrase] = &[
            ("Kenya", &[0, 1]),
            ("CANGO", &[0, 1, 2]),
            ("rural clinics", &[0, 2]),
            ("international", &[0, 1, 2]),
            ("nurses", &[1, 2]),
        ];
        // "CANGO" is in every member and may stay; "Kenya" (two of three) and the lone
        // qualifier only fill the list after the topics.
        assert_eq!(
            pick_keyphrases(ranked, 3, 3, &HALF),
            ["CANGO", "rural clinics", "nurses"]
        );
        assert_eq!(
            pick_keyphrases(ranked, 3, 5, &HALF),
            ["CANGO", "rural clinics", "nurses", "Kenya", "international"]
        );
        assert_eq!(pick_keyphrases(&ranked[..1], 3, 3, &HALF), ["Kenya"]);
    }

    #[test]
    fn titles_are_supported_by_half_the_members() {
        let none = HashSet::new();
        // The best phrase is in one member of four, the next in two.
        let phrases: &[TitlePhrase] = &[
            ("rare phrase", &[0]),
            ("beijing", &[0]),
            ("welding", &[1, 2]),
            ("masonry", &[2, 3]),
        ];
        assert_eq!(make_title(phrases, 4, &none, &HALF).unwrap(), "Welding");
        // None in half of them: the best phrase all the same.
        assert_eq!(
            make_title(&phrases[..2], 4, &none, &HALF).unwrap(),
            "Rare phrase"
        );
    }
}
