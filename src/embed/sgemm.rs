//! f32 matrix products against the encoder's weights, packed once when the model loads, for
//! CPUs with AVX2 and FMA but without AVX-512.
//!
//! The `gemm` crate (candle's CPU kernel) re-packs the weight matrix on every call and is tuned
//! for large square products. The encoder multiplies a few hundred token rows by the same six
//! weights over and over, so packing them once, in the order the kernel reads them, saves that
//! work. The kernel is the classic 6 x 16 register tile (twelve 8-lane accumulators), blocked so a
//! 256-deep slice of 128 weight columns stays in L2 while every row of the batch passes over it;
//! rows are split between threads. Sums run over k in the same order as a plain dot product, so
//! results match `gemm`'s to rounding (the tests compare them). Elsewhere (AVX-512, other
//! architectures, shapes whose width is not a multiple of 16) [`PackedF32::pack`] declines and the
//! caller keeps `gemm`.

use rayon::prelude::*;

use super::kernels::{level, Level};

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

/// True when this CPU runs the packed kernel (AVX2 and FMA, no AVX-512). `SIMSUM_NO_PACKED_F32`
/// turns it off (for comparisons).
pub fn available() -> bool {
    level() == Level::Avx2 && std::env::var_os("SIMSUM_NO_PACKED_F32").is_none()
}

impl PackedF32 {
    /// Packs `w` (n x k row-major); `None` where the kernel does not apply (see the module docs).
    pub fn pack(w: &[f32], n: usize, k: usize) -> Option<Self> {
        Self::pack_for(w, n, k, available())
    }

    fn pack_for(w: &[f32], n: usize, k: usize, enabled: bool) -> Option<Self> {
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

    /// `dst` (m x n) += `a` (m x k) W^T, all row-major; rows are shared out between threads.
    pub fn matmul_wt(&self, m: usize, a: &[f32], dst: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        assert!(a.len() >= m * k && dst.len() >= m * n);
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
                // SAFETY: `available()` held when this weight was packed (checked by `pack`),
                // and the slices hold `rows` full rows of `a` and `c`.
                unsafe { self.rows(rows, a, c) }
            });
    }

    /// `c` (rows x n) += `a` (rows x k) W^T.
    #[cfg(target_arch = "x86_64")]
    unsafe fn rows(&self, rows: usize, a: &[f32], c: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        let panels = n / NR;
        let mut offset = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p0 in (0..panels).step_by(PANELS_PER_BLOCK) {
                let p1 = (p0 + PANELS_PER_BLOCK).min(panels);
                for i in (0..rows).step_by(MR) {
                    let mr = MR.min(rows - i);
                    let ap = a.as_ptr().add(i * k + k0);
                    for p in p0..p1 {
                        let b = self.data.as_ptr().add(offset + p * kc * NR);
                        let cp = c.as_mut_ptr().add(i * n + p * NR);
                        if mr == MR {
                            tile::<MR>(ap, k, b, kc, cp, n);
                        } else {
                            tail(mr, ap, k, b, kc, cp, n);
                        }
                    }
                }
            }
            offset += panels * kc * NR;
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn rows(&self, _rows: usize, _a: &[f32], _c: &mut [f32]) {
        unreachable!("PackedF32::pack declines on this architecture")
    }
}

/// Rows `R` x 16 columns of `c` += `a` (R rows, stride `lda`, depth `kc`) times the packed panel
/// `b` (`kc` x 16).
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

/// [`tile`] for the last 1..=5 rows.
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
    match rows {
        1 => tile::<1>(a, lda, b, kc, c, ldc),
        2 => tile::<2>(a, lda, b, kc, c, ldc),
        3 => tile::<3>(a, lda, b, kc, c, ldc),
        4 => tile::<4>(a, lda, b, kc, c, ldc),
        _ => tile::<5>(a, lda, b, kc, c, ldc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::kernels::tests::randoms;

    #[test]
    fn packed_product_matches_plain_dot_products() {
        if !available() {
            // Nothing to compare on this CPU: the encoder keeps the `gemm` crate here.
            assert!(PackedF32::pack(&[0.0; 16 * 4], 16, 4).is_none());
            return;
        }
        // Shapes of the encoder (k = 384 and 1536 cross the 256-deep slices) and odd row counts
        // that leave a 1..5-row tail on each thread.
        for &(m, n, k) in &[(1, 16, 3), (7, 32, 300), (13, 1152, 384), (50, 384, 1536)] {
            let a = randoms(m * k, 1, 1.0);
            let w = randoms(n * k, 2, 1.0);
            let init = randoms(m * n, 3, 1.0);
            let packed = PackedF32::pack(&w, n, k).expect("n is a multiple of 16");
            let mut dst = init.clone();
            packed.matmul_wt(m, &a, &mut dst);
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = init[i * n + j] as f64
                        + (0..k)
                            .map(|t| a[i * k + t] as f64 * w[j * k + t] as f64)
                            .sum::<f64>();
                    let got = dst[i * n + j] as f64;
                    assert!(
                        (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                        "{m}x{n}x{k} at ({i},{j}): {got} vs {want}"
                    );
                }
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
