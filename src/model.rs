//! Finding, fetching and verifying sentence-transformer model files (in progress).

/// The model used when none is given.
pub const DEFAULT_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Errors finding or reading model files.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{0}")]
    NotFound(String),
}
