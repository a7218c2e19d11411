//! The first phase of an update: what the documents become and what must be embedded. It
//! turns documents into item rows with content hashes ([`flatten`], the rules every store
//! shares), decides which stored documents the update speaks for (its scope) and which of them
//! are gone, and finds, by content hash, the texts whose vectors are already stored. After the
//! embed phase, [`Plan::attach_vectors`] gives every item its vector; a section's is the
//! normalised mean of its initiatives' ([`section_vectors`]).

use std::collections::{HashMap, HashSet};

use super::sqlite::{Db, ItemRow};
use crate::ingest::Document;
use crate::store::items::{flatten, section_vectors};
use crate::store::update::UpdateScope;
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
        let scope = UpdateScope::new(opts);
        let new_doc_ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let mut affected: Vec<String> = Vec::new();
        let mut removed_docs: Vec<String> = Vec::new();
        for (id, path) in db.document_paths()? {
            if new_doc_ids.contains(id.as_str()) {
                affected.push(id);
            } else if scope.removes(&path) {
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
        let items: Vec<NewItem> = flatten(docs)
            .into_iter()
            .map(|row| NewItem { row, vector: None })
            .collect();
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
        let mut sections =
            section_vectors(self.items.iter().map(|i| (&i.row, i.vector.as_deref())));
        for item in self
            .items
            .iter_mut()
            .filter(|i| i.row.level == Level::Section)
        {
            item.vector = sections.remove(&item.row.id);
        }
        self.items.retain(|i| i.vector.is_some());
    }
}
