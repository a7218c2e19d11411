//! Texts in, vectors out.
//!
//! [`Embedder`] is the seam between the rest of the library and a model: indexing, search,
//! clustering and summaries only ever see this trait. [`bert::BertEmbedder`] is the real
//! backend (a sentence-transformer run through candle on CPU or CUDA); [`HashEmbedder`] is a
//! deterministic feature-hashing embedder with no model files, used by tests and benchmarks
//! that exercise the layers above the model. [`settings`] holds the typed device and precision
//! and the one decision of which engine and kernel run; [`features`] the CPU features it reads.

/// Runs `$body` once for each row `$r` (0..14) below `$rows`, written out row by row: the
/// register tiles of [`sgemm`] and [`bf16`] index their accumulators with it. LLVM does not
/// unroll a long row loop (14 rows; or 8 when the dev profile's overflow checks sit in its
/// address arithmetic), and the accumulators of a loop it keeps indexed at run time live on the
/// stack (measured: every multiply-add went through memory); written out, each `acc[r]` is a
/// register. `$rows` may be a constant (rows of a full tile) or a run-time count (rows to store).
// The tiles exist on x86-64 only.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_macros))]
macro_rules! each_row {
    ($r:ident < $rows:expr => $body:block) => {
        each_row!(@ $r, $rows, $body, 0 1 2 3 4 5 6 7 8 9 10 11 12 13)
    };
    (@ $r:ident, $rows:expr, $body:block, $($i:literal)+) => {
        $({
            let $r: usize = $i;
            if $r < $rows $body
        })+
    };
}

pub mod bert;
pub mod bf16;
pub mod calibrate;
pub mod centring;
pub mod cpu;
pub mod e5;
pub mod features;
pub mod kernels;
pub mod settings;
pub mod sgemm;
pub mod tokenize;
pub mod vector;
pub mod weights;

use sha2::{Digest, Sha256};

pub use features::CpuFeatures;
pub use settings::{DType, Device};

/// One embedded text.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// The pooled vector (L2-normalised unless the embedder was told otherwise).
    pub vector: Vec<f32>,
    /// Tokens the model saw, special tokens included, after truncation.
    pub n_tokens: usize,
    /// Whether the input was longer than the model's `max_seq_length` and was cut.
    pub truncated: bool,
}

/// Vectors computed before, looked up by text: the embedding of an embedder that replays a
/// model's work (a store copy, the benchmark's writer processes). `missing` says what a text
/// without a vector is.
pub fn looked_up(
    vectors: &std::collections::HashMap<String, Vec<f32>>,
    texts: &[&str],
    missing: impl Fn(&str) -> String,
) -> Result<Vec<Embedding>, EmbedError> {
    texts
        .iter()
        .map(|t| {
            let vector = vectors
                .get(*t)
                .cloned()
                .ok_or_else(|| EmbedError::Service(missing(t)))?;
            Ok(Embedding {
                vector,
                n_tokens: 0,
                truncated: false,
            })
        })
        .collect()
}

/// Errors of the embedding layer.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("tokenizer failed: {0}")]
    Tokenizer(String),
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("{0}")]
    Model(#[from] crate::model::ModelError),
    #[error("device `{0}` is not available: {1}")]
    Device(String, String),
    /// The embedding service (the server's queue and its model thread) failed or answered
    /// wrongly; not the tokenizer's or the model's own error.
    #[error("embedding service: {0}")]
    Service(String),
}

/// What an input to the model is: models of the E5 family read a search query differently from
/// the passages it searches (each has its own prompt); others embed both alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InputKind {
    /// Anything indexed, clustered, summarised or compared.
    #[default]
    Passage,
    /// A search query.
    Query,
}

impl InputKind {
    /// Reads `query`, or `passage` (also `document`, the name other embedding APIs use).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "query" => Some(Self::Query),
            "passage" | "document" => Some(Self::Passage),
            _ => None,
        }
    }
}

/// Texts in, vectors out. Implementations keep the input order.
pub trait Embedder: Send + Sync {
    /// Length of every vector this embedder returns.
    fn dim(&self) -> usize;
    /// A stable identity of the model (name and weights hash), recorded in index manifests.
    fn model_id(&self) -> ModelId;
    /// Largest number of tokens (special tokens included) the model reads; longer inputs are cut.
    fn max_tokens(&self) -> usize;
    /// Number of tokens `text` becomes, special tokens included, before truncation.
    fn count_tokens(&self, text: &str) -> usize;
    /// Embeds `texts` (passages), returning one [`Embedding`] per text in the same order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError>;
    /// Embeds `texts` as `kind`; search queries go through here. Models without prompts embed
    /// queries as any text, which is what this default does.
    fn embed_as(&self, texts: &[&str], kind: InputKind) -> Result<Vec<Embedding>, EmbedError> {
        let _ = kind;
        self.embed(texts)
    }
}

/// Identity of a model, as stored in an index manifest.
///
/// Two ids are equal when name and weights are: `dtype` says how this embedder computes, which
/// an index records (its manifest's `dtype`) but does not make vectors incompatible (bf16 and
/// f32 vectors agree to cosine >= 0.9999), so it is neither compared nor serialised here.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelId {
    /// The model name, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
    pub name: String,
    /// sha256 of the weights file, hex.
    pub weights_sha256: String,
    /// The precision the embedder runs (`f32`, `bf16`, `f16`); empty when read back from a
    /// store.
    #[serde(skip)]
    pub dtype: String,
}

impl PartialEq for ModelId {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.weights_sha256 == other.weights_sha256
    }
}
impl Eq for ModelId {}

pub use vector::{cosine, dot, normalize};

/// A deterministic embedder without a model: lower-cased word unigrams and bigrams hashed into
/// `dim` buckets with signs, then L2-normalised. Texts sharing words get similar vectors, which is
/// enough to test indexing, search, clustering and summaries without model files.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dim: usize,
}

impl HashEmbedder {
    /// A hashing embedder producing `dim`-dimensional vectors.
    pub fn new(dim: usize) -> Self {
        Self { dim: dim.max(1) }
    }

    fn words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase())
            .collect()
    }

    fn bucket(&self, feature: &str) -> (usize, f32) {
        let h = Sha256::digest(feature.as_bytes());
        let n = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
        (
            (n % self.dim as u64) as usize,
            if h[8] & 1 == 0 { 1.0 } else { -1.0 },
        )
    }
}

impl Embedder for HashEmbedder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> ModelId {
        ModelId {
            name: format!("simsum/hash-{}", self.dim),
            weights_sha256: String::new(),
            dtype: DType::F32.to_string(),
        }
    }

    fn max_tokens(&self) -> usize {
        256
    }

    fn count_tokens(&self, text: &str) -> usize {
        Self::words(text).len() + 2
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| {
                let words = Self::words(t);
                let mut v = vec![0.0f32; self.dim];
                for w in &words {
                    let (i, s) = self.bucket(w);
                    v[i] += s;
                }
                for pair in words.windows(2) {
                    let (i, s) = self.bucket(&format!("{} {}", pair[0], pair[1]));
                    v[i] += 0.5 * s;
                }
                normalize(&mut v);
                let n_tokens = (words.len() + 2).min(self.max_tokens());
                Embedding {
                    vector: v,
                    n_tokens,
                    truncated: words.len() + 2 > self.max_tokens(),
                }
            })
            .collect())
    }
}
