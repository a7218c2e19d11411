//! `simsum search "TEXT"`: ranked items most similar to a free-text query, as an aligned table
//! (colours only on a terminal, `NO_COLOR` respected) or as JSON. Also holds the table
//! rendering `similar` and `links` share.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use simsum::answer::{SearchAnswer, SearchHit};
use simsum::search::{SearchMode, SearchOptions};
use simsum::store::Level;

/// Arguments of `simsum search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The query text.
    pub query: String,
    #[command(flatten)]
    pub common: QueryArgs,
    /// Level to search: initiative or section.
    #[arg(long, default_value = "initiative", value_parser = super::item_level_value)]
    pub level: Level,
    /// How to rank: hybrid (dense and BM25 fused), dense (embeddings only) or lexical (BM25
    /// only; needs no model).
    #[arg(long, default_value = "hybrid")]
    pub mode: SearchMode,
}

/// Options shared by `search` and `similar`.
#[derive(Debug, Clone, clap::Args)]
pub struct QueryArgs {
    /// Number of results (1 to 10000).
    #[arg(short, long, default_value_t = 10, value_parser = super::k_value, allow_negative_numbers = true)]
    pub k: usize,
    #[command(flatten)]
    pub docs: super::facets::DocArgs,
    /// Also return boilerplate paragraphs (text shared by several documents).
    #[arg(long)]
    pub include_boilerplate: bool,
    /// Brute-force search even where the HNSW graph would be used.
    #[arg(long)]
    pub exact: bool,
    /// The HNSW candidate list of an approximate search (more: better recall, slower; default:
    /// the larger of k and 128, as the local index).
    #[arg(long, value_name = "N", value_parser = super::ef_value)]
    pub ef: Option<usize>,
    /// Print JSON (schema in the README).
    #[arg(long)]
    pub json: bool,
}

impl QueryArgs {
    pub(crate) fn options(&self, level: Level) -> SearchOptions {
        SearchOptions {
            k: self.k,
            level,
            docs: self.docs.filter(),
            include_boilerplate: self.include_boilerplate,
            other_docs: false,
            exact: self.exact,
            ef: self.ef,
            ..Default::default()
        }
    }
}

/// Runs `simsum search`.
pub fn run(g: &super::Global, a: SearchArgs) -> anyhow::Result<ExitCode> {
    simsum::search::check_query(&a.query)?;
    // `-v` prints where a cold search's time goes (benches/cold_start.sh reads it).
    let mut clock = super::StageClock::new(g.verbose);
    let index = g.open_store()?;
    clock.lap("store opened");
    let opts = SearchOptions {
        mode: a.mode,
        ..a.common.options(a.level)
    };
    let hits = if a.mode.needs_vector() {
        let embedder = super::load_embedder(g)?;
        index.check_model(&embedder.model_id(), embedder.dim())?;
        clock.lap("embedder loaded (files found, tokenizer, plan, weights)");
        simsum::search::search(index.as_ref(), embedder.as_ref(), &a.query, &opts)?
    } else {
        let filter = opts.docs.compile()?;
        simsum::search::search_text(index.as_ref(), &a.query, None, &opts, &filter)?
    };
    clock.lap("searched (query embedded, level loaded, hits read)");
    let mut out = std::io::stdout().lock();
    let _printed = PrintedLap(clock);
    if a.common.json {
        let answer = SearchAnswer {
            exact: a.common.exact || !index.uses_graph(a.level)?,
            k: a.common.k,
            level: a.level,
            mode: a.mode,
            query: a.query,
            results: hits,
        };
        simsum::answer::print_json(&mut out, &answer)?;
    } else {
        print_hits(&mut out, &hits, &Style::detect())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Terminal styling: ANSI codes only when stdout is a terminal and `NO_COLOR` is unset.
pub(crate) struct Style {
    colour: bool,
}

impl Style {
    pub(crate) fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            colour: std::io::stdout().is_terminal() && !no_color,
        }
    }

    pub(crate) fn paint(&self, code: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Cuts `s` to at most `n` characters (on a character boundary), with an ellipsis.
pub(crate) fn trim(s: &str, n: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        let mut t: String = flat.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

/// An aligned table of hits; under each, the best-matching sentence.
pub(crate) fn print_hits(
    out: &mut dyn Write,
    hits: &[SearchHit],
    st: &Style,
) -> std::io::Result<()> {
    if hits.is_empty() {
        writeln!(out, "no results")?;
        return Ok(());
    }
    let rows: Vec<[String; 5]> = hits
        .iter()
        .map(|h| {
            let doc = match &h.doc.date {
                Some(d) => format!("{} ({d})", trim(&h.doc.title, 34)),
                None => trim(&h.doc.title, 34),
            };
            [
                h.rank.to_string(),
                format!("{:.3}", h.score),
                doc,
                trim(&h.section.heading, 28),
                h.id.clone(),
            ]
        })
        .collect();
    let headers = ["#", "score", "document", "section", "id"];
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| pad(c, *w))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let head: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    writeln!(out, "{}", st.paint("1", line(&head).trim_end()))?;
    for (h, r) in hits.iter().zip(&rows) {
        let mut cells = r.clone();
        cells[1] = st.paint("32", &pad(&r[1], widths[1]));
        writeln!(out, "{}", line(&cells).trim_end())?;
        let indent = " ".repeat(widths[0] + 2);
        writeln!(out, "{indent}{}", trim(&h.text, 110))?;
        if let Some(note) = simsum::report::copies_note(h.copies.len(), h.copy_documents) {
            writeln!(out, "{indent}{}", st.paint("2", &format!("({note})")))?;
        }
        if let Some(b) = &h.best_sentence {
            writeln!(
                out,
                "{indent}{} {}",
                st.paint("2", &format!("» {:.3}", b.score)),
                st.paint("1;33", &trim(&b.text, 104))
            )?;
        }
        if let Some(why) = why_line(&h.why) {
            writeln!(out, "{indent}{}", st.paint("2", &why))?;
        }
        for a in h.why.aligned.iter().take(1) {
            writeln!(
                out,
                "{indent}{} {} ↔ {}",
                st.paint("2", &format!("≈ {:.3}", a.score)),
                trim(&a.this.text, 50),
                trim(&a.that.text, 50)
            )?;
        }
    }
    Ok(())
}

/// `why: cosine 0.61 · BM25 7.20 · contains ADMS, meals`, or nothing when there is no part.
fn why_line(why: &simsum::answer::Why) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(d) = why.dense {
        parts.push(format!("cosine {d:.3}"));
    }
    if let Some(l) = why.lexical {
        parts.push(format!("BM25 {l:.2}"));
    }
    let mut words: Vec<&str> = Vec::new();
    for t in &why.terms {
        if !words.contains(&t.text.as_str()) {
            words.push(&t.text);
        }
    }
    if !words.is_empty() {
        parts.push(format!("contains {}", trim(&words.join(", "), 60)));
    }
    (!parts.is_empty()).then(|| format!("why: {}", parts.join(" · ")))
}

/// Reports the printing lap when the command's output has been written (on drop).
struct PrintedLap(super::StageClock);

impl Drop for PrintedLap {
    fn drop(&mut self) {
        self.0.lap("printed");
    }
}
