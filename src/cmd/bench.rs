//! `simsum bench embed|index|cluster|summarize|pipeline|search`: the measurement harness (see
//! `simsum::bench`), a module per subcommand; `bench index --store milvus://...` is in
//! [`store`]. What they share is here: stage medians and the records' common parts.

use std::process::ExitCode;

use simsum::bench;

mod cluster;
mod embed;
mod index;
mod pipeline;
mod search;
#[cfg(feature = "milvus")]
mod store;
mod summarize;

pub use cluster::ClusterBenchArgs;
pub use embed::EmbedBenchArgs;
pub use index::IndexBenchArgs;
pub use pipeline::PipelineBenchArgs;
pub use summarize::SummarizeBenchArgs;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Embedding throughput per precision and batch size, against the measured GEMM peak.
    Embed(EmbedBenchArgs),
    /// HNSW build time, recall against exact search, queries/s and size, on a .npy matrix;
    /// with `--store milvus://...`, Milvus against the local index (write throughput with 1
    /// and 2 shard writers, query p50/p99, recall@10).
    Index(IndexBenchArgs),
    /// Time per stage of clustering an existing index (kNN graph, themes, labels, summaries,
    /// report).
    Cluster(ClusterBenchArgs),
    /// Time per stage of summarizing files embedded on the fly (model load, reading, sentence
    /// embeddings against the GEMM peak, ranking and picking).
    Summarize(SummarizeBenchArgs),
    /// Time per stage of ingest -> embed -> index -> cluster -> report on a folder.
    Pipeline(PipelineBenchArgs),
    /// Known-item search: MRR@10 and latency of dense, lexical (BM25) and fused rankings.
    Search(search::SearchBenchArgs),
}

pub fn run(g: &super::Global, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Embed(a) => embed::run(g, a),
        BenchCommand::Index(a) => index::run(g, a),
        BenchCommand::Cluster(a) => cluster::run(g, a),
        BenchCommand::Summarize(a) => summarize::run(g, a),
        BenchCommand::Pipeline(a) => pipeline::run(g, a),
        BenchCommand::Search(a) => search::run(g, a),
    }
}

/// Stage names, the median seconds of each stage over `runs`, and the median total.
fn stage_medians(runs: &[Vec<(&'static str, f64)>]) -> (Vec<&'static str>, Vec<f64>, f64) {
    let names: Vec<&'static str> = runs[0].iter().map(|s| s.0).collect();
    let medians = (0..names.len())
        .map(|i| {
            let v: Vec<f64> = runs.iter().map(|r| r[i].1).collect();
            bench::percentile(&v, 50.0)
        })
        .collect();
    let totals: Vec<f64> = runs.iter().map(|r| r.iter().map(|s| s.1).sum()).collect();
    (names, medians, bench::percentile(&totals, 50.0))
}

// The records `simsum bench ... --json` prints: typed, so their shape is written down once
// (benches/table.py and the quality scripts read them). Keys print sorted, as every answer does.

/// Prints a record as `--json` does.
fn print_record<T: serde::Serialize>(record: &T) -> anyhow::Result<()> {
    outln!("{}", simsum::answer::to_pretty(record));
    Ok(())
}

/// One stage of a repeated run: its median and every run's time.
#[derive(serde::Serialize)]
struct StageRecord {
    stage: &'static str,
    median_seconds: f64,
    seconds: Vec<f64>,
}

/// One stage of a single run.
#[derive(serde::Serialize)]
struct StageSeconds<'a> {
    stage: &'a str,
    seconds: f64,
}

fn stage_records(
    names: &[&'static str],
    median: &dyn Fn(usize) -> f64,
    seconds: impl Fn(usize) -> Vec<f64>,
) -> Vec<StageRecord> {
    names
        .iter()
        .enumerate()
        .map(|(i, &stage)| StageRecord {
            stage,
            median_seconds: median(i),
            seconds: seconds(i),
        })
        .collect()
}
