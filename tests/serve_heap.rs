//! The server keeps no more live memory as it runs: uploads, re-clusterings and new queries,
//! cycle after cycle, leave the *live* heap (bytes allocated and not yet freed, counted by this
//! test binary's own allocator) where it was. This is the leak check behind the soak
//! (`benches/soak.sh`, BENCHMARKS.md "the soak's memory"): resident memory also depends on how
//! the allocator keeps freed pages, which the soak measures over 30 minutes; what the server
//! itself holds (store generations, lexical indexes, caches, queues, metrics) must not grow,
//! and that is exact and quick to measure here.
//!
//! The server runs in this process (the library's `serve::build` and `serve::serve`) so that
//! its allocations are counted; SQLite's page cache is C memory and not counted (it is bounded
//! by SQLite's cache size).

mod serve_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn post(base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = ureq::post(&format!("{base}{path}"))
        .timeout(Duration::from_secs(120))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    match r {
        Ok(r) => serde_json::from_str(&r.into_string().unwrap()).unwrap(),
        Err(e) => panic!("POST {path}: {e}"),
    }
}

fn median(xs: &[isize]) -> isize {
    let mut v = xs.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
fn the_live_heap_stays_flat_across_uploads_re_clusterings_and_new_queries() {
    const MODEL: &str = "hash:384";
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let topics = [
        "vocational training for local workers in welding and safety",
        "waste water treatment and emissions at the industrial park",
        "youth exchange and cultural festivals between sister cities",
        "hospital equipment and training of rural doctors",
        "solar power stations and grid connection in villages",
        "tea trade fairs and export of agricultural products",
    ];
    for d in 0..240 {
        let mut text = format!("Report {d}\n\n");
        for s in 0..3 {
            let t = topics[(d + s) % topics.len()];
            text += &format!(
                "{}. Part {s}\n\nProject {d}-{s} supports {t}. It started in year {}.\n\n\
                 The partners of project {d}-{s} plan {t} again next year.\n\n",
                ["I", "II", "III"][s],
                2000 + d % 20
            );
        }
        std::fs::write(corpus.join(format!("r{d}.txt")), text).unwrap();
    }
    serve_support::index(MODEL, dir.path(), &corpus);

    let config = simsum::serve::ServeConfig {
        store: simsum::store::StoreUrl::parse(dir.path().join("idx").to_str().unwrap()).unwrap(),
        store_token: None,
        api_key: None,
        allow_uploads: true,
        dtype: "f32".into(),
        limits: simsum::serve::Limits {
            queue: simsum::serve::QueueLimits {
                cache: 64,
                ..Default::default()
            },
            ..Default::default()
        },
    };
    let embedder: Arc<dyn simsum::embed::Embedder> =
        Arc::new(simsum::embed::HashEmbedder::new(384));
    let app = simsum::serve::build(config, embedder).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(simsum::serve::serve(listener, app, async {
        let _ = stopped.await;
    }));

    let mut live = Vec::new();
    let mut query = 0;
    for cycle in 0..40 {
        let text = format!(
            "# Plan {cycle}\n\nThe district trains {cycle} welders in safety.\n\n\
             Emissions at plant {cycle} fell by half after the upgrade.\n"
        );
        post(
            &base,
            "/v1/documents",
            json!({"name": format!("plan-{}.md", cycle % 3), "text": text}),
        );
        let themes = post(&base, "/v1/themes", json!({}));
        assert!(themes["themes"].as_array().is_some_and(|t| !t.is_empty()));
        for mode in ["hybrid", "dense", "lexical"] {
            for _ in 0..12 {
                query += 1;
                let hits = post(
                    &base,
                    "/v1/search",
                    json!({"query": format!("training welders {query}"), "k": 10, "mode": mode}),
                );
                assert!(hits["results"].as_array().is_some_and(|r| !r.is_empty()));
            }
        }
        // Past the store poller's next tick, so no reopen is half done when counting.
        std::thread::sleep(Duration::from_millis(1100));
        live.push(LIVE.load(Ordering::Relaxed));
    }
    let _ = stop.send(());
    runtime.block_on(server).unwrap().unwrap();
    let kib: Vec<isize> = live.iter().map(|b| b / 1024).collect();
    println!("live heap per cycle, KiB: {kib:?}");
    let (early, last) = (median(&live[10..20]), median(&live[30..40]));
    assert!(
        last as f64 <= early as f64 * 1.05,
        "the live heap grew: median {} KiB over cycles 11-20, {} KiB over 31-40: {kib:?}",
        early / 1024,
        last / 1024
    );
}
