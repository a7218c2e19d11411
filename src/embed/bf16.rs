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

/// Columns per packed weight panel (two 16-lane registers).
const NR: usize = 32;
/// Rows per micro-kernel tile.
const MR: usize = 8;
/// k values per cache block.
const KC: usize = 256;
/// Rows per parallel task.
const MC: usize = 64;

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
/// `scratch` holds the rounded `a` between calls. Panics if [`available`] is false.
pub fn matmul_wt(m: usize, a: &[f32], w: &PackedWeight, dst: &mut [f32], scratch: &mut Vec<u16>) {
    assert!(available(), "bf16 kernel needs AVX-512 BF16");
    let (n, k) = (w.n, w.k);
    assert!(a.len() >= m * k && dst.len() >= m * n);
    // Round `a` to bf16, padding rows up to a multiple of MR with zeros.
    let mp = m.div_ceil(MR) * MR;
    scratch.clear();
    scratch.resize(mp * k, 0);
    use rayon::prelude::*;
    scratch[..m * k]
        .par_chunks_mut(k)
        .zip(a[..m * k].par_chunks(k))
        .for_each(|(d, s)| d.iter_mut().zip(s).for_each(|(d, s)| *d = to_bf16(*s)));
    let ab: &[u16] = scratch;
    let dst_ptr = SharedF32(dst.as_mut_ptr());
    (0..mp.div_ceil(MC)).into_par_iter().for_each(|chunk| {
        let dst_ptr = &dst_ptr;
        let r0 = chunk * MC;
        let r1 = (r0 + MC).min(mp);
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p in 0..n / NR {
                let panel = &w.data[p * NR * k + k0 * NR..];
                for r in (r0..r1).step_by(MR) {
                    let rows = MR.min(m.saturating_sub(r));
                    if rows == 0 {
                        continue;
                    }
                    // SAFETY: `available()` was checked; tasks own disjoint row ranges of dst;
                    // `ab` has MR full rows from r (padded), the panel has kc/2 pair steps.
                    unsafe {
                        #[cfg(target_arch = "x86_64")]
                        kernel(
                            ab.as_ptr().add(r * k + k0),
                            k,
                            panel.as_ptr(),
                            kc / 2,
                            dst_ptr.0.add(r * n + p * NR),
                            n,
                            rows,
                        );
                    }
                }
            }
        }
    });
}

struct SharedF32(*mut f32);
// SAFETY: the pointer crosses rayon's threads only inside `matmul_wt`, whose tasks own
// disjoint row ranges of `dst` while the `&mut [f32]` it came from is held, unused, by the call.
unsafe impl Send for SharedF32 {}
// SAFETY: as for `Send`: concurrent use only ever writes disjoint rows.
unsafe impl Sync for SharedF32 {}

/// C[0..rows, 0..32] += A[0..8, 0..2*pairs] * panel, A rows `lda` apart (bf16), C rows `ldc`
/// apart (f32). Rows of A beyond `rows` are read (they exist, zero padded) but not stored.
///
/// # Safety
/// The CPU must support AVX-512 F and AVX-512 BF16; `a` must be readable for 8 rows of
/// 2 x `pairs` values `lda` apart, `b` for `pairs` x 64 values, and `c` readable and writable for
/// `rows` (<= 8) rows of 32 values `ldc` apart, not aliasing `a` or `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn kernel(
    a: *const u16,
    lda: usize,
    b: *const u16,
    pairs: usize,
    c: *mut f32,
    ldc: usize,
    rows: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: every access below stays within the extents the caller guarantees.
    unsafe {
        // Sized for the 14 rows `each_row!` writes out: rows MR.. are never touched (the
        // compiler drops them), but a shorter array would be indexed out of bounds in code it
        // must still check.
        let mut acc = [[_mm512_setzero_ps(); 2]; 14];
        each_row!(i < rows => {
            acc[i][0] = _mm512_loadu_ps(c.add(i * ldc));
            acc[i][1] = _mm512_loadu_ps(c.add(i * ldc + 16));
        });
        for kk in 0..pairs {
            let b0 = _mm512_loadu_si512(b.add(kk * 2 * NR) as *const _);
            let b1 = _mm512_loadu_si512(b.add(kk * 2 * NR + 32) as *const _);
            let b0 = std::mem::transmute::<__m512i, __m512bh>(b0);
            let b1 = std::mem::transmute::<__m512i, __m512bh>(b1);
            each_row!(i < MR => {
                let pair = (a.add(i * lda + 2 * kk) as *const i32).read_unaligned();
                let av = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(pair));
                acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
                acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
            });
        }
        each_row!(i < rows => {
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
