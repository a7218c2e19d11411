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

mod api_v1;
mod client;
mod lexical;
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
    Counts, DocumentInfo, ItemFilter, Level, SavedThemes, Store, StoreError, StoreInfo, StoreUrl,
    StoredItem, StoredSentence, Tag, TagCount,
};
pub use api_v1::IndexInfo;
use client::MilvusClient;
pub use client::TrafficCount;
use rows::{int, key, list, lit, s, str_list, vector, AUX_VECTOR};
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
            let by_keys = ItemFilter {
                keys: keys.as_ref(),
                tags: Vec::new(),
                ..filter.clone()
            };
            return self.nearest_exactly(level, query, k, &by_keys, &docs);
        }
        if !filter.tags.is_empty() {
            self.require_tags()?;
        }
        let Some(expr) = self.expr(filter, &docs) else {
            return Ok(Vec::new());
        };
        let hits = self.client.search(
            &self.names.level(level),
            query,
            &expr,
            (k + 10).min(16_384),
            crate::store::search_ef(k, filter.ef),
            &["item_id", "doc_id", "vec"],
        )?;
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
        let filter = &ItemFilter {
            keys: keys.as_ref(),
            tags: Vec::new(),
            ..filter.clone()
        };
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
