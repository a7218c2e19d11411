//! Documents flattened into stored items (sections, initiatives, sentences) with their content
//! hashes, and section vectors made from initiative vectors: the part of an update every store
//! shares, so that all stores give an item the same id, hash, position and vector.
//!
//! Both the local index directory's update plan and the Milvus writer call these, so an item's
//! id, hash, position and vector are decided here only; `tests/milvus.rs` checks both stores
//! give the same answers.

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
/// them when every one is boilerplate), in item order. `items` pairs each item with its vector,
/// if it has one; only initiatives count, and a section none of whose initiatives has a vector
/// gets none. Returned by section id.
pub fn section_vectors<'a>(
    items: impl IntoIterator<Item = (&'a NewItem, Option<&'a [f32]>)>,
) -> HashMap<String, Vec<f32>> {
    // Per section, in item order: (boilerplate, vector) of its initiatives.
    type Members<'v> = Vec<(bool, &'v [f32])>;
    let mut by_section: Vec<(&str, Members)> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for (item, v) in items {
        let (Level::Initiative, Some(v)) = (item.level, v) else {
            continue;
        };
        let n = *slot.entry(item.section_id.as_str()).or_insert_with(|| {
            by_section.push((item.section_id.as_str(), Vec::new()));
            by_section.len() - 1
        });
        by_section[n].1.push((item.boilerplate, v));
    }
    let mut out = HashMap::with_capacity(by_section.len());
    for (section, vs) in by_section {
        let own: Vec<&[f32]> = vs.iter().filter(|(bp, _)| !bp).map(|(_, v)| *v).collect();
        let pick: Vec<&[f32]> = if own.is_empty() {
            vs.iter().map(|(_, v)| *v).collect()
        } else {
            own
        };
        let Some(first) = pick.first() else {
            continue;
        };
        let mut mean = vec![0f32; first.len()];
        for v in &pick {
            mean.iter_mut().zip(v.iter()).for_each(|(m, x)| *m += x);
        }
        crate::embed::normalize(&mut mean);
        out.insert(section.to_string(), mean);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, level: Level, section: &str, boilerplate: bool) -> NewItem {
        NewItem {
            id: id.into(),
            level,
            doc_id: "d".into(),
            section_id: section.into(),
            parent_id: None,
            ordinal: 0,
            heading: String::new(),
            text: String::new(),
            boilerplate,
            byte_range: None,
            content_hash: String::new(),
        }
    }

    #[test]
    fn section_vectors_skip_boilerplate_unless_it_is_all_there_is() {
        let items = [
            item("a", Level::Section, "a", false),
            item("a1", Level::Initiative, "a", false),
            item("a2", Level::Initiative, "a", true),
            item("b", Level::Section, "b", true),
            item("b1", Level::Initiative, "b", true),
            item("b2", Level::Initiative, "b", true),
            item("c", Level::Section, "c", false),
            item("c1", Level::Initiative, "c", false),
        ];
        let v: HashMap<&str, Vec<f32>> = [
            ("a1", vec![3.0, 4.0]),
            ("a2", vec![1.0, 0.0]),
            ("b1", vec![1.0, 0.0]),
            ("b2", vec![0.0, 1.0]),
        ]
        .into_iter()
        .collect();
        let out = section_vectors(
            items
                .iter()
                .map(|i| (i, v.get(i.id.as_str()).map(Vec::as_slice))),
        );
        let close = |got: &[f32], want: [f32; 2]| {
            got.len() == 2 && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6)
        };
        assert!(close(&out["a"], [0.6, 0.8]), "{:?}", out["a"]);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!(close(&out["b"], [h, h]), "{:?}", out["b"]);
        assert!(
            !out.contains_key("c"),
            "a section without vectors gets none"
        );
        assert_eq!(out.len(), 2);
    }
}
