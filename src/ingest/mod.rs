//! Files in, documents out: the document model every later stage shares.
//!
//! A [`Document`] holds [`Section`]s; a section holds [`Initiative`]s (paragraph-level units,
//! what "find similar initiatives" returns) and captions; an initiative holds [`Sentence`]s (for
//! summaries and for explaining a match). Ids are stable across re-ingesting an unchanged file:
//! `<doc>#s<section>.p<paragraph>` (plus `.<part>` when a long paragraph was split).
//!
//! The parsers for each input format live in submodules; [`Ingestor`] walks paths, detects the
//! format and encoding, and reports bad files without aborting the batch.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One input document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Stable slug from the file name or the record id.
    pub id: String,
    pub title: String,
    /// ISO date (`YYYY-MM-DD`) when the source gives one.
    pub date: Option<String>,
    pub source: Option<String>,
    /// The file the document came from (for JSON Lines: the file holding the record).
    pub path: PathBuf,
    /// sha256 (hex) of the document's raw bytes (for JSON Lines: of the record's line).
    pub content_hash: String,
    /// Input format name: `seed`, `markdown`, `text`, `html`, `jsonl`, `pdf`.
    pub format: String,
    /// Any other fields the source carries (e.g. a JSON Lines record's `label`).
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    pub sections: Vec<Section>,
}

/// A section of a document; ordinal 0 is the untitled introduction when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// `<doc>#s<ordinal>`.
    pub id: String,
    pub ordinal: usize,
    /// Heading text without its numbering (may be empty for the intro).
    pub heading: String,
    /// The heading's numbering as written (`I`, `2.3`, `Chapter 4`), if any.
    #[serde(default)]
    pub number: Option<String>,
    /// Byte range of the section in the decoded source text.
    pub byte_range: (usize, usize),
    /// Photo captions and similar short non-sentence lines found in the section.
    #[serde(default)]
    pub captions: Vec<String>,
    pub initiatives: Vec<Initiative>,
}

/// A paragraph-level unit of running text: what "find similar initiatives" returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Initiative {
    /// `<doc>#s<section>.p<paragraph>`, or `...p<paragraph>.<part>` for a split paragraph.
    pub id: String,
    pub text: String,
    /// True when the same paragraph (after whitespace normalisation) occurs in two or more
    /// documents of the batch, like a shared editor's note.
    #[serde(default)]
    pub boilerplate: bool,
    pub sentences: Vec<Sentence>,
}

/// One sentence of an initiative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    pub text: String,
    /// Byte range of the sentence inside its initiative's `text`.
    pub byte_range: (usize, usize),
}

impl Document {
    /// All initiatives in reading order.
    pub fn initiatives(&self) -> impl Iterator<Item = (&Section, &Initiative)> {
        self.sections
            .iter()
            .flat_map(|s| s.initiatives.iter().map(move |i| (s, i)))
    }
}
