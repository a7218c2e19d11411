//! Titles and keyphrases from a theme's ranked phrases: which phrase may be a title (supported
//! by enough members, topical, in the corpus's language, the theme's own document's words
//! first), and which fill the keyphrase list.

use std::collections::HashSet;

use super::words::{is_label_word, stems};
use super::{mmr_rank, Candidate, LabelParams, ThemeLabel};
use crate::text::cjk::Language;

/// Adjectives of report and product prose that qualify a topic without naming one: fine inside
/// a phrase ("local workers"), not as a title word of their own ("Investment and Foreign").
pub(super) const QUALIFIERS: &[&str] = &[
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
pub(super) fn stands_alone(word: &str) -> bool {
    let lower = word.to_lowercase();
    let participle = lower.len() > 5 && lower.ends_with("ed") && !lower.ends_with("eed");
    !QUALIFIERS.contains(&lower.as_str()) && !participle
}

/// Who may be a title: the shares of a theme's members that must contain a phrase, and a name;
/// the language titles are written in (the corpus's majority).
pub(super) struct TitleRules {
    pub(super) title_share: f32,
    pub(super) name_share: f32,
    pub(super) language: Language,
}

impl TitleRules {
    /// Whether `holders` of a theme's `members` are enough for a phrase to be its title.
    fn supported(&self, holders: usize, members: usize) -> bool {
        holders as f32 >= self.title_share * members as f32
    }
}

/// The first `limit` of `phrases` (best first) under the title's rules ([`is_topical`]); the
/// phrases that break them only fill a short list.
pub(super) fn pick_keyphrases(
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
pub(super) type TitlePhrase<'a> = (&'a str, &'a [u32]);

/// A phrase whose every word is capitalised where the members write it: a name (an
/// organisation, a place, a product), which says who or where, not what a theme is about.
pub(super) fn is_proper_name(surface: &str) -> bool {
    surface
        .split_whitespace()
        .all(|w| w.chars().next().is_some_and(char::is_uppercase))
}

/// The title of a theme from `phrases` (best first; see [`title_from`]). Single words that
/// only qualify ([`stands_alone`]) are left out, and names
/// ("Construction Engineering Group", "China and Association") take part only when every
/// member mentions them, or when the theme offers nothing else: a reader wants the category,
/// and a name in a pair would name one member's organisation as much as a topic.
pub(super) fn make_title(
    phrases: &[TitlePhrase],
    members: usize,
    taken: &HashSet<String>,
    rules: &TitleRules,
) -> Option<String> {
    // The corpus's language first: a theme of both languages is titled in the majority's.
    let in_language: Vec<TitlePhrase> = phrases
        .iter()
        .filter(|k| Language::of(k.0) == rules.language)
        .copied()
        .collect();
    let phrases = if in_language.is_empty() {
        phrases
    } else {
        &in_language
    };
    let topical: Vec<TitlePhrase> = phrases
        .iter()
        .filter(|k| is_topical(k, members, rules))
        .copied()
        .collect();
    title_from(&topical, members, taken, rules)
        .or_else(|| title_from(phrases, members, taken, rules))
}

/// The title of a theme that is one document (most of its members, and most of that document's
/// items; see `cluster::label`), from `home`, that document's title: the best of the members'
/// phrases (supported as a title must be, topical, in the corpus's language) that shares a word
/// with it ("alkali metals" in the paragraphs of an article titled "Alkali metal"). The members'
/// own words still; `None` when no phrase of theirs shares a word with the title.
pub(super) fn home_title(
    phrases: &[TitlePhrase],
    home: Option<&str>,
    members: usize,
    taken: &HashSet<String>,
    rules: &TitleRules,
) -> Option<String> {
    let words: HashSet<String> = home?
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| is_label_word(&w.to_lowercase()))
        .flat_map(stems)
        .collect();
    let enough = |n: usize| rules.supported(n, members);
    phrases
        .iter()
        .filter(|k| enough(k.1.len()) && is_topical(k, members, rules))
        .filter(|k| Language::of(k.0) == rules.language)
        .filter(|k| stems(k.0).iter().any(|w| words.contains(w)))
        .map(|k| sentence_case(k.0))
        .find(|t| !taken.contains(&t.to_lowercase()))
}

/// Whether a phrase names what a theme of `members` items is about: not a name that only some
/// members mention, not a lone qualifier or participle.
pub(super) fn is_topical(k: &TitlePhrase, members: usize, rules: &TitleRules) -> bool {
    let one_word = !k.0.contains(char::is_whitespace);
    (!is_proper_name(k.0) || k.1.len() as f32 >= rules.name_share * members as f32)
        && (!one_word || stands_alone(k.0))
}

/// The title from `phrases` (best first): the best phrase that at least half of the theme's
/// `members` contain, else the best phrase; one noun phrase as the members write it, never two
/// words joined by "and". Titles in `taken` are not used again.
pub(super) fn title_from(
    phrases: &[TitlePhrase],
    members: usize,
    taken: &HashSet<String>,
    rules: &TitleRules,
) -> Option<String> {
    let free = |t: &String| !taken.contains(&t.to_lowercase());
    let enough = |n: usize| rules.supported(n, members);
    phrases
        .iter()
        .filter(|k| enough(k.1.len()))
        .chain(phrases)
        .map(|k| sentence_case(k.0))
        .find(free)
}

/// A phrase as a title: its first letter upper case, the rest as the members write it (names
/// and acronyms keep their case).
pub(super) fn sentence_case(phrase: &str) -> String {
    let mut cs = phrase.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

/// Two themes never share a title: a later (smaller) theme takes its next best phrase.
pub(super) fn dedupe_titles(
    labels: &mut [ThemeLabel],
    cands: &[Vec<Candidate>],
    centroids: &[Vec<f32>],
    sizes: &[usize],
    homes: &[Option<&str>],
    params: &LabelParams,
    rules: &TitleRules,
) {
    let mut taken: HashSet<String> = HashSet::new();
    for (k, label) in labels.iter_mut().enumerate() {
        if label.title.is_empty() || taken.contains(&label.title.to_lowercase()) {
            let wider = mmr_rank(&cands[k], &centroids[k], params, params.candidates);
            let phrases: Vec<TitlePhrase> = wider
                .iter()
                .map(|&i| (cands[k][i].surface.as_str(), cands[k][i].holders.as_slice()))
                .collect();
            let home = homes.get(k).copied().flatten();
            label.title = home_title(&phrases, home, sizes[k], &taken, rules)
                .or_else(|| make_title(&phrases, sizes[k], &taken, rules))
                .unwrap_or_default();
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
        language: Language::Other,
    };

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

    #[test]
    fn titles_are_in_the_corpus_majority_language() {
        let none = HashSet::new();
        let phrases: &[TitlePhrase] = &[("rural clinics", &[0, 1]), ("民间外交", &[0, 1])];
        let zh = TitleRules {
            language: Language::Chinese,
            ..HALF
        };
        assert_eq!(make_title(phrases, 2, &none, &zh).unwrap(), "民间外交");
        assert_eq!(
            make_title(phrases, 2, &none, &HALF).unwrap(),
            "Rural clinics"
        );
        // A theme with nothing in the majority's language keeps what it has.
        assert_eq!(
            make_title(&phrases[1..], 2, &none, &HALF).unwrap(),
            "民间外交"
        );
    }

    #[test]
    fn a_theme_of_one_document_takes_the_phrase_its_title_shares() {
        let none = HashSet::new();
        let all: &[u32] = &[0, 1, 2];
        let phrases: &[TitlePhrase] = &[
            ("reactive elements", all),
            ("alkali metals", all),
            ("lithium", &[0]),
        ];
        assert_eq!(
            home_title(phrases, Some("Alkali metal"), 3, &none, &HALF).as_deref(),
            Some("Alkali metals")
        );
        // No shared word, no home, or too few members: the usual title decides.
        assert_eq!(
            home_title(phrases, Some("Boulder Dam (1936)"), 3, &none, &HALF),
            None
        );
        assert_eq!(home_title(phrases, None, 3, &none, &HALF), None);
        assert_eq!(home_title(phrases, Some("Lithium"), 3, &none, &HALF), None);
    }
}
