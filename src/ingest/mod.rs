//! Files in, documents out: the document model every later stage shares.
//!
//! A [`Document`] holds [`Section`]s; a section holds [`Initiative`]s (paragraph-level units,
//! what "find similar initiatives" returns) and captions; an initiative holds [`Sentence`]s (for
//! summaries and for explaining a match). Ids are stable across re-ingesting an unchanged file:
//! `<doc>#s<section>.p<paragraph>` (plus `.<part>` when a long paragraph was split).
//!
//! The parsers for each input format live in submodules (`text` for plain text and the seed
//! format, `markdown`, `html`, `jsonl`, `pdf`); `builder` turns their blocks into sections with ids and
//! token-budget splits; `decode` handles encodings and binary detection. [`ingest_paths`] walks
//! paths like ripgrep (hidden files and `.gitignore` respected), detects each file's format,
//! and reports bad files in [`IngestReport::skipped`] without aborting the batch.

mod builder;
mod decode;
mod html;
mod jsonl;
mod markdown;
mod pdf;
pub mod sentences;
mod text;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use builder::SectionBuilder;
use decode::{CharRefs, LineReader};
use text::TextHeader;

pub use pdf::PdfError;

/// What [`ingest_paths`] and [`parse_document`] need to know besides the input.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Force one input format for every file (`seed`, `text`, `markdown`, `html`, `jsonl`, `pdf`);
    /// `None` detects it from the file extension.
    pub format: Option<String>,
    /// The model's token budget per initiative, special tokens included.
    pub max_tokens: usize,
    /// Add per-file notes (format, counts) to [`IngestReport::notes`].
    pub verbose: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            max_tokens: 256,
            verbose: false,
        }
    }
}

/// An input (or one line of it) that was not ingested, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    /// 1-based line, when the problem is on one line (a JSON Lines record, undecodable bytes).
    pub line: Option<usize>,
    pub reason: String,
}

/// Everything one ingestion batch produced.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub documents: Vec<Document>,
    pub skipped: Vec<Skipped>,
    /// Things worth saying with `-v`: encodings detected, HTML errors recovered, per-file counts.
    pub notes: Vec<String>,
}

/// Why a file (or a record in it) could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("no text found")]
    NoText,
    #[error("binary file (NUL byte on line {line})")]
    Binary { line: usize },
    #[error("undecodable bytes: {reason}")]
    Undecodable { line: usize, reason: String },
    #[error("invalid record: {reason}")]
    InvalidRecord { line: usize, reason: String },
    #[error("unknown format `{0}` (expected seed, text, markdown, html, jsonl or pdf)")]
    UnknownFormat(String),
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

impl IngestError {
    /// The 1-based line the error is on, when it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            IngestError::Binary { line }
            | IngestError::Undecodable { line, .. }
            | IngestError::InvalidRecord { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// The input formats simsum reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text; files with a seed-style `Date:`/`Source:` header come out as format `seed`.
    Text,
    Markdown,
    Html,
    JsonLines,
    Pdf,
}

impl Format {
    /// The format a `--format` value names.
    pub fn from_name(name: &str) -> Result<Format, IngestError> {
        match name.to_ascii_lowercase().as_str() {
            "seed" | "text" | "txt" | "plain" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" | "htm" => Ok(Format::Html),
            "jsonl" | "ndjson" | "json-lines" | "jsonlines" => Ok(Format::JsonLines),
            "pdf" => Ok(Format::Pdf),
            _ => Err(IngestError::UnknownFormat(name.to_string())),
        }
    }

    /// The format a file extension implies, if it is one simsum reads.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" => Some(Format::Text),
            "md" | "markdown" | "mdown" => Some(Format::Markdown),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

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

    /// Gives the document a new id and rewrites its section and initiative ids to match.
    pub fn set_id(&mut self, id: &str) {
        let old = format!("{}#", self.id);
        let new = format!("{id}#");
        for section in &mut self.sections {
            section.id = section.id.replacen(&old, &new, 1);
            for init in &mut section.initiatives {
                init.id = init.id.replacen(&old, &new, 1);
            }
        }
        self.id = id.to_string();
    }
}

/// What parsing one input produced: documents, plus records that were bad (JSON Lines).
struct FileOutcome {
    documents: Vec<Document>,
    bad_records: Vec<IngestError>,
    notes: Vec<String>,
}

/// Walks files/folders (recursively, ripgrep-like: `ignore` crate, hidden files and .gitignore
/// respected), parses each, marks boilerplate across the batch. Never panics; bad files go to
/// `skipped`.
///
/// Inside folders only files with a known extension are read (or all files when
/// `opts.format` is set); a file named explicitly is read as plain text when its extension
/// says nothing. Documents whose ids collide get `-2`, `-3`, ... in walk order (sorted by name).
pub fn ingest_paths(
    paths: &[PathBuf],
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> IngestReport {
    let mut report = IngestReport::default();
    let forced = match opts.format.as_deref().map(Format::from_name).transpose() {
        Ok(f) => f,
        Err(e) => {
            report.skipped.extend(paths.iter().map(|p| Skipped {
                path: p.clone(),
                line: None,
                reason: e.to_string(),
            }));
            return report;
        }
    };
    let mut used_ids = HashSet::new();
    for root in paths {
        if let Err(e) = std::fs::metadata(root) {
            report.skipped.push(Skipped {
                path: root.clone(),
                line: None,
                reason: IngestError::Io(e).to_string(),
            });
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            // Folders of reports are rarely git repositories; honour their .gitignore anyway.
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => path.clone(),
                        _ => root.clone(),
                    };
                    report.skipped.push(Skipped {
                        path,
                        line: None,
                        reason: err.to_string(),
                    });
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = entry.path();
            let format = match forced.or_else(|| Format::from_path(path)) {
                Some(f) => f,
                None if entry.depth() == 0 => Format::Text,
                None => continue,
            };
            ingest_file(path, format, opts, count_tokens, &mut report, &mut used_ids);
        }
    }
    mark_boilerplate(&mut report.documents);
    report
}

fn ingest_file(
    path: &Path,
    format: Format,
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
    report: &mut IngestReport,
    used_ids: &mut HashSet<String>,
) {
    let outcome = std::fs::File::open(path)
        .map_err(IngestError::from)
        .and_then(|f| {
            parse_stream(
                path,
                BufReader::with_capacity(1 << 16, f),
                format,
                opts,
                count_tokens,
            )
        });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            report.skipped.push(Skipped {
                path: path.to_path_buf(),
                line: e.line(),
                reason: e.to_string(),
            });
            return;
        }
    };
    for note in outcome.notes {
        report.notes.push(format!("{}: {note}", path.display()));
    }
    for bad in outcome.bad_records {
        report.skipped.push(Skipped {
            path: path.to_path_buf(),
            line: bad.line(),
            reason: bad.to_string(),
        });
    }
    for mut doc in outcome.documents {
        if used_ids.contains(&doc.id) {
            let base = doc.id.clone();
            let id = (2..)
                .map(|n| format!("{base}-{n}"))
                .find(|id| !used_ids.contains(id))
                .unwrap_or(base);
            report.notes.push(format!(
                "{}: id `{}` already used, renamed to `{id}`",
                path.display(),
                doc.id
            ));
            doc.set_id(&id);
        }
        used_ids.insert(doc.id.clone());
        if opts.verbose {
            let inits: usize = doc.sections.iter().map(|s| s.initiatives.len()).sum();
            let caps: usize = doc.sections.iter().map(|s| s.captions.len()).sum();
            report.notes.push(format!(
                "{}: {} `{}`: {} sections, {inits} initiatives, {caps} captions",
                path.display(),
                doc.format,
                doc.id,
                doc.sections.len()
            ));
        }
        report.documents.push(doc);
    }
}

/// Decodes an input's bytes as the text formats do (byte-order marks, UTF-16, legacy 8-bit
/// encodings, binary detection): the text, and a note naming the encoding when it was not
/// UTF-8. Each line of the text ends with `\n`.
pub fn decode_text(bytes: &[u8]) -> Result<(String, Option<String>), IngestError> {
    decode::decode_all(bytes).map(|(text, _, note)| (text, note))
}

/// Parse one in-memory text (used for summarizing a file on the fly and in tests).
///
/// The format comes from `opts.format`, else from the extension of `path` (plain text when it
/// says nothing). A bad JSON Lines record makes the whole call fail with the record's line;
/// use [`ingest_paths`] to skip bad records instead.
pub fn parse_document(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Result<Vec<Document>, IngestError> {
    let format = match &opts.format {
        Some(name) => Format::from_name(name)?,
        None => Format::from_path(path).unwrap_or(Format::Text),
    };
    let mut outcome = parse_stream(path, bytes, format, opts, count_tokens)?;
    if !outcome.bad_records.is_empty() {
        return Err(outcome.bad_records.swap_remove(0));
    }
    Ok(outcome.documents)
}

/// Parses one input of a known format from a reader.
fn parse_stream<R: BufRead>(
    path: &Path,
    mut reader: R,
    format: Format,
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Result<FileOutcome, IngestError> {
    let head = reader.fill_buf()?;
    if head.is_empty() {
        return Err(IngestError::Empty);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if format == Format::Pdf {
        return parse_pdf_stream(path, reader, &stem, opts, count_tokens);
    }
    // UTF-16 cannot be split into lines byte-wise: decode it whole, then stream the UTF-8.
    if encoding_rs::Encoding::for_bom(head).is_some_and(|(e, _)| e != encoding_rs::UTF_8) {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        let hash = hex::encode(Sha256::digest(&bytes));
        let text = decode::decode_utf16(&bytes).unwrap_or(Err(IngestError::Empty))?;
        let mut outcome = parse_stream(path, text.as_bytes(), format, opts, count_tokens)?;
        outcome.notes.push("decoded from UTF-16".to_string());
        for doc in outcome
            .documents
            .iter_mut()
            .filter(|_| format != Format::JsonLines)
        {
            doc.content_hash = hash.clone();
        }
        return Ok(outcome);
    }
    let doc_id = slug(&stem);
    let char_refs = CharRefs::of(format);
    let builder = SectionBuilder::new(&doc_id, char_refs, opts.max_tokens, count_tokens);
    let mut notes = Vec::new();
    let (mut header, sections, hash, format_name) = match format {
        Format::Text | Format::Markdown => {
            let mut lines = LineReader::new(reader);
            let (header, sections) = if format == Format::Text {
                text::parse_text(&mut lines, builder, true)?
            } else {
                markdown::parse_markdown(&mut lines, builder)?
            };
            notes.extend(lines.encoding_note());
            if lines.offset() == 0 || (sections.is_empty() && lines_were_blank(&header)) {
                return Err(IngestError::Empty);
            }
            let name = match format {
                Format::Markdown => "markdown",
                _ if header.is_seed => "seed",
                _ => "text",
            };
            (header, sections, lines.finish_hash()?, name)
        }
        Format::Html => {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes)?;
            let (source, hash, note) = decode::decode_all(&bytes)?;
            drop(bytes);
            notes.extend(note);
            if source.trim().is_empty() {
                return Err(IngestError::Empty);
            }
            let (header, sections) = html::parse_html(&source, builder, &mut notes)?;
            (header, sections, hash, "html")
        }
        Format::JsonLines => {
            let outcome = jsonl::parse_jsonl(reader, path, &stem, opts, count_tokens)?;
            if outcome.documents.is_empty() && outcome.bad_records.is_empty() {
                return Err(IngestError::Empty);
            }
            return Ok(outcome);
        }
        Format::Pdf => unreachable!("handled above"),
    };
    if sections.is_empty() {
        return Err(IngestError::NoText);
    }
    header.decode_char_refs(char_refs);
    let doc = assemble(path, &doc_id, &stem, header, sections, hash, format_name);
    Ok(FileOutcome {
        documents: vec![doc],
        bad_records: Vec::new(),
        notes,
    })
}

/// Reads a whole PDF (the format needs random access) and parses it.
fn parse_pdf_stream<R: BufRead>(
    path: &Path,
    reader: R,
    stem: &str,
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Result<FileOutcome, IngestError> {
    let mut bytes = Vec::new();
    reader
        .take(pdf::MAX_PDF_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > pdf::MAX_PDF_BYTES {
        return Err(PdfError::TooLarge(bytes.len()).into());
    }
    let hash = hex::encode(Sha256::digest(&bytes));
    let doc_id = slug(stem);
    let char_refs = CharRefs::of(Format::Pdf);
    let builder = SectionBuilder::new(&doc_id, char_refs, opts.max_tokens, count_tokens);
    let mut notes = Vec::new();
    let (mut header, sections) = pdf::parse_pdf(&bytes, builder, &mut notes)?;
    if sections.is_empty() {
        return Err(IngestError::NoText);
    }
    header.decode_char_refs(char_refs);
    let doc = assemble(path, &doc_id, stem, header, sections, hash, "pdf");
    Ok(FileOutcome {
        documents: vec![doc],
        bad_records: Vec::new(),
        notes,
    })
}

fn lines_were_blank(header: &TextHeader) -> bool {
    header.title.is_none()
        && header.date.is_none()
        && header.source.is_none()
        && header.metadata.is_empty()
}

/// Puts a document together from what a parser found.
fn assemble(
    path: &Path,
    id: &str,
    fallback_title: &str,
    header: TextHeader,
    sections: Vec<Section>,
    content_hash: String,
    format: &str,
) -> Document {
    Document {
        id: id.to_string(),
        title: header.title.unwrap_or_else(|| fallback_title.to_string()),
        date: header.date,
        source: header.source,
        path: path.to_path_buf(),
        content_hash,
        format: format.to_string(),
        metadata: header.metadata,
        sections,
    }
}

/// Marks initiatives whose text (after whitespace normalisation) occurs in two or more of the
/// documents, like an editor's note shared by a series; all others are unmarked. Documents that
/// are near-copies of each other ([`crate::text::document_families`]: one report republished
/// with the city renamed) count as one: the text they share is the report, not boilerplate.
pub fn mark_boilerplate(docs: &mut [Document]) {
    let families = {
        let texts: Vec<Vec<&str>> = docs
            .iter()
            .map(|d| d.initiatives().map(|(_, i)| i.text.as_str()).collect())
            .collect();
        crate::text::document_families(&texts)
    };
    fn key(text: &str) -> [u8; 16] {
        let digest = Sha256::digest(sentences::normalize_whitespace(text).as_bytes());
        let mut k = [0; 16];
        k.copy_from_slice(&digest[..16]);
        k
    }
    // For each text: the first family it was seen in, and whether another family has it too.
    let mut seen: HashMap<[u8; 16], (usize, bool)> = HashMap::new();
    for (d, doc) in docs.iter().enumerate() {
        for (_, init) in doc.initiatives() {
            let entry = seen.entry(key(&init.text)).or_insert((families[d], false));
            entry.1 |= entry.0 != families[d];
        }
    }
    for doc in docs.iter_mut() {
        for section in &mut doc.sections {
            for init in &mut section.initiatives {
                init.boilerplate = seen
                    .get(&key(&init.text))
                    .is_some_and(|&(_, shared)| shared);
            }
        }
    }
}

/// Conservative token estimate used when no tokenizer is at hand (the `sections` command).
///
/// Mimics a WordPiece tokenizer: two special tokens, one token per punctuation mark and CJK
/// character, and one token per started six characters of each alphanumeric run.
pub fn estimate_tokens(text: &str) -> usize {
    fn run_tokens(len: usize) -> usize {
        len.div_ceil(6)
    }
    let mut tokens = 2;
    let mut run = 0;
    for c in text.chars() {
        if c.is_alphanumeric() && !is_cjk(c) {
            run += 1;
            continue;
        }
        tokens += run_tokens(run);
        run = 0;
        if !c.is_whitespace() {
            tokens += 1;
        }
    }
    tokens + run_tokens(run)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// A stable id from a file stem or record id: lower case, runs of anything but letters,
/// digits and `_` turned into one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "doc".to_string()
    } else {
        out.to_string()
    }
}

/// Parses common date spellings (`2023-01-29`, `2023/1/29`, `2023-01-29T10:00`,
/// `January 29, 2023`, `29 Jan 2023`, `2023年1月29日`, full-width digits too) into ISO
/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<String> {
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let folded: String;
    let text = if text.chars().any(|c| crate::text::cjk::fold_width(c) != c) {
        folded = text.chars().map(crate::text::cjk::fold_width).collect();
        folded.trim()
    } else {
        text.trim()
    };
    let iso = |y: u32, m: u32, d: u32| {
        ((1..=12).contains(&m) && (1..=31).contains(&d) && (1000..=9999).contains(&y))
            .then(|| format!("{y:04}-{m:02}-{d:02}"))
    };
    if let Some((y, m, d)) = chinese_date(text) {
        return iso(y, m, d);
    }
    let numeric: Vec<&str> = text.split(['-', '/', '.', 'T', ' ']).take(3).collect();
    if let [y, m, d] = numeric[..] {
        if y.len() == 4 {
            if let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse()) {
                return iso(y, m, d);
            }
        }
    }
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .collect();
    let month = |w: &str| {
        MONTHS
            .iter()
            .position(|m| w.len() >= 3 && w.is_char_boundary(3) && m.starts_with(&w[..3]))
            .map(|i| i as u32 + 1)
    };
    match &words[..] {
        [m, d, y] if month(m).is_some() => iso(
            y.parse().ok()?,
            month(m)?,
            d.trim_end_matches(char::is_alphabetic).parse().ok()?,
        ),
        [d, m, y] if month(m).is_some() => iso(
            y.parse().ok()?,
            month(m)?,
            d.trim_end_matches(char::is_alphabetic).parse().ok()?,
        ),
        _ => None,
    }
}

/// `2023年1月29日` (or `号` for `日`, spaces allowed), at the start of `text`: year, month, day.
fn chinese_date(text: &str) -> Option<(u32, u32, u32)> {
    /// The number before the first of `units` in `s`, and the text after that unit.
    fn take<'a>(s: &'a str, units: &[char]) -> Option<(u32, &'a str)> {
        let (n, rest) = s.split_once(units)?;
        let n = n.trim();
        if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((n.parse().ok()?, rest))
    }
    let (y, rest) = take(text, &['年'])?;
    let (m, rest) = take(rest, &['月'])?;
    let (d, _) = take(rest, &['日', '号'])?;
    Some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for (text, date) in [
            ("2023-01-29", Some("2023-01-29")),
            ("2023/1/9", Some("2023-01-09")),
            ("2023-01-29T10:00:00Z", Some("2023-01-29")),
            ("January 29, 2023", Some("2023-01-29")),
            ("29 Jan 2023", Some("2023-01-29")),
            ("yesterday", None),
            // Chinese dates: full-width digits, spaces, 号 for 日; a whole date or none.
            ("2023年1月30日", Some("2023-01-30")),
            ("2023年01月09日 10:00", Some("2023-01-09")),
            ("２０２３年１月３０日", Some("2023-01-30")),
            ("2023 年 1 月 30 号", Some("2023-01-30")),
            ("2023年13月30日", None),
            ("2023年1月", None),
            ("去年1月30日", None),
        ] {
            assert_eq!(parse_date(text).as_deref(), date, "{text}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("000_23f0baf8f5491e38"), "000_23f0baf8f5491e38");
        assert_eq!(slug("My Report (final).v2"), "my-report-final-v2");
        assert_eq!(slug("..."), "doc");
    }

    #[test]
    fn token_estimate() {
        assert_eq!(estimate_tokens(""), 2);
        assert_eq!(estimate_tokens("Hello, world."), 2 + 1 + 1 + 1 + 1);
        assert_eq!(estimate_tokens("今天"), 4);
    }
}
