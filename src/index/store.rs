//! The SQLite database (`index.sqlite`): the source of truth for documents, items and their
//! vectors. One write transaction per update makes a crash mid-index harmless: SQLite rolls the
//! unfinished transaction back on the next open. Everything else in the index directory (the
//! manifest, the graphs) is derived from it. This module owns the schema and the row mapping;
//! [`super::IndexDir`] owns the policy.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::{IndexError, Level};

/// Schema of format 1. Item keys (`key`) are never reused (AUTOINCREMENT), so a stale graph can
/// only point at dead keys, never at the wrong item.
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
";

/// Maps a SQLite error to a typed error naming the database file.
pub(crate) fn db_err(path: &Path, e: rusqlite::Error) -> IndexError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(f.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) {
            return IndexError::CorruptDatabase {
                path: path.to_path_buf(),
                reason: e.to_string(),
            };
        }
    }
    IndexError::Database {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Opens (and with `create`, creates) the database and checks that it is readable.
pub(crate) fn open(path: &Path, create: bool) -> Result<Connection, IndexError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(IndexError::CorruptDatabase {
            path: path.to_path_buf(),
            reason: "the database file is missing".into(),
        });
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(path, e))?;
    let err = |e| db_err(path, e);
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    // WAL: readers keep reading the last committed state while a writer works; FULL makes each
    // commit durable.
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
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(..) => db_err(path, e),
            other => db_err(path, other),
        })?;
    }
    Ok(conn)
}

/// Reads one `meta` value.
pub(crate) fn meta_get(
    conn: &Connection,
    path: &Path,
    key: &str,
) -> Result<Option<String>, IndexError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .map_err(|e| db_err(path, e))
}

/// Writes one `meta` value.
pub(crate) fn meta_set(
    conn: &Connection,
    path: &Path,
    key: &str,
    value: &str,
) -> Result<(), IndexError> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
        params![key, value],
    )
    .map(|_| ())
    .map_err(|e| db_err(path, e))
}

/// The fields of an item row that decide whether it changed (everything but the vector).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemRow {
    pub id: String,
    pub level: Level,
    pub doc_id: String,
    pub section_id: String,
    pub parent_id: Option<String>,
    pub ordinal: i64,
    pub heading: String,
    pub text: String,
    pub boilerplate: bool,
    pub byte_range: Option<(usize, usize)>,
    pub content_hash: String,
}

/// Inserts an item row with its vector; returns its new key.
pub(crate) fn insert_item(
    conn: &Connection,
    path: &Path,
    row: &ItemRow,
    vector: &[u8],
) -> Result<i64, IndexError> {
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
            vector
        ])
    })
    .map_err(|e| db_err(path, e))?;
    Ok(conn.last_insert_rowid())
}

/// Updates the metadata of an item whose text (and so vector) did not change.
pub(crate) fn update_item_meta(
    conn: &Connection,
    path: &Path,
    row: &ItemRow,
) -> Result<(), IndexError> {
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
    .map(|_| ())
    .map_err(|e| db_err(path, e))
}

/// All item rows (without vectors) of the given documents, by item id.
pub(crate) fn rows_of_docs(
    conn: &Connection,
    path: &Path,
    doc_ids: &[String],
) -> Result<std::collections::HashMap<String, ItemRow>, IndexError> {
    let mut out = std::collections::HashMap::new();
    let mut st = conn
        .prepare_cached(
            "SELECT id, level, doc_id, section_id, parent_id, ordinal, heading, text, boilerplate,
                 start_byte, end_byte, content_hash FROM items WHERE doc_id = ?1",
        )
        .map_err(|e| db_err(path, e))?;
    for doc in doc_ids {
        let rows = st
            .query_map([doc], |r| {
                let level: i64 = r.get(1)?;
                let start: Option<i64> = r.get(9)?;
                let end: Option<i64> = r.get(10)?;
                Ok(ItemRow {
                    id: r.get(0)?,
                    level: Level::from_code(level).unwrap_or(Level::Sentence),
                    doc_id: r.get(2)?,
                    section_id: r.get(3)?,
                    parent_id: r.get(4)?,
                    ordinal: r.get(5)?,
                    heading: r.get(6)?,
                    text: r.get(7)?,
                    boilerplate: r.get(8)?,
                    byte_range: start.zip(end).map(|(s, e)| (s as usize, e as usize)),
                    content_hash: r.get(11)?,
                })
            })
            .map_err(|e| db_err(path, e))?;
        for row in rows {
            let row = row.map_err(|e| db_err(path, e))?;
            out.insert(row.id.clone(), row);
        }
    }
    Ok(out)
}

/// A stored vector with this content hash, if any item has one.
pub(crate) fn vector_by_hash(
    conn: &Connection,
    path: &Path,
    hash: &str,
) -> Result<Option<Vec<u8>>, IndexError> {
    conn.prepare_cached("SELECT vector FROM items WHERE content_hash = ?1 LIMIT 1")
        .and_then(|mut st| st.query_row([hash], |r| r.get(0)).optional())
        .map_err(|e| db_err(path, e))
}

/// Documents as `(id, path)`.
pub(crate) fn document_paths(
    conn: &Connection,
    path: &Path,
) -> Result<Vec<(String, PathBuf)>, IndexError> {
    let mut st = conn
        .prepare("SELECT id, path FROM documents")
        .map_err(|e| db_err(path, e))?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                PathBuf::from(r.get::<_, String>(1)?),
            ))
        })
        .map_err(|e| db_err(path, e))?;
    rows.collect::<Result<_, _>>().map_err(|e| db_err(path, e))
}
