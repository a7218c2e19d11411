//! Plain text and the seed format. Paragraphs are separated by blank lines; a one-line block
//! with numbering (`I.`, `1.`, `2.3`, `Chapter 4`, and in Chinese `一、`, `（一）`, `第一章`,
//! `1、`) starts a section; a short line without terminal punctuation between paragraphs is a
//! caption. The seed format is plain text whose first block is a title line followed by
//! `Date:` / `Source:` header lines, or their Chinese forms `日期：` / `来源：` (web boilerplate
//! such as `fontSize: big middle small` or `字号：大 中 小` is dropped). Lines are streamed from a
//! [`LineReader`], so a large file is never held whole.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;

use super::builder::SectionBuilder;
use super::decode::{CharRefs, Line, LineReader};
use super::sentences::{has_terminal_punctuation, normalize_whitespace};
use super::{parse_date, IngestError, Section};
use crate::text::cjk;

/// Longest line (in characters) still taken for a heading, title or caption.
const MAX_SHORT_LINE: usize = 200;

/// What a text parse yields besides the sections.
#[derive(Debug, Default)]
pub(crate) struct TextHeader {
    pub title: Option<String>,
    pub date: Option<String>,
    pub source: Option<String>,
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// True when the input had a seed-style `Date:`/`Source:` header.
    pub is_seed: bool,
}

impl TextHeader {
    /// Decodes character references in the header's text fields (title, source, string
    /// metadata), as the section builder does for the body.
    pub fn decode_char_refs(&mut self, char_refs: CharRefs) {
        let decode = |s: &mut String| {
            if let Cow::Owned(d) = char_refs.apply(s) {
                *s = d;
            }
        };
        self.title.iter_mut().for_each(decode);
        self.source.iter_mut().for_each(decode);
        for value in self.metadata.values_mut() {
            if let serde_json::Value::String(s) = value {
                decode(s);
            }
        }
    }
}

/// Parses plain text; with `detect_header`, the first block may give a title and header lines.
pub(crate) fn parse_text<R: BufRead>(
    lines: &mut LineReader<R>,
    mut builder: SectionBuilder<'_>,
    detect_header: bool,
) -> Result<(TextHeader, Vec<Section>), IngestError> {
    let mut header = TextHeader::default();
    let mut in_header = detect_header;
    let mut first_block = true;
    let mut block: Vec<Line> = Vec::new();
    loop {
        let line = lines.next_line()?;
        let at_end = line.is_none();
        match line {
            Some(l) if !l.text.trim().is_empty() => {
                block.push(l);
                continue;
            }
            _ => {}
        }
        if !block.is_empty() {
            if in_header {
                let rest = take_header(&block, first_block, &mut header);
                block.drain(..rest.min(block.len()));
                in_header = block.is_empty();
            }
            first_block = false;
            if !block.is_empty() {
                emit_block(&block, &mut builder);
            }
            block.clear();
        }
        if at_end {
            break;
        }
    }
    Ok((header, builder.finish(lines.offset())))
}

/// Consumes title and header lines from the start of `block`; returns how many were consumed
/// (the whole block, or 0 when the block is ordinary text).
fn take_header(block: &[Line], first_block: bool, header: &mut TextHeader) -> usize {
    let mut start = 0;
    let first = block[0].text.trim();
    let title_candidate = first_block
        && header_field(first).is_none()
        && first.chars().count() <= MAX_SHORT_LINE
        && parse_numbered(first).is_none();
    if title_candidate {
        start = 1;
    }
    if !block[start..]
        .iter()
        .all(|l| header_field(&l.text).is_some())
    {
        // Ordinary text; a lone short first line is still the title.
        return if title_candidate && block.len() == 1 {
            1
        } else {
            0
        };
    }
    if title_candidate {
        // A single sentence-like line is not a title.
        if block.len() == 1 && has_terminal_punctuation(first) && !first.ends_with('?') {
            return 0;
        }
        header.title = Some(normalize_whitespace(first));
    }
    for line in &block[start..] {
        if take_field(&line.text, header) {
            header.is_seed = true;
        }
    }
    block.len()
}

/// Puts a `Key: value` header line into `header` (date, source, or other metadata); returns
/// whether the line was one. The text and PDF readers share it.
pub(crate) fn take_field(line: &str, header: &mut TextHeader) -> bool {
    let Some((key, value)) = header_field(line) else {
        return false;
    };
    match key.as_str() {
        "date" => match parse_date(&value) {
            Some(d) => header.date = Some(d),
            None => {
                header.metadata.insert("date_raw".into(), value.into());
            }
        },
        "source" => header.source = Some(value),
        // Web page chrome copied along with the text.
        "fontsize" => {}
        _ => {
            header.metadata.insert(key, value.into());
        }
    }
    true
}

/// A `Key: value` header line with a known key, lower-cased; a Chinese key (`日期：`, `来源：`)
/// comes back as its English one.
pub(crate) fn header_field(line: &str) -> Option<(String, String)> {
    let (key, value) = line.trim().split_once([':', '\u{ff1a}'])?;
    let key = key.trim();
    let key = chinese_header_key(key).map_or_else(|| key.to_ascii_lowercase(), str::to_string);
    const KEYS: &[&str] = &[
        "date",
        "source",
        "author",
        "published",
        "url",
        "fontsize",
        "language",
        "tags",
    ];
    KEYS.contains(&key.as_str())
        .then(|| (key, normalize_whitespace(value)))
}

/// The English key of a Chinese header line's key (`日期` is `date`).
fn chinese_header_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "日期" | "时间" | "发布日期" | "发布时间" | "发文日期" => "date",
        "来源" | "出处" | "稿源" | "信息来源" => "source",
        "作者" => "author",
        "网址" | "链接" => "url",
        "字号" | "字体" | "【字号" => "fontsize",
        "语言" => "language",
        "标签" | "关键词" => "tags",
        _ => return None,
    })
}

/// Classifies one block of non-blank lines and feeds it to the builder.
fn emit_block(block: &[Line], builder: &mut SectionBuilder<'_>) {
    let first = block[0].text.trim();
    if let Some((number, heading)) = heading_line(first) {
        let list = block
            .get(1)
            .is_some_and(|l| parse_numbered(l.text.trim()).is_some());
        if !list {
            builder.heading(Some(number), &heading, block[0].offset);
            if block.len() > 1 {
                emit_body(&block[1..], builder);
            }
            return;
        }
    }
    emit_body(block, builder);
}

fn emit_body(block: &[Line], builder: &mut SectionBuilder<'_>) {
    let mut text = String::new();
    for line in block {
        text.push_str(&line.text);
        text.push(' ');
    }
    if is_caption(&text) {
        builder.caption(&text);
    } else {
        builder.paragraph(&text);
    }
}

/// A short line of words without terminal punctuation: a photo caption or similar.
pub(crate) fn is_caption(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && text.chars().count() <= MAX_SHORT_LINE
        && text.chars().any(char::is_alphabetic)
        && !has_terminal_punctuation(text)
}

/// A numbered heading line: its numbering and its text.
pub(crate) fn heading_line(line: &str) -> Option<(String, String)> {
    if line.chars().count() > MAX_SHORT_LINE || has_terminal_punctuation(line) {
        return None;
    }
    parse_numbered(line)
}

/// Splits leading numbering (`I.`, `1.`, `2.3`, `Chapter 4`; `一、`, `（一）`, `第一章`)
/// from the rest of a line.
pub(crate) fn parse_numbered(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if let Some(numbered) = parse_chinese_numbered(line) {
        return Some(numbered);
    }
    let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    const WORDS: &[&str] = &["chapter", "section", "part", "appendix", "article"];
    if WORDS.contains(&first.to_lowercase().as_str()) {
        let (num, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let num = num.trim_end_matches(['.', ':']);
        let valid = (!num.is_empty() && num.len() <= 4 && num.chars().all(|c| c.is_ascii_digit()))
            || is_roman(num)
            || (num.len() == 1 && num.chars().all(|c| c.is_ascii_uppercase()));
        let title = title
            .trim()
            .trim_start_matches(['-', ':', '\u{2013}', '\u{2014}'])
            .trim();
        return valid.then(|| (format!("{first} {num}"), title.to_string()));
    }
    if rest.is_empty() || rest.starts_with(char::is_lowercase) {
        return None;
    }
    if let Some(roman) = first.strip_suffix('.') {
        if is_roman(roman) {
            return Some((roman.to_string(), rest.to_string()));
        }
    }
    // Decimal numbering needs at least one dot, so `2021 China-EU Meeting` is not a heading.
    if first.contains('.') {
        let digits = first.strip_suffix('.').unwrap_or(first);
        let ok = digits
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()));
        if ok {
            return Some((digits.to_string(), rest.to_string()));
        }
    }
    None
}

/// Chinese numbering: `一、` (and `1、`) for sections, `（一）` or `(一)` for the subsections
/// under them, `第一章` / `第二节` / `第三部分` (a heading of its own, its text may follow on the
/// next line). The numbering comes back as written, the heading without the space after it.
fn parse_chinese_numbered(line: &str) -> Option<(String, String)> {
    let number = |s: &str| {
        cjk::chinese_number(s).is_some()
            || (!s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit()))
    };
    let heading = |rest: &str| rest.trim_start_matches(char::is_whitespace).to_string();
    if let Some((num, rest)) = line.split_once('、') {
        if number(num) && !heading(rest).is_empty() {
            return Some((num.to_string(), heading(rest)));
        }
    }
    for (open, close) in [('（', '）'), ('(', ')')] {
        let Some((num, rest)) = line.strip_prefix(open).and_then(|r| r.split_once(close)) else {
            continue;
        };
        if number(num) && !heading(rest).is_empty() {
            return Some((format!("{open}{num}{close}"), heading(rest)));
        }
    }
    let after = line.strip_prefix('第')?;
    ["章", "节", "部分", "篇", "编"]
        .into_iter()
        .find_map(|unit| {
            let (num, rest) = after.split_once(unit)?;
            number(num).then(|| (format!("第{num}{unit}"), heading(rest)))
        })
}

/// Upper-case Roman numerals from 1 to 39 (enough for section numbers, few false positives).
fn is_roman(s: &str) -> bool {
    const ONES: &[&str] = &["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"];
    const TENS: &[&str] = &["", "X", "XX", "XXX"];
    !s.is_empty()
        && TENS.iter().any(|t| {
            s.strip_prefix(t)
                .is_some_and(|o| ONES.contains(&o) && (!t.is_empty() || !o.is_empty()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_headings() {
        let p = |s: &str| parse_numbered(s).map(|(n, h)| format!("{n}|{h}"));
        assert_eq!(
            p("I. Leverage expertise").as_deref(),
            Some("I|Leverage expertise")
        );
        assert_eq!(
            p("IV. Introduce resources").as_deref(),
            Some("IV|Introduce resources")
        );
        assert_eq!(p("2.3 Methods").as_deref(), Some("2.3|Methods"));
        assert_eq!(p("1. Introduction").as_deref(), Some("1|Introduction"));
        assert_eq!(p("Chapter 4").as_deref(), Some("Chapter 4|"));
        assert_eq!(
            p("Chapter 4: Results").as_deref(),
            Some("Chapter 4|Results")
        );
        assert_eq!(p("2021 China-EU Economic and Trade B2B Meeting"), None);
        assert_eq!(p("IIII. Nope"), None);
        assert_eq!(p("CANGO Participates"), None);
    }

    #[test]
    fn chinese_numbered_headings() {
        let p = |s: &str| parse_numbered(s).map(|(n, h)| format!("{n}|{h}"));
        assert_eq!(
            p("一、发挥专业优势 积极参与国际规则制定").as_deref(),
            Some("一|发挥专业优势 积极参与国际规则制定")
        );
        assert_eq!(p("十二、 结语").as_deref(), Some("十二|结语"));
        assert_eq!(
            p("（一）参与规则制定").as_deref(),
            Some("（一）|参与规则制定")
        );
        assert_eq!(p("(二)搭建平台").as_deref(), Some("(二)|搭建平台"));
        assert_eq!(p("第三章 对外交流").as_deref(), Some("第三章|对外交流"));
        assert_eq!(p("第一部分").as_deref(), Some("第一部分|"));
        assert_eq!(p("3、总结").as_deref(), Some("3|总结"));
        // Not numbering: a sentence with `一是`, a bare number, an ordinary word with 第.
        assert_eq!(p("一是加强合作"), None);
        assert_eq!(p("一、"), None);
        assert_eq!(p("第一次会议"), None);
        assert_eq!(p("（CANGO）参加会议"), None);
    }

    #[test]
    fn chinese_header_lines() {
        let f = |s: &str| header_field(s);
        assert_eq!(
            f("日期：2023年1月30日"),
            Some(("date".into(), "2023年1月30日".into()))
        );
        assert_eq!(
            f("来源: 北京市人民政府外事办公室"),
            Some(("source".into(), "北京市人民政府外事办公室".into()))
        );
        assert_eq!(f("编者按：新春将至"), None);
        let mut header = TextHeader::default();
        assert!(take_field("日期：2023年1月30日", &mut header));
        assert!(take_field("字号：大 中 小", &mut header));
        assert_eq!(header.date.as_deref(), Some("2023-01-30"));
        assert!(header.metadata.is_empty());
    }
}
