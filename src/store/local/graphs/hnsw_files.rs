//! The length guard in front of `hnsw_rs`'s loader: walks a saved graph's two files
//! (`graph.hnsw.graph`, `graph.hnsw.data`) the way `hnsw_rs` 0.3 reads them and checks every
//! magic number, count, length, rank and value before `hnsw_rs` sees a byte.
//!
//! Checksums prove only that the files are the ones the stamp lists, and a stamp can be written
//! by anyone: `hnsw_rs`'s reader trusts every length it reads (it allocates a vector of whatever
//! size the file names, which aborts the process, and it indexes layers with ranks it never
//! checks) and asserts on the rest. So [`check`] re-reads both files with bounded reads: no
//! allocation larger than what is left of the file, every neighbour and the entry point naming a
//! point that exists, every vector of the stamp's dimension with finite values, the point count
//! the stamp's. Files that pass are exactly what `hnsw_rs`'s loader reads without a panic; any
//! other is an error naming the file and the offset, and the caller rebuilds the graph.
//!
//! The format (native byte order, `usize` as 8 bytes), as `hnsw_rs` 0.3.5's `hnswio.rs` writes
//! it in its full dump mode: the graph file holds a description (magic, dump mode, maximum
//! connections, level scale, layer count, ef, point count, dimension, distance name, type name),
//! then the layers (magic, point count, then per point: magic, origin id, layer, rank, and per
//! layer its neighbours as origin id, layer, rank, distance), then the entry point. The data file
//! holds a header (magic, dimension), then per point in the same order: magic, origin id, byte
//! length, the vector.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::hnsw::GraphError;

const MAGIC_DESCR_4: u32 = 0x002a_6779;
const MAGIC_LAYER: u32 = 0x000a_676f;
const MAGIC_POINT: u32 = 0x000a_678f;
const MAGIC_DATA: u32 = 0xa67f_0000;
/// `hnsw_rs`'s `NB_LAYER_MAX`: the description and the layer table always list this many.
const LAYERS: usize = 16;
/// `hnsw_rs` refuses longer distance and type names.
const MAX_NAME: usize = 256;
/// Largest `ef` (the build's candidate list) the description may give: `hnsw_rs` takes it as the
/// capacity of every insert's search (a fuzzed 2^43 aborted the process on allocation).
const MAX_EF: u64 = 1 << 16;
/// The bytes of a point's record in the graph file before its neighbour lists.
const POINT_HEAD: u64 = 4 + 8 + 1 + 4;
/// The bytes of one neighbour in the graph file.
const NEIGHBOUR: u64 = 8 + 1 + 4 + 4;

/// What the graph files must agree with (from the graph's stamp).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    pub points: usize,
    pub dimension: usize,
    /// The last path segment of the distance's type name (`DistUnitCosine`).
    pub distance: &'static str,
}

/// Checks `graph` and `data` (a saved graph's `hnsw_rs` files) against the format and `expect`.
pub(crate) fn check(graph: &Path, data: &Path, expect: Expect) -> Result<(), GraphError> {
    let mut g = Bounded::open(graph)?;
    let mut d = Bounded::open(data)?;
    if g.u32()? != MAGIC_DESCR_4 {
        return Err(g.bad("not an hnsw_rs graph of format 4 (bad magic)"));
    }
    if g.u8()? != 1 {
        return Err(g.bad("not a full dump"));
    }
    // simsum builds with at least 2 (`HnswGraph::build_with_ids`); insertion needs some.
    if g.u8()? < 2 {
        return Err(g.bad("fewer than 2 connections per point"));
    }
    let level_scale = g.f64()?;
    if !(level_scale.is_finite() && level_scale > 0.0) {
        return Err(g.bad(format!(
            "level scale {level_scale} is not a positive number"
        )));
    }
    if g.u8()? as usize != LAYERS {
        return Err(g.bad(format!("the description does not list {LAYERS} layers")));
    }
    let ef = g.u64()?;
    if ef == 0 || ef > MAX_EF {
        return Err(g.bad(format!("ef {ef} is not 1 to {MAX_EF}")));
    }
    let points = g.u64()?;
    let dimension = g.u64()?;
    if points != expect.points as u64 || dimension != expect.dimension as u64 {
        return Err(g.bad(format!(
            "describes {points} points of dimension {dimension}, the stamp {} of {}",
            expect.points, expect.dimension
        )));
    }
    let distance = g.name()?;
    if distance.rsplit("::").next() != Some(expect.distance) {
        return Err(g.bad(format!("distance `{distance}` is not {}", expect.distance)));
    }
    let t_name = g.name()?;
    if t_name != std::any::type_name::<f32>() {
        return Err(g.bad(format!("value type `{t_name}` is not f32")));
    }

    if d.u32()? != MAGIC_DATA || d.u64()? != dimension {
        return Err(d.bad("bad header (magic or dimension)"));
    }
    // A point's vector, read into one buffer no larger than the data file.
    let vector_bytes = dimension.saturating_mul(4);
    if vector_bytes > d.left() {
        return Err(d.bad(format!("too short for a vector of dimension {dimension}")));
    }
    let mut vector = vec![0u8; vector_bytes as usize];

    let layers = g.u8()? as usize;
    if layers > LAYERS {
        return Err(g.bad(format!("{layers} layers, at most {LAYERS}")));
    }
    let min_point = POINT_HEAD + LAYERS as u64 * 8;
    // (layer, rank) of every neighbour, checked once all layers' sizes are known.
    let mut links: Vec<(u8, i32, u64)> = Vec::new();
    let mut sizes = Vec::with_capacity(layers);
    let mut total = 0u64;
    for l in 0..layers {
        if g.u32()? != MAGIC_LAYER {
            return Err(g.bad(format!("bad magic at layer {l}")));
        }
        let n = g.u64()?;
        if n > g.left() / min_point || total + n > points {
            return Err(g.bad(format!("layer {l} claims {n} points")));
        }
        total += n;
        for r in 0..n {
            if g.u32()? != MAGIC_POINT {
                return Err(g.bad(format!("bad magic at point {r} of layer {l}")));
            }
            let origin = g.u64()?;
            if g.u8()? as usize != l || u64::try_from(g.i32()?) != Ok(r) {
                return Err(g.bad(format!("point {r} of layer {l} names another place")));
            }
            for _ in 0..LAYERS {
                let k = g.u64()?;
                if k > g.left() / NEIGHBOUR {
                    return Err(g.bad(format!("point {r} of layer {l} claims {k} neighbours")));
                }
                for _ in 0..k {
                    let _id = g.u64()?;
                    let (layer, rank) = (g.u8()?, g.i32()?);
                    let distance = g.f32()?;
                    if distance.is_nan() {
                        return Err(g.bad("a neighbour's distance is not a number"));
                    }
                    links.push((layer, rank, g.at));
                }
            }
            if d.u32()? != MAGIC_DATA || d.u64()? != origin {
                return Err(d.bad(format!(
                    "point {origin}'s record does not follow the graph's"
                )));
            }
            if d.u64()? != vector_bytes {
                return Err(d.bad(format!(
                    "point {origin}'s vector is not {vector_bytes} bytes"
                )));
            }
            d.fill(&mut vector)?;
            if vector
                .chunks_exact(4)
                .any(|b| !f32::from_ne_bytes([b[0], b[1], b[2], b[3]]).is_finite())
            {
                return Err(d.bad(format!("point {origin}'s vector holds a non-finite value")));
            }
        }
        sizes.push(n);
    }
    if total != points {
        return Err(g.bad(format!(
            "holds {total} points, its description says {points}"
        )));
    }
    let _entry_origin = g.u64()?;
    let entry = (g.u8()?, g.i32()?, g.at);
    let exists = |(layer, rank, _): &(u8, i32, u64)| {
        sizes
            .get(*layer as usize)
            .is_some_and(|&n| u64::try_from(*rank).is_ok_and(|r| r < n))
    };
    if let Some((_, _, at)) = links.iter().chain([&entry]).find(|l| !exists(l)) {
        return Err(g.bad_at(*at, "names a point that does not exist"));
    }
    if g.left() != 0 {
        return Err(g.bad(format!("{} bytes after the entry point", g.left())));
    }
    if d.left() != 0 {
        return Err(d.bad(format!("{} bytes after the last vector", d.left())));
    }
    Ok(())
}

/// A file read front to back that knows how much of it is left, so no read trusts a length.
struct Bounded {
    path: PathBuf,
    inner: BufReader<File>,
    len: u64,
    at: u64,
}

impl Bounded {
    fn open(path: &Path) -> Result<Self, GraphError> {
        let io = |source| GraphError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(Self {
            path: path.to_path_buf(),
            inner: BufReader::new(file),
            len,
            at: 0,
        })
    }

    fn left(&self) -> u64 {
        self.len - self.at
    }

    fn bad(&self, reason: impl std::fmt::Display) -> GraphError {
        self.bad_at(self.at, reason)
    }

    fn bad_at(&self, at: u64, reason: impl std::fmt::Display) -> GraphError {
        GraphError::Invalid {
            path: self.path.clone(),
            reason: format!("at byte {at}: {reason}"),
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), GraphError> {
        if (buf.len() as u64) > self.left() {
            return Err(self.bad("ends early"));
        }
        self.inner
            .read_exact(buf)
            .map_err(|source| GraphError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.at += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], GraphError> {
        let mut b = [0u8; N];
        self.fill(&mut b)?;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, GraphError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, GraphError> {
        Ok(u32::from_ne_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, GraphError> {
        Ok(i32::from_ne_bytes(self.array()?))
    }

    fn f32(&mut self) -> Result<f32, GraphError> {
        Ok(f32::from_ne_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, GraphError> {
        Ok(u64::from_ne_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64, GraphError> {
        Ok(f64::from_ne_bytes(self.array()?))
    }

    /// A length-prefixed UTF-8 name of at most [`MAX_NAME`] bytes.
    fn name(&mut self) -> Result<String, GraphError> {
        let len = self.u64()?;
        if len > MAX_NAME as u64 {
            return Err(self.bad(format!("a name of {len} bytes")));
        }
        let mut b = vec![0u8; len as usize];
        self.fill(&mut b)?;
        String::from_utf8(b).map_err(|_| self.bad("a name is not UTF-8"))
    }
}
