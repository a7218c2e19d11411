//! The steps of a Milvus update ([`MilvusWriter::update`]): plan what is stored, find or make
//! vectors, write item and document rows, move the generation. A child of the writer so the
//! steps read its fields directly.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{doc_row, item_row, same_row, Existing, MilvusWriter, DOC_FIELDS};
use crate::embed::Embedder;
use crate::ingest::Document;
use crate::store::items::{section_vectors, NewItem};
use crate::store::milvus::rows::{key, s, vector, AUX_VECTOR};
use crate::store::update::{Shard, UpdateScope};
use crate::store::{Level, StoreError, Tagger, UpdateOptions, UpdateStats};

/// What an update found stored: the document rows by id, the documents it removes, and the
/// item rows of every document it touches, per level.
pub(super) struct UpdatePlan {
    pub(super) stored_by_id: HashMap<String, Vec<(u64, Value)>>,
    pub(super) removed_docs: Vec<String>,
    pub(super) existing: [HashMap<String, Vec<Existing>>; 3],
}

/// One level's stored rows as an update found them, and how new rows are tagged.
pub(super) struct LevelRows {
    pub(super) level: Level,
    pub(super) olds: HashMap<String, Vec<Existing>>,
    pub(super) tagger: Option<Tagger>,
}

/// What an update wrote: per collection the last key written and whether it was an insert (a
/// delete otherwise), which the visibility wait reads.
#[derive(Default)]
pub(super) struct Writes {
    pub(super) last: HashMap<String, (u64, bool)>,
    pub(super) changed: bool,
}

impl Writes {
    fn inserted(&mut self, name: &str, keys: &[u64]) {
        if let Some(k) = keys.last() {
            self.last.insert(name.to_string(), (*k, true));
            self.changed = true;
        }
    }

    fn deleted(&mut self, name: &str, keys: &[u64]) {
        if let Some(k) = keys.last() {
            self.last.insert(name.to_string(), (*k, false));
            self.changed = true;
        }
    }
}

impl MilvusWriter {
    /// A rebuild asked of an open writer: reopens over emptied collections.
    pub(super) fn reopen_emptied(&mut self) -> Result<(), StoreError> {
        let url = self.store.url.clone();
        let shard = self.lease.as_ref().map_or(Shard::ALL, |l| l.shard);
        let model = self.store.info.model.clone();
        let dim = self.store.info.dimension;
        if let Some(l) = self.lease.take() {
            self.store
                .client
                .delete(&self.store.names.meta(), &[l.key])?;
        }
        *self = MilvusWriter::open(&url, self.store.client.token(), &model, dim, true, shard)?;
        Ok(())
    }

    /// Which stored documents this update speaks for, and their rows. Rows of new documents
    /// too: a run that stopped before writing a document's row may have written its items.
    pub(super) fn plan(
        &self,
        docs: &[Document],
        opts: &UpdateOptions,
    ) -> Result<UpdatePlan, StoreError> {
        let scope = UpdateScope::new(opts);
        let new_ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let mut doc_fields: Vec<&str> = DOC_FIELDS.to_vec();
        doc_fields.push("pk");
        let stored_docs =
            self.client()
                .query_all(&self.store.names.documents(), "pk >= 0", &doc_fields)?;
        let mut stored_by_id: HashMap<String, Vec<(u64, Value)>> = HashMap::new();
        for r in &stored_docs {
            let Some(key) = key(r) else {
                continue;
            };
            stored_by_id
                .entry(s(r, "doc_id"))
                .or_default()
                .push((key, r.clone()));
        }
        let removed_docs: Vec<String> = stored_by_id
            .iter()
            .filter(|(id, rows)| {
                !new_ids.contains(id.as_str()) && scope.removes(Path::new(&s(&rows[0].1, "path")))
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut touched: Vec<String> = new_ids.iter().map(|s| s.to_string()).collect();
        touched.extend(removed_docs.iter().cloned());
        touched.sort();
        let mut existing: [HashMap<String, Vec<Existing>>; 3] = Default::default();
        for level in Level::ALL {
            existing[level.slot()] = self.existing(level, &touched)?;
        }
        Ok(UpdatePlan {
            stored_by_id,
            removed_docs,
            existing,
        })
    }

    /// Every new item's vector by item id: reused from a stored row with the same content hash
    /// where there is one, embedded otherwise; sections get the mean of their initiatives.
    pub(super) fn vectors(
        &mut self,
        new_items: &[NewItem],
        plan: &UpdatePlan,
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
        stats: &mut UpdateStats,
    ) -> Result<HashMap<String, Vec<f32>>, StoreError> {
        let mut by_hash: HashMap<String, Vec<f32>> = HashMap::new();
        for level in [Level::Initiative, Level::Sentence] {
            for rows in plan.existing[level.slot()].values() {
                for e in rows {
                    by_hash
                        .entry(e.content_hash.clone())
                        .or_insert_with(|| vector(&e.row));
                }
            }
        }
        let embedded_items = || new_items.iter().filter(|i| i.level != Level::Section);
        let mut wanted: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for i in embedded_items() {
            if !by_hash.contains_key(&i.content_hash) && seen.insert(&i.content_hash) {
                wanted.push(i.content_hash.clone());
            }
        }
        by_hash.extend(self.vectors_by_hash(&wanted)?);
        let mut to_embed: Vec<(&str, &str)> = Vec::new();
        let mut queued: HashSet<&str> = HashSet::new();
        for i in embedded_items() {
            if !by_hash.contains_key(&i.content_hash) && queued.insert(&i.content_hash) {
                to_embed.push((&i.content_hash, &i.text));
            }
        }
        stats.embedded = to_embed.len();
        by_hash.extend(self.embed(&to_embed, embedder, opts, progress)?);
        let mut vectors: HashMap<String, Vec<f32>> = HashMap::new();
        for i in embedded_items() {
            if let Some(v) = by_hash.get(&i.content_hash) {
                vectors.insert(i.id.clone(), v.clone());
            }
        }
        let sections = section_vectors(
            new_items
                .iter()
                .map(|i| (i, vectors.get(&i.id).map(Vec::as_slice))),
        );
        vectors.extend(sections);
        Ok(vectors)
    }

    /// Embeds `(content hash, text)` pairs in batches, renewing the lease between batches.
    pub(super) fn embed(
        &mut self,
        to_embed: &[(&str, &str)],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Vec<(String, Vec<f32>)>, StoreError> {
        let batch = if opts.batch_size == 0 {
            256
        } else {
            opts.batch_size
        };
        progress(0, to_embed.len());
        let mut embedded: Vec<(String, Vec<f32>)> = Vec::with_capacity(to_embed.len());
        for (n, chunk) in to_embed.chunks(batch).enumerate() {
            let texts: Vec<&str> = chunk.iter().map(|(_, t)| *t).collect();
            let out = embedder.embed(&texts)?;
            for ((h, _), e) in chunk.iter().zip(out) {
                let mut v = e.vector;
                crate::embed::normalize(&mut v);
                embedded.push((h.to_string(), v));
            }
            progress(
                (n * batch + chunk.len()).min(to_embed.len()),
                to_embed.len(),
            );
            self.renew()?;
        }
        Ok(embedded)
    }

    /// Marks the store as tagged by `tagger` when every stored item now carries its tags: the
    /// rules did not change, or this update rewrote every document. Otherwise (no tagger, or
    /// other rules and documents this update left alone) the store says it keeps no tags, and
    /// the next full `simsum index` run tags it.
    pub(super) fn write_tagger(
        &self,
        tagger: Option<Tagger>,
        covers_all: bool,
        writes: &mut Writes,
    ) -> Result<(), StoreError> {
        let meta = self.store.names.meta();
        let old = self
            .client()
            .query_all(&meta, "kind == \"tagger\"", &["value"])?;
        let stored: Option<String> = old.last().map(|r| s(r, "value"));
        let old_keys: Vec<u64> = old.iter().filter_map(key).collect();
        match tagger {
            Some(t) if stored.as_deref() == Some(t.version) => Ok(()),
            Some(t) if covers_all => {
                let row = json!({"vec": AUX_VECTOR, "kind": "tagger", "value": t.version});
                writes.inserted(&meta, &self.client().replace(&meta, vec![row], &old_keys)?);
                Ok(())
            }
            _ if !old_keys.is_empty() && (writes.changed || tagger.is_some()) => {
                self.client().delete(&meta, &old_keys)?;
                writes.deleted(&meta, &old_keys);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One level's rows: new and changed rows in, stale rows out; unchanged rows stay.
    pub(super) fn write_level(
        &self,
        rows: LevelRows,
        new_items: &[NewItem],
        vectors: &HashMap<String, Vec<f32>>,
        stats: &mut UpdateStats,
        writes: &mut Writes,
    ) -> Result<(), StoreError> {
        let LevelRows {
            level,
            mut olds,
            tagger,
        } = rows;
        let name = self.store.names.level(level);
        let mut inserts: Vec<Value> = Vec::new();
        let mut kept: HashSet<u64> = HashSet::new();
        let mut new_here: HashSet<&str> = HashSet::new();
        for item in new_items.iter().filter(|i| i.level == level) {
            let Some(v) = vectors.get(&item.id) else {
                continue;
            };
            new_here.insert(&item.id);
            let row = item_row(item, v, tagger);
            let st = stats.level_mut(level);
            match olds
                .get(&item.id)
                .map(|rows| rows.iter().find(|e| same_row(&e.row, &row)))
            {
                Some(Some(e)) => {
                    kept.insert(e.key);
                    st.unchanged += 1;
                }
                Some(None) => {
                    inserts.push(row);
                    st.updated += 1;
                }
                None => {
                    inserts.push(row);
                    st.added += 1;
                }
            }
        }
        let mut stale: Vec<u64> = Vec::new();
        for (id, rows) in olds.drain() {
            if !new_here.contains(id.as_str()) {
                stats.level_mut(level).removed += 1;
            }
            stale.extend(rows.iter().map(|e| e.key).filter(|k| !kept.contains(k)));
        }
        self.insert_then_delete(&name, inserts, &stale, writes)
    }

    /// Document rows: new or changed documents in (their old rows out), removed ones out.
    pub(super) fn write_documents(
        &self,
        docs: &[Document],
        plan: &UpdatePlan,
        stats: &mut UpdateStats,
        writes: &mut Writes,
    ) -> Result<(), StoreError> {
        let mut doc_inserts: Vec<Value> = Vec::new();
        let mut doc_deletes: Vec<u64> = Vec::new();
        for d in docs {
            let row = doc_row(d);
            let rows = plan
                .stored_by_id
                .get(&d.id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let same = |r: &Value| DOC_FIELDS.iter().all(|f| r.get(*f) == row.get(*f));
            if rows.len() == 1 && same(&rows[0].1) {
                continue;
            }
            doc_inserts.push(row);
            doc_deletes.extend(rows.iter().map(|(k, _)| *k));
        }
        for id in &plan.removed_docs {
            doc_deletes.extend(plan.stored_by_id[id].iter().map(|(k, _)| *k));
            stats.documents_removed += 1;
        }
        let docs_name = self.store.names.documents();
        self.insert_then_delete(&docs_name, doc_inserts, &doc_deletes, writes)
    }

    /// Inserts `rows` into collection `name`, then deletes the rows keyed `stale` (either may
    /// be empty), noting both in `writes`.
    fn insert_then_delete(
        &self,
        name: &str,
        rows: Vec<Value>,
        stale: &[u64],
        writes: &mut Writes,
    ) -> Result<(), StoreError> {
        if !rows.is_empty() {
            writes.inserted(name, &self.client().insert(name, rows)?);
        }
        if !stale.is_empty() {
            self.client().delete(name, stale)?;
            writes.deleted(name, stale);
        }
        Ok(())
    }

    /// A new generation row, above every earlier one, and the old rows out.
    pub(super) fn bump_generation(&self, writes: &mut Writes) -> Result<(), StoreError> {
        let meta = self.store.names.meta();
        let old: Vec<(u64, u64)> = self
            .client()
            .query_all(&meta, "kind == \"generation\"", &["value"])?
            .iter()
            .filter_map(|r| Some((key(r)?, s(r, "value").parse().ok()?)))
            .collect();
        // Several writers may commit at once: a time stamp above every earlier value still
        // changes with every commit.
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let value = old.iter().map(|g| g.1 + 1).max().unwrap_or(1).max(micros);
        let keys = self.client().insert(
            &meta,
            vec![json!({"vec": AUX_VECTOR, "kind": "generation", "value": value.to_string()})],
        )?;
        let older: Vec<u64> = old.iter().map(|g| g.0).collect();
        self.client().delete(&meta, &older)?;
        writes.inserted(&meta, &keys);
        Ok(())
    }
}
