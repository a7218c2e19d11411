//! The PDF extractor: `pdf-extract` interprets each page's content stream and hands every glyph
//! to a [`Collector`]; the metadata (title, creation date) and the outline come from `lopdf`'s
//! objects. The cargo feature `pdf` compiles it in; without it [`extract`] refuses every file
//! with [`PdfError::NotBuilt`].

#[cfg(feature = "pdf")]
use super::{Glyph, MAX_GLYPHS};
use super::{Page, PdfError};

/// What the extractor thread hands back.
#[derive(Debug, Default)]
pub(super) struct Extracted {
    pub(super) pages: Vec<Page>,
    pub(super) outline: Vec<String>,
    pub(super) info_title: Option<String>,
    pub(super) info_date: Option<String>,
    pub(super) truncated: bool,
}

/// Stack of the extractor thread: `lopdf` recurses into nested objects.
#[cfg(feature = "pdf")]
const EXTRACTOR_STACK: usize = 256 << 20;

/// Without the `pdf` feature there is no extractor: every PDF is refused with the reason.
#[cfg(not(feature = "pdf"))]
pub(super) fn extract(_bytes: &[u8]) -> Result<Extracted, PdfError> {
    Err(PdfError::NotBuilt)
}

#[cfg(feature = "pdf")]
pub(super) use with_extractor::extract;

#[cfg(feature = "pdf")]
mod with_extractor {
    use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

    use super::*;
    use crate::ingest::sentences::normalize_whitespace;

    /// Collects glyphs page by page (the `OutputDev` pdf-extract drives).
    #[derive(Default)]
    struct Collector {
        pages: Vec<Page>,
        glyphs: usize,
        truncated: bool,
    }

    impl OutputDev for Collector {
        fn begin_page(
            &mut self,
            _page_num: u32,
            media_box: &MediaBox,
            _art_box: Option<(f64, f64, f64, f64)>,
        ) -> Result<(), OutputError> {
            let dim = |a: f64, b: f64| {
                let d = (a - b).abs();
                if d.is_finite() && d > 1.0 {
                    d
                } else {
                    842.0
                }
            };
            self.pages.push(Page {
                width: dim(media_box.urx, media_box.llx),
                height: dim(media_box.ury, media_box.lly),
                glyphs: Vec::new(),
            });
            Ok(())
        }

        fn end_page(&mut self) -> Result<(), OutputError> {
            Ok(())
        }

        fn output_character(
            &mut self,
            trm: &Transform,
            width: f64,
            _spacing: f64,
            font_size: f64,
            text: &str,
        ) -> Result<(), OutputError> {
            if self.glyphs >= MAX_GLYPHS {
                self.truncated = true;
                return Ok(());
            }
            let Some(page) = self.pages.last_mut() else {
                return Ok(());
            };
            // The size as drawn: the font size scaled by the text matrix (any rotation ignored).
            let scale = (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
            let size = (font_size * scale).abs();
            let (x, y) = (trm.m31, page.height - trm.m32);
            if !(x.is_finite() && y.is_finite() && size.is_finite() && width.is_finite())
                || size < 0.5
            {
                return Ok(());
            }
            if text.chars().all(char::is_control) {
                return Ok(());
            }
            self.glyphs += 1;
            page.glyphs.push(Glyph {
                x,
                y,
                w: (width * size).max(0.0),
                size,
                text: unligature(text),
            });
            Ok(())
        }

        fn begin_word(&mut self) -> Result<(), OutputError> {
            Ok(())
        }

        fn end_word(&mut self) -> Result<(), OutputError> {
            Ok(())
        }

        fn end_line(&mut self) -> Result<(), OutputError> {
            Ok(())
        }
    }

    /// A glyph's text with the Latin typographic ligatures (`ﬁ`, `ﬂ`, `ﬀ`, `ﬃ`, `ﬄ`, `ﬅ`, `ﬆ`,
    /// U+FB00-FB06, which fonts such as DejaVu draw for "fi" and "ffi") spelled out as letters.
    fn unligature(text: &str) -> String {
        if !text.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 2);
        for c in text.chars() {
            match c {
                '\u{FB00}' => out.push_str("ff"),
                '\u{FB01}' => out.push_str("fi"),
                '\u{FB02}' => out.push_str("fl"),
                '\u{FB03}' => out.push_str("ffi"),
                '\u{FB04}' => out.push_str("ffl"),
                '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
                c => out.push(c),
            }
        }
        out
    }

    /// Runs the extractor on its own thread; a panic in it becomes an error.
    pub(crate) fn extract(bytes: &[u8]) -> Result<Extracted, PdfError> {
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("pdf-extract".into())
                .stack_size(EXTRACTOR_STACK)
                .spawn_scoped(scope, || extract_inner(bytes))
                .map_err(|e| PdfError::Extractor(format!("cannot start its thread: {e}")))?;
            handle.join().unwrap_or_else(|payload| {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panicked".into());
                Err(PdfError::Extractor(format!("it panicked: {msg}")))
            })
        })
    }

    fn extract_inner(bytes: &[u8]) -> Result<Extracted, PdfError> {
        let mut doc =
            pdf_extract::Document::load_mem(bytes).map_err(|e| load_error(e.to_string()))?;
        if doc.is_encrypted() && doc.decrypt("").is_err() {
            return Err(PdfError::Encrypted);
        }
        if doc.get_pages().is_empty() {
            return Err(PdfError::Broken("no pages".into()));
        }
        let mut collector = Collector::default();
        pdf_extract::output_doc(&doc, &mut collector).map_err(|e| match e {
            OutputError::PdfError(e) => load_error(e.to_string()),
            e => PdfError::Extractor(e.to_string()),
        })?;
        let outline = doc
            .get_toc()
            .map(|t| {
                t.toc
                    .into_iter()
                    .map(|e| normalize_whitespace(&e.title))
                    .collect()
            })
            .unwrap_or_default();
        let info = doc.trailer.get(b"Info").ok().and_then(|o| match o {
            pdf_extract::Object::Reference(id) => doc.get_dictionary(*id).ok(),
            pdf_extract::Object::Dictionary(d) => Some(d),
            _ => None,
        });
        let info_text = |key: &[u8]| {
            info.and_then(|d| d.get(key).ok())
                .and_then(|o| o.as_str().ok())
                .map(decode_pdf_string)
        };
        Ok(Extracted {
            info_title: info_text(b"Title"),
            info_date: info_text(b"CreationDate"),
            pages: collector.pages,
            outline,
            truncated: collector.truncated,
        })
    }

    fn load_error(msg: String) -> PdfError {
        if msg.to_ascii_lowercase().contains("decrypt")
            || msg.to_ascii_lowercase().contains("encrypt")
        {
            PdfError::Encrypted
        } else {
            PdfError::Broken(msg)
        }
    }

    /// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding (Latin-1 near enough).
    fn decode_pdf_string(bytes: &[u8]) -> String {
        if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            return String::from_utf16_lossy(&units);
        }
        if let Ok(s) = std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes))
        {
            return s.to_string();
        }
        bytes.iter().map(|&b| b as char).collect()
    }
}
