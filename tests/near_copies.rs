//! Near-copies (issues 20 and 29): the two seed reports republished 20 times with the city
//! renamed ("Tianjin1" ... "Tianjin20"), generated here into a temporary folder and indexed with
//! the real model. One text is one result in search (at least 8 distinct initiatives in every
//! top 10, the rest listed in `copies`), similar and links, one item in clustering and one
//! sentence in a summary; the text the copies share is not boilerplate, while the editor's note
//! the two seeds share still is; two initiatives that share one sentence are not copies.

mod support;
use support::seeds;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use simsum::search::{links, search, similar, LinkOptions, SearchOptions};
use simsum::store::{Level, Store};

/// Renamed copies of each seed: "Beijing" becomes "Tianjin1" ... "Tianjin20" (issue 29), a
/// name with a numeric suffix, as when offices number their versions.
const COPIES: usize = 20;

/// The city of copy `n` (0-based).
fn city(n: usize) -> String {
    format!("Tianjin{}", n + 1)
}

/// `text` with every renamed city ("Tianjin" and its number) named "Beijing" again: the text of
/// the initiative it is a copy of.
fn original(text: &str) -> String {
    let mut parts = text.split("Tianjin");
    let mut out = parts.next().unwrap_or_default().to_string();
    for part in parts {
        out.push_str("Beijing");
        out.push_str(part.trim_start_matches(|c: char| c.is_ascii_digit()));
    }
    out
}

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
        for n in 0..COPIES {
            let copy = text.replace("Beijing", &city(n));
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
        assert_eq!(docs.len(), 2 * (COPIES + 1));
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
    assert_eq!(simsum::text::copies::copies_in(&families), 2 * COPIES);
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
            let original = original(&i.text);
            if note.contains(&original) {
                assert!(i.boilerplate, "{}: {}", i.id, i.text);
                in_note += 1;
            } else {
                assert!(!i.boilerplate, "{}: {}", i.id, i.text);
                shared_body += usize::from(original == i.text && !i.text.contains("Beijing"));
            }
        }
    }
    assert_eq!(in_note, note.len() * 2 * (COPIES + 1));
    assert!(shared_body > 2 * COPIES);
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
        2 * COPIES,
        c.docs.len()
    );
    assert!(stdout.contains(&want), "{stdout}");
}

/// Three questions the seeds answer, each from a different part of them.
const QUERIES: &[&str] = &[
    "vocational training for local workers",
    "traditional Chinese medicine and healthcare abroad",
    "international standards and rules drafted by associations",
];

/// Runs `query` for the top 10 and checks what every query must give: ten hits, no two of
/// them copies, and each hit's `copies` exactly the stored copies of its text (same initiative
/// once renamed back, each in another document). Returns the hits.
fn search_ten(c: &Corpus, query: &str) -> Vec<simsum::search::SearchHit> {
    let opts = SearchOptions {
        k: 10,
        ..Default::default()
    };
    let hits = search(c.store.as_ref(), &c.embedder, query, &opts).unwrap();
    for h in &hits {
        eprintln!(
            "{query:?} {:.3} {} copies {}: {}",
            h.score,
            h.id,
            h.copies.len(),
            &h.text[..h.text.len().min(70)]
        );
    }
    assert_eq!(hits.len(), 10, "{query}");
    assert_no_two_copies(hits.iter().map(|h| h.text.as_str()));
    for h in &hits {
        for id in &h.copies {
            let copy = c.store.item(id).unwrap();
            assert_eq!(original(&copy.text), original(&h.text), "{query}: {id}");
            assert_ne!(copy.doc_id, h.doc.id, "{query}: {id}");
        }
    }
    hits
}

#[test]
fn search_returns_eight_or_more_distinct_initiatives_of_ten_with_copies_listed() {
    let c = corpus();
    for query in QUERIES {
        let hits = search_ten(c, query);
        let distinct: HashSet<String> = hits.iter().map(|h| original(&h.text)).collect();
        assert!(
            distinct.len() >= 8,
            "{query}: {} distinct initiatives in the top 10",
            distinct.len()
        );
        // Every initiative is in the original and its 20 renamed copies: one hit, 20 copies.
        for h in &hits {
            assert_eq!(h.copies.len(), COPIES, "{query}: {}", h.text);
            assert_eq!(h.copy_documents, COPIES, "{query}: {}", h.text);
        }
    }
    let hits = search_ten(c, QUERIES[0]);
    assert!(
        hits[0].text.contains("ocational training"),
        "{}",
        hits[0].text
    );
    let json = serde_json::to_value(&hits).unwrap();
    assert_eq!(
        json[0]["copies"].as_array().unwrap().len(),
        COPIES,
        "{json}"
    );
    assert_eq!(
        simsum::report::copies_note(hits[0].copies.len(), hits[0].copy_documents).unwrap(),
        format!("also in {COPIES} documents")
    );
}

#[test]
fn initiatives_sharing_a_boilerplate_sentence_are_not_copies() {
    let c = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("notes");
    std::fs::create_dir(&dir).unwrap();
    let note = "This series looks at the work of associations and chambers of commerce in Beijing.";
    let bodies = [
        "The chamber trained local workers in welding and masonry at its centre in Angola.",
        "A university sent doctors to work in rural clinics and taught nurses in Kenya.",
    ];
    for (n, body) in bodies.iter().enumerate() {
        std::fs::write(dir.join(format!("r{n}.txt")), format!("{note} {body}\n")).unwrap();
    }
    let report = simsum::ingest::ingest_paths(
        std::slice::from_ref(&dir),
        &simsum::ingest::IngestOptions::default(),
        &|t: &str| simsum::embed::Embedder::count_tokens(&c.embedder, t),
    );
    assert_eq!(report.documents.len(), 2);
    let store = seeds::index_documents(&report.documents, &dir, &c.embedder, &tmp.path().join("i"));
    let opts = SearchOptions {
        k: 10,
        ..Default::default()
    };
    let hits = search(store.as_ref(), &c.embedder, note, &opts).unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    for h in &hits {
        assert!(h.copies.is_empty(), "{}: {:?}", h.text, h.copies);
    }
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
    assert_eq!(hits[0].copies.len() + 1, COPIES, "{:?}", hits[0]);

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
    assert!(pairs.iter().any(|l| l.a.copies.len() == COPIES));
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
