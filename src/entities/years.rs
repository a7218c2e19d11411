//! Years a text mentions: "in 2021", "since 2021", "January 9, 2023", "Expo 2022", and each
//! year of a range ("from 2020 to 2022", "between 2020 and 2022", "2020-22", "2021/22").
//!
//! A four-digit number is a year when something says so: a word before it that times things
//! ("in", "since", "by", a month), or what follows it (punctuation, a capitalised word, a verb
//! or function word). "2000 companies" is a count, not a year; "2,021", "$2021" and "2021%" are
//! numbers.
//!
//! In Chinese, a number written right before `年` is a year (`2021年`, `2020年至2022年`,
//! `2020—2022年`); right before another character it counts something (`2000家企业`).

use super::tokens::{gap, tokenize, Token};
use crate::text::cjk;

/// Earliest and latest years recognised.
pub const YEARS: std::ops::RangeInclusive<u16> = 1800..=2099;
/// Longest range expanded year by year ("1950 to 2020" counts only its ends).
const MAX_RANGE: u16 = 50;

/// Words before a number that make it a year.
const CUES: &[&str] = &[
    "in",
    "since",
    "from",
    "to",
    "until",
    "till",
    "by",
    "of",
    "during",
    "between",
    "and",
    "year",
    "years",
    "fiscal",
    "fy",
    "early",
    "late",
    "mid",
    "before",
    "after",
    "through",
    "circa",
    "spring",
    "summer",
    "autumn",
    "fall",
    "winter",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

/// Lower-case words after a number that leave it a year ("2021 saw", "2022 and").
const FOLLOWERS: &[&str] = &[
    "and", "to", "or", "the", "a", "an", "was", "were", "is", "are", "has", "had", "have", "saw",
    "when", "as", "in", "on", "at", "for", "with", "while", "after", "before", "through",
    "onwards", "onward", "until", "till", "marks", "marked", "will", "would", "also", "it", "its",
    "we", "they", "this", "that", "which", "where", "alone", "edition", "report",
];

/// The years `text` mentions, ascending, each once.
pub fn find_years(text: &str) -> Vec<u16> {
    let tokens = tokenize(text);
    let mut years: Vec<u16> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let Some(y) = year_value(text, t) else {
            continue;
        };
        if let Some(end) = range_end(text, &tokens, i, y) {
            if end - y <= MAX_RANGE {
                years.extend(y..=end);
            } else {
                years.extend([y, end]);
            }
            continue;
        }
        let second_of_range = i > 0
            && year_value(text, &tokens[i - 1])
                .is_some_and(|p| range_end(text, &tokens, i - 1, p) == Some(y));
        if second_of_range || is_year_here(text, &tokens, i) {
            years.push(y);
        }
    }
    years.sort_unstable();
    years.dedup();
    years
}

/// The number of a four-digit word in [`YEARS`] that is not part of a larger number or an
/// amount.
fn year_value(text: &str, t: &Token) -> Option<u16> {
    if t.word.len() != 4 || !t.digits() {
        return None;
    }
    let y: u16 = t.word.parse().ok()?;
    if !YEARS.contains(&y) {
        return None;
    }
    let mut before = text[..t.start].chars().rev();
    let mut after = text[t.end..].chars();
    let (b0, b1) = (before.next(), before.next());
    let (a0, a1) = (after.next(), after.next());
    let digit_joined = |sep: Option<char>, other: Option<char>| {
        matches!(sep, Some(',' | '.')) && other.is_some_and(|c| c.is_ascii_digit())
    };
    if digit_joined(b0, b1) || digit_joined(a0, a1) {
        return None;
    }
    if matches!(b0, Some('$' | '€' | '£' | '¥' | '￥')) || matches!(a0, Some('%' | '％')) {
        return None;
    }
    Some(y)
}

/// The last year of a range starting at the year word `i` (of value `y`): "2020-2022",
/// "2020–22", "2021/22", "2020 to 2022", "between 2020 and 2022".
fn range_end(text: &str, tokens: &[Token], i: usize, y: u16) -> Option<u16> {
    let next = tokens.get(i + 1)?;
    let between = gap(text, &tokens[i], next).trim();
    let end_at = |t: &Token| -> Option<u16> {
        let v = if t.word.len() == 2 && t.digits() {
            (y / 100) * 100 + t.word.parse::<u16>().ok()?
        } else {
            year_value(text, t)?
        };
        (v > y).then_some(v)
    };
    if matches!(between, "-" | "–" | "—" | "——" | "/" | "~" | "～" | "－") {
        return end_at(next);
    }
    // `2020至2022年`, `2020年至2022年`, `2020年—2022年`.
    let after_next = tokens.get(i + 2);
    let joined_to =
        |a: &Token, b: &Token, joiners: &[&str]| joiners.contains(&gap(text, a, b).trim());
    if let (true, Some(last)) = (between.is_empty(), after_next) {
        if matches!(next.word.as_str(), "至" | "到" | "年至" | "年到")
            && joined_to(next, last, &[""])
        {
            return end_at(last);
        }
        if next.word == "年" && joined_to(next, last, &["-", "–", "—", "——", "~", "～", "－"])
        {
            return end_at(last);
        }
    }
    let word = next.word.to_lowercase();
    let joined_by_and =
        word == "and" && i > 0 && tokens[i - 1].word.eq_ignore_ascii_case("between");
    if (matches!(word.as_str(), "to" | "until" | "till" | "through") || joined_by_and)
        && between.is_empty()
    {
        let last = tokens.get(i + 2)?;
        if last.word.len() == 4 {
            return end_at(last);
        }
    }
    None
}

/// Whether the four-digit word `i` reads as a year where it stands.
fn is_year_here(text: &str, tokens: &[Token], i: usize) -> bool {
    let t = &tokens[i];
    let cue = i > 0 && CUES.contains(&tokens[i - 1].word.to_lowercase().as_str());
    if cue {
        return true;
    }
    match tokens.get(i + 1) {
        Some(n) if gap(text, t, n).is_empty() && n.word.starts_with(cjk::is_cjk) => {
            n.word.starts_with('年')
        }
        None => true,
        Some(n) if !gap(text, t, n).trim().is_empty() => true,
        Some(n) if !n.lowercase() => true,
        Some(n) => FOLLOWERS.contains(&n.word.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_after_time_words() {
        assert_eq!(find_years("launched a project in 2021, helping"), [2021]);
        assert_eq!(find_years("over 2,000 companies since 2021"), [2021]);
        assert_eq!(find_years("As of January 9, 2023, a total of 48"), [2023]);
        assert_eq!(find_years("Floriade Expo 2022 in the Netherlands"), [2022]);
        assert_eq!(find_years("2020 Global Investment Services Forum"), [2020]);
        assert_eq!(find_years("the Mauritius Oil Spill of 2020."), [2020]);
    }

    #[test]
    fn ranges_count_each_year() {
        assert_eq!(find_years("from 2020 to 2022"), [2020, 2021, 2022]);
        assert_eq!(find_years("between 2019 and 2021"), [2019, 2020, 2021]);
        assert_eq!(find_years("the 2020-2022 plan"), [2020, 2021, 2022]);
        assert_eq!(find_years("in 2020–22"), [2020, 2021, 2022]);
        assert_eq!(find_years("fiscal 2021/22"), [2021, 2022]);
        assert_eq!(find_years("from 1950 to 2020"), [1950, 2020]);
    }

    #[test]
    fn counts_amounts_and_other_numbers_are_not_years() {
        for text in [
            "more than 2000 companies",
            "2,021 people and 1,2021",
            "cost $2021 or 2021% more",
            "Covid-19 and 500 million people",
            "code 4021 and 12345",
            "3.2021 units",
        ] {
            assert!(find_years(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_backwards_range_is_two_years() {
        assert_eq!(find_years("in 2022-2020"), [2020, 2022]);
        assert_eq!(find_years("in 2021 and 2023"), [2021, 2023]);
    }

    #[test]
    fn chinese_years() {
        assert_eq!(
            find_years("2021年，中国国际民间组织合作促进会启动了项目"),
            [2021]
        );
        assert_eq!(find_years("截至2023年1月9日，共有48家"), [2023]);
        assert_eq!(find_years("2020年至2022年"), [2020, 2021, 2022]);
        assert_eq!(find_years("2020至2022年"), [2020, 2021, 2022]);
        assert_eq!(find_years("2020—2022年"), [2020, 2021, 2022]);
        assert_eq!(find_years("2020年—2022年"), [2020, 2021, 2022]);
        assert_eq!(find_years("2020年至今"), [2020]);
        // Counts: a number before another character is not a year.
        assert!(find_years("2000家企业和1999个项目").is_empty());
    }
}
