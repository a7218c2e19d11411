//! f32 matrix products against the encoder's weights, packed once when the model loads, for
//! CPUs with AVX2 and FMA but without AVX-512.
//!
//! The `gemm` crate (candle's CPU kernel) re-packs the weight matrix on every call and is tuned
//! for large square products. The encoder multiplies a few hundred token rows by the same six
//! weights over and over, so packing them once, in the order the kernel reads them, saves that
//! work. The kernel is the classic 6 x 16 register tile (twelve 8-lane accumulators), blocked so a
//! 256-deep slice of 128 weight columns stays in L2 while every row of the batch passes over it;
//! rows are split between threads. Sums run over k in the same order as a plain dot product, so
//! results match `gemm`'s to rounding (the tests compare them). Whether the encoder uses it is
//! decided once, in [`super::settings::f32_kernel`]; [`PackedF32::pack`] declines on CPUs without
//! AVX2+FMA and for shapes whose width is not a multiple of 16 (the caller keeps `gemm`).
//! [`PackedF32::matmul_wt_portable`] reads the same packed layout in plain code, so the packing
//! is tested on every CPU.

use rayon::prelude::*;

use super::features::CpuFeatures;

/// Columns per register tile (two 8-lane vectors).
const NR: usize = 16;
/// Rows per register tile.
const MR: usize = 6;
/// Depth of one packed slice.
const KC: usize = 256;
/// Tiles of columns per L2 block (128 columns).
const PANELS_PER_BLOCK: usize = 8;

/// A weight W (n x k, row-major as stored in the model) laid out for the kernel:
/// `[k slice][16-column panel][depth][16]`.
pub struct PackedF32 {
    n: usize,
    k: usize,
    data: Vec<f32>,
}

/// True when this CPU can run the packed kernel (AVX2 and FMA).
pub fn available() -> bool {
    CpuFeatures::get().avx2_fma
}

impl PackedF32 {
    /// Packs `w` (n x k row-major); `None` where the kernel does not apply (see the module docs).
    pub fn pack(w: &[f32], n: usize, k: usize) -> Option<Self> {
        Self::pack_for(w, n, k, available())
    }

    /// [`PackedF32::pack`] with the CPU check replaced by `enabled`: a weight packed with
    /// `enabled` true on a CPU without AVX2 may only be used by
    /// [`PackedF32::matmul_wt_portable`] (tests of the layout).
    pub(crate) fn pack_for(w: &[f32], n: usize, k: usize, enabled: bool) -> Option<Self> {
        if !enabled || n == 0 || k == 0 || !n.is_multiple_of(NR) || w.len() != n * k {
            return None;
        }
        let mut data = Vec::with_capacity(n * k);
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p in 0..n / NR {
                for kk in k0..k0 + kc {
                    data.extend((0..NR).map(|j| w[(p * NR + j) * k + kk]));
                }
            }
        }
        Some(Self { n, k, data })
    }

    /// `dst` (m x n) += `a` (m x k) W^T in plain code reading the packed layout, in the same
    /// summation order as the kernel: the reference the kernel is tested against on every CPU.
    pub fn matmul_wt_portable(&self, m: usize, a: &[f32], dst: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        assert!(a.len() >= m * k && dst.len() >= m * n);
        let panels = n / NR;
        let mut offset = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p in 0..panels {
                let panel = &self.data[offset + p * kc * NR..][..kc * NR];
                for i in 0..m {
                    let row = &a[i * k + k0..][..kc];
                    let c = &mut dst[i * n + p * NR..][..NR];
                    for (kk, &av) in row.iter().enumerate() {
                        for (j, cj) in c.iter_mut().enumerate() {
                            *cj = av.mul_add(panel[kk * NR + j], *cj);
                        }
                    }
                }
            }
            offset += panels * kc * NR;
        }
    }

    /// `dst` (m x n) += `a` (m x k) W^T, all row-major; rows are shared out between threads.
    pub fn matmul_wt(&self, m: usize, a: &[f32], dst: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        assert!(a.len() >= m * k && dst.len() >= m * n);
        // A weight packed by `pack_for(.., true)` on a CPU without AVX2 must not reach the kernel.
        assert!(available(), "the packed f32 kernel needs AVX2 and FMA");
        if m == 0 {
            return;
        }
        let threads = rayon::current_num_threads().max(1);
        let per = m.div_ceil(threads).div_ceil(MR) * MR;
        dst[..m * n]
            .par_chunks_mut(per * n)
            .zip(a[..m * k].par_chunks(per * k))
            .for_each(|(c, a)| {
                let rows = c.len() / n;
                // SAFETY: `available()` was asserted above, and the slices hold `rows` full rows
                // of `a` and `c`.
                unsafe { self.rows(rows, a, c) }
            });
    }

    /// `c` (rows x n) += `a` (rows x k) W^T.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `a` must hold `rows` x k values and `c` `rows` x n.
    #[cfg(target_arch = "x86_64")]
    unsafe fn rows(&self, rows: usize, a: &[f32], c: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        debug_assert!(a.len() >= rows * k && c.len() >= rows * n);
        let panels = n / NR;
        let mut offset = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p0 in (0..panels).step_by(PANELS_PER_BLOCK) {
                let p1 = (p0 + PANELS_PER_BLOCK).min(panels);
                for i in (0..rows).step_by(MR) {
                    let mr = MR.min(rows - i);
                    let ap = a[i * k + k0..].as_ptr();
                    for p in p0..p1 {
                        let b = self.data[offset + p * kc * NR..].as_ptr();
                        let cp = c[i * n + p * NR..].as_mut_ptr();
                        // SAFETY: the caller guarantees AVX2+FMA; `ap` has `mr` rows of `kc`
                        // values `k` apart, `b` a kc x 16 panel, `cp` `mr` rows of 16 values `n`
                        // apart, all inside their slices (rows < `rows`, columns < n).
                        unsafe {
                            if mr == MR {
                                tile::<MR>(ap, k, b, kc, cp, n);
                            } else {
                                tail(mr, ap, k, b, kc, cp, n);
                            }
                        }
                    }
                }
            }
            offset += panels * kc * NR;
        }
    }

    /// # Safety
    /// Never called: [`PackedF32::pack`] declines on this architecture.
    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn rows(&self, _rows: usize, _a: &[f32], _c: &mut [f32]) {
        unreachable!("PackedF32::pack declines on this architecture")
    }
}

/// Rows `R` x 16 columns of `c` += `a` (R rows, stride `lda`, depth `kc`) times the packed panel
/// `b` (`kc` x 16).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `a` must be readable for R rows of `kc` values `lda`
/// apart, `b` for `kc` x 16 values, and `c` readable and writable for R rows of 16 values `ldc`
/// apart, not aliasing `a` or `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const R: usize>(
    a: *const f32,
    lda: usize,
    b: *const f32,
    kc: usize,
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: every access below stays within the extents the caller guarantees.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        for (r, row) in acc.iter_mut().enumerate() {
            row[0] = _mm256_loadu_ps(c.add(r * ldc));
            row[1] = _mm256_loadu_ps(c.add(r * ldc + 8));
        }
        let mut bp = b;
        for kk in 0..kc {
            let b0 = _mm256_loadu_ps(bp);
            let b1 = _mm256_loadu_ps(bp.add(8));
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.add(r * lda + kk));
                row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                row[1] = _mm256_fmadd_ps(av, b1, row[1]);
            }
            bp = bp.add(NR);
        }
        for (r, row) in acc.iter().enumerate() {
            _mm256_storeu_ps(c.add(r * ldc), row[0]);
            _mm256_storeu_ps(c.add(r * ldc + 8), row[1]);
        }
    }
}

/// [`tile`] for the last 1..=5 rows.
///
/// # Safety
/// As for [`tile`], with R = `rows`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tail(
    rows: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    kc: usize,
    c: *mut f32,
    ldc: usize,
) {
    // SAFETY: forwarded from the caller, with R = `rows` (at most 5).
    unsafe {
        match rows {
            1 => tile::<1>(a, lda, b, kc, c, ldc),
            2 => tile::<2>(a, lda, b, kc, c, ldc),
            3 => tile::<3>(a, lda, b, kc, c, ldc),
            4 => tile::<4>(a, lda, b, kc, c, ldc),
            _ => tile::<5>(a, lda, b, kc, c, ldc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::kernels::tests::randoms;

    /// `init` + a W^T in f64, element (i, j).
    fn reference(a: &[f32], w: &[f32], init: &[f32], (m, n, k): (usize, usize, usize)) -> Vec<f64> {
        let mut out = Vec::with_capacity(m * n);
        for i in 0..m {
            for j in 0..n {
                out.push(
                    init[i * n + j] as f64
                        + (0..k)
                            .map(|t| a[i * k + t] as f64 * w[j * k + t] as f64)
                            .sum::<f64>(),
                );
            }
        }
        out
    }

    // Shapes of the encoder (k = 384 and 1536 cross the 256-deep slices) and odd row counts that
    // leave a 1..5-row tail on each thread.
    const SHAPES: &[(usize, usize, usize)] =
        &[(1, 16, 3), (7, 32, 300), (13, 1152, 384), (50, 384, 1536)];
    /// Small shapes for Miri (`cargo +nightly miri test`), where the big ones take minutes.
    const MIRI_SHAPES: &[(usize, usize, usize)] = &[(1, 16, 3), (7, 32, 260)];

    fn shapes() -> &'static [(usize, usize, usize)] {
        if cfg!(miri) {
            MIRI_SHAPES
        } else {
            SHAPES
        }
    }

    #[test]
    fn packed_layout_read_portably_matches_plain_dot_products() {
        // Runs on every CPU: packing does not need AVX2, only the kernel does.
        for &(m, n, k) in shapes() {
            let a = randoms(m * k, 1, 1.0);
            let w = randoms(n * k, 2, 1.0);
            let init = randoms(m * n, 3, 1.0);
            let packed = PackedF32::pack_for(&w, n, k, true).expect("n is a multiple of 16");
            let mut dst = init.clone();
            packed.matmul_wt_portable(m, &a, &mut dst);
            let want = reference(&a, &w, &init, (m, n, k));
            for (idx, (&got, &want)) in dst.iter().zip(&want).enumerate() {
                assert!(
                    (got as f64 - want).abs() <= 1e-4 * (1.0 + want.abs()),
                    "{m}x{n}x{k} at {idx}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn avx2_kernel_matches_the_portable_reading() {
        if !available() || cfg!(miri) {
            eprintln!(
                "SKIPPED avx2_kernel_matches_the_portable_reading: {} (the packing and the \
                 arithmetic were checked by packed_layout_read_portably_matches_plain_dot_products)",
                if cfg!(miri) { "Miri cannot run AVX2 intrinsics" } else { "this CPU has no AVX2+FMA" }
            );
            return;
        }
        for &(m, n, k) in shapes() {
            let a = randoms(m * k, 1, 1.0);
            let w = randoms(n * k, 2, 1.0);
            let init = randoms(m * n, 3, 1.0);
            let packed = PackedF32::pack(&w, n, k).expect("n is a multiple of 16");
            let mut fast = init.clone();
            packed.matmul_wt(m, &a, &mut fast);
            let mut slow = init.clone();
            packed.matmul_wt_portable(m, &a, &mut slow);
            let want = reference(&a, &w, &init, (m, n, k));
            for idx in 0..m * n {
                // The same fused multiply-adds in the same order: equal to the last bit.
                assert_eq!(
                    fast[idx].to_bits(),
                    slow[idx].to_bits(),
                    "{m}x{n}x{k} at {idx}"
                );
                assert!((fast[idx] as f64 - want[idx]).abs() <= 1e-4 * (1.0 + want[idx].abs()));
            }
        }
    }

    #[test]
    fn widths_that_are_not_a_multiple_of_16_are_declined() {
        assert!(PackedF32::pack_for(&[0.0; 17 * 2], 17, 2, true).is_none());
        assert!(PackedF32::pack_for(&[0.0; 16 * 2], 16, 2, false).is_none());
        assert!(PackedF32::pack_for(&[0.0; 16 * 2], 16, 2, true).is_some());
    }
}
