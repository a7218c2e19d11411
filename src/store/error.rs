//! The store's errors: each names the file, folder or server involved and, where there is
//! one, the fix. An engine's own failures (SQLite, the graph files, a Milvus server) arrive as
//! [`StoreError::Engine`], in the engine's words, so callers need no engine's error type.

use std::path::PathBuf;

use crate::embed::EmbedError;
use crate::store::local::graphs::GraphError;

/// Errors of a store; each names the file, folder or server involved and, where there is one,
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no index at {dir}: create one with `simsum index PATH...`")]
    NotFound { dir: PathBuf },
    #[error("{path}: not a valid index manifest ({reason}); rebuild with `simsum index --rebuild PATH...`")]
    Manifest { path: PathBuf, reason: String },
    #[error("{path}: index format {found} is newer than this simsum reads (up to {supported}); upgrade simsum, or rebuild with `simsum index --rebuild PATH...`")]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}: index format {found} is older than this simsum reads (from {oldest}); rebuild with `simsum index --rebuild PATH...`")]
    OlderFormat {
        path: PathBuf,
        found: u32,
        oldest: u32,
    },
    #[error("{0}")]
    ModelMismatch(Box<ModelMismatch>),
    #[error("index {dir} is locked by another writer ({holder}); wait for it to finish")]
    Locked { dir: PathBuf, holder: String },
    #[error("{path}: the index database is corrupt ({reason}); rebuild with `simsum index --rebuild PATH...`")]
    CorruptDatabase { path: PathBuf, reason: String },
    #[error("embedding failed: {0}")]
    Embed(#[from] EmbedError),
    /// An engine's own failure, in its own words (SQLite, the HNSW graph files, a Milvus
    /// server's answer): the message names the place, `engine` the engine, and no engine's
    /// error type reaches the store's callers.
    #[error("{message}")]
    Engine {
        engine: &'static str,
        message: String,
    },
    #[error("no item `{id}` in store {store}")]
    UnknownItem { store: String, id: String },
    #[error("store URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("store {url}: TLS: {reason}")]
    Tls { url: String, reason: String },
    #[error("store {url}: refusing to send the store token in clear (plain HTTP) to {host}, which is not this machine; turn TLS on with milvus+tls://{host}:{port}/{name} (and --store-ca FILE for a private CA), or reach the server through 127.0.0.1")]
    TokenInClear {
        url: String,
        host: String,
        port: u16,
        name: String,
    },
    #[error("store `{url}`: this simsum was built without the cargo feature `{feature}`; rebuild with `--features {feature}`")]
    NotBuilt { url: String, feature: &'static str },
    #[error("cannot reach the {engine} server of {url} ({reason}); start it, or check the host and port in --store / SIMSUM_STORE")]
    Unreachable {
        engine: &'static str,
        url: String,
        reason: String,
    },
    #[error("no simsum store at {url}: create one with `simsum index --store {url} PATH...`")]
    NoStore { url: String },
    #[error("store {url}: {reason}")]
    BadData { url: String, reason: String },
    #[error("store {url} keeps no entities yet: run `simsum index PATH...` again to add them (only the entities are computed; nothing is embedded again)")]
    NoTags { url: String },
    #[error("store {url}: shard {shard} is being written by another writer ({holder}, shard {other}); wait for it to finish, or for its lease to expire in {seconds} s")]
    Leased {
        url: String,
        shard: String,
        other: String,
        holder: String,
        seconds: u64,
    },
}

impl From<GraphError> for StoreError {
    fn from(e: GraphError) -> Self {
        StoreError::Engine {
            engine: "hnsw_rs",
            message: e.to_string(),
        }
    }
}

/// The model recorded in an index differs from the one in use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store {store} was built with model `{index_model}` ({index_dim}-d, weights sha256 {index_sha}), but the current model is `{current_model}` ({current_dim}-d, weights sha256 {current_sha}); pass `--model {index_model}`, or rebuild with `simsum index --rebuild PATH...`")]
pub struct ModelMismatch {
    /// The store's URL (`dir:PATH`, `milvus://HOST:PORT/NAME`).
    pub store: String,
    pub index_model: String,
    pub index_sha: String,
    pub index_dim: usize,
    pub current_model: String,
    pub current_sha: String,
    pub current_dim: usize,
}
