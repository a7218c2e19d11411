//! The Milvus 2.3 server's older HTTP API, `/api/v1` on its metrics port (9091 unless
//! `SIMSUM_MILVUS_API_PORT` says otherwise): what the REST API of the gRPC port cannot do.
//! Measured on 2.3.5 (BENCHMARKS.md, issue 36): REST's `/v1/vector/search` ignores `ef` (it
//! searches with the server's default, recall@10 0.41 where ef 64 gives 0.77 and 500 gives 1.0
//! on 20k random vectors), and this API's search without `guarantee_timestamp` reads with
//! Strong consistency (about 290 ms a query against 3 ms with a bounded timestamp). So this
//! module owns: creating the HNSW index with simsum's parameters ([`HNSW_M`],
//! [`HNSW_EF_CONSTRUCTION`]), searching with `ef` and bounded staleness
//! ([`BOUNDED_STALENESS_MS`]), flushing segments and waiting until they are indexed, and the
//! facts `simsum store info` shows (index parameters, row counts, the server's version).
//!
//! A server whose `/api/v1` cannot be reached (another port, a proxy in front of it) is still
//! served: searches go through REST with the server's default `ef`, and indexes stay as the
//! server made them. Whether it answers is asked once per handle.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

use super::client::{Traffic, VectorQuery};
use crate::store::StoreError;

/// HNSW links per node: the local index's (`HnswParams`), so both engines build the same kind
/// of graph and differ only in where it runs. The server's automatic index is HNSW with M 18
/// and efConstruction 240 (read back from 2.3.5); a sweep of M 8/16/32 on 20k random vectors
/// was inconclusive (searched while sealed segments were being loaded), so the local
/// index's measured choice stands (BENCHMARKS.md, issue 36).
pub(crate) const HNSW_M: usize = 16;
/// HNSW build-time candidate list (the local index's).
pub(crate) const HNSW_EF_CONSTRUCTION: usize = 200;
/// How stale a search may read (bounded consistency): Milvus answers at once from what its
/// query node has seen, provided that is no older than this. Writers wait until their own
/// writes are visible before they return, so a finished update is always seen.
pub(crate) const BOUNDED_STALENESS_MS: u64 = 5_000;
/// How long a flush may take to be indexed.
const INDEX_WAIT: Duration = Duration::from_secs(900);

/// The index of a collection's vector field, as the server describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexInfo {
    pub index_type: String,
    pub metric: String,
    /// The build parameters (`M`, `efConstruction`) as the server keeps them (JSON).
    pub params: String,
    pub indexed_rows: u64,
    pub total_rows: u64,
}

/// The `/api/v1` side of a Milvus client.
pub(crate) struct ApiV1 {
    base: String,
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
    traffic: Arc<Traffic>,
    available: OnceLock<bool>,
}

/// Milvus's hybrid timestamp of a moment `ms` milliseconds after the epoch.
fn hybrid_ts(ms: u64) -> u64 {
    ms << 18
}

impl ApiV1 {
    pub(crate) fn new(
        scheme: &str,
        host: &str,
        url: &str,
        token: Option<&str>,
        agent: ureq::Agent,
        traffic: Arc<Traffic>,
    ) -> Self {
        let port = std::env::var("SIMSUM_MILVUS_API_PORT")
            .ok()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(9091);
        Self {
            base: format!("{scheme}://{host}:{port}/api/v1"),
            url: url.to_string(),
            token: token.map(str::to_string),
            agent,
            traffic,
            available: OnceLock::new(),
        }
    }

    fn server(&self, what: &str, message: String) -> StoreError {
        super::client::server_error(&self.url, &format!("/api/v1/{what}"), &message)
    }

    /// Whether the API answers (asked once).
    pub(crate) fn available(&self) -> bool {
        *self.available.get_or_init(|| {
            self.call("GET", "health", &json!({}))
                .is_ok_and(|v| v.get("status").and_then(Value::as_str) == Some("ok"))
        })
    }

    /// Sends one request; an answer whose `status` carries an error code is an error.
    fn call(&self, method: &str, path: &str, body: &Value) -> Result<Value, StoreError> {
        self.traffic.request();
        let mut req = self
            .agent
            .request(method, &format!("{}/{path}", self.base))
            .set("Content-Type", "application/json")
            .timeout(Duration::from_secs(120));
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = match req.send_string(&body.to_string()) {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let body = r.into_string().unwrap_or_default();
                return Err(self.server(path, format!("HTTP {code}: {}", body.trim())));
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(StoreError::Unreachable {
                    engine: "Milvus",
                    url: self.url.clone(),
                    reason: format!("{}/{path}: {t}", self.base),
                })
            }
        };
        let text = resp
            .into_string()
            .map_err(|e| self.server(path, format!("reading the answer: {e}")))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| self.server(path, format!("not JSON ({e})")))?;
        // Errors come as `status: {error_code, reason}` (or flat, for a few calls).
        let status = v.get("status").filter(|s| s.is_object()).unwrap_or(&v);
        let code = status
            .get("error_code")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if code != 0 {
            let reason = status
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(self.server(path, format!("code {code}: {reason}")));
        }
        Ok(v)
    }

    /// Replaces the server's automatic index of `name`'s vector field by HNSW with
    /// [`HNSW_M`] and [`HNSW_EF_CONSTRUCTION`], and loads the collection again. Only for a
    /// collection without rows (a new one): its index is built as segments are sealed.
    pub(crate) fn make_hnsw(&self, name: &str) -> Result<(), StoreError> {
        let c = json!({"collection_name": name});
        self.call("DELETE", "collection/load", &c)?;
        self.call(
            "DELETE",
            "index",
            &json!({"collection_name": name, "field_name": "vec", "index_name": "vector_idx"}),
        )?;
        let params = json!({"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}).to_string();
        self.call(
            "POST",
            "index",
            &json!({"collection_name": name, "field_name": "vec", "index_name": "vector_idx",
                    "extra_params": [{"key": "index_type", "value": "HNSW"},
                                     {"key": "metric_type", "value": "IP"},
                                     {"key": "params", "value": params}]}),
        )?;
        self.call("POST", "collection/load", &c)?;
        Ok(())
    }

    /// The index of `name`'s vector field and how many rows it covers.
    pub(crate) fn index(&self, name: &str) -> Result<IndexInfo, StoreError> {
        let v = self.call("GET", "index", &json!({"collection_name": name}))?;
        let Some(d) = v
            .get("index_descriptions")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        else {
            return Ok(IndexInfo::default());
        };
        let param = |k: &str| -> String {
            d.get("params")
                .and_then(Value::as_array)
                .and_then(|ps| {
                    ps.iter()
                        .find(|p| p.get("key").and_then(Value::as_str) == Some(k))
                })
                .and_then(|p| p.get("value").and_then(Value::as_str))
                .unwrap_or_default()
                .to_string()
        };
        let mut info = IndexInfo {
            index_type: param("index_type"),
            metric: param("metric_type"),
            params: param("params"),
            ..Default::default()
        };
        let p = self.call(
            "GET",
            "index/progress",
            &json!({"collection_name": name, "field_name": "vec"}),
        )?;
        info.indexed_rows = p.get("indexed_rows").and_then(Value::as_u64).unwrap_or(0);
        info.total_rows = p.get("total_rows").and_then(Value::as_u64).unwrap_or(0);
        Ok(info)
    }

    /// Seals and persists the growing segments of `names`, then waits until every row of them
    /// is indexed: after a bulk write, searches walk graphs instead of scanning growing rows.
    pub(crate) fn flush_and_index(&self, names: &[String]) -> Result<(), StoreError> {
        self.call("POST", "persist", &json!({"collection_names": names}))?;
        let started = Instant::now();
        for name in names {
            loop {
                let i = self.index(name)?;
                if i.indexed_rows >= i.total_rows {
                    break;
                }
                if started.elapsed() > INDEX_WAIT {
                    return Err(self.server(
                        "index/progress",
                        format!(
                            "{name}: {} of {} rows indexed after {} s",
                            i.indexed_rows,
                            i.total_rows,
                            INDEX_WAIT.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        Ok(())
    }

    /// The server's version (`v2.3.5-lite`).
    pub(crate) fn version(&self) -> Result<String, StoreError> {
        let v = self.call(
            "GET",
            "metrics",
            &json!({"request": "{\"metric_type\":\"system_info\"}"}),
        )?;
        let inner: Value = v
            .get("response")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null);
        Ok(inner
            .get("nodes_info")
            .and_then(Value::as_array)
            .and_then(|n| n.first())
            .and_then(|n| n.pointer("/infos/system_info/build_version"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string())
    }

    /// The `limit` rows nearest `vector` among those matching `filter`, with HNSW `ef` and
    /// bounded consistency; rows as REST gives them (`pk`, `distance`, the fields).
    pub(crate) fn search(&self, q: &VectorQuery<'_>) -> Result<Vec<Value>, StoreError> {
        let VectorQuery {
            name,
            vector,
            filter,
            limit,
            ef,
            fields,
        } = *q;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let body = json!({
            "collection_name": name,
            "dsl_type": 1,
            "dsl": filter,
            "output_fields": fields,
            "vector_type": 101,
            "vectors": [vector],
            "search_params": [
                {"key": "anns_field", "value": "vec"},
                {"key": "topk", "value": limit.to_string()},
                {"key": "params", "value": json!({"ef": ef.max(limit)}).to_string()},
                {"key": "metric_type", "value": "IP"},
                {"key": "round_decimal", "value": "-1"},
            ],
            "guarantee_timestamp": hybrid_ts(now_ms.saturating_sub(BOUNDED_STALENESS_MS)).max(1),
        });
        let v = self.call("POST", "search", &body)?;
        let hits = parse_hits(v.get("results").unwrap_or(&Value::Null))
            .map_err(|e| self.server("search", e))?;
        self.traffic.rows(hits.len());
        Ok(hits)
    }
}

/// The hits of a `/api/v1/search` answer as rows: `pk`, `distance` and each output field
/// (dynamic fields arrive as base64 JSON objects in `$meta`, the vector as one flat list).
fn parse_hits(results: &Value) -> Result<Vec<Value>, String> {
    let ids: Vec<u64> = results
        .pointer("/ids/IdField/IntId/data")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let scores: Vec<f64> = results
        .get("scores")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    if scores.len() != ids.len() {
        return Err(format!("{} scores for {} hits", scores.len(), ids.len()));
    }
    let mut rows: Vec<Value> = ids
        .iter()
        .zip(&scores)
        .map(|(id, d)| json!({"pk": id.to_string(), "distance": d}))
        .collect();
    let fields = results
        .get("fields_data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for f in &fields {
        if let Some(data) = f
            .pointer("/Field/Scalars/Data/JsonData/data")
            .and_then(Value::as_array)
        {
            if data.len() != rows.len() {
                return Err(format!(
                    "{} field values for {} hits",
                    data.len(),
                    rows.len()
                ));
            }
            for (row, d) in rows.iter_mut().zip(data) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(d.as_str().unwrap_or_default())
                    .map_err(|e| format!("a dynamic field is not base64 ({e})"))?;
                let obj: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("a dynamic field is not JSON ({e})"))?;
                if let (Value::Object(r), Value::Object(o)) = (row, obj) {
                    r.extend(o);
                }
            }
        } else if let Some(v) = f.pointer("/Field/Vectors") {
            let dim = v.get("dim").and_then(Value::as_u64).unwrap_or(0) as usize;
            let flat = v
                .pointer("/Data/FloatVector/data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if dim == 0 || flat.len() != dim * rows.len() {
                return Err(format!(
                    "{} vector values for {} hits",
                    flat.len(),
                    rows.len()
                ));
            }
            for (row, chunk) in rows.iter_mut().zip(flat.chunks(dim)) {
                row["vec"] = Value::Array(chunk.to_vec());
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_answers_become_rows_and_bad_ones_errors() {
        let meta = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let results = json!({
            "ids": {"IdField": {"IntId": {"data": [7, 9]}}},
            "scores": [0.5, 0.25],
            "fields_data": [
                {"field_name": "$meta", "Field": {"Scalars": {"Data": {"JsonData": {"data":
                    [meta(r#"{"item_id":"a"}"#), meta(r#"{"item_id":"b"}"#)]}}}}},
                {"field_name": "vec", "Field": {"Vectors": {"dim": 2, "Data": {"FloatVector":
                    {"data": [1.0, 0.0, 0.0, 1.0]}}}}},
            ],
        });
        let rows = parse_hits(&results).unwrap();
        assert_eq!(rows[0]["pk"], "7");
        assert_eq!(rows[1]["item_id"], "b");
        assert_eq!(rows[1]["vec"], json!([0.0, 1.0]));
        assert_eq!(rows[0]["distance"], 0.5);
        assert!(parse_hits(&json!({})).unwrap().is_empty());
        let short = json!({"ids": {"IdField": {"IntId": {"data": [7]}}}, "scores": []});
        assert!(parse_hits(&short).unwrap_err().contains("scores"));
    }
}
