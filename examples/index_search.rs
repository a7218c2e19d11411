//! Search speed on a saved graph, for comparing search changes without rebuilding: the first run
//! builds an HNSW graph (M=16, ef_construction=200) of a .npy matrix's rows except the last
//! 2,000 and saves it to DIR; later runs load it. Each run prints, for ef 64, 96 and 128, recall@10
//! against exact search (ties counted) and single-thread queries/s over the held-out rows
//! (best of three passes, so a busy moment on a shared machine does not decide it).
//!
//! Run: `cargo run --release --example index_search -- VECTORS.npy DIR`

use std::time::Instant;

use simsum::embed::dot;
use simsum::store::local::graphs::hnsw::{load_flat, HnswGraph, HnswParams};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (rows, dim, data) = simsum::bench::read_npy(args[1].as_ref()).expect("read the .npy");
    let dir = std::path::PathBuf::from(&args[2]);
    let mut vectors: Vec<Vec<f32>> = data.chunks(dim).take(rows).map(|v| v.to_vec()).collect();
    vectors.iter_mut().for_each(|v| simsum::embed::normalize(v));
    let queries = vectors.split_off(rows - 2000);
    let graph = match load_flat(&dir) {
        Ok((g, _)) => g,
        Err(_) => {
            let t = Instant::now();
            let g = HnswGraph::build(&vectors, HnswParams::default());
            eprintln!("built in {:.1} s", t.elapsed().as_secs_f64());
            g.save(&dir, 0).expect("save");
            g.into_flat()
        }
    };
    // The exact 10th-neighbour scores, cached next to the graph (the scan takes longer than
    // the searches it checks).
    let cache = dir.join("exact-kth.f32");
    let kth: Vec<f32> = match std::fs::read(&cache) {
        Ok(b) if b.len() == queries.len() * 4 => b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => {
            let kth: Vec<f32> = queries
                .iter()
                .map(|q| {
                    let mut s: Vec<f32> = vectors.iter().map(|v| dot(q, v)).collect();
                    s.select_nth_unstable_by(9, |a, b| b.total_cmp(a));
                    s[9]
                })
                .collect();
            let bytes: Vec<u8> = kth.iter().flat_map(|x| x.to_le_bytes()).collect();
            std::fs::write(&cache, bytes).expect("write the exact scores");
            kth
        }
    };
    for ef in [64usize, 96, 128] {
        let mut best = 0f64;
        let mut hits = 0usize;
        for _ in 0..3 {
            let t = Instant::now();
            let found: Vec<Vec<(usize, f32)>> = queries
                .iter()
                .map(|q| graph.search(q, 10, ef, None))
                .collect();
            best = best.max(queries.len() as f64 / t.elapsed().as_secs_f64());
            hits = found
                .iter()
                .zip(&kth)
                .map(|(f, k)| f.iter().filter(|(_, s)| *s >= k - 1e-6).count().min(10))
                .sum();
        }
        println!(
            "simsum ef {ef}: recall@10 {:.4}, {:.0} q/s (1 thread)",
            hits as f64 / (queries.len() * 10) as f64,
            best
        );
    }
}
