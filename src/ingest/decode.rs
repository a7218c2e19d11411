//! Bytes to text: binary detection, BOM handling and per-line decoding (UTF-8; else GB18030,
//! which covers GBK and GB2312, when the bytes look like Chinese in it; else Windows-1252, which
//! covers Latin-1). Lines are decoded one at a time so that a large file is streamed rather than
//! held twice; the content hash is computed over the raw bytes on the way.
//!
//! Telling GB18030 from Windows-1252 ([`looks_like_gb18030`]): Chinese in GBK is pairs of bytes
//! both from `A1`–`FE` (the GB2312 rows, where all common characters are), while accented
//! Latin-1 letters stand alone between ASCII ones, where GBK wants a second byte of `40` or
//! more, or pair with an ASCII letter (`é` + `t`), outside the GB2312 rows. The start of the
//! file decides which way a line too short to tell leans.
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
    /// Lines that were not valid UTF-8 and were decoded as GB18030.
    pub gb_lines: usize,
    /// First line decoded as GB18030.
    pub first_gb_line: Option<usize>,
    /// Whether the start of the input reads as GB18030 text: a line that is valid GB18030
    /// but too short to tell by itself is then taken as GB18030.
    lean_gb: bool,
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
            gb_lines: 0,
            first_gb_line: None,
            lean_gb: false,
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
        // A character cut off by the end of the buffer does not make the head invalid UTF-8.
        let utf8 = std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true);
        self.lean_gb = !utf8 && looks_like_gb18030(head, GbEvidence::Head);
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
        let text = match decode_line(bytes, self.lean_gb) {
            Ok((text, None)) => text,
            Ok((text, Some(Legacy::Gb18030))) => {
                self.gb_lines += 1;
                self.first_gb_line.get_or_insert(self.number);
                text
            }
            Ok((text, Some(Legacy::Windows1252))) => {
                self.legacy_lines += 1;
                self.first_legacy_line.get_or_insert(self.number);
                text
            }
            Err(reason) => {
                return Err(IngestError::Undecodable {
                    line: self.number,
                    reason,
                })
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
        let gb = (self.gb_lines > 0).then(|| {
            format!(
                "decoded {} line(s) as GB18030/GBK (first: line {})",
                self.gb_lines,
                self.first_gb_line.unwrap_or(0)
            )
        });
        let latin = match (self.legacy_lines, self.had_bom) {
            (0, false) => None,
            (0, true) => Some("UTF-8 with BOM".to_string()),
            (n, _) => Some(format!(
                "decoded {n} line(s) as Windows-1252/Latin-1 (first: line {})",
                self.first_legacy_line.unwrap_or(0)
            )),
        };
        match (gb, latin) {
            (Some(g), Some(l)) if self.legacy_lines > 0 => Some(format!("{g}; {l}")),
            (Some(g), _) => Some(g),
            (None, l) => l,
        }
    }
}

/// The legacy encodings a line that is not UTF-8 may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Legacy {
    Gb18030,
    Windows1252,
}

/// Decodes one line: as UTF-8 (no legacy encoding) when it is valid UTF-8, unless the input
/// leans to GB18030 and the line is non-ASCII GB18030 too (a short GBK line such as `图1`, bytes
/// `CD BC 31`, happens to be valid UTF-8); else as [`decode_legacy`] says.
fn decode_line(bytes: &[u8], lean_gb: bool) -> Result<(String, Option<Legacy>), String> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !lean_gb || s.is_ascii() || !looks_like_gb18030(bytes, GbEvidence::Leaning) => {
            Ok((s.to_string(), None))
        }
        _ => decode_legacy(bytes, lean_gb).map(|(text, legacy)| (text, Some(legacy))),
    }
}

/// Decodes a line that is not UTF-8: as GB18030 when it reads as Chinese in it (leaning that
/// way when the input's start did), else as Windows-1252; the error names the first byte that
/// is text in neither.
fn decode_legacy(bytes: &[u8], lean_gb: bool) -> Result<(String, Legacy), String> {
    let evidence = if lean_gb {
        GbEvidence::Leaning
    } else {
        GbEvidence::Line
    };
    if looks_like_gb18030(bytes, evidence) {
        if let Some(text) =
            encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
        {
            return Ok((text.into_owned(), Legacy::Gb18030));
        }
    }
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    match text.chars().find(|&c| is_undecodable(c)) {
        Some(c) => Err(format!(
            "neither UTF-8 nor Windows-1252 text (byte U+{:04X})",
            c as u32
        )),
        None => Ok((text.into_owned(), Legacy::Windows1252)),
    }
}

/// How much a byte string must show to be read as GB18030.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GbEvidence {
    /// The start of an input (its last sequence may be cut off by the buffer): at least two
    /// characters, nearly all from the GB2312 rows.
    Head,
    /// One line on its own: the same as the head, and complete.
    Line,
    /// One line of an input whose start read as GB18030: well-formed is enough.
    Leaning,
}

/// Whether `bytes` (not valid UTF-8) read as Chinese in GB18030: every non-ASCII byte starts a
/// well-formed two- or four-byte sequence, and (unless the input already leans that way) at
/// least two of them, with at least four in five from the GB2312 rows (both bytes `A1`–`FE`).
fn looks_like_gb18030(bytes: &[u8], evidence: GbEvidence) -> bool {
    let (mut gb2312, mut other) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        let rest = &bytes[i + 1..];
        let (len, core) = match (b, rest) {
            (0x81..=0xFE, [0x30..=0x39, 0x81..=0xFE, 0x30..=0x39, ..]) => (4, false),
            (0x81..=0xFE, [t, ..]) if (0x40..=0xFE).contains(t) && *t != 0x7F => {
                (2, b >= 0xA1 && *t >= 0xA1)
            }
            // A sequence cut off by the end of the head's buffer.
            (0x81..=0xFE, _) if evidence == GbEvidence::Head && rest.len() < 3 => break,
            _ => return false,
        };
        if core {
            gb2312 += 1;
        } else {
            other += 1;
        }
        i += len;
    }
    match evidence {
        GbEvidence::Leaning => gb2312 + other > 0,
        GbEvidence::Head | GbEvidence::Line => gb2312 >= 2 && gb2312 * 5 >= (gb2312 + other) * 4,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    #[test]
    fn chinese_in_gbk_is_told_from_latin_1() {
        let zh = gbk("一、发挥专业优势（CANGO）。");
        assert!(looks_like_gb18030(&zh, GbEvidence::Line));
        assert_eq!(
            decode_legacy(&zh, false).unwrap(),
            ("一、发挥专业优势（CANGO）。".to_string(), Legacy::Gb18030)
        );
        // Latin-1: accents between ASCII letters, at word ends, and two in a row (`öß`).
        for latin in [
            &b"caf\xe9 cr\xe8me br\xfbl\xe9e"[..],
            b"f\xfcr sch\xf6n",
            b"Gr\xf6\xdfe",
        ] {
            assert!(!looks_like_gb18030(latin, GbEvidence::Line), "{latin:?}");
            assert_eq!(decode_legacy(latin, false).unwrap().1, Legacy::Windows1252);
        }
        // One character is too little to tell alone, enough once the input leans to GB18030.
        let one = gbk("图1");
        assert_eq!(decode_legacy(&one, false).unwrap().1, Legacy::Windows1252);
        assert_eq!(
            decode_legacy(&one, true).unwrap(),
            ("图1".to_string(), Legacy::Gb18030)
        );
    }

    #[test]
    fn a_gbk_file_is_decoded_line_by_line_and_noted() {
        let bytes = gbk("北京民间外交\n日期：2023年1月30日\n\n图1\n");
        let (text, _, note) = decode_all(&bytes).unwrap();
        assert_eq!(text, "北京民间外交\n日期：2023年1月30日\n\n图1\n");
        assert_eq!(
            note.as_deref(),
            Some("decoded 3 line(s) as GB18030/GBK (first: line 1)")
        );
    }

    #[test]
    fn bytes_that_are_text_in_no_encoding_are_an_error_naming_the_line() {
        let err = decode_all(b"ok\nbad \x81\n").unwrap_err();
        assert!(
            matches!(err, IngestError::Undecodable { line: 2, .. }),
            "{err}"
        );
    }
}
