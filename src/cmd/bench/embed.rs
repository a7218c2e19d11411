//! `simsum bench embed`: embedding throughput per precision and batch size against the
//! measured GEMM peak, and the check that the default precision is never the slower one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use simsum::bench::{self, EmbedRun, Machine};
use simsum::embed::DType;

use super::print_record;

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

pub(super) fn run(g: &super::super::Global, a: EmbedBenchArgs) -> anyhow::Result<ExitCode> {
    let file =
        std::fs::File::open(&a.texts).with_context(|| format!("opening {}", a.texts.display()))?;
    let mut texts = super::super::embed::read_lines(file, true, &a.texts.display().to_string())?;
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
            let opts = super::super::EmbedderOptions {
                batch_size: bs,
                dtype,
                normalize: true,
            };
            let e = super::super::load_embedder_with(g, &opts)?;
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
