//! PDF input: positioned glyphs in, the same blocks every other parser feeds the
//! [`SectionBuilder`] out.
//!
//! `pdf-extract` (pure Rust, over `lopdf`) interprets each page's content stream and reports
//! every glyph with its position and size; everything about layout is decided here, because
//! its own plain-text output runs the columns of a page together and keeps running headers,
//! page numbers and line-end hyphens. The steps: glyphs become line segments (a wide gap splits
//! a line in two, so the two columns of a page never share a segment); a vertical gutter that
//! almost no segment crosses makes a page two columns, read left then right between full-width
//! segments (a page with too little text for its own, such as a last page whose right column
//! has just begun, takes the gutter the other pages share when nothing crosses it); the top and
//! bottom lines of a page that repeat on other pages (digits ignored) or are page numbers are
//! dropped; lines group into blocks on a change of size, column or a vertical gap larger than
//! the body's own line spacing (Chinese is often set at 1.5 lines or more), and
//! a block cut by a column or page break rejoins its continuation when it ended mid-sentence on
//! a line with no room for the continuation's first word (which works for ragged, justified
//! and centred lines alike; Chinese, which has no spaces, counts its first character as that
//! word, and its line breaks join without a space; in justified text a line flush with the
//! right edge also goes on); lines that justification stretched until their word gaps split
//! them are put back together (the gaps are all equal and the pieces run from edge to edge);
//! a short line under a full-width title, left of the gutter, stays with the title. A
//! line-end hyphen is decided by the word: the document's own spelling first, then an English
//! word list (`municipal-`/`level` keeps it, `coordi-`/`nated` loses it); a browser's U+2010
//! where the text writes U+002D is always the typesetter's, and a document whose hyphens all
//! join words (a browser without hyphenation dictionaries) keeps them. Ligature glyphs
//! (`ﬁ`) are spelled out. The
//! title is the largest text at the top of the first page; headings are blocks set larger than
//! the body text or named by the document outline; seed-style `Date:`/`Source:` lines and the
//! metadata's creation date give the date.
//!
//! The extractor is third-party code that panics on some malformed files, so it runs on its
//! own thread (with a large stack, for deeply nested objects) and a panic becomes
//! [`PdfError::Extractor`]; encrypted files and files without a text layer are refused with a
//! reason, so [`super::ingest_paths`] skips them and the batch goes on.

mod extract;
mod hyphens;
mod layout;

use std::collections::{HashMap, HashSet};

use super::builder::SectionBuilder;
use super::parse_date;
use super::sentences::normalize_whitespace;
use super::text::{header_field, is_caption, parse_numbered, take_field, TextHeader};
use super::Section;
use extract::extract;
use hyphens::{join_lines, Hyphens};
use layout::{
    blocks, drop_marginals, gutters, reading_order, rejoin_justified, segments, Block, Columns,
    Segment,
};

/// Largest PDF read (bytes): the whole file is parsed in memory.
pub(crate) const MAX_PDF_BYTES: usize = 256 << 20;
/// Glyphs collected before the rest of a (hostile or enormous) file is ignored.
const MAX_GLYPHS: usize = 20_000_000;

/// Why a PDF gave no document.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("encrypted PDF (needs a password): decrypt it first, e.g. `qpdf --decrypt IN OUT`")]
    Encrypted,
    #[error(
        "no text layer on any of its {pages} page(s) (scanned?): run OCR first, e.g. `ocrmypdf`"
    )]
    NoTextLayer { pages: usize },
    #[error("broken PDF: {0}")]
    Broken(String),
    #[error("the PDF text extractor failed: {0}")]
    Extractor(String),
    #[error("PDF of {0} bytes is over the {MAX_PDF_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("this simsum was built without PDF support (cargo feature `pdf`); rebuild with `--features pdf`, or convert the file to text first, e.g. `pdftotext -layout IN OUT.txt`")]
    NotBuilt,
}

/// One glyph (or ligature) as drawn: top-left-origin coordinates in points.
#[derive(Debug, Clone)]
pub(super) struct Glyph {
    pub(super) x: f64,
    /// Baseline, measured down from the top of the page.
    pub(super) y: f64,
    /// Advance width.
    pub(super) w: f64,
    pub(super) size: f64,
    pub(super) text: String,
}

#[derive(Debug, Default)]
pub(super) struct Page {
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) glyphs: Vec<Glyph>,
}

/// Parses a PDF held in memory into a header and sections.
pub(crate) fn parse_pdf(
    bytes: &[u8],
    mut builder: SectionBuilder<'_>,
    notes: &mut Vec<String>,
) -> Result<(TextHeader, Vec<Section>), PdfError> {
    if bytes.len() > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge(bytes.len()));
    }
    let ex = extract(bytes)?;
    if ex.truncated {
        notes.push(format!(
            "over {MAX_GLYPHS} glyphs: the rest of the file was left out"
        ));
    }
    let page_count = ex.pages.len();
    if ex.pages.iter().all(|p| p.glyphs.is_empty()) {
        return Err(PdfError::NoTextLayer { pages: page_count });
    }
    let mut pages: Vec<Vec<Segment>> = ex
        .pages
        .iter()
        .enumerate()
        .map(|(n, p)| segments(n, &p.glyphs))
        .collect();
    let dropped = drop_marginals(&mut pages, &ex.pages);
    if dropped > 0 {
        notes.push(format!(
            "left out {dropped} running header, footer or page-number line(s)"
        ));
    }
    let gutters = gutters(&pages, &ex.pages);
    let mut flow = Vec::new();
    for (segs, gutter) in pages.into_iter().zip(gutters) {
        let columns = Columns::new(&segs, gutter);
        flow.extend(reading_order(rejoin_justified(segs, columns), columns));
    }
    let blocks = blocks(&flow);
    let hyphens = Hyphens::of(&flow);
    let mut header = TextHeader::default();
    let end = emit(&blocks, &hyphens, &ex.outline, &mut header, &mut builder);
    if header.title.is_none() {
        header.title = ex.info_title.clone().filter(|t| !t.trim().is_empty());
    }
    if header.date.is_none() {
        header.date = ex.info_date.as_deref().and_then(pdf_date);
    }
    let sections = builder.finish(end);
    Ok((header, sections))
}

/// A PDF date (`D:YYYYMMDDHHmmSS...`) as `YYYY-MM-DD`.
fn pdf_date(s: &str) -> Option<String> {
    let s = s.trim().trim_start_matches("D:");
    let digits = s.get(..8)?;
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    parse_date(&format!(
        "{}-{}-{}",
        &digits[..4],
        &digits[4..6],
        &digits[6..8]
    ))
}

/// Classifies the blocks and feeds them to the builder; returns the length of the text the
/// section offsets refer to (the blocks' texts, each followed by a blank line).
fn emit(
    blocks: &[Block],
    hyphens: &Hyphens,
    outline: &[String],
    header: &mut TextHeader,
    builder: &mut SectionBuilder<'_>,
) -> usize {
    // The body size: the size most characters are set in.
    let mut by_size: HashMap<i64, usize> = HashMap::new();
    for b in blocks {
        for l in &b.lines {
            *by_size
                .entry((l.seg.size * 2.0).round() as i64)
                .or_default() += l.seg.text.len();
        }
    }
    let body = by_size
        .into_iter()
        .max_by_key(|&(size, n)| (n, -size))
        .map_or(10.0, |(s, _)| s as f64 / 2.0);
    let outline: HashSet<String> = outline.iter().map(|t| t.to_lowercase()).collect();
    let first_page = blocks.first().map_or(0, |b| b.lines[0].seg.page);
    let largest_on_first = blocks
        .iter()
        .filter(|b| b.lines[0].seg.page == first_page)
        .map(Block::size)
        .fold(0.0, f64::max);
    let mut offset = 0usize;
    let mut in_header = true;
    for (i, block) in blocks.iter().enumerate() {
        let mut lines: Vec<&str> = block.lines.iter().map(|l| l.seg.text.as_str()).collect();
        // Header fields set in the body's size run straight into the paragraph after them
        // (`Source: ...` / `Editor's Note: ...`): take them, and go on with the rest.
        let fields = lines
            .iter()
            .take_while(|l| header_field(l).is_some())
            .count();
        if in_header && header.title.is_some() && fields > 0 && fields < lines.len() {
            for line in &lines[..fields] {
                take_field(line, header);
                offset += line.len() + 2;
            }
            lines.drain(..fields);
        }
        let text = normalize_whitespace(&join_lines(&lines, hyphens));
        let start = offset;
        offset += text.len() + 2;
        // The title: the largest text among the first blocks of the first page.
        if i < 3
            && header.title.is_none()
            && block.lines[0].seg.page == first_page
            && block.size() >= largest_on_first - 0.1
            && block.size() > body * 1.15
        {
            header.title = Some(text);
            continue;
        }
        if in_header && lines.iter().all(|l| header_field(l).is_some()) {
            for line in &lines {
                take_field(line, header);
            }
            continue;
        }
        // What comes before the title (a one-page document's running header, which no other
        // page repeats) does not end the header fields that follow the title.
        if header.title.is_some() || i >= 3 {
            in_header = false;
        }
        let heading_sized = block.size() > body * 1.12 && text.chars().count() <= 200;
        if heading_sized || outline.contains(&text.to_lowercase()) {
            let (number, heading) = match parse_numbered(&text) {
                Some((n, h)) => (Some(n), h),
                None => (None, text),
            };
            builder.heading(number, &heading, start);
        } else if is_caption(&text) {
            builder.caption(&text);
        } else {
            builder.paragraph(&text);
        }
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates() {
        assert_eq!(
            pdf_date("D:20230129090000+08'00'").as_deref(),
            Some("2023-01-29")
        );
        assert_eq!(pdf_date("D:2023"), None);
        assert_eq!(pdf_date("garbage!"), None);
    }
}
