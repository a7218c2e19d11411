//! The format of an index directory and every tunable of the vector search, in one place:
//! format versions, how vectors are stored, the HNSW parameters and the size below which search
//! is exact. The local store, the HNSW wrapper and `simsum bench` all read their defaults from
//! here; file names and how files are written belong to [`super::files`].

use serde::{Deserialize, Serialize};

/// Version of the index directory format this build writes.
pub const FORMAT_VERSION: u32 = 1;
/// Oldest index format this build can read.
pub const OLDEST_READABLE_FORMAT: u32 = 1;

/// Similarity used everywhere: cosine of L2-normalised vectors (a dot product).
pub const METRIC: &str = "cosine";
/// How a vector is stored in the database: `dim` little-endian IEEE-754 f32s, no header.
pub const VECTOR_ENCODING: &str = "f32-le";

/// Levels with fewer live items than this are searched exactly (brute force): below it a scan of
/// all vectors costs about what one HNSW query does, and is exact. Measured here (one core,
/// 384-d; `cargo bench --bench index -- search` times both at 20k): a scan costs about 30 ns per
/// item (10k items: 0.31 ms; 20k: 1.3 ms once the vectors leave the cache), against about
/// 0.26 ms per HNSW query on real sentence embeddings (hnswlib's 3,900 queries/s at recall
/// 0.985). Random vectors are a worst case for HNSW (1.7 ms per query at 10k) and were not used
/// to set this.
pub const EXACT_THRESHOLD: usize = 10_000;

/// When deleted or replaced items ("tombstones") make up more than this share of a graph's
/// points, the graph is rebuilt from the stored vectors instead of updated.
pub const COMPACT_TOMBSTONE_RATIO: f64 = 0.2;

/// HNSW construction and search parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HnswParams {
    /// Links per node on the upper layers (the base layer keeps 2*M), like hnswlib's `M`.
    pub m: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
    /// Default candidate list size while searching (raised to `k` when smaller).
    pub ef_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 200,
            ef_search: 128,
        }
    }
}

/// Encodes a vector as stored in the database ([`VECTOR_ENCODING`]).
pub fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Decodes a stored vector; `None` when the blob does not hold exactly `dim` floats.
pub fn decode_vector(bytes: &[u8], dim: usize) -> Option<Vec<f32>> {
    if bytes.len() != dim * 4 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// Dot product of two equally long vectors, using AVX2 and FMA when the CPU has them.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { dot_fma(a, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

/// Four independent 8-lane fused multiply-add chains, then the tail one by one.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    // SAFETY: every load reads 8 floats starting at an index + 8 <= n of both slices.
    unsafe {
        while i + 32 <= n {
            for (k, slot) in acc.iter_mut().enumerate() {
                let x = _mm256_loadu_ps(pa.add(i + 8 * k));
                let y = _mm256_loadu_ps(pb.add(i + 8 * k));
                *slot = _mm256_fmadd_ps(x, y, *slot);
            }
            i += 32;
        }
        while i + 8 <= n {
            acc[0] = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i)),
                _mm256_loadu_ps(pb.add(i)),
                acc[0],
            );
            i += 8;
        }
        let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), v);
        let mut s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
            + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
        while i < n {
            s += a[i] * b[i];
            i += 1;
        }
        s
    }
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_portable(a, b)
}

/// Sixteen independent accumulators let the compiler keep two or four SIMD registers busy.
#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_bad_lengths_are_rejected() {
        let v = vec![0.5f32, -1.25, 3.0];
        assert_eq!(decode_vector(&encode_vector(&v), 3).unwrap(), v);
        assert!(decode_vector(&encode_vector(&v), 4).is_none());
    }

    #[test]
    fn fast_dot_matches_naive_dot() {
        for n in [0usize, 1, 7, 8, 9, 31, 32, 33, 37, 384, 385] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let close = |v: f32| (v as f64 - exact).abs() < 1e-4;
            assert!(close(dot(&a, &b)), "n = {n}");
            assert!(close(dot_portable(&a, &b)), "n = {n}");
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is present.
                    assert!(close(unsafe { dot_avx2(&a, &b) }), "n = {n}");
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: AVX2 and FMA are present.
                    assert!(close(unsafe { dot_fma(&a, &b) }), "n = {n}");
                }
            }
        }
    }
}
