//! Near-copies (issue 20): the two seed reports republished with the city renamed, generated
//! here into a temporary folder and indexed with the real model. One text is one result in
//! search, similar and links, one item in clustering and one sentence in a summary; the text the
//! copies share is not boilerplate, while the editor's note the two seeds share still is.

#[path = "support/seeds.rs"]
mod seeds;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use simsum::search::{links, search, similar, LinkOptions, SearchOptions};
use simsum::store::{Level, Store};

/// Copies of each seed, each with "Beijing" renamed.
const CITIES: &[&str] = &[
    "Tianjin",
    "Chongqing",
    "Chengdu",
    "Wuhan",
    "Xi'an",
    "Nanjing",
];

struct Corpus {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    docs: Vec<simsum::ingest::Document>,
    store: Box<dyn Store>,
    embedder: simsum::embed::bert::BertEmbedder,
}

/// Writes the seeds and their renamed copies into `dir`.
fn write_corpus(dir: &Path) {
    for entry in std::fs::read_dir(seeds::seed_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(dir.join(&name), &text).unwrap();
        for (n, city) in CITIES.iter().enumerate() {
            let copy = text.replace("Beijing", city);
            std::fs::write(dir.join(format!("copy{n}_{name}")), copy).unwrap();
        }
    }
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("reports");
        std::fs::create_dir(&dir).unwrap();
        write_corpus(&dir);
        let embedder = seeds::minilm();
        let opts = simsum::ingest::IngestOptions {
            max_tokens: simsum::embed::Embedder::max_tokens(&embedder),
            ..Default::default()
        };
        let count = |t: &str| simsum::embed::Embedder::count_tokens(&embedder, t);
        let report = simsum::ingest::ingest_paths(std::slice::from_ref(&dir), &opts, &count);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let docs = report.documents;
        assert_eq!(docs.len(), 2 * (CITIES.len() + 1));
        let store = seeds::index_documents(&docs, &dir, &embedder, &tmp.path().join("idx"));
        Corpus {
            _tmp: tmp,
            dir,
            docs,
            store,
            embedder,
        }
    })
}

fn key(text: &str) -> Option<u64> {
    simsum::text::copy_key(text)
}

/// No two of `texts` share a copy key (texts too short for a key are never copies).
fn assert_no_two_copies<'a>(texts: impl Iterator<Item = &'a str>) {
    let keyed: Vec<u64> = texts.filter_map(key).collect();
    let distinct: HashSet<u64> = keyed.iter().copied().collect();
    assert_eq!(distinct.len(), keyed.len(), "two results are copies");
}

#[test]
fn copies_are_counted_and_their_shared_text_is_not_boilerplate() {
    let c = corpus();
    let texts: Vec<Vec<&str>> = c
        .docs
        .iter()
        .map(|d| d.initiatives().map(|(_, i)| i.text.as_str()).collect())
        .collect();
    let families = simsum::text::document_families(&texts);
    assert_eq!(simsum::text::copies::copies_in(&families), 2 * CITIES.len());
    // The editor's note is shared by the two different reports: boilerplate, as before (in
    // the copies too, where both reports name the same new city). Paragraphs that never name
    // the city are the same in every copy of a report: not boilerplate.
    let note: HashSet<String> = seeds::seed_documents()
        .iter()
        .flat_map(|d| {
            d.initiatives()
                .filter(|(_, i)| i.boilerplate)
                .map(|(_, i)| i.text.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!note.is_empty());
    let (mut in_note, mut shared_body) = (0, 0);
    for d in &c.docs {
        for (_, i) in d.initiatives() {
            let original = CITIES
                .iter()
                .fold(i.text.clone(), |t, city| t.replace(city, "Beijing"));
            if note.contains(&original) {
                assert!(i.boilerplate, "{}: {}", i.id, i.text);
                in_note += 1;
            } else {
                assert!(!i.boilerplate, "{}: {}", i.id, i.text);
                shared_body += usize::from(original == i.text && !i.text.contains("Beijing"));
            }
        }
    }
    assert_eq!(in_note, note.len() * 2 * (CITIES.len() + 1));
    assert!(shared_body > 2 * CITIES.len());
    // `simsum index` says so.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_simsum"))
        .args(["--model", "hash:64", "--index"])
        .arg(c.dir.parent().unwrap().join("cli-idx"))
        .arg("index")
        .arg(&c.dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let want = format!(
        "{} of {} documents read are near-copies of another",
        2 * CITIES.len(),
        c.docs.len()
    );
    assert!(stdout.contains(&want), "{stdout}");
}

#[test]
fn search_returns_one_hit_per_copy_group() {
    let c = corpus();
    let opts = SearchOptions {
        k: 10,
        ..Default::default()
    };
    let hits = search(
        c.store.as_ref(),
        &c.embedder,
        "vocational training for local workers",
        &opts,
    )
    .unwrap();
    assert_eq!(hits.len(), 10);
    for h in &hits {
        eprintln!(
            "{:.3} {} {:?} copies {:?}: {}",
            h.score,
            h.id,
            key(&h.text),
            h.copies,
            &h.text[..h.text.len().min(80)]
        );
    }
    assert_no_two_copies(hits.iter().map(|h| h.text.as_str()));
    let top = &hits[0];
    eprintln!("{} {:?}", top.text, top.copies);
    assert!(top.text.contains("ocational training"), "{}", top.text);
    assert_eq!(top.copies.len(), CITIES.len(), "{:?}", top.copies);
    assert_eq!(top.copy_documents, CITIES.len());
    assert!(top.copies.iter().all(|id| !id.starts_with(&top.doc.id)));
    for h in &hits {
        assert!(h.copies.len() <= CITIES.len());
    }
    let json = serde_json::to_value(&hits).unwrap();
    assert_eq!(
        json[0]["copies"].as_array().unwrap().len(),
        CITIES.len(),
        "{json}"
    );
    assert_eq!(
        simsum::report::copies_note(top.copies.len(), top.copy_documents).unwrap(),
        format!("also in {} documents", CITIES.len())
    );
}

#[test]
fn similar_and_links_fold_copies() {
    let c = corpus();
    let item = c
        .store
        .items(Level::Initiative)
        .unwrap()
        .into_iter()
        .find(|i| i.text.contains("ocational training") && !i.boilerplate)
        .unwrap();
    let (_, hits) = similar(c.store.as_ref(), &item.id, &SearchOptions::default()).unwrap();
    assert_no_two_copies(hits.iter().map(|h| h.text.as_str()));
    // The item's own copies come back as one hit.
    assert_eq!(hits[0].copies.len() + 1, CITIES.len(), "{:?}", hits[0]);

    let pairs = links(c.store.as_ref(), &LinkOptions::default()).unwrap();
    assert!(!pairs.is_empty());
    for l in &pairs {
        assert_ne!(key(&l.a.text), key(&l.b.text), "a link between copies");
    }
    let ids: HashSet<(&str, &str)> = pairs
        .iter()
        .map(|l| (l.a.id.as_str(), l.b.id.as_str()))
        .collect();
    assert_eq!(ids.len(), pairs.len());
    assert!(pairs.iter().any(|l| l.a.copies.len() == CITIES.len()));
}

#[test]
fn themes_are_made_of_different_texts_and_count_their_copies() {
    let c = corpus();
    let themes = simsum::cluster::indexed::cluster_index(
        c.store.as_ref(),
        Level::Initiative,
        &simsum::cluster::ClusterParams::default(),
        Some(&c.embedder),
    )
    .unwrap();
    let r = &themes.report;
    let all = c.store.knn_items(Level::Initiative).unwrap();
    let text_of = |id: &str| all.iter().find(|i| i.id == id).unwrap().text.as_str();
    assert!(r.themes.len() >= 2, "{} themes", r.themes.len());
    assert!(r.params.copies > 0);
    let listed: usize = r.themes.iter().map(|t| t.size).sum::<usize>() + r.unclustered.len();
    assert_eq!(
        listed,
        all.len(),
        "every stored item is in a theme or unclustered"
    );
    for t in &r.themes {
        let distinct: HashSet<Option<u64>> = t.members.iter().map(|m| key(text_of(m))).collect();
        eprintln!(
            "#{} {} size {} distinct {}",
            t.id,
            t.title,
            t.size,
            distinct.len()
        );
        assert!(
            distinct.len() >= 2,
            "theme {} is copies of one paragraph",
            t.title
        );
        assert_eq!(t.size, t.members.len());
        let docs: usize = t.documents.iter().map(|d| d.items).sum();
        assert_eq!(docs, t.size);
        // Summaries never pick two copies, nor start mid-thought.
        let s = t.summary.as_deref().unwrap();
        assert_no_two_copies(s.iter().map(|x| x.text.as_str()));
        assert!(seeds::dangling(s).is_empty(), "{s:?}");
        // The title is supported by at least half of the members.
        let support = t
            .members
            .iter()
            .filter(|m| seeds::supports(&t.title, text_of(m)))
            .count();
        assert!(2 * support >= t.size, "{}: {support}/{}", t.title, t.size);
    }
    // A theme is as big as the text it holds: copies count.
    assert!(r.themes.iter().any(|t| t.size > t.member_indices.len()));
}
