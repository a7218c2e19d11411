//! bf16 matrix products for the CPU encoder, on AVX-512 BF16 (`vdpbf16ps`).
//!
//! `--dtype bf16` on a CPU keeps every activation, LayerNorm, softmax and residual in f32 and runs
//! only the four weight products of each layer with bf16 inputs and f32 accumulation, which is
//! where bf16 helps (twice the multiply-adds per instruction) and where it costs least accuracy.
//! Weights are rounded to bf16 and packed once at load time into the layout the micro-kernel
//! reads; activations are rounded per product. The `gemm` crate has no bf16 kernel, hence this
//! module. CPUs without AVX-512 BF16 do not use it (see [`available`]). [`matmul_wt_portable`]
//! computes the same product in plain code from the same packed layout, with the rounding the
//! instruction does, so the packing and the arithmetic are tested on every CPU and the kernel is
//! compared with it where the CPU has the instructions.

use super::features::CpuFeatures;
use super::sgemm::{SharedOut, WorkSplit};

/// Columns per packed weight panel (two 16-lane registers).
const NR: usize = 32;
/// Rows of the full register tile (28 accumulators, as the f32 AVX-512 tile).
const MR: usize = 14;
/// k values per cache block (even: the panel holds pairs).
const KC: usize = 256;

/// Whether this CPU can run the bf16 kernel (from [`CpuFeatures::get`]).
pub fn available() -> bool {
    CpuFeatures::get().bf16_products()
}

/// The f32 value of a bf16.
#[inline]
pub fn from_bf16(x: u16) -> f32 {
    f32::from_bits((x as u32) << 16)
}

/// Rounds to the nearest bf16 (ties to even), as the hardware conversion does.
#[inline]
pub fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    // Wrapping: no finite value or infinity can carry out of 32 bits (the largest, -inf, is
    // 0xFF80_0000), and a checked add (the dev profile's overflow checks) keeps the callers'
    // loops over whole rows scalar.
    (b.wrapping_add(0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

/// A weight matrix W (n x k, row-major, as in a Linear layer) rounded to bf16 and packed in
/// panels of `NR` columns: for each pair of k values, 32 columns x 2 values, interleaved.
pub struct PackedWeight {
    n: usize,
    k: usize,
    data: Vec<u16>,
}

impl PackedWeight {
    /// Packs `w` (n x k row-major); `None` if the shape does not suit the kernel.
    pub fn pack(w: &[f32], n: usize, k: usize) -> Option<Self> {
        if !n.is_multiple_of(NR) || !k.is_multiple_of(2) || w.len() != n * k {
            return None;
        }
        let pairs = k / 2;
        let mut data = vec![0u16; n * k];
        for p in 0..n / NR {
            let panel = &mut data[p * NR * k..(p + 1) * NR * k];
            for kk in 0..pairs {
                for j in 0..NR {
                    let col = p * NR + j;
                    panel[kk * 2 * NR + 2 * j] = to_bf16(w[col * k + 2 * kk]);
                    panel[kk * 2 * NR + 2 * j + 1] = to_bf16(w[col * k + 2 * kk + 1]);
                }
            }
        }
        Some(Self { n, k, data })
    }
}

/// [`matmul_wt`] in plain code from the same packed layout: `a` rounded to bf16, each pair of
/// products added to the f32 sum as `vdpbf16ps` does (the odd element first, then the even one;
/// a product of two bf16 values is exact in f32). The reference for the kernel, on any CPU.
pub fn matmul_wt_portable(m: usize, a: &[f32], w: &PackedWeight, dst: &mut [f32]) {
    let (n, k) = (w.n, w.k);
    assert!(a.len() >= m * k && dst.len() >= m * n);
    for i in 0..m {
        let row: Vec<f32> = a[i * k..(i + 1) * k]
            .iter()
            .map(|&x| from_bf16(to_bf16(x)))
            .collect();
        for p in 0..n / NR {
            let panel = &w.data[p * NR * k..(p + 1) * NR * k];
            for j in 0..NR {
                let mut acc = dst[i * n + p * NR + j];
                for kk in 0..k / 2 {
                    let w0 = from_bf16(panel[kk * 2 * NR + 2 * j]);
                    let w1 = from_bf16(panel[kk * 2 * NR + 2 * j + 1]);
                    acc += row[2 * kk + 1] * w1;
                    acc += row[2 * kk] * w0;
                }
                dst[i * n + p * NR + j] = acc;
            }
        }
    }
}

/// dst (m x n, row-major) += a (m x k, row-major f32) W^T, with `a` rounded to bf16.
/// `scratch` holds the rounded `a` between calls. Rows and, for short inputs, column panels are
/// shared out between threads as for the f32 kernel ([`WorkSplit`]). Panics if [`available`]
/// is false.
pub fn matmul_wt(m: usize, a: &[f32], w: &PackedWeight, dst: &mut [f32], scratch: &mut Vec<u16>) {
    assert!(available(), "bf16 kernel needs AVX-512 BF16");
    let (n, k) = (w.n, w.k);
    assert!(a.len() >= m * k && dst.len() >= m * n);
    if m == 0 {
        return;
    }
    round_rows(&a[..m * k], k, scratch);
    let ab: &[u16] = scratch;
    let out = SharedOut(dst.as_mut_ptr());
    let split = WorkSplit::new(m, n / NR, MR, rayon::current_num_threads());
    split.run(|rows, panels| {
        // Capture the whole `SharedOut` (Sync), not its raw-pointer field.
        let out = &out;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p in panels.clone() {
                let panel = &w.data[p * NR * k + k0 * NR..];
                for r in rows.clone().step_by(MR) {
                    let rows = MR.min(rows.end - r);
                    // SAFETY: `available()` was checked; the split's tasks own disjoint
                    // blocks of dst (m x n, asserted); `ab` holds m rounded rows of k, so
                    // `rows` rows from r exist, and the panel has kc/2 pair steps from k0.
                    unsafe {
                        #[cfg(target_arch = "x86_64")]
                        row_tile(
                            rows,
                            ab.as_ptr().add(r * k + k0),
                            k,
                            panel.as_ptr(),
                            kc / 2,
                            out.0.add(r * n + p * NR),
                            n,
                        );
                    }
                }
            }
        }
    });
}

/// `a` (rows of k) rounded to bf16 into `scratch`, in parallel only where the rows are many
/// enough to pay for it (a query's few rows are rounded on the calling thread).
fn round_rows(a: &[f32], k: usize, scratch: &mut Vec<u16>) {
    use rayon::prelude::*;
    scratch.clear();
    scratch.resize(a.len(), 0);
    const ROWS_PER_TASK: usize = 32;
    let round =
        |(d, s): (&mut [u16], &[f32])| d.iter_mut().zip(s).for_each(|(d, s)| *d = to_bf16(*s));
    if a.len() <= ROWS_PER_TASK * k {
        round((&mut scratch[..], a));
    } else {
        scratch
            .par_chunks_mut(ROWS_PER_TASK * k)
            .zip(a.par_chunks(ROWS_PER_TASK * k))
            .for_each(round);
    }
}

/// [`tile`] for `rows` (1..=14) rows: the full tile, or the tail split into tiles of 8, 4, 2
/// and 1 rows (each row's sums are independent of the others', so the split changes no result).
///
/// # Safety
/// As for [`tile`], with R = `rows`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16,avx2,fma")]
unsafe fn row_tile(
    rows: usize,
    a: *const u16,
    lda: usize,
    b: *const u16,
    pairs: usize,
    c: *mut f32,
    ldc: usize,
) {
    // SAFETY: forwarded from the caller; each call covers rows `done..done + R` of the `rows`
    // the caller vouched for.
    unsafe {
        if rows >= MR {
            return tile::<MR>(a, lda, b, pairs, c, ldc);
        }
        let mut done = 0;
        for part in [8, 4, 2, 1] {
            if rows - done >= part {
                let (a, c) = (a.add(done * lda), c.add(done * ldc));
                match part {
                    8 => tile::<8>(a, lda, b, pairs, c, ldc),
                    4 => tile::<4>(a, lda, b, pairs, c, ldc),
                    2 => tile::<2>(a, lda, b, pairs, c, ldc),
                    _ => tile::<1>(a, lda, b, pairs, c, ldc),
                }
                done += part;
            }
        }
    }
}

/// C[0..R, 0..32] += A[0..R, 0..2*pairs] * panel, A rows `lda` apart (bf16), C rows `ldc`
/// apart (f32): 2 x R accumulators (28 of the 32 registers for the full 14-row tile, beside
/// the two panel vectors and the broadcast pair), two multiply-adds per lane per instruction.
///
/// # Safety
/// The CPU must support AVX-512 F, AVX-512 BF16, AVX2 and FMA; `a` must be readable for R rows
/// of 2 x `pairs` values `lda` apart, `b` for `pairs` x 64 values, and `c` readable and
/// writable for R rows of 32 values `ldc` apart, not aliasing `a` or `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16,avx2,fma")]
unsafe fn tile<const R: usize>(
    a: *const u16,
    lda: usize,
    b: *const u16,
    pairs: usize,
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    debug_assert!(R <= MR);
    // SAFETY: every access below stays within the extents the caller guarantees (rows i < R).
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        each_row!(i < R => {
            acc[i][0] = _mm512_loadu_ps(c.add(i * ldc));
            acc[i][1] = _mm512_loadu_ps(c.add(i * ldc + 16));
        });
        // Row offsets once, pointers stepped with `wrapping_add`, the multiply-add written as
        // assembly with the pair broadcast from memory (`{1to16}`): the same instructions a
        // release build makes from the intrinsics, but also in a dev build, where the
        // intrinsics' `__m512bh` transmutes spilled every panel vector to the stack and each
        // checked pointer step branched (the tile ran at a quarter of its release speed,
        // slower than f32; BENCHMARKS.md, 2026-12-07).
        let mut off = [0usize; MR];
        each_row!(i < R => {
            off[i] = i * lda;
        });
        let mut bp = b;
        let mut ap = a;
        for _ in 0..pairs {
            let b0 = _mm512_loadu_ps(bp as *const f32);
            let b1 = _mm512_loadu_ps(bp.wrapping_add(NR) as *const f32);
            each_row!(i < R => {
                let p = ap.wrapping_add(off[i]);
                std::arch::asm!(
                    "vdpbf16ps {c0}, {b0}, dword ptr [{p}]{{1to16}}",
                    "vdpbf16ps {c1}, {b1}, dword ptr [{p}]{{1to16}}",
                    c0 = inout(zmm_reg) acc[i][0],
                    c1 = inout(zmm_reg) acc[i][1],
                    b0 = in(zmm_reg) b0,
                    b1 = in(zmm_reg) b1,
                    p = in(reg) p,
                    options(pure, readonly, nostack, preserves_flags),
                );
            });
            bp = bp.wrapping_add(2 * NR);
            ap = ap.wrapping_add(2);
        }
        each_row!(i < R => {
            _mm512_storeu_ps(c.add(i * ldc), acc[i][0]);
            _mm512_storeu_ps(c.add(i * ldc + 16), acc[i][1]);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn randoms(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn rounding_is_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 0x3F80);
        assert_eq!(to_bf16(f32::from_bits(0x3F80_8000)), 0x3F80); // tie, even stays
        assert_eq!(to_bf16(f32::from_bits(0x3F81_8000)), 0x3F82); // tie, odd rounds up
        assert_eq!(to_bf16(f32::from_bits(0x3F80_8001)), 0x3F81);
    }

    /// Small shapes under Miri, the encoder's shapes otherwise.
    fn shapes() -> &'static [(usize, usize, usize)] {
        if cfg!(miri) {
            &[(1, 32, 2), (9, 64, 40)]
        } else {
            &[(1, 32, 2), (7, 64, 384), (70, 96, 600), (130, 32, 1536)]
        }
    }

    /// bias + a W^T on the bf16-rounded inputs, in f64 (element-wise scalar rounding, no packing).
    fn reference(a: &[f32], w: &[f32], bias: &[f32], (m, n, k): (usize, usize, usize)) -> Vec<f64> {
        let r = |x: f32| from_bf16(to_bf16(x)) as f64;
        let mut out = Vec::with_capacity(m * n);
        for i in 0..m {
            for j in 0..n {
                out.push(
                    bias[i * n + j] as f64
                        + (0..k)
                            .map(|t| r(a[i * k + t]) * r(w[j * k + t]))
                            .sum::<f64>(),
                );
            }
        }
        out
    }

    #[test]
    fn packing_and_rounding_match_a_scalar_bf16_product() {
        // Every CPU: the packed layout read back by the portable product equals the product of
        // the individually rounded values.
        for &(m, n, k) in shapes() {
            let a = randoms(m * k, 1 + m as u64);
            let w = randoms(n * k, 2 + n as u64);
            let bias = randoms(m * n, 3);
            let packed = PackedWeight::pack(&w, n, k).unwrap();
            let mut dst = bias.clone();
            matmul_wt_portable(m, &a, &packed, &mut dst);
            let want = reference(&a, &w, &bias, (m, n, k));
            for (idx, (&got, &r)) in dst.iter().zip(&want).enumerate() {
                assert!(
                    (got as f64 - r).abs() < 1e-4 * (1.0 + r.abs()),
                    "({m},{n},{k}) at {idx}: {got} vs {r}"
                );
            }
        }
        assert!(
            PackedWeight::pack(&[0.0; 31 * 2], 31, 2).is_none(),
            "n must be a multiple of 32"
        );
        assert!(
            PackedWeight::pack(&[0.0; 32 * 3], 32, 3).is_none(),
            "k must be even"
        );
    }

    #[test]
    fn avx512_bf16_kernel_matches_the_portable_product() {
        if !available() || cfg!(miri) {
            eprintln!(
                "SKIPPED avx512_bf16_kernel_matches_the_portable_product: {} (the packing and \
                 the bf16 arithmetic were checked by packing_and_rounding_match_a_scalar_bf16_product)",
                if cfg!(miri) { "Miri cannot run AVX-512 intrinsics" } else { "this CPU has no AVX-512 BF16" }
            );
            return;
        }
        for &(m, n, k) in shapes() {
            let a = randoms(m * k, 1 + m as u64);
            let w = randoms(n * k, 2 + n as u64);
            let bias = randoms(m * n, 3);
            let packed = PackedWeight::pack(&w, n, k).unwrap();
            let mut fast = bias.clone();
            matmul_wt(m, &a, &packed, &mut fast, &mut Vec::new());
            let mut slow = bias.clone();
            matmul_wt_portable(m, &a, &packed, &mut slow);
            for idx in 0..m * n {
                // Same products, same order per cache block; the kernel only differs where it
                // flushes denormals, so allow a few ulps.
                assert!(
                    (fast[idx] - slow[idx]).abs() <= 1e-5 * (1.0 + slow[idx].abs()),
                    "({m},{n},{k}) at {idx}: {} vs {}",
                    fast[idx],
                    slow[idx]
                );
            }
        }
    }
}
