//! `simsum cluster`: themes of the indexed items as text, Markdown, JSON or a self-contained
//! HTML report. The last report is also kept in the index directory (`themes.json`) so that
//! `simsum summarize --theme ID` refers to the themes the user saw, and so that the next run
//! keeps the ids and titles of the themes that carry on (`--fresh` starts from scratch).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use simsum::cluster::indexed::{cluster_index_with, IndexedThemes};
use simsum::cluster::lineage::Previous;
use simsum::cluster::{ClusterParams, ThemeCount, ThemeReport};
use simsum::report::{render_themes, Format};
use simsum::store::Level;
use simsum::store::Store;

/// Arguments of `simsum cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// What to cluster: initiative or section.
    #[arg(long, default_value = "initiative", value_parser = super::item_level_value)]
    pub level: Level,
    /// Number of themes: auto, or a number.
    #[arg(long, default_value = "auto")]
    pub themes: ThemeCount,
    /// Smallest theme (default: from the number of items, at least 2).
    #[arg(long)]
    pub min_size: Option<usize>,
    /// Seed: the same seed gives the same themes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Modularity resolution: higher gives more, smaller themes.
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,
    /// Output format: text, md, json or html.
    #[arg(long, default_value = "text", conflicts_with = "json")]
    pub format: Format,
    /// Print JSON (as every other command's `--json`; the same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Label themes without loading the model (keyphrase vectors from member vectors).
    #[arg(long)]
    pub no_model: bool,
    /// Count each theme's members per period: year or month (of the document's date), or
    /// document; adds `over` to each theme and a chart to the reports.
    #[arg(long, value_name = "PERIOD")]
    pub over: Option<simsum::cluster::over::Over>,
    /// Cluster from scratch: ignore the last report (themes are numbered from 1 again)
    /// instead of keeping the ids and titles of the themes that carry on.
    #[arg(long)]
    pub fresh: bool,
    /// Cluster only the items that mention these countries, organisations or years.
    #[command(flatten)]
    pub entities: super::facets::EntityArgs,
}

/// Clusters an index with the given settings, carrying the last report's themes on; loads the
/// model for labels unless `no_model`.
pub fn themes(
    g: &super::Global,
    index: &dyn Store,
    level: Level,
    params: &ClusterParams,
    no_model: bool,
) -> anyhow::Result<IndexedThemes> {
    themes_of(g, index, level, params, no_model, None, false)
}

/// [`themes`] of the items in `keep` (all when `None`); `fresh` ignores the last report.
fn themes_of(
    g: &super::Global,
    index: &dyn Store,
    level: Level,
    params: &ClusterParams,
    no_model: bool,
    keep: Option<&std::collections::HashSet<u64>>,
    fresh: bool,
) -> anyhow::Result<IndexedThemes> {
    let embedder = if no_model {
        None
    } else {
        let e = super::load_embedder(g)?;
        index.check_model(&e.model_id(), e.dim())?;
        Some(e)
    };
    let last = if fresh {
        None
    } else {
        ThemeReport::load(index)?
    };
    let previous = last.as_ref().map(|(generation, report)| Previous {
        generation: *generation,
        report,
    });
    let themes = cluster_index_with(index, level, params, embedder.as_deref(), keep, previous)
        .with_context(|| format!("clustering {}", index.info().url))?;
    g.save_themes(&themes.report.to_saved(index.generation()?))?;
    Ok(themes)
}

/// Writes `text` to `output`, or to stdout.
pub fn emit(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            Ok(())
        }
    }
}

/// Runs `simsum cluster`.
pub fn run(g: &super::Global, a: ClusterArgs) -> anyhow::Result<ExitCode> {
    let index = g.open_store()?;
    let params = ClusterParams {
        themes: a.themes,
        min_size: a.min_size,
        seed: a.seed,
        resolution: a.resolution,
        ..Default::default()
    };
    let keep = simsum::facets::allowed_keys(index.as_ref(), a.level, &a.entities.filter())?;
    let mut t = themes_of(
        g,
        index.as_ref(),
        a.level,
        &params,
        a.no_model,
        keep.as_ref(),
        a.fresh,
    )?;
    if let Some(over) = a.over {
        simsum::cluster::over::count_over(index.as_ref(), &mut t.report, a.level, over)?;
        // Kept with its periods, so the web page's themes view shows them too.
        g.save_themes(&t.report.to_saved(index.generation()?))?;
    }
    emit(
        a.output.as_deref(),
        &render_themes(
            &t.report,
            &t.items,
            if a.json { Format::Json } else { a.format },
        ),
    )?;
    if let Some(p) = &a.output {
        eprintln!(
            "{} themes, {} unclustered of {} items: wrote {}",
            t.report.themes.len(),
            t.report.unclustered.len(),
            t.items.len(),
            p.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
