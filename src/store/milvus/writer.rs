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

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

mod commit;

use commit::{LevelRows, Writes};

use super::client::MilvusClient;
use super::rows::{int, key, s, str_list, vector, AUX_DIM, AUX_VECTOR};
use super::{
    connect, read_info, MetaInfo, MilvusStore, Names, EXACT_THRESHOLD, LAYOUT_VERSION,
    MAX_STORED_TEXT,
};
use crate::embed::{Embedder, ModelId};
use crate::ingest::Document;
use crate::store::items::{flatten, NewItem};
use crate::store::update::{norm_path, now_rfc3339, Shard};
use crate::store::{
    Level, Store, StoreError, StoreUrl, StoreWriter, Tag, Tagger, UpdateOptions, UpdateStats,
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

/// An item's tags as its row keeps them: `tags` holds `kind:value` (sorted), `tag_kinds` the
/// kinds present, so a question about one kind reads only the rows that have it.
fn tag_fields(text: &str, tagger: Tagger) -> (Vec<String>, Vec<String>) {
    let mut tags: Vec<Tag> = (tagger.tag)(text);
    tags.sort();
    tags.dedup();
    let mut kinds: Vec<String> = tags.iter().map(|t| t.kind.clone()).collect();
    kinds.dedup();
    (
        tags.into_iter()
            .map(|t| format!("{}:{}", t.kind, t.value))
            .collect(),
        kinds,
    )
}

fn item_row(item: &NewItem, v: &[f32], tagger: Option<Tagger>) -> Value {
    let mut row = untagged_row(item, v);
    if let Some(t) = tagger {
        let (tags, kinds) = tag_fields(&item.text, t);
        row["tags"] = json!(tags);
        row["tag_kinds"] = json!(kinds);
    }
    row
}

fn untagged_row(item: &NewItem, v: &[f32]) -> Value {
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
const SAME_FIELDS: [&str; 12] = [
    "tags",
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
                    created_at: now_rfc3339(),
                };
                let old = client.keys_where(
                    &names.meta(),
                    "kind in [\"info\", \"generation\", \"themes\", \"tagger\"]",
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
        let store = MilvusStore::new(client, url, names, info);
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

    /// The steps: [`MilvusWriter::plan`] (which stored rows this update speaks for),
    /// [`MilvusWriter::vectors`] (embed what no stored row has a vector for), then commit:
    /// item rows ([`MilvusWriter::write_level`]), document rows, the generation, and a wait
    /// until all of it is visible.
    fn update(
        &mut self,
        docs: &[Document],
        embedder: &dyn Embedder,
        opts: &UpdateOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<UpdateStats, StoreError> {
        if opts.rebuild && !std::mem::replace(&mut self.rebuilt, true) {
            self.reopen_emptied()?;
        }
        self.renew()?;
        let mut stats = UpdateStats::default();
        let mut plan = self.plan(docs, opts)?;
        let new_items = flatten(docs);
        let vectors = self.vectors(&new_items, &plan, embedder, opts, progress, &mut stats)?;
        let mut writes = Writes::default();
        // Every stored document is rewritten by this update: its tags cover the store.
        let covers_all = plan
            .stored_by_id
            .keys()
            .all(|id| docs.iter().any(|d| &d.id == id) || plan.removed_docs.contains(id));
        for level in Level::ALL {
            let olds = std::mem::take(&mut plan.existing[level.slot()]);
            let rows = LevelRows {
                level,
                olds,
                tagger: opts.tagger,
            };
            self.write_level(rows, &new_items, &vectors, &mut stats, &mut writes)?;
            self.renew()?;
        }
        self.write_documents(docs, &plan, &mut stats, &mut writes)?;
        self.write_tagger(opts.tagger, covers_all, &mut writes)?;
        if writes.changed || opts.rebuild {
            self.bump_generation(&mut writes)?;
        }
        // Reads are "bounded": wait until this update is visible before saying it is done.
        for (name, (key, present)) in &writes.last {
            self.client().wait_visible(name, *key, *present)?;
        }
        // Growing segments are scanned row by row: seal and index what this update wrote.
        if writes.changed && self.client().api.available() {
            let names: Vec<String> = Level::ALL
                .into_iter()
                .map(|l| self.store.names.level(l))
                .collect();
            self.client().api.flush_and_index(&names)?;
        }
        self.store.flat = Default::default();
        self.store.level_counts = Default::default();
        self.store.docs = Default::default();
        self.store.has_tags = Default::default();
        self.store.tag_counts = Default::default();
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
