//! `simsum bench pipeline`: time per stage of ingest -> embed -> index -> cluster -> report on
//! a folder, in a temporary local index.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use simsum::bench::Machine;

use super::cluster::cluster_stages;
use super::{print_record, StageSeconds};

#[derive(Debug, clap::Args)]
pub struct PipelineBenchArgs {
    /// Folder (or files) to run the pipeline on.
    #[arg(default_value = "seeds")]
    pub paths: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(g: &super::super::Global, a: PipelineBenchArgs) -> anyhow::Result<ExitCode> {
    let mut stages: Vec<(&str, f64)> = Vec::new();
    let t = Instant::now();
    let embedder = super::super::load_embedder(g)?;
    stages.push(("load model", t.elapsed().as_secs_f64()));
    let dir = tempfile::tempdir()?;
    let mut w = simsum::store::local::LocalWriter::open(
        dir.path(),
        &embedder.model_id(),
        embedder.dim(),
        true,
    )?;
    let opts = simsum::store::update::IndexPathsOptions {
        ingest: simsum::ingest::IngestOptions {
            max_tokens: embedder.max_tokens(),
            ..Default::default()
        },
        tagger: Some(simsum::entities::TAGGER),
        ..Default::default()
    };
    let run = simsum::store::update::index_paths(&mut w, &*embedder, &a.paths, &opts, &|_, _| {})?;
    stages.push(("ingest", run.ingest_seconds));
    stages.push(("embed + index", run.update_seconds));
    let (report, stats) = (run.report, run.stats);
    drop(w);
    let index = simsum::store::local::LocalStore::open(dir.path())?;
    let (cluster, themes) = cluster_stages(
        &index,
        simsum::store::Level::Initiative,
        Some(embedder.as_ref()),
    )?;
    stages.extend(cluster);
    let total: f64 = stages.iter().map(|s| s.1).sum();
    if a.json {
        let out = PipelineRecord {
            benchmark: "pipeline",
            machine: Machine::detect(),
            paths: a.paths.clone(),
            documents: report.documents.len(),
            embedded: stats.embedded,
            themes: themes.report.themes.len(),
            unclustered: themes.report.unclustered.len(),
            stages: stages
                .iter()
                .map(|(stage, seconds)| StageSeconds {
                    stage,
                    seconds: *seconds,
                })
                .collect(),
            total_seconds: total,
        };
        print_record(&out)?;
    } else {
        outln!(
            "{} documents, {} texts embedded, {} themes",
            report.documents.len(),
            stats.embedded,
            themes.report.themes.len()
        );
        for (n, s) in &stages {
            outln!("{n:<16} {:>8.3} s", s);
        }
        outln!("{:<16} {:>8.3} s", "total", total);
    }
    Ok(ExitCode::SUCCESS)
}

// The records `simsum bench ... --json` prints: typed, so their shape is written down once
// (benches/table.py and the quality scripts read them). Keys print sorted, as every answer does.

#[derive(serde::Serialize)]
struct PipelineRecord<'a> {
    benchmark: &'static str,
    machine: Machine,
    paths: Vec<std::path::PathBuf>,
    documents: usize,
    embedded: usize,
    themes: usize,
    unclustered: usize,
    stages: Vec<StageSeconds<'a>>,
    total_seconds: f64,
}
