//! Markdown: ATX (`## Heading`) and setext headings start sections; a level-1 heading before
//! any text is the title; YAML-style front matter may give `title`, `date` and `source`;
//! fenced code is dropped; images become captions (their alt text); list items are separate
//! paragraphs; inline markup (emphasis, code spans, links) is reduced to its text. Streamed
//! line by line like plain text.

use std::io::BufRead;

use super::builder::SectionBuilder;
use super::decode::LineReader;
use super::sentences::normalize_whitespace;
use super::text::{is_caption, parse_numbered, TextHeader};
use super::{parse_date, IngestError, Section};

/// Parses Markdown into a header (title, date, source) and sections.
pub(crate) fn parse_markdown<R: BufRead>(
    lines: &mut LineReader<R>,
    mut builder: SectionBuilder<'_>,
) -> Result<(TextHeader, Vec<Section>), IngestError> {
    let mut header = TextHeader::default();
    let mut state = State::default();
    let mut first_line = true;
    let mut front_matter = false;
    let mut fence: Option<String> = None;
    while let Some(line) = lines.next_line()? {
        let raw = line.text.trim_end();
        let trimmed = raw.trim_start();
        if first_line && trimmed == "---" {
            first_line = false;
            front_matter = true;
            continue;
        }
        first_line = false;
        if front_matter {
            if trimmed == "---" || trimmed == "..." {
                front_matter = false;
            } else if let Some((k, v)) = trimmed.split_once(':') {
                let v = v.trim().trim_matches(['"', '\'']).to_string();
                match k.trim().to_ascii_lowercase().as_str() {
                    "title" => header.title = Some(v),
                    "date" => header.date = parse_date(&v),
                    "source" | "author" if header.source.is_none() => header.source = Some(v),
                    key => {
                        header.metadata.insert(key.to_string(), v.into());
                    }
                }
            }
            continue;
        }
        if let Some(f) = &fence {
            if trimmed.starts_with(f.as_str()) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            state.flush(&mut builder);
            fence = Some(trimmed[..3].to_string());
            continue;
        }
        if trimmed.is_empty() {
            state.flush(&mut builder);
            continue;
        }
        if let Some((level, text)) = atx_heading(trimmed) {
            state.flush(&mut builder);
            state.heading(level, &text, line.offset, &mut header, &mut builder);
            continue;
        }
        let underline = !trimmed.is_empty()
            && (trimmed.chars().all(|c| c == '=') || trimmed.chars().all(|c| c == '-'));
        if underline && trimmed.len() >= 2 {
            if state.lines.len() == 1 && !state.in_list {
                let text = state.lines.pop().unwrap_or_default();
                let level = if trimmed.starts_with('=') { 1 } else { 2 };
                state.heading(level, &text, state.offset, &mut header, &mut builder);
            } else {
                // A thematic break.
                state.flush(&mut builder);
            }
            continue;
        }
        if let Some(item) = list_item(trimmed) {
            state.flush(&mut builder);
            state.in_list = true;
            state.push(item, line.offset);
            continue;
        }
        if trimmed.starts_with('|') && trimmed.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
            continue; // table alignment row
        }
        let text = trimmed.trim_start_matches('>').trim_start();
        state.push(text, line.offset);
    }
    state.flush(&mut builder);
    Ok((header, builder.finish(lines.offset())))
}

#[derive(Default)]
struct State {
    lines: Vec<String>,
    offset: usize,
    in_list: bool,
    seen_content: bool,
}

impl State {
    fn push(&mut self, line: &str, offset: usize) {
        if self.lines.is_empty() {
            self.offset = offset;
        }
        self.lines.push(line.to_string());
    }

    fn heading(
        &mut self,
        level: usize,
        text: &str,
        offset: usize,
        header: &mut TextHeader,
        b: &mut SectionBuilder<'_>,
    ) {
        let text = strip_inline(text);
        if level == 1 && !self.seen_content && header.title.is_none() {
            header.title = Some(text);
        } else {
            let (number, heading) = match parse_numbered(&text) {
                Some((n, h)) => (Some(n), h),
                None => (None, text),
            };
            b.heading(number, &heading, offset);
        }
        self.seen_content = true;
    }

    fn flush(&mut self, b: &mut SectionBuilder<'_>) {
        if self.lines.is_empty() {
            self.in_list = false;
            return;
        }
        self.seen_content = true;
        let joined = self.lines.join(" ");
        self.lines.clear();
        let (images, rest) = take_images(&joined);
        for alt in images {
            b.caption(&alt);
        }
        let text = strip_inline(&rest.replace('|', " "));
        if !text.is_empty() {
            if !self.in_list && is_caption(&text) {
                b.caption(&text);
            } else {
                b.paragraph(&text);
            }
        }
        self.in_list = false;
    }
}

fn atx_heading(line: &str) -> Option<(usize, String)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    Some((level, text.to_string()))
}

fn list_item(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix(['-', '*', '+']) {
        return rest.starts_with(' ').then(|| rest.trim_start());
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let rest = &line[digits..];
    rest.strip_prefix(['.', ')'])
        .filter(|r| r.starts_with(' '))
        .map(str::trim_start)
}

/// Removes `![alt](src)` images, returning their alt texts and the remaining text.
fn take_images(text: &str) -> (Vec<String>, String) {
    let mut images = Vec::new();
    let rest = replace_links(text, "![", |alt| {
        images.push(alt.to_string());
        Some(String::new())
    });
    (images, rest)
}

/// `text` with each `OPEN label](target)` (OPEN: `[` for a link, `![` for an image) replaced by
/// what `replace` makes of its label; where `replace` gives `None`, or there is no `](...)`,
/// the OPEN is text.
fn replace_links(
    text: &str,
    open: &str,
    mut replace: impl FnMut(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut s = text;
    while let Some(i) = s.find(open) {
        out.push_str(&s[..i]);
        let after = &s[i + open.len()..];
        let replaced = after
            .find("](")
            .and_then(|j| after[j..].find(')').map(|k| (j, j + k)))
            .and_then(|(j, close)| Some((replace(&after[..j])?, close)));
        match replaced {
            Some((with, close)) => {
                out.push_str(&with);
                s = &after[close + 1..];
            }
            None => {
                out.push_str(open);
                s = after;
            }
        }
    }
    out.push_str(s);
    out
}

/// Reduces inline Markdown to plain text: links to their text, emphasis and code marks dropped.
fn strip_inline(text: &str) -> String {
    let out = replace_links(text, "[", |label| {
        (!label.contains('[')).then(|| label.to_string())
    });
    let out = out.replace("**", "").replace("__", "").replace('`', "");
    // A lone `*` between spaces is text (`a * b`); one touching a word is emphasis.
    let chars: Vec<char> = out.chars().collect();
    let kept: String = chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            c != '*'
                || (i > 0 && chars[i - 1] == ' ' && chars.get(i + 1).is_some_and(|&n| n == ' '))
        })
        .map(|(_, &c)| c)
        .collect();
    normalize_whitespace(&kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup() {
        assert_eq!(
            strip_inline("A **bold** [link](http://x) and `code` *it*."),
            "A bold link and code it."
        );
        let (imgs, rest) = take_images("![A photo](p.png) text");
        assert_eq!(imgs, ["A photo"]);
        assert_eq!(rest.trim(), "text");
    }
}
