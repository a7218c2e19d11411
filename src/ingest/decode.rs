//! Bytes to text: binary detection, BOM handling and per-line decoding (UTF-8, falling back to
//! Windows-1252, which covers Latin-1). Lines are decoded one at a time so that a large file is
//! streamed rather than held twice; the content hash is computed over the raw bytes on the way.
//!
//! [`CharRefs`] is the one place HTML character references (`&amp;`, `&#39;`, `&eacute;`) in
//! text are decoded: exports of every format carry them, and left alone they reach titles and
//! keyphrases as words like "apos".

use std::borrow::Cow;
use std::io::BufRead;

use sha2::{Digest, Sha256};

use super::{Format, IngestError};

/// Whether a reader's text may still hold HTML character references for ingest to decode.
///
/// Plain text, Markdown, JSON Lines fields and PDF text do: feeds and exports write `&apos;`,
/// `&quot;` and `&#39;` into them. An HTML parser has already decoded its text, and decoding
/// that again would turn a page's written `&amp;amp;` (which means the text `&amp;`) into `&`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharRefs {
    /// Decode references once, when text enters the document model.
    Decode,
    /// The parser decoded them: keep the text as it is.
    Decoded,
}

impl CharRefs {
    /// What text read in `format` needs.
    pub fn of(format: Format) -> Self {
        match format {
            Format::Html => CharRefs::Decoded,
            Format::Text | Format::Markdown | Format::JsonLines | Format::Pdf => CharRefs::Decode,
        }
    }

    /// `text` with its character references decoded (when this reader needs it). Only complete
    /// references, ending in `;`, are decoded: `AT&T`, `a & b` and `R&D;` stay as written, and
    /// HTML's legacy semicolon-less forms (`&copy`, `&not`) would misread ordinary text such as
    /// `&notation`. References to control characters and invalid code points stay as written.
    pub fn apply(self, text: &str) -> Cow<'_, str> {
        match self {
            CharRefs::Decode => html_escape::decode_html_entities(text),
            CharRefs::Decoded => Cow::Borrowed(text),
        }
    }
}

/// How much of the start of a file is checked for NUL bytes, like ripgrep's binary detection.
const BINARY_PROBE: usize = 8 * 1024;

/// One decoded line (without its line ending) and where it starts in the decoded text.
pub(crate) struct Line {
    pub text: String,
    /// 1-based line number.
    pub number: usize,
    /// Byte offset of the line in the decoded text.
    pub offset: usize,
}

/// Decodes a byte stream line by line.
pub(crate) struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    hasher: Sha256,
    number: usize,
    offset: usize,
    started: bool,
    /// Lines that were not valid UTF-8 and were decoded as Windows-1252.
    pub legacy_lines: usize,
    /// First line decoded as Windows-1252.
    pub first_legacy_line: Option<usize>,
    pub had_bom: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(reader: R) -> Self {
        LineReader {
            reader,
            buf: Vec::new(),
            hasher: Sha256::new(),
            number: 0,
            offset: 0,
            started: false,
            legacy_lines: 0,
            first_legacy_line: None,
            had_bom: false,
        }
    }

    /// Checks the start of the stream for binary content and a UTF-16 BOM (which callers must
    /// handle with [`decode_utf16`] before streaming), and skips a UTF-8 BOM.
    fn start(&mut self) -> Result<(), IngestError> {
        self.started = true;
        let head = self.reader.fill_buf()?;
        if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            return Err(IngestError::Undecodable {
                line: 1,
                reason: "UTF-16 text: decode it before streaming".into(),
            });
        }
        let probe = &head[..head.len().min(BINARY_PROBE)];
        if let Some(pos) = probe.iter().position(|&b| b == 0) {
            let line = 1 + probe[..pos].iter().filter(|&&b| b == b'\n').count();
            return Err(IngestError::Binary { line });
        }
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.hasher.update([0xEF, 0xBB, 0xBF]);
            self.reader.consume(3);
            self.had_bom = true;
        }
        Ok(())
    }

    /// The next decoded line, or `None` at the end.
    pub fn next_line(&mut self) -> Result<Option<Line>, IngestError> {
        if !self.started {
            self.start()?;
        }
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.hasher.update(&self.buf);
        self.number += 1;
        let raw_len = self.buf.len();
        let mut bytes = &self.buf[..];
        if let Some(b) = bytes.strip_suffix(b"\n") {
            bytes = b.strip_suffix(b"\r").unwrap_or(b);
        }
        let ending = raw_len - bytes.len();
        if bytes.contains(&0) {
            return Err(IngestError::Binary { line: self.number });
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                if let Some(c) = text.chars().find(|&c| is_undecodable(c)) {
                    return Err(IngestError::Undecodable {
                        line: self.number,
                        reason: format!(
                            "neither UTF-8 nor Windows-1252 text (byte U+{:04X})",
                            c as u32
                        ),
                    });
                }
                self.legacy_lines += 1;
                self.first_legacy_line.get_or_insert(self.number);
                text.into_owned()
            }
        };
        let line = Line {
            number: self.number,
            offset: self.offset,
            text,
        };
        self.offset += line.text.len() + ending;
        Ok(Some(line))
    }

    /// Bytes of decoded text read so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Reads to the end (so the hash covers the whole input) and returns the sha256 in hex.
    pub fn finish_hash(mut self) -> Result<String, IngestError> {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest)?;
        self.hasher.update(&rest);
        Ok(hex::encode(self.hasher.finalize()))
    }

    /// A note describing the encoding, when it was anything but plain UTF-8.
    pub fn encoding_note(&self) -> Option<String> {
        match (self.legacy_lines, self.had_bom) {
            (0, false) => None,
            (0, true) => Some("UTF-8 with BOM".to_string()),
            (n, _) => Some(format!(
                "decoded {n} line(s) as Windows-1252/Latin-1 (first: line {})",
                self.first_legacy_line.unwrap_or(0)
            )),
        }
    }
}

/// Control characters that do not occur in text; their presence after a Windows-1252 decode
/// means the bytes were not text in any encoding we read.
fn is_undecodable(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\u{c}' | '\r')) || c == '\u{fffd}'
}

/// Decodes a whole UTF-16 (with BOM) input into UTF-8 bytes, or `None` if it has no UTF-16 BOM.
pub(crate) fn decode_utf16(bytes: &[u8]) -> Option<Result<String, IngestError>> {
    let (encoding, _) = encoding_rs::Encoding::for_bom(bytes)?;
    if encoding == encoding_rs::UTF_8 {
        return None;
    }
    let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
    Some(if had_errors {
        Err(IngestError::Undecodable {
            line: 1,
            reason: format!("invalid {} text", encoding.name()),
        })
    } else {
        Ok(text.into_owned())
    })
}

/// Decodes a whole input (for formats that need all of it at once, like HTML): the same rules
/// as [`LineReader`], returning the text, the content hash and an optional encoding note.
pub(crate) fn decode_all(bytes: &[u8]) -> Result<(String, String, Option<String>), IngestError> {
    let hash = hex::encode(Sha256::digest(bytes));
    if let Some(text) = decode_utf16(bytes) {
        let text = text?;
        return Ok((text, hash, Some("UTF-16 with BOM".to_string())));
    }
    let mut reader = LineReader::new(bytes);
    let mut text = String::with_capacity(bytes.len());
    while let Some(line) = reader.next_line()? {
        text.push_str(&line.text);
        text.push('\n');
    }
    Ok((text, hash, reader.encoding_note()))
}
