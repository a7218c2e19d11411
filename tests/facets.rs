//! Entities at ingest and the filters and facets over them: tags stored for every item and
//! recomputed only for changed ones, filters applied before the nearest-neighbour search (a
//! filter matching `m` items gives `min(k, m)` results), the seed reports' countries,
//! organisations and years found by `--country`, `--org` and `--year`, `simsum facets`, and
//! clear errors for unknown names. All with the model-free `hash:64` embedder.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use simsum::embed::{Embedder, HashEmbedder};
use simsum::facets::EntityFilter;
use simsum::ingest::Document;
use simsum::search::{DocFilter, SearchOptions};
use simsum::store::local::{LocalOptions, LocalWriter};
use simsum::store::{tags_of, Level, Store, StoreError, Tag, TagStore, Tagger, UpdateOptions};
use support::{json_output, simsum};

/// Texts tagged so far by [`counting_tags`] (one test uses it; others use the real tagger).
static TAGGED: AtomicUsize = AtomicUsize::new(0);

fn counting_tags(text: &str) -> Vec<Tag> {
    TAGGED.fetch_add(1, Ordering::SeqCst);
    simsum::entities::tags(text)
}

const COUNTING: Tagger = Tagger {
    version: simsum::entities::RULES_VERSION,
    tag: counting_tags,
};

/// A document at `dir/<id>.txt` dated 2023-01-30, one section per paragraph list.
fn doc(dir: &Path, id: &str, sections: &[(&str, Vec<String>)]) -> Document {
    let paras: Vec<Vec<&str>> = sections
        .iter()
        .map(|(_, p)| p.iter().map(String::as_str).collect())
        .collect();
    let sections: Vec<(&str, &[&str])> = sections
        .iter()
        .zip(&paras)
        .map(|((heading, _), p)| (*heading, p.as_slice()))
        .collect();
    support::doc(dir, id, Some("2023-01-30"), &sections)
}

fn paras(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn update(
    w: &mut LocalWriter,
    docs: &[Document],
    dir: &Path,
    tagger: Option<Tagger>,
) -> simsum::store::UpdateStats {
    let opts = UpdateOptions {
        scope: vec![dir.to_path_buf()],
        tagger,
        ..Default::default()
    };
    w.update(docs, &HashEmbedder::new(32), &opts, &|_, _| {})
        .unwrap()
}

fn values(store: &dyn Store, id: &str, kind: &str) -> Vec<String> {
    let item = store.item(id).unwrap();
    tags_of(store)
        .unwrap()
        .tags_of(&[item.key])
        .unwrap()
        .remove(&item.key)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.kind == kind)
        .map(|t| t.value)
        .collect()
}

#[test]
fn tags_are_stored_for_every_level_and_recomputed_only_for_changed_items() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, idx) = (tmp.path().join("src"), tmp.path().join("idx"));
    std::fs::create_dir_all(&src).unwrap();
    let e = HashEmbedder::new(32);
    let v1 = vec![doc(
        &src,
        "report",
        &[
            (
                "Training",
                paras(&[
                    "Workers were trained in Angola in 2021. The base grew.",
                    "Engineers from Japan visited.",
                ]),
            ),
            (
                "Culture",
                paras(&["The China Flower Association (CFA) built a garden. CFA won a prize."]),
            ),
        ],
    )];
    let mut w = LocalWriter::open(&idx, &e.model_id(), e.dim(), false).unwrap();
    TAGGED.store(0, Ordering::SeqCst);
    update(&mut w, &v1, &src, Some(COUNTING));
    let c = w.index().counts().unwrap();
    assert_eq!(
        TAGGED.load(Ordering::SeqCst),
        c.sections + c.initiatives + c.sentences,
        "every item of every level is tagged once"
    );
    let store = w.index();
    assert!(store.has_tags().unwrap());
    assert_eq!(values(store, "report#s0.p1", "country"), ["AO"]);
    assert_eq!(values(store, "report#s0.p1:1", "country"), ["AO"]);
    assert_eq!(values(store, "report#s0", "country"), ["AO", "JP"]);
    assert_eq!(values(store, "report#s0.p1", "year"), ["2021"]);
    assert_eq!(
        values(store, "report#s1.p1", "org-def"),
        ["CFA\tChina Flower Association"]
    );

    // Nothing changed: nothing is tagged again.
    TAGGED.store(0, Ordering::SeqCst);
    update(&mut w, &v1, &src, Some(COUNTING));
    assert_eq!(TAGGED.load(Ordering::SeqCst), 0);

    // One sentence changed: only that sentence, its initiative and its section are tagged.
    let v2 = vec![doc(
        &src,
        "report",
        &[
            (
                "Training",
                paras(&[
                    "Workers were trained in Kenya in 2021. The base grew.",
                    "Engineers from Japan visited.",
                ]),
            ),
            (
                "Culture",
                paras(&["The China Flower Association (CFA) built a garden. CFA won a prize."]),
            ),
        ],
    )];
    TAGGED.store(0, Ordering::SeqCst);
    update(&mut w, &v2, &src, Some(COUNTING));
    assert_eq!(TAGGED.load(Ordering::SeqCst), 3);
    let store = w.index();
    assert_eq!(values(store, "report#s0.p1", "country"), ["KE"]);
    assert_eq!(values(store, "report#s0", "country"), ["JP", "KE"]);
    assert_eq!(values(store, "report#s0.p2", "country"), ["JP"]);
    // The replaced item's old tags went with it.
    let ao = store
        .tagged(Level::Initiative, "country", &["AO".into()])
        .unwrap();
    assert!(ao.is_empty(), "{ao:?}");
}

#[test]
fn a_store_without_tags_says_so_and_is_tagged_by_its_next_update_without_embedding() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, idx) = (tmp.path().join("src"), tmp.path().join("idx"));
    std::fs::create_dir_all(&src).unwrap();
    let e = HashEmbedder::new(32);
    let docs = vec![doc(
        &src,
        "a",
        &[("One", paras(&["Schools opened in Kenya."]))],
    )];
    let mut w = LocalWriter::open(&idx, &e.model_id(), e.dim(), false).unwrap();
    update(&mut w, &docs, &src, None);
    assert!(!w.index().has_tags().unwrap());
    let err = w
        .index()
        .tagged(Level::Initiative, "country", &["KE".into()])
        .unwrap_err();
    assert!(matches!(err, StoreError::NoTags { .. }), "{err}");
    assert!(err.to_string().contains("simsum index"), "{err}");
    let opts = SearchOptions {
        docs: DocFilter {
            entities: EntityFilter {
                countries: vec!["KE".into()],
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let e2 = HashEmbedder::new(32);
    let searched = simsum::search::search(w.index(), &e2, "schools", &opts);
    assert!(searched
        .unwrap_err()
        .to_string()
        .contains("keeps no entities"));

    let stats = update(&mut w, &docs, &src, Some(simsum::entities::TAGGER));
    assert_eq!(stats.embedded, 0, "tagging needs no model");
    assert!(w.index().has_tags().unwrap());
    let hits = simsum::search::search(w.index(), &e2, "schools", &opts).unwrap();
    assert_eq!(hits.len(), 1);
    let entities = hits[0].entities.as_ref().unwrap();
    assert_eq!(entities.countries[0].code, "KE");
    assert_eq!(entities.countries[0].name, "Kenya");
}

/// 60 paragraphs, 3 of them about Kenya, searched through an HNSW graph (exact threshold 10).
/// Paragraphs 24 apart share their words (near-copies, folded into one hit); the Kenyan ones
/// are not 24 apart.
#[test]
fn a_filter_matching_few_items_gives_min_k_m_results_through_the_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, idx) = (tmp.path().join("src"), tmp.path().join("idx"));
    std::fs::create_dir_all(&src).unwrap();
    let e = HashEmbedder::new(32);
    // Distinct words in every paragraph: near-copies would be folded into one hit.
    let bank = [
        "meals", "school", "children", "garden", "water", "roads", "solar", "teachers", "books",
        "bridges", "farms", "markets", "rail", "clinics", "youth", "sport", "music", "film",
        "forests", "ports", "wind", "fish", "cotton", "rice",
    ];
    let texts: Vec<String> = (0..60)
        .map(|i| {
            let w = |m: usize, a: usize| bank[(i * m + a) % bank.len()];
            let (a, b, c) = (w(1, 0), w(7, 3), w(13, 5));
            match i {
                7 | 20 | 45 => format!("Nurses {a} {b} opened a ward in Kenya for {c} mothers."),
                _ => format!("The {a} programme {b} {c} fed children every day, item {i}."),
            }
        })
        .collect();
    let docs = vec![doc(&src, "big", &[("All", texts)])];
    let opts = LocalOptions {
        exact_threshold: Some(10),
        ..Default::default()
    };
    let mut w = LocalWriter::open_with(&idx, &e.model_id(), e.dim(), false, opts).unwrap();
    update(&mut w, &docs, &src, Some(simsum::entities::TAGGER));
    let store = w.into_index();
    assert!(store.uses_graph(Level::Initiative).unwrap());
    let search = |k: usize, countries: &[&str]| {
        let opts = SearchOptions {
            k,
            docs: DocFilter {
                entities: EntityFilter {
                    countries: countries.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        };
        simsum::search::search(&store, &e, "school meals for children", &opts).unwrap()
    };
    // The query is about school meals; the Kenyan clinics are far from it, yet all are found.
    let hits = search(10, &["KE"]);
    let ids: BTreeSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["big#s0.p8", "big#s0.p21", "big#s0.p46"])
    );
    assert_eq!(search(2, &["KE"]).len(), 2);
    assert_eq!(search(10, &[]).len(), 10);
    assert!(search(10, &["AO"]).is_empty(), "a country no item mentions");
}

// ---- the seeds, through the binary ----

fn seed_index() -> tempfile::TempDir {
    support::seed_index(Some("hash:64"))
}

fn run(index: &Path, args: &[&str]) -> std::process::Output {
    simsum()
        .args(["--model", "hash:64", "--index"])
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}

/// Words of a text (split at anything but letters and digits).
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The non-boilerplate initiatives whose text has one of `needles` as a word or phrase.
fn mentioning(index: &Path, needles: &[&str]) -> BTreeSet<String> {
    let store =
        simsum::store::open(&simsum::store::StoreUrl::Dir(index.to_path_buf()), None).unwrap();
    store
        .items(Level::Initiative)
        .unwrap()
        .into_iter()
        .filter(|i| !i.boilerplate)
        .filter(|i| {
            let w = words(&i.text).join(" ");
            needles.iter().any(|n| {
                let n = words(n).join(" ");
                format!(" {w} ").contains(&format!(" {n} "))
            })
        })
        .map(|i| i.id)
        .collect()
}

fn result_ids(v: &Value) -> BTreeSet<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn seed_filters_return_exactly_the_initiatives_that_mention_them() {
    let idx = seed_index();
    let cases: &[(&[&str], &[&str])] = &[
        (&["--country", "Kenya"], &["Kenya", "Kenyan", "Nairobi"]),
        (&["--country", "AO"], &["Angola"]),
        (&["--country", "Moroccan"], &["Moroccan", "Morocco"]),
        (
            &["--country", "UK"],
            &["UK", "United Kingdom", "Britain", "Manchester"],
        ),
        (&["--country", "Netherlands"], &["Netherlands"]),
        (&["--country", "thailand"], &["Thailand"]),
        (&["--country", "JPN"], &["Japan"]),
        (
            &["--org", "CANGO"],
            &["CANGO", "China Association for NGO Cooperation"],
        ),
        // The long name also opens "... Group International (BCEGI)": only the acronym is a
        // safe needle here.
        (&["--org", "BCEG"], &["BCEG"]),
        (&["--year", "2021"], &["2021", "from 2020 to 2022"]),
        (
            &["--country", "KE", "--country", "AO"],
            &["Kenya", "Kenyan", "Nairobi", "Angola"],
        ),
    ];
    for (filter, needles) in cases {
        let mut args = vec!["search", "cooperation and training", "-k", "100", "--json"];
        args.extend_from_slice(filter);
        let got = result_ids(&json_output(run(idx.path(), &args)));
        let want = mentioning(idx.path(), needles);
        assert!(!want.is_empty(), "{filter:?}: the seeds mention it");
        assert_eq!(got, want, "{filter:?}");
    }
    // "BCEGI" is not "BCEG": the initiative about BCEGI's UK branch is not BCEG's.
    let bcegi = result_ids(&json_output(run(
        idx.path(),
        &[
            "search", "branches", "-k", "100", "--json", "--org", "BCEGI",
        ],
    )));
    let bceg = mentioning(idx.path(), &["BCEG"]);
    assert!(
        !bcegi.is_empty() && bcegi.is_disjoint(&bceg),
        "{bcegi:?} {bceg:?}"
    );
    // Filters combine: Kenya and 2021 (no initiative mentions both) is empty, not an error.
    let both = json_output(run(
        idx.path(),
        &["search", "x", "--json", "--country", "KE", "--year", "2021"],
    ));
    let want: BTreeSet<String> = mentioning(idx.path(), &["Kenya", "Kenyan", "Nairobi"])
        .intersection(&mentioning(idx.path(), &["2021", "from 2020 to 2022"]))
        .cloned()
        .collect();
    assert_eq!(result_ids(&both), want);
    // And with --doc.
    let doc_and_year = json_output(run(
        idx.path(),
        &[
            "search", "x", "-k", "100", "--json", "--year", "2021", "--doc", "002*",
        ],
    ));
    assert!(result_ids(&doc_and_year)
        .iter()
        .all(|id| id.starts_with("002")));
    assert!(!result_ids(&doc_and_year).is_empty());
}

#[test]
fn k_smaller_than_the_matches_gives_k_results_and_hits_carry_their_entities() {
    let idx = seed_index();
    let year = mentioning(idx.path(), &["2021", "from 2020 to 2022"]);
    assert!(year.len() >= 3, "{year:?}");
    let v = json_output(run(
        idx.path(),
        &["search", "x", "-k", "2", "--json", "--year", "2021"],
    ));
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    for h in v["results"].as_array().unwrap() {
        let years = h["entities"]["years"].as_array().unwrap();
        assert!(years.contains(&Value::from(2021)), "{h}");
    }
    // Every hit carries its entities, filtered or not.
    let all = json_output(run(idx.path(), &["search", "Kenya", "-k", "50", "--json"]));
    let kenyan = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["text"].as_str().unwrap().contains("Nairobi"))
        .expect("the Nairobi initiative");
    let codes: Vec<&str> = kenyan["entities"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"KE") && codes.contains(&"IN") && codes.contains(&"PH"),
        "{codes:?}"
    );
    let orgs: Vec<&str> = kenyan["entities"]["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["acronym"].as_str().unwrap())
        .collect();
    assert!(
        orgs.contains(&"BCEG") && orgs.contains(&"SIFANG"),
        "{orgs:?}"
    );
}

#[test]
fn similar_links_and_summarize_take_the_same_filters() {
    let idx = seed_index();
    let kenya = mentioning(idx.path(), &["Kenya", "Kenyan", "Nairobi"]);
    // An item about something else, so that Kenya's items are all candidates.
    let any = json_output(run(
        idx.path(),
        &["search", "training", "-k", "50", "--json"],
    ));
    let id = any["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .find(|id| !kenya.contains(id))
        .unwrap();
    let sim = json_output(run(
        idx.path(),
        &["similar", &id, "-k", "50", "--json", "--country", "KE"],
    ));
    let got = result_ids(&sim);
    assert!(
        got.is_subset(&kenya) && !got.is_empty(),
        "{got:?} {kenya:?}"
    );
    let links = json_output(run(
        idx.path(),
        &["links", "--threshold=-1", "--json", "--year", "2021"],
    ));
    let year = mentioning(idx.path(), &["2021", "from 2020 to 2022"]);
    for l in links["links"].as_array().unwrap() {
        for side in ["a", "b"] {
            assert!(year.contains(l[side]["id"].as_str().unwrap()), "{l}");
            assert!(l[side]["entities"]["years"].as_array().is_some());
        }
    }
    let sum = json_output(run(
        idx.path(),
        &[
            "summarize",
            "--query",
            "training",
            "--json",
            "--country",
            "Angola",
        ],
    ));
    let angola = mentioning(idx.path(), &["Angola"]);
    for s in sum["summary"].as_array().unwrap() {
        assert!(angola.contains(s["initiative"].as_str().unwrap()), "{s}");
    }
}

#[test]
fn unknown_countries_and_organisations_are_usage_errors_naming_them() {
    let idx = seed_index();
    let out = run(idx.path(), &["search", "x", "--country", "Keyna"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Keyna") && err.contains("Kenya"), "{err}");
    let out = run(idx.path(), &["search", "x", "--org", "BCGE"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BCGE") && err.contains("BCEG"), "{err}");
    let out = run(idx.path(), &["search", "x", "--year", "21"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`21`"));
}

#[test]
fn facets_count_items_and_documents_most_frequent_first() {
    let idx = seed_index();
    let v = json_output(run(idx.path(), &["facets", "--json"]));
    let countries = v["countries"].as_array().unwrap();
    let find = |list: &Value, key: &str, value: Value| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|x| x[key] == value)
            .cloned()
            .unwrap_or_else(|| panic!("no {value} in {list}"))
    };
    let ke = find(&v["countries"], "code", "KE".into());
    assert_eq!(ke["name"], "Kenya");
    assert_eq!(
        ke["items"],
        mentioning(idx.path(), &["Kenya", "Kenyan", "Nairobi"]).len()
    );
    assert_eq!(ke["documents"], 1);
    let items: Vec<u64> = countries
        .iter()
        .map(|c| c["items"].as_u64().unwrap())
        .collect();
    assert!(items.windows(2).all(|w| w[0] >= w[1]), "{items:?}");
    let cango = find(&v["organisations"], "acronym", "CANGO".into());
    assert_eq!(cango["name"], "China Association for NGO Cooperation");
    assert_eq!(cango["items"], mentioning(idx.path(), &["CANGO"]).len());
    let y = find(&v["years"], "year", 2021.into());
    assert_eq!(y["documents"], 2);
    let only = json_output(run(idx.path(), &["facets", "--kind", "year", "--json"]));
    assert!(only["countries"].as_array().unwrap().is_empty());
    assert!(!only["years"].as_array().unwrap().is_empty());
    let text = run(idx.path(), &["facets"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Kenya") && text.contains("CANGO") && text.contains("2021"),
        "{text}"
    );
}

#[test]
fn cluster_over_periods_counts_each_themes_members_and_filters_apply() {
    let idx = seed_index();
    let v = json_output(run(
        idx.path(),
        &["cluster", "--no-model", "--json", "--over", "document"],
    ));
    let themes = v["themes"].as_array().unwrap();
    assert!(!themes.is_empty());
    for t in themes {
        let over = t["over"].as_array().unwrap();
        let periods: Vec<&str> = over.iter().map(|p| p["period"].as_str().unwrap()).collect();
        assert_eq!(periods.len(), 2, "both documents on one axis: {periods:?}");
        let sum: u64 = over.iter().map(|p| p["items"].as_u64().unwrap()).sum();
        assert_eq!(sum, t["size"].as_u64().unwrap(), "{t}");
    }
    let by_year = json_output(run(
        idx.path(),
        &["cluster", "--no-model", "--json", "--over", "year"],
    ));
    for t in by_year["themes"].as_array().unwrap() {
        assert_eq!(t["over"][0]["period"], "2023");
        assert_eq!(t["over"][0]["items"], t["size"]);
    }
    let html = run(
        idx.path(),
        &[
            "cluster",
            "--no-model",
            "--format",
            "html",
            "--over",
            "month",
        ],
    );
    assert!(String::from_utf8_lossy(&html.stdout).contains("class=\"over\""));
    let md = run(
        idx.path(),
        &["cluster", "--no-model", "--format", "md", "--over", "month"],
    );
    assert!(String::from_utf8_lossy(&md.stdout).contains("**Over time**"));
    let bad = run(idx.path(), &["cluster", "--over", "week"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("week"));

    let year = mentioning(idx.path(), &["2021", "from 2020 to 2022"]);
    let filtered = json_output(run(
        idx.path(),
        &[
            "cluster",
            "--no-model",
            "--json",
            "--year",
            "2021",
            "--min-size",
            "2",
        ],
    ));
    let mut seen = 0;
    for t in filtered["themes"].as_array().unwrap() {
        for m in t["members"].as_array().unwrap() {
            assert!(year.contains(m.as_str().unwrap()), "{m}");
            seen += 1;
        }
    }
    for u in filtered["unclustered"].as_array().unwrap() {
        assert!(year.contains(u.as_str().unwrap()), "{u}");
        seen += 1;
    }
    assert_eq!(seen, year.len());
}

#[test]
fn compare_sorts_initiatives_into_shared_new_and_gone_with_counterparts() {
    let idx = seed_index();
    let doc_ids: Vec<String> = {
        let store = simsum::store::open(
            &simsum::store::StoreUrl::Dir(idx.path().to_path_buf()),
            None,
        )
        .unwrap();
        store
            .documents()
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect()
    };
    assert_eq!(doc_ids.len(), 2);
    let (a, b) = (&doc_ids[0], &doc_ids[1]);
    let v = json_output(run(
        idx.path(),
        &["compare", a, b, "--threshold", "0.5", "--json"],
    ));
    assert_eq!(v["a_documents"], serde_json::json!([a]));
    for c in v["new"].as_array().unwrap() {
        assert!(c["item"]["doc"]["id"] == b.as_str(), "{c}");
        assert!(c["counterpart"]["doc"]["id"] == a.as_str(), "{c}");
        assert!(c["score"].as_f64().unwrap() < 0.5);
    }
    for c in v["gone"].as_array().unwrap() {
        assert!(c["item"]["doc"]["id"] == a.as_str(), "{c}");
        assert!(c["score"].as_f64().unwrap() < 0.5);
    }
    for c in v["shared"].as_array().unwrap() {
        assert!(c["item"]["doc"]["id"] == a.as_str(), "{c}");
        assert!(c["score"].as_f64().unwrap() >= 0.5);
    }
    let n_a = v["shared"].as_array().unwrap().len() + v["gone"].as_array().unwrap().len();
    let store = simsum::store::open(
        &simsum::store::StoreUrl::Dir(idx.path().to_path_buf()),
        None,
    )
    .unwrap();
    let items_a = store
        .items(Level::Initiative)
        .unwrap()
        .into_iter()
        .filter(|i| &i.doc_id == a && !i.boilerplate)
        .count();
    assert_eq!(n_a, items_a, "every initiative of A is shared or gone");
    // Everything is shared at threshold -1; date ranges name the same two sides.
    let all = json_output(run(
        idx.path(),
        &["compare", a, b, "--threshold=-1", "--json"],
    ));
    assert!(
        all["new"].as_array().unwrap().is_empty() && all["gone"].as_array().unwrap().is_empty()
    );
    let by_date = json_output(run(
        idx.path(),
        &[
            "compare",
            "..2023-01-29",
            "2023-01-30..",
            "--threshold",
            "0.5",
            "--json",
        ],
    ));
    assert_eq!(by_date["new"], v["new"]);
    assert_eq!(by_date["a_documents"], v["a_documents"]);
    let themes: u64 = ["themes_shared", "themes_new", "themes_gone"]
        .iter()
        .flat_map(|k| v[*k].as_array().unwrap().iter())
        .map(|t| t["a"].as_u64().unwrap())
        .sum();
    assert!(themes as usize <= items_a);
    let bad = run(idx.path(), &["compare", "2023-13..", b]);
    assert_eq!(bad.status.code(), Some(2));
}
