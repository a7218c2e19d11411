//! Documents flattened into stored items (sections, initiatives, sentences) with their content
//! hashes, and section vectors made from initiative vectors: the part of an update every store
//! shares, so that all stores give an item the same id, hash, position and vector.
//!
//! The local index directory has its own copy of these rules (`store::local::plan`) until it moves
//! onto this module; `tests/milvus.rs` checks both stores produce the same items.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::ingest::Document;
use crate::store::Level;

/// An item of a freshly ingested document, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub id: String,
    pub level: Level,
    pub doc_id: String,
    pub section_id: String,
    pub parent_id: Option<String>,
    /// Position inside the document (sections, initiatives and sentences share one count).
    pub ordinal: i64,
    pub heading: String,
    pub text: String,
    pub boilerplate: bool,
    /// For a sentence: its byte range inside the initiative's text.
    pub byte_range: Option<(usize, usize)>,
    /// SHA-256 of the text (for a section: of its heading and initiative hashes).
    pub content_hash: String,
}

/// Hex SHA-256 of the parts, each followed by a NUL byte.
pub fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Turns documents into items: for each section, the section, then each initiative followed by
/// its sentences.
pub fn flatten(docs: &[Document]) -> Vec<NewItem> {
    let mut out = Vec::new();
    for d in docs {
        let mut ordinal = 0i64;
        let mut next = || {
            ordinal += 1;
            ordinal
        };
        for s in &d.sections {
            let mut section_hash_parts: Vec<String> = vec![s.heading.clone()];
            let section_text: Vec<&str> = s.initiatives.iter().map(|i| i.text.as_str()).collect();
            let section_ordinal = next();
            let mut section_items = Vec::new();
            for init in &s.initiatives {
                let h = sha256_hex(&[&init.text]);
                section_hash_parts.push(format!("{}:{h}", init.boilerplate));
                section_items.push(NewItem {
                    id: init.id.clone(),
                    level: Level::Initiative,
                    doc_id: d.id.clone(),
                    section_id: s.id.clone(),
                    parent_id: Some(s.id.clone()),
                    ordinal: next(),
                    heading: s.heading.clone(),
                    text: init.text.clone(),
                    boilerplate: init.boilerplate,
                    byte_range: None,
                    content_hash: h,
                });
                for (n, sent) in init.sentences.iter().enumerate() {
                    section_items.push(NewItem {
                        id: format!("{}:{}", init.id, n + 1),
                        level: Level::Sentence,
                        doc_id: d.id.clone(),
                        section_id: s.id.clone(),
                        parent_id: Some(init.id.clone()),
                        ordinal: next(),
                        heading: s.heading.clone(),
                        text: sent.text.clone(),
                        boilerplate: init.boilerplate,
                        byte_range: Some(sent.byte_range),
                        content_hash: sha256_hex(&[&sent.text]),
                    });
                }
            }
            if !s.initiatives.is_empty() {
                let parts: Vec<&str> = section_hash_parts.iter().map(String::as_str).collect();
                out.push(NewItem {
                    id: s.id.clone(),
                    level: Level::Section,
                    doc_id: d.id.clone(),
                    section_id: s.id.clone(),
                    parent_id: None,
                    ordinal: section_ordinal,
                    heading: s.heading.clone(),
                    text: section_text.join("\n\n"),
                    boilerplate: s.initiatives.iter().all(|i| i.boilerplate),
                    byte_range: None,
                    content_hash: sha256_hex(&[&format!("section\0{}", parts.join("\0"))]),
                });
            }
            out.extend(section_items);
        }
    }
    out
}

/// Section vectors: the normalised mean of each section's non-boilerplate initiatives (all of
/// them when every one is boilerplate). `vectors` maps initiative ids to their vectors; a
/// section without any gets none.
pub fn section_vectors(
    items: &[NewItem],
    vectors: &HashMap<String, Vec<f32>>,
    dim: usize,
) -> HashMap<String, Vec<f32>> {
    let mut init_vecs: HashMap<&str, Vec<(bool, &Vec<f32>)>> = HashMap::new();
    for item in items.iter().filter(|i| i.level == Level::Initiative) {
        if let Some(v) = vectors.get(&item.id) {
            init_vecs
                .entry(item.section_id.as_str())
                .or_default()
                .push((item.boilerplate, v));
        }
    }
    let mut out = HashMap::new();
    for item in items.iter().filter(|i| i.level == Level::Section) {
        let vs = init_vecs
            .get(item.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let own: Vec<&Vec<f32>> = vs.iter().filter(|(bp, _)| !bp).map(|(_, v)| *v).collect();
        let pick: Vec<&Vec<f32>> = if own.is_empty() {
            vs.iter().map(|(_, v)| *v).collect()
        } else {
            own
        };
        if pick.is_empty() {
            continue;
        }
        let mut mean = vec![0f32; dim];
        for v in &pick {
            mean.iter_mut().zip(v.iter()).for_each(|(m, x)| *m += x);
        }
        crate::embed::normalize(&mut mean);
        out.insert(item.id.clone(), mean);
    }
    out
}
