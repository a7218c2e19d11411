//! Older paths of the local store, kept so that code written against them still compiles while
//! the move to [`crate::store::local`] settles; new code imports from [`crate::store`].

pub use crate::store::local::graphs::{flat, hnsw, knn, KnnGraph};
pub use crate::store::local::{
    layout, manifest, LocalStore as IndexDir, LocalWriter as IndexWriter, WriterLock, THEMES_FILE,
};
pub use crate::store::{
    DocumentInfo, ItemFilter, Level, LevelStats, ModelMismatch, StoreError as IndexError,
    StoredItem, StoredSentence, UpdateOptions, UpdateStats,
};
