//! `simsum links`: the cross-document map of related initiatives, as pairs with scores.

use std::io::Write;
use std::process::ExitCode;

use simsum::search::LinkOptions;
use simsum::store::Level;

use super::search::{trim, Style};

/// Arguments of `simsum links`.
#[derive(Debug, clap::Args)]
pub struct LinksArgs {
    /// Smallest cosine similarity of a reported pair.
    #[arg(long, default_value_t = 0.6)]
    pub threshold: f32,
    /// Most links per item (its best ones).
    #[arg(long, default_value_t = 5)]
    pub per_item: usize,
    /// Level: initiative or section.
    #[arg(long, default_value = "initiative")]
    pub level: Level,
    #[command(flatten)]
    pub docs: super::facets::DocArgs,
    /// Also link boilerplate paragraphs.
    #[arg(long)]
    pub include_boilerplate: bool,
    /// Brute-force search even where the HNSW graph would be used.
    #[arg(long)]
    pub exact: bool,
    /// Print JSON (schema in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `simsum links`.
pub fn run(g: &super::Global, a: LinksArgs) -> anyhow::Result<ExitCode> {
    let index = g.open_store()?;
    let opts = LinkOptions {
        threshold: a.threshold,
        per_item: a.per_item,
        level: a.level,
        include_boilerplate: a.include_boilerplate,
        docs: a.docs.filter(),
        exact: a.exact,
    };
    let links = simsum::search::links(index.as_ref(), &opts)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        let answer = simsum::answer::LinksAnswer {
            level: a.level,
            links,
            threshold: a.threshold,
        };
        simsum::answer::print_json(&mut out, &answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    let st = Style::detect();
    if links.is_empty() {
        writeln!(out, "no pairs at or above {}", a.threshold)?;
    }
    let wa = links
        .iter()
        .map(|l| l.a.id.chars().count())
        .max()
        .unwrap_or(0);
    for l in &links {
        writeln!(
            out,
            "{}  {:wa$}  {}",
            st.paint("32", &format!("{:.3}", l.score)),
            l.a.id,
            l.b.id,
        )?;
        for side in [&l.a, &l.b] {
            writeln!(
                out,
                "       {}",
                trim(&format!("{}: {}", side.doc.title, side.text), 100)
            )?;
            if let Some(note) = simsum::report::copies_note(side.copies.len(), side.copy_documents)
            {
                writeln!(out, "       ({note})")?;
            }
        }
        if let Some(pair) = l.aligned.first() {
            writeln!(
                out,
                "       {} {} ↔ {}",
                st.paint("2", &format!("≈ {:.3}", pair.score)),
                trim(&pair.this.text, 44),
                trim(&pair.that.text, 44)
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
