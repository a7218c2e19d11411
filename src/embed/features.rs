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

    /// Whether the 512-bit kernels can run: they are compiled with AVX-512 F *and* AVX2+FMA
    /// enabled (`#[target_feature(enable = "avx512f,avx2,fma")]`), so `avx512f` alone (a
    /// hypervisor may hide AVX2 while passing AVX-512 through) is not enough.
    pub fn avx512(&self) -> bool {
        self.avx512f && self.avx2_fma
    }

    /// Whether the bf16 weight products ([`super::bf16`]) can run: their kernel is compiled with
    /// AVX-512 F and AVX-512 BF16, and the rest of the encoder runs at [`CpuFeatures::level`],
    /// which must then be the 512-bit one.
    pub fn bf16_products(&self) -> bool {
        self.avx512bf16 && self.avx512()
    }

    /// The widest level of the element-wise kernels these features allow.
    pub fn level(&self) -> super::kernels::Level {
        use super::kernels::Level;
        if self.avx512() {
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

    #[test]
    fn avx512_kernels_need_avx2_and_fma_too() {
        use crate::embed::kernels::Level;
        // A CPU (or a hypervisor's view of one) reporting AVX-512 F without AVX2+FMA must not
        // reach kernels compiled with all three enabled.
        let odd = CpuFeatures {
            avx512f: true,
            avx2_fma: false,
            avx512bf16: true,
        };
        assert!(!odd.avx512());
        assert!(!odd.bf16_products());
        assert_eq!(odd.level(), Level::Baseline);
        let full = CpuFeatures {
            avx512f: true,
            avx2_fma: true,
            avx512bf16: true,
        };
        assert!(full.avx512() && full.bf16_products());
        assert_eq!(full.level(), Level::Avx512);
        let no_bf16 = CpuFeatures {
            avx512bf16: false,
            ..full
        };
        assert!(no_bf16.avx512() && !no_bf16.bf16_products());
        let avx2 = CpuFeatures {
            avx2_fma: true,
            ..CpuFeatures::none()
        };
        assert_eq!(avx2.level(), Level::Avx2);
        assert!(!avx2.avx512());
    }
}
