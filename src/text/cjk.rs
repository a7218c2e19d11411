//! Chinese (and other CJK) script facts that ingest, the lexical index and the entity finders
//! share: which characters are written without spaces between words, full-width forms of
//! ASCII, and Chinese numerals as section numbers use them (`一`, `十二`, `二十一`).
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
