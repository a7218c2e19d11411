//! Country mentions in a text: names, demonyms and cities of the [gazetteer](super::gazetteer),
//! longest phrase first at each word ("Papua New Guinea" before "Guinea", "Indian Ocean" before
//! "Indian"), matched case-sensitively (or in capitals, for headlines).
//!
//! Names that are also common words or first names are checked against their context:
//! "Chad", "Jordan" and "Georgia" next to another capitalised name are a person ("Michael
//! Jordan", "Chad Smith"); "Georgia" beside a US city or "Tech" is the US state; "Turkey" before a
//! dish is the bird; a demonym used as a language ("published in French.") is no country. A
//! country inside an organisation's name still counts ("Bank of China" is China).
//!
//! In Chinese text, which has no spaces, each run of Chinese characters is scanned for the
//! gazetteer's Chinese names, longest first (`巴布亚新几内亚` before `几内亚`, `印度洋` hiding
//! `印度`); `中国国际民间组织合作促进会` mentions China, as "Bank of China" does.

use super::gazetteer::{gazetteer, NameKind, Phrase};
use super::tokens::{spaced, tokenize, Token};
use crate::text::cjk;

/// A country mentioned in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryMention {
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
    /// Byte range of the words that name it.
    pub start: usize,
    pub end: usize,
}

/// Names that are also first names: not a country when another capitalised name stands right
/// beside them.
const PERSON_NAMES: &[&str] = &["Chad", "Jordan", "Georgia"];
/// Words after "Georgia" or before it that make it the US state.
const US_STATE_CONTEXT: &[&str] = &["Atlanta", "Savannah", "Tech", "State", "USA", "US"];
/// Dishes and farms: "Turkey" before these is the bird.
const TURKEY_THE_BIRD: &[&str] = &[
    "sandwich",
    "sandwiches",
    "breast",
    "burger",
    "burgers",
    "dinner",
    "meat",
    "bacon",
    "leg",
    "legs",
    "farm",
    "farms",
    "roast",
    "slices",
    "stuffing",
];
/// Words before a demonym that make it a language ("in French", "speaks Spanish").
const LANGUAGE_BEFORE: &[&str] = &[
    "in", "into", "speak", "speaks", "spoke", "speaking", "learn", "learning", "taught", "fluent",
];
/// Words after a demonym that make it a language ("French-speaking", "Chinese subtitles").
const LANGUAGE_AFTER: &[&str] = &[
    "speaking",
    "language",
    "languages",
    "speaker",
    "speakers",
    "subtitles",
    "translation",
    "version",
];
/// Capitalised words before a person-like name that do not make it a person.
const NOT_A_FIRST_NAME: &[&str] = &[
    "In",
    "From",
    "To",
    "Of",
    "And",
    "The",
    "For",
    "With",
    "By",
    "At",
    "On",
    "Both",
    "Across",
    "Between",
    "Like",
    "Including",
    "Visit",
    "Visiting",
    "Lake",
    "Republic",
    "Kingdom",
    "Hashemite",
    "Neighbouring",
    "Neighboring",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
];

/// Countries mentioned in `text`, in order of appearance (a country may appear several times).
pub fn find_countries(text: &str) -> Vec<CountryMention> {
    let tokens = tokenize(text);
    let g = gazetteer();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].word.starts_with(cjk::is_cjk) {
            out.extend(chinese_mentions(text, &tokens[i]));
            i += 1;
            continue;
        }
        let Some(phrase) = longest_match(&tokens, i) else {
            i += 1;
            continue;
        };
        let n = phrase.words.len();
        if let Some(c) = phrase.country {
            if keep(text, &tokens, i, n, phrase) {
                out.push(CountryMention {
                    code: g.country(c).code.clone(),
                    start: tokens[i].start,
                    end: tokens[i + n - 1].end,
                });
            }
        }
        i += n;
    }
    out
}

/// The countries named inside one run of Chinese characters, longest name first at each
/// character.
fn chinese_mentions(text: &str, run: &Token) -> Vec<CountryMention> {
    let g = gazetteer();
    let mut out = Vec::new();
    let mut at = run.start;
    while at < run.end {
        match g.chinese_prefix(&text[at..run.end]) {
            Some((len, country)) => {
                if let Some(c) = country {
                    out.push(CountryMention {
                        code: g.country(c).code.clone(),
                        start: at,
                        end: at + len,
                    });
                }
                at += len;
            }
            None => at += text[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// The longest phrase of the gazetteer starting at word `i`.
fn longest_match(tokens: &[Token], i: usize) -> Option<&'static Phrase> {
    let first = &tokens[i];
    if !first.capitalised() {
        return None;
    }
    let g = gazetteer();
    g.phrases_from(&first.word).iter().find(|p| {
        p.words.len() <= tokens.len() - i
            && p.words.iter().enumerate().all(|(k, w)| {
                let t = &tokens[i + k];
                t.word == *w
                    || (t.all_caps()
                        && t.word == w.to_uppercase()
                        && (p.words.len() > 1 || w.chars().count() >= 4))
            })
    })
}

/// Whether the match of `phrase` at words `i..i + n` is the country, by its context.
fn keep(text: &str, tokens: &[Token], i: usize, n: usize, phrase: &Phrase) -> bool {
    let word = tokens[i].word.as_str();
    let prev = i.checked_sub(1).map(|p| &tokens[p]);
    let next = tokens.get(i + n);
    let prev_close = prev.filter(|p| spaced(text, p, &tokens[i]));
    let next_close = next.filter(|x| spaced(text, &tokens[i + n - 1], x));
    if n == 1 && PERSON_NAMES.contains(&word) {
        let beside_name = next_close.is_some_and(|x| x.capitalised() && !x.all_caps())
            || prev_close.is_some_and(|p| {
                p.capitalised() && !p.all_caps() && !NOT_A_FIRST_NAME.contains(&p.word.as_str())
            });
        if beside_name {
            return false;
        }
    }
    if word == "Georgia" && n == 1 {
        let near =
            |t: Option<&Token>| t.is_some_and(|t| US_STATE_CONTEXT.contains(&t.word.as_str()));
        if near(prev) || near(next) || state_of(tokens, i) {
            return false;
        }
    }
    if word == "Turkey" && next_close.is_some_and(|x| TURKEY_THE_BIRD.contains(&x.word.as_str())) {
        return false;
    }
    if phrase.kind == NameKind::Demonym
        && (used_as_language(text, tokens, i, n) || listed_after_language(text, tokens, i))
    {
        return false;
    }
    true
}

/// The second of two languages: "into Spanish and Portuguese".
fn listed_after_language(text: &str, tokens: &[Token], i: usize) -> bool {
    i >= 2
        && matches!(tokens[i - 1].word.as_str(), "and" | "or")
        && longest_match(tokens, i - 2).is_some_and(|p| {
            p.kind == NameKind::Demonym
                && p.words.len() == 1
                && used_as_language(text, tokens, i - 2, 1)
        })
}

/// "the state of Georgia", "US state of Georgia".
fn state_of(tokens: &[Token], i: usize) -> bool {
    i >= 2 && tokens[i - 1].word == "of" && tokens[i - 2].word.eq_ignore_ascii_case("state")
}

/// A demonym that names a language: "in French." or "French-speaking".
fn used_as_language(text: &str, tokens: &[Token], i: usize, n: usize) -> bool {
    let last = &tokens[i + n - 1];
    let next = tokens.get(i + n);
    if next.is_some_and(|x| {
        LANGUAGE_AFTER.contains(&x.word.as_str()) && text[last.end..x.start].trim().len() <= 1
    }) {
        return true;
    }
    let before = i
        .checked_sub(1)
        .map(|p| &tokens[p])
        .is_some_and(|p| LANGUAGE_BEFORE.contains(&p.word.to_lowercase().as_str()));
    // "in Chinese culture" is Chinese culture; "in Chinese." or "in Chinese and English" is
    // the language.
    let ends_phrase = match next {
        None => true,
        Some(x) => {
            !spaced(text, last, x)
                || matches!(x.word.as_str(), "and" | "or" | "to" | "with" | "is" | "was")
        }
    };
    before && ends_phrase
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<String> {
        let mut c: Vec<String> = find_countries(text).into_iter().map(|m| m.code).collect();
        c.dedup();
        c
    }

    #[test]
    fn names_short_names_and_official_names() {
        assert_eq!(codes("Projects in Kenya and Angola."), ["KE", "AO"]);
        assert_eq!(codes("The United Kingdom, the UK and Britain"), ["GB"]);
        assert_eq!(codes("in the U.K. and the U.S."), ["GB", "US"]);
        assert_eq!(codes("Japan and South Korea"), ["JP", "KR"]);
        assert_eq!(codes("the Republic of Kenya"), ["KE"]);
        assert_eq!(codes("Floriade Expo 2022 in the Netherlands"), ["NL"]);
        assert_eq!(codes("Thailand and Singapore"), ["TH", "SG"]);
        assert_eq!(
            codes("Côte d'Ivoire, Cote d’Ivoire and Ivory Coast"),
            ["CI"]
        );
        assert_eq!(codes("Türkiye (Turkiye)"), ["TR"]);
        assert_eq!(codes("KENYA: FLOODS"), ["KE"]);
    }

    #[test]
    fn demonyms_and_cities_stand_for_their_country() {
        assert_eq!(codes("a huge hit with Moroccan netizens"), ["MA"]);
        assert_eq!(codes("Trained Kenyan Mechanics"), ["KE"]);
        assert_eq!(codes("Kenyans voted"), ["KE"]);
        assert_eq!(codes("local development in Nairobi"), ["KE"]);
        assert_eq!(codes("Manchester Dragon Boat Race"), ["GB"]);
        assert_eq!(codes("Kenya-based firms"), ["KE"]);
    }

    #[test]
    fn longest_phrase_wins() {
        assert_eq!(codes("Papua New Guinea"), ["PG"]);
        assert_eq!(codes("Equatorial Guinea and Guinea-Bissau"), ["GQ", "GW"]);
        assert_eq!(codes("South Sudan"), ["SS"]);
        assert_eq!(codes("the Dominican Republic"), ["DO"]);
        assert_eq!(codes("American Samoa"), ["AS"]);
        assert_eq!(codes("People's Republic of China"), ["CN"]);
    }

    #[test]
    fn indian_ocean_is_not_india() {
        for text in [
            "islands of the Indian Ocean",
            "a Latin American trend in New Mexico",
            "South China Sea",
        ] {
            assert!(codes(text).is_empty(), "{text}");
        }
        assert_eq!(codes("Indian engineers"), ["IN"]);
    }

    #[test]
    fn a_country_inside_an_organisations_name_is_still_the_country() {
        assert_eq!(
            codes("China Association for NGO Cooperation (CANGO)"),
            ["CN"]
        );
        assert_eq!(codes("the Bank of China"), ["CN"]);
        assert_eq!(codes("Beijing Construction Engineering Group"), ["CN"]);
        assert_eq!(codes("China-EU Economic and Trade B2B Meeting"), ["CN"]);
    }

    #[test]
    fn chad_jordan_and_georgia_as_people_are_not_countries() {
        for text in [
            "Michael Jordan scored",
            "Chad Smith drums",
            "Georgia Tech won",
            "Atlanta, Georgia",
            "the state of Georgia",
        ] {
            assert!(codes(text).is_empty(), "{text}");
        }
        assert_eq!(codes("Refugees in Chad and Jordan"), ["TD", "JO"]);
        assert_eq!(codes("Chad, Niger and Mali"), ["TD", "NE", "ML"]);
        assert_eq!(codes("Jordan has hosted refugees"), ["JO"]);
        assert_eq!(codes("Armenia, Georgia and Azerbaijan"), ["AM", "GE", "AZ"]);
        assert_eq!(codes("Lake Chad"), ["TD"]);
    }

    #[test]
    fn common_words_need_their_capital() {
        assert!(codes("a turkey sandwich with china plates").is_empty());
        assert!(codes("Turkey sandwiches").is_empty());
        assert_eq!(codes("Turkey and Greece"), ["TR", "GR"]);
        assert!(codes("a guinea pig, a Guinea pig").is_empty());
        assert_eq!(codes("Guinea and Sierra Leone"), ["GN", "SL"]);
        assert!(codes("an island nation").is_empty());
    }

    #[test]
    fn demonyms_as_languages_are_not_countries() {
        for text in [
            "The report is published in French.",
            "French-speaking staff",
            "translated into Spanish and Portuguese",
        ] {
            assert!(codes(text).is_empty(), "{text}");
        }
        assert_eq!(codes("spreading Chinese culture"), ["CN"]);
        assert_eq!(codes("in Chinese culture"), ["CN"]);
    }

    #[test]
    fn ambiguous_names_give_no_country() {
        assert!(codes("Congolese traders").is_empty());
        assert!(codes("Kingston and Victoria").is_empty());
    }

    #[test]
    fn mentions_carry_their_byte_ranges() {
        let text = "Nairobi, Kenya's capital";
        let m = find_countries(text);
        assert_eq!(m.len(), 2);
        assert_eq!(&text[m[0].start..m[0].end], "Nairobi");
        assert_eq!(&text[m[1].start..m[1].end], "Kenya's");
    }

    #[test]
    fn chinese_names_in_chinese_text() {
        let codes =
            |t: &str| -> Vec<String> { find_countries(t).into_iter().map(|m| m.code).collect() };
        assert_eq!(
            codes("2022年，中国花卉协会在荷兰世园会上设计了“中国竹园”。"),
            ["CN", "NL", "CN"]
        );
        assert_eq!(codes("学习日本和韩国的经验"), ["JP", "KR"]);
        assert_eq!(codes("在安哥拉和巴布亚新几内亚"), ["AO", "PG"]);
        // A blocking phrase hides the name inside it; a dropped name matches nothing.
        assert_eq!(codes("印度洋上的岛国与印度"), ["IN"]);
        assert!(codes("内蒙古的黑山羊").is_empty());
        // Mixed text: English names and Chinese names both count, with byte ranges.
        let text = "CANGO与Kenya及肯尼亚的伙伴";
        let m = find_countries(text);
        let found: Vec<&str> = m.iter().map(|m| &text[m.start..m.end]).collect();
        assert_eq!(found, ["Kenya", "肯尼亚"]);
    }
}
