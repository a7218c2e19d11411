//! Words of a text as the entity finders see them: runs of letters and digits split at spaces,
//! punctuation and hyphens ("Kenya-based" is "Kenya" and "based"), with apostrophes inside a
//! word kept ("N'Djamena", "d'Ivoire"; the typographic one folded to `'`), a possessive `'s`
//! taken off ("Kenya's" is "Kenya"), and dotted initials joined ("U.S." is "US"). A run of
//! Chinese characters is one word of its own, split from Latin letters and digits beside it
//! (`2021年` is `2021` and `年`, `CANGO参加` is `CANGO` and `参加`); the finders look inside
//! it. Each word keeps its byte range, so a finder can look at what stands between two words.

use crate::text::cjk;

/// One word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word as matched: apostrophes folded, possessive and dots removed.
    pub word: String,
    /// Byte range of the word in the text (possessive included).
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// Whether the word starts with a capital letter.
    pub fn capitalised(&self) -> bool {
        self.word.chars().next().is_some_and(char::is_uppercase)
    }

    /// Whether every letter of the word is a capital (and it has at least one).
    pub fn all_caps(&self) -> bool {
        let mut letters = self.word.chars().filter(|c| c.is_alphabetic()).peekable();
        letters.peek().is_some() && letters.all(char::is_uppercase)
    }

    /// Whether the word starts with a lower-case letter.
    pub fn lowercase(&self) -> bool {
        self.word.chars().next().is_some_and(char::is_lowercase)
    }

    /// Whether the word is all ASCII digits.
    pub fn digits(&self) -> bool {
        !self.word.is_empty() && self.word.bytes().all(|b| b.is_ascii_digit())
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// The words of `text`, in order.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if !c.is_alphanumeric() {
            i += 1;
            continue;
        }
        if let Some((tok, next)) = dotted_initials(text, &chars, i) {
            out.push(tok);
            i = next;
            continue;
        }
        let mut j = i;
        let mut word = String::new();
        let chinese = cjk::is_cjk(c);
        while j < chars.len() {
            let c = chars[j].1;
            if c.is_alphanumeric() && cjk::is_cjk(c) == chinese {
                word.push(c);
                j += 1;
            } else if is_apostrophe(c)
                && !chinese
                && chars
                    .get(j + 1)
                    .is_some_and(|n| n.1.is_alphabetic() && !cjk::is_cjk(n.1))
            {
                word.push('\'');
                j += 1;
            } else {
                break;
            }
        }
        let end = chars.get(j).map_or(text.len(), |c| c.0);
        // A trailing apostrophe of a possessive plural ("Kenyans'") is outside the loop above.
        if let Some(base) = word.strip_suffix("'s").or_else(|| word.strip_suffix("'S")) {
            word = base.to_string();
        }
        out.push(Token { word, start, end });
        i = j;
    }
    out
}

/// `U.S.`, `U.K.`, `U.S.A.`: single capitals each followed by a dot, two or more of them.
fn dotted_initials(text: &str, chars: &[(usize, char)], i: usize) -> Option<(Token, usize)> {
    let mut j = i;
    let mut word = String::new();
    while let (Some(&(_, c)), Some(&(_, '.'))) = (chars.get(j), chars.get(j + 1)) {
        if !c.is_uppercase() {
            break;
        }
        word.push(c);
        j += 2;
        if chars.get(j).is_some_and(|n| n.1.is_alphanumeric()) {
            continue;
        }
        break;
    }
    // "U.S.Army" or a lone initial ("J. Smith") is not dotted initials.
    if word.chars().count() < 2 || chars.get(j).is_some_and(|n| n.1.is_alphanumeric()) {
        return None;
    }
    let start = chars[i].0;
    let end = chars.get(j).map_or(text.len(), |c| c.0);
    Some((Token { word, start, end }, j))
}

/// What stands between two words (`text[a.end..b.start]`).
pub fn gap<'t>(text: &'t str, a: &Token, b: &Token) -> &'t str {
    text.get(a.end..b.start).unwrap_or("")
}

/// Whether only spaces stand between two words.
pub fn spaced(text: &str, a: &Token, b: &Token) -> bool {
    gap(text, a, b).chars().all(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> Vec<String> {
        tokenize(t).into_iter().map(|t| t.word).collect()
    }

    #[test]
    fn hyphens_split_apostrophes_stay_possessives_go() {
        assert_eq!(
            words("Kenya's N'Djamena-based Côte d’Ivoire, China-EU 2,000"),
            [
                "Kenya",
                "N'Djamena",
                "based",
                "Côte",
                "d'Ivoire",
                "China",
                "EU",
                "2",
                "000"
            ]
        );
    }

    #[test]
    fn chinese_runs_are_words_of_their_own() {
        assert_eq!(
            words("2021年，CANGO参加了C20峰会"),
            ["2021", "年", "CANGO", "参加了", "C20", "峰会"]
        );
    }

    #[test]
    fn dotted_initials_are_one_word() {
        assert_eq!(
            words("the U.S. and U.K. (U.S.A.) J. Smith"),
            ["the", "US", "and", "UK", "USA", "J", "Smith"]
        );
        let t = tokenize("in the U.S.");
        assert_eq!(&"in the U.S."[t[2].start..t[2].end], "U.S.");
    }

    #[test]
    fn ranges_cover_the_words_and_gaps_show_punctuation() {
        let text = "Nairobi, Kenya";
        let t = tokenize(text);
        assert_eq!(&text[t[0].start..t[0].end], "Nairobi");
        assert_eq!(gap(text, &t[0], &t[1]), ", ");
        assert!(!spaced(text, &t[0], &t[1]));
        assert!(t[1].capitalised() && !t[1].all_caps());
        assert!(tokenize("BCEG")[0].all_caps());
        assert!(!tokenize("2021")[0].all_caps() && tokenize("2021")[0].digits());
    }
}
