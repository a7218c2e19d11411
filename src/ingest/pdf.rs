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

use std::collections::{HashMap, HashSet};

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use super::builder::SectionBuilder;
use super::parse_date;
use super::sentences::{has_terminal_punctuation, normalize_whitespace};
use super::text::{header_field, is_caption, parse_numbered, take_field, TextHeader};
use super::Section;
use crate::text::words::is_english_word;

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
            text: unligature(text),
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

/// A glyph's text with the Latin typographic ligatures (`ﬁ`, `ﬂ`, `ﬀ`, `ﬃ`, `ﬄ`, `ﬅ`, `ﬆ`,
/// U+FB00-FB06, which fonts such as DejaVu draw for "fi" and "ffi") spelled out as letters.
fn unligature(text: &str) -> String {
    if !text.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
    out
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
        // A word space is about a quarter of an em (Times and Liberation Serif 0.25, Helvetica
        // 0.28, DejaVu 0.32): 0.3 errs towards "full", so a line that only just had no room
        // (a title wrapped after its colon) keeps its continuation.
        room < 0.3 * s.size + next.first_w
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

/// Puts back together the lines that justification stretched so far that their word gaps
/// split them into segments (a wrapped heading in a narrow column: `help   enterprises   and`).
/// Pieces on one baseline in one column join when together they run from the column's left
/// edge to its right edge and the gaps between them are all about equal, which is what
/// justification does; a gap to another column or a table cell is neither.
fn rejoin_justified(mut segs: Vec<Segment>, columns: Columns) -> Vec<Segment> {
    segs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut extents = [(f64::INFINITY, f64::NEG_INFINITY); 3];
    for s in &segs {
        let e = &mut extents[columns.of(s) as usize];
        e.0 = e.0.min(s.x0);
        e.1 = e.1.max(s.x1);
    }
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
    let mut i = 0;
    while i < segs.len() {
        // The run of pieces on this baseline in this column.
        let col = columns.of(&segs[i]);
        let mut j = i + 1;
        while j < segs.len()
            && (segs[j].y - segs[i].y).abs() <= 0.35 * segs[i].size.min(segs[j].size)
            && columns.of(&segs[j]) == col
            && (segs[j].size - segs[i].size).abs() <= 0.6
        {
            j += 1;
        }
        let run = &segs[i..j];
        let (left, right) = extents[col as usize];
        let size = run[0].size;
        let gaps: Vec<f64> = run.windows(2).map(|w| w[1].x0 - w[0].x1).collect();
        let (lo, hi) = gaps.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &g| {
            (lo.min(g), hi.max(g))
        });
        let justified = run.len() > 1
            && (run[0].x0 - left).abs() <= 0.5 * size
            && (right - run[run.len() - 1].x1).abs() <= 0.5 * size
            && hi <= 1.25 * lo + 0.2 * size;
        if justified {
            let mut joined = run[0].clone();
            for piece in &run[1..] {
                joined.text.push(' ');
                joined.text.push_str(&piece.text);
                joined.x1 = piece.x1;
            }
            out.push(joined);
        } else {
            out.extend(run.iter().cloned());
        }
        i = j;
    }
    out
}

/// Orders one page's segments for reading: top to bottom, and on a two-column page (one with a
/// gutter) the left column before the right one between full-width segments.
fn reading_order(mut segs: Vec<Segment>, columns: Columns) -> Vec<Line> {
    segs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let extent = |col: u8, segs: &[Segment]| {
        let mut x0 = f64::INFINITY;
        let mut x1 = f64::NEG_INFINITY;
        for s in segs.iter().filter(|s| columns.of(s) == col) {
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
        band.sort_by_key(|s| columns.of(s));
        out.extend(band.drain(..).map(|seg| {
            let column = columns.of(&seg);
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
        if columns.of(&s) == 0 {
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

/// Where a page's columns are: the gutter between them, and how far down a full-width block
/// above the columns goes on in a line left of the gutter (a title that wraps to a short
/// second line: `... Diplomacy (IV):` / `Enterprises`), which belongs to that block, not to the
/// left column.
#[derive(Debug, Clone, Copy)]
struct Columns {
    gutter: Option<f64>,
    /// Baseline of the last such continuation line (none: minus infinity).
    lifted_to: f64,
}

impl Columns {
    fn new(segs: &[Segment], gutter: Option<f64>) -> Self {
        let mut lifted_to = f64::NEG_INFINITY;
        if let Some(g) = gutter {
            // Only above the right column's first line: below it, left is the left column.
            let top = segs
                .iter()
                .filter(|s| s.x0 >= g)
                .map(|s| s.y - s.size)
                .fold(f64::INFINITY, f64::min);
            let mut above: Vec<&Segment> = segs.iter().filter(|s| s.y < top).collect();
            above.sort_by(|a, b| a.y.total_cmp(&b.y));
            let mut block: Option<&Segment> = None;
            for s in above {
                let crossing = s.x1 > g && s.x0 < g;
                let goes_on = block.is_some_and(|p| {
                    (p.size - s.size).abs() <= 0.6
                        && s.y > p.y
                        // Titles are often set looser than MAX_PITCH; the columns below
                        // bound how far this goes.
                        && s.y - p.y <= 1.8 * s.size
                });
                if crossing || (s.x1 <= g && goes_on) {
                    if !crossing {
                        lifted_to = s.y;
                    }
                    block = Some(s);
                } else {
                    block = None;
                }
            }
        }
        Self { gutter, lifted_to }
    }

    /// 0: full width, 1: left column, 2: right column.
    fn of(&self, s: &Segment) -> u8 {
        match self.gutter {
            Some(g) if s.x1 <= g && s.y > self.lifted_to => 1,
            Some(g) if s.x0 >= g => 2,
            _ => 0,
        }
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
            // In justified text only a paragraph's last line falls short of the right edge:
            // a block whose last line is flush right like another of its lines goes on after
            // the break even when a sentence ended there.
            let flush = |l: &Line| l.col_x1 - l.seg.x1 <= 0.15 * l.seg.size;
            let justified_on =
                flush(last) && prev.lines[..prev.lines.len() - 1].iter().any(|l| flush(l));
            if cut && ((full && open) || justified_on) {
                prev.lines.extend(block.lines);
                continue;
            }
        }
        merged.push(block);
    }
    merged
}

/// What decides a line-end hyphen: the document's own words, and whether its typesetter
/// hyphenates at all.
struct Hyphens {
    /// Every word of the document. The two halves of a word hyphenated at a line end are left
    /// out: `coordi-`/`nated` would otherwise count as words.
    vocabulary: HashSet<String>,
    /// Whether some line-end hyphen splits a word into pieces that are not words themselves
    /// (`coordi-`/`nated`): the typesetter hyphenates. A browser without hyphenation
    /// dictionaries does not, and then every line-end hyphen is the text's own.
    hyphenating: bool,
    /// The typesetter's own hyphen character, when it is one the text never uses inside a
    /// line: browsers and WeasyPrint hyphenate with U+2010 while the text writes U+002D, and
    /// then a line-end U+2010 always splits a word (`Watch‐`/`data`).
    typesetters: Option<char>,
}

impl Hyphens {
    fn of(flow: &[Line]) -> Self {
        let mut vocabulary = HashSet::new();
        let mut after_hyphen = false;
        let mut hyphenating = false;
        let mut last_stem = String::new();
        let (mut end_2010, mut inner_2010) = (false, false);
        for line in flow {
            let text = line.seg.text.trim_end();
            end_2010 |= text.ends_with('\u{2010}');
            inner_2010 |= text.trim_end_matches('\u{2010}').contains('\u{2010}');
            let words: Vec<&str> = line.seg.text.split_whitespace().collect();
            let hyphenated = line_end_hyphen(&line.seg.text).is_some();
            for (i, w) in words.iter().enumerate() {
                if i == 0 && after_hyphen {
                    let next = trim_word(w);
                    if !hyphenating && !next.is_empty() {
                        hyphenating = splits_a_word(&last_stem, next);
                    }
                    continue;
                }
                if i + 1 == words.len() && hyphenated {
                    last_stem = trim_word(w).rsplit('-').next().unwrap_or("").to_string();
                    continue;
                }
                let w = trim_word(w).to_lowercase();
                if !w.is_empty() {
                    vocabulary.insert(w);
                }
            }
            after_hyphen = hyphenated;
        }
        Self {
            vocabulary,
            hyphenating: hyphenating || (end_2010 && !inner_2010),
            typesetters: (end_2010 && !inner_2010).then_some('\u{2010}'),
        }
    }

    /// Whether the hyphen between `stem` (the line's last word, hyphen removed) and `next` (the
    /// next line's first word) stays. The document's own spelling decides first; then the
    /// English word list: halves that are words and a joined form that is not make a compound
    /// (`municipal-level`); a joined form that is a word, or pieces that are not, make a split
    /// word (`coordi-nated`), unless the typesetter never hyphenates; where both readings are
    /// words (`world-wide`), the hyphen stays unless the typesetter hyphenates.
    fn keeps(&self, stem: &str, next: &str) -> bool {
        let stem = trim_word(stem);
        let next = trim_word(next);
        let last = stem.rsplit('-').next().unwrap_or(stem);
        let joined = format!("{last}{next}").to_lowercase();
        let hyphenated = format!("{stem}-{next}").to_lowercase();
        if self.vocabulary.contains(&hyphenated) {
            return true;
        }
        if self.vocabulary.contains(&joined) {
            return false;
        }
        // A compound that goes on with a word of its own (`people-to-`/`people`).
        if stem.contains('-') && self.vocabulary.contains(&next.to_lowercase()) {
            return true;
        }
        let joined_word = is_english_word(&joined);
        let halves = is_english_word(last) && is_english_word(next);
        match (joined_word, halves) {
            (false, true) => true,
            (true, true) => !self.hyphenating,
            (_, false) => !self.hyphenating,
        }
    }
}

/// Whether a hyphen between `stem` and `next` can only be a typesetter's: the joined form is a
/// word and a piece is not.
fn splits_a_word(stem: &str, next: &str) -> bool {
    !stem.is_empty()
        && is_english_word(&format!("{stem}{next}"))
        && !(is_english_word(stem) && is_english_word(next))
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
fn join_lines(lines: &[&str], hyphens: &Hyphens) -> String {
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
                // A soft hyphen is always the typesetter's.
                if h == '\u{00AD}'
                    || Some(h) == hyphens.typesetters
                    || !hyphens.keeps(stem, next_word)
                {
                    text.truncate(text.len() - h.len_utf8());
                }
                text.push_str(line);
            }
            // A compound broken at its own hyphen before a capital or a digit (`China-`/`EU`,
            // `Covid-`/`19`): the hyphen stays and no space comes in.
            Some(_) if next.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()) => {
                text.push_str(line);
            }
            // A double hyphen broken between its halves (`Age -`/`- a hit`).
            None if text.ends_with('-') && line.starts_with('-') => {
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
        let vocabulary: HashSet<String> = ["people-to-people", "cooperation", "well-coordinated"]
            .into_iter()
            .map(String::from)
            .collect();
        // A typesetter that hyphenates (LibreOffice with its dictionaries).
        let hyphens = Hyphens {
            vocabulary,
            hyphenating: true,
            typesetters: None,
        };
        let j = |a: &str, b: &str| join_lines(&[a, b], &hyphens);
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
        assert_eq!(j("Awakening Age -", "- a hit"), "Awakening Age -- a hit");
        assert_eq!(j("unknown hyphen\u{00AD}", "ation"), "unknown hyphenation");
        assert_eq!(j("one line", "two lines"), "one line two lines");
        // Compounds the document spells nowhere else, decided by the word list.
        assert_eq!(j("municipal-", "level groups"), "municipal-level groups");
        assert_eq!(j("Chinese-", "foreign ties"), "Chinese-foreign ties");
        assert_eq!(j("on-the-", "job training"), "on-the-job training");
        assert_eq!(j("the govern-", "ment"), "the government");
    }

    #[test]
    fn a_typesetter_that_never_hyphenates_keeps_every_hyphen() {
        let flow_of = |texts: &[&str]| -> Vec<Line> {
            texts
                .iter()
                .map(|t| Line {
                    seg: Segment {
                        page: 0,
                        x0: 0.0,
                        x1: 100.0,
                        y: 0.0,
                        size: 10.0,
                        text: t.to_string(),
                        first_w: 10.0,
                    },
                    column: 0,
                    col_x0: 0.0,
                    col_x1: 100.0,
                })
                .collect()
        };
        // Every line-end hyphen here joins words: no sign of hyphenation.
        let browser = Hyphens::of(&flow_of(&[
            "a world-",
            "wide culture of on-the-",
            "job work",
        ]));
        assert!(!browser.hyphenating);
        assert!(browser.keeps("world", "wide"));
        // One split that only a typesetter makes (`coordi-`/`nated`) marks the document.
        let office = Hyphens::of(&flow_of(&["a well-coordi-", "nated way, a world-", "wide"]));
        assert!(office.hyphenating);
        // Both readings are words (`worldwide`, `world`/`wide`): the typesetter's.
        assert!(!office.keeps("world", "wide"));
        // Only the compound's halves are words (`longstanding` is not): the text's own.
        assert!(office.keeps("long", "standing"));
        assert!(office.keeps("municipal", "level"));
        // A browser's own hyphen (U+2010) where the text writes U+002D always goes.
        let weasy = Hyphens::of(&flow_of(&["Watch\u{2010}", "data and people-to-people"]));
        assert_eq!(weasy.typesetters, Some('\u{2010}'));
        let lines = ["StarTimes, Watch\u{2010}", "data, Jangho"];
        assert_eq!(join_lines(&lines, &weasy), "StarTimes, Watchdata, Jangho");
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
        let order: Vec<f64> = reading_order(two.clone(), Columns::new(&two, Some(g)))
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
