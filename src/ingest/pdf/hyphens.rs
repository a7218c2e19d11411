//! Line-end hyphens: whether the hyphen a line ends with is the text's own (`municipal-level`)
//! or the typesetter's (`coordi-nated`), decided by the document's spelling, an English word
//! list and the typesetter's habits, and the joining of a block's lines.

use std::collections::HashSet;

use super::layout::Line;
use crate::text::cjk::is_cjk;
use crate::text::words::is_english_word;

/// What decides a line-end hyphen: the document's own words, and whether its typesetter
/// hyphenates at all.
pub(super) struct Hyphens {
    /// Every word of the document. The two halves of a word hyphenated at a line end are left
    /// out: `coordi-`/`nated` would otherwise count as words.
    pub(super) vocabulary: HashSet<String>,
    /// Whether some line-end hyphen splits a word into pieces that are not words themselves
    /// (`coordi-`/`nated`): the typesetter hyphenates. A browser without hyphenation
    /// dictionaries does not, and then every line-end hyphen is the text's own.
    pub(super) hyphenating: bool,
    /// The typesetter's own hyphen character, when it is one the text never uses inside a
    /// line: browsers and WeasyPrint hyphenate with U+2010 while the text writes U+002D, and
    /// then a line-end U+2010 always splits a word (`Watch‐`/`data`).
    pub(super) typesetters: Option<char>,
}

impl Hyphens {
    pub(super) fn of(flow: &[Line]) -> Self {
        let mut vocabulary = HashSet::new();
        let mut after_hyphen = false;
        let mut hyphenating = false;
        let mut last_stem = String::new();
        let (mut end_2010, mut inner_2010) = (false, false);
        for line in flow {
            let text = line.seg.text.trim_end();
            end_2010 |= text.ends_with('\u{2010}');
            inner_2010 |= text.trim_end_matches('\u{2010}').contains('\u{2010}');
            let words: Vec<&str> = line.seg.text.split_whitespace().collect();
            let hyphenated = line_end_hyphen(&line.seg.text).is_some();
            for (i, w) in words.iter().enumerate() {
                if i == 0 && after_hyphen {
                    let next = trim_word(w);
                    if !hyphenating && !next.is_empty() {
                        hyphenating = splits_a_word(&last_stem, next);
                    }
                    continue;
                }
                if i + 1 == words.len() && hyphenated {
                    last_stem = trim_word(w).rsplit('-').next().unwrap_or("").to_string();
                    continue;
                }
                let w = trim_word(w).to_lowercase();
                if !w.is_empty() {
                    vocabulary.insert(w);
                }
            }
            after_hyphen = hyphenated;
        }
        Self {
            vocabulary,
            hyphenating: hyphenating || (end_2010 && !inner_2010),
            typesetters: (end_2010 && !inner_2010).then_some('\u{2010}'),
        }
    }

    /// Whether the hyphen between `stem` (the line's last word, hyphen removed) and `next` (the
    /// next line's first word) stays. The document's own spelling decides first; then the
    /// English word list: halves that are words and a joined form that is not make a compound
    /// (`municipal-level`); a joined form that is a word, or pieces that are not, make a split
    /// word (`coordi-nated`), unless the typesetter never hyphenates; where both readings are
    /// words (`world-wide`), the hyphen stays unless the typesetter hyphenates.
    pub(super) fn keeps(&self, stem: &str, next: &str) -> bool {
        let stem = trim_word(stem);
        let next = trim_word(next);
        let last = stem.rsplit('-').next().unwrap_or(stem);
        let joined = format!("{last}{next}").to_lowercase();
        let hyphenated = format!("{stem}-{next}").to_lowercase();
        if self.vocabulary.contains(&hyphenated) {
            return true;
        }
        if self.vocabulary.contains(&joined) {
            return false;
        }
        // A compound that goes on with a word of its own (`people-to-`/`people`).
        if stem.contains('-') && self.vocabulary.contains(&next.to_lowercase()) {
            return true;
        }
        let joined_word = is_english_word(&joined);
        let halves = is_english_word(last) && is_english_word(next);
        match (joined_word, halves) {
            (false, true) => true,
            (true, true) => !self.hyphenating,
            (_, false) => !self.hyphenating,
        }
    }
}

/// Whether a hyphen between `stem` and `next` can only be a typesetter's: the joined form is a
/// word and a piece is not.
pub(super) fn splits_a_word(stem: &str, next: &str) -> bool {
    !stem.is_empty()
        && is_english_word(&format!("{stem}{next}"))
        && !(is_english_word(stem) && is_english_word(next))
}

/// The hyphen a line ends with, when it ends a word part (`co-`, not a dash `--` or ` -`).
pub(super) fn line_end_hyphen(text: &str) -> Option<char> {
    let h = ['-', '\u{00AD}', '\u{2010}']
        .into_iter()
        .find(|&h| text.ends_with(h))?;
    text[..text.len() - h.len_utf8()]
        .ends_with(char::is_alphanumeric)
        .then_some(h)
}

pub(super) fn trim_word(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
        .trim_matches('-')
}

/// Joins a block's lines, repairing words hyphenated at line ends.
pub(super) fn join_lines(lines: &[&str], hyphens: &Hyphens) -> String {
    let mut text = String::new();
    for line in lines {
        let line = line.trim();
        if text.is_empty() {
            text.push_str(line);
            continue;
        }
        let hyphen = line_end_hyphen(&text);
        let stem_end = hyphen.and_then(|h| text[..text.len() - h.len_utf8()].chars().last());
        let next = line.chars().next();
        // The word goes on: lower case after a letter, or upper case after an upper-case
        // letter (`DAJIUX-`/`ING`).
        let goes_on = next.is_some_and(char::is_lowercase)
            || (next.is_some_and(char::is_uppercase) && stem_end.is_some_and(char::is_uppercase));
        match hyphen {
            Some(h) if goes_on && stem_end.is_some_and(char::is_alphabetic) => {
                let stem = text[..text.len() - h.len_utf8()]
                    .rsplit(char::is_whitespace)
                    .next()
                    .unwrap_or("");
                let next_word = line.split_whitespace().next().unwrap_or("");
                // A soft hyphen is always the typesetter's.
                if h == '\u{00AD}'
                    || Some(h) == hyphens.typesetters
                    || !hyphens.keeps(stem, next_word)
                {
                    text.truncate(text.len() - h.len_utf8());
                }
                text.push_str(line);
            }
            // A compound broken at its own hyphen before a capital or a digit (`China-`/`EU`,
            // `Covid-`/`19`): the hyphen stays and no space comes in.
            Some(_) if next.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()) => {
                text.push_str(line);
            }
            // A double hyphen broken between its halves (`Age -`/`- a hit`).
            None if text.ends_with('-') && line.starts_with('-') => {
                text.push_str(line);
            }
            // A line break next to Chinese is no space (`共有`/`48家`, `WIPO`/`规则`).
            _ if text.chars().next_back().is_some_and(is_cjk)
                || line.chars().next().is_some_and(is_cjk) =>
            {
                text.push_str(line);
            }
            _ => {
                text.push(' ');
                text.push_str(line);
            }
        }
    }
    text.replace('\u{00AD}', "")
}

#[cfg(test)]
mod tests {
    use super::super::layout::Segment;
    use super::*;

    #[test]
    fn hyphens_at_line_ends() {
        let vocabulary: HashSet<String> = ["people-to-people", "cooperation", "well-coordinated"]
            .into_iter()
            .map(String::from)
            .collect();
        // A typesetter that hyphenates (LibreOffice with its dictionaries).
        let hyphens = Hyphens {
            vocabulary,
            hyphenating: true,
            typesetters: None,
        };
        let j = |a: &str, b: &str| join_lines(&[a, b], &hyphens);
        assert_eq!(
            j("promote co-", "operation now."),
            "promote cooperation now."
        );
        assert_eq!(
            j("the people-to-", "people diplomacy"),
            "the people-to-people diplomacy"
        );
        assert_eq!(j("a well-", "coordinated way"), "a well-coordinated way");
        assert_eq!(j("the Belt-", "Road"), "the Belt-Road");
        assert_eq!(j("the DAJIUX-", "ING platform"), "the DAJIUXING platform");
        assert_eq!(j("a well-coordi-", "nated way"), "a well-coordinated way");
        assert_eq!(j("Covid-", "19 response"), "Covid-19 response");
        assert_eq!(j("Awakening Age --", "a hit"), "Awakening Age -- a hit");
        assert_eq!(j("Awakening Age -", "- a hit"), "Awakening Age -- a hit");
        assert_eq!(j("unknown hyphen\u{00AD}", "ation"), "unknown hyphenation");
        assert_eq!(j("one line", "two lines"), "one line two lines");
        assert_eq!(j("共有", "48家加入"), "共有48家加入");
        assert_eq!(j("参与WIPO", "规则和决议"), "参与WIPO规则和决议");
        // Compounds the document spells nowhere else, decided by the word list.
        assert_eq!(j("municipal-", "level groups"), "municipal-level groups");
        assert_eq!(j("Chinese-", "foreign ties"), "Chinese-foreign ties");
        assert_eq!(j("on-the-", "job training"), "on-the-job training");
        assert_eq!(j("the govern-", "ment"), "the government");
    }

    #[test]
    fn a_typesetter_that_never_hyphenates_keeps_every_hyphen() {
        let flow_of = |texts: &[&str]| -> Vec<Line> {
            texts
                .iter()
                .map(|t| Line {
                    seg: Segment {
                        page: 0,
                        x0: 0.0,
                        x1: 100.0,
                        y: 0.0,
                        size: 10.0,
                        text: t.to_string(),
                        first_w: 10.0,
                    },
                    column: 0,
                    col_x0: 0.0,
                    col_x1: 100.0,
                })
                .collect()
        };
        // Every line-end hyphen here joins words: no sign of hyphenation.
        let browser = Hyphens::of(&flow_of(&[
            "a world-",
            "wide culture of on-the-",
            "job work",
        ]));
        assert!(!browser.hyphenating);
        assert!(browser.keeps("world", "wide"));
        // One split that only a typesetter makes (`coordi-`/`nated`) marks the document.
        let office = Hyphens::of(&flow_of(&["a well-coordi-", "nated way, a world-", "wide"]));
        assert!(office.hyphenating);
        // Both readings are words (`worldwide`, `world`/`wide`): the typesetter's.
        assert!(!office.keeps("world", "wide"));
        // Only the compound's halves are words (`longstanding` is not): the text's own.
        assert!(office.keeps("long", "standing"));
        assert!(office.keeps("municipal", "level"));
        // A browser's own hyphen (U+2010) where the text writes U+002D always goes.
        let weasy = Hyphens::of(&flow_of(&["Watch\u{2010}", "data and people-to-people"]));
        assert_eq!(weasy.typesetters, Some('\u{2010}'));
        let lines = ["StarTimes, Watch\u{2010}", "data, Jangho"];
        assert_eq!(join_lines(&lines, &weasy), "StarTimes, Watchdata, Jangho");
    }
}
