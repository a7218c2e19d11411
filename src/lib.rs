//! simsum: semantic similarity and extractive summarization over local sentence embeddings.
//!
//! The modules follow the data:
//! [`ingest`] turns files into documents, sections, initiatives and sentences;
//! [`model`] finds and verifies sentence-transformer files on disk;
//! [`embed`] turns texts into vectors with a BERT-family model run through candle;
//! [`store`] is the interface every question is asked through, with two engines behind it:
//! [`store::local`] (items and vectors on disk with HNSW graphs over them) and Milvus;
//! [`search`] answers "find similar initiatives" queries against an index;
//! [`cluster`] groups indexed items into labelled themes;
//! [`summarize`] picks representative sentences from documents, themes or results;
//! [`entities`] finds countries, organisations and years in a text, and [`facets`] filters
//! and counts stored items by them;
//! [`text`] holds what these stages share about language (stop words, openers, near-copies);
//! [`answer`] is the typed result model both faces (CLI `--json`, API) serialise;
//! [`report`] renders all of the above for terminals, Markdown, JSON and HTML;
//! `serve` answers the same questions over HTTP (an API and a web page; cargo feature `server`);
//! [`mod@bench`] measures every stage.
//!
//! The `simsum` binary is a thin command-line layer over this library.

// An `unsafe fn` body is not one big unsafe block: each unsafe operation sits in its own block
// with the reason it holds.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod answer;
pub mod bench;
pub mod cluster;
pub mod compare;
pub mod embed;
pub mod entities;
pub mod facets;
pub mod ingest;
pub mod model;
pub mod report;
pub mod search;
#[cfg(feature = "server")]
pub mod serve;
pub mod store;
pub mod summarize;
pub mod text;
