//! Prometheus text for `GET /metrics`: requests by route and status, latency histograms by
//! route, embedding batch sizes and queue depth. Hand-written (a few counters behind one mutex)
//! rather than a metrics framework: the set is fixed and small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use super::queue::{QueueStats, BATCH_BUCKETS};

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct RouteLatency {
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// Request counters, by route template (`/v1/items/{id}`, not the concrete path).
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, RouteLatency>,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let l = m.latency.entry(route.to_string()).or_default();
        let s = took.as_secs_f64();
        let b = LATENCY_BUCKETS
            .iter()
            .position(|&b| s <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        l.buckets[b] += 1;
        l.sum += s;
        l.count += 1;
    }

    /// The Prometheus exposition text.
    pub fn render(&self, queue: &QueueStats) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP simsum_http_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE simsum_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "simsum_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP simsum_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE simsum_http_request_duration_seconds histogram\n");
        for (route, l) in &m.latency {
            let route = escape(route);
            let mut cum = 0;
            for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
                cum += l.buckets[i];
                let _ = writeln!(
                    out,
                    "simsum_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cum}"
                );
            }
            cum += l.buckets[LATENCY_BUCKETS.len()];
            let _ = writeln!(
                out,
                "simsum_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cum}"
            );
            let _ = writeln!(
                out,
                "simsum_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                l.sum
            );
            let _ = writeln!(
                out,
                "simsum_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                l.count
            );
        }
        out.push_str("# HELP simsum_embed_batch_size Texts per forward pass.\n");
        out.push_str("# TYPE simsum_embed_batch_size histogram\n");
        let mut cum = 0;
        for (i, le) in BATCH_BUCKETS.iter().enumerate() {
            cum += queue.batch_sizes[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "simsum_embed_batch_size_bucket{{le=\"{le}\"}} {cum}");
        }
        cum += queue.batch_sizes[BATCH_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "simsum_embed_batch_size_bucket{{le=\"+Inf\"}} {cum}");
        let _ = writeln!(
            out,
            "simsum_embed_batch_size_sum {}",
            queue.texts.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "simsum_embed_batch_size_count {cum}");
        out.push_str(
            "# HELP simsum_embed_cache_total Query texts looked up in the vector cache.\n",
        );
        out.push_str("# TYPE simsum_embed_cache_total counter\n");
        let _ = writeln!(
            out,
            "simsum_embed_cache_total{{result=\"hit\"}} {}",
            queue.cache_hits.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "simsum_embed_cache_total{{result=\"miss\"}} {}",
            queue.cache_misses.load(Ordering::Relaxed)
        );
        out.push_str("# HELP simsum_embed_queue_depth Embedding jobs waiting.\n");
        out.push_str("# TYPE simsum_embed_queue_depth gauge\n");
        let _ = writeln!(
            out,
            "simsum_embed_queue_depth {}",
            queue.depth.load(Ordering::Relaxed)
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
