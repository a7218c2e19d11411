//! `simsum bench summarize`: time per stage of summarizing files embedded on the fly, the
//! embedding stage against the measured GEMM peak.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use simsum::bench::{self, Machine};

use super::{print_record, stage_medians, stage_records, StageRecord};

#[derive(Debug, clap::Args)]
pub struct SummarizeBenchArgs {
    /// Files (or folders) to summarize together, as `simsum summarize PATH...` does.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Runs; the table shows the median of each stage.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What one `bench summarize` run measured.
struct SummarizeRun {
    stages: Vec<(&'static str, f64)>,
    sentences: usize,
    distinct: usize,
    words: usize,
    tokens: usize,
    flops: f64,
}

/// One run of `simsum summarize PATH...`, stage by stage (one after another: the command itself
/// loads the model while it reads).
fn summarize_once(
    g: &super::super::Global,
    paths: &[PathBuf],
    config: &simsum::model::BertConfig,
) -> anyhow::Result<SummarizeRun> {
    use simsum::summarize::{embed_documents, summarize, word_count, SummaryParams};
    let mut stages = Vec::new();
    let t = Instant::now();
    let embedder = super::super::load_embedder(g)?;
    stages.push(("load model", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let (count, max_tokens) = super::super::token_counter(g);
    let opts = simsum::ingest::IngestOptions {
        max_tokens,
        ..Default::default()
    };
    let report = simsum::ingest::ingest_paths(paths, &opts, &*count);
    if let Some(s) = report.skipped.first() {
        anyhow::bail!("could not read {}: {}", s.path.display(), s.reason);
    }
    stages.push(("read + split", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let units = embed_documents(&report.documents, embedder.as_ref())?;
    stages.push(("embed sentences", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let summary = summarize(&units, &SummaryParams::default())?;
    std::hint::black_box(&summary);
    stages.push(("rank + pick", t.elapsed().as_secs_f64()));
    // FLOPs of what the embedder runs: each distinct (case-folded) sentence once.
    let mut distinct = std::collections::HashSet::new();
    let lens: Vec<usize> = units
        .iter()
        .filter(|u| distinct.insert(u.text.to_lowercase()))
        .map(|u| embedder.count_tokens(&u.text).min(embedder.max_tokens()))
        .collect();
    Ok(SummarizeRun {
        stages,
        sentences: units.len(),
        distinct: lens.len(),
        words: units.iter().map(|u| word_count(&u.text)).sum(),
        tokens: lens.iter().sum(),
        flops: lens.iter().map(|&l| bench::flops_per_text(config, l)).sum(),
    })
}

pub(super) fn run(g: &super::super::Global, a: SummarizeBenchArgs) -> anyhow::Result<ExitCode> {
    if let simsum::model::ModelRef::Hash(_) = g.model {
        anyhow::bail!(
            "bench summarize needs a transformer model (it reports FLOP/s); drop `--model {}`",
            g.model
        );
    }
    let files = simsum::model::resolve(g.model.files_name()?, &Default::default())?;
    let runs = (0..a.repeat.max(1))
        .map(|_| summarize_once(g, &a.paths, &files.config))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Measured right after the runs, so they describe the machine as the runs found it (shared
    // machines speed up and slow down).
    let peak = bench::cpu_f32_gemm_peak();
    let fma = bench::cpu_f32_fma_peak();
    let first = &runs[0];
    let stages: Vec<Vec<(&'static str, f64)>> = runs.iter().map(|r| r.stages.clone()).collect();
    let (names, median, total) = stage_medians(&stages);
    let median = |i: usize| median[i];
    let embed_s = median(
        names
            .iter()
            .position(|n| *n == "embed sentences")
            .unwrap_or(0),
    );
    let gflops = first.flops / embed_s / 1e9;
    if a.json {
        let out = SummarizeRecord {
            benchmark: "summarize",
            machine: Machine::detect(),
            paths: a.paths.clone(),
            sentences: first.sentences,
            distinct_sentences: first.distinct,
            words: first.words,
            tokens_embedded: first.tokens,
            embed_gflop: first.flops / 1e9,
            embed_gflops: gflops,
            f32_gemm_peak_gflops: peak,
            f32_fma_peak_gflops: fma,
            embed_seconds_at_gemm_peak: first.flops / peak / 1e9,
            embed_seconds_at_fma_peak: fma.map(|f| first.flops / f / 1e9),
            repeat: runs.len(),
            stages: stage_records(&names, &median, |i| {
                runs.iter().map(|r| r.stages[i].1).collect()
            }),
            total_median_seconds: total,
        };
        print_record(&out)?;
    } else {
        outln!(
            "{} sentences ({} distinct), {} words; {} tokens embedded ({:.0} GFLOP); median of {} runs",
            first.sentences,
            first.distinct,
            first.words,
            first.tokens,
            first.flops / 1e9,
            runs.len()
        );
        for (i, n) in names.iter().enumerate() {
            outln!("{n:<18} {:>8.3} s", median(i));
        }
        outln!("{:<18} {:>8.3} s", "total", total);
        outln!(
            "embedding ran at {gflops:.0} GFLOP/s, {:.0}% of the measured f32 GEMM peak ({peak:.0} GFLOP/s; {:.2} s at peak)",
            gflops / peak * 100.0,
            first.flops / peak / 1e9
        );
        if let Some(f) = fma {
            outln!(
                "f32 multiply-add limit {f:.0} GFLOP/s ({:.0}% reached; the embeddings take {:.2} s at it)",
                gflops / f * 100.0,
                first.flops / f / 1e9
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct SummarizeRecord {
    benchmark: &'static str,
    machine: Machine,
    paths: Vec<std::path::PathBuf>,
    sentences: usize,
    distinct_sentences: usize,
    words: usize,
    tokens_embedded: usize,
    embed_gflop: f64,
    embed_gflops: f64,
    f32_gemm_peak_gflops: f64,
    f32_fma_peak_gflops: Option<f64>,
    embed_seconds_at_gemm_peak: f64,
    embed_seconds_at_fma_peak: Option<f64>,
    repeat: usize,
    stages: Vec<StageRecord>,
    total_median_seconds: f64,
}
