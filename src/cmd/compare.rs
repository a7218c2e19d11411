//! `simsum compare A B`: two documents (ids or globs) or two date ranges (`2022..2022-12`)
//! compared: shared, new and gone initiatives, each with its closest counterpart and the score,
//! and shared, new and gone themes (of the last theme report, made again when stale).

use std::io::Write;
use std::process::ExitCode;

use simsum::answer::CompareItem;
use simsum::compare::{compare, parse_side, CompareOptions};
use simsum::store::Level;

use super::search::trim;

/// Arguments of `simsum compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The old side: a document id or glob, or a date range FROM..TO (either end may be empty).
    pub a: String,
    /// The new side, as A.
    pub b: String,
    /// Smallest cosine similarity of two items that say the same thing.
    #[arg(long, default_value_t = 0.6)]
    pub threshold: f32,
    /// Level: initiative or section.
    #[arg(long, default_value = "initiative", value_parser = super::item_level_value)]
    pub level: Level,
    /// Print JSON: {"shared","new","gone":[{"item","counterpart","score"}],"themes_shared",...}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `simsum compare`.
pub fn run(g: &super::Global, a: CompareArgs) -> anyhow::Result<ExitCode> {
    if !(-1.0..=1.0).contains(&a.threshold) {
        anyhow::bail!("--threshold must be between -1 and 1");
    }
    let index = g.open_store()?;
    let opts = CompareOptions {
        a: parse_side(&a.a)?,
        b: parse_side(&a.b)?,
        level: a.level,
        threshold: a.threshold,
    };
    let report = super::summarize::last_report(g, index.as_ref())?;
    let answer = compare(index.as_ref(), &opts, Some(&report))?;
    let mut out = std::io::stdout().lock();
    if a.json {
        simsum::answer::print_json(&mut out, &answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "A: {} ({} documents)  B: {} ({} documents)",
        a.a,
        answer.a_documents.len(),
        a.b,
        answer.b_documents.len()
    )?;
    let themes = |title: &str, list: &[simsum::answer::CompareTheme]| -> String {
        let names: Vec<String> = list
            .iter()
            .map(|t| format!("#{} {} ({} / {})", t.id, t.title, t.a, t.b))
            .collect();
        format!(
            "{title}: {}",
            if names.is_empty() {
                "none".into()
            } else {
                names.join("; ")
            }
        )
    };
    writeln!(out, "{}", themes("themes shared", &answer.themes_shared))?;
    writeln!(out, "{}", themes("themes new", &answer.themes_new))?;
    writeln!(out, "{}", themes("themes gone", &answer.themes_gone))?;
    for (title, list) in [
        ("new on B", &answer.new),
        ("gone from A", &answer.gone),
        ("shared", &answer.shared),
    ] {
        writeln!(out, "\n{title} ({})", list.len())?;
        for c in list {
            print_pair(&mut out, c)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_pair(out: &mut dyn Write, c: &CompareItem) -> std::io::Result<()> {
    writeln!(out, "  {}  {}", c.item.id, trim(&c.item.text, 90))?;
    if let (Some(p), Some(s)) = (&c.counterpart, c.score) {
        writeln!(out, "    closest {:.3} {}  {}", s, p.id, trim(&p.text, 80))?;
    }
    Ok(())
}
