//! The first phase of an update: what the documents become and what must be embedded. It
//! turns documents into item rows with content hashes ([`flatten`]), decides which stored
//! documents the update speaks for (its scope) and which of them are gone, and finds, by content
//! hash, the texts whose vectors are already stored. After the embed phase,
//! [`Plan::attach_vectors`] gives every item its vector; a section's is the normalised mean of
//! its initiatives'.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::norm_path;
use super::sqlite::{Db, ItemRow};
use crate::ingest::Document;
use crate::store::{Level, StoreError, UpdateOptions};

/// An item built from a freshly ingested document, before it is stored.
pub(super) struct NewItem {
    pub row: ItemRow,
    pub vector: Option<Vec<f32>>,
}

/// What one update will store, and what it needs from the model.
pub(super) struct Plan<'a> {
    pub docs: &'a [Document],
    /// Stored documents in scope that were not ingested again (their files are gone).
    pub removed_docs: Vec<String>,
    /// The stored rows of every document the update touches, by item id (none on a rebuild).
    pub existing: HashMap<String, ItemRow>,
    /// The new items, sections first in each section's run (sentences and initiatives follow).
    pub items: Vec<NewItem>,
    /// Vectors found in the store, by content hash.
    reused: HashMap<String, Vec<f32>>,
    /// Texts the model must embed, as `(content hash, text)`, each hash once.
    pub to_embed: Vec<(String, String)>,
}

impl<'a> Plan<'a> {
    /// Plans an update of the store behind `db` to `docs` under `opts`.
    pub fn new(db: &Db, docs: &'a [Document], opts: &UpdateOptions) -> Result<Self, StoreError> {
        // Which stored documents this update speaks for.
        let scope: Vec<PathBuf> = opts.scope.iter().map(|p| norm_path(p)).collect();
        let keep: HashSet<PathBuf> = opts.keep_paths.iter().map(|p| norm_path(p)).collect();
        let new_doc_ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let mut affected: Vec<String> = Vec::new();
        let mut removed_docs: Vec<String> = Vec::new();
        for (id, path) in db.document_paths()? {
            let in_scope = opts.rebuild || scope.iter().any(|s| path.starts_with(s));
            if new_doc_ids.contains(id.as_str()) {
                affected.push(id);
            } else if in_scope && (opts.rebuild || !keep.contains(&path)) {
                affected.push(id.clone());
                removed_docs.push(id);
            }
        }
        // A rebuild stores everything anew: nothing counts as existing, no vector is reused.
        let existing = if opts.rebuild {
            HashMap::new()
        } else {
            db.rows_of_docs(&affected)?
        };
        let items = flatten(docs);
        let mut reused: HashMap<String, Vec<f32>> = HashMap::new();
        let mut to_embed: Vec<(String, String)> = Vec::new();
        let mut queued: HashSet<&str> = HashSet::new();
        for item in items.iter().filter(|i| i.row.level != Level::Section) {
            let h = item.row.content_hash.as_str();
            if reused.contains_key(h) || queued.contains(h) {
                continue;
            }
            if !opts.rebuild {
                if let Some(v) = db.vector_by_hash(h)? {
                    reused.insert(h.to_string(), v);
                    continue;
                }
            }
            queued.insert(h);
            to_embed.push((h.to_string(), item.row.text.clone()));
        }
        Ok(Self {
            docs,
            removed_docs,
            existing,
            items,
            reused,
            to_embed,
        })
    }

    /// Gives each item its vector: sentences and initiatives from `embedded` or the reused ones
    /// (by content hash), sections the normalised mean of their non-boilerplate initiatives (of
    /// all, when every one is boilerplate). Items left without a vector are dropped.
    pub fn attach_vectors(&mut self, mut embedded: HashMap<String, Vec<f32>>) {
        embedded.extend(std::mem::take(&mut self.reused));
        for item in self
            .items
            .iter_mut()
            .filter(|i| i.row.level != Level::Section)
        {
            item.vector = embedded.get(&item.row.content_hash).cloned();
        }
        let mut init_vecs: HashMap<String, Vec<(bool, Vec<f32>)>> = HashMap::new();
        for item in self
            .items
            .iter()
            .filter(|i| i.row.level == Level::Initiative)
        {
            if let Some(v) = &item.vector {
                init_vecs
                    .entry(item.row.section_id.clone())
                    .or_default()
                    .push((item.row.boilerplate, v.clone()));
            }
        }
        for item in self
            .items
            .iter_mut()
            .filter(|i| i.row.level == Level::Section)
        {
            let vs = init_vecs
                .get(&item.row.id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let own: Vec<&Vec<f32>> = vs.iter().filter(|(bp, _)| !bp).map(|(_, v)| v).collect();
            let pick: Vec<&Vec<f32>> = if own.is_empty() {
                vs.iter().map(|(_, v)| v).collect()
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
            item.vector = Some(mean);
        }
        self.items.retain(|i| i.vector.is_some());
    }
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Turns documents into item rows (sections, initiatives, sentences) with content hashes.
fn flatten(docs: &[Document]) -> Vec<NewItem> {
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
                    row: ItemRow {
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
                    },
                    vector: None,
                });
                for (n, sent) in init.sentences.iter().enumerate() {
                    section_items.push(NewItem {
                        row: ItemRow {
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
                        },
                        vector: None,
                    });
                }
            }
            if !s.initiatives.is_empty() {
                let parts: Vec<&str> = section_hash_parts.iter().map(String::as_str).collect();
                out.push(NewItem {
                    row: ItemRow {
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
                    },
                    vector: None,
                });
            }
            out.extend(section_items);
        }
    }
    out
}
