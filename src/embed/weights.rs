//! The weights file of a BERT model, memory-mapped and read in place by the CPU encoder.
//!
//! candle's loader copies every tensor out of the file (and the encoder then copied each again
//! into its own arrays before packing): for all-MiniLM-L6-v2 that was some 270 MB of fresh
//! pages, zeroed by the kernel and filled, to run one query — most of a cold `simsum search`
//! (perf: 75% of its cycles in page clearing). Here the file is mapped once; each weight matrix
//! is read from the mapping straight into its packed form ([`super::cpu`]), and the word
//! embeddings (47 MB, of which a query reads a few rows) are never copied at all: the encoder
//! keeps the mapping and reads its rows in place ([`Table`]). The candle engine (GPU, f16) still
//! loads through candle.
//!
//! [`WeightSource`] is what the encoder reads weights through: this file's [`MappedWeights`]
//! and the 4-bit E5S1 file of [`super::e5::E5Weights`], whose matrices it widens to f32 at load
//! and whose word embeddings stay 4-bit blocks in the mapping ([`Table::Q4`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};

use super::EmbedError;
use crate::model::e5s1::f16_to_f32;
use crate::model::ModelError;

/// Where the encoder's weights come from, by their Hugging Face BERT names (without `bert.`).
pub trait WeightSource {
    /// The tensor `name` as f32 values, checked against `shape`.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Cow<'_, [f32]>, EmbedError>;
    /// The tensor `name` as a [`Table`] of rows.
    fn table(&self, name: &str, shape: &[usize]) -> Result<Table, EmbedError>;
}

impl WeightSource for MappedWeights {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Cow<'_, [f32]>, EmbedError> {
        MappedWeights::get(self, name, shape)
    }
    fn table(&self, name: &str, shape: &[usize]) -> Result<Table, EmbedError> {
        MappedWeights::table(self, name, shape)
    }
}

/// The tensors of a safetensors file, mapped read-only.
pub struct MappedWeights {
    path: PathBuf,
    map: Arc<Mmap>,
    /// Name -> (dtype, shape, byte range in the mapping).
    tensors: HashMap<String, (Dtype, Vec<usize>, std::ops::Range<usize>)>,
    /// `bert.` when the tensors are named as in `BertModel` inside a task model.
    prefix: &'static str,
}

impl MappedWeights {
    /// Maps `path` and reads its header.
    pub fn open(path: &Path) -> Result<Self, EmbedError> {
        let invalid = |reason: String| EmbedError::Model(ModelError::invalid(path, reason));
        let file = std::fs::File::open(path)
            .map_err(|e| invalid(format!("cannot open the weights: {e}")))?;
        // SAFETY: the mapping is read-only and private to this process; the model files are
        // simsum's own cache, checked (sha256, header) when found and never written in place
        // (fetches write elsewhere and rename), so the bytes do not change under the mapping.
        let map = unsafe { Mmap::map(&file) }
            .map_err(|e| invalid(format!("cannot map the weights: {e}")))?;
        let (header_len, meta) = SafeTensors::read_metadata(&map)
            .map_err(|e| invalid(format!("corrupt safetensors header: {e}")))?;
        let start = 8 + header_len;
        let mut tensors = HashMap::new();
        for (name, info) in meta.tensors() {
            let (a, b) = info.data_offsets;
            if a > b || start + b > map.len() {
                return Err(invalid(format!("tensor {name} lies outside the file")));
            }
            tensors.insert(name, (info.dtype, info.shape.clone(), start + a..start + b));
        }
        let prefix = if tensors.contains_key("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        Ok(Self {
            path: path.to_path_buf(),
            map: Arc::new(map),
            tensors,
            prefix,
        })
    }

    fn entry(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<(Dtype, std::ops::Range<usize>), EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let invalid = |reason: String| EmbedError::Model(ModelError::invalid(&self.path, reason));
        let (dtype, have, range) = self
            .tensors
            .get(&full)
            .ok_or_else(|| invalid(format!("the weights have no tensor {full}")))?;
        if have.as_slice() != shape {
            return Err(invalid(format!(
                "tensor {full} has shape {have:?}, the config says {shape:?}"
            )));
        }
        let count: usize = shape.iter().product();
        let width = match dtype {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
            other => {
                return Err(invalid(format!(
                    "tensor {full} is {other:?}; f32, f16 and bf16 are supported"
                )))
            }
        };
        if range.len() != count * width {
            return Err(invalid(format!(
                "tensor {full} holds {} bytes, its shape needs {}",
                range.len(),
                count * width
            )));
        }
        Ok((*dtype, range.clone()))
    }

    /// The tensor `name` (without the `bert.` prefix) as f32 values, checked against `shape`:
    /// borrowed from the mapping when it is stored as aligned f32, converted otherwise.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Cow<'_, [f32]>, EmbedError> {
        let (dtype, range) = self.entry(name, shape)?;
        let bytes = &self.map[range];
        Ok(match dtype {
            Dtype::F32 => match bytemuck::try_cast_slice::<u8, f32>(bytes) {
                Ok(v) => Cow::Borrowed(v),
                Err(_) => Cow::Owned(
                    bytes
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                ),
            },
            Dtype::BF16 => Cow::Owned(
                bytes
                    .chunks_exact(2)
                    .map(|b| super::bf16::from_bf16(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
            ),
            _ => Cow::Owned(
                bytes
                    .chunks_exact(2)
                    .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
            ),
        })
    }

    /// The tensor `name` as a [`Table`] read in place where the file allows it.
    pub fn table(&self, name: &str, shape: &[usize]) -> Result<Table, EmbedError> {
        let (dtype, range) = self.entry(name, shape)?;
        let aligned = (self.map.as_ptr() as usize + range.start).is_multiple_of(4);
        if dtype == Dtype::F32 && aligned && cfg!(target_endian = "little") {
            return Ok(Table::Mapped {
                map: self.map.clone(),
                start: range.start,
                len: range.len() / 4,
            });
        }
        Ok(Table::Owned(self.get(name, shape)?.into_owned()))
    }
}

/// A row-major table the encoder reads rows of: the word embeddings, kept in the mapped
/// file where possible so that a model load copies none of it.
pub enum Table {
    /// Rows of `cols` values as Q4_0 blocks at byte `start` of the mapping (the E5S1 file: 54 MB
    /// of blocks instead of 384 MB of f32); a row is widened when read.
    Q4 {
        map: Arc<Mmap>,
        start: usize,
        rows: usize,
        cols: usize,
    },
    /// Values owned in memory (tests, f16/bf16 files, unaligned tensors).
    Owned(Vec<f32>),
    /// `len` f32 values at byte `start` of the mapping (4-byte aligned, little-endian).
    Mapped {
        map: Arc<Mmap>,
        start: usize,
        len: usize,
    },
}

impl Table {
    /// All the values of an f32 table; `None` for a 4-bit one (read it by [`Table::row_into`]).
    pub fn as_slice(&self) -> Option<&[f32]> {
        match self {
            Self::Owned(v) => Some(v),
            // The alignment and length were checked when the table was made.
            Self::Mapped { map, start, len } => {
                Some(bytemuck::cast_slice(&map[*start..*start + *len * 4]))
            }
            Self::Q4 { .. } => None,
        }
    }

    /// Writes row `i` (of `out.len()` values) into `out`; a row past the end is zeros (token ids
    /// come from the model's own tokenizer, so that never happens with a whole model).
    pub fn row_into(&self, i: usize, out: &mut [f32]) {
        let w = out.len();
        match self {
            Self::Q4 {
                map,
                start,
                rows,
                cols,
            } => {
                use crate::model::e5s1::{dequantize_q4_0, BLOCK, BLOCK_BYTES};
                if i >= *rows || *cols != w {
                    out.fill(0.0);
                    return;
                }
                let row_bytes = w / BLOCK * BLOCK_BYTES;
                let at = start + i * row_bytes;
                dequantize_q4_0(&map[at..at + row_bytes], out);
            }
            _ => {
                let all = self.as_slice().expect("an f32 table");
                match all.get(i * w..(i + 1) * w) {
                    Some(r) => out.copy_from_slice(r),
                    None => out.fill(0.0),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_widening_matches_known_values() {
        assert_eq!(f16_to_f32(0x3C00), 1.0);
        assert_eq!(f16_to_f32(0xC000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal
        assert_eq!(f16_to_f32(0x7C00), f32::INFINITY);
        assert_eq!(f16_to_f32(0x0000), 0.0);
    }

    #[test]
    fn a_weights_file_is_read_in_place_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let a: Vec<f32> = (0..6).map(|i| i as f32 * 0.5).collect();
        let b: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let a_bytes: Vec<u8> = a.iter().flat_map(|x| x.to_le_bytes()).collect();
        let views = vec![
            (
                "bert.embeddings.word_embeddings.weight",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![3, 2], &a_bytes).unwrap(),
            ),
            (
                "bert.pooler.bias",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![2], &b).unwrap(),
            ),
        ];
        safetensors::serialize_to_file(views, None, &path).unwrap();
        let w = MappedWeights::open(&path).unwrap();
        let t = w
            .table("embeddings.word_embeddings.weight", &[3, 2])
            .unwrap();
        assert_eq!(t.as_slice(), Some(a.as_slice()));
        let mut row = [0f32; 2];
        t.row_into(1, &mut row);
        assert_eq!(row, [1.0, 1.5]);
        assert!(
            matches!(t, Table::Mapped { .. }),
            "an aligned f32 table is not copied"
        );
        assert_eq!(&*w.get("pooler.bias", &[2]).unwrap(), &[1.5, -2.0]);
        let wrong = w.get("pooler.bias", &[3]).err().unwrap().to_string();
        assert!(
            wrong.contains("shape [2]") && wrong.contains("model.safetensors"),
            "{wrong}"
        );
        let missing = w.get("nothing", &[1]).err().unwrap().to_string();
        assert!(missing.contains("no tensor bert.nothing"), "{missing}");
        std::fs::write(&path, b"\x08\0\0\0\0\0\0\0{garbage").unwrap();
        let corrupt = MappedWeights::open(&path).err().unwrap().to_string();
        assert!(corrupt.contains("corrupt safetensors header"), "{corrupt}");
    }
}
