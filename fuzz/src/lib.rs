//! The fuzz targets' shared harness: one function per kind of input, each feeding bytes to
//! simsum's public entry points and checking what comes back. The targets in `fuzz_targets/`
//! are one line each; `tests/ingest.rs` includes this file too and replays the committed
//! corpora (plus generated variants) through the same functions on every `cargo test`.
//!
//! Index files are fuzzed the way a user's damaged index would reach simsum: a valid index
//! directory (built once per process, with a graph) is copied, one file is replaced by the
//! input, and the copy is opened with `simsum::store::open` and read (counts, items, a
//! nearest-neighbour query that walks `graph.flat`, the saved theme report). The `hnsw_rs`
//! files are read by the writer only, so that target opens a writer and updates. A graph
//! file's checksum in `graph.json` is recomputed for the input, so the bytes reach the parser
//! rather than stopping at the checksum.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use simsum::embed::{Embedder, HashEmbedder};
use simsum::ingest::{estimate_tokens, parse_document, Document, IngestOptions};
use simsum::store::{ItemFilter, Level, StoreUrl, UpdateOptions};

/// The index files a target can replace (paths inside the index directory).
pub const MANIFEST: &str = "manifest.json";
pub const SQLITE: &str = "index.sqlite";
pub const GRAPH_FLAT: &str = "graph/initiative/graph.flat";
/// The `hnsw_rs` target: the first input byte picks `graph.hnsw.graph` or `graph.hnsw.data`.
pub const HNSW_DATA: &str = "graph/initiative/graph.hnsw.*";
pub const THEMES: &str = "themes.json";

const DIM: usize = 16;

/// Parses `data` as a file with extension `ext` and checks the document model's invariants.
pub fn ingest(ext: &str, data: &[u8]) {
    let opts = IngestOptions {
        max_tokens: 48,
        ..IngestOptions::default()
    };
    let path = PathBuf::from(format!("fuzz.{ext}"));
    let Ok(docs) = parse_document(&path, data, &opts, &estimate_tokens) else {
        return;
    };
    for doc in &docs {
        check_document(doc);
    }
}

fn check_document(doc: &Document) {
    let mut ids = std::collections::HashSet::new();
    for (section, init) in doc.initiatives() {
        assert!(
            init.id.starts_with(&section.id),
            "{} not in {}",
            init.id,
            section.id
        );
        assert!(ids.insert(init.id.clone()), "duplicate id {}", init.id);
        assert!(!init.text.is_empty(), "empty initiative {}", init.id);
        for s in &init.sentences {
            let (a, b) = s.byte_range;
            assert_eq!(init.text.get(a..b), Some(s.text.as_str()), "{}", init.id);
        }
    }
}

/// Decodes `data` as the text formats do; valid UTF-8 without a byte-order mark or control
/// characters must come back unchanged (up to line ends).
pub fn decode(data: &[u8]) {
    let Ok((text, note)) = simsum::ingest::decode_text(data) else {
        return;
    };
    if let Ok(s) = std::str::from_utf8(data) {
        let plain = !s.starts_with('\u{feff}')
            && !s.contains('\r')
            && s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t');
        if plain && note.is_none() {
            let want = if s.is_empty() || s.ends_with('\n') {
                s.to_string()
            } else {
                format!("{s}\n")
            };
            assert_eq!(text, want);
        }
    }
}

/// Replaces `file` of a copy of a valid index by `data`, then opens and reads the copy.
pub fn store_file(file: &str, data: &[u8]) {
    let template = template();
    let work = work_dir();
    copy_dir(&template.dir, &work);
    let (file, data) = if file == HNSW_DATA {
        let which = if data.first().is_some_and(|b| b & 1 == 1) {
            "graph/initiative/graph.hnsw.data"
        } else {
            "graph/initiative/graph.hnsw.graph"
        };
        (which, data.get(1..).unwrap_or(&[]))
    } else {
        (file, data)
    };
    std::fs::write(work.join(file), data).expect("writing the fuzzed file");
    if file.starts_with("graph/") {
        restamp(&work, file, data);
    }
    let embedder = HashEmbedder::new(DIM);
    let url = StoreUrl::Dir(work.clone());
    if file.contains(".hnsw.") {
        // The hnsw_rs files are read by a writer adding items.
        if let Ok(mut writer) =
            simsum::store::open_writer(&url, None, &embedder.model_id(), DIM, false)
        {
            let _ = writer.update(
                &template.extra,
                &embedder,
                &UpdateOptions::default(),
                &|_, _| {},
            );
        }
        return;
    }
    let Ok(store) = simsum::store::open(&url, None) else {
        return;
    };
    let _ = store.counts();
    let _ = store.documents();
    if let Ok(items) = store.items(Level::Initiative) {
        if let Some(item) = items.first() {
            let _ = store.sentences_of(item);
        }
    }
    let query = embedder
        .embed(&["local workers training"])
        .expect("hash embedding");
    let _ = store.nearest(
        Level::Initiative,
        &query[0].vector,
        5,
        &ItemFilter::default(),
    );
    let _ = simsum::store::load_themes(store.as_ref());
}

/// One index file's reader on its own, as the fuzz targets run it: this thread's copy of the
/// template (made once) gets the input written over `file` (and the template's bytes back in
/// every other file the target writes), then only that file's reader runs. Where
/// [`store_file`] copies the whole index and opens it per input (43-400 inputs/s), this reaches
/// a million inputs per target; the committed corpora still replay through [`store_file`] in
/// `cargo test`, so the whole open path sees them too.
///   - manifest: `IndexFiles::read_manifest`; themes: `IndexFiles::read_themes`, then the report
///     parsed as `ThemeReport`;
///   - `graph.flat`: `FlatGraph::load`, then a search walking the graph;
///   - the `hnsw_rs` files (first byte picks which): the stamp restamped for the input,
///     `HnswGraph::load` (stamp, length guard, `hnsw_rs`), then a search and an insert;
///   - SQLite: `simsum::store::open` over the copy (manifest and graphs the template's), then
///     counts, documents, a level's items, sentences and a nearest-neighbour query.
pub fn index_file(file: &str, data: &[u8]) {
    use simsum::store::local::files::IndexFiles;
    use simsum::store::local::graphs::{FlatGraph, HnswGraph};
    let template = template();
    let work = reader_dir(template);
    let put = |name: &str, bytes: &[u8]| {
        std::fs::write(work.join(name), bytes).expect("writing the fuzzed file")
    };
    let query: Vec<f32> = (0..DIM).map(|i| ((i * 7 % 5) as f32 - 2.0) / 3.0).collect();
    match file {
        MANIFEST => {
            put(MANIFEST, data);
            let _ = IndexFiles::new(&work).read_manifest();
        }
        THEMES => {
            put(THEMES, data);
            if let Ok(Some(saved)) = IndexFiles::new(&work).read_themes() {
                let _ = serde_json::from_value::<simsum::cluster::ThemeReport>(saved.report);
            }
        }
        GRAPH_FLAT => {
            put(GRAPH_FLAT, data);
            if let Ok((graph, _)) = FlatGraph::load(&work.join(GRAPH_FLAT)) {
                let _ = graph.search(&query, 5, 16, None);
            }
        }
        HNSW_DATA => {
            let (graph, vectors) = (
                "graph/initiative/graph.hnsw.graph",
                "graph/initiative/graph.hnsw.data",
            );
            let (fuzzed, kept) = if data.first().is_some_and(|b| b & 1 == 1) {
                (vectors, graph)
            } else {
                (graph, vectors)
            };
            let input = data.get(1..).unwrap_or(&[]);
            let original = std::fs::read(template.dir.join(kept)).expect("template hnsw file");
            put(fuzzed, input);
            put(kept, &original);
            put(
                "graph/initiative/graph.json",
                &std::fs::read(template.dir.join("graph/initiative/graph.json")).unwrap(),
            );
            restamp(&work, fuzzed, input);
            if let Ok((mut g, _)) = HnswGraph::load(&work.join("graph/initiative")) {
                let _ = g.search(&query, 5, 16);
                g.insert(&[(&query, 1 << 40)]);
            }
        }
        SQLITE => {
            put(SQLITE, data);
            for leftover in ["-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(work.join(format!("{SQLITE}{leftover}")));
            }
            let Ok(store) = simsum::store::open(&StoreUrl::Dir(work.clone()), None) else {
                return;
            };
            let _ = store.counts();
            let _ = store.documents();
            if let Ok(items) = store.items(Level::Initiative) {
                if let Some(item) = items.first() {
                    let _ = store.sentences_of(item);
                }
            }
            let _ = store.nearest(Level::Initiative, &query, 5, &ItemFilter::default());
        }
        other => panic!("no reader for {other}"),
    }
}

/// This thread's copy of the template for [`index_file`], made on its first use (on a RAM disk
/// where there is one) and removed when the thread ends.
fn reader_dir(template: &Template) -> PathBuf {
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    thread_local!(static DIR: std::cell::OnceCell<Scratch> = const { std::cell::OnceCell::new() });
    DIR.with(|d| {
        d.get_or_init(|| {
            let shm = Path::new("/dev/shm");
            let base = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            let dir = base.join(format!(
                "simsum-fuzz-reader-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            copy_dir(&template.dir, &dir);
            Scratch(dir)
        })
        .0
        .clone()
    })
}

/// A valid index with a graph of its initiatives, and a document it does not hold yet.
struct Template {
    dir: PathBuf,
    extra: Vec<Document>,
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("simsum-fuzz-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let docs = documents(12);
        let embedder = HashEmbedder::new(DIM);
        let url = StoreUrl::Dir(dir.clone());
        let model = embedder.model_id();
        let update = |docs: &[Document]| {
            let mut w = simsum::store::open_writer(&url, None, &model, DIM, false)
                .expect("template: open writer");
            w.update(docs, &embedder, &UpdateOptions::default(), &|_, _| {})
                .expect("template: update");
        };
        update(&docs[..1]);
        // A graph from the first item on, so the graph files exist and are read.
        let manifest = dir.join(MANIFEST);
        let mut m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&manifest).expect("template manifest"))
                .expect("template manifest JSON");
        m["exact_threshold"] = 1.into();
        std::fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        update(&docs[..11]);
        for f in [
            GRAPH_FLAT,
            "graph/initiative/graph.hnsw.graph",
            "graph/initiative/graph.json",
        ] {
            assert!(dir.join(f).exists(), "template has no {f}");
        }
        Template { dir, extra: docs }
    })
}

/// `n` small reports.
fn documents(n: usize) -> Vec<Document> {
    let opts = IngestOptions::default();
    (0..n)
        .map(|i| {
            let text = format!(
                "Report {i}\nDate: 2023-01-{:02}\n\nI. Training\n\nThe project trained {i} local \
                 workers in safety. They now run the plant.\n\nII. Environment\n\nWaste water is \
                 treated on site number {i}. Emissions fell by half.\n",
                i % 28 + 1
            );
            parse_document(
                Path::new(&format!("r{i}.txt")),
                text.as_bytes(),
                &opts,
                &estimate_tokens,
            )
            .expect("template document")
            .remove(0)
        })
        .collect()
}

/// This thread's scratch copy of the template (`cargo test` replays several targets at once in
/// one process, so a per-process folder would be emptied under another replay's feet).
fn work_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local!(static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed));
    let slot = SLOT.with(|n| *n);
    std::env::temp_dir().join(format!("simsum-fuzz-work-{}-{slot}", std::process::id()))
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("work dir");
    for entry in std::fs::read_dir(from).expect("template dir") {
        let entry = entry.expect("template entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy template file");
        }
    }
}

/// Makes `graph.json` list `data`'s length and checksum for `file`.
fn restamp(dir: &Path, file: &str, data: &[u8]) {
    let name = Path::new(file).file_name().unwrap().to_str().unwrap();
    let stamp_path = Path::new(file).with_file_name("graph.json");
    let stamp_path = dir.join(stamp_path);
    let Ok(bytes) = std::fs::read(&stamp_path) else {
        return;
    };
    let Ok(mut stamp) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return;
    };
    if let Some(files) = stamp["files"].as_array_mut() {
        for f in files {
            if f[0] == name {
                f[1] = (data.len() as u64).into();
                f[2] = crc32fast::hash(data).into();
            }
        }
    }
    std::fs::write(&stamp_path, serde_json::to_vec(&stamp).unwrap()).unwrap();
}

/// The committed corpus of a target (`fuzz/corpus/<target>/`).
pub fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(if env!("CARGO_MANIFEST_DIR").ends_with("fuzz") {
            "corpus"
        } else {
            "fuzz/corpus"
        })
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Writes a target's seed corpus from the template index (the store targets' seeds are the
/// template's own files).
pub fn store_seed(file: &str) -> Vec<u8> {
    let t = template();
    if file == HNSW_DATA {
        let mut v = vec![0u8];
        v.extend(std::fs::read(t.dir.join("graph/initiative/graph.hnsw.graph")).unwrap());
        return v;
    }
    std::fs::read(t.dir.join(file)).unwrap_or_default()
}
