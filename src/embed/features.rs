//! The CPU features the encoder's kernels use, detected once per process.
//!
//! Every choice of kernel in [`super`] (the element-wise [`super::kernels`], the packed f32
//! product of [`super::sgemm`], the bf16 product of [`super::bf16`]) and the harness's machine
//! description read this one value, so no two places can disagree about what the CPU runs. One
//! environment switch, `SIMSUM_NO_SIMD` (any value), turns every vector kernel off: the encoder
//! then runs its portable code and the `gemm` crate, which is how the plain paths are compared
//! with the vector ones on the same machine.

use std::sync::OnceLock;

/// What this CPU (as simsum is allowed to use it) can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuFeatures {
    /// AVX2 with FMA (the 256-bit kernels).
    pub avx2_fma: bool,
    /// AVX-512 F (the 512-bit element-wise kernels).
    pub avx512f: bool,
    /// AVX-512 BF16 (`vdpbf16ps`, the bf16 weight products); implies `avx512f`.
    pub avx512bf16: bool,
}

impl CpuFeatures {
    /// The features of this CPU, detected on first use and then fixed for the process.
    /// `SIMSUM_NO_SIMD` yields [`CpuFeatures::none`].
    pub fn get() -> Self {
        static FEATURES: OnceLock<CpuFeatures> = OnceLock::new();
        *FEATURES.get_or_init(|| {
            if std::env::var_os("SIMSUM_NO_SIMD").is_some() {
                Self::none()
            } else {
                Self::of_hardware()
            }
        })
    }

    /// No vector features: what the portable code needs.
    pub fn none() -> Self {
        Self::default()
    }

    /// The hardware's features, ignoring `SIMSUM_NO_SIMD`.
    pub fn of_hardware() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let avx512f = is_x86_feature_detected!("avx512f");
            Self {
                avx2_fma: is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
                avx512f,
                avx512bf16: avx512f && is_x86_feature_detected!("avx512bf16"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Self::none()
        }
    }

    /// The widest level of the element-wise kernels these features allow.
    pub fn level(&self) -> super::kernels::Level {
        use super::kernels::Level;
        if self.avx512f {
            Level::Avx512
        } else if self.avx2_fma {
            Level::Avx2
        } else {
            Level::Baseline
        }
    }

    /// One line for reports, e.g. `avx2+fma avx512f avx512bf16` or `baseline`.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = [
            (self.avx2_fma, "avx2+fma"),
            (self.avx512f, "avx512f"),
            (self.avx512bf16, "avx512bf16"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if names.is_empty() {
            "baseline".into()
        } else {
            names.join(" ")
        }
    }
}

impl std::fmt::Display for CpuFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_is_stable_and_consistent() {
        let f = CpuFeatures::get();
        assert_eq!(f, CpuFeatures::get());
        // bf16 products are only ever chosen together with the 512-bit kernels.
        assert!(!f.avx512bf16 || f.avx512f);
        assert_eq!(CpuFeatures::none().summary(), "baseline");
        eprintln!("this CPU: {}", CpuFeatures::of_hardware());
    }
}
