//! The Milvus store: documents, items and vectors in collections of a Milvus server
//! (`milvus://HOST:PORT/NAME`), read through [`MilvusStore`] and written by [`MilvusWriter`].
//!
//! Collections, named from NAME: `NAME_sections`, `NAME_initiatives`, `NAME_sentences` (one row
//! per item: its vector and, as dynamic fields, the same facts the local index keeps),
//! `NAME_documents` (one row per document, written after its items: a document's row is what
//! makes its items visible) and `NAME_meta` (the model, the generation, writer leases, theme
//! reports). Keys are the `i64` keys Milvus assigns; they grow with insertion order, so ties in
//! search rank as in the local index.
//!
//! Searches score candidates with the same dot product as the local index, so both stores give
//! the same scores: below the exact-search threshold (or with `--exact`) the level's vectors are
//! read once per handle and scanned, as the local index scans its flat copy; above it Milvus's
//! own HNSW index ([`api_v1`]) proposes candidates (`k` and ten more, pre-filtered inside Milvus by
//! the boolean expression an [`ItemFilter`] becomes, [`MilvusStore::expr`]) and simsum
//! rescores them.
//!
//! What a search reads does not grow with the store: the documents' facts are kept per handle
//! and read again only when the store's generation moves (one small read tells, at most once
//! per [`DOCS_RECHECK`]); the sentences of all hits come in one request; vectors are asked for
//! only where a vector is used.
//!
//! This file is the handle ([`MilvusStore`]) and the reading helpers that `read.rs` (the
//! [`Store`] implementation) and `writer.rs` share. Its length (about 800 lines with its tests)
//! is kept: it stays whole so that every cache of the handle (documents, flat levels, lexical
//! levels, tag counts) and what invalidates it sit in one place.

mod api_v1;
mod client;
mod lexical;
mod read;
mod rows;
mod writer;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::embed::dot;
use crate::embed::ModelId;
use crate::store::{
    DocumentInfo, ItemFilter, Level, SavedThemes, Store, StoreError, StoreUrl, StoredItem,
    StoredSentence, Tag, TagCount, TagStore,
};
pub use api_v1::IndexInfo;
use client::MilvusClient;
pub use client::TrafficCount;
use rows::{int, key, list, s, str_list, vector, AUX_VECTOR};
pub use writer::MilvusWriter;

/// How long a handle trusts its copy of the documents' facts before it reads the store's
/// generation again to see whether they changed.
pub const DOCS_RECHECK: Duration = Duration::from_secs(1);

/// Version of the row layout written into `NAME_meta`; a store written by a newer layout is
/// refused.
const LAYOUT_VERSION: u32 = 1;
/// Section texts longer than this are not stored (Milvus caps a row's dynamic fields at 64 KiB):
/// they are joined from the section's initiatives when read, which is how they were made.
const MAX_STORED_TEXT: usize = 48_000;
pub use crate::store::EXACT_THRESHOLD;

/// What `NAME_meta` records about the store (the row of kind `info`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MetaInfo {
    layout_version: u32,
    model: ModelId,
    dimension: usize,
    exact_threshold: usize,
    created_at: String,
}

/// Collection names of one store.
#[derive(Debug, Clone)]
struct Names {
    base: String,
}

impl Names {
    fn level(&self, level: Level) -> String {
        format!("{}_{}s", self.base, level.as_str())
    }
    fn documents(&self) -> String {
        format!("{}_documents", self.base)
    }
    fn meta(&self) -> String {
        format!("{}_meta", self.base)
    }
    /// The collections of items and documents (all but the meta collection).
    fn data(&self) -> [String; 4] {
        [
            self.level(Level::Section),
            self.level(Level::Initiative),
            self.level(Level::Sentence),
            self.documents(),
        ]
    }
}

/// A client of the server of `url` and the names of its collections.
fn connect(url: &StoreUrl, token: Option<&str>) -> Result<(MilvusClient, Names), StoreError> {
    let StoreUrl::Milvus {
        host,
        port,
        name,
        tls,
    } = url
    else {
        return Err(StoreError::BadUrl {
            url: url.to_string(),
            reason: "not a milvus:// URL".into(),
        });
    };
    if token.is_some() && tls.is_none() && !is_loopback(host) {
        return Err(StoreError::TokenInClear {
            url: url.to_string(),
            host: host.clone(),
            port: *port,
            name: name.clone(),
        });
    }
    let client = MilvusClient::new(host, *port, tls.as_ref(), &url.to_string(), token)?;
    Ok((client, Names { base: name.clone() }))
}

/// Whether `host` names this machine: `localhost` or a loopback address (a name is not
/// resolved: one that points here is still treated as another machine).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A level's rows as exact search scans them.
struct FlatLevel {
    keys: Vec<u64>,
    doc_ids: Vec<String>,
    boilerplate: Vec<bool>,
    vectors: Vec<Vec<f32>>,
}

/// The documents' facts as one generation of the store has them.
struct DocTable {
    generation: u64,
    checked: Instant,
    /// Sorted by id.
    list: Vec<DocumentInfo>,
    by_id: HashMap<String, usize>,
}

impl DocTable {
    fn get(&self, id: &str) -> Option<&DocumentInfo> {
        self.by_id.get(id).map(|&i| &self.list[i])
    }
}

/// Facet counts per `(level, kind)`, with the generation they were read at.
type TagCountCache = HashMap<(Level, String), (u64, Vec<TagCount>)>;

/// A Milvus store opened for reading.
pub struct MilvusStore {
    /// Whether the items carry tags, with the generation it was read at.
    has_tags: Mutex<Option<(u64, bool)>>,
    /// Facet counts, per generation ([`Store::tag_counts`]).
    tag_counts: Mutex<TagCountCache>,
    /// The documents' facts, per generation ([`DOCS_RECHECK`]).
    docs: Mutex<Option<Arc<DocTable>>>,
    client: MilvusClient,
    url: StoreUrl,
    names: Names,
    info: MetaInfo,
    flat: [OnceLock<FlatLevel>; 3],
    /// BM25 postings per level, built on the first lexical query ([`lexical`]).
    lexical: [OnceLock<lexical::LexicalLevel>; 3],
    /// Rows per level, counted once per opened store (a count pages through every key).
    level_counts: [OnceLock<usize>; 3],
}

/// The fields of an item row, but its vector.
const ITEM_FIELDS: [&str; 12] = [
    "pk",
    "item_id",
    "doc_id",
    "section_id",
    "parent_id",
    "ordinal",
    "heading",
    "text",
    "text_from_parts",
    "boilerplate",
    "start_byte",
    "end_byte",
];

/// Whether a read asks for the rows' vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vectors {
    With,
    Without,
}

/// Most keys one `pk in [...]` expression lists: the store's key filters above it are read
/// in pieces.
const KEYS_PER_EXPR: usize = 10_000;

/// An item row as read, before its document's facts are joined in.
#[derive(Clone)]
struct Row {
    key: u64,
    ordinal: i64,
    item: StoredItem,
    byte_range: (usize, usize),
    text_from_parts: bool,
}

impl MilvusStore {
    /// A store over an open connection, nothing read or counted yet.
    fn new(client: MilvusClient, url: &StoreUrl, names: Names, info: MetaInfo) -> Self {
        Self {
            has_tags: Mutex::new(None),
            tag_counts: Mutex::new(HashMap::new()),
            docs: Mutex::new(None),
            client,
            url: url.clone(),
            names,
            info,
            flat: Default::default(),
            lexical: Default::default(),
            level_counts: Default::default(),
        }
    }

    /// Opens the store at `url` for reading; fails when the server cannot be reached or holds
    /// no store of that name.
    pub fn open(url: &StoreUrl, token: Option<&str>) -> Result<Self, StoreError> {
        let (client, names) = connect(url, token)?;
        let existing = client.collections()?;
        if !existing.contains(&names.meta()) {
            return Err(StoreError::NoStore {
                url: url.to_string(),
            });
        }
        let info = read_info(&client, &names, url)?.ok_or_else(|| StoreError::NoStore {
            url: url.to_string(),
        })?;
        Ok(Self::new(client, url, names, info))
    }

    fn bad(&self, reason: String) -> StoreError {
        StoreError::BadData {
            url: self.url.to_string(),
            reason,
        }
    }

    /// What the client has sent and read so far (tests check that a search's share does not
    /// grow with the store).
    pub fn traffic(&self) -> TrafficCount {
        self.client.traffic.count()
    }

    fn item_rows(&self, level: Level, filter: &str, vecs: Vectors) -> Result<Vec<Row>, StoreError> {
        let mut fields: Vec<&str> = ITEM_FIELDS.to_vec();
        if vecs == Vectors::With {
            fields.push("vec");
        }
        let rows = self
            .client
            .query_all(&self.names.level(level), filter, &fields)?;
        let mut out: Vec<Row> = Vec::with_capacity(rows.len());
        for r in rows {
            let key = key(&r).ok_or_else(|| self.bad(format!("a {level} row without a key")))?;
            let vector = vector(&r);
            if vecs == Vectors::With && vector.len() != self.info.dimension {
                return Err(self.bad(format!(
                    "{level} row {key} has a {}-d vector, expected {}",
                    vector.len(),
                    self.info.dimension
                )));
            }
            let parent = s(&r, "parent_id");
            out.push(Row {
                key,
                ordinal: int(&r, "ordinal"),
                byte_range: (
                    int(&r, "start_byte").max(0) as usize,
                    int(&r, "end_byte").max(0) as usize,
                ),
                text_from_parts: r.get("text_from_parts").and_then(Value::as_bool) == Some(true),
                item: StoredItem {
                    key,
                    id: s(&r, "item_id"),
                    level,
                    doc_id: s(&r, "doc_id"),
                    doc_title: String::new(),
                    doc_date: None,
                    doc_path: PathBuf::new(),
                    section_id: s(&r, "section_id"),
                    heading: s(&r, "heading"),
                    text: s(&r, "text"),
                    boilerplate: r.get("boilerplate").and_then(Value::as_bool) == Some(true),
                    parent_id: (!parent.is_empty()).then_some(parent),
                    vector,
                    sentences: Vec::new(),
                },
            });
        }
        Ok(out)
    }

    /// Rows joined with their documents: rows of documents without a row (an update that
    /// stopped half-way) are left out, and of two rows for one item id (the same) the newer is
    /// kept. Sorted by document id, then position.
    fn joined(&self, rows: Vec<Row>, docs: &DocTable) -> Vec<Row> {
        let mut newest: HashMap<String, u64> = HashMap::new();
        for r in &rows {
            let k = newest.entry(r.item.id.clone()).or_insert(r.key);
            *k = (*k).max(r.key);
        }
        let mut out: Vec<Row> = rows
            .into_iter()
            .filter(|r| newest.get(&r.item.id) == Some(&r.key))
            .filter_map(|mut r| {
                let d = docs.get(&r.item.doc_id)?;
                r.item.doc_title = d.title.clone();
                r.item.doc_date = d.date.clone();
                r.item.doc_path = d.path.clone();
                Some(r)
            })
            .collect();
        out.sort_by(|a, b| {
            (a.item.doc_id.as_str(), a.ordinal).cmp(&(b.item.doc_id.as_str(), b.ordinal))
        });
        out
    }

    /// The documents' facts: the copy this handle keeps while the store's generation stays
    /// (asked at most once per [`DOCS_RECHECK`]), read again when it moved.
    fn doc_table(&self) -> Result<Arc<DocTable>, StoreError> {
        let cached = self.docs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(t) = &cached {
            if t.checked.elapsed() < DOCS_RECHECK {
                return Ok(t.clone());
            }
        }
        let generation = self.generation()?;
        let table = match cached {
            Some(t) if t.generation == generation => Arc::new(DocTable {
                generation,
                checked: Instant::now(),
                list: t.list.clone(),
                by_id: t.by_id.clone(),
            }),
            _ => {
                let list = self.read_documents()?;
                let by_id = list
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (d.id.clone(), i))
                    .collect();
                Arc::new(DocTable {
                    generation,
                    checked: Instant::now(),
                    list,
                    by_id,
                })
            }
        };
        *self.docs.lock().unwrap_or_else(|e| e.into_inner()) = Some(table.clone());
        Ok(table)
    }

    /// Every document row, the newer of two rows for one document, by id.
    fn read_documents(&self) -> Result<Vec<DocumentInfo>, StoreError> {
        let rows = self.client.query_all(
            &self.names.documents(),
            "pk >= 0",
            &["doc_id", "title", "date", "path"],
        )?;
        // Of two rows for one document (an update that stopped half-way), the newer counts.
        let mut by_id: HashMap<String, DocumentInfo> = HashMap::new();
        for r in rows {
            let date = s(&r, "date");
            by_id.insert(
                s(&r, "doc_id"),
                DocumentInfo {
                    id: s(&r, "doc_id"),
                    title: s(&r, "title"),
                    date: (!date.is_empty()).then_some(date),
                    path: PathBuf::from(s(&r, "path")),
                },
            );
        }
        let mut docs: Vec<DocumentInfo> = by_id.into_values().collect();
        docs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(docs)
    }

    /// The boolean expression a filter becomes inside Milvus (empty: every item); `None` when
    /// it lets nothing through. Dates are settled against the documents' facts, so the
    /// expression names documents by id.
    fn expr(&self, filter: &ItemFilter<'_>, docs: &DocTable) -> Option<String> {
        let mut conds: Vec<String> = Vec::new();
        if !filter.include_boilerplate {
            conds.push("boilerplate == false".into());
        }
        let scope = &filter.documents;
        if scope.has_dates() || scope.ids.is_some() {
            let ids: Vec<String> = match (&scope.ids, scope.has_dates()) {
                (Some(ids), false) => ids
                    .iter()
                    .filter(|id| !scope.exclude.contains(id))
                    .cloned()
                    .collect(),
                _ => docs
                    .list
                    .iter()
                    .filter(|d| scope.matches(d))
                    .map(|d| d.id.clone())
                    .collect(),
            };
            if ids.is_empty() {
                return None;
            }
            conds.push(format!("doc_id in {}", str_list(&ids)));
        } else if !scope.exclude.is_empty() {
            conds.push(format!("doc_id not in {}", str_list(&scope.exclude)));
        }
        if !filter.exclude_keys.is_empty() {
            conds.push(format!("pk not in {}", list(&filter.exclude_keys)));
        }
        for clause in &filter.tags {
            if clause.is_empty() {
                return None;
            }
            let tags: Vec<String> = clause
                .iter()
                .map(|t| format!("{}:{}", t.kind, t.value))
                .collect();
            conds.push(format!("json_contains_any(tags, {})", str_list(&tags)));
        }
        if let Some(keys) = filter.keys {
            if keys.is_empty() {
                return None;
            }
            let mut keys: Vec<u64> = keys.iter().copied().collect();
            keys.sort_unstable();
            conds.push(format!("pk in {}", list(&keys)));
        }
        Some(conds.join(" and "))
    }

    /// Fills in section texts that were too long to store, from their initiatives.
    fn fill_texts(&self, rows: &mut [Row]) -> Result<(), StoreError> {
        let sections: Vec<String> = rows
            .iter()
            .filter(|r| r.text_from_parts)
            .map(|r| r.item.id.clone())
            .collect();
        if sections.is_empty() {
            return Ok(());
        }
        let docs = self.doc_table()?;
        let parts = self.joined(
            self.item_rows(
                Level::Initiative,
                &format!("section_id in {}", str_list(&sections)),
                Vectors::Without,
            )?,
            &docs,
        );
        let mut texts: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in &parts {
            texts
                .entry(p.item.section_id.as_str())
                .or_default()
                .push(p.item.text.as_str());
        }
        for r in rows.iter_mut().filter(|r| r.text_from_parts) {
            r.item.text = texts
                .get(r.item.id.as_str())
                .map(|t| t.join("\n\n"))
                .unwrap_or_default();
        }
        Ok(())
    }

    fn items_where(
        &self,
        level: Level,
        filter: &str,
        vecs: Vectors,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let docs = self.doc_table()?;
        let mut rows = self.joined(self.item_rows(level, filter, vecs)?, &docs);
        self.fill_texts(&mut rows)?;
        Ok(rows.into_iter().map(|r| r.item).collect())
    }

    /// Sentence rows matching `filter`, with their vectors, in reading order.
    fn sentence_rows(&self, filter: &str) -> Result<Vec<Row>, StoreError> {
        let docs = self.doc_table()?;
        Ok(self.joined(
            self.item_rows(Level::Sentence, filter, Vectors::With)?,
            &docs,
        ))
    }

    /// Sentences grouped by what they belong to at `level` (section id or initiative id).
    fn sentences_by_parent(rows: Vec<Row>, level: Level) -> HashMap<String, Vec<StoredSentence>> {
        let mut by_parent: HashMap<String, Vec<StoredSentence>> = HashMap::new();
        for r in rows {
            let parent = match level {
                Level::Section => r.item.section_id.clone(),
                _ => r.item.parent_id.clone().unwrap_or_default(),
            };
            by_parent.entry(parent).or_default().push(StoredSentence {
                id: r.item.id,
                initiative_id: r.item.parent_id.unwrap_or_default(),
                text: r.item.text,
                byte_range: r.byte_range,
                vector: r.item.vector,
            });
        }
        by_parent
    }

    fn flat(&self, level: Level) -> Result<&FlatLevel, StoreError> {
        let slot = &self.flat[level.slot()];
        if let Some(f) = slot.get() {
            return Ok(f);
        }
        let docs = self.doc_table()?;
        let rows = self.joined(self.item_rows(level, "pk >= 0", Vectors::With)?, &docs);
        let mut f = FlatLevel {
            keys: Vec::with_capacity(rows.len()),
            doc_ids: Vec::with_capacity(rows.len()),
            boilerplate: Vec::with_capacity(rows.len()),
            vectors: Vec::with_capacity(rows.len()),
        };
        for r in rows {
            f.keys.push(r.key);
            f.doc_ids.push(r.item.doc_id);
            f.boilerplate.push(r.item.boilerplate);
            f.vectors.push(r.item.vector);
        }
        Ok(slot.get_or_init(|| f))
    }

    fn lexical_level(&self, level: Level) -> Result<&lexical::LexicalLevel, StoreError> {
        let slot = &self.lexical[level.slot()];
        if let Some(l) = slot.get() {
            return Ok(l);
        }
        let built =
            lexical::LexicalLevel::build(&self.items_where(level, "pk >= 0", Vectors::Without)?);
        Ok(slot.get_or_init(|| built))
    }

    fn level_count(&self, level: Level) -> Result<usize, StoreError> {
        let slot = &self.level_counts[level.slot()];
        if let Some(n) = slot.get() {
            return Ok(*n);
        }
        // The index's row count where `/api/v1` answers (writers flush after each update, so
        // it is current); else every key, paged.
        let n = if self.client.api.available() {
            self.client.api.index(&self.names.level(level))?.total_rows as usize
        } else {
            self.client
                .keys_where(&self.names.level(level), "pk >= 0")?
                .len()
        };
        Ok(*slot.get_or_init(|| n))
    }

    fn lock_tag_counts(&self) -> std::sync::MutexGuard<'_, TagCountCache> {
        self.tag_counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn require_tags(&self) -> Result<(), StoreError> {
        if self.has_tags()? {
            Ok(())
        } else {
            Err(StoreError::NoTags {
                url: self.url.to_string(),
            })
        }
    }

    /// `(key, document id, tags sorted)` of the live item rows of `level` matching `filter`
    /// (rows of documents without a row are left out).
    fn tag_rows(
        &self,
        level: Level,
        filter: &str,
    ) -> Result<Vec<(u64, String, Vec<Tag>)>, StoreError> {
        let docs = self.doc_table()?;
        let rows = self
            .client
            .query_all(&self.names.level(level), filter, &["doc_id", "tags"])?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let doc = s(r, "doc_id");
                docs.get(&doc)?;
                let mut tags: Vec<Tag> = r
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .filter_map(|t| t.split_once(':'))
                            .map(|(kind, value)| Tag {
                                kind: kind.to_string(),
                                value: value.to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                tags.sort();
                Some((key(r)?, doc, tags))
            })
            .collect())
    }

    /// A scan of the level's vectors (read once per handle), as the local index scans its
    /// flat copy.
    fn nearest_exactly(
        &self,
        level: Level,
        query: &[f32],
        k: usize,
        filter: &ItemFilter<'_>,
        docs: &DocTable,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        let f = self.flat(level)?;
        let scope = &filter.documents;
        let excluded: HashSet<u64> = filter.exclude_keys.iter().copied().collect();
        let mut hits: Vec<(u64, f32)> = (0..f.keys.len())
            .filter(|&p| {
                (filter.include_boilerplate || !f.boilerplate[p])
                    && (scope.is_empty()
                        || docs.get(&f.doc_ids[p]).is_some_and(|d| scope.matches(d)))
                    && !excluded.contains(&f.keys[p])
                    && filter.keys.is_none_or(|k| k.contains(&f.keys[p]))
            })
            .map(|p| (f.keys[p], dot(query, &f.vectors[p])))
            .collect();
        top_k(&mut hits, k);
        Ok(hits)
    }

    fn searches_exactly(&self, level: Level) -> Result<bool, StoreError> {
        Ok(self.level_count(level)? < self.info.exact_threshold)
    }
}

/// Drops every collection of the store at `url` (what `simsum index --rebuild` would empty,
/// plus its leases and theme reports). A store that is not there is no error.
pub fn remove(url: &StoreUrl, token: Option<&str>) -> Result<(), StoreError> {
    let (client, names) = connect(url, token)?;
    let existing = client.collections()?;
    for c in names.data().into_iter().chain([names.meta()]) {
        if existing.contains(&c) {
            client.drop_collection(&c)?;
        }
    }
    Ok(())
}

/// Reads the `info` row of a store; `None` when there is none.
fn read_info(
    client: &MilvusClient,
    names: &Names,
    url: &StoreUrl,
) -> Result<Option<MetaInfo>, StoreError> {
    let rows = client.query_all(&names.meta(), "kind == \"info\"", &["info"])?;
    let Some(row) = rows.last() else {
        return Ok(None);
    };
    let info: MetaInfo =
        serde_json::from_str(&s(row, "info")).map_err(|e| StoreError::BadData {
            url: url.to_string(),
            reason: format!("the store's info row is not readable ({e})"),
        })?;
    if info.layout_version > LAYOUT_VERSION {
        return Err(StoreError::BadData {
            url: url.to_string(),
            reason: format!(
                "written by a newer simsum (row layout {}, this one reads up to {LAYOUT_VERSION}); upgrade simsum",
                info.layout_version
            ),
        });
    }
    Ok(Some(info))
}

fn top_k(hits: &mut Vec<(u64, f32)>, k: usize) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(k);
}

/// Writes a theme report into the store's meta collection as a new set of parts, then drops
/// the old set (readers take the newest complete set).
pub(super) fn save_themes(
    url: &StoreUrl,
    token: Option<&str>,
    themes: &SavedThemes,
) -> Result<(), StoreError> {
    let (client, names) = connect(url, token)?;
    let json = serde_json::to_string(themes).expect("theme report serialises");
    let set = writer::unique_token();
    let chunks: Vec<String> = chunk_str(&json, 16_000);
    let n = chunks.len();
    let rows: Vec<Value> = chunks
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"vec": AUX_VECTOR, "kind": "themes", "set": set, "part": i, "parts": n, "data": d})
        })
        .collect();
    let meta = names.meta();
    let old = client.keys_where(&meta, "kind == \"themes\"")?;
    client.replace(&meta, rows, &old)?;
    Ok(())
}

/// Splits a string into pieces of at most `max` bytes, on character boundaries.
fn chunk_str(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if cur.len() + c.len_utf8() > max {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "db.example.org",
            "localhost.example.org",
            "0.0.0.0",
            "::",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_token_is_not_sent_in_clear_to_another_machine() {
        let url = StoreUrl::parse("milvus://10.1.2.3:19530/reports").unwrap();
        let e = connect(&url, Some("user:secret")).err().expect("refused");
        let msg = e.to_string();
        assert!(matches!(e, StoreError::TokenInClear { .. }), "{msg}");
        assert!(
            msg.contains("milvus+tls://10.1.2.3:19530/reports") && !msg.contains("secret"),
            "{msg}"
        );
        // Without a token, over TLS, or to this machine: a client is made (nothing is sent yet).
        assert!(connect(&url, None).is_ok());
        let tls = StoreUrl::parse("milvus+tls://10.1.2.3/reports").unwrap();
        assert!(connect(&tls, Some("user:secret")).is_ok());
        let local = StoreUrl::parse("milvus://127.0.0.1/reports").unwrap();
        assert!(connect(&local, Some("user:secret")).is_ok());
    }

    #[test]
    fn a_bad_ca_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");
        for ca in [empty, missing] {
            let url = StoreUrl::parse("milvus+tls://db.example.org/reports")
                .unwrap()
                .with_ca(ca.clone())
                .unwrap();
            let e = connect(&url, None).err().expect("refused").to_string();
            assert!(
                e.contains(&ca.display().to_string()) && e.contains("TLS"),
                "{e}"
            );
        }
    }
}
