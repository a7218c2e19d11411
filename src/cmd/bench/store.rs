//! `simsum bench index --store milvus://HOST:PORT/NAME`: one run that measures a Milvus store
//! against the local index on the same vectors: write throughput with one writer and with two
//! shard writers at once (separate processes of this executable, as `simsum index --shard`
//! runs), query latency p50/p99, and recall@10 against exact search.
//!
//! The texts are embedded once, up front; the writers get those vectors from a file instead of
//! the model, so the write figures are the store's (reading and splitting the files, planning,
//! writing rows, waiting until they are visible), not the model's. Every store the run makes has
//! a unique name and is dropped at the end, also when a step fails.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde_json::Value;
use simsum::bench::{self, Machine};
use simsum::embed::{EmbedError, Embedder, Embedding, ModelId};
use simsum::ingest::{Document, IngestOptions};
use simsum::store::local::{LocalOptions, LocalWriter};
use simsum::store::milvus::{remove, MilvusWriter};
use simsum::store::update::{index_paths, IndexPathsOptions, Shard};
use simsum::store::{ItemFilter, Level, Store, StoreUrl};

use super::IndexBenchArgs;

/// Results compared per query.
const K: usize = 10;
/// The level queried: what `simsum search` searches by default.
const LEVEL: Level = Level::Initiative;
/// Score slack under which a result ties with the 10th exact neighbour.
const TIE: f32 = 1e-5;

/// The model's vectors of the corpus texts, looked up instead of running the model; token
/// counts and the model id still come from the real embedder, so the files split exactly as
/// `simsum index` splits them.
struct Cached {
    model: Box<dyn Embedder>,
    vectors: HashMap<String, Vec<f32>>,
}

impl Embedder for Cached {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn model_id(&self) -> ModelId {
        self.model.model_id()
    }
    fn max_tokens(&self) -> usize {
        self.model.max_tokens()
    }
    fn count_tokens(&self, text: &str) -> usize {
        self.model.count_tokens(text)
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
        simsum::embed::looked_up(&self.vectors, texts, |t| {
            format!("bench: the writer asked for a text that was not embedded up front: `{t}`")
        })
    }
}

fn ingest_options(e: &dyn Embedder) -> IndexPathsOptions {
    IndexPathsOptions {
        ingest: IngestOptions {
            max_tokens: e.max_tokens(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Deterministic pseudo-random numbers (splitmix64), so the generated corpus is the same
/// in every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Writes `n` Markdown reports into `dir`: two sections of three paragraphs each, every
/// paragraph three sentences drawn from the documents of `source` (one per line, as the Lee
/// corpus is). Paragraphs are new texts (new vectors); sentences repeat across reports.
fn generate(dir: &Path, source: &Path, n: usize) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(source).with_context(|| {
        format!(
            "reading {} (the sentences of the generated corpus): run from the repository root, \
             or pass --sentences-from FILE or the files to index",
            source.display()
        )
    })?;
    let pool: Vec<&str> = text
        .lines()
        .flat_map(|doc| {
            simsum::ingest::sentences::split_sentences(doc)
                .into_iter()
                .map(move |(a, b)| doc[a..b].trim())
        })
        .filter(|s| s.split_whitespace().count() >= 5)
        .collect();
    if pool.len() < 10 {
        bail!(
            "{}: too few sentences ({}) to make a corpus from",
            source.display(),
            pool.len()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut rng = Rng(0x5EED);
    for i in 0..n {
        let mut body = format!("# Report {i}\n");
        for part in ["one", "two"] {
            body.push_str(&format!("\n## Part {part}\n"));
            for _ in 0..3 {
                let p: Vec<&str> = (0..3).map(|_| pool[rng.below(pool.len())]).collect();
                body.push_str(&format!("\n{}\n", p.join(" ")));
            }
        }
        let f = dir.join(format!("r{i:05}.md"));
        std::fs::write(&f, body).with_context(|| format!("writing {}", f.display()))?;
    }
    Ok(())
}

/// Drops the Milvus stores a run made when it ends, however it ends.
struct Cleanup {
    urls: Vec<StoreUrl>,
    token: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for u in &self.urls {
            if let Err(e) = remove(u, self.token.as_deref()) {
                eprintln!("warning: could not drop the bench store {u}: {e}");
            }
        }
    }
}

/// Texts a writer embeds: every initiative and every sentence, each once.
fn corpus_texts(docs: &[Document]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for s in docs.iter().flat_map(|d| &d.sections) {
        for i in &s.initiatives {
            for t in std::iter::once(&i.text).chain(i.sentences.iter().map(|s| &s.text)) {
                if seen.insert(t.as_str()) {
                    out.push(t.clone());
                }
            }
        }
    }
    out
}

fn embed_all(e: &dyn Embedder, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        out.extend(e.embed(&refs)?.into_iter().map(|x| x.vector));
    }
    Ok(out)
}

/// What one writer process reports (see [`child`]).
#[derive(serde::Serialize, serde::Deserialize)]
struct WriterRun {
    shard: String,
    documents: usize,
    started_unix: f64,
    finished_unix: f64,
    ingest_seconds: f64,
    update_seconds: f64,
}

/// The hidden writer mode: index `paths` (one shard) into `--store` with vectors from the
/// cache file, and print a [`WriterRun`].
pub(super) fn child(g: &super::super::Global, a: &IndexBenchArgs) -> anyhow::Result<ExitCode> {
    let shard = a.writer_shard.expect("called with --writer-shard");
    let cache = a
        .vector_cache
        .as_ref()
        .context("--writer-shard needs --vector-cache")?;
    let raw = std::fs::read(cache).with_context(|| format!("reading {}", cache.display()))?;
    let vectors: HashMap<String, Vec<f32>> = serde_json::from_slice(&raw)
        .with_context(|| format!("{}: not a vector cache", cache.display()))?;
    let e = Cached {
        model: super::super::load_embedder(g)?,
        vectors,
    };
    let mut w = g.open_shard_writer(&e, false, shard)?;
    let mut opts = ingest_options(&e);
    opts.shard = Some(shard);
    let started_unix = unix_now();
    let run = index_paths(w.as_mut(), &e, &a.paths, &opts, &|_, _| {})?;
    let out = WriterRun {
        shard: shard.to_string(),
        documents: run.report.documents.len(),
        started_unix,
        finished_unix: unix_now(),
        ingest_seconds: run.ingest_seconds,
        update_seconds: run.update_seconds,
    };
    outln!("{}", simsum::answer::to_line(&out));
    Ok(ExitCode::SUCCESS)
}

/// Runs `writers` writer processes at once into the (existing, empty) store `url`.
fn write_milvus(
    g: &super::super::Global,
    url: &StoreUrl,
    paths: &[PathBuf],
    cache: &Path,
    writers: u32,
) -> anyhow::Result<(f64, Vec<WriterRun>)> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let children = (1..=writers)
        .map(|i| {
            let mut c = Command::new(&exe);
            c.args(["bench", "index"])
                .args(paths)
                .arg("--store")
                .arg(url.to_string())
                .arg("--writer-shard")
                .arg(format!("{i}/{writers}"))
                .arg("--vector-cache")
                .arg(cache)
                .arg("--model")
                .arg(g.model.to_string())
                .arg("--device")
                .arg(g.device.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(t) = &g.threads {
                c.arg("--threads").arg(t.to_string());
            }
            // The token travels in the environment, never on a command line.
            if let Some(t) = &g.store_token {
                c.env("SIMSUM_STORE_TOKEN", t);
            }
            c.spawn().context("starting a writer process")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut runs = Vec::new();
    let mut failed = Vec::new();
    for c in children {
        let out = c.wait_with_output()?;
        if out.status.success() {
            runs.push(serde_json::from_slice::<WriterRun>(&out.stdout)?);
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            failed.push(
                err.trim()
                    .lines()
                    .last()
                    .unwrap_or("no message")
                    .to_string(),
            );
        }
    }
    if let Some(f) = failed.first() {
        bail!("a writer process into {url} failed: {f}");
    }
    let start = runs.iter().map(|r| r.started_unix).fold(f64::MAX, f64::min);
    let end = runs.iter().map(|r| r.finished_unix).fold(0.0, f64::max);
    Ok((end - start, runs))
}

/// Latencies (ms) and tie-aware recall@K of `store` over the queries.
fn measure(
    store: &dyn Store,
    queries: &[Vec<f32>],
    exact: &[(HashMap<String, f32>, f32)],
) -> anyhow::Result<SearchRecord> {
    let ids: HashMap<u64, String> = store
        .items(LEVEL)?
        .into_iter()
        .map(|i| (i.key, i.id))
        .collect();
    let filter = ItemFilter::default();
    // One untimed query first: the first search loads what later ones reuse.
    store.nearest(LEVEL, &queries[0], K, &filter)?;
    let mut ms = Vec::with_capacity(queries.len());
    let mut recall = 0.0;
    for (q, (scores, kth)) in queries.iter().zip(exact) {
        let t = Instant::now();
        let hits = store.nearest(LEVEL, q, K, &filter)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        let good = hits
            .iter()
            .filter(|(key, _)| {
                ids.get(key)
                    .and_then(|id| scores.get(id))
                    .is_some_and(|s| *s >= kth - TIE)
            })
            .count();
        recall += good as f64 / K.min(scores.len()).max(1) as f64;
    }
    Ok(SearchRecord {
        store: "",
        index_used: store.uses_graph(LEVEL)?,
        p50_ms: bench::percentile(&ms, 50.0),
        p99_ms: bench::percentile(&ms, 99.0),
        recall_at_10: recall / queries.len() as f64,
    })
}

fn write_entry(
    store: &'static str,
    writers: u32,
    counts: &simsum::store::Counts,
    seconds: f64,
    per_writer: Option<Vec<WriterRun>>,
) -> WriteRecord {
    let items = counts.sections + counts.initiatives + counts.sentences;
    WriteRecord {
        store,
        writers,
        documents: counts.documents,
        items,
        counts: counts.clone(),
        seconds,
        items_per_s: items as f64 / seconds,
        docs_per_s: counts.documents as f64 / seconds,
        per_writer,
    }
}

/// Runs the benchmark against the Milvus server of `url` (see the module comment).
pub(super) fn run(
    g: &super::super::Global,
    a: &IndexBenchArgs,
    url: &StoreUrl,
) -> anyhow::Result<ExitCode> {
    if !matches!(url, StoreUrl::Milvus { .. }) {
        bail!("bench index --store needs a milvus:// URL (got {url}); the local index is its peer");
    }
    let load_start = load_average();
    let tmp = tempfile::tempdir()?;
    let c = prepare(g, a, tmp.path())?;

    // Fresh stores with unique names, dropped at the end whatever happens.
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() % 1_000_000_000);
    let store_url = |tag: &str| {
        url.renamed(|name| format!("{name}_bench_{}_{stamp}_{tag}", std::process::id()))
            .expect("a milvus:// URL")
    };
    let urls = [store_url("w1"), store_url("w2")];
    let _cleanup = Cleanup {
        urls: urls.to_vec(),
        token: g.store_token.clone(),
    };
    let token = g.store_token.as_deref();
    let mut writes = Vec::new();
    let mut milvus_counts = Vec::new();
    for (u, writers) in urls.iter().zip([1u32, 2]) {
        // Created (collections made and loaded) before the clock starts; searches go to
        // Milvus's index whatever the size.
        let mut w = MilvusWriter::open(u, token, &c.model_id, c.dim, true, Shard::ALL)?;
        w.set_exact_threshold(0)?;
        drop(w);
        if !a.json {
            eprintln!("writing {u} with {writers} writer process(es)...");
        }
        let (seconds, runs) = write_milvus(g, u, &c.paths, &c.cache, writers)?;
        let counts = simsum::store::open(u, token)?.counts()?;
        writes.push(write_entry("milvus", writers, &counts, seconds, Some(runs)));
        milvus_counts.push(counts);
    }

    // The peer: the local index from the same vectors, its HNSW graph used whatever the size.
    let t = Instant::now();
    let local = write_local(
        &tmp.path().join("local"),
        &c.model_id,
        c.dim,
        &c.cached,
        &c.paths,
        &c.opts,
    )?;
    let local_seconds = t.elapsed().as_secs_f64();
    let local_counts = Store::counts(&local)?;
    writes.push(write_entry("local", 1, &local_counts, local_seconds, None));
    let (exact, exact_ms) = exact_top(&local, &c.queries)?;
    let milvus = simsum::store::open(&urls[0], token)?;
    let mut search = Vec::new();
    for (name, store) in [("milvus", milvus.as_ref()), ("local", &local as &dyn Store)] {
        search.push(SearchRecord {
            store: name,
            ..measure(store, &c.queries, &exact)?
        });
    }
    search.push(SearchRecord {
        store: "exact scan",
        index_used: false,
        recall_at_10: 1.0,
        p50_ms: bench::percentile(&exact_ms, 50.0),
        p99_ms: bench::percentile(&exact_ms, 99.0),
    });
    let shards_match = milvus_counts.windows(2).all(|w| w[0] == w[1]) && {
        let (m, l) = (&milvus_counts[0], &local_counts);
        m == l
    };
    let machine = Machine::detect();
    let texts = c.cached.vectors.len();
    let record = StoreRecord {
        benchmark: "index-store",
        machine,
        load_average: LoadRecord {
            start: load_start,
            end: load_average(),
        },
        store: url.to_string(),
        stores_made: urls.iter().map(|u| u.to_string()).collect(),
        server_version: None,
        model: c.model_id.name.clone(),
        dimension: c.dim,
        corpus: CorpusRecord {
            generated: c.generated,
            paths: if c.generated { Vec::new() } else { c.paths.clone() },
            documents: local_counts.documents,
            sections: local_counts.sections,
            initiatives: local_counts.initiatives,
            sentences: local_counts.sentences,
            distinct_texts: texts,
        },
        embedding: EmbeddingRecord {
            texts,
            seconds: c.embed_seconds,
            texts_per_s: texts as f64 / c.embed_seconds,
        },
        writes_include: "reading and splitting the files, planning, writing rows (Milvus: and waiting until they are visible; local: SQLite commit and HNSW graphs); not model load or embedding (vectors embedded once, up front)",
        writes,
        counts_match: shards_match,
        queries: QueriesRecord {
            count: c.queries.len(),
            k: K,
            level: LEVEL.as_str(),
            from: "corpus sentences, embedded by the model",
        },
        recall: "tie-aware: a result scoring at least the 10th exact neighbour counts",
        search,
    };
    let out = simsum::answer::to_json(&record);
    if a.json {
        outln!("{}", simsum::answer::to_pretty(&out));
    } else {
        print_table(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The corpus of a run: its files, the vectors of its texts (embedded once, up front, and kept
/// in `cache` for the writer processes), and the queries.
struct Corpus {
    paths: Vec<PathBuf>,
    generated: bool,
    opts: IndexPathsOptions,
    queries: Vec<Vec<f32>>,
    embed_seconds: f64,
    model_id: simsum::embed::ModelId,
    dim: usize,
    cache: PathBuf,
    cached: Cached,
}

/// Reads (or generates) the corpus, embeds its texts and the queries: sentences spread over
/// the corpus.
fn prepare(g: &super::super::Global, a: &IndexBenchArgs, tmp: &Path) -> anyhow::Result<Corpus> {
    let generated = a.paths.is_empty();
    let paths = if generated {
        let dir = tmp.join("corpus");
        generate(&dir, &a.sentences_from, a.reports)?;
        vec![dir]
    } else {
        a.paths.clone()
    };
    let model = super::super::load_embedder(g)?;
    let opts = ingest_options(model.as_ref());
    let count = |t: &str| model.count_tokens(t);
    let report = simsum::ingest::ingest_paths(&paths, &opts.ingest, &count);
    if report.documents.is_empty() {
        bail!("no documents to index in {paths:?}");
    }
    let texts = corpus_texts(&report.documents);
    let t = Instant::now();
    let vectors = embed_all(model.as_ref(), &texts)?;
    let embed_seconds = t.elapsed().as_secs_f64();
    // Queries: sentences spread over the corpus.
    let sentences: Vec<&str> = {
        let mut seen = HashSet::new();
        report
            .documents
            .iter()
            .flat_map(|d| &d.sections)
            .flat_map(|s| &s.initiatives)
            .flat_map(|i| &i.sentences)
            .map(|s| s.text.as_str())
            .filter(|s| seen.insert(*s))
            .collect()
    };
    let n_queries = a.queries.unwrap_or(200).clamp(1, sentences.len());
    let query_texts: Vec<String> = (0..n_queries)
        .map(|i| sentences[i * sentences.len() / n_queries].to_string())
        .collect();
    let mut queries = embed_all(model.as_ref(), &query_texts)?;
    queries.iter_mut().for_each(|q| simsum::embed::normalize(q));
    let (model_id, dim) = (model.model_id(), model.dim());
    let by_text: HashMap<String, Vec<f32>> = texts.into_iter().zip(vectors).collect();
    let cache = tmp.join("vectors.json");
    std::fs::write(&cache, serde_json::to_vec(&by_text)?)?;
    let cached = Cached {
        model,
        vectors: by_text,
    };

    Ok(Corpus {
        paths,
        generated,
        opts,
        queries,
        embed_seconds,
        model_id,
        dim,
        cache,
        cached,
    })
}

/// The local index of the corpus from the cached vectors, its graph used whatever the size.
fn write_local(
    dir: &Path,
    model_id: &simsum::embed::ModelId,
    dim: usize,
    cached: &Cached,
    paths: &[PathBuf],
    opts: &IndexPathsOptions,
) -> anyhow::Result<simsum::store::local::LocalStore> {
    let mut lw = LocalWriter::open_with(
        dir,
        model_id,
        dim,
        true,
        LocalOptions {
            exact_threshold: Some(0),
            ..Default::default()
        },
    )?;
    index_paths(&mut lw, cached, paths, opts, &|_, _| {})?;
    Ok(lw.into_index())
}

/// Exact scores of each query against the level's non-boilerplate items (by item id) with its
/// K-th best score, and the time each scan took (ms).
type ExactTop = (Vec<(HashMap<String, f32>, f32)>, Vec<f64>);

fn exact_top(local: &dyn Store, queries: &[Vec<f32>]) -> anyhow::Result<ExactTop> {
    // Exact top K of each query over the level's non-boilerplate items, by item id.
    let items: Vec<(String, Vec<f32>)> = local
        .items(LEVEL)?
        .into_iter()
        .filter(|i| !i.boilerplate)
        .map(|i| (i.id, i.vector))
        .collect();
    let mut exact_ms = Vec::with_capacity(queries.len());
    let exact: Vec<(HashMap<String, f32>, f32)> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            let scores: HashMap<String, f32> = items
                .iter()
                .map(|(id, v)| (id.clone(), simsum::embed::dot(v, q)))
                .collect();
            let mut s: Vec<f32> = scores.values().copied().collect();
            s.sort_by(|a, b| b.total_cmp(a));
            let kth = s
                .get(K.min(s.len()).saturating_sub(1))
                .copied()
                .unwrap_or(0.0);
            exact_ms.push(t.elapsed().as_secs_f64() * 1e3);
            (scores, kth)
        })
        .collect();
    Ok((exact, exact_ms))
}

fn print_table(out: &Value) -> anyhow::Result<()> {
    let m = &out["machine"];
    let c = &out["corpus"];
    outln!(
        "machine: {} ({} cores; CPU features: {}); load average {} at start, {} at end",
        m["cpu_model"].as_str().unwrap_or("?"),
        m["cores"],
        m["cpu_features"].as_str().unwrap_or("?"),
        out["load_average"]["start"].as_str().unwrap_or("?"),
        out["load_average"]["end"].as_str().unwrap_or("?"),
    );
    outln!(
        "server: {} (version not reported by the REST v1 API); model {} ({}-d)",
        out["store"].as_str().unwrap_or("?"),
        out["model"].as_str().unwrap_or("?"),
        out["dimension"]
    );
    outln!(
        "corpus: {} documents, {} sections, {} initiatives, {} sentences{}; {} distinct texts embedded once in {:.1} s",
        c["documents"], c["sections"], c["initiatives"], c["sentences"],
        if c["generated"] == true { " (generated)" } else { "" },
        out["embedding"]["texts"], out["embedding"]["seconds"].as_f64().unwrap_or(0.0),
    );
    outln!("writes ({}):", out["writes_include"].as_str().unwrap_or(""));
    outln!(
        "{:<8} {:>7} {:>7} {:>9} {:>9} {:>9}",
        "store",
        "writers",
        "items",
        "seconds",
        "items/s",
        "docs/s"
    );
    for w in out["writes"].as_array().into_iter().flatten() {
        outln!(
            "{:<8} {:>7} {:>7} {:>9.2} {:>9.0} {:>9.1}",
            w["store"].as_str().unwrap_or("?"),
            w["writers"].as_u64().unwrap_or(0),
            w["items"].as_u64().unwrap_or(0),
            w["seconds"].as_f64().unwrap_or(f64::NAN),
            w["items_per_s"].as_f64().unwrap_or(f64::NAN),
            w["docs_per_s"].as_f64().unwrap_or(f64::NAN),
        );
    }
    if out["counts_match"] != true {
        outln!("warning: the stores' counts differ (see --json)");
    }
    let q = &out["queries"];
    outln!(
        "search: {} queries ({}), top {} {}s; {}",
        q["count"],
        q["from"].as_str().unwrap_or(""),
        q["k"],
        q["level"].as_str().unwrap_or(""),
        out["recall"].as_str().unwrap_or("")
    );
    outln!(
        "{:<11} {:>6} {:>9} {:>9} {:>10}",
        "store",
        "index",
        "p50 ms",
        "p99 ms",
        "recall@10"
    );
    for s in out["search"].as_array().into_iter().flatten() {
        outln!(
            "{:<11} {:>6} {:>9.2} {:>9.2} {:>10.4}",
            s["store"].as_str().unwrap_or("?"),
            if s["index_used"] == true { "yes" } else { "no" },
            s["p50_ms"].as_f64().unwrap_or(f64::NAN),
            s["p99_ms"].as_f64().unwrap_or(f64::NAN),
            s["recall_at_10"].as_f64().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}

// The record `simsum bench index --store ... --json` prints (typed, so its shape is written down
// once; `print_table` reads the same record as JSON).

#[derive(serde::Serialize)]
struct SearchRecord {
    store: &'static str,
    index_used: bool,
    recall_at_10: f64,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(serde::Serialize)]
struct WriteRecord {
    store: &'static str,
    writers: u32,
    documents: usize,
    items: usize,
    counts: simsum::store::Counts,
    seconds: f64,
    items_per_s: f64,
    docs_per_s: f64,
    per_writer: Option<Vec<WriterRun>>,
}

#[derive(serde::Serialize)]
struct LoadRecord<L: serde::Serialize> {
    start: L,
    end: L,
}

#[derive(serde::Serialize)]
struct CorpusRecord {
    generated: bool,
    paths: Vec<PathBuf>,
    documents: usize,
    sections: usize,
    initiatives: usize,
    sentences: usize,
    distinct_texts: usize,
}

#[derive(serde::Serialize)]
struct EmbeddingRecord {
    texts: usize,
    seconds: f64,
    texts_per_s: f64,
}

#[derive(serde::Serialize)]
struct QueriesRecord {
    count: usize,
    k: usize,
    level: &'static str,
    from: &'static str,
}

#[derive(serde::Serialize)]
struct StoreRecord<L: serde::Serialize> {
    benchmark: &'static str,
    machine: Machine,
    load_average: LoadRecord<L>,
    store: String,
    stores_made: Vec<String>,
    server_version: Option<String>,
    model: String,
    dimension: usize,
    corpus: CorpusRecord,
    embedding: EmbeddingRecord,
    writes_include: &'static str,
    writes: Vec<WriteRecord>,
    counts_match: bool,
    queries: QueriesRecord,
    recall: &'static str,
    search: Vec<SearchRecord>,
}
