//! Hybrid lexical + semantic search: the lexical index kept with the items through every
//! update, the three modes, `why` on every hit, aligned sentences in `similar` and `links`, and
//! query text that other engines would parse as syntax. The model-free `HashEmbedder` unless a
//! test says otherwise.

mod support;
use support::{json_output, seeds::seed_dir, simsum};

use std::path::Path;

use simsum::embed::{Embedder, HashEmbedder};
use simsum::search::{self, LinkOptions, SearchMode, SearchOptions};
use simsum::store::local::LocalStore;
use simsum::store::{ItemFilter, Level, Store};
use simsum::text::lexical::query_terms;

fn index(dir: &Path, files: &Path) {
    let out = simsum()
        .args(["--model", "hash:64", "--index"])
        .arg(dir)
        .arg("index")
        .arg(files)
        .output()
        .unwrap();
    support::assert_success(&out);
}

/// Documents (by id) of the items holding `word`, by BM25.
fn lexical_docs(dir: &Path, word: &str) -> Vec<String> {
    let store = LocalStore::open(dir).unwrap();
    let keys: Vec<u64> = store
        .lexical(
            Level::Initiative,
            &query_terms(word),
            10,
            &ItemFilter::default(),
        )
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut docs: Vec<String> = store
        .items_by_key(&keys)
        .unwrap()
        .into_iter()
        .map(|i| i.doc_id)
        .collect();
    docs.sort();
    docs.dedup();
    docs
}

#[test]
fn lexical_terms_follow_every_update() {
    let tmp = tempfile::tempdir().unwrap();
    let (files, idx) = (tmp.path().join("files"), tmp.path().join("idx"));
    std::fs::create_dir(&files).unwrap();
    let write = |name: &str, text: &str| std::fs::write(files.join(name), text).unwrap();
    write(
        "a.md",
        "# A\n\nThe Floriade exhibition opened in Almere.\n\nBuses run late.\n",
    );
    write("b.md", "# B\n\nSchool meals for every child.\n");
    index(&idx, &files);
    assert_eq!(lexical_docs(&idx, "Floriade"), ["a"]);
    assert_eq!(lexical_docs(&idx, "meal"), ["b"]);
    // The name moves to the other document.
    write(
        "a.md",
        "# A\n\nA garden exhibition opened in Almere.\n\nBuses run late.\n",
    );
    write(
        "b.md",
        "# B\n\nSchool meals for every child at the Floriade.\n",
    );
    index(&idx, &files);
    assert_eq!(lexical_docs(&idx, "Floriade"), ["b"]);
    // A deleted file takes its terms with it.
    std::fs::remove_file(files.join("b.md")).unwrap();
    index(&idx, &files);
    assert!(lexical_docs(&idx, "Floriade").is_empty());
    assert!(lexical_docs(&idx, "meals").is_empty());
    assert_eq!(lexical_docs(&idx, "Almere"), ["a"]);
    // The stored terms are exactly the items' (nothing left behind).
    let db = rusqlite::Connection::open(idx.join("index.sqlite")).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM item_terms"),
        count("SELECT count(*) FROM items")
    );
}

#[test]
fn an_index_without_stored_terms_is_searched_and_gets_them_back() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    index(&idx, &seed_dir());
    let with_terms = lexical_docs(&idx, "CANGO");
    assert!(!with_terms.is_empty());
    // An index from before the lexical index: no stored terms, no tokenizer version.
    let db = rusqlite::Connection::open(idx.join("index.sqlite")).unwrap();
    db.execute_batch("DELETE FROM item_terms; DELETE FROM meta WHERE key = 'lexical_tokenizer';")
        .unwrap();
    assert_eq!(
        lexical_docs(&idx, "CANGO"),
        with_terms,
        "readers tokenise what is missing"
    );
    index(&idx, &seed_dir());
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM item_terms"),
        count("SELECT count(*) FROM items"),
        "the next writer stores them again"
    );
    assert_eq!(lexical_docs(&idx, "CANGO"), with_terms);
}

fn seed_store(e: &dyn Embedder) -> (tempfile::TempDir, Box<dyn Store>) {
    let tmp = tempfile::tempdir().unwrap();
    let docs = support::seeds::seed_documents_for(e);
    let store = support::seeds::index_documents(&docs, &seed_dir(), e, tmp.path());
    (tmp, store)
}

#[test]
fn every_mode_explains_its_hits() {
    let e = HashEmbedder::new(64);
    let (_tmp, store) = seed_store(&e);
    for mode in SearchMode::ALL {
        let opts = SearchOptions {
            mode,
            ..Default::default()
        };
        let hits =
            search::search(store.as_ref(), &e, "CANGO and the WIPO observers", &opts).unwrap();
        assert!(!hits.is_empty(), "{mode}");
        for h in &hits {
            assert_eq!(h.why.dense.is_some(), mode != SearchMode::Lexical, "{mode}");
            assert_eq!(h.why.lexical.is_some(), mode != SearchMode::Dense, "{mode}");
            assert!(h.best_sentence.is_some(), "{mode}: {}", h.id);
            for t in &h.why.terms {
                let [s, e] = t.byte_range;
                assert_eq!(&h.text[s..e], t.text, "{mode}: {}", h.id);
            }
        }
        if mode != SearchMode::Dense {
            let top = &hits[0];
            let found: Vec<&str> = top.why.terms.iter().map(|t| t.text.as_str()).collect();
            assert!(
                found.contains(&"CANGO") || found.contains(&"WIPO"),
                "{mode}: the best hit contains a name asked for: {found:?} in {}",
                top.text
            );
            assert!(top.why.lexical.unwrap() > 0.0);
        }
        if mode == SearchMode::Lexical {
            let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
            assert_eq!(hits[0].score, hits[0].why.lexical.unwrap());
        }
    }
}

#[test]
fn hybrid_fuses_what_each_ranking_finds() {
    let e = HashEmbedder::new(64);
    let (_tmp, store) = seed_store(&e);
    let q = "CANGO members and training";
    let ids = |mode, k| -> Vec<String> {
        let opts = SearchOptions {
            mode,
            k,
            ..Default::default()
        };
        search::search(store.as_ref(), &e, q, &opts)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    let hybrid = ids(SearchMode::Hybrid, 5);
    let dense = ids(SearchMode::Dense, search::FUSION_DEPTH);
    let lexical = ids(SearchMode::Lexical, search::FUSION_DEPTH);
    assert_eq!(hybrid.len(), 5);
    for id in &hybrid {
        assert!(dense.contains(id) || lexical.contains(id), "{id}");
    }
    assert!(hybrid.contains(&lexical[0]), "{hybrid:?} {lexical:?}");
    assert!(hybrid.contains(&dense[0]), "{hybrid:?} {dense:?}");
}

#[test]
fn query_syntax_of_other_engines_is_plain_words() {
    let e = HashEmbedder::new(64);
    let (_tmp, store) = seed_store(&e);
    for q in [
        "\"school meals\"",
        "child*",
        "NEAR(training workers, 3)",
        "((training",
        "training)",
        "-training",
        "training AND OR NOT",
        "\"unbalanced",
        "col:value ^2 {x} [y]",
        "'; DROP TABLE items; --",
    ] {
        for mode in SearchMode::ALL {
            let opts = SearchOptions {
                mode,
                ..Default::default()
            };
            let hits = search::search(store.as_ref(), &e, q, &opts)
                .unwrap_or_else(|err| panic!("{q:?} ({mode}): {err}"));
            if mode == SearchMode::Lexical && q.contains("training") {
                assert!(!hits.is_empty(), "{q:?}: the words are searched");
            }
        }
    }
    for q in ["", "   ", "?!...", "\"\" () * -"] {
        let err = search::search(store.as_ref(), &e, q, &SearchOptions::default()).unwrap_err();
        assert!(
            matches!(err, search::SearchError::EmptyQuery(_)),
            "{q:?}: {err}"
        );
        assert!(err.to_string().contains("no words"), "{err}");
    }
}

#[test]
fn similar_and_links_pair_their_best_aligned_sentences() {
    let e = HashEmbedder::new(64);
    let (_tmp, store) = seed_store(&e);
    let item = store.items(Level::Initiative).unwrap()[0].clone();
    let (asked, hits) =
        search::similar(store.as_ref(), &item.id, &SearchOptions::default()).unwrap();
    assert!(!hits.is_empty());
    let mine: Vec<&str> = asked.sentences.iter().map(|s| s.text.as_str()).collect();
    for h in &hits {
        assert!(!h.why.aligned.is_empty(), "{}", h.id);
        assert!(h.why.lexical.is_none() && h.why.terms.is_empty());
        let theirs: Vec<String> = store
            .sentences_of(&store.item(&h.id).unwrap())
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect();
        let scores: Vec<f32> = h.why.aligned.iter().map(|a| a.score).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        for a in &h.why.aligned {
            assert!(mine.contains(&a.this.text.as_str()), "{}", a.this.text);
            assert!(theirs.contains(&a.that.text), "{}", a.that.text);
            assert!((-1.001..=1.001).contains(&a.score));
        }
    }
    let links = search::links(
        store.as_ref(),
        &LinkOptions {
            threshold: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!links.is_empty());
    for l in &links {
        assert!(!l.aligned.is_empty());
        for a in &l.aligned {
            assert!(l.a.text.contains(&a.this.text) || a.this.id.starts_with(&l.a.id));
            assert!(l.b.text.contains(&a.that.text) || a.that.id.starts_with(&l.b.id));
        }
    }
}

#[test]
fn the_cli_takes_a_mode_and_refuses_a_query_without_words() {
    let idx = support::seed_index(Some("hash:64"));
    for mode in ["hybrid", "dense", "lexical"] {
        let v = json_output(
            simsum()
                .args(["--model", "hash:64", "--index"])
                .arg(idx.path())
                .args(["search", "CANGO (NEAR \"WIPO*", "--json", "--mode", mode])
                .output()
                .unwrap(),
        );
        assert_eq!(v["mode"], mode);
        let hits = v["results"].as_array().unwrap();
        assert!(!hits.is_empty(), "{mode}");
        assert!(hits[0]["why"]["terms"].is_array(), "{mode}");
    }
    for args in [
        &["search", ""][..],
        &["search", "... ?!"],
        &["search", "--mode", "lexical", "  "],
        &["summarize", "--query", "()"],
    ] {
        let out = simsum()
            .args(["--model", "hash:64", "--index"])
            .arg(idx.path())
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("no words"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let out = simsum()
        .args(["--model", "hash:64", "--index"])
        .arg(idx.path())
        .args(["search", "x", "--mode", "fuzzy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hybrid, dense or lexical"));
}

#[test]
fn lexical_search_needs_no_model() {
    let idx = support::seed_index(Some("hash:64"));
    // A model that does not exist: lexical search never loads one.
    let v = json_output(
        simsum()
            .args(["--model", "/nonexistent/model", "--index"])
            .arg(idx.path())
            .args(["search", "CANGO", "--json", "--mode", "lexical"])
            .output()
            .unwrap(),
    );
    let top = &v["results"][0];
    assert!(top["text"].as_str().unwrap().contains("CANGO"), "{top}");
    assert!(top["why"]["dense"].is_null());
}
