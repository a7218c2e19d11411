//! `simsum bench cluster`: time per stage of clustering an existing index; its stages (with
//! the HTML report) are also the last stages of `bench pipeline`.

use std::process::ExitCode;
use std::time::Instant;

use simsum::bench::Machine;

use super::{print_record, stage_medians, stage_records, StageRecord};

#[derive(Debug, clap::Args)]
pub struct ClusterBenchArgs {
    /// What to cluster: initiative or section.
    #[arg(long, default_value = "initiative")]
    pub level: simsum::store::Level,
    /// Runs; the table shows the median of each stage.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Label themes without the model (keyphrase vectors from member vectors).
    #[arg(long)]
    pub no_model: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Clusters the index and renders the HTML report, returning seconds per stage.
pub(super) fn cluster_stages(
    index: &dyn simsum::store::Store,
    level: simsum::store::Level,
    embedder: Option<&dyn simsum::embed::Embedder>,
) -> anyhow::Result<(
    Vec<(&'static str, f64)>,
    simsum::cluster::indexed::IndexedThemes,
)> {
    let themes =
        simsum::cluster::indexed::cluster_index(index, level, &Default::default(), embedder)?;
    let mut stages = themes.timings.clone();
    let t = Instant::now();
    let html =
        simsum::report::render_themes(&themes.report, &themes.items, simsum::report::Format::Html);
    std::hint::black_box(html);
    stages.push(("HTML report", t.elapsed().as_secs_f64()));
    Ok((stages, themes))
}

pub(super) fn run(g: &super::super::Global, a: ClusterBenchArgs) -> anyhow::Result<ExitCode> {
    let index = g.open_store()?;
    let embedder = if a.no_model {
        None
    } else {
        let e = super::super::load_embedder(g)?;
        index.check_model(&e.model_id(), e.dim())?;
        Some(e)
    };
    let mut runs: Vec<Vec<(&'static str, f64)>> = Vec::new();
    let mut last = None;
    for _ in 0..a.repeat.max(1) {
        let (stages, themes) = cluster_stages(index.as_ref(), a.level, embedder.as_deref())?;
        runs.push(stages);
        last = Some(themes);
    }
    let themes = last.expect("at least one run");
    let (names, median, total) = stage_medians(&runs);
    let median = |i: usize| median[i];
    if a.json {
        let out = ClusterRecord {
            benchmark: "cluster",
            machine: Machine::detect(),
            index: index.info().url,
            level: a.level.as_str(),
            items: themes.items.len(),
            themes: themes.report.themes.len(),
            unclustered: themes.report.unclustered.len(),
            labels_with_model: !a.no_model,
            repeat: runs.len(),
            stages: stage_records(&names, &median, |i| runs.iter().map(|r| r[i].1).collect()),
            total_median_seconds: total,
        };
        print_record(&out)?;
    } else {
        outln!(
            "{} items -> {} themes, {} unclustered; median of {} runs",
            themes.items.len(),
            themes.report.themes.len(),
            themes.report.unclustered.len(),
            runs.len()
        );
        for (i, n) in names.iter().enumerate() {
            outln!("{n:<18} {:>8.3} s", median(i));
        }
        outln!("{:<18} {:>8.3} s", "total", total);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct ClusterRecord {
    benchmark: &'static str,
    machine: Machine,
    index: String,
    level: &'static str,
    items: usize,
    themes: usize,
    unclustered: usize,
    labels_with_model: bool,
    repeat: usize,
    stages: Vec<StageRecord>,
    total_median_seconds: f64,
}
