//! The read side of a Milvus store: [`Store`] for [`MilvusStore`], each question answered with
//! a bounded number of requests (the documents' facts and tag facts kept per generation in the
//! handle, [`super`]): items by key or by document, the sentences of many items in one
//! request, nearest neighbours through Milvus's index with the filter pushed down
//! ([`MilvusStore::expr`]) or by an exact scan, BM25, entities and theme reports.

use std::collections::{HashMap, HashSet};

use super::client::VectorQuery;
use super::rows::{int, key, list, lit, s, str_list, vector};
use super::{top_k, MilvusStore, Vectors, KEYS_PER_EXPR};
use crate::embed::dot;
use crate::store::{
    Counts, DocumentInfo, ItemFilter, Level, SavedThemes, Store, StoreError, StoreInfo, StoredItem,
    StoredSentence, Tag, TagCount, TagStore, ThemeStore,
};

impl Store for MilvusStore {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            url: self.url.to_string(),
            model: self.info.model.clone(),
            dimension: self.info.dimension,
            exact_threshold: self.info.exact_threshold,
        }
    }

    /// The server's build and each level's index, from its `/api/v1` (only the engine's name
    /// where that does not answer).
    fn engine_info(&self) -> Result<crate::store::EngineInfo, StoreError> {
        let mut out = crate::store::EngineInfo {
            engine: "milvus".into(),
            version: "unknown (the server's /api/v1 does not answer)".into(),
            levels: Vec::new(),
        };
        if !self.client.api.available() {
            return Ok(out);
        }
        out.version = self.client.api.version()?;
        for level in Level::ALL {
            let i = self.client.api.index(&self.names.level(level))?;
            out.levels.push(crate::store::LevelIndexInfo {
                level,
                index_type: i.index_type,
                params: i.params,
                ef_search: None,
                indexed_rows: i.indexed_rows,
                total_rows: i.total_rows,
            });
        }
        Ok(out)
    }

    fn generation(&self) -> Result<u64, StoreError> {
        let rows =
            self.client
                .query_all(&self.names.meta(), "kind == \"generation\"", &["value"])?;
        Ok(rows
            .iter()
            .filter_map(|r| s(r, "value").parse::<u64>().ok())
            .max()
            .unwrap_or(0))
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let docs = self.doc_table()?;
        let count = |level: Level| -> Result<usize, StoreError> {
            let rows = self.client.query_all(
                &self.names.level(level),
                "pk >= 0",
                &["item_id", "doc_id"],
            )?;
            let ids: HashSet<String> = rows
                .iter()
                .filter(|r| docs.get(&s(r, "doc_id")).is_some())
                .map(|r| s(r, "item_id"))
                .collect();
            Ok(ids.len())
        };
        Ok(Counts {
            documents: docs.list.len(),
            sections: count(Level::Section)?,
            initiatives: count(Level::Initiative)?,
            sentences: count(Level::Sentence)?,
        })
    }

    fn documents(&self) -> Result<Vec<DocumentInfo>, StoreError> {
        Ok(self.doc_table()?.list.clone())
    }

    fn items(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        let mut items = self.items_where(level, "pk >= 0", Vectors::With)?;
        if level != Level::Sentence {
            let mut by_parent = Self::sentences_by_parent(self.sentence_rows("pk >= 0")?, level);
            for item in &mut items {
                item.sentences = by_parent.remove(&item.id).unwrap_or_default();
            }
        }
        Ok(items)
    }

    /// One request for the items, one for their sentences: whatever the store's size.
    fn items_of_document(&self, level: Level, doc_id: &str) -> Result<Vec<StoredItem>, StoreError> {
        let by_doc = format!("doc_id == {}", lit(doc_id));
        let mut items = self.items_where(level, &by_doc, Vectors::With)?;
        if level != Level::Sentence && !items.is_empty() {
            let mut by_parent = Self::sentences_by_parent(self.sentence_rows(&by_doc)?, level);
            for item in &mut items {
                item.sentences = by_parent.remove(&item.id).unwrap_or_default();
            }
        }
        Ok(items)
    }

    fn item(&self, id: &str) -> Result<StoredItem, StoreError> {
        for level in Level::ALL {
            if let Some(mut item) = self
                .items_where(level, &format!("item_id == {}", lit(id)), Vectors::With)?
                .pop()
            {
                item.sentences = self.sentences_of(&item)?;
                return Ok(item);
            }
        }
        Err(StoreError::UnknownItem {
            store: self.url.to_string(),
            id: id.to_string(),
        })
    }

    fn items_by_key(&self, keys: &[u64]) -> Result<Vec<StoredItem>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // Keys are unique across collections: the levels most asked first, stopping once all
        // are found.
        let mut found: HashMap<u64, StoredItem> = HashMap::new();
        for level in [Level::Initiative, Level::Section, Level::Sentence] {
            let missing: Vec<u64> = keys
                .iter()
                .copied()
                .filter(|k| !found.contains_key(k))
                .collect();
            if missing.is_empty() {
                break;
            }
            for chunk in missing.chunks(KEYS_PER_EXPR) {
                let filter = format!("pk in {}", list(chunk));
                for item in self.items_where(level, &filter, Vectors::With)? {
                    found.insert(item.key, item);
                }
            }
        }
        Ok(keys.iter().filter_map(|k| found.remove(k)).collect())
    }

    fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, StoreError> {
        Ok(self.sentences_of_many(&[item])?.pop().unwrap_or_default())
    }

    /// One request for the sentences of all `items`.
    fn sentences_of_many(
        &self,
        items: &[&StoredItem],
    ) -> Result<Vec<Vec<StoredSentence>>, StoreError> {
        let ids_at = |level: Level| -> Vec<String> {
            items
                .iter()
                .filter(|i| i.level == level)
                .map(|i| i.id.clone())
                .collect()
        };
        let (sections, initiatives) = (ids_at(Level::Section), ids_at(Level::Initiative));
        let mut conds = Vec::new();
        if !sections.is_empty() {
            conds.push(format!("section_id in {}", str_list(&sections)));
        }
        if !initiatives.is_empty() {
            conds.push(format!("parent_id in {}", str_list(&initiatives)));
        }
        if conds.is_empty() {
            return Ok(vec![Vec::new(); items.len()]);
        }
        let rows = self.sentence_rows(&conds.join(" or "))?;
        let mut by_section = if sections.is_empty() {
            HashMap::new()
        } else {
            Self::sentences_by_parent(
                rows.iter()
                    .filter(|r| sections.contains(&r.item.section_id))
                    .cloned()
                    .collect(),
                Level::Section,
            )
        };
        let mut by_initiative = Self::sentences_by_parent(rows, Level::Initiative);
        Ok(items
            .iter()
            .map(|i| {
                let found = match i.level {
                    Level::Section => by_section.get_mut(&i.id).map(std::mem::take),
                    Level::Initiative => by_initiative.get_mut(&i.id).map(std::mem::take),
                    Level::Sentence => None,
                };
                found.unwrap_or_default()
            })
            .collect())
    }

    fn nearest(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let docs = self.doc_table()?;
        if filter.exact || self.searches_exactly(level)? {
            let keys = crate::store::tag_keys(self, level, filter)?;
            let by_keys = filter.with_keys(keys.as_ref());
            return self.nearest_exactly(level, query, k, &by_keys, &docs);
        }
        if !filter.tags.is_empty() {
            self.require_tags()?;
        }
        let Some(expr) = self.expr(filter, &docs) else {
            return Ok(Vec::new());
        };
        let hits = self.client.search(&VectorQuery {
            name: &self.names.level(level),
            vector: query,
            filter: &expr,
            limit: (k + 10).min(16_384),
            ef: crate::store::search_ef(k, filter.ef),
            fields: &["item_id", "doc_id", "vec"],
        })?;
        // Rescored with the local index's dot product; of two rows for one item the newer.
        let mut best: HashMap<String, (u64, f32)> = HashMap::new();
        for h in &hits {
            let Some(key) = key(h) else {
                continue;
            };
            if docs.get(&s(h, "doc_id")).is_none() {
                continue;
            }
            let score = dot(query, &vector(h));
            let e = best.entry(s(h, "item_id")).or_insert((key, score));
            if key > e.0 {
                *e = (key, score);
            }
        }
        let mut out: Vec<(u64, f32)> = best.into_values().collect();
        top_k(&mut out, k);
        Ok(out)
    }

    fn lexical(
        &self,
        level: Level,
        terms: &[String],
        k: usize,
        filter: &ItemFilter<'_>,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        let docs = self.doc_table()?;
        let keys = crate::store::tag_keys(self, level, filter)?;
        let filter = &filter.with_keys(keys.as_ref());
        let allowed_docs: Option<HashSet<&str>> = (!filter.documents.is_empty()).then(|| {
            docs.list
                .iter()
                .filter(|d| filter.documents.matches(d))
                .map(|d| d.id.as_str())
                .collect()
        });
        Ok(self
            .lexical_level(level)?
            .search(allowed_docs.as_ref(), terms, k, filter))
    }

    fn lexical_scores(
        &self,
        level: Level,
        terms: &[String],
        keys: &[u64],
    ) -> Result<Vec<f32>, StoreError> {
        Ok(self.lexical_level(level)?.scores(terms, keys))
    }

    fn uses_graph(&self, level: Level) -> Result<bool, StoreError> {
        Ok(!self.searches_exactly(level)?)
    }

    fn tags(&self) -> Option<&dyn TagStore> {
        Some(self)
    }

    fn themes(&self) -> Option<&dyn ThemeStore> {
        Some(self)
    }
}

impl TagStore for MilvusStore {
    /// Asked once per generation, like the documents.
    fn has_tags(&self) -> Result<bool, StoreError> {
        let generation = self.doc_table()?.generation;
        let mut cached = self.has_tags.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((g, tagged)) = *cached {
            if g == generation {
                return Ok(tagged);
            }
        }
        let tagged = !self
            .client
            .query_all(&self.names.meta(), "kind == \"tagger\"", &["value"])?
            .is_empty();
        *cached = Some((generation, tagged));
        Ok(tagged)
    }

    /// The rows holding one of the tags: what the filter matches, not the level.
    fn tagged(
        &self,
        level: Level,
        kind: &str,
        values: &[String],
    ) -> Result<Vec<(u64, String)>, StoreError> {
        self.require_tags()?;
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<String> = values.iter().map(|v| format!("{kind}:{v}")).collect();
        let rows = self.tag_rows(
            level,
            &format!("json_contains_any(tags, {})", str_list(&wanted)),
        )?;
        let mut out: Vec<(u64, String)> = rows.into_iter().map(|(k, d, _)| (k, d)).collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The rows that have a tag of `kind`: a facet's items, not the level.
    /// Kept per generation, like the documents: the organisations' definitions are asked for
    /// by every search that shows entities.
    fn tag_counts(&self, level: Level, kind: &str) -> Result<Vec<TagCount>, StoreError> {
        self.require_tags()?;
        let generation = self.doc_table()?.generation;
        let slot = (level, kind.to_string());
        if let Some((g, counts)) = self.lock_tag_counts().get(&slot) {
            if *g == generation {
                return Ok(counts.clone());
            }
        }
        let rows = self.tag_rows(level, &format!("json_contains(tag_kinds, {})", lit(kind)))?;
        let mut by_value: HashMap<String, (HashSet<u64>, HashSet<String>)> = HashMap::new();
        for (key, doc, tags) in rows {
            for t in tags.into_iter().filter(|t| t.kind == kind) {
                let e = by_value.entry(t.value).or_default();
                e.0.insert(key);
                e.1.insert(doc.clone());
            }
        }
        let mut out: Vec<TagCount> = by_value
            .into_iter()
            .map(|(value, (items, docs))| TagCount {
                value,
                items: items.len(),
                documents: docs.len(),
            })
            .collect();
        out.sort_by(|a, b| b.items.cmp(&a.items).then_with(|| a.value.cmp(&b.value)));
        self.lock_tag_counts()
            .insert(slot, (generation, out.clone()));
        Ok(out)
    }

    fn tags_of(&self, keys: &[u64]) -> Result<HashMap<u64, Vec<Tag>>, StoreError> {
        self.require_tags()?;
        let mut out: HashMap<u64, Vec<Tag>> = HashMap::new();
        let mut missing: Vec<u64> = keys.to_vec();
        for level in [Level::Initiative, Level::Section, Level::Sentence] {
            if missing.is_empty() {
                break;
            }
            let mut seen: HashSet<u64> = HashSet::new();
            for chunk in missing.chunks(KEYS_PER_EXPR) {
                for (key, _, tags) in self.tag_rows(level, &format!("pk in {}", list(chunk)))? {
                    seen.insert(key);
                    if !tags.is_empty() {
                        out.insert(key, tags);
                    }
                }
            }
            missing.retain(|k| !seen.contains(k));
        }
        Ok(out)
    }
}

impl ThemeStore for MilvusStore {
    fn load_themes(&self) -> Result<Option<SavedThemes>, StoreError> {
        let rows = self.client.query_all(
            &self.names.meta(),
            "kind == \"themes\"",
            &["set", "part", "parts", "data"],
        )?;
        // The newest complete set of parts (a save writes a new set, then drops the old one).
        // Per set: (newest key, parts expected, (part, data) read).
        type Parts = (u64, usize, Vec<(i64, String)>);
        let mut sets: HashMap<String, Parts> = HashMap::new();
        for r in &rows {
            let key = key(r).unwrap_or(0);
            let e =
                sets.entry(s(r, "set"))
                    .or_insert((0, int(r, "parts").max(0) as usize, Vec::new()));
            e.0 = e.0.max(key);
            e.2.push((int(r, "part"), s(r, "data")));
        }
        let Some((_, (_, _, mut parts))) = sets
            .into_iter()
            .filter(|(_, (_, n, p))| *n == p.len())
            .max_by_key(|(_, (k, _, _))| *k)
        else {
            return Ok(None);
        };
        parts.sort();
        let json: String = parts.into_iter().map(|(_, d)| d).collect();
        // An unreadable report is as good as none: it is made again from the store.
        Ok(serde_json::from_str(&json).ok())
    }
}
