//! Sentence splitting for running text, and the whitespace normalisation every parser applies
//! before it. The splitter works on byte ranges of one paragraph so that [`super::Sentence`]s can
//! point back into their initiative's text.
//!
//! Rules, in order: CJK terminals (`。！？；`) end a sentence without needing a space, and so
//! does a half-width one (`.!?;`) written between Chinese characters (`好.明天`, `吗?`); a Latin
//! terminal (`.`, `!`, `?`, `…`, with any closing quotes or brackets after it) ends a sentence
//! only when whitespace follows and the next word does not start in lower case; a period after a
//! known abbreviation (`Mr.`, `e.g.`, `No. 5`, `Co., Ltd. (BCD)`, `U.S.`) or a single initial
//! does not. Decimals never split because no whitespace follows their point.

use crate::text::cjk;

/// Abbreviations after which a period never ends a sentence.
const NEVER_SPLIT: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "cf", "e.g", "i.e", "approx",
    "dept", "gen", "col", "lt", "sgt", "capt", "rev", "hon", "sen", "rep", "gov", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ca", "viz", "al",
];

/// Abbreviations that are followed by a number (`No. 5`, `pp. 12`); a period after them only
/// ends a sentence when no number follows.
const NUMBER_ABBREV: &[&str] = &[
    "no", "nos", "vol", "fig", "figs", "pp", "p", "art", "sec", "ch", "nr",
];

/// Abbreviations that often end a sentence too (`... Co., Ltd.`): a period after them ends a
/// sentence only when the next word starts with an upper-case letter.
const MAYBE_SPLIT: &[&str] = &[
    "etc", "ltd", "inc", "corp", "co", "bros", "plc", "llc", "a.m", "p.m",
];

const CLOSERS: &[char] = &[
    '"', '\'', '\u{201d}', '\u{2019}', ')', ']', '\u{bb}', '\u{300d}', '\u{300f}', '\u{ff09}',
    '\u{300b}', '\u{3011}',
];

/// Full-width terminals: they end a sentence wherever they stand.
const CJK_TERMINALS: &[char] = &['\u{3002}', '\u{ff01}', '\u{ff1f}', '\u{ff1b}'];

/// Collapses every run of Unicode whitespace (including non-breaking spaces) to one space and
/// trims the ends. A run between two Chinese characters (or CJK punctuation) is dropped: it can
/// only be a line break of the source, since Chinese puts no spaces between words.
pub fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        let joined = match (out.chars().next_back(), word.chars().next()) {
            (Some(a), Some(b)) => cjk::joins_without_space(a, b),
            _ => true,
        };
        if !joined {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// True when `text` ends like a sentence: a terminal mark, possibly followed by closing quotes
/// or brackets. Colons and semicolons count, since a line ending in one runs on into a list.
pub fn has_terminal_punctuation(text: &str) -> bool {
    let trimmed = text.trim_end().trim_end_matches(CLOSERS);
    trimmed.ends_with([
        '.', '!', '?', '\u{2026}', ':', ';', '\u{3002}', '\u{ff01}', '\u{ff1f}', '\u{ff1b}',
        '\u{ff1a}',
    ])
}

/// Splits one paragraph into sentences, returned as trimmed byte ranges into `text`.
pub fn split_sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let full_width = CJK_TERMINALS.contains(&c);
        if !full_width && !matches!(c, '.' | '!' | '?' | ';' | '\u{2026}') {
            continue;
        }
        let after_han = text[..i].chars().next_back().is_some_and(cjk::is_han);
        if c == ';' && !after_han {
            continue;
        }
        // The whole run of terminal marks (`?!`, `...`) and closing quotes belongs to this sentence.
        let mut end = i + c.len_utf8();
        let mut run_is_single_period = c == '.';
        while let Some(&(j, d)) = chars.peek() {
            if matches!(d, '.' | '!' | '?' | '\u{2026}') || CJK_TERMINALS.contains(&d) {
                run_is_single_period = false;
            } else if !CLOSERS.contains(&d) {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        let rest = &text[end..];
        let is_boundary = if full_width || rest.is_empty() {
            true
        } else if after_han
            && c != '\u{2026}'
            && rest
                .trim_start()
                .chars()
                .next()
                .is_none_or(|n| !n.is_alphanumeric() || cjk::is_cjk(n))
        {
            // `好.明天` and `吗? 是的`: a half-width mark closing Chinese text before more of it
            // (a Latin word right after it, as in `中文.txt`, is left to the rules below).
            true
        } else if !rest.starts_with(char::is_whitespace) {
            false
        } else {
            let next = rest.trim_start().chars().next();
            match next {
                None => true,
                Some(n) if n.is_lowercase() => false,
                Some(n) => !run_is_single_period || period_ends_sentence(&text[start..i], n),
            }
        };
        if is_boundary {
            push_trimmed(text, start, end, &mut out);
            start = end;
        }
    }
    push_trimmed(text, start, text.len(), &mut out);
    out
}

/// Decides whether a single period after `before` (the sentence so far) ends the sentence,
/// given the first character `next` of the following word.
fn period_ends_sentence(before: &str, next: char) -> bool {
    let word = before.rsplit(char::is_whitespace).next().unwrap_or("");
    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = word.to_lowercase();
    if lower.is_empty() {
        return true;
    }
    if NEVER_SPLIT.contains(&lower.as_str()) {
        return false;
    }
    if NUMBER_ABBREV.contains(&lower.as_str()) {
        return !(next.is_ascii_digit() || next == '#');
    }
    let mut letters = word.chars();
    if let (Some(first), None) = (letters.next(), letters.next()) {
        // A single initial (`J. Smith`), or a list number opening the paragraph (`1. First`).
        if first.is_alphabetic() || before.trim() == word {
            return false;
        }
    }
    if before.trim() == word && word.len() <= 3 && word.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if MAYBE_SPLIT.contains(&lower.as_str())
        || (word.contains('.') && word.chars().all(|c| c.is_alphabetic() || c == '.'))
    {
        // `Co., Ltd. (BCD)` and `U.S. companies` go on; `... Co., Ltd. The` ends.
        return next.is_uppercase();
    }
    true
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail < piece.len() {
        out.push((start + lead, end - trail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        split_sentences(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn abbreviations_do_not_split() {
        assert_eq!(
            split("Jiang Tai Insurance Brokers Co., Ltd. (Jiang Tai) has grown. It helps."),
            vec![
                "Jiang Tai Insurance Brokers Co., Ltd. (Jiang Tai) has grown.",
                "It helps."
            ]
        );
        assert_eq!(
            split("Use tools, e.g. hammers. Then rest."),
            vec!["Use tools, e.g. hammers.", "Then rest."]
        );
        assert_eq!(
            split("See No. 5 here. And Mr. Smith too."),
            vec!["See No. 5 here.", "And Mr. Smith too."]
        );
        assert_eq!(
            split("U.S. companies grew. J. Smith said so."),
            vec!["U.S. companies grew.", "J. Smith said so."]
        );
    }

    #[test]
    fn decimals_and_quotes() {
        assert_eq!(
            split("It rose 3.5 percent. Good."),
            vec!["It rose 3.5 percent.", "Good."]
        );
        assert_eq!(
            split("He said \"Go.\" Then left."),
            vec!["He said \"Go.\"", "Then left."]
        );
        assert_eq!(
            split("\"Stop!\" he said. Why?! Because."),
            vec!["\"Stop!\" he said.", "Why?!", "Because."]
        );
    }

    #[test]
    fn cjk_terminals() {
        assert_eq!(
            split("今天很好。明天也好！真的吗？"),
            vec!["今天很好。", "明天也好！", "真的吗？"]
        );
    }

    #[test]
    fn chinese_semicolons_and_half_width_marks_between_chinese_text() {
        assert_eq!(
            split("一是加强合作；二是扩大交流。三是共享成果"),
            vec!["一是加强合作；", "二是扩大交流。", "三是共享成果"]
        );
        assert_eq!(
            split("今天很好.明天也好!真的吗?是的;好"),
            vec!["今天很好.", "明天也好!", "真的吗?", "是的;", "好"]
        );
        // Closing quotes stay with the sentence; Latin text right after a mark is not split
        // off by the Chinese rule, and English semicolons split nothing.
        assert_eq!(
            split("他说：“很好。”然后离开了。文件名是中文.txt，大小3.5MB。"),
            vec![
                "他说：“很好。”",
                "然后离开了。",
                "文件名是中文.txt，大小3.5MB。"
            ]
        );
        assert_eq!(split("One; two; three."), vec!["One; two; three."]);
    }

    #[test]
    fn whitespace_between_chinese_characters_is_a_line_break() {
        assert_eq!(
            normalize_whitespace("中国国际\n民间组织。 今天"),
            "中国国际民间组织。今天"
        );
        assert_eq!(
            normalize_whitespace("CANGO 参加 C20 峰会"),
            "CANGO 参加 C20 峰会"
        );
        assert_eq!(normalize_whitespace("一、 总则"), "一、总则");
    }

    #[test]
    fn whitespace_and_terminal() {
        assert_eq!(normalize_whitespace("  a\u{a0} b\n\tc "), "a b c");
        assert!(has_terminal_punctuation("Done.\""));
        assert!(!has_terminal_punctuation(
            "BGE's Project (Overseas Project)"
        ));
    }
}
