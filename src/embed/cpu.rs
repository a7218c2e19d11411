//! The f32 CPU path of the BERT encoder: packed sequences, reused buffers, fused passes.
//!
//! candle's generic forward pass pads every batch to its longest text, materialises a
//! (batch, heads, L, L) attention tensor, allocates a fresh tensor per operation (page faults
//! dominate after the matrix products) and runs most element-wise passes on one core. This path
//! multiplies by each weight through the one kernel [`super::settings::Plan::choose`] picked for
//! the model, the weight laid out for it once at load ([`Weight`]): the `gemm` crate on the plain
//! matrix, simsum's AVX2 or AVX-512 kernel on packed f32 ([`super::sgemm`], faster than `gemm`
//! on the encoder's shapes) or the AVX-512 BF16 kernel on packed bf16 ([`super::bf16`]), and
//! changes the rest:
//! - tokens of all texts in a batch are packed into one (T, hidden) matrix: no padding anywhere;
//! - attention runs per (text, head) on its own L x L scores, in parallel, never materialising
//!   the whole batch's scores;
//! - biases are pre-loaded into the output so the matrix product adds them for free, residuals
//!   are accumulated in place, GELU and LayerNorm are single parallel passes;
//! - every buffer is kept between batches, so steady-state embedding allocates nothing large.
//!
//! Results equal the plain reference forward pass (tests/tiny_model.rs) and sentence-transformers
//! (tests/embed.rs) to cosine >= 0.99999.

use std::sync::Mutex;

use std::borrow::Cow;

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

use super::kernels::{gelu, layer_norm, softmax};
use super::settings::MatmulKernel;
use super::weights::{Table, WeightSource};
use super::EmbedError;
use crate::model::BertConfig;

/// One weight matrix W (n x k, row-major as in a Linear layer) in the form its kernel reads.
/// The form is chosen once, at load, from the [`MatmulKernel`] of the [`super::settings::Plan`].
enum Weight {
    /// Row-major f32, multiplied by the `gemm` crate.
    Plain { w: Vec<f32>, n: usize, k: usize },
    /// f32 packed for simsum's AVX2 or AVX-512 kernel.
    PackedF32(super::sgemm::PackedF32),
    /// bf16 packed for simsum's AVX-512 BF16 kernel.
    Bf16(super::bf16::PackedWeight),
}

impl Weight {
    /// Lays out `w` (n x k) for `kernel`; a shape the kernel cannot take stays plain.
    fn new(w: &[f32], n: usize, k: usize, kernel: MatmulKernel) -> Self {
        let packed = match kernel {
            MatmulKernel::Gemm => None,
            MatmulKernel::PackedF32(tile) => {
                super::sgemm::PackedF32::pack(w, n, k, tile).map(Self::PackedF32)
            }
            MatmulKernel::Bf16 => super::bf16::PackedWeight::pack(w, n, k).map(Self::Bf16),
        };
        packed.unwrap_or_else(|| Self::Plain {
            w: w.to_vec(),
            n,
            k,
        })
    }

    /// dst (m x n) += a (m x k) W^T. `rounded` is scratch for the bf16 kernel.
    fn product(
        &self,
        m: usize,
        a: &[f32],
        dst: &mut [f32],
        rounded: &mut Vec<u16>,
        par: Parallelism,
    ) {
        match self {
            Self::Plain { w, n, k } => matmul_wt(m, *n, *k, dst, a, w, par),
            Self::PackedF32(p) => p.matmul_wt(m, a, dst),
            Self::Bf16(p) => super::bf16::matmul_wt(m, a, p, dst, rounded),
        }
    }
}

struct Layer {
    /// Q, K and V projections stacked: (3h, h), and their biases.
    wqkv: Weight,
    bqkv: Vec<f32>,
    wo: Weight,
    bo: Vec<f32>,
    ln1: (Vec<f32>, Vec<f32>),
    wi: Weight,
    bi: Vec<f32>,
    wo2: Weight,
    bo2: Vec<f32>,
    ln2: (Vec<f32>, Vec<f32>),
}

/// Weights of the encoder as plain f32 arrays, plus the buffers reused between batches.
pub struct CpuEncoder {
    /// Word embeddings, read in place from the mapped weights file where possible.
    word: Table,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_ln: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    intermediate: usize,
    eps: f32,
    buffers: Mutex<Buffers>,
}

#[derive(Default)]
struct Buffers {
    x: Vec<f32>,
    /// `x` or `inter` rounded to bf16 for the bf16 kernel.
    rounded: Vec<u16>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    inter: Vec<f32>,
}

/// Pointer to a buffer written by several threads at disjoint places.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: `Shared` only carries the pointer to the attention output across rayon's threads;
// each task writes a disjoint block of it (see `CpuEncoder::attention`) while the owning
// `&mut [f32]` is held, unused, by the caller, so sending or sharing it creates no data race.
unsafe impl Send for Shared {}
// SAFETY: as for `Send`: shared access only ever writes disjoint elements.
unsafe impl Sync for Shared {}

impl CpuEncoder {
    /// Reads the encoder's weights from the mapped file `w` (shapes from `cfg`), each weight
    /// matrix straight into the form `kernel` reads; the word embeddings stay in the file.
    pub fn load(
        w: &dyn WeightSource,
        cfg: &BertConfig,
        kernel: MatmulKernel,
    ) -> Result<Self, EmbedError> {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        let vec = |name: &str, len: usize| w.get(name, &[len]).map(Cow::into_owned);
        let matrix = |name: &str, n: usize, k: usize| -> Result<Weight, EmbedError> {
            Ok(Weight::new(&w.get(name, &[n, k])?, n, k, kernel))
        };
        let norm = |name: &str| -> Result<(Vec<f32>, Vec<f32>), EmbedError> {
            Ok((
                vec(&format!("{name}.weight"), h)?,
                vec(&format!("{name}.bias"), h)?,
            ))
        };
        let layers = (0..cfg.num_hidden_layers)
            .map(|l| {
                let p = format!("encoder.layer.{l}");
                let s = format!("{p}.attention.self");
                // One [3h, h] product instead of three [h, h] ones.
                let mut qkv = Vec::with_capacity(3 * h * h);
                let mut bqkv = Vec::with_capacity(3 * h);
                for part in ["query", "key", "value"] {
                    qkv.extend_from_slice(&w.get(&format!("{s}.{part}.weight"), &[h, h])?);
                    bqkv.extend_from_slice(&w.get(&format!("{s}.{part}.bias"), &[h])?);
                }
                Ok(Layer {
                    wqkv: Weight::new(&qkv, 3 * h, h, kernel),
                    bqkv,
                    wo: matrix(&format!("{p}.attention.output.dense.weight"), h, h)?,
                    bo: vec(&format!("{p}.attention.output.dense.bias"), h)?,
                    ln1: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    wi: matrix(&format!("{p}.intermediate.dense.weight"), i, h)?,
                    bi: vec(&format!("{p}.intermediate.dense.bias"), i)?,
                    wo2: matrix(&format!("{p}.output.dense.weight"), h, i)?,
                    bo2: vec(&format!("{p}.output.dense.bias"), h)?,
                    ln2: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>, EmbedError>>()?;
        let token_type = w.get(
            "embeddings.token_type_embeddings.weight",
            &[cfg.type_vocab_size, h],
        )?;
        Ok(Self {
            word: w.table("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])?,
            position: w
                .get(
                    "embeddings.position_embeddings.weight",
                    &[cfg.max_position_embeddings, h],
                )?
                .into_owned(),
            token_type0: token_type[..h].to_vec(),
            emb_ln: norm("embeddings.LayerNorm")?,
            layers,
            hidden: h,
            heads: cfg.num_attention_heads,
            intermediate: i,
            eps: cfg.layer_norm_eps as f32,
            buffers: Mutex::new(Buffers::default()),
        })
    }

    /// How many of the encoder's weight matrices are in each form: (plain, packed f32, bf16).
    /// Tests use it to prove which kernel a model reaches.
    pub fn weight_forms(&self) -> (usize, usize, usize) {
        let mut n = (0, 0, 0);
        for l in &self.layers {
            for w in [&l.wqkv, &l.wo, &l.wi, &l.wo2] {
                match w {
                    Weight::Plain { .. } => n.0 += 1,
                    Weight::PackedF32(_) => n.1 += 1,
                    Weight::Bf16(_) => n.2 += 1,
                }
            }
        }
        n
    }

    /// Runs the encoder over `seqs` (token ids, unpadded) and calls `pool` with the final
    /// hidden states of each sequence, (len, hidden) row-major, in order.
    pub fn forward<R>(&self, seqs: &[&[u32]], mut pool: impl FnMut(&[f32]) -> R) -> Vec<R> {
        let h = self.hidden;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let mut guard = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        let b = &mut *guard;
        grow(&mut b.x, total * h);
        grow(&mut b.qkv, total * 3 * h);
        grow(&mut b.ctx, total * h);
        grow(&mut b.inter, total * self.intermediate);
        let par = Parallelism::Rayon(rayon::current_num_threads().max(1));

        // Embeddings: word + position + token type 0, then LayerNorm.
        let mut offsets = Vec::with_capacity(seqs.len());
        let mut tokens: Vec<(u32, usize)> = Vec::with_capacity(total);
        let mut o = 0;
        for s in seqs {
            offsets.push((o, s.len()));
            tokens.extend(s.iter().enumerate().map(|(p, &id)| (id, p)));
            o += s.len();
        }
        // A short input (a query) runs its element-wise passes on this thread: each pass over a
        // few rows costs less than the pool's fork and join, of which a layer has ten. The
        // weight products still share out their columns ([`super::sgemm::WorkSplit`]).
        let pool_on = total > SERIAL_ROWS;
        let embed_row = |row: &mut [f32], &(id, p): &(u32, usize)| {
            self.word.row_into(id as usize, row);
            let pe = &self.position[p * h..][..h];
            for j in 0..h {
                row[j] += pe[j] + self.token_type0[j];
            }
            layer_norm(row, &self.emb_ln.0, &self.emb_ln.1, self.eps);
        };
        if pool_on {
            b.x[..total * h]
                .par_chunks_mut(h)
                .zip(tokens.par_iter())
                .for_each(|(row, t)| embed_row(row, t));
        } else {
            b.x[..total * h]
                .chunks_mut(h)
                .zip(&tokens)
                .for_each(|(row, t)| embed_row(row, t));
        }

        for l in &self.layers {
            // qkv = x Wqkv^T + bqkv
            let (ln1, ln2) = (&l.ln1, &l.ln2);
            each_chunk(&mut b.qkv[..total * 3 * h], 3 * h, pool_on, |r| {
                r.copy_from_slice(&l.bqkv)
            });
            l.wqkv.product(total, &b.x, &mut b.qkv, &mut b.rounded, par);
            self.attention(&b.qkv, &mut b.ctx, &offsets, pool_on);
            // x = LN(x + ctx Wo^T + bo)
            each_chunk(&mut b.x[..total * h], h, pool_on, |r| add(r, &l.bo));
            l.wo.product(total, &b.ctx, &mut b.x, &mut b.rounded, par);
            each_chunk(&mut b.x[..total * h], h, pool_on, |r| {
                layer_norm(r, &ln1.0, &ln1.1, self.eps)
            });
            // inter = GELU(x Wi^T + bi)
            let i = self.intermediate;
            each_chunk(&mut b.inter[..total * i], i, pool_on, |r| {
                r.copy_from_slice(&l.bi)
            });
            l.wi.product(total, &b.x, &mut b.inter, &mut b.rounded, par);
            each_chunk(&mut b.inter[..total * i], 4096, pool_on, gelu);
            // x = LN(x + inter Wo2^T + bo2)
            each_chunk(&mut b.x[..total * h], h, pool_on, |r| add(r, &l.bo2));
            l.wo2
                .product(total, &b.inter, &mut b.x, &mut b.rounded, par);
            each_chunk(&mut b.x[..total * h], h, pool_on, |r| {
                layer_norm(r, &ln2.0, &ln2.1, self.eps)
            });
        }
        offsets
            .iter()
            .map(|&(o, n)| pool(&b.x[o * h..(o + n) * h]))
            .collect()
    }

    /// Multi-head self-attention of every sequence, each over its own tokens only.
    fn attention(&self, qkv: &[f32], ctx: &mut [f32], offsets: &[(usize, usize)], pool_on: bool) {
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        let out = Shared(ctx.as_mut_ptr());
        let max_n = offsets.iter().map(|&(_, n)| n).max().unwrap_or(0);
        let work: Vec<(usize, usize, usize)> = offsets
            .iter()
            .flat_map(|&(o, n)| (0..self.heads).map(move |hd| (o, n, hd)))
            .collect();
        let head = |scores: &mut Vec<f32>, &(o, n, hd): &(usize, usize, usize)| {
            // Capture the whole `Shared` (Sync), not its raw-pointer field.
            let out = &out;
            let q = qkv[o * 3 * h + hd * d..].as_ptr();
            let k = qkv[o * 3 * h + h + hd * d..].as_ptr();
            let v = qkv[o * 3 * h + 2 * h + hd * d..].as_ptr();
            let ld = (3 * h) as isize;
            let scores = &mut scores[..n * n];
            // scores = scale * Q K^T  (n x n). The pointer is taken here and dies with this
            // call: the softmax below then borrows `scores` afresh, and the P V product takes
            // a new pointer, so no raw pointer outlives a `&mut` of the same buffer.
            // SAFETY: Q and K are n rows of d values, `ld` apart, inside `qkv` (offsets come
            // from the packed layout); `scores` holds n x n values, row stride n.
            unsafe {
                gemm(
                    n,
                    n,
                    d,
                    scores.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    q,
                    1,
                    ld,
                    k,
                    ld,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
            for r in scores.chunks_mut(n) {
                softmax(r);
            }
            // ctx rows of this head = P V  (n x d)
            // SAFETY: every (sequence, head) pair writes its own n rows x d columns of `ctx`
            // (rows o..o+n, columns hd*d..(hd+1)*d, stride h), so the threads' writes are
            // disjoint and `ctx` is not otherwise touched until `for_each_init` returns;
            // V is n rows of d values, `ld` apart, inside `qkv`.
            unsafe {
                let dst = out.0.add(o * h + hd * d);
                gemm(
                    n,
                    d,
                    n,
                    dst,
                    1,
                    h as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    n as isize,
                    v,
                    1,
                    ld,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
        };
        if pool_on {
            work.par_iter()
                .for_each_init(|| vec![0f32; max_n * max_n], head);
        } else {
            let mut scores = vec![0f32; max_n * max_n];
            work.iter().for_each(|w| head(&mut scores, w));
        }
    }
}

fn grow(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// dst (m x n) += a (m x k) W^T, with W stored (n x k) row-major; all row-major, packed.
pub(crate) fn matmul_wt(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    a: &[f32],
    w: &[f32],
    par: Parallelism,
) {
    assert!(dst.len() >= m * n && a.len() >= m * k && w.len() >= n * k);
    // SAFETY: the bounds were checked above; strides describe the packed row-major layouts.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            true,
            a.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            k as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// Rows (tokens of all texts in a batch) up to which the element-wise passes run on the
/// calling thread: a query of a few words, or a handful of them batched by the server.
const SERIAL_ROWS: usize = 48;

/// Runs `f` on each `len`-long chunk of `buf`, on the pool when `pool_on`.
fn each_chunk(buf: &mut [f32], len: usize, pool_on: bool, f: impl Fn(&mut [f32]) + Send + Sync) {
    if pool_on {
        buf.par_chunks_mut(len).for_each(f);
    } else {
        buf.chunks_mut(len).for_each(f);
    }
}

/// `row += bias`.
fn add(row: &mut [f32], bias: &[f32]) {
    row.iter_mut().zip(bias).for_each(|(x, b)| *x += b);
}
