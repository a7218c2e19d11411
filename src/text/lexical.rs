//! Tokenising for the lexical (BM25) index: the one place that decides what a word is for
//! lexical search, so that stored items, queries and the `why` of a hit agree.
//!
//! A token is a run of letters and digits, joined across a single `-`, `.`, `_`, `&`, `/` or
//! `+` that has a letter or digit on both sides, so acronyms (`ADMS`), hyphenated names
//! (`WIPO-observer`, `Covid-19`), versions and numbers (`3.5`, `2,000` stays two tokens) and
//! `AT&T` stay whole. Terms are tokens in lower case with stop words left out; plain lower-case
//! or capitalised words are reduced by the Snowball English stemmer; words with digits and joined
//! tokens are kept as written; an acronym (two or more capitals) yields itself and its stem, so
//! that `ADMS` in a query matches `ADMS` on two terms (above a stray `adm`) and a lower-case
//! query `adms` still finds it. A joined token also yields its parts as terms, so
//! `WIPO observer` finds `WIPO-observer` and the other way round.
//!
//! Chinese (and Japanese) text has no spaces between words: a run of Han characters or kana
//! yields its overlapping character bigrams (`国际组织` is `国际`, `际组`, `组织`), and a run of
//! one character that character, as Lucene's CJK analyzer does. Bigrams need no dictionary and
//! measured better than a word segmenter on known-item search (BENCHMARKS.md, "Chinese lexical
//! tokens"). A run ends where the script changes, so `CANGO参加C20峰会` is `CANGO`, `参加`,
//! `C20`, `峰会`, and a mixed query finds both kinds of words. Full-width letters and digits
//! (`ＷＩＰＯ`, `２０２１`) give the terms of their ASCII forms. [`matches`] merges the
//! overlapping bigrams of one phrase into one range, so `why` shows `国际组织`, not three pieces.
//!
//! Query syntax of other engines (quotes, `*`, `NEAR`, `AND`, parentheses, a leading `-`) means
//! nothing here: those characters are not part of any token, and `NEAR`/`AND`/`OR`/`NOT` are
//! plain words (stop words, in fact).

use std::ops::Range;

use crate::text::cjk;

/// Version of the term rules; stores record it and re-derive terms when it changes.
pub const TOKENIZER_VERSION: u32 = 2;

/// Characters that join two letter-or-digit runs into one token.
const JOINERS: [char; 6] = ['-', '.', '_', '&', '/', '+'];

/// A token as found in a text: its byte range, and the index terms it yields (none for a stop
/// word; the whole token first, then its parts, for a joined one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub range: Range<usize>,
    pub terms: Vec<String>,
}

fn stem(word: &str) -> String {
    thread_local! {
        static STEMMER: rust_stemmers::Stemmer =
            rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    }
    STEMMER.with(|s| s.stem(word).into_owned())
}

/// The terms of one simple (unjoined) word: none for a stop word; the word as written (lower
/// case) for one with digits; the stem for an ordinary word; both for an acronym, so that
/// `ADMS` matches `ADMS` on two terms and a lower-case `adms` (stemmed like any word) on one.
fn word_terms(word: &str) -> Vec<String> {
    let folded: String;
    let word = if word.chars().any(|c| cjk::fold_width(c) != c) {
        folded = word.chars().map(cjk::fold_width).collect();
        &folded
    } else {
        word
    };
    let lower = word.to_lowercase();
    if crate::text::is_stopword_lower(&lower) {
        return Vec::new();
    }
    if word.chars().any(|c| c.is_numeric()) {
        return vec![lower];
    }
    let stemmed = stem(&lower);
    let acronym = word.chars().filter(|c| c.is_uppercase()).count() >= 2;
    if acronym && stemmed != lower {
        vec![lower, stemmed]
    } else {
        vec![stemmed]
    }
}

/// A letter or digit of a word written with spaces (not Chinese).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !cjk::is_cjk(c)
}

/// Byte ranges of the raw tokens of `text` (before stop words are dropped): words, and whole
/// runs of Chinese characters (which [`tokens`] cuts into bigrams).
fn token_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |j: usize| chars.get(j).map_or(text.len(), |c: &(usize, char)| c.0);
    let mut i = 0;
    while i < chars.len() {
        let start = chars[i].0;
        if cjk::is_cjk(chars[i].1) {
            let mut j = i + 1;
            while j < chars.len() && cjk::is_cjk(chars[j].1) {
                j += 1;
            }
            out.push(start..end_of(j));
            i = j;
            continue;
        }
        if !is_word_char(chars[i].1) {
            i += 1;
            continue;
        }
        let mut j = i;
        loop {
            while j < chars.len() && is_word_char(chars[j].1) {
                j += 1;
            }
            let joined = j + 1 < chars.len()
                && JOINERS.contains(&chars[j].1)
                && is_word_char(chars[j + 1].1);
            if !joined {
                break;
            }
            j += 1;
        }
        out.push(start..end_of(j));
        i = j;
    }
    out
}

/// The tokens of a run of Chinese characters at `range`: its overlapping bigrams, or the one
/// character of a run of one.
fn cjk_tokens(text: &str, range: Range<usize>) -> impl Iterator<Item = Token> + '_ {
    let run = &text[range.clone()];
    let base = run.as_ptr() as usize;
    cjk::bigrams(run).map(move |b| {
        let start = range.start + (b.as_ptr() as usize - base);
        Token {
            range: start..start + b.len(),
            terms: vec![b.to_string()],
        }
    })
}

/// The tokens of `text` with their terms, in order; stop words are kept (with no terms) so
/// that callers can see every word's place. The bigrams of a Chinese run overlap.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for range in token_ranges(text) {
        if text[range.clone()].starts_with(cjk::is_cjk) {
            out.extend(cjk_tokens(text, range));
        } else {
            out.push(word_token(text, range));
        }
    }
    out
}

/// The token of one word (simple or joined) at `range`.
fn word_token(text: &str, range: Range<usize>) -> Token {
    let word = &text[range.clone()];
    let parts: Vec<&str> = word.split(JOINERS).filter(|p| !p.is_empty()).collect();
    let terms = if parts.len() == 1 {
        word_terms(word)
    } else {
        let mut t = vec![word.to_lowercase()];
        for term in parts.into_iter().flat_map(word_terms) {
            if !t.contains(&term) {
                t.push(term);
            }
        }
        t
    };
    Token { range, terms }
}

/// The index terms of `text`, in order, repeats kept (their count is the term frequency).
pub fn terms(text: &str) -> Vec<String> {
    tokens(text).into_iter().flat_map(|t| t.terms).collect()
}

/// The distinct terms of a query, in order of first appearance.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in terms(query) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Where `text` contains any of `query_terms`: the byte range of each matching token and the
/// query terms it matched, in order. Matching tokens that overlap (the bigrams of one Chinese
/// phrase) come back as one range with the terms of all of them.
pub fn matches(text: &str, query_terms: &[String]) -> Vec<(Range<usize>, Vec<String>)> {
    let mut out: Vec<(Range<usize>, Vec<String>)> = Vec::new();
    for t in tokens(text) {
        let hit: Vec<String> = t
            .terms
            .iter()
            .filter(|term| query_terms.contains(term))
            .cloned()
            .collect();
        if hit.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((range, terms)) if t.range.start < range.end => {
                range.end = range.end.max(t.range.end);
                for h in hit {
                    if !terms.contains(&h) {
                        terms.push(h);
                    }
                }
            }
            _ => out.push((t.range, hit)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        token_ranges(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn acronyms_hyphenated_names_and_numbers_stay_whole() {
        assert_eq!(
            words("AT&T's 100,000 U.S. e-mail"),
            ["AT&T", "s", "100", "000", "U.S", "e-mail"]
        );
        assert_eq!(
            words("WIPO-observer, CANGO; 12.5.2023 (Covid-19) 3.5 GHz. end-"),
            [
                "WIPO-observer",
                "CANGO",
                "12.5.2023",
                "Covid-19",
                "3.5",
                "GHz",
                "end"
            ]
        );
        // An acronym is kept whole, with its stem beside it; ordinary words are stemmed.
        assert_eq!(terms("ADMS and the adms"), ["adms", "adm", "adm"]);
        assert_eq!(
            terms("CANGO organisations running"),
            ["cango", "organis", "run"]
        );
        assert_eq!(terms("WIPO-observer"), ["wipo-observer", "wipo", "observ"]);
    }

    #[test]
    fn query_syntax_of_other_engines_is_plain_words() {
        assert_eq!(
            query_terms(r#""school meals" AND child* NEAR(lunch) -free ((("#),
            ["school", "meal", "child", "lunch", "free"]
        );
        assert!(query_terms("*** \"\" () -- ...").is_empty());
        assert!(query_terms("the of and").is_empty());
    }

    /// What [`matches`] gives: byte ranges and the query terms found there.
    type Matches = Vec<(Range<usize>, Vec<String>)>;

    /// The query's matches in `text`: each as found, and as [`matches`] gives them.
    fn found<'t>(text: &'t str, query: &str) -> (Vec<&'t str>, Matches) {
        let m = matches(text, &query_terms(query));
        (m.iter().map(|(r, _)| &text[r.clone()]).collect(), m)
    }

    #[test]
    fn matches_report_byte_ranges_as_found() {
        let text = "Funding for the ADMS and school meals.";
        let (found, m) = found(text, "adms meal");
        assert_eq!(found, ["ADMS", "meals"]);
        assert_eq!(m[1].1, ["meal"]);
    }

    #[test]
    fn chinese_runs_give_bigrams_and_mixed_text_both_kinds_of_terms() {
        assert_eq!(terms("国际组织"), ["国际", "际组", "组织"]);
        assert_eq!(terms("会"), ["会"]);
        assert_eq!(
            terms("CANGO参加C20峰会，与WIPO合作。"),
            ["cango", "参加", "c20", "峰会", "与", "wipo", "合作"]
        );
        assert_eq!(
            query_terms("climate 气候变化 CANGO"),
            ["climat", "气候", "候变", "变化", "cango"]
        );
        // Full-width letters and digits give the terms of their ASCII forms.
        assert_eq!(terms("ＷＩＰＯ ２０２１年"), ["wipo", "2021", "年"]);
        // English text gives the terms it always gave.
        assert_eq!(terms("Organisations running"), ["organis", "run"]);
    }

    #[test]
    fn chinese_matches_are_merged_phrases_on_character_boundaries() {
        let text = "2021年，中国国际民间组织合作促进会（CANGO）参加了气候变化会议。";
        let (found, m) = found(text, "民间组织 cango 气候");
        assert_eq!(found, ["民间组织", "CANGO", "气候"]);
        assert_eq!(m[0].1, ["民间", "间组", "组织"]);
        for (r, _) in &m {
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }

    #[test]
    fn non_ascii_text_tokenises_on_character_boundaries() {
        let text = "Zürich’s café — naïve Ω-3 東京";
        for r in token_ranges(text) {
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
        assert!(terms(text).contains(&"ω-3".to_string()));
    }
}
