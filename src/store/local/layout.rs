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

pub use crate::store::EXACT_THRESHOLD;

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
    let mut v = vec![0f32; dim];
    decode_vector_into(bytes, &mut v).then_some(v)
}

/// Decodes a stored vector into `out`; false (and `out` unchanged) when the blob does not
/// hold exactly `out.len()` floats.
pub fn decode_vector_into(bytes: &[u8], out: &mut [f32]) -> bool {
    if bytes.len() != out.len() * 4 {
        return false;
    }
    for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    true
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
}
