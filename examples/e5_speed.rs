//! multilingual-e5-small speed (issue 37): end to end against the default model, and the
//! weight product three ways, to decide how the 4-bit matrices run.
//!
//! What: (1) texts/s embedding the same texts as passages with multilingual-e5-small (`--dtype
//! auto` and f32) and with the default all-MiniLM-L6-v2 (auto), in one process; (2) one
//! FFN-in product (T x 384 by 1536 x 384) of layer 0, as candle's quantized `QMatMul` runs the
//! Q4_0 blocks as they are (activations rounded to Q8_0, integer dot products), as simsum's
//! packed f32 kernel and as its bf16 kernel run the matrix widened at load; with each one's
//! cosine to an exact f32 product.
//! Data: the first N English and N Chinese texts of tests/data/parallel/gnu-zh_CN.jsonl (N=100),
//! cut to 600 bytes.
//! Run: `cargo run --example e5_speed [-- N]` (benches/e5_speed.sh runs it beside the package's
//! C engine and records CPU features and load).

use std::time::Instant;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QMatMul};
use candle_core::{Device as CDevice, Module, Tensor};
use simsum::embed::bert::{BertEmbedder, BertOptions};
use simsum::embed::weights::WeightSource;
use simsum::embed::{DType, Device, Embedder};
use simsum::model::{self, ResolveOptions, DEFAULT_MODEL, E5_MODEL};

fn texts(n: usize) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/parallel/gnu-zh_CN.jsonl"
    );
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cut = |s: &str| {
        let mut end = s.len().min(600);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    };
    let mut out: Vec<String> = rows
        .iter()
        .take(n)
        .map(|r| cut(r["en"].as_str().unwrap()))
        .collect();
    out.extend(rows.iter().take(n).map(|r| cut(r["zh"].as_str().unwrap())));
    out
}

fn texts_per_s(name: &str, dtype: DType, texts: &[&str]) {
    let files = model::resolve(name, &ResolveOptions::default()).unwrap();
    let e = BertEmbedder::load(
        &files,
        BertOptions {
            device: Device::Cpu,
            dtype,
            ..Default::default()
        },
    )
    .unwrap();
    e.embed(&texts[..8]).unwrap(); // warm up
    let t = Instant::now();
    let out = e.embed(texts).unwrap();
    let s = t.elapsed().as_secs_f64();
    let tokens: usize = out.iter().map(|o| o.n_tokens).sum();
    println!(
        "embed  {name:<40} dtype {:<5} {:>4} texts {:>6} tokens  {:>6.1} texts/s  {:>7.0} tokens/s",
        e.dtype(),
        texts.len(),
        tokens,
        texts.len() as f64 / s,
        tokens as f64 / s
    );
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    simsum::embed::cosine(a, b)
}

fn product_decision(rows: usize) {
    let files = model::resolve(E5_MODEL, &ResolveOptions::default()).unwrap();
    let w = simsum::embed::e5::E5Weights::open(&files.weights_path()).unwrap();
    let (n, k) = (1536usize, 384usize);
    let name = "encoder.layer.0.intermediate.dense.weight";
    let wide = w.get(name, &[n, k]).unwrap().into_owned();
    let a: Vec<f32> = (0..rows * k)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.8)
        .collect();
    // Exact reference: f32 dot products in f64.
    let exact: Vec<f32> = (0..rows)
        .flat_map(|r| {
            let (a, wide) = (&a, &wide);
            (0..n).map(move |c| {
                (0..k)
                    .map(|j| a[r * k + j] as f64 * wide[c * k + j] as f64)
                    .sum::<f64>() as f32
            })
        })
        .collect();
    let reps = 5;
    let time = |label: &str, f: &mut dyn FnMut() -> Vec<f32>| {
        let out = f();
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(f());
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
        let gflops = 2.0 * (rows * n * k) as f64 / (ms * 1e6);
        println!(
            "product {label:<42} {rows} x {k} by {n} x {k}: {ms:>7.2} ms  {gflops:>6.1} GFLOP/s  cosine to exact {:.6}",
            cosine(&out, &exact)
        );
    };
    // candle, Q4_0 as it is.
    let bytes = {
        let t = w.file().tensor("l0.fi.w", n * k).unwrap().clone();
        std::fs::read(files.weights_path()).unwrap()[t.bytes].to_vec()
    };
    let q = qtensor_from_ggml(GgmlDType::Q4_0, &bytes, vec![n, k], &CDevice::Cpu).unwrap();
    let qmm = QMatMul::from_qtensor(q).unwrap();
    let x = Tensor::from_vec(a.clone(), (rows, k), &CDevice::Cpu).unwrap();
    time("candle QMatMul (Q4_0 x Q8_0)", &mut || {
        qmm.forward(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    });
    // candle, widened to f32.
    let wt = Tensor::from_vec(wide.clone(), (n, k), &CDevice::Cpu).unwrap();
    time("candle f32 matmul (widened)", &mut || {
        x.matmul(&wt.t().unwrap())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    });
    // simsum's kernels on the widened matrix.
    let features = simsum::embed::CpuFeatures::get();
    if let simsum::embed::settings::MatmulKernel::PackedF32(tile) =
        simsum::embed::settings::f32_kernel(features)
    {
        let p = simsum::embed::sgemm::PackedF32::pack(&wide, n, k, tile).unwrap();
        time("simsum packed f32 (widened at load)", &mut || {
            let mut d = vec![0f32; rows * n];
            p.matmul_wt(rows, &a, &mut d);
            d
        });
    }
    if simsum::embed::bf16::available() {
        let p = simsum::embed::bf16::PackedWeight::pack(&wide, n, k).unwrap();
        let mut scratch = Vec::new();
        time("simsum bf16 (widened at load)", &mut || {
            let mut d = vec![0f32; rows * n];
            simsum::embed::bf16::matmul_wt(rows, &a, &p, &mut d, &mut scratch);
            d
        });
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let texts = texts(n);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    product_decision(512);
    texts_per_s(E5_MODEL, DType::Auto, &refs);
    texts_per_s(E5_MODEL, DType::F32, &refs);
    texts_per_s(DEFAULT_MODEL, DType::Auto, &refs);
}
