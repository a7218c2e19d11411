//! The index directory and the queries over it: incremental updates, crash safety, model and
//! format checks, corrupt files, the writer lock, exact vs HNSW agreement, the CLI's JSON, and
//! seed queries with known answers. All but the last use the model-free `HashEmbedder`.

mod support;
use seeds::seed_dir as seeds_dir;
use support::{doc, seeds, sentences};

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use simsum::embed::{EmbedError, Embedder, Embedding, HashEmbedder, ModelId};
use simsum::ingest::Document;
use simsum::search::{self, LinkOptions, SearchOptions};
use simsum::store::local::graphs::hnsw;
use simsum::store::local::layout::HnswParams;
use simsum::store::local::{LocalOptions, LocalStore, LocalWriter, WriterLock};
use simsum::store::{ItemFilter, Level, Store, StoreError, UpdateOptions, UpdateStats};

const BIN: &str = env!("CARGO_BIN_EXE_simsum");

/// A hashing embedder that counts the texts it embeds.
struct Counting {
    inner: HashEmbedder,
    texts: AtomicUsize,
}

impl Counting {
    fn new(dim: usize) -> Self {
        Self {
            inner: HashEmbedder::new(dim),
            texts: AtomicUsize::new(0),
        }
    }
    fn take(&self) -> usize {
        self.texts.swap(0, Ordering::SeqCst)
    }
}

impl Embedder for Counting {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn model_id(&self) -> ModelId {
        self.inner.model_id()
    }
    fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }
    fn count_tokens(&self, text: &str) -> usize {
        self.inner.count_tokens(text)
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        self.inner.embed(texts)
    }
}

fn corpus(dir: &Path) -> Vec<Document> {
    vec![
        doc(
            dir,
            "enterprises",
            Some("2023-01-30"),
            &[
                ("Upgrade skills of local employees", &[
                    "Vocational training was provided to local employees abroad. Workers learned welding and machine repair.",
                    "The company trained local workers in Angola. Training courses covered construction skills.",
                ]),
                ("Culture", &["A film festival showed Chinese films in Europe. Audiences enjoyed the films."]),
                ("Note", &["Editor's note: this series covers people-to-people diplomacy."]),
            ],
        ),
        doc(
            dir,
            "associations",
            Some("2023-01-29"),
            &[
                ("Rules", &["Associations joined international organizations and helped draft standards."]),
                ("Training", &["Chambers organised training for workers and exchanges with foreign enterprises."]),
                ("Note", &["Editor's note: this series covers people-to-people diplomacy."]),
            ],
        ),
    ]
}

fn update(w: &mut LocalWriter, docs: &[Document], e: &dyn Embedder, scope: &Path) -> UpdateStats {
    let opts = UpdateOptions {
        scope: vec![scope.to_path_buf()],
        ..Default::default()
    };
    w.update(docs, e, &opts, &|_, _| {}).unwrap()
}

#[test]
fn incremental_update_embeds_only_changes_and_reports_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, idx) = (tmp.path().join("src"), tmp.path().join("idx"));
    std::fs::create_dir_all(&src).unwrap();
    let e = Counting::new(64);
    let mut docs = corpus(&src);
    let mut w = LocalWriter::open(&idx, &e.model_id(), 64, false).unwrap();
    let s = update(&mut w, &docs, &e, &src);
    // 6 sections + 7 initiatives.
    assert_eq!(
        (
            s.items().added,
            s.items().updated,
            s.items().removed,
            s.items().unchanged
        ),
        (13, 0, 0, 0)
    );
    assert!(e.take() > 0);

    let s = update(&mut w, &docs, &e, &src);
    assert_eq!((s.items().added, s.items().unchanged), (0, 13));
    assert_eq!(e.take(), 0, "nothing changed, nothing embedded");

    // Change one paragraph: it and its section are updated; only its new texts are embedded.
    docs[1].sections[0].initiatives[0].text =
        "Associations joined many international organizations.".into();
    docs[1].sections[0].initiatives[0].sentences =
        sentences(&docs[1].sections[0].initiatives[0].text);
    let s = update(&mut w, &docs, &e, &src);
    assert_eq!(
        (
            s.items().added,
            s.items().updated,
            s.items().removed,
            s.items().unchanged
        ),
        (0, 2, 0, 11)
    );
    assert_eq!(
        e.take(),
        1,
        "the new paragraph, which is also its one sentence"
    );

    // Delete a file: its items go; documents outside the scope are untouched.
    std::fs::remove_file(&docs[1].path).unwrap();
    let s = update(&mut w, &docs[..1], &e, &src);
    assert_eq!(
        (s.items().removed, s.documents_removed, s.items().unchanged),
        (6, 1, 7)
    );
    let index = w.into_index();
    let counts = index.counts().unwrap();
    assert_eq!(
        (counts.documents, counts.sections, counts.initiatives),
        (1, 3, 4)
    );
    let m = LocalStore::open(&idx).unwrap().manifest().clone();
    assert_eq!(
        m.counts, counts,
        "the manifest describes the committed state"
    );
}

#[test]
fn stored_items_serve_clustering_and_summaries() {
    let tmp = tempfile::tempdir().unwrap();
    let e = HashEmbedder::new(64);
    let mut w = LocalWriter::open(&tmp.path().join("idx"), &e.model_id(), 64, false).unwrap();
    update(&mut w, &corpus(tmp.path()), &e, tmp.path());
    let index = w.into_index();
    let items = index.items(Level::Initiative).unwrap();
    assert_eq!(items.len(), 7);
    let first = &items.iter().find(|i| i.id == "enterprises#s0.p1").unwrap();
    assert_eq!(first.doc_title, "Report enterprises");
    assert_eq!(first.heading, "Upgrade skills of local employees");
    assert_eq!(first.sentences.len(), 2);
    assert_eq!(
        first.sentences[1].text,
        "Workers learned welding and machine repair."
    );
    let r = first.sentences[1].byte_range;
    assert_eq!(&first.text[r.0..r.1], first.sentences[1].text);
    assert_eq!(first.sentences[0].vector.len(), 64);
    assert!(items.iter().filter(|i| i.boilerplate).count() == 2);
    let sections = index.items(Level::Section).unwrap();
    assert_eq!(
        sections
            .iter()
            .find(|s| s.id == "enterprises#s0")
            .unwrap()
            .sentences
            .len(),
        4
    );
    let g = index.knn_graph(Level::Initiative, 3).unwrap();
    assert_eq!(g.len(), index.knn_items(Level::Initiative).unwrap().len());
    assert_eq!(g.len(), 5, "boilerplate is left out");
}

#[test]
fn search_ranks_explains_and_filters() {
    let tmp = tempfile::tempdir().unwrap();
    let e = HashEmbedder::new(256);
    let mut w = LocalWriter::open(&tmp.path().join("idx"), &e.model_id(), 256, false).unwrap();
    update(&mut w, &corpus(tmp.path()), &e, tmp.path());
    let index = w.into_index();
    let hits = search::search(
        &index,
        &e,
        "training local workers",
        &SearchOptions::default(),
    )
    .unwrap();
    assert_eq!(hits[0].doc.id, "enterprises");
    assert!(
        hits[0]
            .best_sentence
            .as_ref()
            .unwrap()
            .text
            .contains("trained local workers")
            || hits[0]
                .best_sentence
                .as_ref()
                .unwrap()
                .text
                .contains("local")
    );
    assert!(
        hits.iter().all(|h| !h.boilerplate),
        "boilerplate is excluded by default"
    );
    let opts = SearchOptions {
        include_boilerplate: true,
        k: 20,
        ..Default::default()
    };
    assert!(search::search(&index, &e, "editor's note", &opts)
        .unwrap()
        .iter()
        .any(|h| h.boilerplate));
    let mut opts = SearchOptions::default();
    opts.docs.until = Some("2023-01-29".into());
    assert!(search::search(&index, &e, "training", &opts)
        .unwrap()
        .iter()
        .all(|h| h.doc.id == "associations"));
    opts.docs = search::DocFilter {
        glob: Some("ent*".into()),
        ..Default::default()
    };
    assert!(search::search(&index, &e, "training", &opts)
        .unwrap()
        .iter()
        .all(|h| h.doc.id == "enterprises"));
    let opts = SearchOptions {
        other_docs: true,
        ..Default::default()
    };
    let (item, similar) = search::similar(&index, "enterprises#s0.p2", &opts).unwrap();
    assert_eq!(item.doc_id, "enterprises");
    assert!(!similar.is_empty() && similar.iter().all(|h| h.doc.id != "enterprises"));
    let links = search::links(
        &index,
        &LinkOptions {
            threshold: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(links
        .iter()
        .all(|l| l.a.doc.id != l.b.doc.id && l.score >= 0.0));
    assert!(links.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn model_mismatch_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(64);
    let mut w = LocalWriter::open(&idx, &e.model_id(), 64, false).unwrap();
    update(&mut w, &corpus(tmp.path()), &e, tmp.path());
    drop(w);
    let other = HashEmbedder::new(32);
    let err = LocalWriter::open(&idx, &other.model_id(), 32, false)
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::ModelMismatch(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("simsum/hash-64") && msg.contains("--rebuild"),
        "{msg}"
    );
    assert!(LocalStore::open(&idx)
        .unwrap()
        .check_model(&other.model_id(), 32)
        .is_err());
    // --rebuild starts over with the new model.
    let mut w = LocalWriter::open(&idx, &other.model_id(), 32, true).unwrap();
    let s = update(&mut w, &corpus(tmp.path()), &other, tmp.path());
    assert_eq!(s.items().added, 13, "{s:?}");
    assert_eq!(LocalStore::open(&idx).unwrap().manifest().dimension, 32);
    // The CLI says the same.
    let out = Command::new(BIN)
        .args(["--model", "hash:64", "search", "x", "--index"])
        .arg(&idx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rebuild"));
}

#[test]
fn newer_format_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(16);
    drop(LocalWriter::open(&idx, &e.model_id(), 16, false).unwrap());
    let path = idx.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"format_version\": 1", "\"format_version\": 99");
    std::fs::write(&path, text).unwrap();
    let err = LocalStore::open(&idx).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerFormat { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade simsum"));
}

#[test]
fn manifest_fields_are_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(16);
    drop(LocalWriter::open(&idx, &e.model_id(), 16, false).unwrap());
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(idx.join("manifest.json")).unwrap()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "built_at",
            "counts",
            "created_at",
            "dimension",
            "dtype",
            "exact_threshold",
            "format_version",
            "generation",
            "hnsw",
            "metric",
            "model",
            "simsum_version",
            "vector_encoding"
        ]
    );
    assert_eq!(
        v["hnsw"],
        serde_json::json!({"m": 16, "ef_construction": 200, "ef_search": 128})
    );
    assert_eq!(v["metric"], "cosine");
    assert_eq!(v["model"]["name"], "simsum/hash-16");
    assert_eq!(v["dtype"], "f32");
}

/// Many short documents on a few topics, so neighbours are meaningful.
fn many_docs(dir: &Path, n_docs: usize, per_doc: usize) -> Vec<Document> {
    let topics = [
        "training workers skills",
        "film festival culture",
        "trade standards rules",
        "water energy climate",
        "school students exchange",
    ];
    let paras: Vec<Vec<String>> = (0..n_docs)
        .map(|d| {
            (0..per_doc)
                .map(|p| {
                    let t = topics[(d * 7 + p) % topics.len()];
                    format!(
                        "Paragraph {p} of report {d} about {t} with detail {} and {}.",
                        (d * 31 + p * 17) % 97,
                        (d + p) % 13
                    )
                })
                .collect()
        })
        .collect();
    (0..n_docs)
        .map(|d| {
            let refs: Vec<&str> = paras[d].iter().map(String::as_str).collect();
            doc(dir, &format!("r{d}"), None, &[("Body", &refs)])
        })
        .collect()
}

/// Graphs from 50 items up, so that small test corpora are searched through them.
const SMALL_GRAPHS: LocalOptions = LocalOptions {
    hnsw: Some(HnswParams {
        m: 16,
        ef_construction: 100,
        ef_search: 64,
    }),
    exact_threshold: Some(50),
};

fn small_graph_writer(idx: &Path, e: &dyn Embedder) -> LocalWriter {
    LocalWriter::open_with(idx, &e.model_id(), e.dim(), false, SMALL_GRAPHS).unwrap()
}

#[test]
fn exact_and_hnsw_agree_on_small_data() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(32);
    let mut w = small_graph_writer(&idx, &e);
    update(&mut w, &many_docs(tmp.path(), 40, 10), &e, tmp.path());
    drop(w);
    let approx = LocalStore::open(&idx).unwrap();
    assert!(approx.uses_graph(Level::Initiative).unwrap());
    let exact = LocalStore::open(&idx).unwrap();
    let brute_force = ItemFilter {
        exact: true,
        ..Default::default()
    };
    let queries = e
        .embed(&[
            "training workers",
            "film culture 12",
            "climate water energy detail 5",
            "students",
        ])
        .unwrap();
    let (mut found, mut total) = (0, 0);
    for q in &queries {
        let a = approx
            .nearest(Level::Initiative, &q.vector, 10, &ItemFilter::default())
            .unwrap();
        let x = exact
            .nearest(Level::Initiative, &q.vector, 10, &brute_force)
            .unwrap();
        // Recall with ties: an approximate hit counts when it scores at least the 10th exact.
        let floor = x.last().unwrap().1 - 1e-6;
        found += a.iter().filter(|(_, s)| *s >= floor).count().min(10);
        total += 10;
    }
    assert!(
        found as f64 / total as f64 >= 0.95,
        "recall {found}/{total}"
    );
}

#[test]
fn knn_graph_from_the_stored_hnsw_matches_the_exact_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(32);
    let mut w = small_graph_writer(&idx, &e);
    update(&mut w, &many_docs(tmp.path(), 40, 10), &e, tmp.path());
    drop(w);
    let approx = LocalStore::open(&idx).unwrap();
    let k = 8;
    let a = approx.knn_graph(Level::Initiative, k).unwrap();
    let vectors: Vec<Vec<f32>> = approx
        .knn_items(Level::Initiative)
        .unwrap()
        .into_iter()
        .map(|i| i.vector)
        .collect();
    let x = simsum::store::KnnGraph::brute_force(&vectors, k);
    assert_eq!(a.len(), approx.knn_items(Level::Initiative).unwrap().len());
    assert_eq!(a.len(), x.len());
    let (mut found, mut total) = (0, 0);
    for (i, (ra, rx)) in a.neighbours.iter().zip(&x.neighbours).enumerate() {
        assert!(ra.len() <= k && ra.iter().all(|&(j, _)| j != i && j < a.len()));
        assert!(
            ra.windows(2).all(|w| w[0].1 >= w[1].1),
            "row {i} not sorted"
        );
        // Recall with ties, as for search.
        let floor = rx.last().unwrap().1 - 1e-6;
        found += ra.iter().filter(|(_, s)| *s >= floor).count().min(rx.len());
        total += rx.len();
    }
    assert!(
        found as f64 / total as f64 >= 0.95,
        "recall {found}/{total}"
    );
}

#[test]
fn corrupt_graph_file_is_rebuilt_and_graph_follows_updates() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(32);
    let mut w = small_graph_writer(&idx, &e);
    let docs = many_docs(tmp.path(), 20, 10);
    let s = update(&mut w, &docs, &e, tmp.path());
    assert!(
        s.graphs.iter().any(|(l, _)| *l == Level::Initiative),
        "{:?}",
        s.graphs
    );
    // An update adds to the saved graph.
    let s = update(&mut w, &many_docs(tmp.path(), 22, 10), &e, tmp.path());
    assert!(
        s.graphs
            .iter()
            .any(|(l, what)| *l == Level::Initiative && what.contains("added 20")),
        "{:?}",
        s.graphs
    );
    drop(w);
    let corrupt = |name: &str| {
        let path = idx.join("graph/initiative").join(name);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n / 2..].iter_mut().for_each(|b| *b = 0xAB);
        std::fs::write(&path, bytes).unwrap();
    };
    let q = e
        .embed(&["training workers skills"])
        .unwrap()
        .remove(0)
        .vector;
    let search = |graph: bool| {
        let index = LocalStore::open(&idx).unwrap();
        let hits = index
            .nearest(Level::Initiative, &q, 5, &ItemFilter::default())
            .unwrap();
        assert_eq!(hits.len(), 5);
        assert_eq!(index.uses_graph(Level::Initiative).unwrap(), graph);
        hits
    };
    let exact = {
        let index = LocalStore::open(&idx).unwrap();
        let brute_force = ItemFilter {
            exact: true,
            ..Default::default()
        };
        index
            .nearest(Level::Initiative, &q, 5, &brute_force)
            .unwrap()
    };
    let before = search(true);
    let listing = || {
        let mut names: Vec<String> = walkdir(&idx);
        names.sort();
        names
    };
    // The search copy damaged: readers search exactly and write nothing; the next writer,
    // with nothing else to do, repairs the graph.
    corrupt("graph.flat");
    let files_before = listing();
    assert_eq!(search(false), exact);
    assert_eq!(listing(), files_before, "a reader wrote into the index");
    assert!(hnsw::load_flat(&idx.join("graph/initiative")).is_err());
    let mut w = small_graph_writer(&idx, &e);
    let s = update(&mut w, &many_docs(tmp.path(), 22, 10), &e, tmp.path());
    assert_eq!(s.items().added, 0);
    assert!(
        s.graphs.iter().any(|(l, _)| *l == Level::Initiative),
        "{:?}",
        s.graphs
    );
    drop(w);
    assert!(hnsw::load_flat(&idx.join("graph/initiative")).is_ok());
    assert_eq!(search(true), before);
    // The `hnsw_rs` files damaged: searches (which read only the search copy) are unaffected,
    // and the next update finds the damage and rebuilds instead of adding to it.
    corrupt("graph.hnsw.graph");
    assert!(hnsw::HnswGraph::load(&idx.join("graph/initiative")).is_err());
    assert_eq!(search(true), before);
    let mut w = small_graph_writer(&idx, &e);
    let s = update(&mut w, &many_docs(tmp.path(), 23, 10), &e, tmp.path());
    assert!(
        s.graphs
            .iter()
            .any(|(l, what)| *l == Level::Initiative && what.starts_with("built over")),
        "{:?}",
        s.graphs
    );
    assert!(hnsw::HnswGraph::load(&idx.join("graph/initiative")).is_ok());
}

#[test]
fn corrupt_database_is_a_clear_error_and_rebuild_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(16);
    let mut w = LocalWriter::open(&idx, &e.model_id(), 16, false).unwrap();
    update(&mut w, &corpus(tmp.path()), &e, tmp.path());
    drop(w);
    for f in ["index.sqlite-wal", "index.sqlite-shm"] {
        let _ = std::fs::remove_file(idx.join(f));
    }
    std::fs::write(idx.join("index.sqlite"), vec![0x5a; 8192]).unwrap();
    let err = LocalStore::open(&idx).unwrap_err();
    assert!(matches!(err, StoreError::CorruptDatabase { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("index.sqlite") && msg.contains("--rebuild"),
        "{msg}"
    );
    let out = Command::new(BIN)
        .args(["--model", "hash:16", "search", "x", "--index"])
        .arg(&idx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupt"));
    let mut w = LocalWriter::open(&idx, &e.model_id(), 16, true).unwrap();
    assert_eq!(
        update(&mut w, &corpus(tmp.path()), &e, tmp.path())
            .items()
            .added,
        13
    );
}

#[test]
fn second_writer_gets_index_is_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    std::fs::create_dir_all(&idx).unwrap();
    let e = HashEmbedder::new(16);
    let held = WriterLock::try_acquire(&idx).unwrap();
    let err = LocalWriter::open(&idx, &e.model_id(), 16, false)
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("locked"));
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "Title\n\nSome text here.\n").unwrap();
    let out = Command::new(BIN)
        .args(["--model", "hash:16", "index", "--index"])
        .arg(&idx)
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is locked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(held);
    assert!(LocalWriter::open(&idx, &e.model_id(), 16, false).is_ok());
}

/// `files` text files named `<prefix>NNNNN.txt` (document ids come from file names).
const WORDS: [&str; 23] = [
    "harbours",
    "orchards",
    "libraries",
    "railways",
    "vaccines",
    "bridges",
    "looms",
    "wells",
    "satellites",
    "bakeries",
    "museums",
    "forests",
    "clinics",
    "mines",
    "vineyards",
    "turbines",
    "ferries",
    "schools",
    "markets",
    "dams",
    "theatres",
    "gardens",
    "laboratories",
];

fn write_corpus(dir: &Path, prefix: &str, files: usize, paras: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for f in 0..files {
        let mut text = format!("Report number {f}\nDate: 2023-01-{:02}\n\n", f % 28 + 1);
        for p in 0..paras {
            // Words, not only numbers, differ between paragraphs: texts that differ only in
            // names and numbers are near-copies, which searches fold into one hit.
            text.push_str(&format!(
                "Paragraph {p} of report {f} talks about training, culture and trade number {} and {}. It has a second sentence on {}.\n\n",
                (f * 13 + p) % 101,
                WORDS[(f * 13 + p) % WORDS.len()],
                WORDS[(f + p * 7 + 5) % WORDS.len()]
            ));
        }
        std::fs::write(dir.join(format!("{prefix}{f:05}.txt")), text).unwrap();
    }
}

fn cli(idx: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["--model", "hash:64", "--index"])
        .arg(idx)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn kill_during_indexing_keeps_the_previous_state() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, big, idx) = (
        tmp.path().join("small"),
        tmp.path().join("big"),
        tmp.path().join("idx"),
    );
    write_corpus(&small, "small", 3, 4);
    write_corpus(&big, "big", 600, 40);
    let out = cli(&idx, &["index", small.to_str().unwrap()]);
    support::assert_success(&out);
    let before = LocalStore::open(&idx).unwrap().counts().unwrap();
    let mut killed_mid_run = 0;
    for delay_ms in [150u64, 400, 900, 1500] {
        let mut child = Command::new(BIN)
            .args(["--model", "hash:64", "--index"])
            .arg(&idx)
            .arg("index")
            .arg(&big)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed_mid_run += 1;
            eprintln!("killed after {delay_ms} ms");
        }
        child.wait().unwrap();
        let index = LocalStore::open(&idx).expect("the index opens after a kill");
        let counts = index.counts().unwrap();
        if counts != before {
            // The kill came after the commit (e.g. while building the graph): the new state is
            // complete, never partial.
            assert_eq!(counts.documents, 603, "{counts:?}");
            assert_eq!(counts.initiatives, 24_000 + 12, "{counts:?}");
            assert!(killed_mid_run > 1, "no kill landed before the commit");
            return;
        }
        let out = cli(&idx, &["search", "training culture", "--json"]);
        support::assert_success(&out);
    }
    assert!(
        killed_mid_run > 0,
        "the indexing run always finished before the kill; make the corpus bigger"
    );
    // And a later run completes from the previous state.
    let out = cli(&idx, &["index", small.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("unchanged"));
}

#[test]
fn cli_index_is_incremental_and_json_is_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, idx) = (tmp.path().join("src"), tmp.path().join("idx"));
    write_corpus(&src, "f", 4, 3);
    let out = cli(&idx, &["index", src.to_str().unwrap()]);
    support::assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("added 16, updated 0, removed 0, unchanged 0"));
    std::fs::remove_file(src.join("f00003.txt")).unwrap();
    let out = cli(&idx, &["index", src.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("added 0, updated 0, removed 4, unchanged 12"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = cli(
        &idx,
        &["search", "training culture trade", "-k", "3", "--json"],
    );
    support::assert_success(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    let hit = &v["results"][0];
    for key in [
        "rank",
        "score",
        "id",
        "level",
        "doc",
        "section",
        "text",
        "boilerplate",
        "best_sentence",
    ] {
        assert!(hit.get(key).is_some(), "missing {key} in {hit}");
    }
    for key in ["id", "title", "date", "path"] {
        assert!(hit["doc"].get(key).is_some(), "missing doc.{key}");
    }
    assert!(hit["best_sentence"]["byte_range"].as_array().unwrap().len() == 2);
    let id = hit["id"].as_str().unwrap().to_string();
    let out = cli(&idx, &["similar", &id, "--other-docs", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["item"]["id"], id.as_str());
    let doc = v["item"]["doc"]["id"].clone();
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["doc"]["id"] != doc));
    let out = cli(&idx, &["links", "--threshold", "0.2", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let link = &v["links"][0];
    assert!(link["score"].as_f64().unwrap() >= 0.2);
    assert_ne!(link["a"]["doc"]["id"], link["b"]["doc"]["id"]);
    // Human output is a table without colour codes when not a terminal.
    let out = cli(&idx, &["search", "training"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("#  score") && !text.contains('\x1b'),
        "{text}"
    );
}

/// The real default model, acquired through the code users run (fetching it if needed); the
/// test fails with the reason when it cannot be had, never passes without running.
fn require_real_model() {
    let opts = simsum::model::ResolveOptions::default();
    if let Err(e) = simsum::model::resolve(simsum::model::DEFAULT_MODEL, &opts) {
        panic!("this test needs the default model: {e}");
    }
}

#[test]
fn seed_query_about_training_local_workers_finds_the_enterprises_training_initiatives() {
    require_real_model();
    assert!(seeds_dir().is_dir(), "seeds/ is missing from the checkout");
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(["--device", "cpu", "--index"])
            .arg(&idx)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["index", seeds_dir().to_str().unwrap()]);
    support::assert_success(&out);
    let out = run(&[
        "search",
        "training local workers abroad",
        "-k",
        "3",
        "--json",
    ]);
    support::assert_success(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = &v["results"][0];
    assert!(
        top["doc"]["title"]
            .as_str()
            .unwrap()
            .contains("Enterprises"),
        "{top}"
    );
    assert!(
        top["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("vocational training"),
        "{top}"
    );
}

/// Every file under `dir` but the database's, as `path size modified`: what a reader must not
/// change. (SQLite itself may touch `index.sqlite*` when a connection closes.)
fn walkdir(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            if meta.is_dir() {
                stack.push(e.path());
            } else if !rel.starts_with("index.sqlite") {
                out.push(format!(
                    "{rel} {} {:?}",
                    meta.len(),
                    meta.modified().unwrap()
                ));
            }
        }
    }
    out
}

/// Temporary files and folders a killed writer leaves behind.
fn leftovers(idx: &Path) -> Vec<String> {
    walkdir(idx)
        .into_iter()
        .filter(|f| f.starts_with(".tmp") || f.contains(".tmp-") || f.contains(".old-"))
        .collect()
}

#[test]
fn a_reader_and_a_writer_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(32);
    let mut w = small_graph_writer(&idx, &e);
    update(&mut w, &many_docs(tmp.path(), 10, 10), &e, tmp.path());
    let q = e
        .embed(&["training workers skills"])
        .unwrap()
        .remove(0)
        .vector;
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut reads = 0;
            while !stop.load(Ordering::SeqCst) || reads < 5 {
                // Opens although the writer holds the lock, and sees one committed state.
                let index = LocalStore::open(&idx).unwrap();
                let c = index.counts().unwrap();
                assert_eq!(
                    (c.sections, c.initiatives),
                    (c.documents, c.documents * 10),
                    "{c:?}"
                );
                let hits = index
                    .nearest(Level::Initiative, &q, 5, &ItemFilter::default())
                    .unwrap();
                assert_eq!(hits.len(), 5);
                let keys: Vec<u64> = hits.iter().map(|(k, _)| *k).collect();
                assert_eq!(index.items_by_key(&keys).unwrap().len(), 5);
                reads += 1;
            }
            reads
        });
        // One more document per update: every one commits and refreshes the graph.
        for n in 11..=25 {
            let s = update(&mut w, &many_docs(tmp.path(), n, 10), &e, tmp.path());
            assert_eq!(s.items().added, 11);
        }
        stop.store(true, Ordering::SeqCst);
        assert!(reader.join().unwrap() >= 5);
    });
    drop(w);
    let c = LocalStore::open(&idx).unwrap().counts().unwrap();
    assert_eq!((c.documents, c.initiatives), (25, 250));
    assert!(leftovers(&idx).is_empty(), "{:?}", leftovers(&idx));
}

/// The states a `kill -9` can leave for each kind of file write, made directly (a kill lands
/// on one of them only by luck; the kill trials below try it for real): the database's commit
/// is SQLite's journal (see `kill_during_indexing_keeps_the_previous_state`); the manifest and
/// `themes.json` are written to a temporary file and renamed; a graph is filled in a fresh
/// folder and swapped in with two renames.
#[test]
fn every_state_a_killed_write_leaves_opens_with_nothing_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = Counting::new(32);
    let docs = many_docs(tmp.path(), 20, 10);
    let mut w = small_graph_writer(&idx, &e);
    update(&mut w, &docs, &e, tmp.path());
    drop(w);
    e.take();
    let before = LocalStore::open(&idx).unwrap().counts().unwrap();
    let q = e
        .embed(&["film festival culture"])
        .unwrap()
        .remove(0)
        .vector;
    e.take();
    let exact = {
        let index = LocalStore::open(&idx).unwrap();
        let brute_force = ItemFilter {
            exact: true,
            ..Default::default()
        };
        index
            .nearest(Level::Initiative, &q, 10, &brute_force)
            .unwrap()
    };
    // Manifest and theme report: killed before the rename, a partial temporary file each.
    std::fs::write(
        idx.join(".tmpA1b2C3"),
        br#"{"format_version": 1, "simsum_ver"#,
    )
    .unwrap();
    std::fs::write(
        idx.join(".tmpD4e5F6"),
        br#"{"format_version":1,"generation":3,"re"#,
    )
    .unwrap();
    // Graph: killed between the two renames of the swap (the old graph moved aside, none in
    // place), and a second save killed while filling its fresh folder.
    let graphs = idx.join("graph");
    std::fs::rename(
        graphs.join("initiative"),
        graphs.join("initiative.old-99999"),
    )
    .unwrap();
    std::fs::create_dir_all(graphs.join("initiative.tmp-99998")).unwrap();
    std::fs::write(
        graphs.join("initiative.tmp-99998/graph.hnsw.data"),
        [7u8; 100],
    )
    .unwrap();
    // A theme report written before format versions: read as absent, made again.
    std::fs::write(idx.join("themes.json"), br#"{"generation":1,"report":{}}"#).unwrap();

    let index = LocalStore::open(&idx).expect("opens after the kills");
    assert_eq!(index.counts().unwrap(), before, "nothing lost");
    assert!(!index.uses_graph(Level::Initiative).unwrap());
    let hits = index
        .nearest(Level::Initiative, &q, 10, &ItemFilter::default())
        .unwrap();
    assert_eq!(hits, exact, "without its graph a level is searched exactly");
    assert!(simsum::store::load_themes(&index).unwrap().is_none());
    drop(index);

    // The next writer clears what the kills left, re-embeds nothing and restores the graph.
    let mut w = small_graph_writer(&idx, &e);
    assert!(leftovers(&idx).is_empty(), "{:?}", leftovers(&idx));
    let s = update(&mut w, &docs, &e, tmp.path());
    assert_eq!((s.items().added, s.items().unchanged), (0, 220));
    assert_eq!(e.take(), 0);
    assert!(
        s.graphs
            .iter()
            .any(|(l, what)| *l == Level::Initiative && what.starts_with("built over")),
        "{:?}",
        s.graphs
    );
    drop(w);
    let index = LocalStore::open(&idx).unwrap();
    assert!(index.uses_graph(Level::Initiative).unwrap());
    assert_eq!(index.counts().unwrap(), before);
}

/// `kill -9` at increasing delays into runs that write graphs (`index --rebuild` commits, then
/// builds and saves a graph over 10,400 initiatives) and theme reports (`cluster`): after each
/// kill the index opens with every item, searches answer, and a plain run afterwards finishes
/// the job with no leftovers.
#[test]
fn kill_during_graph_and_theme_writes_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (big, idx) = (tmp.path().join("big"), tmp.path().join("idx"));
    // Just above the 10,000 items from which a level gets a graph.
    write_corpus(&big, "big", 260, 40);
    let ok = |out: std::process::Output| {
        support::assert_success(&out);
        out
    };
    let started = std::time::Instant::now();
    ok(cli(&idx, &["index", big.to_str().unwrap()]));
    let full_run = started.elapsed();
    let full = LocalStore::open(&idx).unwrap().counts().unwrap();
    assert_eq!(full.initiatives, 10_400);
    assert!(hnsw::load_flat(&idx.join("graph/initiative")).is_ok());

    let trial = |args: &[&str], total: std::time::Duration| -> usize {
        let mut killed = 0;
        for share in [0.3, 0.6, 0.9] {
            let mut child = Command::new(BIN)
                .args(["--model", "hash:64", "--index"])
                .arg(&idx)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(total.mul_f64(share));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
            child.wait().unwrap();
            let index = LocalStore::open(&idx).expect("the index opens after a kill");
            assert_eq!(index.counts().unwrap(), full, "after {args:?} at {share}");
            // A theme report is there whole or not at all.
            if let Ok(bytes) = std::fs::read(idx.join("themes.json")) {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .unwrap_or_else(|e| panic!("themes.json half written: {e}"));
            }
            drop(index);
            ok(cli(&idx, &["search", "training culture", "--json"]));
        }
        killed
    };
    let killed = trial(&["index", "--rebuild", big.to_str().unwrap()], full_run);
    eprintln!("index --rebuild: {killed} of 3 runs killed (a full run took {full_run:?})");
    assert!(killed > 0, "every run finished before its kill");
    let out = ok(cli(&idx, &["index", big.to_str().unwrap()]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unchanged"));
    assert!(hnsw::load_flat(&idx.join("graph/initiative")).is_ok());
    assert!(hnsw::HnswGraph::load(&idx.join("graph/initiative")).is_ok());

    let cluster = ["cluster", "--level", "section", "--no-model"];
    let started = std::time::Instant::now();
    ok(cli(&idx, &cluster));
    let cluster_run = started.elapsed();
    let killed = trial(&cluster, cluster_run);
    eprintln!("cluster: {killed} of 3 runs killed (a full run took {cluster_run:?})");
    assert!(killed > 0, "every run finished before its kill");
    ok(cli(&idx, &cluster));
    let index = LocalStore::open(&idx).unwrap();
    assert!(simsum::store::load_themes(&index).unwrap().is_some());
    drop(index);
    // The next writer clears whatever the kills left.
    drop(LocalWriter::open(&idx, &HashEmbedder::new(64).model_id(), 64, false).unwrap());
    assert!(leftovers(&idx).is_empty(), "{:?}", leftovers(&idx));
}

/// `GET /v1/documents/{id}` reads one document through `items_of_document`: it must give what
/// filtering the whole level gives, sentences included, in reading order.
#[test]
fn items_of_one_document_equal_the_level_filtered_by_document() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(32);
    let mut w = small_graph_writer(&idx, &e);
    update(&mut w, &many_docs(tmp.path(), 6, 4), &e, tmp.path());
    drop(w);
    let store = LocalStore::open(&idx).unwrap();
    let docs = store.documents().unwrap();
    assert!(docs.len() >= 6);
    for level in [Level::Section, Level::Initiative, Level::Sentence] {
        let all = store.items(level).unwrap();
        for d in &docs {
            let want: Vec<_> = all.iter().filter(|i| i.doc_id == d.id).cloned().collect();
            let got = store.items_of_document(level, &d.id).unwrap();
            assert!(!got.is_empty(), "{level} of {}", d.id);
            assert_eq!(got, want, "{level} of {}", d.id);
        }
    }
    assert!(store
        .items_of_document(Level::Initiative, "no-such-doc")
        .unwrap()
        .is_empty());
}
