//! The search side of an HNSW graph: a compact copy of a graph built by `hnsw_rs`, laid out in
//! flat arrays (vectors contiguous, base-layer links in fixed-width rows, upper layers apart) and
//! searched with a reusable visited list, plain binary heaps and prefetching.
//!
//! `hnsw_rs` builds the graph and is its mutable, persistent form ([`super::hnsw::HnswGraph`]);
//! its own search reaches each neighbour through three pointers, an `Arc` count and a hash map,
//! which made queries about 2.5x slower than hnswlib's at the same recall. The same graph walked
//! here answers the same queries with the same results (same greedy descent, same `ef` search on
//! the base layer; a test checks recall against `hnsw_rs`'s search) in a fraction of the time and
//! memory: a search process loads only this (`graph.flat`), never the `hnsw_rs` structure.
//!
//! File format (little-endian), checksummed by the graph's stamp: magic `SIMSUMFG`, version,
//! dim, points, base width, upper width, max level, entry point; then ids (u64), levels (u8),
//! vectors (f32, points x dim), base links (u32, points x (1 + base width): count, then links),
//! upper offsets (u32 per point, `u32::MAX` for base-only points) and upper links (u32 rows of
//! 1 + upper width per layer above the base). Every link is validated on load.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use hnsw_rs::prelude::Hnsw;

use super::hnsw::{DistUnitCosine, GraphError};
use crate::embed::dot;

const MAGIC: &[u8; 8] = b"SIMSUMFG";
const VERSION: u32 = 1;
const NONE: u32 = u32::MAX;
/// Widest vector a file may declare (wider than any sentence model's).
const MAX_DIM: u64 = 1 << 16;

/// An HNSW graph in flat arrays, ready to search by cosine similarity.
#[derive(Clone, PartialEq, Default)]
pub struct FlatGraph {
    dim: usize,
    /// Caller ids by dense position.
    ids: Vec<usize>,
    /// Top layer of each point.
    levels: Vec<u8>,
    /// `points x dim` unit vectors.
    vectors: Vec<f32>,
    base_width: usize,
    /// `points x (1 + base_width)`: count, then dense neighbour positions.
    base: Vec<u32>,
    upper_width: usize,
    /// Where a point's upper-layer rows start in `upper`, or [`NONE`].
    upper_offset: Vec<u32>,
    /// For each point with upper layers, `level` rows of `1 + upper_width` (layers 1..=level).
    upper: Vec<u32>,
    entry: u32,
    max_level: usize,
}

impl std::fmt::Debug for FlatGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlatGraph")
            .field("points", &self.ids.len())
            .field("dim", &self.dim)
            .field("max_level", &self.max_level)
            .finish()
    }
}

/// A distance (`1 - cosine`) and a dense position, ordered by distance then position.
#[derive(Clone, Copy, PartialEq)]
struct Cand(f32, u32);

impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// Per-thread visited marks, reset by bumping an epoch instead of clearing.
struct Visited {
    marks: Vec<u16>,
    epoch: u16,
}

thread_local! {
    static VISITED: RefCell<Visited> = const { RefCell::new(Visited { marks: Vec::new(), epoch: 0 }) };
}

impl Visited {
    fn start(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.fill(0);
            self.epoch = 1;
        }
    }

    /// Marks `i`; true when it was not marked yet in this search.
    #[inline]
    fn insert(&mut self, i: u32) -> bool {
        let m = &mut self.marks[i as usize];
        if *m == self.epoch {
            false
        } else {
            *m = self.epoch;
            true
        }
    }
}

/// Asks for the `bytes` starting at `p` to be brought into cache.
#[inline(always)]
fn prefetch(p: *const f32, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = p as *const i8;
        for line in (0..bytes).step_by(64) {
            // SAFETY: prefetching is a hint; any address is allowed and nothing is read.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch(p.wrapping_add(line), _MM_HINT_T0);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, bytes);
}

impl FlatGraph {
    /// Copies the graph `hnsw_rs` built (its points, links on every layer and entry point).
    pub fn from_hnsw(h: &Hnsw<'static, f32, DistUnitCosine>, dim: usize) -> Self {
        if h.get_nb_point() == 0 {
            // `hnsw_rs`'s point iterator panics on an empty graph.
            return Self {
                dim,
                ..Self::default()
            };
        }
        let pi = h.get_point_indexation();
        let points: Vec<_> = pi.into_iter().collect();
        let n = points.len();
        let dense: HashMap<(u8, i32), u32> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let pid = p.get_point_id();
                ((pid.0, pid.1), i as u32)
            })
            .collect();
        let hoods: Vec<Vec<Vec<u32>>> = points
            .iter()
            .map(|p| {
                p.get_neighborhood_id()
                    .into_iter()
                    .map(|layer| {
                        layer
                            .iter()
                            .filter_map(|nb| dense.get(&(nb.p_id.0, nb.p_id.1)).copied())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let levels: Vec<u8> = points.iter().map(|p| p.get_point_id().0).collect();
        let base_width = hoods
            .iter()
            .map(|h| h.first().map_or(0, |l| l.len()))
            .max()
            .unwrap_or(0);
        let upper_width = hoods
            .iter()
            .flat_map(|h| h.iter().skip(1).map(|l| l.len()))
            .max()
            .unwrap_or(0);
        let mut vectors = Vec::with_capacity(n * dim);
        for p in &points {
            vectors.extend_from_slice(p.get_v());
        }
        let mut base = vec![0u32; n * (1 + base_width)];
        let mut upper_offset = vec![NONE; n];
        let mut upper = Vec::new();
        for (i, h) in hoods.iter().enumerate() {
            let row = &mut base[i * (1 + base_width)..(i + 1) * (1 + base_width)];
            let l0 = h.first().map_or(&[][..], |l| l.as_slice());
            row[0] = l0.len() as u32;
            row[1..1 + l0.len()].copy_from_slice(l0);
            if levels[i] > 0 {
                upper_offset[i] = upper.len() as u32;
                for layer in 1..=levels[i] as usize {
                    let links = h.get(layer).map_or(&[][..], |l| l.as_slice());
                    upper.push(links.len() as u32);
                    upper.extend_from_slice(links);
                    upper.extend(std::iter::repeat_n(0, upper_width - links.len()));
                }
            }
        }
        let max_level = levels.iter().copied().max().unwrap_or(0) as usize;
        let entry = levels
            .iter()
            .position(|&l| l as usize == max_level)
            .map_or(0, |i| i as u32);
        Self {
            dim,
            ids: points.iter().map(|p| p.get_origin_id()).collect(),
            levels,
            vectors,
            base_width,
            base,
            upper_width,
            upper_offset,
            upper,
            entry,
            max_level,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the graph has no points.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The caller ids of all points.
    pub fn ids(&self) -> &[usize] {
        &self.ids
    }

    /// Bytes held by the graph's arrays.
    pub fn heap_bytes(&self) -> usize {
        self.ids.len() * 8
            + self.levels.len()
            + self.vectors.len() * 4
            + (self.base.len() + self.upper_offset.len() + self.upper.len()) * 4
    }

    #[inline]
    fn vector(&self, i: u32) -> &[f32] {
        let s = i as usize * self.dim;
        &self.vectors[s..s + self.dim]
    }

    #[inline]
    fn dist(&self, q: &[f32], i: u32) -> f32 {
        1.0 - dot(q, self.vector(i))
    }

    fn base_links(&self, i: u32) -> &[u32] {
        let row = &self.base[i as usize * (1 + self.base_width)..];
        &row[1..1 + row[0] as usize]
    }

    fn upper_links(&self, i: u32, layer: usize) -> &[u32] {
        let off = self.upper_offset[i as usize];
        if off == NONE || layer == 0 || layer > self.levels[i as usize] as usize {
            return &[];
        }
        let row = &self.upper[off as usize + (layer - 1) * (1 + self.upper_width)..];
        &row[1..1 + row[0] as usize]
    }

    /// The `k` nearest points to `query` as `(id, cosine)`, best first, among those `keep`
    /// accepts (all when `None`); `ef` (raised to `k`) is the base layer's candidate list.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        keep: Option<&dyn Fn(usize) -> bool>,
    ) -> Vec<(usize, f32)> {
        if k == 0 || self.is_empty() || query.len() != self.dim {
            return Vec::new();
        }
        let ef = ef.max(k);
        // Greedy descent through the upper layers.
        let mut cur = self.entry;
        let mut cur_d = self.dist(query, cur);
        for layer in (1..=self.max_level).rev() {
            loop {
                let mut moved = false;
                for &nb in self.upper_links(cur, layer) {
                    let d = self.dist(query, nb);
                    if d < cur_d {
                        (cur, cur_d) = (nb, d);
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        let accepts = |i: u32| keep.is_none_or(|f| f(self.ids[i as usize]));
        let found = VISITED.with(|v| {
            let mut visited = v.borrow_mut();
            visited.start(self.len());
            visited.insert(cur);
            let mut candidates = BinaryHeap::with_capacity(ef * 4);
            let mut results: BinaryHeap<Cand> = BinaryHeap::with_capacity(ef + 1);
            candidates.push(std::cmp::Reverse(Cand(cur_d, cur)));
            if accepts(cur) {
                results.push(Cand(cur_d, cur));
            }
            let mut bound = results.peek().map_or(f32::INFINITY, |c| c.0);
            let mut fresh: Vec<u32> = Vec::with_capacity(self.base_width);
            while let Some(std::cmp::Reverse(Cand(d, c))) = candidates.pop() {
                if d > bound && results.len() >= ef {
                    break;
                }
                fresh.clear();
                fresh.extend(
                    self.base_links(c)
                        .iter()
                        .copied()
                        .filter(|&nb| visited.insert(nb)),
                );
                // The first lines of every new neighbour at once (their misses overlap), the
                // rest of each vector one neighbour ahead of its distance.
                for &nb in &fresh {
                    prefetch(self.vectors[nb as usize * self.dim..].as_ptr(), 128);
                }
                for (j, &nb) in fresh.iter().enumerate() {
                    if let Some(&next) = fresh.get(j + 1) {
                        prefetch(
                            self.vectors[next as usize * self.dim..].as_ptr(),
                            self.dim * 4,
                        );
                    }
                    let dn = self.dist(query, nb);
                    if results.len() < ef || dn < bound {
                        candidates.push(std::cmp::Reverse(Cand(dn, nb)));
                        if accepts(nb) {
                            results.push(Cand(dn, nb));
                            if results.len() > ef {
                                results.pop();
                            }
                        }
                        if let Some(top) = results.peek() {
                            bound = top.0;
                        }
                    }
                }
            }
            results.into_sorted_vec()
        });
        found
            .into_iter()
            .take(k)
            .map(|Cand(d, i)| (self.ids[i as usize], 1.0 - d))
            .collect()
    }

    /// Writes the graph to `path`.
    pub fn save(&self, path: &Path) -> Result<(), GraphError> {
        let io = |source| GraphError::Io {
            path: path.to_path_buf(),
            source,
        };
        let f = std::fs::File::create(path).map_err(io)?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let header = [
            VERSION as u64,
            self.dim as u64,
            self.len() as u64,
            self.base_width as u64,
            self.upper_width as u64,
            self.max_level as u64,
            self.entry as u64,
            self.upper.len() as u64,
        ];
        let mut put = |bytes: &[u8]| w.write_all(bytes).map_err(io);
        put(MAGIC)?;
        for h in header {
            put(&h.to_le_bytes())?;
        }
        let ids: Vec<u64> = self.ids.iter().map(|&i| i as u64).collect();
        put(as_bytes(&ids))?;
        put(&self.levels)?;
        put(as_bytes(&self.vectors))?;
        put(as_bytes(&self.base))?;
        put(as_bytes(&self.upper_offset))?;
        put(as_bytes(&self.upper))?;
        let f = w.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)
    }

    /// Reads a graph written by [`Self::save`], checking every count and link so that a
    /// damaged file is an error, never a wrong answer or a crash. Returns the graph and the
    /// file's (length, crc32).
    pub fn load(path: &Path) -> Result<(Self, (u64, u32)), GraphError> {
        let io = |source| GraphError::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |reason: String| GraphError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut r = Reader {
            inner: std::io::BufReader::with_capacity(1 << 20, file),
            crc: crc32fast::Hasher::new(),
        };
        let mut magic = [0u8; 8];
        r.fill(&mut magic).map_err(io)?;
        if &magic != MAGIC {
            return Err(invalid("not a simsum flat graph (bad magic)".into()));
        }
        let mut header = [0u64; 8];
        r.fill(as_bytes_mut(&mut header)).map_err(io)?;
        let [version, dim, n, bw, uw, max_level, entry, upper_len] = header.map(u64::from_le);
        if version != VERSION as u64 {
            return Err(invalid(format!(
                "flat graph version {version} is not {VERSION}"
            )));
        }
        // The arrays must add up to the file's length before anything is allocated.
        // Every count is bounded first, so the sum cannot overflow (a fuzzed header with a
        // huge n and dim once did, in u128).
        let bounded = n <= u32::MAX as u64
            && dim <= MAX_DIM
            && bw <= 1024
            && uw <= 1024
            && upper_len <= u64::MAX / 8;
        let need = bounded.then(|| {
            8u128 * 9
                + n as u128 * (8 + 1 + 4 * dim as u128 + 4 * (1 + bw as u128) + 4)
                + 4 * upper_len as u128
        });
        if need != Some(file_len as u128) {
            return Err(invalid(format!(
                "header does not match the file ({n} points, dim {dim}, {file_len} bytes)"
            )));
        }
        let (dim, n, bw, uw) = (dim as usize, n as usize, bw as usize, uw as usize);
        let mut ids = vec![0u64; n];
        r.fill(as_bytes_mut(&mut ids)).map_err(io)?;
        let mut levels = vec![0u8; n];
        r.fill(&mut levels).map_err(io)?;
        let mut vectors = vec![0f32; n * dim];
        r.fill(as_bytes_mut(&mut vectors)).map_err(io)?;
        let mut base = vec![0u32; n * (1 + bw)];
        r.fill(as_bytes_mut(&mut base)).map_err(io)?;
        let mut upper_offset = vec![0u32; n];
        r.fill(as_bytes_mut(&mut upper_offset)).map_err(io)?;
        let mut upper = vec![0u32; upper_len as usize];
        r.fill(as_bytes_mut(&mut upper)).map_err(io)?;
        let sum = (file_len, r.crc.finalize());
        for v in [&mut base, &mut upper_offset, &mut upper] {
            v.iter_mut().for_each(|x| *x = u32::from_le(*x));
        }
        if cfg!(target_endian = "big") {
            ids.iter_mut().for_each(|x| *x = u64::from_le(*x));
            vectors
                .iter_mut()
                .for_each(|x| *x = f32::from_bits(u32::from_le(x.to_bits())));
        }
        let g = Self {
            dim,
            ids: ids.into_iter().map(|i| i as usize).collect(),
            levels,
            vectors,
            base_width: bw,
            base,
            upper_width: uw,
            upper_offset,
            upper,
            entry: entry as u32,
            max_level: max_level as usize,
        };
        g.validate().map_err(invalid)?;
        Ok((g, sum))
    }

    /// Checks that every count, offset and link is in range.
    fn validate(&self) -> Result<(), String> {
        let n = self.len() as u64;
        if n > 0
            && (self.entry as u64 >= n
                || self.levels[self.entry as usize] as usize != self.max_level)
        {
            return Err("bad entry point".into());
        }
        if self.levels.iter().any(|&l| l as usize > self.max_level) {
            return Err("a point is above the top layer".into());
        }
        for row in self.base.chunks_exact(1 + self.base_width) {
            let c = row[0] as usize;
            if c > self.base_width || row[1..1 + c].iter().any(|&x| x as u64 >= n) {
                return Err("bad base-layer links".into());
            }
        }
        for (i, &off) in self.upper_offset.iter().enumerate() {
            let level = self.levels[i] as usize;
            if off == NONE {
                if level > 0 {
                    return Err("an upper-layer point has no links".into());
                }
                continue;
            }
            let end = off as usize + level * (1 + self.upper_width);
            if level == 0 || end > self.upper.len() {
                return Err("bad upper-layer offset".into());
            }
            for row in self.upper[off as usize..end].chunks_exact(1 + self.upper_width) {
                let c = row[0] as usize;
                if c > self.upper_width || row[1..1 + c].iter().any(|&x| x as u64 >= n) {
                    return Err("bad upper-layer links".into());
                }
            }
        }
        Ok(())
    }
}

/// Reads exact byte counts, checksumming as it goes.
struct Reader<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Reader<R> {
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(buf)?;
        self.crc.update(buf);
        Ok(())
    }
}

fn as_bytes<T: bytemuck::Pod>(v: &[T]) -> &[u8] {
    bytemuck::cast_slice(v)
}

fn as_bytes_mut<T: bytemuck::Pod>(v: &mut [T]) -> &mut [u8] {
    bytemuck::cast_slice_mut(v)
}

#[cfg(test)]
mod tests {
    use super::super::hnsw::{HnswGraph, HnswParams};
    use super::*;

    fn random_unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                let mut v: Vec<f32> = (0..dim)
                    .map(|_| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                    })
                    .collect();
                crate::embed::normalize(&mut v);
                v
            })
            .collect()
    }

    fn exact(vs: &[Vec<f32>], q: &[f32], k: usize) -> Vec<usize> {
        let mut s: Vec<(usize, f32)> = vs.iter().enumerate().map(|(i, v)| (i, dot(q, v))).collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1));
        s.into_iter().take(k).map(|x| x.0).collect()
    }

    #[test]
    fn flat_search_has_the_recall_of_hnsw_rs_on_the_same_graph() {
        let vs = random_unit_vectors(3000, 32, 7);
        let (base, queries) = vs.split_at(2800);
        let g = HnswGraph::build(base, HnswParams::default());
        let flat = g.flat();
        assert_eq!(flat.len(), 2800);
        let (mut hits_flat, mut hits_rs) = (0, 0);
        for q in queries {
            let truth = exact(base, q, 10);
            let f = flat.search(q, 10, 64, None);
            let r = g.search_hnsw_rs(q, 10, 64);
            assert_eq!(f.len(), 10);
            assert!(f.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
            for (id, s) in &f {
                assert!((s - dot(q, &base[*id])).abs() < 1e-5, "score is the cosine");
            }
            hits_flat += f.iter().filter(|(i, _)| truth.contains(i)).count();
            hits_rs += r.iter().filter(|(i, _)| truth.contains(i)).count();
        }
        let (rf, rr) = (hits_flat as f64 / 2000.0, hits_rs as f64 / 2000.0);
        assert!(rf >= 0.95, "flat recall@10 {rf}");
        assert!(rf >= rr - 0.01, "flat {rf} vs hnsw_rs {rr}");
    }

    #[test]
    fn filtered_search_returns_only_kept_ids_and_finds_them() {
        let vs = random_unit_vectors(2000, 16, 3);
        let g = HnswGraph::build(&vs, HnswParams::default());
        let flat = g.flat();
        let keep = |id: usize| id.is_multiple_of(3);
        for q in vs.iter().take(50) {
            let found = flat.search(q, 5, 64, Some(&keep));
            assert_eq!(found.len(), 5);
            assert!(found.iter().all(|(id, _)| id % 3 == 0));
            let allowed: Vec<Vec<f32>> = vs.iter().step_by(3).cloned().collect();
            let best = exact(&allowed, q, 1)[0] * 3;
            assert_eq!(found[0].0, best);
        }
        let none = |_: usize| false;
        assert!(flat.search(&vs[0], 5, 64, Some(&none)).is_empty());
    }

    #[test]
    fn save_load_round_trip_and_damage_is_an_error() {
        let vs = random_unit_vectors(500, 8, 11);
        let g = HnswGraph::build(&vs, HnswParams::default());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.flat");
        g.flat().save(&path).unwrap();
        let (back, (len, _)) = FlatGraph::load(&path).unwrap();
        assert_eq!(&back, g.flat());
        assert_eq!(len, std::fs::metadata(&path).unwrap().len());
        // A link pointing outside the graph, and a truncated file.
        let mut bytes = std::fs::read(&path).unwrap();
        let links_at = 8 + 64 + 500 * (8 + 1 + 4 * 8) + 4;
        bytes[links_at..links_at + 4].copy_from_slice(&9999u32.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let err = FlatGraph::load(&path).unwrap_err().to_string();
        assert!(err.contains("links"), "{err}");
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(FlatGraph::load(&path).is_err());
        std::fs::write(&path, b"nonsense").unwrap();
        assert!(FlatGraph::load(&path).is_err());
        // Counts whose product overflows even u128 (found by fuzzing: a panic in the size
        // check): an error naming the header.
        let mut huge = Vec::new();
        huge.extend_from_slice(MAGIC);
        for v in [
            VERSION as u64,
            u64::MAX,
            u32::MAX as u64,
            16,
            16,
            0,
            0,
            u64::MAX,
        ] {
            huge.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&path, &huge).unwrap();
        let err = FlatGraph::load(&path).unwrap_err().to_string();
        assert!(err.contains("header does not match"), "{err}");
    }

    #[test]
    fn empty_and_tiny_graphs() {
        let g = HnswGraph::build(&[], HnswParams::default());
        assert!(g.flat().search(&[1.0, 0.0], 3, 16, None).is_empty());
        let vs = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let g = HnswGraph::build(&vs, HnswParams::default());
        let found = g.flat().search(&[1.0, 0.0], 3, 16, None);
        assert_eq!(found.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1]);
    }
}
