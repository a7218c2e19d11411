//! f32 matrix products against the encoder's weights, packed once when the model loads, with
//! register tiles for AVX2+FMA and for AVX-512.
//!
//! The `gemm` crate (candle's CPU kernel) re-packs the weight matrix on every call and is tuned
//! for large square products. The encoder multiplies a few hundred token rows by the same six
//! weights over and over, so packing them once, in the order the kernel reads them, saves that
//! work. Two register tiles read the same layout, differing only in panel width ([`F32Tile`]):
//! the classic 6 x 16 tile of AVX2 (twelve 8-lane accumulators) and a 14 x 32 tile of AVX-512
//! (twenty-eight 16-lane accumulators out of 32 registers, the broadcast of each activation
//! folded into its multiply-add). Both are blocked so a 256-deep slice of 128 weight columns
//! stays in L2 while every row of the batch passes over it; rows are split between threads.
//! Sums run over k in the same order as a plain dot product, so results match `gemm`'s to
//! rounding and the two tiles' to the last bit (the tests compare them). Which tile the encoder
//! uses is decided once, in [`super::settings::f32_kernel`]; [`PackedF32::pack`] declines on CPUs
//! without the tile's features and for shapes whose width is not a multiple of its panel (the
//! caller keeps `gemm`). [`PackedF32::matmul_wt_portable`] reads the same packed layout in plain
//! code, so the packing is tested on every CPU.

use std::ops::Range;

use rayon::prelude::*;

use super::features::CpuFeatures;

/// Depth of one packed slice.
const KC: usize = 256;
/// Weight columns per L2 block (a KC x 128 block is 128 KiB).
const BLOCK_COLUMNS: usize = 128;

/// The register tile a weight is packed for; it fixes the panel width of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum F32Tile {
    /// 6 rows x 16 columns (two 8-lane vectors), AVX2 and FMA.
    Avx2,
    /// 14 rows x 32 columns (two 16-lane vectors), AVX-512 F (with AVX2+FMA, as the rest of
    /// the 512-bit encoder, see [`CpuFeatures::avx512`]).
    Avx512,
}

impl F32Tile {
    /// Columns per packed panel.
    pub const fn panel_width(self) -> usize {
        match self {
            Self::Avx2 => 16,
            Self::Avx512 => 32,
        }
    }

    /// Rows per register tile.
    const fn rows(self) -> usize {
        match self {
            Self::Avx2 => 6,
            Self::Avx512 => 14,
        }
    }

    /// Whether a CPU with `features` can run this tile.
    pub fn runs_on(self, features: CpuFeatures) -> bool {
        match self {
            Self::Avx2 => features.avx2_fma,
            Self::Avx512 => features.avx512(),
        }
    }
}

/// A weight W (n x k, row-major as stored in the model) laid out for one [`F32Tile`]:
/// `[k slice][NR-column panel][depth][NR]`, NR the tile's panel width.
pub struct PackedF32 {
    n: usize,
    k: usize,
    tile: F32Tile,
    data: Vec<f32>,
}

/// True when this CPU can run `tile` (from [`CpuFeatures::get`]).
pub fn available(tile: F32Tile) -> bool {
    tile.runs_on(CpuFeatures::get())
}

/// The signature shared by the kernels' row-tile entry points: `c` (`rows` x NR, rows `ldc`
/// apart) += `a` (`rows` x `kc`, rows `lda` apart) times the packed panel `b` (`kc` x NR).
type RowTile = unsafe fn(usize, *const f32, usize, *const f32, usize, *mut f32, usize);

impl PackedF32 {
    /// Packs `w` (n x k row-major) for `tile`; `None` where the kernel does not apply (see the
    /// module docs).
    pub fn pack(w: &[f32], n: usize, k: usize, tile: F32Tile) -> Option<Self> {
        Self::pack_for(w, n, k, tile, available(tile))
    }

    /// [`PackedF32::pack`] with the CPU check replaced by `enabled`: a weight packed with
    /// `enabled` true on a CPU without the tile's features may only be used by
    /// [`PackedF32::matmul_wt_portable`] (tests of the layout).
    pub(crate) fn pack_for(
        w: &[f32],
        n: usize,
        k: usize,
        tile: F32Tile,
        enabled: bool,
    ) -> Option<Self> {
        let nr = tile.panel_width();
        if !enabled || n == 0 || k == 0 || !n.is_multiple_of(nr) || w.len() != n * k {
            return None;
        }
        let data = match tile {
            F32Tile::Avx2 => pack_panels::<16>(w, n, k),
            F32Tile::Avx512 => pack_panels::<32>(w, n, k),
        };
        Some(Self { n, k, tile, data })
    }

    /// The tile this weight was packed for.
    pub fn tile(&self) -> F32Tile {
        self.tile
    }

    /// `dst` (m x n) += `a` (m x k) W^T in plain code reading the packed layout, in the same
    /// summation order as the kernels: the reference they are tested against on every CPU.
    pub fn matmul_wt_portable(&self, m: usize, a: &[f32], dst: &mut [f32]) {
        assert!(a.len() >= m * self.k && dst.len() >= m * self.n);
        match self.tile {
            F32Tile::Avx2 => self.portable::<16>(m, a, dst),
            F32Tile::Avx512 => self.portable::<32>(m, a, dst),
        }
    }

    fn portable<const NR: usize>(&self, m: usize, a: &[f32], dst: &mut [f32]) {
        let (n, k) = (self.n, self.k);
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

    /// `dst` (m x n) += `a` (m x k) W^T, all row-major; blocks of rows and, for short inputs,
    /// of column panels are shared out between threads ([`WorkSplit`]).
    pub fn matmul_wt(&self, m: usize, a: &[f32], dst: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        assert!(a.len() >= m * k && dst.len() >= m * n);
        // A weight packed by `pack_for(.., true)` on a CPU without the tile's features must not
        // reach the kernel.
        assert!(
            available(self.tile),
            "the packed f32 kernel {:?} does not run on this CPU",
            self.tile
        );
        if m == 0 {
            return;
        }
        let split = WorkSplit::new(
            m,
            n / self.tile.panel_width(),
            self.tile.rows(),
            rayon::current_num_threads(),
        );
        let out = SharedOut(dst.as_mut_ptr());
        split.run(|rows, panels| {
            // Capture the whole `SharedOut` (Sync), not its raw-pointer field.
            let out = &out;
            // SAFETY: `available(self.tile)` was asserted above; `a` holds m x k values and
            // `dst` m x n (asserted), the task's rows are < m and its panels < n / NR, and
            // the tasks of one split own disjoint blocks of `dst`.
            unsafe { self.block(rows, panels, a, out.0) }
        });
    }

    /// The rows x panels block of `c` (m x n, row-major) += `a` W^T with this weight's tile.
    ///
    /// # Safety
    /// The CPU must run `self.tile`; `a` must hold every row in `rows` (k values each) and `c`
    /// every row in `rows` (n values each); no other thread may touch this block of `c`.
    #[cfg(target_arch = "x86_64")]
    unsafe fn block(&self, rows: Range<usize>, panels: Range<usize>, a: &[f32], c: *mut f32) {
        // SAFETY: forwarded; each entry point is the one compiled for `self.tile`'s features.
        unsafe {
            match self.tile {
                F32Tile::Avx2 => self.blocked::<16, 6>(rows, panels, a, c, avx2::row_tile),
                F32Tile::Avx512 => self.blocked::<32, 14>(rows, panels, a, c, avx512::row_tile),
            }
        }
    }

    /// # Safety
    /// Never called: [`PackedF32::pack`] declines on this architecture.
    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn block(&self, _: Range<usize>, _: Range<usize>, _: &[f32], _: *mut f32) {
        unreachable!("PackedF32::pack declines on this architecture")
    }

    /// The cache blocking shared by both tiles: for each k slice and each L2 block of the
    /// task's columns, every MR-row tile of the task's rows passes over the block's panels.
    ///
    /// # Safety
    /// The CPU must run `kernel`, whose panel width is NR and full tile MR rows; as for
    /// [`PackedF32::block`] otherwise.
    #[cfg(target_arch = "x86_64")]
    unsafe fn blocked<const NR: usize, const MR: usize>(
        &self,
        rows: Range<usize>,
        panels: Range<usize>,
        a: &[f32],
        c: *mut f32,
        kernel: RowTile,
    ) {
        let (n, k) = (self.n, self.k);
        debug_assert!(a.len() >= rows.end * k && panels.end <= n / NR);
        debug_assert_eq!((NR, MR), (self.tile.panel_width(), self.tile.rows()));
        let all_panels = n / NR;
        let per_block = (BLOCK_COLUMNS / NR).max(1);
        let mut offset = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for p0 in panels.clone().step_by(per_block) {
                let p1 = (p0 + per_block).min(panels.end);
                for i in rows.clone().step_by(MR) {
                    let mr = MR.min(rows.end - i);
                    let ap = a[i * k + k0..].as_ptr();
                    for p in p0..p1 {
                        let b = self.data[offset + p * kc * NR..].as_ptr();
                        // SAFETY: the caller guarantees the kernel's features and that `c`
                        // holds the task's rows; `ap` has `mr` (<= MR) rows of `kc` values `k`
                        // apart, `b` a kc x NR panel, `cp` `mr` rows of NR values `n` apart
                        // (rows < rows.end, columns < n).
                        unsafe {
                            let cp = c.add(i * n + p * NR);
                            kernel(mr, ap, k, b, kc, cp, n)
                        };
                    }
                }
            }
            offset += all_panels * kc * NR;
        }
    }
}

/// How one product of `m` rows by `panels` column panels is shared out between threads: rows
/// in blocks of whole register tiles, one block per thread, and where the rows are too few for
/// every thread to get one (a short query is one tile), the column panels split as well, so a
/// single short text still runs on every core. Tasks own disjoint blocks of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WorkSplit {
    m: usize,
    panels: usize,
    row_block: usize,
    col_block: usize,
}

impl WorkSplit {
    /// The split of `m` rows (tiles of `mr`) and `panels` panels between `threads` threads.
    pub(crate) fn new(m: usize, panels: usize, mr: usize, threads: usize) -> Self {
        let threads = threads.max(1);
        let row_block = m.div_ceil(threads).div_ceil(mr).max(1) * mr;
        let row_blocks = m.div_ceil(row_block).max(1);
        let col_blocks = threads.div_ceil(row_blocks).clamp(1, panels.max(1));
        Self {
            m,
            panels,
            row_block,
            col_block: panels.div_ceil(col_blocks).max(1),
        }
    }

    /// Every task's rows and panels, row-block major.
    pub(crate) fn tasks(&self) -> Vec<(Range<usize>, Range<usize>)> {
        let mut out = Vec::new();
        for r0 in (0..self.m).step_by(self.row_block) {
            for p0 in (0..self.panels).step_by(self.col_block) {
                out.push((
                    r0..(r0 + self.row_block).min(self.m),
                    p0..(p0 + self.col_block).min(self.panels),
                ));
            }
        }
        out
    }

    /// Runs `f` on every task, on the rayon pool when there is more than one.
    pub(crate) fn run(&self, f: impl Fn(Range<usize>, Range<usize>) + Sync) {
        let tasks = self.tasks();
        if let [(rows, panels)] = tasks.as_slice() {
            return f(rows.clone(), panels.clone());
        }
        tasks
            .into_par_iter()
            .for_each(|(rows, panels)| f(rows, panels));
    }
}

/// The output of a product, written by several threads at disjoint blocks.
pub(crate) struct SharedOut(pub(crate) *mut f32);
// SAFETY: the pointer crosses rayon's threads only inside a product whose tasks ([`WorkSplit`])
// own disjoint blocks of the output while the `&mut [f32]` it came from is held, unused, by the
// call.
unsafe impl Send for SharedOut {}
// SAFETY: as for `Send`: concurrent use only ever writes disjoint blocks.
unsafe impl Sync for SharedOut {}

/// `w` (n x k row-major) as `[k slice][NR-column panel][depth][NR]`; n is a multiple of NR.
fn pack_panels<const NR: usize>(w: &[f32], n: usize, k: usize) -> Vec<f32> {
    let mut data = Vec::with_capacity(n * k);
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        for p in 0..n / NR {
            for kk in k0..k0 + kc {
                data.extend((0..NR).map(|j| w[(p * NR + j) * k + kk]));
            }
        }
    }
    data
}

/// The 6 x 16 tile on 256-bit registers.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    const NR: usize = 16;

    /// Rows `R` x 16 columns of `c` += `a` (R rows, stride `lda`, depth `kc`) times the packed
    /// panel `b` (`kc` x 16).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `a` must be readable for R rows of `kc` values `lda`
    /// apart, `b` for `kc` x 16 values, and `c` readable and writable for R rows of 16 values
    /// `ldc` apart, not aliasing `a` or `b`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile<const R: usize>(
        a: *const f32,
        lda: usize,
        b: *const f32,
        kc: usize,
        c: *mut f32,
        ldc: usize,
    ) {
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

    /// [`tile`] for `rows` (1..=6) rows: the full tile, or one of the tails.
    ///
    /// # Safety
    /// As for [`tile`], with R = `rows`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn row_tile(
        rows: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        kc: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        // SAFETY: forwarded from the caller, with R = `rows` (at most 6).
        unsafe {
            match rows {
                1 => tile::<1>(a, lda, b, kc, c, ldc),
                2 => tile::<2>(a, lda, b, kc, c, ldc),
                3 => tile::<3>(a, lda, b, kc, c, ldc),
                4 => tile::<4>(a, lda, b, kc, c, ldc),
                5 => tile::<5>(a, lda, b, kc, c, ldc),
                _ => tile::<6>(a, lda, b, kc, c, ldc),
            }
        }
    }
}

/// The 14 x 32 tile on 512-bit registers.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    const NR: usize = 32;
    /// Rows of the full tile: 28 accumulators, two panel vectors and one broadcast fill the 32
    /// vector registers.
    const MR: usize = 14;

    /// Rows `R` (<= 14) x 32 columns of `c` += `a` (R rows, stride `lda`, depth `kc`) times the
    /// packed panel `b` (`kc` x 32).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, AVX2 and FMA; `a` must be readable for R rows of `kc`
    /// values `lda` apart, `b` for `kc` x 32 values, and `c` readable and writable for R rows
    /// of 32 values `ldc` apart, not aliasing `a` or `b`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn tile<const R: usize>(
        a: *const f32,
        lda: usize,
        b: *const f32,
        kc: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        debug_assert!(R <= MR);
        // SAFETY: every access below stays within the extents the caller guarantees (rows
        // r < R only).
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); 2]; MR];
            each_row!(r < R => {
                acc[r][0] = _mm512_loadu_ps(c.add(r * ldc));
                acc[r][1] = _mm512_loadu_ps(c.add(r * ldc + 16));
            });
            let mut bp = b;
            for kk in 0..kc {
                let b0 = _mm512_loadu_ps(bp);
                let b1 = _mm512_loadu_ps(bp.add(16));
                each_row!(r < R => {
                    let av = _mm512_set1_ps(*a.add(r * lda + kk));
                    acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
                });
                bp = bp.add(NR);
            }
            each_row!(r < R => {
                _mm512_storeu_ps(c.add(r * ldc), acc[r][0]);
                _mm512_storeu_ps(c.add(r * ldc + 16), acc[r][1]);
            });
        }
    }

    /// [`tile`] for `rows` (1..=14) rows: the full tile, or the tail split into tiles of 8, 4,
    /// 2 and 1 rows (each row's sums are independent of the others', so the split changes no
    /// result, and four shapes cover every tail).
    ///
    /// # Safety
    /// As for [`tile`], with R = `rows`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn row_tile(
        rows: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        kc: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        // SAFETY: forwarded from the caller; each call covers rows `done..done + R` of the
        // `rows` the caller vouched for.
        unsafe {
            if rows >= MR {
                return tile::<MR>(a, lda, b, kc, c, ldc);
            }
            let mut done = 0;
            for part in [8, 4, 2, 1] {
                if rows - done >= part {
                    let (a, c) = (a.add(done * lda), c.add(done * ldc));
                    match part {
                        8 => tile::<8>(a, lda, b, kc, c, ldc),
                        4 => tile::<4>(a, lda, b, kc, c, ldc),
                        2 => tile::<2>(a, lda, b, kc, c, ldc),
                        _ => tile::<1>(a, lda, b, kc, c, ldc),
                    }
                    done += part;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_split_covers_every_output_once_and_short_inputs_use_every_thread() {
        for &(m, panels, mr, threads) in &[
            (1, 36, 14, 2),
            (10, 12, 14, 2),
            (20, 12, 14, 2),
            (100, 36, 14, 2),
            (1000, 48, 6, 16),
            (3, 1, 14, 8),
            (5, 3, 6, 1),
        ] {
            let split = WorkSplit::new(m, panels, mr, threads);
            let mut seen = vec![0u8; m * panels];
            for (rows, cols) in split.tasks() {
                assert!(!rows.is_empty() && !cols.is_empty(), "{split:?}");
                for i in rows {
                    for j in cols.clone() {
                        seen[i * panels + j] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "{split:?}");
            if m <= mr && panels >= threads {
                assert_eq!(split.tasks().len(), threads, "{split:?}");
            }
        }
    }
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
    // leave a tail on each thread (1..5 rows for the 6-row tile; 1..13 for the 14-row one, e.g.
    // 15 = 14 + 1, 27 = 14 + 8 + 4 + 1, 50 = 3 x 14 + 8), with widths of both panel sizes.
    const SHAPES: &[(usize, usize, usize)] = &[
        (1, 32, 3),
        (7, 32, 300),
        (13, 1152, 384),
        (15, 64, 257),
        (27, 96, 40),
        (50, 384, 1536),
    ];
    /// Small shapes for Miri (`cargo +nightly miri test`), where the big ones take minutes.
    const MIRI_SHAPES: &[(usize, usize, usize)] = &[(1, 32, 3), (7, 32, 260)];

    fn shapes() -> &'static [(usize, usize, usize)] {
        if cfg!(miri) {
            MIRI_SHAPES
        } else {
            SHAPES
        }
    }

    const TILES: [F32Tile; 2] = [F32Tile::Avx2, F32Tile::Avx512];

    #[test]
    fn packed_layouts_read_portably_match_plain_dot_products() {
        // Runs on every CPU: packing does not need the vector features, only the kernels do.
        for tile in TILES {
            for &(m, n, k) in shapes() {
                let a = randoms(m * k, 1, 1.0);
                let w = randoms(n * k, 2, 1.0);
                let init = randoms(m * n, 3, 1.0);
                let packed = PackedF32::pack_for(&w, n, k, tile, true).expect("n fits the panel");
                let mut dst = init.clone();
                packed.matmul_wt_portable(m, &a, &mut dst);
                let want = reference(&a, &w, &init, (m, n, k));
                for (idx, (&got, &want)) in dst.iter().zip(&want).enumerate() {
                    assert!(
                        (got as f64 - want).abs() <= 1e-4 * (1.0 + want.abs()),
                        "{tile:?} {m}x{n}x{k} at {idx}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// The kernel for `tile` against the portable reading of the same layout (bit for bit) and
    /// the f64 reference; false (after printing why) where this CPU or Miri cannot run it.
    fn kernel_matches_portable(tile: F32Tile) -> bool {
        if !available(tile) || cfg!(miri) {
            eprintln!(
                "SKIPPED the {tile:?} kernel test: {} (the packing and the arithmetic were \
                 checked by packed_layouts_read_portably_match_plain_dot_products)",
                if cfg!(miri) {
                    "Miri cannot run vector intrinsics"
                } else {
                    "this CPU cannot run the tile"
                }
            );
            return false;
        }
        for &(m, n, k) in shapes() {
            let a = randoms(m * k, 1, 1.0);
            let w = randoms(n * k, 2, 1.0);
            let init = randoms(m * n, 3, 1.0);
            let packed = PackedF32::pack(&w, n, k, tile).expect("n fits the panel");
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
                    "{tile:?} {m}x{n}x{k} at {idx}"
                );
                assert!((fast[idx] as f64 - want[idx]).abs() <= 1e-4 * (1.0 + want[idx].abs()));
            }
        }
        true
    }

    #[test]
    fn avx2_kernel_matches_the_portable_reading() {
        kernel_matches_portable(F32Tile::Avx2);
    }

    #[test]
    fn avx512_kernel_matches_the_portable_reading() {
        kernel_matches_portable(F32Tile::Avx512);
    }

    #[test]
    fn avx512_kernel_takes_every_row_count_of_a_tile_and_its_tails() {
        // Every remainder 1..=13 of the 14-row tile (and whole tiles), on one thread's worth of
        // rows each, against the portable reading: the 8/4/2/1 split of the tail must cover each
        // row exactly once.
        if !available(F32Tile::Avx512) || cfg!(miri) {
            eprintln!("SKIPPED avx512_kernel_takes_every_row_count...: no AVX-512 here (or Miri)");
            return;
        }
        let (n, k) = (64, 19);
        let w = randoms(n * k, 5, 1.0);
        let packed = PackedF32::pack(&w, n, k, F32Tile::Avx512).expect("64 = 2 panels");
        for m in 1..=30 {
            let a = randoms(m * k, 6 + m as u64, 1.0);
            let init = randoms(m * n, 7, 1.0);
            let mut fast = init.clone();
            packed.matmul_wt(m, &a, &mut fast);
            let mut slow = init.clone();
            packed.matmul_wt_portable(m, &a, &mut slow);
            let fast: Vec<u32> = fast.iter().map(|x| x.to_bits()).collect();
            let slow: Vec<u32> = slow.iter().map(|x| x.to_bits()).collect();
            assert_eq!(fast, slow, "{m} rows");
        }
    }

    #[test]
    fn both_tiles_give_the_same_bits() {
        // The layouts differ only in panel width; the sums, and so the results, do not.
        let (m, n, k) = (9, 96, 300);
        let a = randoms(m * k, 1, 1.0);
        let w = randoms(n * k, 2, 1.0);
        let mut out = Vec::new();
        for tile in TILES {
            let packed = PackedF32::pack_for(&w, n, k, tile, true).expect("96 fits both");
            let mut dst = vec![0.0; m * n];
            packed.matmul_wt_portable(m, &a, &mut dst);
            out.push(dst.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        }
        assert_eq!(out[0], out[1]);
    }

    #[test]
    fn widths_that_are_not_a_multiple_of_the_panel_are_declined() {
        let pack =
            |n: usize, tile, enabled| PackedF32::pack_for(&vec![0.0; n * 2], n, 2, tile, enabled);
        assert!(pack(17, F32Tile::Avx2, true).is_none());
        assert!(pack(16, F32Tile::Avx2, false).is_none());
        assert!(pack(16, F32Tile::Avx2, true).is_some());
        assert!(pack(16, F32Tile::Avx512, true).is_none());
        assert!(pack(48, F32Tile::Avx512, true).is_none());
        assert!(pack(64, F32Tile::Avx512, true).is_some());
        assert!(pack(64, F32Tile::Avx512, false).is_none());
    }
}
