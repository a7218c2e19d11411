//! Element-wise kernels of the CPU encoder (softmax, GELU, LayerNorm), vectorised by hand.
//!
//! Each kernel is written once over fixed-width lane arrays, which LLVM turns into SIMD
//! instructions, and compiled three times: for AVX-512, for AVX2+FMA, and for the baseline
//! x86-64 (or any other architecture). [`level`] picks the widest the CPU supports at run time,
//! so a binary built on one machine is correct and fast on another. The tests compare every
//! level the test machine supports with plain scalar code on random inputs.

use super::features::CpuFeatures;

const LANES: usize = 16;

/// The instruction sets the kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Whatever the build target guarantees (SSE2 on x86-64).
    Baseline,
    /// AVX2 with FMA.
    Avx2,
    /// AVX-512 F.
    Avx512,
}

/// The widest level this CPU supports (from [`CpuFeatures::get`], detected once).
pub fn level() -> Level {
    CpuFeatures::get().level()
}

/// Levels this CPU can run (for tests and benchmarks).
pub fn supported_levels() -> Vec<Level> {
    let top = level();
    [Level::Baseline, Level::Avx2, Level::Avx512]
        .into_iter()
        .filter(|l| *l <= top)
        .collect()
}

macro_rules! dispatch {
    ($lvl:expr, $name:ident ( $($arg:expr),* )) => {{
        match $lvl {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the level was detected (or checked) to be supported by this CPU.
            Level::Avx512 => unsafe { avx512::$name($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2 => unsafe { avx2::$name($($arg),*) },
            _ => generic::$name($($arg),*),
        }
    }};
}

/// In place: `row = softmax(row)`.
pub fn softmax(row: &mut [f32]) {
    dispatch!(level(), softmax(row))
}

/// In place: exact-erf GELU of every element.
pub fn gelu(x: &mut [f32]) {
    dispatch!(level(), gelu(x))
}

/// In place: `row = (row - mean) / sqrt(var + eps) * g + b`.
pub fn layer_norm(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    dispatch!(level(), layer_norm(row, g, b, eps))
}

/// The same kernels at an explicit level (tests and benchmarks); `None` if unsupported.
pub mod at {
    use super::*;

    fn check(l: Level) -> Option<()> {
        (l <= level() || l == Level::Baseline).then_some(())
    }
    /// [`super::softmax`] at level `l`.
    pub fn softmax(l: Level, row: &mut [f32]) -> Option<()> {
        check(l)?;
        dispatch!(l, softmax(row));
        Some(())
    }
    /// [`super::gelu`] at level `l`.
    pub fn gelu(l: Level, x: &mut [f32]) -> Option<()> {
        check(l)?;
        dispatch!(l, gelu(x));
        Some(())
    }
    /// [`super::layer_norm`] at level `l`.
    pub fn layer_norm(l: Level, row: &mut [f32], g: &[f32], b: &[f32], eps: f32) -> Option<()> {
        check(l)?;
        dispatch!(l, layer_norm(row, g, b, eps));
        Some(())
    }
}

/// The kernel bodies, `#[inline(always)]` so each wrapper compiles them for its own features.
mod body {
    use super::LANES;

    /// e^x for x in about [-87, 88]: Cody-Waite reduction to r in [-ln2/2, ln2/2] and a
    /// degree-6 polynomial; relative error about 2e-7.
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
        let x = x.clamp(-87.0, 88.0);
        let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
        let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
        let mut p = 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        // 2^n built from n's float bits: n + 127 + 2^23 lies in [2^23, 2^24), where the ulp is 1,
        // so its low mantissa bits are exactly n + 127 (n is in [-126, 127] after the clamp),
        // and the shift moves them into the exponent field and drops the rest. `n as i32`
        // computes the same value but is a saturating cast (NaN to 0) that LLVM only emits as
        // scalar code with a branchless select: it kept the whole exp loop of `softmax` scalar
        // (measured: 18-22% of a forward pass on long inputs).
        p * f32::from_bits((n + (127.0 + 8_388_608.0)).to_bits() << 23)
    }

    /// erf as a rational polynomial on [-4, 4] (Eigen's and XLA's f32 approximation).
    #[inline(always)]
    pub fn erf(x: f32) -> f32 {
        let x = x.clamp(-4.0, 4.0);
        let x2 = x * x;
        let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
        p = x2 * p - 2.101_024e-6;
        p = x2 * p - 5.692_506_4e-5;
        p = x2 * p - 7.349_906_3e-4;
        p = x2 * p - 2.954_600_2e-3;
        p = x2 * p - 1.609_603_4e-2;
        p *= x;
        let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
        q = x2 * q - 1.682_827e-3;
        q = x2 * q - 7.373_329_5e-3;
        q = x2 * q - 1.426_474e-2;
        p / q
    }

    #[inline(always)]
    fn max(row: &[f32]) -> f32 {
        let mut acc = [f32::NEG_INFINITY; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                acc[i] = acc[i].max(c[i]);
            }
        }
        let mut m = acc.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for &v in chunks.remainder() {
            m = m.max(v);
        }
        m
    }

    #[inline(always)]
    fn sum(row: &[f32]) -> f32 {
        let mut acc = [0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                acc[i] += c[i];
            }
        }
        acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
    }

    #[inline(always)]
    pub fn softmax(row: &mut [f32]) {
        let m = max(row);
        for v in row.iter_mut() {
            *v = exp(*v - m);
        }
        let inv = 1.0 / sum(row);
        for v in row.iter_mut() {
            *v *= inv;
        }
    }

    #[inline(always)]
    pub fn gelu(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }

    #[inline(always)]
    pub fn layer_norm(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
        let n = row.len() as f32;
        let mean = sum(row) / n;
        let mut acc = [0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                let d = c[i] - mean;
                acc[i] += d * d;
            }
        }
        let var = (acc.iter().sum::<f32>()
            + chunks
                .remainder()
                .iter()
                .map(|v| (v - mean) * (v - mean))
                .sum::<f32>())
            / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(g).zip(b) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

mod generic {
    pub fn softmax(row: &mut [f32]) {
        super::body::softmax(row)
    }
    pub fn gelu(x: &mut [f32]) {
        super::body::gelu(x)
    }
    pub fn layer_norm(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
        super::body::layer_norm(row, g, b, eps)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    /// # Safety
    /// The CPU must support AVX2 and FMA (see [`super::level`]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn softmax(row: &mut [f32]) {
        super::body::softmax(row)
    }
    /// # Safety
    /// The CPU must support AVX2 and FMA (see [`super::level`]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn gelu(x: &mut [f32]) {
        super::body::gelu(x)
    }
    /// # Safety
    /// The CPU must support AVX2 and FMA (see [`super::level`]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn layer_norm(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
        super::body::layer_norm(row, g, b, eps)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    /// # Safety
    /// The CPU must support AVX-512 F, AVX2 and FMA (see [`super::level`]).
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn softmax(row: &mut [f32]) {
        super::body::softmax(row)
    }
    /// # Safety
    /// The CPU must support AVX-512 F, AVX2 and FMA (see [`super::level`]).
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn gelu(x: &mut [f32]) {
        super::body::gelu(x)
    }
    /// # Safety
    /// The CPU must support AVX-512 F, AVX2 and FMA (see [`super::level`]).
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn layer_norm(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
        super::body::layer_norm(row, g, b, eps)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small deterministic generator, so the tests need no extra crate.
    pub(crate) fn randoms(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    fn erf64(x: f64) -> f64 {
        candle_core::cpu::erf::erf_f64(x)
    }

    #[test]
    fn every_level_matches_plain_code() {
        let levels = supported_levels();
        assert!(levels.contains(&Level::Baseline));
        for len in [1usize, 7, 16, 33, 256, 1000] {
            for (seed, scale) in [(1u64, 1.0f32), (2, 8.0), (3, 30.0)] {
                let x = randoms(len, seed * 1000 + len as u64, scale);
                let g = randoms(len, seed + 7, 1.0);
                let b = randoms(len, seed + 9, 1.0);
                // Plain f64 references.
                let m = x.iter().copied().fold(f32::MIN, f32::max) as f64;
                let e: Vec<f64> = x.iter().map(|&v| (v as f64 - m).exp()).collect();
                let z: f64 = e.iter().sum();
                let soft: Vec<f64> = e.iter().map(|v| v / z).collect();
                let gel: Vec<f64> = x
                    .iter()
                    .map(|&v| 0.5 * v as f64 * (1.0 + erf64(v as f64 / 2f64.sqrt())))
                    .collect();
                let mean = x.iter().map(|&v| v as f64).sum::<f64>() / len as f64;
                let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / len as f64;
                let ln: Vec<f64> = (0..len)
                    .map(|i| {
                        (x[i] as f64 - mean) / (var + 1e-12).sqrt() * g[i] as f64 + b[i] as f64
                    })
                    .collect();
                for &l in &levels {
                    let mut s = x.clone();
                    at::softmax(l, &mut s).unwrap();
                    let mut ge = x.clone();
                    at::gelu(l, &mut ge).unwrap();
                    let mut n = x.clone();
                    at::layer_norm(l, &mut n, &g, &b, 1e-12).unwrap();
                    for i in 0..len {
                        assert!(
                            (s[i] as f64 - soft[i]).abs() <= 1e-6 + 1e-5 * soft[i],
                            "softmax {l:?} len {len}"
                        );
                        assert!(
                            (ge[i] as f64 - gel[i]).abs() <= 1e-5 * (1.0 + gel[i].abs()),
                            "gelu {l:?} {} -> {} vs {}",
                            x[i],
                            ge[i],
                            gel[i]
                        );
                        if len > 1 {
                            assert!(
                                (n[i] as f64 - ln[i]).abs() <= 1e-4,
                                "layer_norm {l:?} len {len}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn exp_is_accurate_over_the_softmax_range() {
        let mut worst = 0f64;
        for i in 0..=100_000 {
            let x = -87.0 + 87.0 * i as f32 / 100_000.0;
            let rel = (body::exp(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp();
            worst = worst.max(rel);
        }
        assert!(worst < 1e-6, "max relative error {worst}");
    }

    #[test]
    fn exp_builds_2_to_the_n_exactly_as_the_integer_cast_does() {
        // The float-bits construction of 2^n must equal the one through `n as i32` it replaced
        // (bit for bit, over the clamp range and beyond it on both sides).
        fn scale_by_cast(n: f32) -> f32 {
            f32::from_bits(((n as i32 + 127) as u32) << 23)
        }
        for i in 0..=200_000 {
            let x = -100.0 + 200.0 * i as f32 / 200_000.0;
            let c = x.clamp(-87.0, 88.0);
            let n = (c * std::f32::consts::LOG2_E + 0.5).floor();
            let by_bits = f32::from_bits((n + (127.0 + 8_388_608.0)).to_bits() << 23);
            assert_eq!(
                by_bits.to_bits(),
                scale_by_cast(n).to_bits(),
                "x = {x}, n = {n}"
            );
        }
        assert!(body::exp(f32::NAN).is_nan());
        assert!(body::exp(0.0) == 1.0);
    }
}
