//! Noun phrases: the words of a text tagged by what they can be in a noun phrase, and the
//! phrases themselves. A phrase is a run of modifiers and nouns that ends on a noun
//! ("alkali metals", "colossal heads", "Kirby's Block Ball"), or two such runs joined by "of"
//! or "for" ("Battle of Dürenstein", "training for local workers"). Phrases never cross
//! punctuation, a stop word ("and", "the", "was"), a verb or adverb, or a bare number, so a
//! phrase is always a contiguous stretch of the text and never splits one.
//!
//! Parts of speech come from a word list (`data/pos-en.txt`, derived from WordNet 3.0 by
//! `data/make_pos_en.py`; its licence in `data/pos-en.LICENSE`) that names the adjectives and
//! the verb and adverb forms among the English words of [`super::words`]; every other word,
//! a word not in the list (a name, a term) and a run of Chinese characters count as nouns, and
//! a capitalised word inside a sentence is a name whatever the list says. Theme labels
//! (`cluster::labels`) take their candidates from here.

use std::sync::OnceLock;

use super::cjk::is_cjk;
use super::is_stopword_lower;

const POS: &str = include_str!("data/pos-en.txt");

/// What a word can be in a noun phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May head a phrase (a noun, a name, an unknown word, a Chinese run).
    Noun,
    /// May qualify a noun, never end a phrase (an adjective, a possessive).
    Modifier,
    /// "of" or "for": joins two phrases into one.
    Link,
    /// Ends any phrase (a stop word, a verb, an adverb, a number).
    Break,
}

/// One word of a text: its lower-case form (possessive `'s` kept, curly apostrophe folded),
/// its byte span in the text and its role.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub lower: String,
    pub start: usize,
    pub end: usize,
    pub role: Role,
}

/// Longest phrase, in words (a link word counts).
pub const MAX_PHRASE_WORDS: usize = 4;

fn pos_list() -> &'static [(&'static str, u8)] {
    static LIST: OnceLock<Vec<(&'static str, u8)>> = OnceLock::new();
    LIST.get_or_init(|| {
        POS.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(w, t)| (w, t.as_bytes().first().copied().unwrap_or(b'N')))
            .collect()
    })
}

/// The role the word list gives a lower-case word (`Noun` when it is not listed).
fn listed_role(lower: &str) -> Role {
    let list = pos_list();
    match list.binary_search_by(|(w, _)| (*w).cmp(lower)) {
        Ok(k) if list[k].1 == b'A' => Role::Modifier,
        Ok(_) => Role::Break,
        Err(_) => Role::Noun,
    }
}

/// The role of a word; `sentence_start` says whether it opens a sentence (where a capital
/// letter says nothing about names).
fn role_of(surface: &str, lower: &str, sentence_start: bool) -> Role {
    if lower == "of" || lower == "for" {
        return Role::Link;
    }
    if lower.chars().any(is_cjk) {
        return Role::Noun;
    }
    if is_stopword_lower(lower)
        || !lower.chars().any(char::is_alphabetic)
        || lower.chars().count() < 2
    {
        return Role::Break;
    }
    if lower.ends_with("'s") {
        return Role::Modifier;
    }
    let capital = surface.chars().next().is_some_and(char::is_uppercase);
    if capital && !sentence_start {
        return Role::Noun;
    }
    // A compound is what its last part is, but a compound ending in a participle or an
    // adjective qualifies ("well-known", "guest-starring"): it never ends a phrase.
    if let Some((_, last)) = lower.rsplit_once('-') {
        return match listed_role(last) {
            Role::Noun => Role::Noun,
            _ => Role::Modifier,
        };
    }
    listed_role(lower)
}

/// The text as runs of words that punctuation does not interrupt, each word with its role.
/// Inner hyphens and apostrophes belong to a word; leading and trailing ones do not.
pub fn segments(text: &str) -> Vec<Vec<Word>> {
    let mut out = Vec::new();
    let mut current: Vec<Word> = Vec::new();
    let mut start: Option<usize> = None;
    let mut sentence_start = true;
    let flush = |s: usize, e: usize, current: &mut Vec<Word>, sentence_start: &mut bool| {
        let is_mark = |c: char| c == '-' || c == '\'' || c == '\u{2019}';
        let raw = &text[s..e];
        let trimmed = raw.trim_start_matches(is_mark);
        let s = s + (raw.len() - trimmed.len());
        let w = trimmed.trim_end_matches(is_mark);
        if w.is_empty() {
            return;
        }
        let lower = w.to_lowercase().replace('\u{2019}', "'");
        let role = role_of(w, &lower, *sentence_start);
        *sentence_start = false;
        current.push(Word {
            lower,
            start: s,
            end: s + w.len(),
            role,
        });
    };
    let mut chars = text.char_indices().peekable();
    let mut prev = ' ';
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map_or(' ', |&(_, n)| n);
        // A dot between letters or digits is inside a name ("astrometry.net", "A.H."), not
        // the end of a sentence.
        let inner_dot = c == '.' && prev.is_alphanumeric() && next.is_alphanumeric();
        prev = c;
        let word_char =
            c.is_alphanumeric() || c == '-' || c == '\'' || c == '\u{2019}' || inner_dot;
        if word_char {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            flush(s, i, &mut current, &mut sentence_start);
        }
        if !c.is_whitespace() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            if matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | ':' | '"' | '“') {
                sentence_start = true;
            }
        } else if c == '\n' {
            sentence_start = true;
        }
    }
    if let Some(s) = start {
        flush(s, text.len(), &mut current, &mut sentence_start);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Calls `f(words)` for every noun phrase of a segment (see [`segments`]): every stretch of
/// at most [`MAX_PHRASE_WORDS`] words that starts on a modifier or noun, ends on a noun,
/// holds no break, and holds a link only between two nouns-or-modifiers (one link at most).
/// Sub-phrases count: "vocational training" gives "vocational training" and "training".
pub fn for_each_phrase(seg: &[Word], mut f: impl FnMut(&[Word])) {
    let n = seg.len();
    for i in 0..n {
        if !matches!(seg[i].role, Role::Noun | Role::Modifier) {
            continue;
        }
        let mut links = 0;
        for j in i..n.min(i + MAX_PHRASE_WORDS) {
            match seg[j].role {
                Role::Break => break,
                Role::Link => {
                    links += 1;
                    // A link joins two phrases: after a noun, before a modifier or noun.
                    let joins = links == 1
                        && seg[j - 1].role == Role::Noun
                        && j > i
                        && seg
                            .get(j + 1)
                            .is_some_and(|w| matches!(w.role, Role::Noun | Role::Modifier));
                    if !joins {
                        break;
                    }
                }
                Role::Modifier => {}
                Role::Noun => f(&seg[i..=j]),
            }
        }
    }
}

/// Every noun phrase of `text` as its stretch of the text, in order of appearance.
pub fn phrases(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for seg in segments(text) {
        for_each_phrase(&seg, |p| out.push(&text[p[0].start..p[p.len() - 1].end]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maximal(text: &str) -> Vec<&str> {
        // The phrases no other phrase contains: what a reader would underline.
        let all = phrases(text);
        let spans: Vec<(usize, usize)> = all
            .iter()
            .map(|p| {
                let s = p.as_ptr() as usize - text.as_ptr() as usize;
                (s, s + p.len())
            })
            .collect();
        all.iter()
            .zip(&spans)
            .filter(|(_, a)| !spans.iter().any(|b| b != *a && b.0 <= a.0 && a.1 <= b.1))
            .map(|(p, _)| *p)
            .collect()
    }

    #[test]
    fn alkali_metals_stay_one_phrase() {
        let text = "The alkali metals are soft. Alkali metals react with water.";
        let all = phrases(text);
        assert!(all.contains(&"alkali metals"), "{all:?}");
        assert!(all.contains(&"Alkali metals"), "{all:?}");
        assert_eq!(maximal(text), ["alkali metals", "Alkali metals", "water"]);
    }

    #[test]
    fn phrases_never_cross_and_commas_or_stop_words() {
        let text = "Investment and companies, enterprises and people; the century of war.";
        for p in phrases(text) {
            assert!(!p.contains(" and "), "{p:?}");
            assert!(!p.contains(','), "{p:?}");
            assert!(!p.contains(';'), "{p:?}");
            assert!(!p.to_lowercase().contains("the "), "{p:?}");
        }
        assert_eq!(
            maximal(text),
            [
                "Investment",
                "companies",
                "enterprises",
                "people",
                "century of war"
            ]
        );
    }

    #[test]
    fn verbs_adverbs_and_numbers_end_a_phrase() {
        let text = "The colossal heads were quickly carved in 1200 by Olmec sculptors.";
        assert_eq!(maximal(text), ["colossal heads", "Olmec sculptors"]);
        // An adjective alone is no phrase.
        assert!(phrases("It was large and colossal.").is_empty());
    }

    #[test]
    fn of_and_for_join_two_phrases() {
        let text = "He led the Second Battle of Naktong Bulge; vocational training for workers.";
        let all = phrases(text);
        for p in ["Battle of Naktong", "training for workers", "Naktong Bulge"] {
            assert!(all.contains(&p), "{p} not in {all:?}");
        }
        // "of" never ends or starts a phrase, and a phrase holds one link at most.
        assert!(all
            .iter()
            .all(|p| !p.ends_with("of") && !p.starts_with("of")));
        assert!(phrases("lists of sets of maps")
            .iter()
            .all(|p| p.matches(" of ").count() <= 1));
    }

    #[test]
    fn names_possessives_and_compounds() {
        let text = "In 1995 the game Kirby's Block Ball was a well-known Ise-class success.";
        let all = phrases(text);
        assert!(all.contains(&"Kirby's Block Ball"), "{all:?}");
        assert!(
            !all.contains(&"Kirby's"),
            "a possessive heads nothing: {all:?}"
        );
        assert!(all.contains(&"well-known Ise-class success"), "{all:?}");
        assert!(!all.contains(&"well-known"), "{all:?}");
        // A dot inside a name is no sentence end.
        assert!(phrases("the astrometry.net index files").contains(&"astrometry.net index files"));
        // Capitalised inside a sentence: a name, though the word list calls "Played" a verb.
        assert!(phrases("the band Played Out").contains(&"band Played"));
        assert!(!phrases("Played games.").contains(&"Played games"));
    }

    #[test]
    fn chinese_runs_are_nouns() {
        let text = "北京民间外交，在京全国性行业协会商会";
        assert_eq!(phrases(text), ["北京民间外交", "在京全国性行业协会商会"]);
    }

    #[test]
    fn the_word_list_is_sorted_for_binary_search() {
        assert!(pos_list().windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(listed_role("provides"), Role::Break);
        assert_eq!(listed_role("colossal"), Role::Modifier);
        assert_eq!(listed_role("metals"), Role::Noun);
        assert_eq!(listed_role("training"), Role::Noun);
    }
}
