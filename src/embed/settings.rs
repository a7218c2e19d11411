//! Typed embedding settings — where to run ([`Device`]) and at what precision ([`DType`]) — and
//! the one decision that turns them into an engine ([`Plan::choose`]).
//!
//! The command line parses `--device` and `--dtype` into these values once; the library never
//! sees the strings. [`Plan::choose`] is the only place that looks at the device, the requested
//! precision and the [`CpuFeatures`] together and picks the encoder (simsum's packed CPU path or
//! candle's tensors), the dtype actually run and the kernel for the weight products.

use std::fmt;
use std::str::FromStr;

use super::features::CpuFeatures;
pub use super::sgemm::F32Tile;

/// Where the encoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// A GPU when the binary has one built in and one is present, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// CUDA device by ordinal (`cuda` is `cuda:0`).
    Cuda(usize),
    Metal,
}

/// A `--device` value that is not one of `cpu`, `cuda`, `cuda:N`, `metal`, `auto`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown device `{0}`: expected cpu, cuda, cuda:N, metal or auto")]
pub struct ParseDeviceError(String);

impl FromStr for Device {
    type Err = ParseDeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "metal" => Ok(Self::Metal),
            "cuda" => Ok(Self::Cuda(0)),
            _ => t
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| ParseDeviceError(s.to_string())),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
            Self::Metal => f.write_str("metal"),
        }
    }
}

/// Precision of the encoder's computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub enum DType {
    /// The fastest precision that keeps cosine >= 0.9999 to f32 on this device: bf16 weight
    /// products on CPUs with AVX-512 BF16 where they measured faster than f32
    /// ([`super::calibrate`]), f16 on CUDA, f32 elsewhere.
    #[default]
    Auto,
    /// f32 throughout: exact parity with sentence-transformers.
    F32,
    /// f16 tensors (GPUs; slow on CPUs).
    F16,
    /// bf16: on CPUs, bf16 weight products with f32 accumulation and f32 everywhere else.
    Bf16,
}

/// A `--dtype` value that is not one of `auto`, `f32`, `f16`, `bf16`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown dtype `{0}`: expected auto, f32, f16 or bf16")]
pub struct ParseDTypeError(String);

impl FromStr for DType {
    type Err = ParseDTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "f32" | "float32" => Ok(Self::F32),
            "f16" | "fp16" | "float16" => Ok(Self::F16),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            _ => Err(ParseDTypeError(s.to_string())),
        }
    }
}

impl DType {
    /// The name used on the command line and in index manifests.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Bf16 => "bf16",
        }
    }

    /// The candle dtype of tensors at this precision (`Auto` must be resolved first; it maps
    /// to f32).
    pub fn candle(&self) -> candle_core::DType {
        match self {
            Self::F16 => candle_core::DType::F16,
            Self::Bf16 => candle_core::DType::BF16,
            Self::Auto | Self::F32 => candle_core::DType::F32,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kernel that multiplies activations by a weight matrix on the CPU path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatmulKernel {
    /// The `gemm` crate on the plain row-major weight (it packs per call).
    Gemm,
    /// simsum's kernel on f32 weights packed once at load for this register tile
    /// ([`super::sgemm`]).
    PackedF32(F32Tile),
    /// simsum's AVX-512 BF16 kernel on bf16 weights packed once at load ([`super::bf16`]).
    Bf16,
}

/// Which encoder runs, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// simsum's packed, fused f32 CPU encoder with this weight-product kernel.
    Cpu(MatmulKernel),
    /// candle's tensors on the device, at the plan's dtype.
    Candle,
}

/// The decision [`Plan::choose`] makes once per loaded model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub engine: Engine,
    /// The precision that actually runs (never `Auto`).
    pub dtype: DType,
    /// What differs from what was asked, for the user (e.g. bf16 run as f32).
    pub note: Option<String>,
}

impl Plan {
    /// Chooses the engine for a model on `device` (already resolved: `gpu` says whether it is
    /// a GPU) at the requested `dtype`, on a CPU with `features` where bf16 weight products
    /// measured `bf16_speedup` times as fast as f32 ones ([`super::calibrate::bf16_speedup`];
    /// `None`: not measured, or they cannot run). `force_candle` keeps candle's tensors on the
    /// CPU too (tests and benchmarks that compare the two).
    pub fn choose(
        gpu: Option<GpuKind>,
        dtype: DType,
        features: CpuFeatures,
        bf16_speedup: Option<f64>,
        force_candle: bool,
    ) -> Self {
        match gpu {
            Some(kind) => {
                // f16 keeps cosine >= 0.9999 to f32 on BERT encoders (10-bit mantissa; bf16's
                // 7 bits do not) and runs on tensor cores; Metal stays f32.
                let dtype = match (dtype, kind) {
                    (DType::Auto, GpuKind::Cuda) => DType::F16,
                    (DType::Auto, GpuKind::Metal) => DType::F32,
                    (d, _) => d,
                };
                Self {
                    engine: Engine::Candle,
                    dtype,
                    note: None,
                }
            }
            None => {
                // `auto` is bf16 only where it measured faster (by the margin): a feature flag
                // alone once made the default 40% slower than f32 (issue 35).
                let bf16_pays = features.bf16_products()
                    && bf16_speedup.is_some_and(|x| x >= super::calibrate::MARGIN);
                let dtype = match dtype {
                    DType::Auto if bf16_pays => DType::Bf16,
                    DType::Auto => DType::F32,
                    d => d,
                };
                if force_candle || dtype == DType::F16 {
                    return Self {
                        engine: Engine::Candle,
                        dtype,
                        note: None,
                    };
                }
                if dtype == DType::Bf16 && !features.bf16_products() {
                    return Self {
                        engine: Engine::Cpu(f32_kernel(features)),
                        dtype: DType::F32,
                        note: Some("this CPU has no AVX-512 BF16: bf16 runs as f32".into()),
                    };
                }
                let kernel = if dtype == DType::Bf16 {
                    MatmulKernel::Bf16
                } else {
                    f32_kernel(features)
                };
                Self {
                    engine: Engine::Cpu(kernel),
                    dtype,
                    note: None,
                }
            }
        }
    }
}

/// Which kind of GPU a resolved device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuKind {
    Cuda,
    Metal,
}

/// The f32 weight-product kernel for these features: simsum's packed kernel with the widest
/// register tile the CPU runs (AVX-512 where [`CpuFeatures::avx512`], else AVX2+FMA; both beat
/// `gemm` on the encoder's shapes, BENCHMARKS.md), the `gemm` crate on CPUs with neither.
pub fn f32_kernel(features: CpuFeatures) -> MatmulKernel {
    if F32Tile::Avx512.runs_on(features) {
        MatmulKernel::PackedF32(F32Tile::Avx512)
    } else if F32Tile::Avx2.runs_on(features) {
        MatmulKernel::PackedF32(F32Tile::Avx2)
    } else {
        MatmulKernel::Gemm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_once_with_ordinals() {
        assert_eq!("cuda".parse::<Device>().unwrap(), Device::Cuda(0));
        assert_eq!("cuda:1".parse::<Device>().unwrap(), Device::Cuda(1));
        assert_eq!("CPU".parse::<Device>().unwrap(), Device::Cpu);
        assert_eq!("auto".parse::<Device>().unwrap(), Device::Auto);
        assert!("cuda:x".parse::<Device>().is_err());
        assert!("gpu".parse::<Device>().is_err());
        assert_eq!(Device::Cuda(0).to_string(), "cuda:0");
    }

    #[test]
    fn dtypes_parse_and_print() {
        for d in [DType::Auto, DType::F32, DType::F16, DType::Bf16] {
            assert_eq!(d.as_str().parse::<DType>().unwrap(), d);
        }
        assert!("f64".parse::<DType>().is_err());
        assert_eq!(DType::default(), DType::Auto);
    }

    #[test]
    fn auto_picks_bf16_only_where_the_cpu_has_it() {
        let avx2 = CpuFeatures {
            avx2_fma: true,
            ..CpuFeatures::none()
        };
        let bf16 = CpuFeatures {
            avx2_fma: true,
            avx512f: true,
            avx512bf16: true,
        };
        let p = Plan::choose(None, DType::Auto, avx2, None, false);
        assert_eq!(p.dtype, DType::F32);
        assert_eq!(
            p.engine,
            Engine::Cpu(MatmulKernel::PackedF32(F32Tile::Avx2))
        );
        let p = Plan::choose(None, DType::Auto, bf16, Some(1.6), false);
        assert_eq!(p.dtype, DType::Bf16);
        assert_eq!(p.engine, Engine::Cpu(MatmulKernel::Bf16));
        // Where bf16 measured no faster than f32 (or was not measured), auto stays exact.
        for speedup in [Some(0.6), Some(1.05), None] {
            let p = Plan::choose(None, DType::Auto, bf16, speedup, false);
            assert_eq!(
                (p.dtype, p.engine),
                (
                    DType::F32,
                    Engine::Cpu(MatmulKernel::PackedF32(F32Tile::Avx512))
                ),
                "{speedup:?}"
            );
        }
        // Asked for by name, bf16 runs whatever the measurement.
        let p = Plan::choose(None, DType::Bf16, bf16, Some(0.6), false);
        assert_eq!(p.dtype, DType::Bf16);
        // f32 stays f32 (exact parity) everywhere, on the 512-bit tile where the CPU has it.
        let p = Plan::choose(None, DType::F32, bf16, Some(1.6), false);
        assert_eq!(
            (p.dtype, p.engine),
            (
                DType::F32,
                Engine::Cpu(MatmulKernel::PackedF32(F32Tile::Avx512))
            )
        );
        let p = Plan::choose(None, DType::Bf16, avx2, None, false);
        assert_eq!(p.dtype, DType::F32);
        assert!(p.note.is_some());
        let p = Plan::choose(None, DType::F32, CpuFeatures::none(), None, false);
        assert_eq!(p.engine, Engine::Cpu(MatmulKernel::Gemm));
        let p = Plan::choose(Some(GpuKind::Cuda), DType::Auto, avx2, None, false);
        assert_eq!((p.dtype, p.engine), (DType::F16, Engine::Candle));
        let p = Plan::choose(Some(GpuKind::Cuda), DType::F32, avx2, None, false);
        assert_eq!(p.dtype, DType::F32);
        let p = Plan::choose(None, DType::F16, avx2, None, false);
        assert_eq!(p.engine, Engine::Candle);
    }

    #[test]
    fn avx512_without_avx2_gets_neither_512_bit_kernel() {
        // The 512-bit kernels are compiled with AVX2+FMA enabled too (issue 25): a CPU that
        // reports AVX-512 F (and BF16) without them gets the portable path and plain `gemm`.
        let odd = CpuFeatures {
            avx512f: true,
            avx2_fma: false,
            avx512bf16: true,
        };
        assert_eq!(f32_kernel(odd), MatmulKernel::Gemm);
        let p = Plan::choose(None, DType::Auto, odd, Some(1.6), false);
        assert_eq!(
            (p.dtype, p.engine),
            (DType::F32, Engine::Cpu(MatmulKernel::Gemm))
        );
        let p = Plan::choose(None, DType::Bf16, odd, None, false);
        assert_eq!(p.dtype, DType::F32);
        assert!(p.note.is_some());
        let avx512 = CpuFeatures {
            avx2_fma: true,
            avx512f: true,
            avx512bf16: false,
        };
        assert_eq!(f32_kernel(avx512), MatmulKernel::PackedF32(F32Tile::Avx512));
        assert_eq!(
            Plan::choose(None, DType::Auto, avx512, None, false).engine,
            Engine::Cpu(MatmulKernel::PackedF32(F32Tile::Avx512))
        );
    }
}
