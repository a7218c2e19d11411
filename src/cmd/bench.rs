//! `simsum bench embed|index|cluster|summarize|pipeline`: the measurement harness (see
//! `simsum::bench`); `bench index --store milvus://...` is in [`store`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use simsum::bench::{self, EmbedRun, IndexBenchConfig, Machine};
use simsum::embed::DType;

mod search;
#[cfg(feature = "milvus")]
mod store;

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

#[derive(Debug, clap::Args)]
pub struct EmbedBenchArgs {
    /// Texts, one per line.
    #[arg(long)]
    pub texts: PathBuf,
    /// Precisions to run, comma-separated (auto, f32, f16, bf16). bf16 is skipped, with a
    /// note, on CPUs without AVX-512 BF16 (it would run as f32).
    #[arg(long, default_value = "auto,f32,bf16", value_delimiter = ',')]
    pub dtype: Vec<simsum::embed::DType>,
    /// Batch sizes to run, comma-separated.
    #[arg(long, default_value = "1,8,32,128,256", value_delimiter = ',')]
    pub batch_sizes: Vec<usize>,
    /// Use only the first N texts.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct IndexBenchArgs {
    /// A 2-D float32 .npy matrix of vectors (the HNSW benchmark). Without it, `--store
    /// milvus://HOST:PORT/NAME` runs the store benchmark: Milvus against the local index.
    #[arg(long, conflicts_with = "paths")]
    pub vectors: Option<PathBuf>,
    /// Store benchmark: files or folders to index (default: a corpus generated from
    /// `--sentences-from`).
    pub paths: Vec<PathBuf>,
    /// Store benchmark: reports to generate when no files are given.
    #[arg(long, default_value_t = 200)]
    pub reports: usize,
    /// Store benchmark: documents, one per line, whose sentences make the generated reports.
    #[arg(long, default_value = "tests/data/lee/lee-docs.txt")]
    pub sentences_from: PathBuf,
    /// Queries: held-out rows taken from the end of `--vectors` (default 1000), or corpus
    /// sentences for the store benchmark (default 200).
    #[arg(long)]
    pub queries: Option<usize>,
    /// HNSW M.
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    /// HNSW ef_construction.
    #[arg(long, default_value_t = 200)]
    pub ef_construction: usize,
    /// Search ef values to sweep, comma-separated.
    #[arg(long, default_value = "16,32,64,128,256", value_delimiter = ',')]
    pub ef: Vec<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Internal: run as one writer process of the store benchmark.
    #[arg(long, hide = true, requires = "vector_cache")]
    pub writer_shard: Option<simsum::store::update::Shard>,
    /// Internal: the vectors a writer process uses instead of the model.
    #[arg(long, hide = true)]
    pub vector_cache: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PipelineBenchArgs {
    /// Folder (or files) to run the pipeline on.
    #[arg(default_value = "seeds")]
    pub paths: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &super::Global, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Embed(a) => embed(g, a),
        BenchCommand::Index(a) => index(g, a),
        BenchCommand::Cluster(a) => cluster(g, a),
        BenchCommand::Summarize(a) => summarize(g, a),
        BenchCommand::Pipeline(a) => pipeline(g, a),
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

/// Clusters the index and renders the HTML report, returning seconds per stage.
fn cluster_stages(
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

fn cluster(g: &super::Global, a: ClusterBenchArgs) -> anyhow::Result<ExitCode> {
    let index = g.open_store()?;
    let embedder = if a.no_model {
        None
    } else {
        let e = super::load_embedder(g)?;
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
    g: &super::Global,
    paths: &[PathBuf],
    config: &simsum::model::BertConfig,
) -> anyhow::Result<SummarizeRun> {
    use simsum::summarize::{embed_documents, summarize, word_count, SummaryParams};
    let mut stages = Vec::new();
    let t = Instant::now();
    let embedder = super::load_embedder(g)?;
    stages.push(("load model", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let (count, max_tokens) = super::token_counter(g);
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

fn summarize(g: &super::Global, a: SummarizeBenchArgs) -> anyhow::Result<ExitCode> {
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

fn embed(g: &super::Global, a: EmbedBenchArgs) -> anyhow::Result<ExitCode> {
    let file =
        std::fs::File::open(&a.texts).with_context(|| format!("opening {}", a.texts.display()))?;
    let mut texts = super::embed::read_lines(file, true, &a.texts.display().to_string())?;
    texts.retain(|t| !t.trim().is_empty());
    if let Some(n) = a.limit {
        texts.truncate(n);
    }
    anyhow::ensure!(!texts.is_empty(), "{} has no texts", a.texts.display());
    let files = simsum::model::resolve(g.model.files_name()?, &Default::default())?;
    let machine = Machine::detect();
    let f32_peak = bench::cpu_f32_gemm_peak();
    let fma_peak = bench::cpu_f32_fma_peak();
    let bf16_peak = bench::cpu_bf16_gemm_peak();
    let bf16_limit = bench::cpu_bf16_dp_peak();
    let mut runs: Vec<EmbedRun> = Vec::new();
    let mut reference: Option<Vec<Vec<f32>>> = None;
    let mut skipped: Vec<String> = Vec::new();
    // f32 first: the other precisions are compared with its vectors.
    let mut dtypes = a.dtype.clone();
    dtypes.dedup();
    dtypes.sort_by_key(|d| *d != DType::F32);
    let on_cpu = !matches!(
        g.device,
        simsum::embed::Device::Cuda(_) | simsum::embed::Device::Metal
    );
    for &dtype in &dtypes {
        if dtype == DType::Bf16 && on_cpu && !machine.bf16_kernel {
            let why = format!(
                "bf16 skipped: this CPU ({}) has no AVX-512 BF16, bf16 would run as f32",
                machine.cpu_features
            );
            eprintln!("{why}");
            skipped.push(why);
            continue;
        }
        for &bs in &a.batch_sizes {
            let opts = super::EmbedderOptions {
                batch_size: bs,
                dtype,
                normalize: true,
            };
            let e = super::load_embedder_with(g, &opts)?;
            // What actually runs (`auto` resolved), e.g. "auto=bf16".
            let ran = e.model_id().dtype;
            let label = if dtype == DType::Auto {
                format!("auto={ran}")
            } else {
                ran.clone()
            };
            let peak = match ran.as_str() {
                "bf16" if machine.bf16_kernel && on_cpu => bf16_peak,
                _ => Some(f32_peak),
            };
            let refs = if dtype == DType::F32 {
                None
            } else {
                reference.as_deref()
            };
            let (mut run, vectors) =
                bench::embed_run(&*e, &files.config, &texts, bs, &label, peak, refs)?;
            run.fma_fraction = fma_peak.map(|f| run.gflops / f);
            let limit = match ran.as_str() {
                "bf16" if machine.bf16_kernel && on_cpu => bf16_limit,
                "f32" if on_cpu => fma_peak,
                _ => None,
            };
            run.limit_fraction = limit.map(|l| run.gflops / l);
            if dtype == DType::F32 && reference.is_none() {
                reference = Some(vectors);
            }
            if !a.json {
                eprintln!("{label} batch {bs}: {:.0} tokens/s", run.tokens_per_s);
            }
            runs.push(run);
        }
    }
    let out = EmbedRecord {
        benchmark: "embed",
        machine: machine.clone(),
        simsum_version: env!("CARGO_PKG_VERSION"),
        model: ModelRecord {
            name: files.name.clone(),
            weights_sha256: files.weights_sha256.clone(),
        },
        device: g.device.to_string(),
        texts_file: a.texts.clone(),
        f32_gemm_peak_gflops: f32_peak,
        f32_fma_peak_gflops: fma_peak,
        bf16_gemm_peak_gflops: bf16_peak,
        bf16_dp_peak_gflops: bf16_limit,
        flop_formula: "layers * (2*L*(4*h^2 + 2*h*i) + 4*L^2*h) per text of L tokens",
        runs,
        skipped,
    };
    let runs = &out.runs;
    let verdicts = default_against_f32(runs);
    if a.json {
        print_record(&out)?;
    } else {
        outln!(
            "machine: {} ({} threads, CPU features: {}), f32 GEMM peak {:.0} GFLOP/s (FMA limit {}), bf16 GEMM peak {} (vdpbf16ps limit {})",
            machine.cpu_model,
            machine.threads_used,
            machine.cpu_features,
            f32_peak,
            fma_peak.map_or("n/a".into(), |p| format!("{p:.0} GFLOP/s")),
            bf16_peak.map_or("n/a".into(), |p| format!("{p:.0} GFLOP/s")),
            bf16_limit.map_or("n/a".into(), |p| format!("{p:.0} GFLOP/s"))
        );
        outln!("FLOP per text of L tokens: {}", out.flop_formula);
        outln!(
            "{:<9} {:>5} {:>7} {:>9} {:>9} {:>7} {:>8} {:>8} {:>7} {:>7} {:>6} {:>5} {:>6} {:>8} {:>9}",
            "dtype",
            "batch",
            "texts",
            "texts/s",
            "tokens/s",
            "pad%",
            "p50 ms",
            "p99 ms",
            "GFLOP",
            "GFLOP/s",
            "peak%",
            "FMA%",
            "limit%",
            "RSS MiB",
            "cos f32"
        );
        for r in runs {
            outln!(
                "{:<9} {:>5} {:>7} {:>9.1} {:>9.0} {:>6.1}% {:>8.1} {:>8.1} {:>7.1} {:>7.1} {:>5.0}% {:>4.0}% {:>5.0}% {:>8.0} {:>9}",
                r.dtype, r.batch_size, r.texts, r.texts_per_s, r.tokens_per_s, r.padding_ratio * 100.0,
                r.batch_latency_p50_ms, r.batch_latency_p99_ms, r.gflop, r.gflops,
                r.peak_fraction.unwrap_or(f64::NAN) * 100.0,
                r.fma_fraction.unwrap_or(f64::NAN) * 100.0,
                r.limit_fraction.unwrap_or(f64::NAN) * 100.0,
                r.peak_rss_mib.unwrap_or(f64::NAN), r.cosine_to_f32_min.map_or("-".into(), |c| format!("{c:.5}")),
            );
        }
        for why in &out.skipped {
            outln!("{why}");
        }
        outln!("limit% = GFLOP/s over the hardware limit of the precision that ran (f32: FMA limit; bf16: vdpbf16ps limit)");
    }
    for v in &verdicts {
        eprintln!("{v}");
    }
    // The default must never be the slower choice: a benchmark that says so fails.
    Ok(if verdicts.iter().any(|v| v.starts_with("FAIL")) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Slowest the default may be against f32 in the same run before the benchmark fails: within
/// this the two are the same speed (run-to-run noise of back-to-back runs on a quiet machine).
const DEFAULT_TOLERANCE: f64 = 0.03;

/// For each batch size with both an `auto` and an `f32` run where `auto` ran another precision,
/// "ok" or "FAIL" with the ratio of their tokens/s.
fn default_against_f32(runs: &[EmbedRun]) -> Vec<String> {
    let mut out = Vec::new();
    for auto in runs.iter().filter(|r| r.dtype.starts_with("auto=")) {
        let Some(f32) = runs
            .iter()
            .find(|r| r.dtype == "f32" && r.batch_size == auto.batch_size)
        else {
            continue;
        };
        if auto.dtype == "auto=f32" {
            out.push(format!(
                "ok: batch {}: the default runs f32 here",
                auto.batch_size
            ));
            continue;
        }
        let ratio = auto.tokens_per_s / f32.tokens_per_s;
        let verdict = if ratio < 1.0 - DEFAULT_TOLERANCE {
            "FAIL"
        } else {
            "ok"
        };
        out.push(format!(
            "{verdict}: batch {}: the default ({}) runs at {ratio:.2}x f32's tokens/s",
            auto.batch_size, auto.dtype
        ));
    }
    out
}

fn index(g: &super::Global, a: IndexBenchArgs) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "milvus")]
    if a.writer_shard.is_some() {
        return store::child(g, &a);
    }
    let Some(vectors) = &a.vectors else {
        #[cfg(not(feature = "milvus"))]
        let _ = g;
        #[cfg(feature = "milvus")]
        if let (Some(_), url @ simsum::store::StoreUrl::Milvus { .. }) = (&g.store, g.store_url()?)
        {
            return store::run(g, &a, &url);
        }
        anyhow::bail!(
            "bench index needs --vectors FILE.npy (HNSW), or --store milvus://HOST:PORT/NAME (Milvus against the local index)"
        );
    };
    let (rows, dim, data) = bench::read_npy(vectors)?;
    let cfg = IndexBenchConfig {
        queries: a.queries.unwrap_or(1000),
        k: 10,
        m: a.m,
        ef_construction: a.ef_construction,
        ef: a.ef.clone(),
    };
    let b = bench::index_bench(rows, dim, &data, &cfg);
    if a.json {
        let out = IndexRecord {
            benchmark: "index",
            machine: Machine::detect(),
            vectors,
            config: &cfg,
            result: &b,
        };
        print_record(&out)?;
    } else {
        outln!(
            "{} points x {} dims, {} queries; build {:.2} s on {} threads (M={}, ef_construction={}); {:.1} MiB on disk; exact scan {:.0} q/s",
            b.points, b.dim, b.queries, b.build_seconds, b.build_threads, a.m, a.ef_construction, b.index_mib_on_disk, b.exact_qps_one_thread
        );
        outln!(
            "{:>5} {:>9} {:>10} {:>10} {:>10} {:>8} {:>8}",
            "ef",
            "recall@1",
            "recall@10",
            "q/s (1 t)",
            "q/s (all)",
            "p50 ms",
            "p99 ms"
        );
        for r in &b.runs {
            outln!(
                "{:>5} {:>9.4} {:>10.4} {:>10.0} {:>10.0} {:>8.3} {:>8.3}",
                r.ef,
                r.recall_at_1,
                r.recall_at_10,
                r.qps_one_thread,
                r.qps_all_threads,
                r.latency_p50_ms,
                r.latency_p99_ms
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn pipeline(g: &super::Global, a: PipelineBenchArgs) -> anyhow::Result<ExitCode> {
    let mut stages: Vec<(&str, f64)> = Vec::new();
    let t = Instant::now();
    let embedder = super::load_embedder(g)?;
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

#[derive(serde::Serialize)]
struct ModelRecord {
    name: String,
    weights_sha256: String,
}

#[derive(serde::Serialize)]
struct EmbedRecord<R: serde::Serialize> {
    benchmark: &'static str,
    machine: Machine,
    simsum_version: &'static str,
    model: ModelRecord,
    device: String,
    texts_file: std::path::PathBuf,
    f32_gemm_peak_gflops: f64,
    f32_fma_peak_gflops: Option<f64>,
    bf16_gemm_peak_gflops: Option<f64>,
    /// The bf16 multiply-add limit (`vdpbf16ps` chains), the ceiling of bf16 products.
    bf16_dp_peak_gflops: Option<f64>,
    flop_formula: &'static str,
    runs: Vec<R>,
    skipped: Vec<String>,
}

#[derive(serde::Serialize)]
struct IndexRecord<'a, C: serde::Serialize, B: serde::Serialize> {
    benchmark: &'static str,
    machine: Machine,
    vectors: &'a std::path::Path,
    config: &'a C,
    result: &'a B,
}

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
