//! Micro-benchmarks of the embedding stage, with the default model (fetched like the tests do).
//!
//! What: tokenization of 64 seed paragraphs; one forward pass per batch shape (1 x 16 tokens,
//! 32 x 64, 32 x 256, f32 and bf16) through the packed CPU path and through candle's generic
//! tensor path; pooling (mean, CLS, max over a 32 x 128-token batch of final hidden states);
//! the element-wise kernels (softmax over 256, GELU over 1536 x 64, LayerNorm over 384) at every
//! SIMD level this CPU supports.
//! Data: the seed paragraphs in `seeds/` (real text), cut or repeated to the token counts above.
//! Run: `cargo bench --bench embed` (add `-- forward` to filter).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use simsum::embed::bert::{BertEmbedder, BertOptions};
use simsum::embed::kernels::{self, Level};
use simsum::embed::DType;
use simsum::embed::Embedder;
use simsum::model::{self, ResolveOptions, DEFAULT_MODEL};

fn seed_paragraphs() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        out.extend(
            text.split("\n\n")
                .map(|p| p.trim().to_string())
                .filter(|p| p.len() > 40),
        );
    }
    out
}

/// A text of about `words` words from the seeds.
fn text_of(words: usize, paragraphs: &[String]) -> String {
    let all: Vec<&str> = paragraphs
        .iter()
        .flat_map(|p| p.split_whitespace())
        .collect();
    all.iter()
        .cycle()
        .take(words)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

fn embedder(dtype: DType, force_candle: bool, batch_size: usize) -> BertEmbedder {
    let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default()).unwrap();
    let opts = BertOptions {
        device: simsum::embed::Device::Cpu,
        dtype,
        batch_size,
        force_candle,
        ..Default::default()
    };
    BertEmbedder::load(&files, opts).unwrap()
}

fn forward(c: &mut Criterion) {
    let paragraphs = seed_paragraphs();
    let mut g = c.benchmark_group("forward");
    g.sample_size(10);
    for (batch, words) in [(1usize, 10usize), (32, 48), (32, 200)] {
        let texts: Vec<String> = (0..batch)
            .map(|i| text_of(words + i % 3, &paragraphs[i % 3..]))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for (name, dtype, force) in [
            ("auto", DType::Auto, false),
            ("cpu-f32", DType::F32, false),
            ("cpu-bf16", DType::Bf16, false),
            ("candle-f32", DType::F32, true),
        ] {
            let e = embedder(dtype, force, batch);
            let tokens: usize = e.embed(&refs).unwrap().iter().map(|x| x.n_tokens).sum();
            g.throughput(Throughput::Elements(tokens as u64));
            g.bench_with_input(
                BenchmarkId::new(name, format!("{batch}x{}", tokens / batch)),
                &refs,
                |b, r| b.iter(|| e.embed(r).unwrap()),
            );
        }
    }
    g.finish();
}

fn tokenize(c: &mut Criterion) {
    let paragraphs = seed_paragraphs();
    let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    let e = embedder(DType::F32, false, 32);
    let mut g = c.benchmark_group("tokenize");
    g.throughput(Throughput::Elements(refs.len() as u64));
    g.bench_function("count_tokens/seed-paragraphs", |b| {
        b.iter(|| refs.iter().map(|t| e.count_tokens(t)).sum::<usize>())
    });
    g.finish();
}

fn pooling(c: &mut Criterion) {
    use simsum::model::Pooling;
    // 32 sequences of 128 token vectors of 384 dimensions (a batch's final hidden states).
    let rows: Vec<f32> = (0..128 * 384)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let mut g = c.benchmark_group("pooling");
    g.throughput(Throughput::Elements(32));
    for (name, mode) in [
        ("mean", Pooling::Mean),
        ("cls", Pooling::Cls),
        ("max", Pooling::Max),
    ] {
        g.bench_function(BenchmarkId::new(name, "32x128x384"), |b| {
            b.iter(|| {
                (0..32)
                    .map(|_| simsum::embed::bert::pool_rows(&rows, 384, mode)[0])
                    .sum::<f32>()
            })
        });
    }
    g.finish();
}

fn element_wise(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernels");
    let x: Vec<f32> = (0..1536 * 64)
        .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
        .collect();
    let gamma = vec![1.0f32; 384];
    let beta = vec![0.0f32; 384];
    for level in kernels::supported_levels() {
        let name = match level {
            Level::Baseline => "baseline",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        };
        g.bench_function(BenchmarkId::new("softmax-256", name), |b| {
            let mut row = x[..256].to_vec();
            b.iter(|| kernels::at::softmax(level, &mut row))
        });
        g.bench_function(BenchmarkId::new("gelu-1536x64", name), |b| {
            let mut v = x.clone();
            b.iter(|| kernels::at::gelu(level, &mut v))
        });
        g.bench_function(BenchmarkId::new("layer-norm-384", name), |b| {
            let mut row = x[..384].to_vec();
            b.iter(|| kernels::at::layer_norm(level, &mut row, &gamma, &beta, 1e-12))
        });
    }
    g.finish();
}

criterion_group!(benches, forward, tokenize, pooling, element_wise);
criterion_main!(benches);
