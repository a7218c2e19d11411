//! `simsum demo`: the main job on the built-in seed reports. Indexes the seeds (incrementally,
//! into the global `--index` directory), runs three example "find similar initiatives" queries
//! (two free-text queries and one by an existing initiative across documents), prints the themes
//! and writes the HTML theme report, and prints a short summary of each document.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use simsum::cluster::ClusterParams;
use simsum::report::{render_themes, Format};
use simsum::search::SearchOptions;
use simsum::store::Level;
use simsum::summarize::{summarize, units_from_items, Length, SummaryParams};

use super::search::{print_hits, Style};

/// Arguments of `simsum demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder of reports to run on.
    #[arg(long, default_value = "seeds")]
    pub seeds: PathBuf,
    /// Where to write the HTML theme report.
    #[arg(long, default_value = "simsum-report.html")]
    pub report: PathBuf,
    /// Results per example query.
    #[arg(short, long, default_value_t = 3, value_parser = super::k_value, allow_negative_numbers = true)]
    pub k: usize,
}

/// The example free-text queries.
const QUERIES: [&str; 2] = [
    "vocational training for local workers",
    "protecting the environment and green development abroad",
];

fn heading(out: &mut dyn Write, st: &Style, text: &str) -> std::io::Result<()> {
    writeln!(out, "\n{}", st.paint("1;4", text))
}

/// Runs `simsum demo`.
pub fn run(g: &super::Global, a: DemoArgs) -> anyhow::Result<ExitCode> {
    if !a.seeds.is_dir() {
        anyhow::bail!(
            "{} is not a folder: run the demo from the repository root, or pass --seeds DIR",
            a.seeds.display()
        );
    }
    let st = Style::detect();
    let mut out = std::io::stdout().lock();
    let embedder = super::load_embedder(g)?;

    // 1. Index (only new or changed items are embedded).
    let started = std::time::Instant::now();
    let url = g.store_url()?;
    let mut writer = g
        .open_writer(embedder.as_ref(), false)
        .context("use `simsum index --rebuild` to start over")?;
    let opts = simsum::store::update::IndexPathsOptions {
        ingest: simsum::ingest::IngestOptions {
            max_tokens: embedder.max_tokens(),
            verbose: g.verbose,
            ..Default::default()
        },
        tagger: Some(simsum::entities::TAGGER),
        ..Default::default()
    };
    let run = simsum::store::update::index_paths(
        writer.as_mut(),
        embedder.as_ref(),
        std::slice::from_ref(&a.seeds),
        &opts,
        &|_, _| {},
    )?;
    for s in &run.report.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    let stats = run.stats;
    let counts = writer.store().counts()?;
    drop(writer);
    heading(&mut out, &st, "Index")?;
    writeln!(
        out,
        "{counts} in {url} ({} texts embedded, {:.1} s)",
        stats.embedded,
        started.elapsed().as_secs_f64()
    )?;
    let index = g.open_store()?;
    let index = index.as_ref();

    // 2. Find similar initiatives: by text, and by an existing initiative across documents.
    let search = SearchOptions {
        k: a.k,
        ..Default::default()
    };
    for q in QUERIES {
        heading(&mut out, &st, &format!("Initiatives like \"{q}\""))?;
        let hits = simsum::search::search(index, embedder.as_ref(), q, &search)?;
        print_hits(&mut out, &hits, &st)?;
    }
    let initiatives = index.knn_items(Level::Initiative)?;
    if let Some(first) = initiatives.first() {
        let other = SearchOptions {
            other_docs: true,
            ..search.clone()
        };
        heading(
            &mut out,
            &st,
            &format!("In other documents, initiatives like {}", first.id),
        )?;
        writeln!(out, "  {}", super::search::trim(&first.text, 110))?;
        let (_, hits) = simsum::search::similar(index, &first.id, &other)?;
        print_hits(&mut out, &hits, &st)?;
    }

    // 3. Themes, in the terminal and as an HTML report.
    let themes = super::cluster::themes(
        g,
        index,
        Level::Initiative,
        &ClusterParams::default(),
        false,
    )?;
    heading(&mut out, &st, "Themes")?;
    write!(
        out,
        "{}",
        render_themes(&themes.report, &themes.items, Format::Text)
    )?;
    std::fs::write(
        &a.report,
        render_themes(&themes.report, &themes.items, Format::Html),
    )
    .with_context(|| format!("writing {}", a.report.display()))?;
    writeln!(
        out,
        "\nwrote the theme report with its map to {}",
        a.report.display()
    )?;

    // 4. A short summary of each document, from the stored sentence vectors.
    let all = index.items(Level::Initiative)?;
    let params = SummaryParams {
        length: Length::Sentences(3),
        ..Default::default()
    };
    for doc in index.documents()? {
        let items: Vec<_> = all.iter().filter(|i| i.doc_id == doc.id).cloned().collect();
        let summary = summarize(&units_from_items(&items), &params)?;
        heading(&mut out, &st, &format!("Summary of \"{}\"", doc.title))?;
        for s in &summary.sentences {
            writeln!(out, "- {} [{}]", s.text, s.initiative)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
