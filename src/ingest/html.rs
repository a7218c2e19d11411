//! HTML through a real parser (`scraper`, html5ever underneath): `h1`–`h6` start sections,
//! block elements (`p`, `li`, `div`, `td`, ...) end paragraphs, `figcaption` and short
//! unpunctuated blocks become captions, and scripts, styles, navigation, headers, footers and
//! forms are dropped. The title comes from `<title>` (else the first `h1`), the date and
//! source from common `<meta>` tags. HTML needs the whole input in memory; section byte
//! ranges are located by searching the heading text in the source and are approximate.

use scraper::{ElementRef, Html, Node, Selector};

use super::builder::SectionBuilder;
use super::sentences::normalize_whitespace;
use super::text::{is_caption, parse_numbered, TextHeader};
use super::{parse_date, IngestError, Section};

const SKIPPED: &[&str] = &[
    "script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg", "form",
    "button", "iframe", "select", "head", "menu", "canvas",
];
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "section",
    "article",
    "main",
    "body",
    "table",
    "tr",
    "td",
    "th",
    "figure",
    "br",
    "hr",
    "address",
    "details",
    "summary",
];

/// Nesting depth beyond which elements are read as plain text.
const MAX_DEPTH: usize = 200;

/// Parses an HTML page; notes receive a line about recovered syntax errors.
pub(crate) fn parse_html(
    source: &str,
    mut builder: SectionBuilder<'_>,
    notes: &mut Vec<String>,
) -> Result<(TextHeader, Vec<Section>), IngestError> {
    let html = Html::parse_document(source);
    if !html.errors.is_empty() {
        notes.push(format!(
            "recovered from {} HTML syntax error(s)",
            html.errors.len()
        ));
    }
    let mut header = TextHeader::default();
    let title = select_text(&html, "title");
    let mut walker = Walker {
        buf: String::new(),
        source,
        cursor: 0,
        use_h1_as_title: title.is_none(),
        headings: 0,
        blocks: 0,
    };
    header.title = title;
    header.date = meta(
        &html,
        &["date", "article:published_time", "dc.date", "pubdate"],
    )
    .or_else(|| attr(&html, "time[datetime]", "datetime"))
    .and_then(|d| parse_date(&d));
    header.source = meta(&html, &["og:site_name", "author", "dc.publisher"]);
    walker.walk(html.root_element(), &mut builder, &mut header, 0);
    walker.flush(&mut builder);
    if walker.blocks == 0 && walker.headings == 0 {
        return Err(IngestError::NoText);
    }
    Ok((header, builder.finish(source.len())))
}

struct Walker<'s> {
    buf: String,
    source: &'s str,
    /// Where the previous heading was found in the source.
    cursor: usize,
    use_h1_as_title: bool,
    headings: usize,
    blocks: usize,
}

impl Walker<'_> {
    fn walk(
        &mut self,
        el: ElementRef<'_>,
        b: &mut SectionBuilder<'_>,
        header: &mut TextHeader,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            // Pathologically deep markup: keep the text, skip the structure (and the recursion).
            self.buf.extend(el.text());
            return;
        }
        for child in el.children() {
            match child.value() {
                Node::Text(t) => self.buf.push_str(t),
                Node::Element(e) => {
                    let Some(child_el) = ElementRef::wrap(child) else {
                        continue;
                    };
                    let name = e.name();
                    if SKIPPED.contains(&name) {
                        continue;
                    }
                    if let Some(level) = name
                        .strip_prefix('h')
                        .and_then(|l| l.parse::<u8>().ok())
                        .filter(|l| (1..=6).contains(l))
                    {
                        self.flush(b);
                        let text = normalize_whitespace(&child_el.text().collect::<String>());
                        if text.is_empty() {
                            continue;
                        }
                        self.headings += 1;
                        if level == 1 && self.use_h1_as_title {
                            self.use_h1_as_title = false;
                            header.title = Some(text);
                            continue;
                        }
                        let offset = match self.source[self.cursor..].find(text.as_str()) {
                            Some(i) => self.cursor + i,
                            None => self.cursor,
                        };
                        self.cursor = offset;
                        let (number, heading) = match parse_numbered(&text) {
                            Some((n, h)) => (Some(n), h),
                            None => (None, text),
                        };
                        b.heading(number, &heading, offset);
                    } else if name == "figcaption" {
                        self.flush(b);
                        b.caption(&child_el.text().collect::<String>());
                    } else if BLOCKS.contains(&name) {
                        self.flush(b);
                        self.walk(child_el, b, header, depth + 1);
                        self.flush(b);
                    } else {
                        self.walk(child_el, b, header, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn flush(&mut self, b: &mut SectionBuilder<'_>) {
        let text = normalize_whitespace(&self.buf);
        self.buf.clear();
        if text.is_empty() {
            return;
        }
        self.blocks += 1;
        if is_caption(&text) {
            b.caption(&text);
        } else {
            b.paragraph(&text);
        }
    }
}

fn select_text(html: &Html, selector: &str) -> Option<String> {
    let sel = Selector::parse(selector).ok()?;
    let text = normalize_whitespace(&html.select(&sel).next()?.text().collect::<String>());
    (!text.is_empty()).then_some(text)
}

fn attr(html: &Html, selector: &str, name: &str) -> Option<String> {
    let sel = Selector::parse(selector).ok()?;
    html.select(&sel)
        .find_map(|e| e.value().attr(name))
        .map(str::to_string)
}

fn meta(html: &Html, names: &[&str]) -> Option<String> {
    let sel = Selector::parse("meta").ok()?;
    names.iter().find_map(|want| {
        html.select(&sel).find_map(|e| {
            let v = e.value();
            let key = v.attr("name").or_else(|| v.attr("property"))?;
            key.eq_ignore_ascii_case(want)
                .then(|| v.attr("content"))
                .flatten()
                .map(|c| c.trim().to_string())
        })
    })
}
