//! JSON Lines: one document per line, `{"id", "title", "text"}` plus optional `date`, `source`
//! and `label`; every other field is kept as metadata. The `text` is parsed like plain text
//! (blank-line paragraphs, numbered headings, captions) without title detection. Lines are
//! streamed, and a bad line is reported with its number while the rest of the file goes on.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::builder::SectionBuilder;
use super::decode::{CharRefs, LineReader};
use super::text::TextHeader;
use super::{parse_date, slug, text, Document, FileOutcome, Format, IngestError, IngestOptions};

/// Parses every line into documents, collecting bad records (with their line) on the way.
pub(crate) fn parse_jsonl<R: BufRead>(
    reader: R,
    path: &Path,
    stem: &str,
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Result<FileOutcome, IngestError> {
    let mut lines = LineReader::new(reader);
    let mut documents = Vec::new();
    let mut bad = Vec::new();
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            // One record in a foreign encoding does not spoil the others.
            Err(e @ IngestError::Undecodable { .. }) => {
                bad.push(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if line.text.trim().is_empty() {
            continue;
        }
        match parse_record(&line.text, line.number, stem, opts, count_tokens) {
            Ok(mut doc) => {
                doc.path = path.to_path_buf();
                documents.push(doc);
            }
            Err(e) => bad.push(e),
        }
    }
    Ok(FileOutcome {
        documents,
        bad_records: bad,
        notes: lines.encoding_note().into_iter().collect(),
    })
}

fn parse_record(
    line: &str,
    number: usize,
    stem: &str,
    opts: &IngestOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Result<Document, IngestError> {
    let invalid = |reason: String| IngestError::InvalidRecord {
        line: number,
        reason,
    };
    let value: Value =
        serde_json::from_str(line).map_err(|e| invalid(format!("not valid JSON ({e})")))?;
    let Value::Object(map) = value else {
        return Err(invalid("not a JSON object".into()));
    };
    let mut metadata: BTreeMap<String, Value> = map.into_iter().collect();
    let text = match metadata.remove("text") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(invalid("`text` is not a string".into())),
        None => return Err(invalid("no `text` field".into())),
    };
    let id = match metadata.remove("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => slug(&s),
        Some(Value::Number(n)) => slug(&n.to_string()),
        None | Some(Value::Null) => format!("{}-{number}", slug(stem)),
        Some(_) => return Err(invalid("`id` is neither a string nor a number".into())),
    };
    let title = match metadata.remove("title") {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => id.clone(),
    };
    let date = match metadata.remove("date") {
        Some(Value::String(s)) => {
            let iso = parse_date(&s);
            if iso.is_none() {
                metadata.insert("date_raw".into(), Value::String(s));
            }
            iso
        }
        Some(other) => {
            metadata.insert("date_raw".into(), other);
            None
        }
        None => None,
    };
    let source = match metadata.remove("source") {
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    let char_refs = CharRefs::of(Format::JsonLines);
    let builder = SectionBuilder::new(&id, char_refs, opts.max_tokens, count_tokens);
    let mut lines = LineReader::new(text.as_bytes());
    let (_, sections) = text::parse_text(&mut lines, builder, false)
        .map_err(|e| invalid(format!("in `text`: {e}")))?;
    if sections.is_empty() {
        return Err(invalid("`text` is empty".into()));
    }
    let mut header = TextHeader {
        title: Some(title),
        source,
        metadata,
        ..TextHeader::default()
    };
    header.decode_char_refs(char_refs);
    Ok(Document {
        id,
        title: header.title.unwrap_or_default(),
        date,
        source: header.source,
        path: Default::default(),
        content_hash: hex::encode(Sha256::digest(line.as_bytes())),
        format: "jsonl".into(),
        metadata: header.metadata,
        sections,
    })
}
