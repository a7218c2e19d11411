//! The two seed reports as [`Document`]s, for tests, plus the embedders they use.
//!
//! A minimal reader of the seed layout (title line, `Date:`/`Source:` header, blank-line
//! paragraphs, numbered headings, caption lines): just enough to test clustering and summaries
//! until the tests can call `simsum::ingest` for the same job.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use simsum::ingest::{Document, Initiative, Section, Sentence};

pub fn seed_dir() -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    if local.is_dir() {
        local
    } else {
        PathBuf::from("/work/shared/seeds")
    }
}

fn is_heading(p: &str) -> bool {
    let first = p.split_whitespace().next().unwrap_or("");
    let numeral = first.trim_end_matches('.');
    first.ends_with('.')
        && !numeral.is_empty()
        && numeral
            .chars()
            .all(|c| "IVXLC".contains(c) || c.is_ascii_digit())
        && !p.ends_with('.')
}

fn is_caption(p: &str) -> bool {
    !p.ends_with(['.', '!', '?', '"', '\u{201d}', ':'])
}

pub fn split_sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for k in 0..chars.len() {
        let (i, c) = chars[k];
        let end_here = matches!(c, '.' | '!' | '?')
            && (k + 1 == chars.len()
                || (chars[k + 1].1 == ' '
                    && chars.get(k + 2).is_some_and(|(_, n)| {
                        n.is_uppercase() || n.is_ascii_digit() || *n == '"'
                    })));
        if end_here {
            let end = i + c.len_utf8();
            let s = text[start..end].trim();
            if !s.is_empty() {
                let lead = text[start..end].len() - text[start..end].trim_start().len();
                out.push(Sentence {
                    text: s.to_string(),
                    byte_range: (start + lead, end),
                });
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        let lead = text[start..].len() - text[start..].trim_start().len();
        out.push(Sentence {
            text: rest.to_string(),
            byte_range: (start + lead, text.len()),
        });
    }
    out
}

/// Reads one seed file.
pub fn read_seed(path: &Path) -> Document {
    let raw = std::fs::read_to_string(path).unwrap();
    let id = path.file_stem().unwrap().to_string_lossy().to_string();
    let mut lines = raw.lines();
    let title = lines.next().unwrap().trim().to_string();
    let mut sections = vec![Section {
        id: format!("{id}#s0"),
        ordinal: 0,
        heading: String::new(),
        number: None,
        byte_range: (0, raw.len()),
        captions: Vec::new(),
        initiatives: Vec::new(),
    }];
    let mut date = None;
    let mut source = None;
    for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(d) = line.strip_prefix("Date:") {
            date = Some(d.trim().to_string());
        } else if let Some(s) = line.strip_prefix("Source:") {
            source = Some(s.trim().to_string());
        } else if line.starts_with("fontSize:") {
        } else if is_heading(line) {
            let (number, heading) = line.split_once(' ').unwrap();
            let ordinal = sections.len();
            sections.push(Section {
                id: format!("{id}#s{ordinal}"),
                ordinal,
                heading: heading.trim().to_string(),
                number: Some(number.trim_end_matches('.').to_string()),
                byte_range: (0, raw.len()),
                captions: Vec::new(),
                initiatives: Vec::new(),
            });
        } else if is_caption(line) {
            sections.last_mut().unwrap().captions.push(line.to_string());
        } else {
            let s = sections.last_mut().unwrap();
            let p = s.initiatives.len();
            s.initiatives.push(Initiative {
                id: format!("{}.p{p}", s.id),
                text: line.to_string(),
                boilerplate: false,
                sentences: split_sentences(line),
            });
        }
    }
    Document {
        id,
        title,
        date,
        source,
        path: path.to_path_buf(),
        content_hash: String::new(),
        format: "seed".into(),
        metadata: Default::default(),
        sections,
    }
}

/// Both seeds, with paragraphs that occur in both marked as boilerplate (the editor's note).
pub fn seed_documents() -> Vec<Document> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(seed_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    let mut docs: Vec<Document> = paths.iter().map(|p| read_seed(p)).collect();
    let mut count = std::collections::HashMap::<String, usize>::new();
    for d in &docs {
        let mut seen = std::collections::HashSet::new();
        for (_, i) in d.initiatives() {
            if seen.insert(i.text.clone()) {
                *count.entry(i.text.clone()).or_default() += 1;
            }
        }
    }
    for d in &mut docs {
        for s in &mut d.sections {
            for i in &mut s.initiatives {
                i.boilerplate = count[&i.text] > 1;
            }
        }
    }
    docs
}

/// The default sentence-transformer, loaded as users would load it.
pub fn minilm() -> simsum::embed::bert::BertEmbedder {
    use simsum::model::{self, ResolveOptions, DEFAULT_MODEL};
    let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default())
        .unwrap_or_else(|e| panic!("the seed-quality tests need the default model: {e}"));
    let opts = simsum::embed::bert::BertOptions {
        device: "cpu".into(),
        ..Default::default()
    };
    simsum::embed::bert::BertEmbedder::load(&files, opts).unwrap()
}
