//! Label candidates: the noun phrases of a text ([`crate::text::phrases`]) that start and end
//! with a word that names something, Chinese runs by their substrings, each with a stable hash;
//! and how two phrases are compared (plural-folded words, Chinese character bigrams).

use std::collections::{HashMap, HashSet};

use super::COMMON_SHARE;
use crate::text::cjk::{self, is_cjk};
use crate::text::phrases::{self, Word};

/// A word usable in a keyphrase: not a stopword, has a letter, at least two characters.
pub(super) fn is_content(lower: &str) -> bool {
    lower.chars().count() >= 2
        && lower.chars().any(char::is_alphabetic)
        && !crate::text::is_stopword_lower(lower)
}

/// Words that describe what any text does rather than what it is about: the verbs and generic
/// nouns of product and report prose ("Files and Allows", "Application and Support" were
/// titles over Debian's package descriptions). They may sit inside a phrase ("network tool
/// kit" is not "tool"), never start or end one.
pub(super) const GENERIC_WORDS: &[&str] = &[
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
pub(super) const MARKUP_WORDS: &[&str] = &[
    "amp", "apos", "br", "div", "gt", "hellip", "href", "http", "https", "laquo", "ldquo", "lsquo",
    "lt", "mdash", "nbsp", "ndash", "quot", "raquo", "rdquo", "rsquo", "www",
];

/// A word that may start or end a keyphrase or title: content, and neither generic nor markup.
pub(super) fn is_label_word(lower: &str) -> bool {
    is_content(lower) && !GENERIC_WORDS.contains(&lower) && !MARKUP_WORDS.contains(&lower)
}

/// FNV-1a: a stable 64-bit hash of a phrase's lower-case words (deterministic across runs and
/// platforms), whose top bit says whether the phrase has more than one word.
pub(super) fn fnv(words: &[Word]) -> u64 {
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
pub(super) fn is_multi_word(hash: u64) -> bool {
    hash >> 63 == 1
}

/// Calls `f(hash, surface)` for every candidate of `text`: a noun phrase
/// ([`phrases::for_each_phrase`]) that starts and ends with a label word ([`is_label_word`]);
/// `surface` is the phrase as the text writes it (spaces folded).
pub(super) fn for_each_candidate(text: &str, mut f: impl FnMut(u64, &str)) {
    let mut surface = String::new();
    for seg in phrases::segments(text) {
        for w in seg.iter().filter(|w| w.lower.chars().any(is_cjk)) {
            for (run, chinese) in cjk::script_runs(&text[w.start..w.end]) {
                if chinese {
                    for_each_cjk_candidate(run, &mut f);
                }
            }
        }
        phrases::for_each_phrase(&seg, |p| {
            if p.iter().any(|w| w.lower.chars().any(is_cjk)) {
                return;
            }
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

/// Longest Chinese candidate, in characters (most Chinese terms have two to four; names of
/// organisations run longer and are found by their parts).
pub(super) const MAX_CJK_CHARS: usize = 6;

/// Characters that never start or end a Chinese candidate: particles, conjunctions,
/// prepositions, pronouns, adverbs and measure words (`的`, `和`, `在`, `这`, `个`).
pub(super) const CJK_FUNCTION_CHARS: &str =
    "的了和与及或在是为对将并也于之其等从到把被由向以而且就都又这那个们着过地得所该各每我你他她它一有不已还更最很让据如若则即乃此些";

/// Calls `f(hash, surface)` for every candidate of a run of Chinese characters: each substring
/// of 2 to [`MAX_CJK_CHARS`] characters that neither starts nor ends with a function character.
/// One of three or more characters counts as a phrase of several words ([`is_multi_word`]).
pub(super) fn for_each_cjk_candidate(run: &str, f: &mut impl FnMut(u64, &str)) {
    let bounds: Vec<usize> = run
        .char_indices()
        .map(|(i, _)| i)
        .chain([run.len()])
        .collect();
    let chars: Vec<char> = run.chars().collect();
    let free = |c: char| !CJK_FUNCTION_CHARS.contains(c);
    for start in 0..chars.len() {
        if !free(chars[start]) {
            continue;
        }
        for len in 2..=MAX_CJK_CHARS.min(chars.len() - start) {
            if free(chars[start + len - 1]) {
                let gram = &run[bounds[start]..bounds[start + len]];
                f(fnv_str(gram, len >= 3), gram);
            }
        }
    }
}

/// [`fnv`] of one string, the top bit set when `multi`.
pub(super) fn fnv_str(s: &str, multi: bool) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 1) | ((multi as u64) << 63)
}

/// Plural-folded word, for telling duplicates apart.
pub(super) fn stem(w: &str) -> String {
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
pub(super) fn common_stems(texts: &[&str]) -> HashSet<String> {
    let mut df: HashMap<String, usize> = HashMap::new();
    for t in texts {
        let words: HashSet<String> = phrases::segments(t)
            .into_iter()
            .flatten()
            .flat_map(|w| stems(&w.lower))
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

/// The units a phrase is compared by: its plural-folded words, and for a run of Chinese its
/// character bigrams (`行业协会`: `行业`, `业协`, `协会`), so that one phrase inside another is
/// a run of these units inside the other's.
pub(super) fn stems(phrase: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in phrase.split_whitespace() {
        if !word.chars().any(is_cjk) {
            out.push(stem(word));
            continue;
        }
        for (run, chinese) in cjk::script_runs(word) {
            if chinese {
                out.extend(cjk::bigrams(run).map(str::to_string));
            } else if run.chars().any(char::is_alphanumeric) {
                out.push(stem(run));
            }
        }
    }
    out
}

/// Duplicate phrases: one's words (plural-folded) contained in the other's.
pub(super) fn duplicates(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.iter().all(|w| long.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn chinese_candidates_are_substrings_between_function_characters() {
        let c = candidates_of("北京民间外交，在京全国性行业协会商会的发展");
        for want in ["民间外交", "行业协会", "协会商会", "北京"] {
            assert!(c.iter().any(|x| x == want), "{want} not in {c:?}");
        }
        // Nothing starts or ends on a function character, nothing crosses punctuation or
        // is longer than MAX_CJK_CHARS.
        assert!(
            !c.iter().any(|x| x.starts_with('在') || x.ends_with('的')),
            "{c:?}"
        );
        assert!(!c.iter().any(|x| x.contains('，')), "{c:?}");
        assert!(
            c.iter().all(|x| x.chars().count() <= MAX_CJK_CHARS),
            "{c:?}"
        );
        // Mixed text: the English phrase as before, the Chinese run by its substrings.
        let m = candidates_of("CANGO organised rural clinics 民间论坛");
        assert!(m.iter().any(|x| x == "rural clinics"), "{m:?}");
        assert!(m.iter().any(|x| x == "民间论坛"), "{m:?}");
        assert!(!m.iter().any(|x| x.contains("clinics 民")), "{m:?}");
    }

    #[test]
    fn chinese_phrases_compare_by_bigrams() {
        assert_eq!(stems("行业协会"), ["行业", "业协", "协会"]);
        assert!(duplicates(&stems("行业协会"), &stems("行业协会商会")));
        assert!(!duplicates(&stems("民间外交"), &stems("行业协会")));
        assert_eq!(stems("CANGO的项目"), ["cango", "的项", "项目"]);
    }
}
