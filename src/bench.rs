//! Measuring every stage: embedding throughput against the hardware's limit, index recall and
//! speed, and the end-to-end pipeline.
//!
//! The figures here are what `simsum bench` prints and what `benches/run.sh` compares with the
//! Python peers (sentence-transformers, ONNX Runtime, hnswlib, faiss) on the same data.
//!
//! FLOP count of a BERT encoder for one text of L tokens (hidden h, intermediate i, layers n):
//! `n * (2*L*(3h^2 + h^2 + 2*h*i) + 4*L^2*h)`: the Q/K/V, attention-output and two feed-forward
//! products, plus the two attention products (Q K^T and P V). Embeddings, LayerNorm, softmax,
//! GELU and pooling are not counted (they are O(L*h)). For all-MiniLM-L6-v2 this is about
//! 21.2 MFLOP per token plus 9.2 kFLOP per token per token of context.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::embed::{cosine, Embedder};
use crate::model::BertConfig;
use crate::store::local::graphs::hnsw::{HnswGraph, HnswParams};

/// Errors of the benchmark harness.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{path}: {reason}")]
    Npy { path: String, reason: String },
    #[error("{0}")]
    Embed(#[from] crate::embed::EmbedError),
    #[error("{0}")]
    Other(String),
}

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub threads_used: usize,
    pub simd: String,
    /// The vector features simsum detected and uses ([`crate::embed::CpuFeatures`]).
    pub cpu_features: String,
    pub bf16_kernel: bool,
    pub os: String,
}

impl Machine {
    /// Reads `/proc/cpuinfo` and the thread pool size.
    pub fn detect() -> Self {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = info
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        Self {
            cpu_model,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            threads_used: rayon::current_num_threads(),
            simd: format!("{:?}", crate::embed::CpuFeatures::get().level()),
            cpu_features: crate::embed::CpuFeatures::get().summary(),
            bf16_kernel: crate::embed::CpuFeatures::get().bf16_products(),
            os: std::env::consts::OS.to_string(),
        }
    }
}

/// FLOPs of one forward pass over a text of `len` tokens (see the module docs).
pub fn flops_per_text(cfg: &BertConfig, len: usize) -> f64 {
    let (h, i, l) = (
        cfg.hidden_size as f64,
        cfg.intermediate_size as f64,
        len as f64,
    );
    cfg.num_hidden_layers as f64 * (2.0 * l * (4.0 * h * h + 2.0 * h * i) + 4.0 * l * l * h)
}

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Current resident memory in MiB (Linux `VmRSS`).
pub fn rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The `p`-th percentile (0..=100) of `v` (nearest rank).
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
    s[rank.min(s.len()) - 1]
}

/// Measured f32 matrix-product peak of this CPU, GFLOP/s: the best of a few 2048^3 products
/// through the `gemm` crate (candle's kernel, which the f32 encoder uses only on CPUs without
/// AVX2+FMA; elsewhere its own packed kernels, `embed::sgemm`, can pass this figure), on all
/// threads.
/// [`cpu_f32_fma_peak`] is the ceiling for any kernel.
pub fn cpu_f32_gemm_peak() -> f64 {
    let n = 2048;
    let a = vec![0.5f32; n * n];
    let b = vec![0.25f32; n * n];
    let mut c = vec![0f32; n * n];
    let par = gemm::Parallelism::Rayon(rayon::current_num_threads().max(1));
    let mut best = f64::MAX;
    for _ in 0..4 {
        let t = Instant::now();
        // SAFETY: three n x n row-major buffers of the right size.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                n as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                par,
            );
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// Measured f32 multiply-add throughput of this CPU, GFLOP/s: independent fused multiply-add
/// chains in registers on every thread of the pool (512-bit on AVX-512, 256-bit on AVX2+FMA), no
/// memory traffic. No f32 code can exceed it, so it bounds every f32 throughput target; `None`
/// on CPUs without FMA.
pub fn cpu_f32_fma_peak() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let features = crate::embed::CpuFeatures::get();
        let (wide, fma) = (features.avx512f, features.avx2_fma);
        if !wide && !fma {
            return None;
        }
        const ROUNDS: usize = 20_000_000;
        let threads = rayon::current_num_threads().max(1);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let sums = rayon::broadcast(|_| {
                // SAFETY: the features were detected above.
                unsafe {
                    if wide {
                        fma_chains_512(ROUNDS)
                    } else {
                        fma_chains_256(ROUNDS)
                    }
                }
            });
            best = best.min(t.elapsed().as_secs_f64());
            std::hint::black_box(sums);
        }
        let lanes = if wide { 16.0 } else { 8.0 };
        Some(threads as f64 * ROUNDS as f64 * 12.0 * lanes * 2.0 / best / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Defines `$name(rounds)`: twelve independent multiply-add chains in registers of one width,
/// `rounds` times (12 x lanes x 2 FLOP per round); returns a lane of the sum (for black_box).
#[cfg(target_arch = "x86_64")]
macro_rules! fma_chains {
    ($name:ident, $feature:literal, $set1:ident, $fmadd:ident, $add:ident, $first:ident) => {
        /// # Safety
        /// The CPU must support the target features named in the macro call.
        #[target_feature(enable = $feature)]
        unsafe fn $name(rounds: usize) -> f32 {
            use std::arch::x86_64::*;
            let (m, c) = ($set1(0.999_999), $set1(1e-7));
            let mut acc = [$set1(0.0); 12];
            for (i, a) in acc.iter_mut().enumerate() {
                *a = $set1(i as f32);
            }
            for _ in 0..rounds {
                for a in acc.iter_mut() {
                    *a = $fmadd(*a, m, c);
                }
            }
            $first(acc.into_iter().fold($set1(0.0), |s, a| $add(s, a)))
        }
    };
}
#[cfg(target_arch = "x86_64")]
fma_chains!(
    fma_chains_256,
    "avx2,fma",
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_cvtss_f32
);
#[cfg(target_arch = "x86_64")]
fma_chains!(
    fma_chains_512,
    "avx512f",
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_reduce_add_ps
);

/// Measured bf16 multiply-add limit of this CPU, GFLOP/s: twelve independent `vdpbf16ps` chains
/// in registers on every thread (each instruction two multiply-adds in each of 16 lanes), no
/// memory traffic: the ceiling of the bf16 weight products, as [`cpu_f32_fma_peak`] is of f32
/// ones. `None` without AVX-512 BF16.
pub fn cpu_bf16_dp_peak() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        if !crate::embed::bf16::available() {
            return None;
        }
        const ROUNDS: usize = 20_000_000;
        let threads = rayon::current_num_threads().max(1);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            // SAFETY: `available()` checked AVX-512 F and BF16 above.
            let sums = rayon::broadcast(|_| unsafe { dp_chains_512(ROUNDS) });
            best = best.min(t.elapsed().as_secs_f64());
            std::hint::black_box(sums);
        }
        Some(threads as f64 * ROUNDS as f64 * 12.0 * 16.0 * 4.0 / best / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Twelve independent `vdpbf16ps` chains, `rounds` times; returns a lane of the sum.
///
/// # Safety
/// The CPU must support AVX-512 F and AVX-512 BF16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn dp_chains_512(rounds: usize) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: register-only intrinsics; the caller guarantees the features.
    unsafe {
        let pairs = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(0x3F80_3F80));
        let mut acc = [_mm512_setzero_ps(); 12];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm512_set1_ps(i as f32);
        }
        for _ in 0..rounds {
            for a in acc.iter_mut() {
                *a = _mm512_dpbf16_ps(*a, pairs, pairs);
            }
        }
        _mm512_reduce_add_ps(
            acc.into_iter()
                .fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, a)),
        )
    }
}

/// Measured bf16 matrix-product peak (AVX-512 BF16 kernel), GFLOP/s; `None` without the kernel.
pub fn cpu_bf16_gemm_peak() -> Option<f64> {
    if !crate::embed::bf16::available() {
        return None;
    }
    let n = 2048;
    let a = vec![0.5f32; n * n];
    let w = crate::embed::bf16::PackedWeight::pack(&vec![0.25f32; n * n], n, n)?;
    let mut c = vec![0f32; n * n];
    let mut scratch = Vec::new();
    let mut best = f64::MAX;
    for _ in 0..4 {
        let t = Instant::now();
        crate::embed::bf16::matmul_wt(n, &a, &w, &mut c, &mut scratch);
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    Some(2.0 * (n as f64).powi(3) / best / 1e9)
}

/// One configuration of an embedding run.
#[derive(Debug, Clone, Serialize)]
pub struct EmbedRun {
    pub dtype: String,
    pub batch_size: usize,
    pub texts: usize,
    /// Real tokens (padding excluded), special tokens included.
    pub tokens: usize,
    pub seconds: f64,
    pub texts_per_s: f64,
    pub tokens_per_s: f64,
    /// Share of padding if batches were padded to their longest text (the packed CPU path
    /// computes none of it; candle's padded path and the GPU do).
    pub padding_ratio: f64,
    pub batch_latency_p50_ms: f64,
    pub batch_latency_p99_ms: f64,
    pub gflops: f64,
    /// `gflops` as a share of the measured matrix-product peak for this precision.
    pub peak_fraction: Option<f64>,
    /// Achieved GFLOP/s over the CPU's f32 multiply-add limit ([`cpu_f32_fma_peak`]), when the
    /// caller measured it.
    pub fma_fraction: Option<f64>,
    /// FLOP of the whole run (the formula of [`flops_per_text`] over every text).
    pub gflop: f64,
    /// Achieved GFLOP/s over the hardware limit of the precision that ran: the f32 FMA limit,
    /// or for bf16 products the `vdpbf16ps` limit ([`cpu_bf16_dp_peak`]).
    pub limit_fraction: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    /// Mean and minimum cosine to the f32 vectors of the same texts (lower precisions only).
    pub cosine_to_f32_mean: Option<f64>,
    pub cosine_to_f32_min: Option<f64>,
}

/// Embeds `texts` in batches of `batch_size` after sorting them by length (longest first, as
/// sentence-transformers does) and measures each batch.
pub fn embed_run(
    e: &dyn Embedder,
    cfg: &BertConfig,
    texts: &[String],
    batch_size: usize,
    dtype: &str,
    peak_gflops: Option<f64>,
    reference: Option<&[Vec<f32>]>,
) -> Result<(EmbedRun, Vec<Vec<f32>>), BenchError> {
    let lens: Vec<usize> = texts
        .iter()
        .map(|t| e.count_tokens(t).min(e.max_tokens()))
        .collect();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
    let mut vectors = vec![Vec::new(); texts.len()];
    let mut latencies = Vec::new();
    let (mut tokens, mut padded, mut flops) = (0usize, 0usize, 0f64);
    let start = Instant::now();
    for chunk in order.chunks(batch_size.max(1)) {
        let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
        let t = Instant::now();
        let out = e.embed(&batch)?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        let longest = out.iter().map(|o| o.n_tokens).max().unwrap_or(0);
        padded += longest * out.len();
        for (&i, o) in chunk.iter().zip(out) {
            tokens += o.n_tokens;
            flops += flops_per_text(cfg, o.n_tokens);
            vectors[i] = o.vector;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let gflops = flops / seconds / 1e9;
    let (cos_mean, cos_min) = match reference {
        Some(r) => {
            let c: Vec<f64> = r
                .iter()
                .zip(&vectors)
                .map(|(a, b)| cosine(a, b) as f64)
                .collect();
            (
                Some(c.iter().sum::<f64>() / c.len().max(1) as f64),
                c.iter().copied().reduce(f64::min),
            )
        }
        None => (None, None),
    };
    let run = EmbedRun {
        dtype: dtype.to_string(),
        batch_size,
        texts: texts.len(),
        tokens,
        seconds,
        texts_per_s: texts.len() as f64 / seconds,
        tokens_per_s: tokens as f64 / seconds,
        padding_ratio: if padded > 0 {
            1.0 - tokens as f64 / padded as f64
        } else {
            0.0
        },
        batch_latency_p50_ms: percentile(&latencies, 50.0),
        batch_latency_p99_ms: percentile(&latencies, 99.0),
        gflops,
        peak_fraction: peak_gflops.map(|p| gflops / p),
        fma_fraction: None,
        gflop: flops / 1e9,
        limit_fraction: None,
        peak_rss_mib: peak_rss_mib(),
        cosine_to_f32_mean: cos_mean,
        cosine_to_f32_min: cos_min,
    };
    Ok((run, vectors))
}

/// Reads a 2-D little-endian float32 `.npy` file (NumPy's format, version 1-3, C order).
pub fn read_npy(path: &Path) -> Result<(usize, usize, Vec<f32>), BenchError> {
    let err = |reason: String| BenchError::Npy {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(err("not a .npy file (bad magic)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(err(format!("unsupported .npy version {v}"))),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or_else(|| err("truncated header".into()))?,
    )
    .map_err(|_| err("header is not text".into()))?;
    if !header.contains("'descr': '<f4'") {
        return Err(err(format!(
            "expected little-endian float32 ('<f4'), header is {header}"
        )));
    }
    if header.contains("'fortran_order': True") {
        return Err(err(
            "Fortran-ordered arrays are not supported; save with np.ascontiguousarray".into(),
        ));
    }
    let shape = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .map(|s| s.trim().trim_start_matches('('))
        .ok_or_else(|| err("no shape in header".into()))?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| err(format!("bad shape {shape}")))?;
    let [rows, cols] = dims[..] else {
        return Err(err(format!("expected a 2-D matrix, shape is ({shape})")));
    };
    let data = &bytes[start + header_len..];
    if data.len() != rows * cols * 4 {
        return Err(err(format!(
            "{} data bytes for shape ({rows}, {cols})",
            data.len()
        )));
    }
    let v = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((rows, cols, v))
}

/// Writes a 2-D little-endian float32 `.npy` file (NumPy format version 1.0).
pub fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f32]) -> std::io::Result<()> {
    use std::io::Write;
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(header.len() as u16).to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    for v in &data[..rows * cols] {
        w.write_all(&v.to_le_bytes())?;
    }
    w.flush()
}

/// Index benchmark settings.
#[derive(Debug, Clone, Serialize)]
pub struct IndexBenchConfig {
    pub queries: usize,
    pub k: usize,
    pub m: usize,
    pub ef_construction: usize,
    pub ef: Vec<usize>,
}

/// One search setting's figures.
#[derive(Debug, Clone, Serialize)]
pub struct IndexSearchRun {
    pub ef: usize,
    pub recall_at_1: f64,
    pub recall_at_10: f64,
    pub qps_one_thread: f64,
    pub qps_all_threads: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
}

/// The index benchmark's figures.
#[derive(Debug, Clone, Serialize)]
pub struct IndexBench {
    pub points: usize,
    pub dim: usize,
    pub queries: usize,
    pub build_seconds: f64,
    pub build_threads: usize,
    pub exact_qps_one_thread: f64,
    pub index_mib_on_disk: f64,
    pub rss_growth_mib: Option<f64>,
    pub runs: Vec<IndexSearchRun>,
}

/// Builds an HNSW graph on all but the last `queries` rows (normalised), then measures recall
/// (ties counted: a result as close as the k-th exact neighbour is a hit), speed and size.
pub fn index_bench(rows: usize, dim: usize, data: &[f32], cfg: &IndexBenchConfig) -> IndexBench {
    let mut vectors: Vec<Vec<f32>> = data.chunks(dim).take(rows).map(|v| v.to_vec()).collect();
    vectors.iter_mut().for_each(|v| crate::embed::normalize(v));
    let q = cfg.queries.min(rows / 10).max(1);
    let queries = vectors.split_off(rows - q);
    let k = cfg.k;
    // Exact neighbours and the k-th similarity of each query.
    let t = Instant::now();
    let exact: Vec<Vec<(usize, f32)>> = queries
        .iter()
        .map(|qv| {
            let mut s: Vec<(usize, f32)> = vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (i, crate::embed::dot(qv, v)))
                .collect();
            let nth = k.min(s.len()) - 1;
            s.select_nth_unstable_by(nth, |a, b| b.1.total_cmp(&a.1));
            s.truncate(k);
            s.sort_by(|a, b| b.1.total_cmp(&a.1));
            s
        })
        .collect();
    let exact_qps = q as f64 / t.elapsed().as_secs_f64();
    let rss0 = rss_mib();
    let params = HnswParams {
        m: cfg.m,
        ef_construction: cfg.ef_construction,
        ef_search: 64,
    };
    let t = Instant::now();
    let graph = HnswGraph::build(&vectors, params);
    let build_seconds = t.elapsed().as_secs_f64();
    let rss_growth = rss_mib().zip(rss0).map(|(a, b)| a - b);
    let disk = tempfile::tempdir().ok().and_then(|d| {
        graph.save(d.path(), 0).ok()?;
        let bytes: u64 = std::fs::read_dir(d.path())
            .ok()?
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        Some(bytes as f64 / (1 << 20) as f64)
    });
    let runs = cfg
        .ef
        .iter()
        .map(|&ef| {
            let mut lat = Vec::with_capacity(q);
            let mut found = Vec::with_capacity(q);
            let t = Instant::now();
            for qv in &queries {
                let t1 = Instant::now();
                found.push(graph.search(qv, k, ef.max(k)));
                lat.push(t1.elapsed().as_secs_f64() * 1e3);
            }
            let one = q as f64 / t.elapsed().as_secs_f64();
            let t = Instant::now();
            let par: usize = queries
                .par_iter()
                .map(|qv| graph.search(qv, k, ef.max(k)).len())
                .sum();
            std::hint::black_box(par);
            let all = q as f64 / t.elapsed().as_secs_f64();
            let recall = |n: usize| -> f64 {
                let mut hits = 0usize;
                for (f, e) in found.iter().zip(&exact) {
                    let kth = e.get(n.min(e.len()) - 1).map(|x| x.1).unwrap_or(f32::MIN);
                    hits += f
                        .iter()
                        .take(n)
                        .filter(|(_, s)| *s >= kth - 1e-6)
                        .count()
                        .min(n);
                }
                hits as f64 / (q * n) as f64
            };
            IndexSearchRun {
                ef,
                recall_at_1: recall(1),
                recall_at_10: recall(10.min(k)),
                qps_one_thread: one,
                qps_all_threads: all,
                latency_p50_ms: percentile(&lat, 50.0),
                latency_p99_ms: percentile(&lat, 99.0),
            }
        })
        .collect();
    IndexBench {
        points: vectors.len(),
        dim,
        queries: q,
        build_seconds,
        build_threads: rayon::current_num_threads(),
        exact_qps_one_thread: exact_qps,
        index_mib_on_disk: disk.unwrap_or(f64::NAN),
        rss_growth_mib: rss_growth,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("w.npy");
        write_npy(&q, 2, 2, &[1.0, -2.0, 3.5, 4.0]).unwrap();
        assert_eq!(read_npy(&q).unwrap(), (2, 2, vec![1.0, -2.0, 3.5, 4.0]));
        let p = dir.path().join("m.npy");
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
        bytes.extend_from_slice(h.as_bytes());
        for v in [1f32, 2., 3., 4., 5., 6.] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&p, &bytes).unwrap();
        let (r, c, v) = read_npy(&p).unwrap();
        assert_eq!((r, c), (2, 3));
        assert_eq!(v, vec![1., 2., 3., 4., 5., 6.]);
        std::fs::write(&p, &bytes[..bytes.len() - 2]).unwrap();
        assert!(read_npy(&p).unwrap_err().to_string().contains("data bytes"));
    }

    #[test]
    fn flop_count_of_minilm() {
        let cfg = BertConfig {
            vocab_size: 30522,
            hidden_size: 384,
            num_hidden_layers: 6,
            num_attention_heads: 12,
            intermediate_size: 1536,
            hidden_act: "gelu".into(),
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            model_type: None,
            position_embedding_type: "absolute".into(),
        };
        let per_token = flops_per_text(&cfg, 1) / 1e6;
        assert!((per_token - 21.24).abs() < 0.05, "{per_token}");
        assert!((percentile(&[3.0, 1.0, 2.0, 4.0], 50.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn index_bench_finds_exact_neighbours_on_small_data() {
        let (rows, dim) = (600, 16);
        // Distinct pseudo-random vectors (splitmix64). A multiplicative hash mod 1000
        // repeats every 125 rows here: duplicates made the recall a coin toss.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<f32> = (0..rows * dim)
            .map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect();
        let cfg = IndexBenchConfig {
            queries: 50,
            k: 10,
            m: 16,
            ef_construction: 200,
            ef: vec![128],
        };
        let b = index_bench(rows, dim, &data, &cfg);
        assert_eq!(b.points + b.queries, rows);
        assert!(b.runs[0].recall_at_10 > 0.9, "{:?}", b.runs[0]);
    }
}
