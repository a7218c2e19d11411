//! `simsum bench search`: a known-item search benchmark and search latency, dense, lexical and
//! fused rankings side by side in one run.
//!
//! What it measures: for each query (JSON Lines `{"query", "answer"}`, `answer` a document id),
//! the rank of the first hit from the answer's document among the top 10 of each ranking, as
//! MRR@10, over the documents given (JSON Lines, indexed into `--workdir`, incrementally, so a
//! second run embeds nothing); and the time of each search (query vectors computed beforehand,
//! so the figure is the index's side) as p50/p90, plus the time of the first lexical query
//! (building the level's postings). Rankings: dense, lexical (BM25), plain RRF (k = 60), the
//! default hybrid, and a sweep of convex weights and RRF constants (the fusion settings are
//! chosen on a dev query set, never on the reported one).
//!
//! Data: `python3 benches/corpora/known_items.py` (Debian package descriptions; synopses as
//! queries). Run: `simsum bench search --docs benches/data/known-items/docs.jsonl --queries
//! benches/data/known-items/test.jsonl`; latency on 100k items: `--docs .../large.jsonl --model
//! hash:384`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use simsum::bench::Machine;
use simsum::search::{Fusion, SearchMode, SearchOptions};
use simsum::store::{Level, Store};

#[derive(Debug, clap::Args)]
pub struct SearchBenchArgs {
    /// The documents (JSON Lines `{"id","title","text"}`).
    #[arg(long)]
    pub docs: PathBuf,
    /// Queries with their answers (JSON Lines `{"query","answer"}`).
    #[arg(long)]
    pub queries: PathBuf,
    /// Where the index is kept between runs (default: a temporary folder).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Level searched.
    #[arg(long, default_value = "initiative")]
    pub level: Level,
    /// Use only the first N queries.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One query with its answer.
#[derive(serde::Deserialize)]
struct KnownItem {
    query: String,
    answer: String,
}

/// One ranking's figures.
#[derive(Debug, Serialize)]
struct RankingRecord {
    ranking: String,
    mrr_at_10: f64,
    /// Share of queries with the answer in the top 10.
    recall_at_10: f64,
    latency_p50_ms: f64,
    latency_p90_ms: f64,
}

#[derive(Debug, Serialize)]
struct SearchRecord {
    benchmark: &'static str,
    machine: Machine,
    load_average: String,
    docs: PathBuf,
    queries: PathBuf,
    items: usize,
    query_count: usize,
    level: Level,
    /// Seconds to build the level's BM25 postings (the first lexical query).
    lexical_load_seconds: f64,
    /// Milliseconds to embed one query (median).
    embed_p50_ms: f64,
    rankings: Vec<RankingRecord>,
}

/// The rankings compared: name, mode, fusion.
fn rankings() -> Vec<(String, SearchMode, Fusion)> {
    let mut out = vec![
        ("dense".to_string(), SearchMode::Dense, Fusion::default()),
        (
            "lexical (BM25)".into(),
            SearchMode::Lexical,
            Fusion::default(),
        ),
        (
            "RRF k=60".into(),
            SearchMode::Hybrid,
            Fusion::Rrf { k: 60.0 },
        ),
        (
            "hybrid (default)".into(),
            SearchMode::Hybrid,
            Fusion::default(),
        ),
    ];
    for k in [5.0, 20.0] {
        out.push((format!("RRF k={k}"), SearchMode::Hybrid, Fusion::Rrf { k }));
    }
    for w in [0.3, 0.4, 0.5, 0.6] {
        out.push((
            format!("convex w={w}"),
            SearchMode::Hybrid,
            Fusion::Convex { lexical_weight: w },
        ));
    }
    for w in [0.3, 0.4, 0.5, 0.6] {
        out.push((
            format!("z-score w={w}"),
            SearchMode::Hybrid,
            Fusion::ZScore { lexical_weight: w },
        ));
    }
    out
}

fn read_known_items(path: &std::path::Path) -> anyhow::Result<Vec<KnownItem>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| {
                format!(
                    "{}:{}: not a {{\"query\",\"answer\"}} line",
                    path.display(),
                    n + 1
                )
            })
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Indexes the documents into `dir` (incrementally) and opens the store.
fn open_index(
    a: &SearchBenchArgs,
    dir: &std::path::Path,
    embedder: &dyn simsum::embed::Embedder,
) -> anyhow::Result<simsum::store::local::LocalStore> {
    let mut w =
        simsum::store::local::LocalWriter::open(dir, &embedder.model_id(), embedder.dim(), false)?;
    let opts = simsum::store::update::IndexPathsOptions {
        ingest: simsum::ingest::IngestOptions {
            max_tokens: embedder.max_tokens(),
            ..Default::default()
        },
        ..Default::default()
    };
    simsum::store::update::index_paths(
        &mut w,
        embedder,
        std::slice::from_ref(&a.docs),
        &opts,
        &|_, _| {},
    )?;
    drop(w);
    Ok(simsum::store::local::LocalStore::open(dir)?)
}

pub fn run(g: &super::super::Global, a: SearchBenchArgs) -> anyhow::Result<ExitCode> {
    let embedder = super::super::load_embedder(g)?;
    let tmp = tempfile::tempdir()?;
    let dir = a
        .workdir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let index = open_index(&a, &dir, embedder.as_ref())?;
    let mut items = read_known_items(&a.queries)?;
    if let Some(n) = a.limit {
        items.truncate(n);
    }
    let mut embed_ms = Vec::new();
    let mut vectors = Vec::with_capacity(items.len());
    for q in &items {
        let t = Instant::now();
        let v = simsum::search::query_vector(
            embedder.embed_as(&[q.query.as_str()], simsum::embed::InputKind::Query)?,
        );
        embed_ms.push(t.elapsed().as_secs_f64() * 1e3);
        vectors.push(v);
    }
    embed_ms.sort_by(f64::total_cmp);
    let filter = simsum::search::DocFilter::default().compile()?;
    // Warm both sides (graph and vectors, postings) so that no query pays a load.
    let t = Instant::now();
    index.lexical(a.level, &["warm".into()], 1, &Default::default())?;
    let lexical_load_seconds = t.elapsed().as_secs_f64();
    index.nearest(a.level, &vectors[0], 1, &Default::default())?;
    let mut records = Vec::new();
    for (name, mode, fusion) in rankings() {
        let opts = SearchOptions {
            k: 10,
            level: a.level,
            mode,
            fusion,
            ..Default::default()
        };
        let (mut rr, mut found, mut ms) = (0.0, 0usize, Vec::with_capacity(items.len()));
        for (q, v) in items.iter().zip(&vectors) {
            let t = Instant::now();
            let hits =
                simsum::search::search_text(&index, &q.query, Some(v.as_slice()), &opts, &filter)?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            if let Some(r) = hits.iter().position(|h| h.doc.id == q.answer) {
                rr += 1.0 / (r + 1) as f64;
                found += 1;
            }
        }
        ms.sort_by(f64::total_cmp);
        let n = items.len().max(1) as f64;
        records.push(RankingRecord {
            ranking: name,
            mrr_at_10: rr / n,
            recall_at_10: found as f64 / n,
            latency_p50_ms: percentile(&ms, 0.5),
            latency_p90_ms: percentile(&ms, 0.9),
        });
    }
    let counts = index.counts()?;
    let record = SearchRecord {
        benchmark: "search",
        machine: Machine::detect(),
        load_average: std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        docs: a.docs.clone(),
        queries: a.queries.clone(),
        items: match a.level {
            Level::Section => counts.sections,
            Level::Initiative => counts.initiatives,
            Level::Sentence => counts.sentences,
        },
        query_count: items.len(),
        level: a.level,
        lexical_load_seconds,
        embed_p50_ms: percentile(&embed_ms, 0.5),
        rankings: records,
    };
    print(&record, a.json)
}

fn print(r: &SearchRecord, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        super::print_record(r)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {}s, {} queries; load average {}; BM25 postings built in {:.3} s; query embedding p50 {:.2} ms",
        r.items, r.level, r.query_count, r.load_average, r.lexical_load_seconds, r.embed_p50_ms
    );
    outln!(
        "{:<18} {:>7} {:>10} {:>8} {:>8}",
        "ranking",
        "MRR@10",
        "recall@10",
        "p50 ms",
        "p90 ms"
    );
    for x in &r.rankings {
        outln!(
            "{:<18} {:>7.4} {:>10.4} {:>8.3} {:>8.3}",
            x.ranking,
            x.mrr_at_10,
            x.recall_at_10,
            x.latency_p50_ms,
            x.latency_p90_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}
