//! Memory of the HNSW index at scale: N (default 1,000,000) synthetic 384-d unit vectors around
//! 2,000 topics, built into a graph the way `simsum index` builds one (`hnsw_rs`, M=16), saved,
//! then loaded back for searching in a fresh process, the way `simsum search` loads it (the flat
//! search copy only). Reports resident memory (VmRSS / VmHWM from /proc) at each step, the
//! graph's files on disk, and single-thread queries/s on 1,000 held-out vectors at ef=128.
//!
//! Memory does not depend on the data's geometry or on `ef_construction` (links are stored in
//! fixed-width rows), so a smaller `ef_construction` (second argument, default 40) only shortens
//! the build.
//!
//! Run: `cargo run --release --example index_memory -- [N] [ef_construction] [DIR]`
//! (the child step is `... -- load DIR`).

use std::time::Instant;

use simsum::store::local::graphs::hnsw::{load_flat, HnswGraph, HnswParams};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn status_mib(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("load") {
        let dir = std::path::PathBuf::from(&args[2]);
        let rss0 = status_mib("VmRSS:");
        let t = Instant::now();
        let (g, _) = load_flat(&dir).expect("load the search graph");
        println!(
            "search process: loaded {} points in {:.1} s; RSS {:.0} MiB (peak {:.0} MiB, {:.0} MiB before loading); graph arrays {:.0} MiB",
            g.len(),
            t.elapsed().as_secs_f64(),
            status_mib("VmRSS:"),
            status_mib("VmHWM:"),
            rss0,
            g.heap_bytes() as f64 / (1 << 20) as f64
        );
        // Held-out queries: vectors of the same topics, drawn with another seed.
        let (queries, _) = synthetic::topic_vectors(1000, 2000, g.dim(), 99);
        let t = Instant::now();
        for q in &queries {
            std::hint::black_box(g.search(q, 10, 128, None));
        }
        let qps = queries.len() as f64 / t.elapsed().as_secs_f64();
        println!("search process: {qps:.0} queries/s on one thread at ef=128");
        return;
    }
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let ef_c: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(40);
    let dir = args
        .get(3)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("simsum-index-memory"));
    let (vectors, _) = synthetic::topic_vectors(n, 2000, 384, 1);
    let rss_data = status_mib("VmRSS:");
    let t = Instant::now();
    let params = HnswParams {
        m: 16,
        ef_construction: ef_c,
        ef_search: 128,
    };
    let g = HnswGraph::build(&vectors, params);
    println!(
        "build: {n} points (M=16, ef_construction={ef_c}) in {:.0} s; RSS {:.0} MiB with the input vectors ({:.0} MiB before building)",
        t.elapsed().as_secs_f64(),
        status_mib("VmRSS:"),
        rss_data
    );
    let _ = std::fs::remove_dir_all(&dir);
    g.save(&dir, 0).expect("save");
    let disk: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| Some(e.ok()?.metadata().ok()?.len()))
        .sum();
    println!(
        "saved to {}: {:.0} MiB on disk; build peak RSS {:.0} MiB",
        dir.display(),
        disk as f64 / (1 << 20) as f64,
        status_mib("VmHWM:")
    );
    drop(g);
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args(["load", &dir.to_string_lossy()])
        .status()
        .expect("run the search step");
    assert!(status.success());
}
