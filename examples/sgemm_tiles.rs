//! Throughput of the weight products at the encoder's shapes, per kernel this CPU runs: the
//! `gemm` crate (which packs the weight on every call) against simsum's packed f32 AVX2 (6 x 16)
//! and AVX-512 (14 x 32) tiles and the AVX-512 BF16 kernel of `--dtype bf16`, all on the rayon
//! pool. It decides which kernel `f32_kernel` should pick on a CPU that has both f32 tiles, and
//! whether bf16 pays on this CPU (BENCHMARKS.md).
//!
//!     cargo run --example sgemm_tiles [ROWS] [ROUNDS]   (the dev profile is optimised)
//!
//! ROWS is the token count of one batch (default 256: a batch of long sections at the CPU token
//! budget, or 32 short texts of 8 tokens); each figure is the best of ROUNDS (default 20) runs
//! of the four products of one layer (qkv, out, intermediate, out2 of all-MiniLM-L6-v2).

use std::time::Instant;

use simsum::embed::sgemm::{F32Tile, PackedF32};
use simsum::embed::CpuFeatures;

/// (n, k) of the four products of one layer: qkv (3h x h), out (h x h), inter (i x h), out2.
const SHAPES: [(usize, usize); 4] = [(1152, 384), (384, 384), (1536, 384), (384, 1536)];

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let flop: f64 = SHAPES
        .iter()
        .map(|&(n, k)| 2.0 * (rows * n * k) as f64)
        .sum();
    println!(
        "CPU features: {}; {} threads; {rows} rows; best of {rounds}",
        CpuFeatures::get(),
        rayon::current_num_threads()
    );
    let weights: Vec<Vec<f32>> = SHAPES
        .iter()
        .map(|&(n, k)| {
            (0..n * k)
                .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
                .collect()
        })
        .collect();
    let a: Vec<f32> = (0..rows * 1536)
        .map(|i| ((i * 104729) % 997) as f32 * 1e-3)
        .collect();
    let mut c = vec![0f32; rows * 1536];
    let report = |name: &str, best: f64| {
        println!("{name:<16} {:>8.1} GFLOP/s", flop / best / 1e9);
    };
    let best_of = |f: &mut dyn FnMut()| {
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let threads = rayon::current_num_threads().max(1);
    let best = best_of(&mut || {
        for (w, &(n, k)) in weights.iter().zip(&SHAPES) {
            // SAFETY: a holds rows x k, w n x k and c rows x n values, row-major.
            unsafe {
                gemm::gemm(
                    rows,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    true,
                    a.as_ptr(),
                    1,
                    k as isize,
                    w.as_ptr(),
                    k as isize,
                    1,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::Rayon(threads),
                );
            }
        }
    });
    report("gemm crate", best);
    for tile in [F32Tile::Avx2, F32Tile::Avx512] {
        let packed: Option<Vec<PackedF32>> = weights
            .iter()
            .zip(&SHAPES)
            .map(|(w, &(n, k))| PackedF32::pack(w, n, k, tile))
            .collect();
        let Some(packed) = packed else {
            println!("{tile:?} tile: not on this CPU");
            continue;
        };
        let best = best_of(&mut || {
            for p in &packed {
                p.matmul_wt(rows, &a, &mut c);
            }
        });
        report(&format!("packed {tile:?}"), best);
    }
    // The bf16 products of `--dtype bf16` (twice the multiply-adds per instruction, so their
    // GFLOP/s may pass the f32 FMA limit).
    if simsum::embed::bf16::available() {
        let packed: Vec<_> = weights
            .iter()
            .zip(&SHAPES)
            .map(|(w, &(n, k))| simsum::embed::bf16::PackedWeight::pack(w, n, k))
            .collect::<Option<_>>()
            .expect("the encoder's shapes fit the bf16 panels");
        let mut scratch = Vec::new();
        let best = best_of(&mut || {
            for p in &packed {
                simsum::embed::bf16::matmul_wt(rows, &a, p, &mut c, &mut scratch);
            }
        });
        report("packed bf16", best);
    }
    std::hint::black_box(&c);
}
