//! Writing a Milvus store: one update brings the stored items of the documents in scope in line
//! with freshly ingested ones, embedding only texts whose content hash is not stored yet.
//!
//! Milvus has no transactions, so the order of writes is what keeps a store whole when a writer
//! dies half-way: new item rows first, then the stale rows are deleted, then the document rows
//! (a document's row is what makes its items visible to readers), then the generation. Running
//! the same update again finds the rows already written (by item id and content hash), keeps
//! them, drops duplicates and finishes the rest: nothing is embedded twice, lost or doubled.
//!
//! Writers take a lease per shard (`I/N`, a row in `NAME_meta` with an expiry) before writing:
//! writers of disjoint shards run side by side, a second writer of an overlapping shard is
//! refused, and a crashed writer's lease runs out after [`LEASE_SECONDS`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::client::MilvusClient;
use super::rows::{int, key, s, str_list, vector, AUX_DIM, AUX_VECTOR};
use super::{
    connect, read_info, MetaInfo, MilvusStore, Names, EXACT_THRESHOLD, LAYOUT_VERSION,
    MAX_STORED_TEXT,
};
use crate::embed::{Embedder, ModelId};
use crate::ingest::Document;
use crate::store::items::{flatten, section_vectors, NewItem};
use crate::store::update::{norm_path, Shard};
use crate::store::{
    Level, LevelStats, Store, StoreError, StoreUrl, StoreWriter, UpdateOptions, UpdateStats,
};

/// How long a writer's lease lasts without renewal; writers renew it as they go.
pub const LEASE_SECONDS: u64 = 300;
/// Ids per `in [...]` filter (keeps filter expressions and answers bounded).
const IDS_PER_QUERY: usize = 500;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A token unique to this process and moment (lease holders, theme sets).
pub(crate) fn unique_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{}-{nanos}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace('-', "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// Whether a lease holder is a process of this machine that no longer runs (a writer that
/// crashed or lost its server before it could release the lease): its lease is void.
fn holder_is_gone(holder: &str) -> bool {
    let mut parts = holder.split('-');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    host == host_name()
        && Path::new("/proc/self").exists()
        && pid
            .parse::<u32>()
            .is_ok_and(|p| p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists())
}

/// This writer's lease.
struct Lease {
    shard: Shard,
    holder: String,
    key: u64,
    renewed: Instant,
}

/// A Milvus store opened for writing, holding a lease on its shard.
pub struct MilvusWriter {
    store: MilvusStore,
    lease: Option<Lease>,
    rebuilt: bool,
}

/// A stored item row, as an update compares it.
struct Existing {
    key: u64,
    row: Value,
    content_hash: String,
}

fn item_row(item: &NewItem, v: &[f32]) -> Value {
    let long = item.level == Level::Section && item.text.len() > MAX_STORED_TEXT;
    let (start, end) = item
        .byte_range
        .map_or((-1i64, -1i64), |(a, b)| (a as i64, b as i64));
    json!({
        "vec": v,
        "item_id": item.id,
        "doc_id": item.doc_id,
        "section_id": item.section_id,
        "parent_id": item.parent_id.clone().unwrap_or_default(),
        "ordinal": item.ordinal,
        "heading": item.heading,
        "text": if long { "" } else { item.text.as_str() },
        "text_from_parts": long,
        "boilerplate": item.boilerplate,
        "start_byte": start,
        "end_byte": end,
        "content_hash": item.content_hash,
    })
}

/// The fields two rows must share to be the same item (the vector follows the content hash).
const SAME_FIELDS: [&str; 11] = [
    "item_id",
    "doc_id",
    "section_id",
    "parent_id",
    "ordinal",
    "heading",
    "text",
    "boilerplate",
    "start_byte",
    "end_byte",
    "content_hash",
];

fn same_row(a: &Value, b: &Value) -> bool {
    SAME_FIELDS.iter().all(|f| a.get(*f) == b.get(*f))
}

fn doc_row(d: &Document) -> Value {
    json!({
        "vec": AUX_VECTOR,
        "doc_id": d.id,
        "path": norm_path(&d.path).to_string_lossy(),
        "title": d.title,
        "date": d.date.clone().unwrap_or_default(),
        "source": d.source.clone().unwrap_or_default(),
        "format": d.format,
        "content_hash": d.content_hash,
        "metadata": serde_json::to_string(&d.metadata).unwrap_or_else(|_| "{}".into()),
    })
}

const DOC_FIELDS: [&str; 8] = [
    "doc_id",
    "path",
    "title",
    "date",
    "source",
    "format",
    "content_hash",
    "metadata",
];

/// The row of kind `info` in `NAME_meta`.
fn info_row(info: &MetaInfo) -> Value {
    json!({"vec": AUX_VECTOR, "kind": "info",
           "info": serde_json::to_string(info).expect("json")})
}

fn level_stats(stats: &mut UpdateStats, level: Level) -> &mut LevelStats {
    match level {
        Level::Section => &mut stats.sections,
        Level::Initiative => &mut stats.initiatives,
        Level::Sentence => &mut stats.sentences,
    }
}

impl MilvusWriter {
    /// Opens (creating when absent) the store at `url` for writing shard `shard`: takes the
    /// shard's lease, checks the model (or with `rebuild`, empties the store first).
    pub fn open(
        url: &StoreUrl,
        token: Option<&str>,
        model: &ModelId,
        dim: usize,
        rebuild: bool,
        shard: Shard,
    ) -> Result<Self, StoreError> {
        let (client, names) = connect(url, token)?;
        let existing = client.collections()?;
        if !existing.contains(&names.meta()) {
            client.create(&names.meta(), AUX_DIM)?;
        }
        let mut lease = acquire_lease(&client, &names, url, shard, rebuild)?;
        let info = match read_info(&client, &names, url)? {
            Some(info) if !rebuild => info,
            _ => {
                // A new store, or starting over: fresh collections and a new info row.
                for c in names.data() {
                    if rebuild && existing.contains(&c) {
                        client.drop_collection(&c)?;
                    }
                }
                let info = MetaInfo {
                    layout_version: LAYOUT_VERSION,
                    model: model.clone(),
                    dimension: dim,
                    exact_threshold: EXACT_THRESHOLD,
                    created_at: crate::store::local::manifest::now_rfc3339(),
                };
                let old = client.keys_where(
                    &names.meta(),
                    "kind in [\"info\", \"generation\", \"themes\"]",
                )?;
                client.replace(&names.meta(), vec![info_row(&info)], &old)?;
                info
            }
        };
        let now = client.collections()?;
        for c in names.data() {
            if !now.contains(&c) {
                let d = if c == names.documents() { AUX_DIM } else { dim };
                client.create(&c, d)?;
            }
        }
        let store = MilvusStore {
            client,
            url: url.clone(),
            names,
            info,
            exact: false,
            flat: Default::default(),
            level_counts: Default::default(),
        };
        store.check_model(model, dim)?;
        lease.renewed = Instant::now();
        Ok(Self {
            store,
            lease: Some(lease),
            rebuilt: rebuild,
        })
    }

    /// Sets the level size below which searches are exact (recorded in the store, read by
    /// every reader from then on); 0 sends every search to Milvus's index.
    pub fn set_exact_threshold(&mut self, n: usize) -> Result<(), StoreError> {
        let client = &self.store.client;
        let meta = self.store.names.meta();
        let mut info = self.store.info.clone();
        info.exact_threshold = n;
        let old = client.keys_where(&meta, "kind == \"info\"")?;
        client.replace(&meta, vec![info_row(&info)], &old)?;
        self.store.info = info;
        Ok(())
    }

    fn client(&self) -> &MilvusClient {
        &self.store.client
    }

    /// Renews the lease when a third of its time has passed.
    fn renew(&mut self) -> Result<(), StoreError> {
        let Some(lease) = &mut self.lease else {
            return Ok(());
        };
        if lease.renewed.elapsed() < Duration::from_secs(LEASE_SECONDS / 3) {
            return Ok(());
        }
        let meta = self.store.names.meta();
        let keys = self
            .store
            .client
            .insert(&meta, vec![lease_row(&lease.shard, &lease.holder)])?;
        self.store.client.delete(&meta, &[lease.key])?;
        lease.key = keys[0];
        lease.renewed = Instant::now();
        Ok(())
    }

    /// Rows of `level` belonging to `doc_ids`, by item id.
    fn existing(
        &self,
        level: Level,
        doc_ids: &[String],
    ) -> Result<HashMap<String, Vec<Existing>>, StoreError> {
        let mut fields: Vec<&str> = SAME_FIELDS.to_vec();
        fields.push("vec");
        let mut out: HashMap<String, Vec<Existing>> = HashMap::new();
        for chunk in doc_ids.chunks(IDS_PER_QUERY) {
            let rows = self.client().query_all(
                &self.store.names.level(level),
                &format!("doc_id in {}", str_list(chunk)),
                &fields,
            )?;
            for r in rows {
                let Some(key) = key(&r) else {
                    continue;
                };
                out.entry(s(&r, "item_id")).or_default().push(Existing {
                    key,
                    content_hash: s(&r, "content_hash"),
                    row: r,
                });
            }
        }
        Ok(out)
    }

    /// Stored vectors of texts by content hash (initiatives and sentences share texts).
    fn vectors_by_hash(&self, hashes: &[String]) -> Result<HashMap<String, Vec<f32>>, StoreError> {
        let mut out = HashMap::new();
        for level in [Level::Initiative, Level::Sentence] {
            let wanted: Vec<String> = hashes
                .iter()
                .filter(|h| !out.contains_key(*h))
                .cloned()
                .collect();
            for chunk in wanted.chunks(IDS_PER_QUERY) {
                let rows = self.client().query_all(
                    &self.store.names.level(level),
                    &format!("content_hash in {}", str_list(chunk)),
                    &["content_hash", "vec"],
                )?;
                for r in rows {
                    out.entry(s(&r, "content_hash"))
                        .or_insert_with(|| vector(&r));
                }
            }
        }
        Ok(out)
    }
}

fn lease_row(shard: &Shard, holder: &str) -> Value {
    json!({"vec": AUX_VECTOR, "kind": "lease", "shard": shard.to_string(), "holder": holder,
           "expires": now_secs() + LEASE_SECONDS})
}

/// Takes the lease of `shard`: refused while an unexpired lease of an overlapping shard is
/// held by another writer (with `exclusive`, while any lease is). Two writers racing for one
/// shard both write their lease; the one Milvus keyed first wins, the other withdraws.
fn acquire_lease(
    client: &MilvusClient,
    names: &Names,
    url: &StoreUrl,
    shard: Shard,
    exclusive: bool,
) -> Result<Lease, StoreError> {
    let meta = names.meta();
    let read = || -> Result<Vec<(u64, Shard, String, u64)>, StoreError> {
        Ok(client
            .query_all(&meta, "kind == \"lease\"", &["shard", "holder", "expires"])?
            .iter()
            .filter_map(|r| {
                Some((
                    key(r)?,
                    s(r, "shard").parse::<Shard>().ok()?,
                    s(r, "holder"),
                    int(r, "expires").max(0) as u64,
                ))
            })
            .collect())
    };
    let refuse = |other: &Shard, holder: &str, expires: u64| StoreError::Leased {
        url: url.to_string(),
        shard: shard.to_string(),
        other: other.to_string(),
        holder: holder.to_string(),
        seconds: expires.saturating_sub(now_secs()),
    };
    let conflicts =
        |s: &Shard, holder: &str| (exclusive || s.overlaps(&shard)) && !holder_is_gone(holder);
    let leases = read()?;
    let now = now_secs();
    if let Some((_, s, h, e)) = leases
        .iter()
        .find(|(_, s, h, e)| *e > now && conflicts(s, h))
    {
        return Err(refuse(s, h, *e));
    }
    let expired: Vec<u64> = leases.iter().filter(|l| l.3 <= now).map(|l| l.0).collect();
    client.delete(&meta, &expired)?;
    let holder = unique_token();
    let key = client.insert(&meta, vec![lease_row(&shard, &holder)])?[0];
    client.wait_visible(&meta, key, true)?;
    let now = now_secs();
    if let Some((_, s, h, e)) = read()?
        .iter()
        .find(|(k, s, h, e)| *k < key && *h != holder && *e > now && conflicts(s, h))
    {
        client.delete(&meta, &[key])?;
        return Err(refuse(s, h, *e));
    }
    Ok(Lease {
        shard,
        holder,
        key,
        renewed: Instant::now(),
    })
}

impl Drop for MilvusWriter {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            // Best effort: an unreleased lease expires by itself. Waiting until the release is
            // visible lets the next writer of the shard start at once.
            let meta = self.store.names.meta();
            if self.store.client.delete(&meta, &[lease.key]).is_ok() {
                let _ = self.store.client.wait_visible(&meta, lease.key, false);
            }
        }
    }
}

impl StoreWriter for MilvusWriter {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn update(
        &mut self,
        docs: &[Document],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<UpdateStats, StoreError> {
        if opts.rebuild && !std::mem::replace(&mut self.rebuilt, true) {
            // A rebuild asked of an open writer: reopen over emptied collections.
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
        }
        self.renew()?;
        let names = self.store.names.clone();
        let mut stats = UpdateStats::default();

        // 1. Plan: which stored documents this update speaks for, and their rows.
        let scope: Vec<PathBuf> = opts.scope.iter().map(|p| norm_path(p)).collect();
        let keep: HashSet<PathBuf> = opts.keep_paths.iter().map(|p| norm_path(p)).collect();
        let new_ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let mut doc_fields: Vec<&str> = DOC_FIELDS.to_vec();
        doc_fields.push("pk");
        let stored_docs = self
            .client()
            .query_all(&names.documents(), "pk >= 0", &doc_fields)?;
        let mut removed_docs: Vec<String> = Vec::new();
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
        for (id, rows) in &stored_by_id {
            let path = PathBuf::from(s(&rows[0].1, "path"));
            let in_scope = opts.rebuild || scope.iter().any(|s| path.starts_with(s));
            if !new_ids.contains(id.as_str()) && in_scope && (opts.rebuild || !keep.contains(&path))
            {
                removed_docs.push(id.clone());
            }
        }
        // Rows of new documents too: a run that stopped before writing a document's row may
        // have written its items already.
        let mut touched: Vec<String> = new_ids.iter().map(|s| s.to_string()).collect();
        touched.extend(removed_docs.iter().cloned());
        touched.sort();
        let mut existing: [HashMap<String, Vec<Existing>>; 3] = Default::default();
        for level in Level::ALL {
            existing[level.slot()] = self.existing(level, &touched)?;
        }

        // 2. Embed what no stored row has a vector for.
        let new_items = flatten(docs);
        let mut by_hash: HashMap<String, Vec<f32>> = HashMap::new();
        for level in [Level::Initiative, Level::Sentence] {
            for rows in existing[level.slot()].values() {
                for e in rows {
                    by_hash
                        .entry(e.content_hash.clone())
                        .or_insert_with(|| vector(&e.row));
                }
            }
        }
        let mut wanted: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for i in new_items.iter().filter(|i| i.level != Level::Section) {
            if !by_hash.contains_key(&i.content_hash) && seen.insert(&i.content_hash) {
                wanted.push(i.content_hash.clone());
            }
        }
        by_hash.extend(self.vectors_by_hash(&wanted)?);
        let mut to_embed: Vec<(&str, &str)> = Vec::new();
        let mut queued: HashSet<&str> = HashSet::new();
        for i in new_items.iter().filter(|i| i.level != Level::Section) {
            if !by_hash.contains_key(&i.content_hash) && queued.insert(&i.content_hash) {
                to_embed.push((&i.content_hash, &i.text));
            }
        }
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
        stats.embedded = to_embed.len();
        by_hash.extend(embedded);
        let mut vectors: HashMap<String, Vec<f32>> = HashMap::new();
        for i in new_items.iter().filter(|i| i.level != Level::Section) {
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

        // 3. Commit: new rows, then stale rows out, then document rows, then the generation.
        let mut last_write: HashMap<String, (u64, bool)> = HashMap::new();
        let mut changed = false;
        for level in Level::ALL {
            let name = names.level(level);
            let mut olds = std::mem::take(&mut existing[level.slot()]);
            let mut inserts: Vec<Value> = Vec::new();
            let mut kept: HashSet<u64> = HashSet::new();
            let mut new_here: HashSet<&str> = HashSet::new();
            for item in new_items.iter().filter(|i| i.level == level) {
                let Some(v) = vectors.get(&item.id) else {
                    continue;
                };
                new_here.insert(&item.id);
                let row = item_row(item, v);
                let st = level_stats(&mut stats, level);
                match olds.get(&item.id) {
                    Some(rows) => match rows.iter().find(|e| same_row(&e.row, &row)) {
                        Some(e) => {
                            kept.insert(e.key);
                            st.unchanged += 1;
                        }
                        None => {
                            inserts.push(row);
                            st.updated += 1;
                        }
                    },
                    None => {
                        inserts.push(row);
                        st.added += 1;
                    }
                }
            }
            let mut stale: Vec<u64> = Vec::new();
            for (id, rows) in olds.drain() {
                if !new_here.contains(id.as_str()) {
                    level_stats(&mut stats, level).removed += 1;
                }
                stale.extend(rows.iter().map(|e| e.key).filter(|k| !kept.contains(k)));
            }
            if !inserts.is_empty() {
                let keys = self.client().insert(&name, inserts)?;
                last_write.insert(name.clone(), (*keys.last().expect("rows"), true));
                changed = true;
            }
            if !stale.is_empty() {
                self.client().delete(&name, &stale)?;
                last_write.insert(name.clone(), (*stale.last().expect("rows"), false));
                changed = true;
            }
            self.renew()?;
        }
        let mut doc_inserts: Vec<Value> = Vec::new();
        let mut doc_deletes: Vec<u64> = Vec::new();
        for d in docs {
            let row = doc_row(d);
            let rows = stored_by_id.get(&d.id).map(Vec::as_slice).unwrap_or(&[]);
            let same = |r: &Value| DOC_FIELDS.iter().all(|f| r.get(*f) == row.get(*f));
            if rows.len() == 1 && same(&rows[0].1) {
                continue;
            }
            doc_inserts.push(row);
            doc_deletes.extend(rows.iter().map(|(k, _)| *k));
        }
        for id in &removed_docs {
            doc_deletes.extend(stored_by_id[id].iter().map(|(k, _)| *k));
            stats.documents_removed += 1;
        }
        let docs_name = names.documents();
        if !doc_inserts.is_empty() {
            let keys = self.client().insert(&docs_name, doc_inserts)?;
            last_write.insert(docs_name.clone(), (*keys.last().expect("rows"), true));
            changed = true;
        }
        if !doc_deletes.is_empty() {
            self.client().delete(&docs_name, &doc_deletes)?;
            last_write.insert(
                docs_name.clone(),
                (*doc_deletes.last().expect("rows"), false),
            );
            changed = true;
        }
        if changed || opts.rebuild {
            let old: Vec<(u64, u64)> = self
                .client()
                .query_all(&names.meta(), "kind == \"generation\"", &["value"])?
                .iter()
                .filter_map(|r| Some((key(r)?, s(r, "value").parse().ok()?)))
                .collect();
            // Several writers may commit at once: a time stamp above every earlier value
            // still changes with every commit.
            let micros = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64);
            let value = old.iter().map(|g| g.1 + 1).max().unwrap_or(1).max(micros);
            let keys = self.client().insert(
                &names.meta(),
                vec![json!({"vec": AUX_VECTOR, "kind": "generation", "value": value.to_string()})],
            )?;
            let older: Vec<u64> = old.iter().map(|g| g.0).collect();
            self.client().delete(&names.meta(), &older)?;
            last_write.insert(names.meta(), (keys[0], true));
        }
        // Reads are "bounded": wait until this update is visible before saying it is done.
        for (name, (key, present)) in &last_write {
            self.client().wait_visible(name, *key, *present)?;
        }
        self.store.flat = Default::default();
        self.store.level_counts = Default::default();
        for level in [Level::Section, Level::Initiative] {
            let graph = if self.store.uses_graph(level)? {
                "searched by Milvus's index"
            } else {
                "searched exactly"
            };
            stats.graphs.push((level, graph.to_string()));
        }
        Ok(stats)
    }
}
