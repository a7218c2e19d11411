//! The page's geometry, from glyphs to blocks: glyphs become line segments (a wide gap splits
//! a line), running headers, footers and page numbers are dropped, a page's gutter makes it two
//! columns read left then right, lines that justification stretched apart are put back
//! together, and lines group into blocks (paragraphs, headings, captions), rejoined across
//! column and page breaks. The reasoning for each rule is in [`super`]'s opening comment.

use std::collections::{HashMap, HashSet};

use super::{Glyph, Page};
use crate::ingest::sentences::{has_terminal_punctuation, normalize_whitespace};
use crate::text::cjk::is_cjk;

/// A run of glyphs on one baseline with no wide gap: part of one line of one column.
#[derive(Debug, Clone)]
pub(super) struct Segment {
    pub(super) page: usize,
    pub(super) x0: f64,
    pub(super) x1: f64,
    pub(super) y: f64,
    pub(super) size: f64,
    pub(super) text: String,
    /// Width of the first word: whether it would have fit at the end of the line before.
    pub(super) first_w: f64,
}

/// Groups a page's glyphs into segments, top to bottom, left to right.
pub(super) fn segments(page: usize, glyphs: &[Glyph]) -> Vec<Segment> {
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
                    // Next to Chinese a gap is spacing, not a word break: justification
                    // spreads the characters, and Chinese writes no spaces (`2022`|`年`).
                    let beside_chinese = s.text.chars().next_back().is_some_and(is_cjk)
                        || g.text.chars().next().is_some_and(is_cjk);
                    let space = !spaced && !beside_chinese && gap > 0.15 * g.size;
                    if (space || g.text.starts_with(char::is_whitespace))
                        && s.first_w.is_nan()
                        && !s.text.trim().is_empty()
                    {
                        s.first_w = s.x1 - s.x0;
                    }
                    if space {
                        s.text.push(' ');
                    }
                    // Chinese lines never begin with closing punctuation (`，`, `。`, `）`):
                    // a character followed by one moves to the next line with it, so the pair
                    // is the first "word" that did not fit.
                    if !space
                        && s.text.chars().next().is_some_and(is_cjk)
                        && s.text.chars().skip(1).all(closes)
                        && g.text.chars().all(closes)
                    {
                        s.first_w += g.w;
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

/// Punctuation that may not begin a line in Chinese typesetting.
fn closes(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '》'
            | '」'
            | '』'
            | '】'
            | '”'
            | '’'
    )
}

pub(super) fn new_segment(page: usize, g: &Glyph) -> Segment {
    // Chinese has no spaces: its first "word", for deciding whether a line was full, is its
    // first character.
    let chinese = g.text.starts_with(is_cjk);
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

pub(super) fn finish_segment(seg: Option<Segment>) -> Option<Segment> {
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
pub(super) fn drop_marginals(pages: &mut [Vec<Segment>], dims: &[Page]) -> usize {
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
pub(super) fn is_page_number(text: &str) -> bool {
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
pub(super) struct Line {
    pub(super) seg: Segment,
    /// 0: full width, 1: left column, 2: right column.
    pub(super) column: u8,
    /// Left and right edges of the column's text on its page.
    pub(super) col_x0: f64,
    pub(super) col_x1: f64,
}

impl Line {
    /// Whether the line ran out of room: the first word of `next` would not have fit after it
    /// in its column. Whatever the alignment (ragged, justified or centred), a line that ends
    /// with room to spare for the next word ended its paragraph.
    pub(super) fn is_full(&self, next: &Segment) -> bool {
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
pub(super) fn gutters(pages: &[Vec<Segment>], dims: &[Page]) -> Vec<Option<f64>> {
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
pub(super) fn rejoin_justified(mut segs: Vec<Segment>, columns: Columns) -> Vec<Segment> {
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
pub(super) fn reading_order(mut segs: Vec<Segment>, columns: Columns) -> Vec<Line> {
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
pub(super) struct Columns {
    pub(super) gutter: Option<f64>,
    /// Baseline of the last such continuation line (none: minus infinity).
    pub(super) lifted_to: f64,
}

impl Columns {
    pub(super) fn new(segs: &[Segment], gutter: Option<f64>) -> Self {
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
    pub(super) fn of(&self, s: &Segment) -> u8 {
        match self.gutter {
            Some(g) if s.x1 <= g && s.y > self.lifted_to => 1,
            Some(g) if s.x0 >= g => 2,
            _ => 0,
        }
    }
}

/// The x of a vertical gap in the middle half of the page that (almost) no segment crosses and
/// with text on both sides, if the page has one.
pub(super) fn find_gutter(width: f64, segs: &[Segment]) -> Option<f64> {
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
pub(super) struct Block {
    pub(super) lines: Vec<Line>,
}

impl Block {
    pub(super) fn size(&self) -> f64 {
        self.lines[0].seg.size
    }
}

/// Line pitch, in font sizes, up to which two lines belong to one block, unless the body's own
/// pitch is wider (Chinese text is often set at 1.5 or more).
pub(super) const MAX_PITCH: f64 = 1.45;

/// The pitch (baseline to baseline, in font sizes) that most consecutive lines of the same
/// size keep: the document's line spacing.
pub(super) fn usual_pitch(flow: &[Line]) -> f64 {
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
pub(super) fn blocks(flow: &[Line]) -> Vec<Block> {
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
            let justified_on = flush(last) && prev.lines[..prev.lines.len() - 1].iter().any(flush);
            if cut && ((full && open) || justified_on) {
                prev.lines.extend(block.lines);
                continue;
            }
        }
        merged.push(block);
    }
    merged
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
