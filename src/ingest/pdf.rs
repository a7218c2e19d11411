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
//! word, and its line breaks join without a space); line-end hyphens are removed unless the document spells the
//! hyphenated word elsewhere (the halves of hyphenated words do not count as its words). The
//! title is the largest text at the top of the first page; headings are blocks set larger than
//! the body text or named by the document outline; seed-style `Date:`/`Source:` lines and the
//! metadata's creation date give the date.
//!
//! The extractor is third-party code that panics on some malformed files, so it runs on its
//! own thread (with a large stack, for deeply nested objects) and a panic becomes
//! [`PdfError::Extractor`]; encrypted files and files without a text layer are refused with a
//! reason, so [`super::ingest_paths`] skips them and the batch goes on.

use std::collections::{HashMap, HashSet};

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use super::builder::SectionBuilder;
use super::parse_date;
use super::sentences::{has_terminal_punctuation, normalize_whitespace};
use super::text::{header_field, is_caption, parse_numbered, take_field, TextHeader};
use super::Section;

/// Largest PDF read (bytes): the whole file is parsed in memory.
pub(crate) const MAX_PDF_BYTES: usize = 256 << 20;
/// Glyphs collected before the rest of a (hostile or enormous) file is ignored.
const MAX_GLYPHS: usize = 20_000_000;
/// Stack of the extractor thread: `lopdf` recurses into nested objects.
const EXTRACTOR_STACK: usize = 256 << 20;

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
}

/// One glyph (or ligature) as drawn: top-left-origin coordinates in points.
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    /// Baseline, measured down from the top of the page.
    y: f64,
    /// Advance width.
    w: f64,
    size: f64,
    text: String,
}

#[derive(Debug, Default)]
struct Page {
    width: f64,
    height: f64,
    glyphs: Vec<Glyph>,
}

/// What the extractor thread hands back.
#[derive(Debug, Default)]
struct Extracted {
    pages: Vec<Page>,
    outline: Vec<String>,
    info_title: Option<String>,
    info_date: Option<String>,
    truncated: bool,
}

/// Collects glyphs page by page (the `OutputDev` pdf-extract drives).
#[derive(Default)]
struct Collector {
    pages: Vec<Page>,
    glyphs: usize,
    truncated: bool,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        let dim = |a: f64, b: f64| {
            let d = (a - b).abs();
            if d.is_finite() && d > 1.0 {
                d
            } else {
                842.0
            }
        };
        self.pages.push(Page {
            width: dim(media_box.urx, media_box.llx),
            height: dim(media_box.ury, media_box.lly),
            glyphs: Vec::new(),
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        if self.glyphs >= MAX_GLYPHS {
            self.truncated = true;
            return Ok(());
        }
        let Some(page) = self.pages.last_mut() else {
            return Ok(());
        };
        // The size as drawn: the font size scaled by the text matrix (any rotation ignored).
        let scale = (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let size = (font_size * scale).abs();
        let (x, y) = (trm.m31, page.height - trm.m32);
        if !(x.is_finite() && y.is_finite() && size.is_finite() && width.is_finite()) || size < 0.5
        {
            return Ok(());
        }
        if text.chars().all(char::is_control) {
            return Ok(());
        }
        self.glyphs += 1;
        page.glyphs.push(Glyph {
            x,
            y,
            w: (width * size).max(0.0),
            size,
            text: text.to_string(),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
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
        flow.extend(reading_order(segs, gutter));
    }
    let blocks = blocks(&flow);
    let vocabulary = vocabulary(&flow);
    let mut header = TextHeader::default();
    let end = emit(&blocks, &vocabulary, &ex.outline, &mut header, &mut builder);
    if header.title.is_none() {
        header.title = ex.info_title.clone().filter(|t| !t.trim().is_empty());
    }
    if header.date.is_none() {
        header.date = ex.info_date.as_deref().and_then(pdf_date);
    }
    let sections = builder.finish(end);
    Ok((header, sections))
}

/// Runs the extractor on its own thread; a panic in it becomes an error.
fn extract(bytes: &[u8]) -> Result<Extracted, PdfError> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("pdf-extract".into())
            .stack_size(EXTRACTOR_STACK)
            .spawn_scoped(scope, || extract_inner(bytes))
            .map_err(|e| PdfError::Extractor(format!("cannot start its thread: {e}")))?;
        handle.join().unwrap_or_else(|payload| {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panicked".into());
            Err(PdfError::Extractor(format!("it panicked: {msg}")))
        })
    })
}

fn extract_inner(bytes: &[u8]) -> Result<Extracted, PdfError> {
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| load_error(e.to_string()))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(PdfError::Encrypted);
    }
    if doc.get_pages().is_empty() {
        return Err(PdfError::Broken("no pages".into()));
    }
    let mut collector = Collector::default();
    pdf_extract::output_doc(&doc, &mut collector).map_err(|e| match e {
        OutputError::PdfError(e) => load_error(e.to_string()),
        e => PdfError::Extractor(e.to_string()),
    })?;
    let outline = doc
        .get_toc()
        .map(|t| {
            t.toc
                .into_iter()
                .map(|e| normalize_whitespace(&e.title))
                .collect()
        })
        .unwrap_or_default();
    let info = doc.trailer.get(b"Info").ok().and_then(|o| match o {
        pdf_extract::Object::Reference(id) => doc.get_dictionary(*id).ok(),
        pdf_extract::Object::Dictionary(d) => Some(d),
        _ => None,
    });
    let info_text = |key: &[u8]| {
        info.and_then(|d| d.get(key).ok())
            .and_then(|o| o.as_str().ok())
            .map(decode_pdf_string)
    };
    Ok(Extracted {
        info_title: info_text(b"Title"),
        info_date: info_text(b"CreationDate"),
        pages: collector.pages,
        outline,
        truncated: collector.truncated,
    })
}

fn load_error(msg: String) -> PdfError {
    if msg.to_ascii_lowercase().contains("decrypt") || msg.to_ascii_lowercase().contains("encrypt")
    {
        PdfError::Encrypted
    } else {
        PdfError::Broken(msg)
    }
}

/// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding (Latin-1 near enough).
fn decode_pdf_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Ok(s) = std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)) {
        return s.to_string();
    }
    bytes.iter().map(|&b| b as char).collect()
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

/// A run of glyphs on one baseline with no wide gap: part of one line of one column.
#[derive(Debug, Clone)]
struct Segment {
    page: usize,
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
    /// Width of the first word: whether it would have fit at the end of the line before.
    first_w: f64,
}

/// Groups a page's glyphs into segments, top to bottom, left to right.
fn segments(page: usize, glyphs: &[Glyph]) -> Vec<Segment> {
    let mut order: Vec<&Glyph> = glyphs.iter().collect();
    order.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    // Lines: glyphs whose baselines are within a fraction of the font size.
    let mut lines: Vec<Vec<&Glyph>> = Vec::new();
    for g in order {
        match lines.last_mut() {
            Some(line) if (g.y - line[0].y).abs() <= 0.35 * g.size.min(line[0].size) => {
                line.push(g)
            }
            _ => lines.push(vec![g]),
        }
    }
    let mut out = Vec::new();
    for mut line in lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut seg: Option<Segment> = None;
        for g in line {
            let gap_to = |s: &Segment| g.x - s.x1;
            match seg.as_mut() {
                // A gap wider than about an em: another column (or a table cell).
                Some(s) if gap_to(s) > 1.2 * g.size.max(s.size) => {
                    out.extend(finish_segment(seg.take()));
                    seg = Some(new_segment(page, g));
                }
                Some(s) => {
                    let gap = gap_to(s);
                    let spaced = s.text.ends_with(char::is_whitespace)
                        || g.text.starts_with(char::is_whitespace);
                    let space = !spaced && gap > 0.15 * g.size;
                    if (space || g.text.starts_with(char::is_whitespace))
                        && s.first_w.is_nan()
                        && !s.text.trim().is_empty()
                    {
                        s.first_w = s.x1 - s.x0;
                    }
                    if space {
                        s.text.push(' ');
                    }
                    s.text.push_str(&g.text);
                    s.x1 = s.x1.max(g.x + g.w);
                    s.size = s.size.max(g.size);
                }
                None => seg = Some(new_segment(page, g)),
            }
        }
        out.extend(finish_segment(seg));
    }
    out
}

fn new_segment(page: usize, g: &Glyph) -> Segment {
    // Chinese has no spaces: its first "word", for deciding whether a line was full, is its
    // first character.
    let chinese = g.text.starts_with(crate::text::cjk::is_cjk);
    Segment {
        page,
        x0: g.x,
        x1: g.x + g.w,
        y: g.y,
        size: g.size,
        text: g.text.clone(),
        // Set when the first space is seen (NaN: not yet).
        first_w: if chinese { g.w } else { f64::NAN },
    }
}

fn finish_segment(seg: Option<Segment>) -> Option<Segment> {
    let mut s = seg?;
    if s.first_w.is_nan() {
        s.first_w = s.x1 - s.x0;
    }
    s.text = normalize_whitespace(&s.text);
    (!s.text.is_empty()).then_some(s)
}

/// Removes running headers, footers and page numbers: the topmost and bottommost lines of each
/// page that are page numbers or that repeat (digits ignored) on another page. Returns how
/// many segments went.
fn drop_marginals(pages: &mut [Vec<Segment>], dims: &[Page]) -> usize {
    let key = |s: &Segment| -> String {
        s.text
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .flat_map(char::to_lowercase)
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    // Which segments are at the top or bottom edge of their page's text.
    let edge = |segs: &[Segment], page: &Page| -> Vec<bool> {
        let (Some(top), Some(bottom)) = (
            segs.iter().map(|s| s.y).min_by(f64::total_cmp),
            segs.iter().map(|s| s.y).max_by(f64::total_cmp),
        ) else {
            return vec![false; segs.len()];
        };
        let band = 0.12 * page.height;
        segs.iter()
            .map(|s| {
                ((s.y - top).abs() < 1.0 && s.y < band)
                    || ((s.y - bottom).abs() < 1.0 && s.y > page.height - band)
            })
            .collect()
    };
    let edges: Vec<Vec<bool>> = pages.iter().zip(dims).map(|(s, p)| edge(s, p)).collect();
    let mut seen: HashMap<String, HashSet<usize>> = HashMap::new();
    for (segs, flags) in pages.iter().zip(&edges) {
        for (s, _) in segs.iter().zip(flags).filter(|(_, &f)| f) {
            seen.entry(key(s)).or_default().insert(s.page);
        }
    }
    let mut dropped = 0;
    for (segs, flags) in pages.iter_mut().zip(&edges) {
        let mut i = 0;
        segs.retain(|s| {
            let at_edge = flags[i];
            i += 1;
            let repeated = seen.get(&key(s)).is_some_and(|p| p.len() >= 2);
            let drop = at_edge && (repeated || is_page_number(&s.text));
            dropped += drop as usize;
            !drop
        });
    }
    dropped
}

/// `12`, `- 12 -`, `Page 12`, `12 of 30`, `Page 3/10`, `xii`.
fn is_page_number(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let t = t.trim_matches(|c: char| c == '-' || c == '\u{2013}' || c.is_whitespace());
    let t = t.strip_prefix("page").unwrap_or(t).trim();
    let words: Vec<&str> = t.split([' ', '/']).filter(|w| !w.is_empty()).collect();
    let num = |w: &str| {
        (!w.is_empty() && w.len() <= 5 && w.chars().all(|c| c.is_ascii_digit()))
            || (w.len() <= 6 && w.chars().all(|c| "ivxlc".contains(c)) && !w.is_empty())
    };
    match words[..] {
        [n] => num(n),
        [a, "of", b] => num(a) && num(b),
        [a, b] => num(a) && num(b),
        _ => false,
    }
}

/// A segment placed in the reading order, with the horizontal extent of its column.
#[derive(Debug, Clone)]
struct Line {
    seg: Segment,
    /// 0: full width, 1: left column, 2: right column.
    column: u8,
    /// Left and right edges of the column's text on its page.
    col_x0: f64,
    col_x1: f64,
}

impl Line {
    /// Whether the line ran out of room: the first word of `next` would not have fit after it
    /// in its column. Whatever the alignment (ragged, justified or centred), a line that ends
    /// with room to spare for the next word ended its paragraph.
    fn is_full(&self, next: &Segment) -> bool {
        let s = &self.seg;
        let room = (self.col_x1 - self.col_x0) - (s.x1 - s.x0);
        // A word space is about a quarter of an em; a little less, to err towards "full".
        room < 0.2 * s.size + next.first_w
    }
}

/// The gutter of each page. A page's own gutter needs enough text on both sides; a page that
/// has too little for that (the last page, its right column only begun) takes the gutter most
/// other pages share, if no more of its segments cross it than a gutter allows and both sides
/// hold text.
fn gutters(pages: &[Vec<Segment>], dims: &[Page]) -> Vec<Option<f64>> {
    let own: Vec<Option<f64>> = pages
        .iter()
        .zip(dims)
        .map(|(segs, page)| find_gutter(page.width, segs))
        .collect();
    let mut votes: HashMap<i64, (usize, f64)> = HashMap::new();
    for g in own.iter().flatten() {
        let v = votes.entry(g.round() as i64).or_insert((0, *g));
        v.0 += 1;
    }
    let usual = votes
        .into_values()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|v| v.1);
    own.into_iter()
        .zip(pages)
        .map(|(g, segs)| {
            g.or_else(|| {
                let u = usual?;
                let crossing = segs
                    .iter()
                    .filter(|s| s.x0 < u - 1.0 && s.x1 > u + 1.0)
                    .count();
                let left = segs.iter().any(|s| s.x1 <= u);
                let right = segs.iter().any(|s| s.x0 >= u);
                (crossing <= segs.len() / 20 && left && right).then_some(u)
            })
        })
        .collect()
}

/// Orders one page's segments for reading: top to bottom, and on a two-column page (one with a
/// gutter) the left column before the right one between full-width segments.
fn reading_order(mut segs: Vec<Segment>, gutter: Option<f64>) -> Vec<Line> {
    segs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let extent = |col: u8, segs: &[Segment]| {
        let mut x0 = f64::INFINITY;
        let mut x1 = f64::NEG_INFINITY;
        for s in segs.iter().filter(|s| column_of(s, gutter) == col) {
            x0 = x0.min(s.x0);
            x1 = x1.max(s.x1);
        }
        (x0, x1)
    };
    let extents = [extent(0, &segs), extent(1, &segs), extent(2, &segs)];
    let mut out = Vec::with_capacity(segs.len());
    let mut band: Vec<Segment> = Vec::new();
    let flush = |band: &mut Vec<Segment>, out: &mut Vec<Line>| {
        // Stable sort: left column first, each in top-to-bottom order.
        band.sort_by_key(|s| column_of(s, gutter));
        out.extend(band.drain(..).map(|seg| {
            let column = column_of(&seg, gutter);
            let (col_x0, col_x1) = extents[column as usize];
            Line {
                seg,
                column,
                col_x0,
                col_x1,
            }
        }));
    };
    for s in segs {
        if column_of(&s, gutter) == 0 {
            flush(&mut band, &mut out);
            band.push(s);
            flush(&mut band, &mut out);
        } else {
            band.push(s);
        }
    }
    flush(&mut band, &mut out);
    out
}

fn column_of(s: &Segment, gutter: Option<f64>) -> u8 {
    match gutter {
        Some(g) if s.x1 <= g => 1,
        Some(g) if s.x0 >= g => 2,
        _ => 0,
    }
}

/// The x of a vertical gap in the middle half of the page that (almost) no segment crosses and
/// with text on both sides, if the page has one.
fn find_gutter(width: f64, segs: &[Segment]) -> Option<f64> {
    if segs.len() < 4 || !(width.is_finite() && width > 10.0 && width < 1e5) {
        return None;
    }
    let bins = width.ceil() as usize + 1;
    let mut cover = vec![0usize; bins];
    for s in segs {
        let a = s.x0.clamp(0.0, width) as usize;
        let b = s.x1.clamp(0.0, width) as usize;
        for c in &mut cover[a..=b.min(bins - 1)] {
            *c += 1;
        }
    }
    let allowed = segs.len() / 20;
    let (lo, hi) = ((width * 0.25) as usize, (width * 0.75) as usize);
    let mut best: Option<(usize, usize)> = None;
    let mut start: Option<usize> = None;
    for (x, &c) in cover.iter().enumerate().take(hi + 1).skip(lo) {
        let open = c <= allowed;
        if open && start.is_none() {
            start = Some(x);
        }
        if let Some(s) = start.filter(|_| !open || x == hi) {
            if best.is_none_or(|b| x - s > b.1 - b.0) {
                best = Some((s, x));
            }
            start = None;
        }
    }
    let (a, b) = best?;
    if b - a < 6 {
        return None;
    }
    let g = (a + b) as f64 / 2.0;
    let left = segs.iter().filter(|s| s.x1 <= g).count();
    let right = segs.iter().filter(|s| s.x0 >= g).count();
    (left * 5 >= segs.len() && right * 5 >= segs.len()).then_some(g)
}

/// Consecutive lines of one paragraph, heading or caption.
#[derive(Debug)]
struct Block {
    lines: Vec<Line>,
}

impl Block {
    fn size(&self) -> f64 {
        self.lines[0].seg.size
    }
}

/// Line pitch, in font sizes, up to which two lines belong to one block, unless the body's own
/// pitch is wider (Chinese text is often set at 1.5 or more).
const MAX_PITCH: f64 = 1.45;

/// The pitch (baseline to baseline, in font sizes) that most consecutive lines of the same
/// size keep: the document's line spacing.
fn usual_pitch(flow: &[Line]) -> f64 {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for pair in flow.windows(2) {
        let (p, s) = (&pair[0].seg, &pair[1].seg);
        if p.page == s.page && pair[0].column == pair[1].column && (p.size - s.size).abs() <= 0.6 {
            let pitch = (s.y - p.y) / p.size.max(s.size);
            if pitch > 0.0 && pitch < 4.0 {
                *counts.entry((pitch * 20.0).round() as i64).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(k, n)| (n, std::cmp::Reverse(k)))
        .map_or(0.0, |(k, _)| k as f64 / 20.0)
}

/// Groups the reading-order lines into blocks.
fn blocks(flow: &[Line]) -> Vec<Block> {
    let max_pitch = MAX_PITCH.max(1.1 * usual_pitch(flow));
    let mut out: Vec<Block> = Vec::new();
    // Whether the block was cut only by a column or page break.
    let mut cut_by_break = Vec::new();
    for line in flow {
        let Some(block) = out.last_mut() else {
            out.push(Block {
                lines: vec![line.clone()],
            });
            cut_by_break.push(false);
            continue;
        };
        let prev = block.lines.last().expect("blocks are never empty");
        let (p, s) = (&prev.seg, &line.seg);
        let same_place = p.page == s.page && prev.column == line.column;
        let same_size = (p.size - s.size).abs() <= 0.6;
        let pitch = s.y - p.y;
        let ends_short = has_terminal_punctuation(&p.text) && !prev.is_full(s);
        if same_place
            && same_size
            && pitch > 0.0
            && pitch <= max_pitch * p.size.max(s.size)
            && !ends_short
        {
            block.lines.push(line.clone());
            continue;
        }
        out.push(Block {
            lines: vec![line.clone()],
        });
        cut_by_break.push(!same_place && same_size);
    }
    // Rejoin a paragraph (or caption) cut by a column or page break: the part before ended
    // without ending its sentence, on a line with no room left for the next part's first word.
    let mut merged: Vec<Block> = Vec::with_capacity(out.len());
    for (block, cut) in out.into_iter().zip(cut_by_break) {
        if let Some(prev) = merged.last_mut() {
            let last = prev.lines.last().expect("blocks are never empty");
            let full = last.is_full(&block.lines[0].seg);
            let open = !has_terminal_punctuation(&last.seg.text);
            if cut && full && open {
                prev.lines.extend(block.lines);
                continue;
            }
        }
        merged.push(block);
    }
    merged
}

/// Every word of the document, for deciding whether a line-end hyphen belongs to the word.
/// The two halves of a word hyphenated at a line end are left out: `coordi-`/`nated` would
/// otherwise count as words.
fn vocabulary(flow: &[Line]) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut after_hyphen = false;
    for line in flow {
        let words: Vec<&str> = line.seg.text.split_whitespace().collect();
        let hyphenated = line_end_hyphen(&line.seg.text).is_some();
        for (i, w) in words.iter().enumerate() {
            if (i == 0 && after_hyphen) || (i + 1 == words.len() && hyphenated) {
                continue;
            }
            let w = trim_word(w).to_lowercase();
            if !w.is_empty() {
                out.insert(w);
            }
        }
        after_hyphen = hyphenated;
    }
    out
}

/// The hyphen a line ends with, when it ends a word part (`co-`, not a dash `--` or ` -`).
fn line_end_hyphen(text: &str) -> Option<char> {
    let h = ['-', '\u{00AD}', '\u{2010}']
        .into_iter()
        .find(|&h| text.ends_with(h))?;
    text[..text.len() - h.len_utf8()]
        .ends_with(char::is_alphanumeric)
        .then_some(h)
}

fn trim_word(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
        .trim_matches('-')
}

/// Joins a block's lines, repairing words hyphenated at line ends.
fn join_lines(lines: &[&str], vocabulary: &HashSet<String>) -> String {
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
                let joined = format!("{}{}", trim_word(stem), trim_word(next_word)).to_lowercase();
                let hyphenated =
                    format!("{}-{}", trim_word(stem), trim_word(next_word)).to_lowercase();
                // A soft hyphen is always the typesetter's; a hard one stays when the document
                // spells the word with it, or when the word already had one and goes on with
                // a word of its own (`people-to-`/`people`, not `well-coordi-`/`nated`).
                let keep = h != '\u{00AD}'
                    && (vocabulary.contains(&hyphenated)
                        || (!vocabulary.contains(&joined)
                            && trim_word(stem).contains('-')
                            && vocabulary.contains(&trim_word(next_word).to_lowercase())));
                if !keep {
                    text.truncate(text.len() - h.len_utf8());
                }
                text.push_str(line);
            }
            // A compound broken at its own hyphen before a capital or a digit (`China-`/`EU`,
            // `Covid-`/`19`): the hyphen stays and no space comes in.
            Some(_) if next.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()) => {
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

/// Classifies the blocks and feeds them to the builder; returns the length of the text the
/// section offsets refer to (the blocks' texts, each followed by a blank line).
fn emit(
    blocks: &[Block],
    vocabulary: &HashSet<String>,
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
        let lines: Vec<&str> = block.lines.iter().map(|l| l.seg.text.as_str()).collect();
        let text = normalize_whitespace(&join_lines(&lines, vocabulary));
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
        in_header = false;
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
    fn page_numbers() {
        for t in ["12", "- 12 -", "Page 3", "page 3 of 10", "3/10", "xii"] {
            assert!(is_page_number(t), "{t}");
        }
        for t in ["2021 China-EU Meeting", "Page", "Chapter 3", "In 2022"] {
            assert!(!is_page_number(t), "{t}");
        }
    }

    #[test]
    fn hyphens_at_line_ends() {
        let vocab: HashSet<String> = ["people-to-people", "cooperation", "well-coordinated"]
            .into_iter()
            .map(String::from)
            .collect();
        let j = |a: &str, b: &str| join_lines(&[a, b], &vocab);
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
        assert_eq!(j("unknown hyphen\u{00AD}", "ation"), "unknown hyphenation");
        assert_eq!(j("one line", "two lines"), "one line two lines");
    }

    #[test]
    fn pdf_dates() {
        assert_eq!(
            pdf_date("D:20230129090000+08'00'").as_deref(),
            Some("2023-01-29")
        );
        assert_eq!(pdf_date("D:2023"), None);
        assert_eq!(pdf_date("garbage!"), None);
    }

    #[test]
    fn gutter_between_two_columns() {
        let seg = |x0: f64, x1: f64, y: f64| Segment {
            page: 0,
            x0,
            x1,
            y,
            size: 10.0,
            text: "text".into(),
            first_w: 20.0,
        };
        let mut two = Vec::new();
        for i in 0..20 {
            two.push(seg(50.0, 290.0, 100.0 + 12.0 * i as f64));
            two.push(seg(310.0, 550.0, 100.0 + 12.0 * i as f64));
        }
        let g = find_gutter(600.0, &two).expect("a gutter");
        assert!((290.0..=310.0).contains(&g), "{g}");
        let one: Vec<Segment> = (0..20)
            .map(|i| seg(50.0, 550.0, 100.0 + 12.0 * i as f64))
            .collect();
        assert_eq!(find_gutter(600.0, &one), None);
        // Left column read before the right one.
        let order: Vec<f64> = reading_order(two.clone(), Some(g))
            .iter()
            .map(|l| l.seg.x0)
            .collect();
        assert!(order[..20].iter().all(|&x| x == 50.0));
        // A last page with its right column only begun takes the other pages' gutter.
        let mut last: Vec<Segment> = two.iter().filter(|s| s.x0 < g).cloned().collect();
        last.push(seg(310.0, 550.0, 100.0));
        assert_eq!(find_gutter(600.0, &last), None);
        let dims = [
            Page {
                width: 600.0,
                height: 800.0,
                glyphs: Vec::new(),
            },
            Page {
                width: 600.0,
                height: 800.0,
                glyphs: Vec::new(),
            },
        ];
        assert_eq!(gutters(&[two, last], &dims), vec![Some(g), Some(g)]);
        // A one-column page keeps none.
        let gs = gutters(&[one.clone(), one], &dims);
        assert_eq!(gs, vec![None, None]);
    }

    #[test]
    fn a_line_is_full_when_the_next_word_would_not_fit() {
        let seg = |x0: f64, x1: f64, first_w: f64| Segment {
            page: 0,
            x0,
            x1,
            y: 0.0,
            size: 10.0,
            text: "text".into(),
            first_w,
        };
        let line = |x0, x1| Line {
            seg: seg(x0, x1, 0.0),
            column: 0,
            col_x0: 50.0,
            col_x1: 550.0,
        };
        // Ragged: 40 points left, a 60-point word comes next.
        assert!(line(50.0, 510.0).is_full(&seg(50.0, 300.0, 60.0)));
        assert!(!line(50.0, 510.0).is_full(&seg(50.0, 300.0, 30.0)));
        // Centred: 20 points spare on each side is 40 in all.
        assert!(line(70.0, 530.0).is_full(&seg(50.0, 300.0, 45.0)));
        assert!(!line(150.0, 450.0).is_full(&seg(50.0, 300.0, 45.0)));
    }
}
