//! Chinese (and other CJK) script facts that ingest, the lexical index, the summarizer's word
//! overlap and the entity finders share: which characters are written without spaces between
//! words, runs of them and their character bigrams, full-width forms of ASCII, and Chinese
//! numerals as section numbers use them (`一`, `十二`, `二十一`).
//!
//! [`Language::of`] says whether a whole text is Chinese: the per-language centring of
//! multilingual embeddings and hybrid search's fusion across languages ask it.
//!
//! Hangul is not included in [`is_cjk`]: Korean puts spaces between words, so it is handled
//! like any alphabet. Kana are included (Japanese, like Chinese, writes no spaces).

/// Whether `c` is a Han ideograph (the unified blocks, extension A and beyond, compatibility
/// ideographs) or the iteration mark `〇`/`々`.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2FFFF
        | 0x30000..=0x3134F)
}

/// The language of a text as far as simsum tells languages apart: Chinese, or anything else
/// (in practice English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Chinese,
    Other,
}

impl Language {
    /// Chinese when CJK characters are at least a quarter as many as the other letters (an
    /// English word spends some five letters where Chinese spends one or two characters): a
    /// Chinese text quoting `grep` or `BRI` stays Chinese, an English one naming 北京 English.
    pub fn of(text: &str) -> Self {
        let (mut cjk, mut letters) = (0usize, 0usize);
        for c in text.chars() {
            if is_cjk(c) {
                cjk += 1;
            } else if c.is_alphabetic() {
                letters += 1;
            }
        }
        if cjk > 0 && cjk * 4 >= letters {
            Self::Chinese
        } else {
            Self::Other
        }
    }

    /// Index in per-language tables.
    pub fn index(self) -> usize {
        match self {
            Self::Chinese => 0,
            Self::Other => 1,
        }
    }

    /// Name in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chinese => "zh",
            Self::Other => "other",
        }
    }
}

/// Whether `c` belongs to a script written without spaces between words: Han ideographs and
/// Japanese kana.
pub fn is_cjk(c: char) -> bool {
    is_han(c) || matches!(c as u32, 0x3040..=0x30FF | 0x31F0..=0x31FF)
}

/// Whether `c` is CJK or full-width punctuation (`。`, `，`, `、`, `（`, `》`, `：`; not the
/// full-width letters and digits).
pub fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFE30..=0xFE4F | 0xFF00..=0xFF65)
        && !matches!(c, '\u{3000}' | '\u{3005}' | '\u{3007}')
        && !c.is_alphanumeric()
}

/// Whether a space between `before` and `after` is only a line break of the source: Chinese
/// on both sides (Chinese writes no spaces between words), or full-width punctuation on either
/// side (it carries its own spacing: `（` + `CANGO`).
pub fn joins_without_space(before: char, after: char) -> bool {
    (is_cjk(before) && is_cjk(after)) || is_cjk_punctuation(before) || is_cjk_punctuation(after)
}

/// The ASCII character a full-width form stands for (`Ａ` -> `A`, `２` -> `2`, `（` -> `(`),
/// or `c` itself.
pub fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The runs of `word` by script: `(run, true)` for Chinese characters, `(run, false)` for
/// anything else (`CANGO参加` is `CANGO`, then `参加`).
pub fn script_runs(word: &str) -> impl Iterator<Item = (&str, bool)> + '_ {
    let mut rest = word;
    std::iter::from_fn(move || {
        let chinese = is_cjk(rest.chars().next()?);
        let end = rest
            .char_indices()
            .find(|&(_, c)| is_cjk(c) != chinese)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((run, chinese))
    })
}

/// The overlapping character bigrams of a run of Chinese characters (`国际组织`: `国际`, `际组`,
/// `组织`); a run of one character gives that character.
pub fn bigrams(run: &str) -> impl Iterator<Item = &str> + '_ {
    let starts: Vec<usize> = run
        .char_indices()
        .map(|(i, _)| i)
        .chain([run.len()])
        .collect();
    let width = if starts.len() > 2 { 2 } else { 1 };
    (0..starts.len().saturating_sub(width)).map(move |k| &run[starts[k]..starts[k + width]])
}

/// The value of a Chinese numeral from 1 to 99 as section numbers write it (`一`, `十`,
/// `十二`, `二十`, `九十九`); `None` for anything else.
pub fn chinese_number(s: &str) -> Option<u32> {
    let digit = |c: char| {
        "一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32 + 1)
    };
    let chars: Vec<char> = s.chars().collect();
    match chars[..] {
        ['十'] => Some(10),
        [a] => digit(a),
        ['十', b] => Some(10 + digit(b)?),
        [a, '十'] => Some(digit(a)? * 10),
        [a, '十', b] => Some(digit(a)? * 10 + digit(b)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_chinese_by_its_characters_not_its_quotes() {
        assert_eq!(Language::of("如何删除空目录？"), Language::Chinese);
        assert_eq!(
            Language::of("使用 grep 命令搜索文件中的 pattern"),
            Language::Chinese
        );
        assert_eq!(Language::of("Remove empty directories."), Language::Other);
        assert_eq!(
            Language::of("The Beijing (北京) Foreign Affairs Office reports."),
            Language::Other
        );
        assert_eq!(Language::of("2023"), Language::Other);
    }

    #[test]
    fn scripts() {
        assert!(is_han('中') && is_cjk('中') && is_cjk('の'));
        assert!(!is_cjk('한') && !is_cjk('a') && !is_cjk('。'));
        assert!(is_cjk_punctuation('。') && is_cjk_punctuation('（') && !is_cjk_punctuation('.'));
        assert!(joins_without_space('国', '际') && joins_without_space('。', '今'));
        assert!(joins_without_space('（', 'C') && joins_without_space('O', '）'));
        assert!(!joins_without_space('a', '国') && !joins_without_space('国', '2'));
        assert!(!is_cjk_punctuation('Ａ') && !is_cjk_punctuation('２'));
    }

    #[test]
    fn script_runs_and_bigrams() {
        let runs: Vec<(&str, bool)> = script_runs("CANGO参加C20峰会").collect();
        assert_eq!(
            runs,
            [
                ("CANGO", false),
                ("参加", true),
                ("C20", false),
                ("峰会", true)
            ]
        );
        assert_eq!(
            bigrams("国际组织").collect::<Vec<_>>(),
            ["国际", "际组", "组织"]
        );
        assert_eq!(bigrams("会").collect::<Vec<_>>(), ["会"]);
        assert_eq!(bigrams("").count(), 0);
    }

    #[test]
    fn widths_and_numerals() {
        assert_eq!(fold_width('Ａ'), 'A');
        assert_eq!(fold_width('２'), '2');
        assert_eq!(fold_width('中'), '中');
        let n = |s: &str| chinese_number(s);
        assert_eq!(
            [n("一"), n("十"), n("十二"), n("二十"), n("九十九")],
            [Some(1), Some(10), Some(12), Some(20), Some(99)]
        );
        assert_eq!(
            [n("零"), n("一二"), n(""), n("十十")],
            [None, None, None, None]
        );
    }
}
