//! A small wrapper over `hnsw_rs` that knows nothing about SQLite: build a graph from vectors
//! with caller-chosen ids, search it (optionally filtered), save it with checksums and load it
//! back only after the checksums prove the files are the ones we wrote.
//!
//! It designs around the known `hnsw_rs` 0.3 pitfalls: [`DistUnitCosine`] clamps `1 - dot` at 0
//! instead of asserting (`DistDot` panics when rounding pushes a dot product above 1); the
//! reload path trusts every length it reads and asserts on bad bytes, so files are verified
//! (checksums, then their whole structure: `hnsw_files.rs`) before it runs and it runs
//! under `catch_unwind`; a reloaded graph borrows its `HnswIo`, which we leak (a few hundred bytes, no
//! memory map) so the graph can live on its own; there is no deletion, so callers filter
//! tombstones at search time and rebuild when they pile up. The local store
//! ([`crate::store::local`]) and `simsum bench` both use it.
//!
//! `hnsw_rs` builds and updates the graph; searches walk [`FlatGraph`], a copy of the same graph
//! in flat arrays (see [`super::flat`]), saved next to the `hnsw_rs` files as `graph.flat`. A
//! search process loads only that file ([`load_flat`]); a writer loads the `hnsw_rs` files
//! ([`HnswGraph::load`]) to insert into them.
//!
//! The `hnsw_rs` in use is 0.3.5 with two patches, vendored in `vendor/hnsw_rs` (see its
//! PATCHES.md): its layer search, which every insertion runs, walks the graph without an
//! allocation and shared reference count per visited point (index builds about 40% faster), and
//! a full neighbour list is shrunk with the selection heuristic, as in the HNSW paper and
//! hnswlib, instead of by dropping its farthest entry (higher recall at each ef).

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::prelude::{AnnT, Hnsw, HnswIo};
use serde::{Deserialize, Serialize};

pub use super::flat::FlatGraph;
pub use crate::store::local::layout::HnswParams;

/// `1 - a.b` for L2-normalised vectors, clamped at 0 so rounding can never make it negative.
#[derive(Debug, Clone, Copy, Default)]
pub struct DistUnitCosine;

impl Distance<f32> for DistUnitCosine {
    fn eval(&self, va: &[f32], vb: &[f32]) -> f32 {
        (1.0 - crate::embed::dot(va, vb)).max(0.0)
    }
}

/// Errors loading or saving a graph. Every variant names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: graph is invalid: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

const BASENAME: &str = "graph";
const STAMP_FILE: &str = "graph.json";
const STAMP_VERSION: u32 = 2;
const FLAT_FILE: &str = "graph.flat";

/// What a saved graph says about itself (`graph.json`), written after its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphStamp {
    pub stamp_version: u32,
    /// Free-form tag of what the graph was built from (the index stores its database generation).
    pub source_tag: u64,
    pub points: usize,
    pub dimension: usize,
    pub params: HnswParams,
    /// (file name, byte length, crc32) of each `hnsw_rs` file.
    pub files: Vec<(String, u64, u32)>,
}

/// An HNSW graph over L2-normalised `f32` vectors, searched by cosine similarity.
pub struct HnswGraph {
    inner: Hnsw<'static, f32, DistUnitCosine>,
    /// The same graph in flat arrays: what searches walk (made on first use after a change).
    flat: std::sync::OnceLock<FlatGraph>,
    params: HnswParams,
    dim: usize,
    ids: HashSet<usize>,
}

impl std::fmt::Debug for HnswGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HnswGraph")
            .field("points", &self.ids.len())
            .field("dim", &self.dim)
            .field("params", &self.params)
            .finish()
    }
}

impl HnswGraph {
    /// Builds a graph over `vectors` (ids `0..n`), inserting in parallel on the rayon pool.
    pub fn build(vectors: &[Vec<f32>], params: HnswParams) -> Self {
        let items: Vec<(&[f32], usize)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_slice(), i))
            .collect();
        Self::build_with_ids(&items, params)
    }

    /// Builds a graph over `(vector, id)` pairs; ids are what searches return.
    pub fn build_with_ids(items: &[(&[f32], usize)], params: HnswParams) -> Self {
        let dim = items.first().map_or(0, |(v, _)| v.len());
        let inner = Hnsw::new(
            params.m.clamp(2, 255),
            items.len().max(1),
            16,
            params.ef_construction.max(params.m),
            DistUnitCosine,
        );
        let mut g = Self {
            inner,
            flat: std::sync::OnceLock::new(),
            params,
            dim,
            ids: HashSet::with_capacity(items.len()),
        };
        g.insert(items);
        g
    }

    /// Adds `(vector, id)` pairs to the graph (ids must be new).
    pub fn insert(&mut self, items: &[(&[f32], usize)]) {
        if items.is_empty() {
            return;
        }
        if self.dim == 0 {
            self.dim = items[0].0.len();
        }
        self.inner.set_searching_mode(false);
        let batch: Vec<(&[f32], usize)> = items.to_vec();
        self.inner.parallel_insert_slice(&batch);
        self.inner.set_searching_mode(true);
        self.ids.extend(items.iter().map(|(_, id)| *id));
        self.flat = std::sync::OnceLock::new();
    }

    /// The graph in flat arrays, as searches walk it.
    pub fn flat(&self) -> &FlatGraph {
        self.flat
            .get_or_init(|| FlatGraph::from_hnsw(&self.inner, self.dim))
    }

    /// Keeps only the flat search copy (drops the `hnsw_rs` structure).
    pub fn into_flat(self) -> FlatGraph {
        self.flat();
        self.flat.into_inner().unwrap_or_default()
    }

    /// Number of points in the graph.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the graph has no points.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether `id` is a point of the graph.
    pub fn contains(&self, id: usize) -> bool {
        self.ids.contains(&id)
    }

    /// The ids of all points.
    pub fn ids(&self) -> impl Iterator<Item = usize> + '_ {
        self.ids.iter().copied()
    }

    /// The `k` nearest points to `query` as `(id, cosine)`, best first; `ef` is raised to `k`.
    pub fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<(usize, f32)> {
        self.search_filtered(query, k, ef, None)
    }

    /// Like [`Self::search`], keeping only ids for which `keep` returns true.
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        keep: Option<&dyn Fn(usize) -> bool>,
    ) -> Vec<(usize, f32)> {
        self.flat().search(query, k, ef, keep)
    }

    /// `hnsw_rs`'s own search over the same graph (the flat search is checked against it).
    #[cfg(test)]
    pub(crate) fn search_hnsw_rs(&self, query: &[f32], k: usize, ef: usize) -> Vec<(usize, f32)> {
        if k == 0 || self.is_empty() || query.len() != self.dim {
            return Vec::new();
        }
        let found = self.inner.search(query, k, ef.max(k));
        let mut out: Vec<(usize, f32)> = found
            .into_iter()
            .map(|n| (n.d_id, 1.0 - n.distance))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        out
    }

    /// Writes the graph into `dir` (created if needed): the `hnsw_rs` files, then `graph.json`
    /// with their checksums. Callers write into a fresh folder and rename it into place.
    pub fn save(&self, dir: &Path, source_tag: u64) -> Result<GraphStamp, GraphError> {
        let io = |source| GraphError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let name = self
            .inner
            .file_dump(dir, BASENAME)
            .map_err(|e| GraphError::Invalid {
                path: dir.to_path_buf(),
                reason: format!("could not write graph: {e}"),
            })?;
        if name != BASENAME {
            return Err(GraphError::Invalid {
                path: dir.to_path_buf(),
                reason: format!("graph files already present (got basename `{name}`)"),
            });
        }
        self.flat().save(&dir.join(FLAT_FILE))?;
        let mut files = Vec::new();
        for file in [
            format!("{BASENAME}.hnsw.graph"),
            format!("{BASENAME}.hnsw.data"),
            FLAT_FILE.to_string(),
        ] {
            let path = dir.join(&file);
            let (len, crc) = checksum(&path)?;
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|source| GraphError::Io {
                    path: path.clone(),
                    source,
                })?;
            files.push((file, len, crc));
        }
        let stamp = GraphStamp {
            stamp_version: STAMP_VERSION,
            source_tag,
            points: self.len(),
            dimension: self.dim,
            params: self.params,
            files,
        };
        let json = serde_json::to_vec_pretty(&stamp).expect("stamp serialises");
        let stamp_path = dir.join(STAMP_FILE);
        crate::store::local::files::write_atomic(&stamp_path, &json).map_err(|source| {
            GraphError::Io {
                path: stamp_path,
                source,
            }
        })?;
        Ok(stamp)
    }

    /// Reads only the stamp of a saved graph.
    pub fn read_stamp(dir: &Path) -> Result<GraphStamp, GraphError> {
        let path = dir.join(STAMP_FILE);
        let bytes = std::fs::read(&path).map_err(|source| GraphError::Io {
            path: path.clone(),
            source,
        })?;
        let stamp: GraphStamp =
            serde_json::from_slice(&bytes).map_err(|e| GraphError::Invalid {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if stamp.stamp_version != STAMP_VERSION {
            return Err(GraphError::Invalid {
                path,
                reason: format!(
                    "stamp version {} is not {STAMP_VERSION}",
                    stamp.stamp_version
                ),
            });
        }
        Ok(stamp)
    }

    /// Loads a graph saved by [`Self::save`] after checking every file against the stamp's
    /// lengths and checksums; any mismatch (or a panic inside `hnsw_rs`) is an error, never a
    /// crash, so callers can rebuild.
    pub fn load(dir: &Path) -> Result<(Self, GraphStamp), GraphError> {
        let stamp = verify(dir)?;
        // A checksum proves only that the files are the ones the stamp lists; `hnsw_rs` trusts
        // every length it reads, so the files' structure is checked first.
        super::hnsw_files::check(
            &dir.join(format!("{BASENAME}.hnsw.graph")),
            &dir.join(format!("{BASENAME}.hnsw.data")),
            super::hnsw_files::Expect {
                points: stamp.points,
                dimension: stamp.dimension,
                distance: "DistUnitCosine",
            },
        )?;
        let invalid = |reason: String| GraphError::Invalid {
            path: dir.to_path_buf(),
            reason,
        };
        // The loaded graph borrows its reader; leaking the small reader makes the graph 'static.
        let reader: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, BASENAME)));
        let mut slot = Some(reader);
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let reader: &'static mut HnswIo = slot.take().expect("called once");
            reader.load_hnsw::<f32, DistUnitCosine>()
        }))
        .map_err(|_| invalid("hnsw_rs panicked while reading the graph".into()))?
        .map_err(|e| invalid(format!("hnsw_rs could not read the graph: {e}")))?;
        let mut inner = loaded;
        inner.set_searching_mode(true);
        let ids: HashSet<usize> = inner
            .get_point_indexation()
            .into_iter()
            .map(|p| p.get_origin_id())
            .collect();
        if ids.len() != stamp.points || inner.get_nb_point() != stamp.points {
            return Err(invalid(format!(
                "holds {} points, its stamp says {}",
                ids.len(),
                stamp.points
            )));
        }
        let g = Self {
            inner,
            flat: std::sync::OnceLock::new(),
            params: stamp.params,
            dim: stamp.dimension,
            ids,
        };
        Ok((g, stamp))
    }
}

/// Reads the stamp of a saved graph and checks every file it lists against its length and
/// checksum: `Ok` means the graph's files are the ones [`HnswGraph::save`] wrote.
pub fn verify(dir: &Path) -> Result<GraphStamp, GraphError> {
    let stamp = HnswGraph::read_stamp(dir)?;
    for (file, len, crc) in &stamp.files {
        let path = dir.join(file);
        let (l, c) = checksum(&path)?;
        if (l, c) != (*len, *crc) {
            return Err(GraphError::Invalid {
                path,
                reason: format!(
                    "checksum mismatch ({l} bytes, crc {c:08x}; expected {len} bytes, crc {crc:08x})"
                ),
            });
        }
    }
    Ok(stamp)
}

/// Loads only the flat search copy of a graph saved by [`HnswGraph::save`] (the `hnsw_rs` files
/// are left alone: a search process never needs them), checked against the stamp's length and
/// checksum and point count.
pub fn load_flat(dir: &Path) -> Result<(FlatGraph, GraphStamp), GraphError> {
    let stamp = HnswGraph::read_stamp(dir)?;
    let path = dir.join(FLAT_FILE);
    let invalid = |reason: String| GraphError::Invalid {
        path: path.clone(),
        reason,
    };
    let Some((_, len, crc)) = stamp.files.iter().find(|(f, _, _)| f == FLAT_FILE) else {
        return Err(invalid("the graph's stamp does not list it".into()));
    };
    let (g, (l, c)) = FlatGraph::load(&path)?;
    if (l, c) != (*len, *crc) {
        return Err(invalid(format!(
            "checksum mismatch ({l} bytes, crc {c:08x}; expected {len} bytes, crc {crc:08x})"
        )));
    }
    if g.len() != stamp.points || g.dim() != stamp.dimension {
        return Err(invalid(format!(
            "holds {} points of dimension {}, its stamp says {} of {}",
            g.len(),
            g.dim(),
            stamp.points,
            stamp.dimension
        )));
    }
    Ok((g, stamp))
}

fn checksum(path: &Path) -> Result<(u64, u32), GraphError> {
    let io = |source| GraphError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    Ok((len, h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        (0..n)
            .map(|_| {
                let mut v: Vec<f32> = (0..dim).map(|_| next()).collect();
                crate::embed::normalize(&mut v);
                v
            })
            .collect()
    }

    #[test]
    fn every_point_is_reachable_from_its_own_vector() {
        let vs = random_unit_vectors(3000, 32, 7);
        let g = HnswGraph::build(&vs, HnswParams::default());
        let orphans = (0..vs.len())
            .filter(|&i| g.search(&vs[i], 1, 64)[0].0 != i)
            .count();
        assert_eq!(orphans, 0, "{orphans} unreachable points");
    }

    #[test]
    fn save_load_round_trip_and_corruption_is_an_error() {
        let vs = random_unit_vectors(500, 16, 3);
        let g = HnswGraph::build(&vs, HnswParams::default());
        let dir = tempfile::tempdir().unwrap();
        g.save(dir.path(), 42).unwrap();
        let (h, stamp) = HnswGraph::load(dir.path()).unwrap();
        assert_eq!(stamp.source_tag, 42);
        assert_eq!(h.len(), 500);
        assert_eq!(h.search(&vs[10], 3, 64), g.search(&vs[10], 3, 64));
        let data = dir.path().join("graph.hnsw.graph");
        let mut bytes = std::fs::read(&data).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&data, bytes).unwrap();
        assert!(matches!(
            HnswGraph::load(dir.path()),
            Err(GraphError::Invalid { .. })
        ));
    }

    #[test]
    fn filtered_search_keeps_only_allowed_ids() {
        let vs = random_unit_vectors(800, 16, 5);
        let g = HnswGraph::build(&vs, HnswParams::default());
        let keep = |id: usize| id.is_multiple_of(2);
        let hits = g.search_filtered(&vs[3], 10, 64, Some(&keep));
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|(id, _)| id.is_multiple_of(2)));
    }

    /// The vendored `hnsw_rs` (vendor/hnsw_rs/PATCHES.md) rewrites the layer search that both
    /// its insertion and its own queries use: its queries, plain and filtered, must still find
    /// the exact neighbours, on a graph its patched insertion built.
    #[test]
    fn patched_hnsw_rs_search_finds_exact_neighbours() {
        let vs = random_unit_vectors(3000, 24, 17);
        let qs = random_unit_vectors(100, 24, 18);
        let g = HnswGraph::build(&vs, HnswParams::default());
        let exact = |q: &[f32], keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
            let mut s: Vec<(usize, f32)> = (0..vs.len())
                .filter(|&i| keep(i))
                .map(|i| (i, crate::embed::dot(q, &vs[i])))
                .collect();
            s.sort_by(|a, b| b.1.total_cmp(&a.1));
            s.into_iter().take(10).map(|(i, _)| i).collect()
        };
        let (mut hits, mut hits_filtered) = (0, 0);
        for q in &qs {
            let truth = exact(q, &|_| true);
            let found: Vec<usize> = g.search_hnsw_rs(q, 10, 64).iter().map(|h| h.0).collect();
            hits += found.iter().filter(|i| truth.contains(i)).count();
            let keep = |id: &usize| id.is_multiple_of(3);
            let truth = exact(q, &|i| i.is_multiple_of(3));
            let found = g.inner.search_filter(q, 10, 64, Some(&keep));
            assert_eq!(found.len(), 10);
            assert!(
                found.iter().all(|n| n.d_id.is_multiple_of(3)),
                "filter not applied"
            );
            hits_filtered += found.iter().filter(|n| truth.contains(&n.d_id)).count();
        }
        let total = (qs.len() * 10) as f64;
        assert!(
            hits as f64 / total >= 0.97,
            "recall {}",
            hits as f64 / total
        );
        assert!(
            hits_filtered as f64 / total >= 0.95,
            "filtered recall {}",
            hits_filtered as f64 / total
        );
    }
}
