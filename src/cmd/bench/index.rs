//! `simsum bench index`: HNSW build time, recall and queries/s on a .npy matrix; with
//! `--store milvus://...` it hands over to [`super::store`].

use std::path::PathBuf;
use std::process::ExitCode;

use simsum::bench::{self, IndexBenchConfig, Machine};

use super::print_record;
#[cfg(feature = "milvus")]
use super::store;

#[derive(Debug, clap::Args)]
pub struct IndexBenchArgs {
    /// A 2-D float32 .npy matrix of vectors (the HNSW benchmark). Without it, `--store
    /// milvus://HOST:PORT/NAME` runs the store benchmark: Milvus against the local index.
    #[arg(long, conflicts_with = "paths")]
    pub vectors: Option<PathBuf>,
    /// Store benchmark: files or folders to index (default: a corpus generated from
    /// `--sentences-from`).
    pub paths: Vec<PathBuf>,
    /// Store benchmark: reports to generate when no files are given.
    #[arg(long, default_value_t = 200)]
    pub reports: usize,
    /// Store benchmark: documents, one per line, whose sentences make the generated reports.
    #[arg(long, default_value = "tests/data/lee/lee-docs.txt")]
    pub sentences_from: PathBuf,
    /// Queries: held-out rows taken from the end of `--vectors` (default 1000), or corpus
    /// sentences for the store benchmark (default 200).
    #[arg(long)]
    pub queries: Option<usize>,
    /// HNSW M.
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    /// HNSW ef_construction.
    #[arg(long, default_value_t = 200)]
    pub ef_construction: usize,
    /// Search ef values to sweep, comma-separated.
    #[arg(long, default_value = "16,32,64,128,256", value_delimiter = ',')]
    pub ef: Vec<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Internal: run as one writer process of the store benchmark.
    #[arg(long, hide = true, requires = "vector_cache")]
    pub writer_shard: Option<simsum::store::update::Shard>,
    /// Internal: the vectors a writer process uses instead of the model.
    #[arg(long, hide = true)]
    pub vector_cache: Option<PathBuf>,
}

pub(super) fn run(g: &super::super::Global, a: IndexBenchArgs) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "milvus")]
    if a.writer_shard.is_some() {
        return store::child(g, &a);
    }
    let Some(vectors) = &a.vectors else {
        #[cfg(not(feature = "milvus"))]
        let _ = g;
        #[cfg(feature = "milvus")]
        if let (Some(_), url @ simsum::store::StoreUrl::Milvus { .. }) = (&g.store, g.store_url()?)
        {
            return store::run(g, &a, &url);
        }
        anyhow::bail!(
            "bench index needs --vectors FILE.npy (HNSW), or --store milvus://HOST:PORT/NAME (Milvus against the local index)"
        );
    };
    let (rows, dim, data) = bench::read_npy(vectors)?;
    let cfg = IndexBenchConfig {
        queries: a.queries.unwrap_or(1000),
        k: 10,
        m: a.m,
        ef_construction: a.ef_construction,
        ef: a.ef.clone(),
    };
    let b = bench::index_bench(rows, dim, &data, &cfg);
    if a.json {
        let out = IndexRecord {
            benchmark: "index",
            machine: Machine::detect(),
            vectors,
            config: &cfg,
            result: &b,
        };
        print_record(&out)?;
    } else {
        outln!(
            "{} points x {} dims, {} queries; build {:.2} s on {} threads (M={}, ef_construction={}); {:.1} MiB on disk; exact scan {:.0} q/s",
            b.points, b.dim, b.queries, b.build_seconds, b.build_threads, a.m, a.ef_construction, b.index_mib_on_disk, b.exact_qps_one_thread
        );
        outln!(
            "{:>5} {:>9} {:>10} {:>10} {:>10} {:>8} {:>8}",
            "ef",
            "recall@1",
            "recall@10",
            "q/s (1 t)",
            "q/s (all)",
            "p50 ms",
            "p99 ms"
        );
        for r in &b.runs {
            outln!(
                "{:>5} {:>9.4} {:>10.4} {:>10.0} {:>10.0} {:>8.3} {:>8.3}",
                r.ef,
                r.recall_at_1,
                r.recall_at_10,
                r.qps_one_thread,
                r.qps_all_threads,
                r.latency_p50_ms,
                r.latency_p99_ms
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct IndexRecord<'a, C: serde::Serialize, B: serde::Serialize> {
    benchmark: &'static str,
    machine: Machine,
    vectors: &'a std::path::Path,
    config: &'a C,
    result: &'a B,
}
