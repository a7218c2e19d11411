//! A small blocking client for Milvus's REST API (`/v1/vector/...`, served by Milvus 2.3 and
//! later on the gRPC port). It only speaks JSON over HTTP: the store above it decides what the
//! rows mean. Every failure becomes a [`StoreError`] naming the server URL: a connection that
//! cannot be made is [`StoreError::Unreachable`], an answer with an error code is
//! [`StoreError::Engine`] ([`server_error`]).
//!
//! Why REST and not gRPC: `milvus-sdk-rust` needs `protoc` and a tonic stack at build time, and
//! the REST API of 2.3 covers what the store needs (collections with dynamic fields, insert,
//! delete by key, filtered query and search). What REST 2.3 cannot do is choose the read
//! consistency (it reads "bounded"), so writers wait until their own last write is visible
//! ([`MilvusClient::wait_visible`]) before they report success.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use serde_json::{json, Value};

use super::rows::{key, keys, parse_key};
use crate::store::{MilvusTls, StoreError};

/// An error answer of the Milvus server of `url` to `what`, as the store reports it.
pub(crate) fn server_error(url: &str, what: &str, message: &str) -> StoreError {
    StoreError::Engine {
        engine: "Milvus",
        message: format!("Milvus server of {url}: {what} failed: {message}"),
    }
}

/// Rows per page when reading a whole collection (Milvus caps offset + limit at 16,384).
pub(crate) const PAGE: usize = 4_000;

/// Largest answer read from the server, in bytes.
const MAX_ANSWER: u64 = 512 << 20;

/// How long to wait for a collection to load: after a crash, a standalone server on a small
/// machine was seen taking minutes to load its collections again.
const LOAD_WAIT: Duration = Duration::from_secs(300);

/// The TLS settings of a `milvus+tls://` client: the system's root certificates plus those of
/// `--store-ca`, ring's cryptography (the provider ureq's rustls is built with), no client
/// certificate. A CA file that cannot be read or holds no certificate is an error naming it.
fn tls_config(tls: &MilvusTls, url: &str) -> Result<rustls::ClientConfig, StoreError> {
    let err = |reason: String| StoreError::Tls {
        url: url.to_string(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    let (_, unusable) = roots.add_parsable_certificates(system.certs);
    if let Some(ca) = &tls.ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| err(format!("CA file {}: {e}", ca.display())))?;
        if certs.is_empty() {
            return Err(err(format!(
                "CA file {}: no PEM certificate in it",
                ca.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| err(format!("CA file {}: {e}", ca.display())))?;
        }
    }
    if roots.is_empty() {
        return Err(err(format!(
            "no trusted certificates: none found on this system ({} unusable, errors: {:?}); \
             name the server's CA with --store-ca FILE",
            unusable, system.errors
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Requests sent and rows read by one client (and the clients made from it): what a test
/// reads to check that a search costs the same whatever the store's size.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    requests: AtomicU64,
    rows: AtomicU64,
}

/// A snapshot of [`Traffic`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrafficCount {
    /// HTTP requests sent to the server.
    pub requests: u64,
    /// Rows the server answered with (query rows and search hits).
    pub rows: u64,
}

impl Traffic {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn rows(&self, n: usize) {
        self.rows.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub(crate) fn count(&self) -> TrafficCount {
        TrafficCount {
            requests: self.requests.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
        }
    }
}

/// A vector search: the `limit` rows of collection `name` nearest `vector` among those matching
/// `filter` (empty: all), with the HNSW candidate list `ef` where the server takes one, each
/// row with `fields`.
#[derive(Clone, Copy)]
pub(crate) struct VectorQuery<'a> {
    pub name: &'a str,
    pub vector: &'a [f32],
    pub filter: &'a str,
    pub limit: usize,
    pub ef: usize,
    pub fields: &'a [&'a str],
}

/// One Milvus server.
pub(crate) struct MilvusClient {
    base: String,
    /// The store URL users typed, for messages.
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
    pub(crate) traffic: Arc<Traffic>,
    /// The server's older HTTP API (index parameters, search with `ef`, flush).
    pub(crate) api: super::api_v1::ApiV1,
}

impl MilvusClient {
    /// A client of `host:port`, over HTTPS when `tls` is set (see [`tls_config`]).
    pub(crate) fn new(
        host: &str,
        port: u16,
        tls: Option<&MilvusTls>,
        url: &str,
        token: Option<&str>,
    ) -> Result<Self, StoreError> {
        let mut agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(120));
        if let Some(tls) = tls {
            agent = agent.tls_config(Arc::new(tls_config(tls, url)?));
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        let agent = agent.build();
        let traffic = Arc::new(Traffic::default());
        Ok(Self {
            base: format!("{scheme}://{host}:{port}/v1/vector"),
            url: url.to_string(),
            token: token.map(str::to_string),
            api: super::api_v1::ApiV1::new(
                scheme,
                host,
                url,
                token,
                agent.clone(),
                traffic.clone(),
            ),
            agent,
            traffic,
        })
    }

    /// The token this client sends (to open a second client on the same server).
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn unreachable(&self, reason: String) -> StoreError {
        StoreError::Unreachable {
            engine: "Milvus",
            url: self.url.clone(),
            reason,
        }
    }

    fn server(&self, what: &str, message: String) -> StoreError {
        server_error(&self.url, what, &message)
    }

    fn finish(
        &self,
        what: &str,
        resp: Result<ureq::Response, ureq::Error>,
    ) -> Result<Value, StoreError> {
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let body = r.into_string().unwrap_or_default();
                return Err(self.server(what, format!("HTTP {code}: {}", body.trim())));
            }
            Err(ureq::Error::Transport(t)) => return Err(self.unreachable(t.to_string())),
        };
        // ureq's `into_string` stops at 10 MB, less than a page of rows with their vectors
        // (4,000 x 384 floats as JSON text is about 15 MB): read up to our own, larger bound.
        let mut body = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(resp.into_reader(), MAX_ANSWER + 1),
            &mut body,
        )
        .map_err(|e| self.unreachable(format!("reading the answer: {e}")))?;
        if body.len() as u64 > MAX_ANSWER {
            return Err(self.server(what, format!("answer larger than {} MB", MAX_ANSWER >> 20)));
        }
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| self.server(what, format!("not JSON ({e})")))?;
        match v.get("code").and_then(Value::as_i64) {
            Some(200) | Some(0) => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
            Some(code) => {
                let msg = v
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                Err(self.server(what, format!("code {code}: {msg}")))
            }
            None => Err(self.server(what, "answer without a code".into())),
        }
    }

    /// POSTs `body`; when the server answers that the collection is not loaded (a restarted
    /// server loads its collections again in the background), waits for it and tries once more.
    fn post(&self, path: &str, body: &Value) -> Result<Value, StoreError> {
        match self.post_once(path, body) {
            Err(StoreError::Engine { message, .. }) if message.contains("not loaded") => {
                let name = body
                    .get("collectionName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.wait_loaded(name)?;
                self.post_once(path, body)
            }
            other => other,
        }
    }

    /// Waits until collection `name` is loaded (at most [`LOAD_WAIT`]).
    fn wait_loaded(&self, name: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        loop {
            let d = self.get("collections/describe", &[("collectionName", name)])?;
            let state = d.get("load").and_then(Value::as_str).unwrap_or("unknown");
            if state == "LoadStateLoaded" {
                return Ok(());
            }
            if started.elapsed() > LOAD_WAIT {
                return Err(self.server(
                    "collections/describe",
                    format!(
                        "collection {name} is not loaded (state {state}) after {} s",
                        LOAD_WAIT.as_secs()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn post_once(&self, path: &str, body: &Value) -> Result<Value, StoreError> {
        self.traffic.request();
        let mut req = self
            .agent
            .post(&format!("{}/{path}", self.base))
            .set("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = req.send_string(&body.to_string());
        self.finish(path, resp)
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, StoreError> {
        self.traffic.request();
        let mut req = self.agent.get(&format!("{}/{path}", self.base));
        for (k, v) in query {
            req = req.query(k, v);
        }
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = req.call();
        self.finish(path, resp)
    }

    /// Names of all collections.
    pub(crate) fn collections(&self) -> Result<Vec<String>, StoreError> {
        let v = self.get("collections", &[])?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Creates a collection: an auto-assigned `i64` key `pk`, a float vector `vec` of `dim`
    /// (inner product) and dynamic fields for everything else; then waits until it is loaded.
    /// Where the server's `/api/v1` answers, the automatic index is replaced by simsum's HNSW
    /// ([`super::api_v1::ApiV1::make_hnsw`]).
    pub(crate) fn create(&self, name: &str, dim: usize) -> Result<(), StoreError> {
        self.post(
            "collections/create",
            &json!({"collectionName": name, "dimension": dim, "metricType": "IP",
                    "primaryField": "pk", "vectorField": "vec"}),
        )?;
        self.wait_loaded(name)?;
        if self.api.available() {
            self.api.make_hnsw(name)?;
            self.wait_loaded(name)?;
        }
        Ok(())
    }

    pub(crate) fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        self.post("collections/drop", &json!({"collectionName": name}))
            .map(|_| ())
    }

    /// Inserts rows (objects with `vec` and dynamic fields); returns their keys in order.
    pub(crate) fn insert(&self, name: &str, rows: Vec<Value>) -> Result<Vec<u64>, StoreError> {
        let mut keys = Vec::with_capacity(rows.len());
        // Bounded request bodies: a few hundred rows of 384 floats are a few MB.
        for chunk in rows.chunks(500) {
            let v = self.post("insert", &json!({"collectionName": name, "data": chunk}))?;
            let ids = v
                .get("insertIds")
                .and_then(Value::as_array)
                .ok_or_else(|| self.server("insert", "no insertIds in the answer".into()))?;
            if ids.len() != chunk.len() {
                return Err(self.server(
                    "insert",
                    format!("{} keys for {} rows", ids.len(), chunk.len()),
                ));
            }
            for id in ids {
                keys.push(parse_key(id).ok_or_else(|| {
                    self.server("insert", format!("key `{id}` is not an integer"))
                })?);
            }
        }
        Ok(keys)
    }

    /// Deletes rows by key.
    pub(crate) fn delete(&self, name: &str, keys: &[u64]) -> Result<(), StoreError> {
        for chunk in keys.chunks(1000) {
            self.post("delete", &json!({"collectionName": name, "id": chunk}))?;
        }
        Ok(())
    }

    /// All rows matching `filter` (every page), in key order, with `fields` (`pk` is always
    /// returned).
    pub(crate) fn query_all(
        &self,
        name: &str,
        filter: &str,
        fields: &[&str],
    ) -> Result<Vec<Value>, StoreError> {
        let mut out: Vec<Value> = Vec::new();
        let mut last: Option<u64> = None;
        loop {
            let f = match last {
                Some(k) => format!("pk > {k} and ({filter})"),
                None => format!("pk >= 0 and ({filter})"),
            };
            let v = self.post(
                "query",
                &json!({"collectionName": name, "filter": f, "outputFields": fields, "limit": PAGE}),
            )?;
            let rows = match v {
                Value::Array(a) => a,
                Value::Null => Vec::new(),
                _ => return Err(self.server("query", "rows are not a list".into())),
            };
            let n = rows.len();
            self.traffic.rows(n);
            let mut page_last = None;
            for r in &rows {
                page_last = key(r).or(page_last);
            }
            out.extend(rows);
            match page_last {
                Some(k) if n == PAGE => last = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// The keys of all rows matching `filter`.
    pub(crate) fn keys_where(&self, name: &str, filter: &str) -> Result<Vec<u64>, StoreError> {
        Ok(keys(&self.query_all(name, filter, &["pk"])?))
    }

    /// Inserts `rows`, deletes the rows keyed `old`, then waits until the new rows are visible:
    /// how a fact kept in rows is rewritten without a moment when readers find none.
    pub(crate) fn replace(
        &self,
        name: &str,
        rows: Vec<Value>,
        old: &[u64],
    ) -> Result<Vec<u64>, StoreError> {
        let new = self.insert(name, rows)?;
        self.delete(name, old)?;
        if let Some(&last) = new.last() {
            self.wait_visible(name, last, true)?;
        }
        Ok(new)
    }

    /// The `limit` rows most similar to `vector` among those matching `filter` (empty: all),
    /// best first, each with `pk`, `distance` (the inner product) and `fields`. Asked through
    /// the server's `/api/v1` (HNSW `ef`, bounded consistency) where it answers; through REST
    /// (the server's default `ef`) where it does not ([`super::api_v1::ApiV1::available`]).
    pub(crate) fn search(&self, q: &VectorQuery<'_>) -> Result<Vec<Value>, StoreError> {
        if self.api.available() {
            return self.api.search(q);
        }
        let VectorQuery {
            name,
            vector,
            filter,
            limit,
            fields,
            ..
        } = *q;
        let mut body = json!({"collectionName": name, "vector": vector, "outputFields": fields,
                              "limit": limit});
        if !filter.is_empty() {
            body["filter"] = json!(filter);
        }
        let mut hits = match self.post("search", &body)? {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            _ => return Err(self.server("search", "hits are not a list".into())),
        };
        self.traffic.rows(hits.len());
        for h in &mut hits {
            if let Some(id) = h.get("id").cloned() {
                h["pk"] = id;
            }
        }
        Ok(hits)
    }

    /// Waits until a write is visible to reads: REST reads are "bounded" (a few seconds stale
    /// at most), and one collection's writes become visible in order, so once the last write is
    /// seen all earlier ones are. `present`: the key was inserted (else deleted).
    pub(crate) fn wait_visible(
        &self,
        name: &str,
        key: u64,
        present: bool,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        loop {
            let rows = self.post(
                "query",
                &json!({"collectionName": name, "filter": format!("pk in [{key}]"),
                        "outputFields": ["pk"], "limit": 1}),
            )?;
            let seen = rows.as_array().is_some_and(|a| !a.is_empty());
            if seen == present {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(self.server(
                    "query",
                    format!("a write to {name} was not visible after 60 s"),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
