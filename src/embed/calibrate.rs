//! The measurement behind `--dtype auto` on CPUs that can run bf16 weight products: which of
//! the two kernels ([`super::sgemm`] in f32, [`super::bf16`]) multiplies the encoder's weights
//! faster on this machine.
//!
//! AVX-512 BF16 doubles the multiply-adds per instruction, but whether that turns into speed
//! depends on the chip (Zen 4 splits 512-bit work in two halves; a kernel may be bound by loads)
//! and on simsum's kernels, which change: a default assumed from a feature flag went 40% slower
//! than f32 once (issue 35). So `auto` runs bf16 only where it measured faster here, by
//! [`MARGIN`], at both a short query's rows and a batch's, on the four products of a layer.
//! Both precisions keep cosine >= 0.9999 to f32 (tests/embed.rs), so speed alone decides.
//! The figure is measured once per machine, kernel version and thread count and kept in
//! simsum's cache directory (`cpu-precision`), so a cold start pays for it only the first time.

use std::sync::OnceLock;
use std::time::Instant;

use super::features::CpuFeatures;
use super::sgemm::{F32Tile, PackedF32};

/// How much faster bf16 must measure before `auto` picks it: below this the exact f32 wins.
pub const MARGIN: f64 = 1.1;

/// Bumped whenever a kernel changes, so an old measurement is not trusted.
const KERNELS_VERSION: u32 = 3;

/// (n, k) of the four weight products of one all-MiniLM-L6-v2 layer.
const SHAPES: [(usize, usize); 4] = [(1152, 384), (384, 384), (1536, 384), (384, 1536)];

/// bf16 products' speed over f32's on this machine (time of f32 / time of bf16, the lower of
/// a 16-row and a 256-row product), measured once per process and remembered on disk; `None`
/// where the bf16 kernel cannot run.
pub fn bf16_speedup() -> Option<f64> {
    static SPEEDUP: OnceLock<Option<f64>> = OnceLock::new();
    *SPEEDUP.get_or_init(|| {
        let features = CpuFeatures::get();
        if !features.bf16_products() || !F32Tile::Avx512.runs_on(features) {
            return None;
        }
        let key = cache_key(features);
        let file = crate::model::simsum_cache_dir().map(|d| d.join("cpu-precision"));
        if let Some(s) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
            if let Some((k, v)) = s.split_once('\n') {
                if k == key {
                    if let Ok(x) = v.trim().parse::<f64>() {
                        return Some(x);
                    }
                }
            }
        }
        let x = measure()?;
        if let Some(f) = file {
            // Best effort: without a writable cache the next process measures again.
            if let Some(dir) = f.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = f.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, format!("{key}\n{x}\n")).is_ok() {
                let _ = std::fs::rename(&tmp, &f);
            }
        }
        Some(x)
    })
}

/// What a remembered measurement must match: the CPU, its features, the pool's threads, the
/// kernels and how they were compiled (a dev build's bf16 tile ran at a quarter of its release
/// speed, below f32: each build measures its own).
fn cache_key(features: CpuFeatures) -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{model} | {features} | {} threads | kernels v{KERNELS_VERSION} | {}",
        rayon::current_num_threads(),
        if cfg!(debug_assertions) {
            "dev build"
        } else {
            "release build"
        }
    )
}

/// Times both kernels on the layer's products at 16 and 256 rows, alternating, best of five
/// each; returns the lower of the two speedups.
fn measure() -> Option<f64> {
    let weights: Vec<(Vec<f32>, usize, usize)> = SHAPES
        .iter()
        .map(|&(n, k)| {
            let w = (0..n * k)
                .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
                .collect();
            (w, n, k)
        })
        .collect();
    let f32s: Vec<PackedF32> = weights
        .iter()
        .map(|(w, n, k)| PackedF32::pack(w, *n, *k, F32Tile::Avx512))
        .collect::<Option<_>>()?;
    let bf16s: Vec<super::bf16::PackedWeight> = weights
        .iter()
        .map(|(w, n, k)| super::bf16::PackedWeight::pack(w, *n, *k))
        .collect::<Option<_>>()?;
    let mut scratch = Vec::new();
    let mut speedups = Vec::new();
    for rows in [16usize, 256] {
        let a: Vec<f32> = (0..rows * 1536)
            .map(|i| ((i * 104729) % 997) as f32 * 1e-3)
            .collect();
        let mut c = vec![0f32; rows * 1536];
        let (mut t32, mut t16) = (f64::MAX, f64::MAX);
        for _ in 0..5 {
            let t = Instant::now();
            for (p, (_, n, _)) in f32s.iter().zip(&weights) {
                p.matmul_wt(rows, &a, &mut c[..rows * n]);
            }
            t32 = t32.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            for (p, (_, n, _)) in bf16s.iter().zip(&weights) {
                super::bf16::matmul_wt(rows, &a, p, &mut c[..rows * n], &mut scratch);
            }
            t16 = t16.min(t.elapsed().as_secs_f64());
        }
        std::hint::black_box(&c);
        speedups.push(t32 / t16);
    }
    speedups.into_iter().reduce(f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measurement_runs_where_bf16_does_and_is_remembered() {
        if !CpuFeatures::get().bf16_products() {
            eprintln!(
                "SKIPPED the_measurement_runs_where_bf16_does_and_is_remembered: this CPU has no \
                 AVX-512 BF16 (auto is f32 here without measuring; settings tests cover the rule)"
            );
            assert_eq!(bf16_speedup(), None);
            return;
        }
        let x = measure().expect("both kernels pack the layer's shapes");
        assert!(x.is_finite() && x > 0.05 && x < 20.0, "speedup {x}");
        let once = bf16_speedup().unwrap();
        assert_eq!(bf16_speedup(), Some(once), "one figure per process");
        assert!(cache_key(CpuFeatures::get()).contains("kernels v"));
    }
}
