//! The SQLite database (`index.sqlite`): the source of truth for documents, items and their
//! vectors, and the only code in simsum that speaks SQL. [`Db`] owns the schema, every query
//! and the mapping of rows to [`StoredItem`], [`DocumentInfo`] and [`ItemRow`]; level codes are
//! [`Level::code`], never literal numbers. One write transaction per update ([`Db::commit`])
//! makes a crash mid-index harmless: SQLite rolls the unfinished transaction back on the next
//! open. Everything else in the index directory (the manifest, the graphs) is derived from it.
//! The policy (what to store, when) is the writer's; this module only carries it out. It is
//! longer than most because every query of the local store lives here, by design.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::Type;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, ToSql};

use super::layout::{decode_vector, decode_vector_into, encode_vector, FORMAT_VERSION};
use crate::ingest::Document;
use crate::store::{
    Counts, DocumentInfo, Level, StoreError, StoredItem, StoredSentence, Tag, TagCount, Tagger,
};

/// Schema of format 1. Item keys (`key`) are never reused (AUTOINCREMENT), so a stale graph can
/// only point at dead keys, never at the wrong item. `item_terms` holds each item's lexical
/// terms (space-separated, [`crate::text::lexical`]), written in the transaction that writes the
/// item and dropped with it by a trigger; an index made before it existed gets it when a writer
/// next opens it ([`Db::prepare_writes`]), and readers tokenise what is missing meanwhile.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    source TEXT,
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    key INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    level INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    section_id TEXT NOT NULL,
    parent_id TEXT,
    ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    boilerplate INTEGER NOT NULL,
    start_byte INTEGER,
    end_byte INTEGER,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS items_level ON items(level);
CREATE INDEX IF NOT EXISTS items_doc ON items(doc_id);
CREATE INDEX IF NOT EXISTS items_parent ON items(parent_id);
CREATE INDEX IF NOT EXISTS items_section ON items(section_id, level);
CREATE INDEX IF NOT EXISTS items_hash ON items(content_hash);
CREATE TABLE IF NOT EXISTS item_terms (
    key INTEGER PRIMARY KEY,
    level INTEGER NOT NULL,
    terms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS item_terms_level ON item_terms(level);
CREATE TRIGGER IF NOT EXISTS item_terms_gone AFTER DELETE ON items
BEGIN DELETE FROM item_terms WHERE key = old.key; END;
";

/// The index terms of an item's text as stored in `item_terms.terms` (terms never hold
/// whitespace, so a space separates them).
fn stored_terms(text: &str) -> String {
    crate::text::lexical::terms(text).join(" ")
}

/// Meta key naming the tokenizer version the stored terms were made with.
const TERMS_VERSION_KEY: &str = "lexical_tokenizer";

/// The tags of items (their entities: [`crate::store::Tag`]), kept as data this module does
/// not interpret. Added to indexes of format 1 by their next writer (`CREATE ... IF NOT
/// EXISTS`); a reader of an index without the table, or whose `tagger` meta entry is unset,
/// reports that it keeps no tags. A deleted item takes its tags with it.
const TAGS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tags (
    item_key INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_kind_value ON tags(kind, value);
CREATE INDEX IF NOT EXISTS tags_item ON tags(item_key);
CREATE TRIGGER IF NOT EXISTS items_tags_gone AFTER DELETE ON items
BEGIN DELETE FROM tags WHERE item_key = old.key; END;
";

/// Maps a SQLite error to a typed error naming the database file. Damage (a corrupt file, a
/// value of the wrong type or an unknown level code) is reported as such, with the fix.
pub(crate) fn db_err(path: &Path, e: rusqlite::Error) -> StoreError {
    let corrupt = match &e {
        rusqlite::Error::SqliteFailure(f, _) => {
            matches!(f.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
        }
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            true
        }
        _ => false,
    };
    if corrupt {
        return StoreError::CorruptDatabase {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
    }
    StoreError::Engine {
        engine: "SQLite",
        message: format!("{}: database error: {e}", path.display()),
    }
}

/// The fields of an item row that decide whether it changed (everything but the vector): the
/// record every store flattens a document into.
pub(crate) use crate::store::items::NewItem as ItemRow;

/// One item write of a commit.
pub(crate) enum ItemWrite<'a> {
    /// A new item with its vector.
    Insert(&'a ItemRow, &'a [f32]),
    /// An item whose text changed: deleted and inserted again, so it gets a new key (the old
    /// key becomes a graph tombstone).
    Replace(&'a ItemRow, &'a [f32]),
    /// An item whose text (and so vector) is unchanged but whose metadata moved.
    Meta(&'a ItemRow),
}

/// Everything one update stores, applied in one transaction by [`Db::commit`].
pub(crate) struct Commit<'a> {
    /// Drop all items and documents first.
    pub rebuild: bool,
    /// Items (by id) and documents (by id) that are gone.
    pub remove_items: Vec<&'a str>,
    pub remove_docs: &'a [String],
    /// Documents to insert or update, with their normalised paths.
    pub docs: Vec<(&'a Document, String)>,
    pub writes: Vec<ItemWrite<'a>>,
    /// Bump the generation (something changed).
    pub bump: bool,
    /// The model (as JSON) and dimension the vectors come from.
    pub model_json: String,
    pub dimension: usize,
    /// Tags the items written (all items, when the stored tags come from other rules).
    pub tagger: Option<Tagger>,
}

const ITEM_SELECT: &str = "SELECT i.key, i.id, i.level, i.doc_id, d.title, d.date, d.path,
    i.section_id, i.heading, i.text, i.boilerplate, i.parent_id, i.vector,
    i.start_byte, i.end_byte
    FROM items i JOIN documents d ON d.id = i.doc_id";

fn level_of(r: &rusqlite::Row<'_>, col: usize) -> rusqlite::Result<Level> {
    let code: i64 = r.get(col)?;
    Level::from_code(code).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            Type::Integer,
            format!("unknown level code {code}").into(),
        )
    })
}

fn byte_range(r: &rusqlite::Row<'_>, start: usize) -> rusqlite::Result<Option<(usize, usize)>> {
    let s: Option<i64> = r.get(start)?;
    let e: Option<i64> = r.get(start + 1)?;
    Ok(s.zip(e).map(|(s, e)| (s as usize, e as usize)))
}

/// An item with its byte range inside its initiative (`(0, 0)` for all but sentences).
type WithRange = (StoredItem, (usize, usize));

/// An item as read by [`ITEM_SELECT`], before its vector is decoded.
struct RawItem {
    item: StoredItem,
    blob: Vec<u8>,
    range: Option<(usize, usize)>,
}

fn raw_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawItem> {
    Ok(RawItem {
        item: StoredItem {
            key: r.get::<_, i64>(0)? as u64,
            id: r.get(1)?,
            level: level_of(r, 2)?,
            doc_id: r.get(3)?,
            doc_title: r.get(4)?,
            doc_date: r.get(5)?,
            doc_path: PathBuf::from(r.get::<_, String>(6)?),
            section_id: r.get(7)?,
            heading: r.get(8)?,
            text: r.get(9)?,
            boilerplate: r.get(10)?,
            parent_id: r.get(11)?,
            vector: Vec::new(),
            sentences: Vec::new(),
        },
        blob: r.get(12)?,
        range: byte_range(r, 13)?,
    })
}

/// A stored sentence from an item row of level sentence.
pub(crate) fn to_sentence(s: StoredItem, byte_range: (usize, usize)) -> StoredSentence {
    StoredSentence {
        byte_range,
        initiative_id: s.parent_id.unwrap_or_default(),
        id: s.id,
        text: s.text,
        vector: s.vector,
    }
}

/// The open database of an index directory. Shared between threads behind a mutex (SQLite
/// connections are not `Sync`).
pub(crate) struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Length of the stored vectors (from the manifest); a blob of another length is damage.
    dim: usize,
}

impl Db {
    /// Opens (and with `create`, creates) the database, checks that it is readable and that
    /// its format is not newer than this build's.
    pub fn open(path: &Path, create: bool, dim: usize) -> Result<Self, StoreError> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        } else if !path.exists() {
            return Err(StoreError::CorruptDatabase {
                path: path.to_path_buf(),
                reason: "the database file is missing".into(),
            });
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(path, e))?;
        let err = |e| db_err(path, e);
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        // WAL: readers keep reading the last committed state while a writer works; FULL makes
        // each commit durable.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        if create {
            conn.execute_batch(SCHEMA).map_err(err)?;
        }
        // Touch every table so that a damaged or foreign file fails here, with the file named.
        for table in ["meta", "documents", "items"] {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(err)?;
        }
        let db = Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            dim,
        };
        if create && db.meta("format_version")?.is_none() {
            db.set_meta("format_version", &FORMAT_VERSION.to_string())?;
        }

        if let Some(v) = db
            .meta("format_version")?
            .and_then(|v| v.parse::<u32>().ok())
        {
            if v > FORMAT_VERSION {
                return Err(StoreError::NewerFormat {
                    path: db.path,
                    found: v,
                    supported: FORMAT_VERSION,
                });
            }
        }
        Ok(db)
    }

    /// Sets the vector length (a rebuild with another model changes it).
    pub fn set_dimension(&mut self, dim: usize) {
        self.dim = dim;
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        db_err(&self.path, e)
    }

    /// The rows of `sql` with `args`, each read by `row`.
    fn query_all<T>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = st.query_map(args, row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    fn decode(&self, blob: &[u8], what: &str) -> Result<Vec<f32>, StoreError> {
        decode_vector(blob, self.dim).ok_or_else(|| StoreError::CorruptDatabase {
            path: self.path.clone(),
            reason: format!(
                "vector of `{what}` has {} bytes, expected {}",
                blob.len(),
                self.dim * 4
            ),
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        meta_get(&self.conn(), &self.path, key)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        meta_set(&self.conn(), &self.path, key, value)
    }

    /// Current generation (bumped by each committed update).
    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta("generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0))
    }

    /// Item and document counts, all from one snapshot (a read transaction), so that a
    /// commit landing meanwhile cannot mix two states.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let documents = tx
            .query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))? as usize;
        let mut per_level = [0usize; 3];
        {
            let mut st = tx
                .prepare_cached("SELECT count(*) FROM items WHERE level = ?1")
                .map_err(|e| self.err(e))?;
            for level in Level::ALL {
                per_level[level.slot()] = st
                    .query_row([level.code()], |r| r.get::<_, i64>(0))
                    .map_err(|e| self.err(e))? as usize;
            }
        }
        tx.finish().map_err(|e| self.err(e))?;
        Ok(Counts {
            documents,
            sections: per_level[Level::Section.slot()],
            initiatives: per_level[Level::Initiative.slot()],
            sentences: per_level[Level::Sentence.slot()],
        })
    }

    /// All stored documents, by id.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, StoreError> {
        self.query_all(
            "SELECT id, title, date, path FROM documents ORDER BY id",
            [],
            |r| {
                Ok(DocumentInfo {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    date: r.get(2)?,
                    path: PathBuf::from(r.get::<_, String>(3)?),
                })
            },
        )
    }

    /// Documents as `(id, path)`.
    pub fn document_paths(&self) -> Result<Vec<(String, PathBuf)>, StoreError> {
        self.query_all("SELECT id, path FROM documents", [], |r| {
            Ok((
                r.get::<_, String>(0)?,
                PathBuf::from(r.get::<_, String>(1)?),
            ))
        })
    }

    /// Items matching `where_sql` (a clause over `i`, the items table), vectors decoded, each
    /// with its byte range (sentences have one).
    fn query_items(
        &self,
        where_sql: &str,
        args: &[&dyn ToSql],
    ) -> Result<Vec<WithRange>, StoreError> {
        let raw: Vec<RawItem> =
            self.query_all(&format!("{ITEM_SELECT} {where_sql}"), args, raw_item)?;
        raw.into_iter()
            .map(
                |RawItem {
                     mut item,
                     blob,
                     range,
                 }| {
                    item.vector = self.decode(&blob, &item.id)?;
                    Ok((item, range.unwrap_or((0, 0))))
                },
            )
            .collect()
    }

    /// All items of a level in reading order (document id, then position), without sentences.
    pub fn items_of_level(&self, level: Level) -> Result<Vec<StoredItem>, StoreError> {
        Ok(self
            .query_items(
                "WHERE i.level = ?1 ORDER BY i.doc_id, i.ordinal",
                &[&level.code()],
            )?
            .into_iter()
            .map(|(item, _)| item)
            .collect())
    }

    /// The items of one document of a level in reading order, without sentences.
    pub fn items_of_document(
        &self,
        level: Level,
        doc_id: &str,
    ) -> Result<Vec<StoredItem>, StoreError> {
        Ok(self
            .query_items(
                "WHERE i.level = ?1 AND i.doc_id = ?2 ORDER BY i.ordinal",
                &[&level.code(), &doc_id],
            )?
            .into_iter()
            .map(|(item, _)| item)
            .collect())
    }

    /// All sentences in reading order, grouped by the item of `level` they belong to (their
    /// section or their initiative).
    pub fn sentences_by_parent(
        &self,
        level: Level,
    ) -> Result<HashMap<String, Vec<StoredSentence>>, StoreError> {
        let mut by_parent: HashMap<String, Vec<StoredSentence>> = HashMap::new();
        for (s, range) in self.query_items(
            "WHERE i.level = ?1 ORDER BY i.doc_id, i.ordinal",
            &[&Level::Sentence.code()],
        )? {
            let parent = match level {
                Level::Section => s.section_id.clone(),
                _ => s.parent_id.clone().unwrap_or_default(),
            };
            by_parent
                .entry(parent)
                .or_default()
                .push(to_sentence(s, range));
        }
        Ok(by_parent)
    }

    /// One item by id (without sentences).
    pub fn item_by_id(&self, id: &str) -> Result<Option<StoredItem>, StoreError> {
        Ok(self
            .query_items("WHERE i.id = ?1", &[&id])?
            .pop()
            .map(|(item, _)| item))
    }

    /// One item by key (without sentences).
    pub fn item_by_key(&self, key: u64) -> Result<Option<StoredItem>, StoreError> {
        Ok(self
            .query_items("WHERE i.key = ?1", &[&(key as i64)])?
            .pop()
            .map(|(item, _)| item))
    }

    /// The sentences of an initiative or section, in reading order.
    pub fn sentences_of(&self, item: &StoredItem) -> Result<Vec<StoredSentence>, StoreError> {
        let where_sql = match item.level {
            Level::Initiative => "WHERE i.level = ?1 AND i.parent_id = ?2 ORDER BY i.ordinal",
            Level::Section => "WHERE i.level = ?1 AND i.section_id = ?2 ORDER BY i.ordinal",
            Level::Sentence => return Ok(Vec::new()),
        };
        Ok(self
            .query_items(where_sql, &[&Level::Sentence.code(), &item.id])?
            .into_iter()
            .map(|(s, range)| to_sentence(s, range))
            .collect())
    }

    /// Live `(key, vector)` pairs of a level, by key.
    pub fn live_vectors(&self, level: Level) -> Result<Vec<(u64, Vec<f32>)>, StoreError> {
        let mut out = Vec::new();
        self.each_live_vector(level, |key, v| out.push((key, v.to_vec())))?;
        Ok(out)
    }

    /// Calls `f(key, vector)` for each live vector of a level, by key, decoding into one
    /// buffer: a reader filling its flat search array holds no per-item copies (every store
    /// generation does this once per level, so per-item vectors were millions of short-lived
    /// allocations at scale).
    pub fn each_live_vector(
        &self,
        level: Level,
        mut f: impl FnMut(u64, &[f32]),
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut st = conn
            .prepare_cached("SELECT key, vector FROM items WHERE level = ?1 ORDER BY key")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([level.code()]).map_err(|e| self.err(e))?;
        let mut buf = vec![0f32; self.dim];
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let key: i64 = r.get(0).map_err(|e| self.err(e))?;
            let blob = r
                .get_ref(1)
                .and_then(|v| v.as_blob().map_err(rusqlite::Error::from))
                .map_err(|e| self.err(e))?;
            if !decode_vector_into(blob, &mut buf) {
                return Err(StoreError::CorruptDatabase {
                    path: self.path.clone(),
                    reason: format!(
                        "vector of `key {key}` has {} bytes, expected {}",
                        blob.len(),
                        self.dim * 4
                    ),
                });
            }
            f(key as u64, &buf);
        }
        Ok(())
    }

    /// What searches filter on, per live item of a level: `(key, document id, boilerplate)`,
    /// by key.
    pub fn level_keys(&self, level: Level) -> Result<Vec<(u64, String, bool)>, StoreError> {
        self.query_all(
            "SELECT key, doc_id, boilerplate FROM items WHERE level = ?1 ORDER BY key",
            [level.code()],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
        )
    }

    /// All item rows (without vectors) of the given documents, by item id.
    pub fn rows_of_docs(&self, doc_ids: &[String]) -> Result<HashMap<String, ItemRow>, StoreError> {
        let conn = self.conn();
        let mut out = HashMap::new();
        let mut st = conn
            .prepare_cached(
                "SELECT id, level, doc_id, section_id, parent_id, ordinal, heading, text,
                     boilerplate, start_byte, end_byte, content_hash FROM items WHERE doc_id = ?1",
            )
            .map_err(|e| self.err(e))?;
        for doc in doc_ids {
            let rows = st
                .query_map([doc], |r| {
                    Ok(ItemRow {
                        id: r.get(0)?,
                        level: level_of(r, 1)?,
                        doc_id: r.get(2)?,
                        section_id: r.get(3)?,
                        parent_id: r.get(4)?,
                        ordinal: r.get(5)?,
                        heading: r.get(6)?,
                        text: r.get(7)?,
                        boilerplate: r.get(8)?,
                        byte_range: byte_range(r, 9)?,
                        content_hash: r.get(11)?,
                    })
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                let row = row.map_err(|e| self.err(e))?;
                out.insert(row.id.clone(), row);
            }
        }
        Ok(out)
    }

    /// A stored vector with this content hash, if any item has one of the right length.
    pub fn vector_by_hash(&self, hash: &str) -> Result<Option<Vec<f32>>, StoreError> {
        let blob: Option<Vec<u8>> = self
            .conn()
            .prepare_cached("SELECT vector FROM items WHERE content_hash = ?1 LIMIT 1")
            .and_then(|mut st| st.query_row([hash], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        Ok(blob.and_then(|b| decode_vector(&b, self.dim)))
    }

    /// Readies the database for a writer: tables and triggers added since it was made are
    /// created, and `item_terms` is brought in line with the items when it lags (an index made
    /// before it existed, or terms made by another tokenizer version): one transaction, no
    /// embedding.
    pub fn prepare_writes(&self) -> Result<(), StoreError> {
        self.conn().execute_batch(SCHEMA).map_err(|e| self.err(e))?;
        self.derive_terms()
    }

    fn derive_terms(&self) -> Result<(), StoreError> {
        let version = crate::text::lexical::TOKENIZER_VERSION.to_string();
        let mut conn = self.conn();
        let err = |e| db_err(&self.path, e);
        let current =
            meta_get(&conn, &self.path, TERMS_VERSION_KEY)?.as_deref() == Some(version.as_str());
        let missing: i64 = conn
            .query_row(
                "SELECT count(*) FROM items i LEFT JOIN item_terms t ON t.key = i.key
                 WHERE t.key IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if current && missing == 0 {
            return Ok(());
        }
        let tx = conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM item_terms", []).map_err(err)?;
        let rows: Vec<(i64, i64, String)> = {
            let mut st = tx
                .prepare("SELECT key, level, text FROM items")
                .map_err(err)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(err)?
        };
        {
            let mut st = tx
                .prepare("INSERT INTO item_terms(key, level, terms) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for (key, level, text) in rows {
                st.execute(params![key, level, stored_terms(&text)])
                    .map_err(err)?;
            }
        }
        meta_set(&tx, &self.path, TERMS_VERSION_KEY, &version)?;
        tx.commit().map_err(err)
    }

    /// Calls `f(key, terms)` for each live item of a level, by key: the stored terms where
    /// they are current, the terms of the text where they are missing or were made by another
    /// tokenizer version (an index no writer has opened since). Stored terms are borrowed from
    /// the row, so building the lexical index holds no per-item term lists.
    pub fn each_level_terms(
        &self,
        level: Level,
        mut f: impl FnMut(u64, &mut dyn Iterator<Item = &str>),
    ) -> Result<(), StoreError> {
        let version = crate::text::lexical::TOKENIZER_VERSION.to_string();
        let current = self.meta(TERMS_VERSION_KEY)?.as_deref() == Some(version.as_str());
        let conn = self.conn();
        let err = |e| db_err(&self.path, e);
        let sql = if current {
            "SELECT i.key, t.terms, CASE WHEN t.terms IS NULL THEN i.text END
             FROM items i LEFT JOIN item_terms t ON t.key = i.key WHERE i.level = ?1 ORDER BY i.key"
        } else {
            "SELECT key, NULL, text FROM items WHERE level = ?1 ORDER BY key"
        };
        let mut st = conn.prepare_cached(sql).map_err(err)?;
        let mut rows = st.query([level.code()]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let key = r.get::<_, i64>(0).map_err(err)? as u64;
            match r
                .get_ref(1)
                .map_err(err)?
                .as_str_or_null()
                .map_err(|e| err(e.into()))?
            {
                Some(t) => f(key, &mut t.split(' ').filter(|t| !t.is_empty())),
                None => {
                    let text = r
                        .get_ref(2)
                        .map_err(err)?
                        .as_str()
                        .map_err(|e| err(e.into()))?;
                    let terms = crate::text::lexical::terms(text);
                    f(key, &mut terms.iter().map(String::as_str))
                }
            }
        }
        Ok(())
    }

    /// Adds the tags table to an index made before it (writers call this on open).
    pub fn ensure_tags(&self) -> Result<(), StoreError> {
        self.conn()
            .execute_batch(TAGS_SCHEMA)
            .map_err(|e| self.err(e))
    }

    /// Whether the items carry tags: the table exists and the last update tagged them.
    pub fn has_tags(&self) -> Result<bool, StoreError> {
        let table: i64 = self
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tags'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(table > 0 && self.meta("tagger")?.is_some())
    }

    /// `(key, document id)` of the items of `level` with a tag `kind` of one of `values`, by
    /// key, each once.
    pub fn tagged(
        &self,
        level: Level,
        kind: &str,
        values: &[String],
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let conn = self.conn();
        let mut st = conn
            .prepare_cached(
                "SELECT t.item_key, i.doc_id FROM tags t JOIN items i ON i.key = t.item_key
                 WHERE t.kind = ?1 AND t.value = ?2 AND i.level = ?3",
            )
            .map_err(|e| self.err(e))?;
        let mut out: Vec<(u64, String)> = Vec::new();
        for v in values {
            let rows = st
                .query_map(params![kind, v, level.code()], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                out.push(row.map_err(|e| self.err(e))?);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Each value of `kind` with its items of `level` and their documents, most items first.
    pub fn tag_counts(&self, level: Level, kind: &str) -> Result<Vec<TagCount>, StoreError> {
        self.query_all(
            "SELECT t.value, count(DISTINCT t.item_key), count(DISTINCT i.doc_id)
             FROM tags t JOIN items i ON i.key = t.item_key
             WHERE t.kind = ?1 AND i.level = ?2
             GROUP BY t.value ORDER BY 2 DESC, 1",
            params![kind, level.code()],
            |r| {
                Ok(TagCount {
                    value: r.get(0)?,
                    items: r.get::<_, i64>(1)? as usize,
                    documents: r.get::<_, i64>(2)? as usize,
                })
            },
        )
    }

    /// The tags of the items with these keys, sorted.
    pub fn tags_of(&self, keys: &[u64]) -> Result<HashMap<u64, Vec<Tag>>, StoreError> {
        let conn = self.conn();
        let mut st = conn
            .prepare_cached("SELECT kind, value FROM tags WHERE item_key = ?1 ORDER BY kind, value")
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for &k in keys {
            let rows = st
                .query_map([k as i64], |r| {
                    Ok(Tag {
                        kind: r.get(0)?,
                        value: r.get(1)?,
                    })
                })
                .map_err(|e| self.err(e))?;
            let tags: Vec<Tag> = rows
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| self.err(e))?;
            if !tags.is_empty() {
                out.insert(k, tags);
            }
        }
        Ok(out)
    }

    /// Applies one update in one transaction: the database moves from the old state to the new
    /// one or not at all. Returns the generation after it.
    pub fn commit(&self, c: &Commit<'_>) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let err = |e| db_err(&self.path, e);
        let tx = conn.transaction().map_err(err)?;
        if c.rebuild {
            tx.execute_batch("DELETE FROM items; DELETE FROM documents;")
                .map_err(err)?;
            meta_set(
                &tx,
                &self.path,
                "format_version",
                &FORMAT_VERSION.to_string(),
            )?;
        }
        for id in &c.remove_items {
            tx.execute("DELETE FROM items WHERE id = ?1", [id])
                .map_err(err)?;
        }
        for id in c.remove_docs {
            tx.execute("DELETE FROM documents WHERE id = ?1", [id])
                .map_err(err)?;
        }
        for (d, path) in &c.docs {
            let metadata = serde_json::to_string(&d.metadata).unwrap_or_else(|_| "{}".into());
            tx.execute(
                "INSERT INTO documents(id, path, title, date, source, format, content_hash, metadata)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(id) DO UPDATE SET path = ?2, title = ?3, date = ?4, source = ?5,
                     format = ?6, content_hash = ?7, metadata = ?8",
                params![
                    d.id,
                    path,
                    d.title,
                    d.date,
                    d.source,
                    d.format,
                    d.content_hash,
                    metadata
                ],
            )
            .map_err(err)?;
        }
        for w in &c.writes {
            match w {
                ItemWrite::Insert(row, v) => insert_item(&tx, &self.path, row, v)?,
                ItemWrite::Replace(row, v) => {
                    tx.execute("DELETE FROM items WHERE id = ?1", [&row.id])
                        .map_err(err)?;
                    insert_item(&tx, &self.path, row, v)?;
                }
                ItemWrite::Meta(row) => update_item_meta(&tx, &self.path, row)?,
            }
        }
        write_tags(&tx, &self.path, c)?;
        let generation = meta_get(&tx, &self.path, "generation")?
            .and_then(|g| g.parse::<u64>().ok())
            .unwrap_or(0)
            + u64::from(c.bump);
        meta_set(&tx, &self.path, "generation", &generation.to_string())?;
        meta_set(&tx, &self.path, "model", &c.model_json)?;
        meta_set(&tx, &self.path, "dimension", &c.dimension.to_string())?;
        tx.commit().map_err(err)?;
        Ok(generation)
    }
}

/// The tags of a commit: those of the items it inserted or replaced, or of every item when
/// the stored tags were made by other rules (or none). Without a tagger, a commit that wrote
/// items leaves the store marked as keeping no tags.
fn write_tags(tx: &Connection, path: &Path, c: &Commit<'_>) -> Result<(), StoreError> {
    let err = |e| db_err(path, e);
    let wrote = c.rebuild || c.writes.iter().any(|w| !matches!(w, ItemWrite::Meta(_)));
    let Some(tagger) = c.tagger else {
        if wrote {
            tx.execute("DELETE FROM meta WHERE key = 'tagger'", [])
                .map_err(err)?;
        }
        return Ok(());
    };
    let mut insert = tx
        .prepare_cached("INSERT INTO tags(item_key, kind, value) VALUES (?1, ?2, ?3)")
        .map_err(err)?;
    let mut put = |key: i64, text: &str| -> Result<(), StoreError> {
        for t in (tagger.tag)(text) {
            insert.execute(params![key, t.kind, t.value]).map_err(err)?;
        }
        Ok(())
    };
    if meta_get(tx, path, "tagger")?.as_deref() != Some(tagger.version) {
        tx.execute("DELETE FROM tags", []).map_err(err)?;
        let all: Vec<(i64, String)> = {
            let mut st = tx.prepare("SELECT key, text FROM items").map_err(err)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(err)?
        };
        for (key, text) in &all {
            put(*key, text)?;
        }
        return meta_set(tx, path, "tagger", tagger.version);
    }
    let mut key_of = tx
        .prepare_cached("SELECT key FROM items WHERE id = ?1")
        .map_err(err)?;
    for w in &c.writes {
        if let ItemWrite::Insert(row, _) | ItemWrite::Replace(row, _) = w {
            let key: i64 = key_of.query_row([&row.id], |r| r.get(0)).map_err(err)?;
            put(key, &row.text)?;
        }
    }
    Ok(())
}

fn meta_get(conn: &Connection, path: &Path, key: &str) -> Result<Option<String>, StoreError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .map_err(|e| db_err(path, e))
}

fn meta_set(conn: &Connection, path: &Path, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
        params![key, value],
    )
    .map(|_| ())
    .map_err(|e| db_err(path, e))
}

fn insert_item(conn: &Connection, path: &Path, row: &ItemRow, v: &[f32]) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO items(id, level, doc_id, section_id, parent_id, ordinal, heading, text,
             boilerplate, start_byte, end_byte, content_hash, vector)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut st| {
        st.execute(params![
            row.id,
            row.level.code(),
            row.doc_id,
            row.section_id,
            row.parent_id,
            row.ordinal,
            row.heading,
            row.text,
            row.boilerplate,
            row.byte_range.map(|r| r.0 as i64),
            row.byte_range.map(|r| r.1 as i64),
            row.content_hash,
            encode_vector(v)
        ])
    })
    .map_err(|e| db_err(path, e))?;
    write_terms(conn, path, row)
}

/// Writes the lexical terms of an item already in `items` (by id).
fn write_terms(conn: &Connection, path: &Path, row: &ItemRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO item_terms(key, level, terms)
         SELECT key, level, ?2 FROM items WHERE id = ?1",
    )
    .and_then(|mut st| st.execute(params![row.id, stored_terms(&row.text)]))
    .map(|_| ())
    .map_err(|e| db_err(path, e))
}

fn update_item_meta(conn: &Connection, path: &Path, row: &ItemRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE items SET doc_id = ?2, section_id = ?3, parent_id = ?4, ordinal = ?5, heading = ?6,
             boilerplate = ?7, start_byte = ?8, end_byte = ?9, text = ?10 WHERE id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            row.id,
            row.doc_id,
            row.section_id,
            row.parent_id,
            row.ordinal,
            row.heading,
            row.boilerplate,
            row.byte_range.map(|r| r.0 as i64),
            row.byte_range.map(|r| r.1 as i64),
            row.text
        ])
    })
    .map_err(|e| db_err(path, e))?;
    write_terms(conn, path, row)
}
