//! The index directory and the queries over it: incremental updates, crash safety, model and
//! format checks, corrupt files, the writer lock, exact vs HNSW agreement, the CLI's JSON, and
//! seed queries with known answers. All but the last use the model-free `HashEmbedder`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use simsum::embed::{EmbedError, Embedder, Embedding, HashEmbedder, ModelId};
use simsum::index::layout::HnswParams;
use simsum::index::{
    IndexDir, IndexError, IndexWriter, ItemFilter, Level, UpdateOptions, WriterLock,
};
use simsum::ingest::{Document, Initiative, Section, Sentence};
use simsum::search::{self, LinkOptions, SearchOptions};

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

fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in text.split_inclusive(". ") {
        let t = part.trim();
        let off = start + part.find(t).unwrap_or(0);
        out.push(Sentence {
            text: t.to_string(),
            byte_range: (off, off + t.len()),
        });
        start += part.len();
    }
    out
}

/// A document at `dir/<id>.txt` with sections of paragraphs.
fn doc(dir: &Path, id: &str, date: Option<&str>, sections: &[(&str, &[&str])]) -> Document {
    let path = dir.join(format!("{id}.txt"));
    std::fs::write(&path, format!("{sections:?}")).unwrap();
    Document {
        id: id.into(),
        title: format!("Report {id}"),
        date: date.map(Into::into),
        source: None,
        path,
        content_hash: format!("{:?}", sections),
        format: "text".into(),
        metadata: Default::default(),
        sections: sections
            .iter()
            .enumerate()
            .map(|(n, (heading, paras))| Section {
                id: format!("{id}#s{n}"),
                ordinal: n,
                heading: heading.to_string(),
                number: None,
                byte_range: (0, 0),
                captions: vec![],
                initiatives: paras
                    .iter()
                    .enumerate()
                    .map(|(p, text)| Initiative {
                        id: format!("{id}#s{n}.p{}", p + 1),
                        text: text.to_string(),
                        boilerplate: text.starts_with("Editor's note"),
                        sentences: sentences(text),
                    })
                    .collect(),
            })
            .collect(),
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

fn update(
    w: &mut IndexWriter,
    docs: &[Document],
    e: &dyn Embedder,
    scope: &Path,
) -> simsum::index::UpdateStats {
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
    let mut w = IndexWriter::open(&idx, &e.model_id(), 64, false).unwrap();
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
    let m = IndexDir::open(&idx).unwrap().manifest().clone();
    assert_eq!(
        m.counts, counts,
        "the manifest describes the committed state"
    );
}

#[test]
fn stored_items_serve_clustering_and_summaries() {
    let tmp = tempfile::tempdir().unwrap();
    let e = HashEmbedder::new(64);
    let mut w = IndexWriter::open(&tmp.path().join("idx"), &e.model_id(), 64, false).unwrap();
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
    let mut w = IndexWriter::open(&tmp.path().join("idx"), &e.model_id(), 256, false).unwrap();
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
    let mut w = IndexWriter::open(&idx, &e.model_id(), 64, false).unwrap();
    update(&mut w, &corpus(tmp.path()), &e, tmp.path());
    drop(w);
    let other = HashEmbedder::new(32);
    let err = IndexWriter::open(&idx, &other.model_id(), 32, false)
        .err()
        .unwrap();
    assert!(matches!(err, IndexError::ModelMismatch(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("simsum/hash-64") && msg.contains("--rebuild"),
        "{msg}"
    );
    assert!(IndexDir::open(&idx)
        .unwrap()
        .check_model(&other.model_id(), 32)
        .is_err());
    // --rebuild starts over with the new model.
    let mut w = IndexWriter::open(&idx, &other.model_id(), 32, true).unwrap();
    let s = update(&mut w, &corpus(tmp.path()), &other, tmp.path());
    assert_eq!(s.items().added, 13, "{s:?}");
    assert_eq!(IndexDir::open(&idx).unwrap().manifest().dimension, 32);
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
    drop(IndexWriter::open(&idx, &e.model_id(), 16, false).unwrap());
    let path = idx.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"format_version\": 1", "\"format_version\": 99");
    std::fs::write(&path, text).unwrap();
    let err = IndexDir::open(&idx).unwrap_err();
    assert!(
        matches!(err, IndexError::NewerFormat { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade simsum"));
}

#[test]
fn manifest_fields_are_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(16);
    drop(IndexWriter::open(&idx, &e.model_id(), 16, false).unwrap());
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

fn small_graph_writer(idx: &Path, e: &dyn Embedder) -> IndexWriter {
    let mut w = IndexWriter::open(idx, &e.model_id(), e.dim(), false).unwrap();
    w.configure(
        HnswParams {
            m: 16,
            ef_construction: 100,
            ef_search: 64,
        },
        50,
    );
    w
}

#[test]
fn exact_and_hnsw_agree_on_small_data() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(32);
    let mut w = small_graph_writer(&idx, &e);
    update(&mut w, &many_docs(tmp.path(), 40, 10), &e, tmp.path());
    drop(w);
    let approx = IndexDir::open(&idx).unwrap();
    assert!(approx.uses_graph(Level::Initiative).unwrap());
    let mut exact = IndexDir::open(&idx).unwrap();
    exact.set_exact(true);
    assert!(!exact.uses_graph(Level::Initiative).unwrap());
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
            .nearest(Level::Initiative, &q.vector, 10, &ItemFilter::default())
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
    let approx = IndexDir::open(&idx).unwrap();
    let mut exact = IndexDir::open(&idx).unwrap();
    exact.set_exact(true);
    let k = 8;
    let a = approx.knn_graph(Level::Initiative, k).unwrap();
    let x = exact.knn_graph(Level::Initiative, k).unwrap();
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
    let search = || {
        let index = IndexDir::open(&idx).unwrap();
        let hits = index
            .nearest(Level::Initiative, &q, 5, &ItemFilter::default())
            .unwrap();
        assert_eq!(hits.len(), 5);
        assert!(index.uses_graph(Level::Initiative).unwrap());
        hits
    };
    let before = search();
    // The search copy damaged: searches rebuild the graph from the stored vectors and save it.
    corrupt("graph.flat");
    assert_eq!(search(), before);
    assert!(simsum::index::hnsw::load_flat(&idx.join("graph/initiative")).is_ok());
    assert!(simsum::index::hnsw::HnswGraph::load(&idx.join("graph/initiative")).is_ok());
    // The `hnsw_rs` files damaged: searches (which read only the search copy) are unaffected,
    // and the next update finds the damage and rebuilds instead of adding to it.
    corrupt("graph.hnsw.graph");
    assert!(simsum::index::hnsw::HnswGraph::load(&idx.join("graph/initiative")).is_err());
    assert_eq!(search(), before);
    let mut w = small_graph_writer(&idx, &e);
    let s = update(&mut w, &many_docs(tmp.path(), 23, 10), &e, tmp.path());
    assert!(
        s.graphs
            .iter()
            .any(|(l, what)| *l == Level::Initiative && what.starts_with("built over")),
        "{:?}",
        s.graphs
    );
    assert!(simsum::index::hnsw::HnswGraph::load(&idx.join("graph/initiative")).is_ok());
}

#[test]
fn corrupt_database_is_a_clear_error_and_rebuild_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let e = HashEmbedder::new(16);
    let mut w = IndexWriter::open(&idx, &e.model_id(), 16, false).unwrap();
    update(&mut w, &corpus(tmp.path()), &e, tmp.path());
    drop(w);
    for f in ["index.sqlite-wal", "index.sqlite-shm"] {
        let _ = std::fs::remove_file(idx.join(f));
    }
    std::fs::write(idx.join("index.sqlite"), vec![0x5a; 8192]).unwrap();
    let err = IndexDir::open(&idx).unwrap_err();
    assert!(matches!(err, IndexError::CorruptDatabase { .. }), "{err}");
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
    let mut w = IndexWriter::open(&idx, &e.model_id(), 16, true).unwrap();
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
    let err = IndexWriter::open(&idx, &e.model_id(), 16, false)
        .err()
        .unwrap();
    assert!(matches!(err, IndexError::Locked { .. }), "{err}");
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
    assert!(IndexWriter::open(&idx, &e.model_id(), 16, false).is_ok());
}

/// `files` text files named `<prefix>NNNNN.txt` (document ids come from file names).
fn write_corpus(dir: &Path, prefix: &str, files: usize, paras: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for f in 0..files {
        let mut text = format!("Report number {f}\nDate: 2023-01-{:02}\n\n", f % 28 + 1);
        for p in 0..paras {
            text.push_str(&format!(
                "Paragraph {p} of report {f} talks about training, culture and trade number {}. It has a second sentence {}.\n\n",
                (f * 13 + p) % 101,
                (f + p * 7) % 37
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = IndexDir::open(&idx).unwrap().counts().unwrap();
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
        let index = IndexDir::open(&idx).expect("the index opens after a kill");
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
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// The real default model, when it can be found without the network; `None` skips the test.
fn real_model_available() -> bool {
    let offline = simsum::model::ResolveOptions::default();
    simsum::model::resolve(simsum::model::DEFAULT_MODEL, &offline).is_ok()
}

fn seeds_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/seeds"))
}

#[test]
fn seed_query_about_training_local_workers_finds_the_enterprises_training_initiatives() {
    if !real_model_available() || !seeds_dir().exists() {
        eprintln!("skipped: the default model or seeds/ is not available");
        return;
    }
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "search",
        "training local workers abroad",
        "-k",
        "3",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
