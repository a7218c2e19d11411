//! The index directory: items, vectors and an HNSW graph on disk (in progress).

pub mod knn;
