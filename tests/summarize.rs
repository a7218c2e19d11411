//! Extractive summaries (issue 6): order, duplicates, length limits, provenance, determinism,
//! tiny inputs, boilerplate, and the seed reports with the real model.

mod support;
use support::seeds;

use simsum::embed::{Embedder, HashEmbedder};
use simsum::summarize::{
    embed_documents, lexical_similarity, summarize, word_count, Length, Scorer, SentenceUnit,
    SummaryParams,
};

fn units(texts: &[&str], doc: &str) -> Vec<SentenceUnit> {
    let e = HashEmbedder::new(256);
    let vs = e.embed(texts).unwrap();
    texts
        .iter()
        .zip(vs)
        .enumerate()
        .map(|(i, (t, v))| SentenceUnit {
            text: t.to_string(),
            initiative_id: format!("{doc}#s0.p{}", i / 2),
            doc_id: doc.to_string(),
            doc_title: format!("Title of {doc}"),
            position: i,
            vector: v.vector,
        })
        .collect()
}

const DOC: &[&str] = &[
    "The company trained local workers in construction skills across twenty countries.",
    "Vocational training helped local employees acquire skills before they were hired.",
    "The weather in spring was mild and pleasant for everyone.",
    "Thousands of local workers were trained at the training base in Angola.",
    "Environmental protection was part of every overseas project the company ran.",
    "The firms took steps to mitigate environmental damage and promote sustainable development.",
    "Ecological conservation and environmental risk assessment came before construction.",
    "A television channel broadcast Chinese shows to audiences in the Arab world.",
    "The company trained local workers in construction skills across twenty countries.",
    "Local engineers and mechanics received on-the-job training for the power grid project.",
];

fn params(length: Length) -> SummaryParams {
    SummaryParams {
        length,
        ..Default::default()
    }
}

#[test]
fn chosen_sentences_keep_source_order() {
    let u = units(DOC, "d");
    let s = summarize(&u, &params(Length::Sentences(4))).unwrap();
    assert!(s.sentences.len() >= 2);
    let positions: Vec<usize> = s.sentences.iter().map(|x| x.position).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
    for x in &s.sentences {
        assert_eq!(DOC[x.position], x.text);
    }
}

#[test]
fn no_sentence_is_chosen_twice_even_when_repeated_in_the_source() {
    let u = units(DOC, "d");
    let s = summarize(&u, &params(Length::Sentences(10))).unwrap();
    let mut texts: Vec<&str> = s.sentences.iter().map(|x| x.text.as_str()).collect();
    let n = texts.len();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), n);
}

#[test]
fn length_limits_are_respected() {
    let u = units(DOC, "d");
    for n in 0..6 {
        let s = summarize(&u, &params(Length::Sentences(n))).unwrap();
        assert!(s.sentences.len() <= n);
        if n > 0 {
            assert!(!s.sentences.is_empty());
        }
    }
    for w in [0, 5, 12, 25, 40, 200] {
        let s = summarize(&u, &params(Length::Words(w))).unwrap();
        assert!(s.word_count() <= w, "{} words > {w}", s.word_count());
        if w >= 25 {
            assert!(!s.sentences.is_empty());
        }
    }
    // Auto: 20% of a short input, at most 3.
    let s = summarize(&u, &params(Length::Auto)).unwrap();
    assert_eq!(s.sentences.len(), 2);
    let long: Vec<String> = (0..40)
        // Distinct lower-case words: numbers alone would make the sentences near-copies.
        .map(|i| {
            let tag: String = [b'a' + (i / 26) as u8, b'a' + (i % 26) as u8]
                .iter()
                .map(|&b| b as char)
                .collect();
            format!("Sentence {tag} talks about topic {} at length.", i % 7)
        })
        .collect();
    let refs: Vec<&str> = long.iter().map(String::as_str).collect();
    let s = summarize(&units(&refs, "l"), &params(Length::Auto)).unwrap();
    assert_eq!(s.sentences.len(), 3);
}

#[test]
fn ids_and_titles_come_from_the_input() {
    let mut u = units(&DOC[..5], "a");
    u.extend(units(&DOC[5..], "b"));
    let s = summarize(&u, &params(Length::Sentences(5))).unwrap();
    for x in &s.sentences {
        let src = u.iter().find(|v| v.text == x.text).unwrap();
        assert_eq!(x.initiative, src.initiative_id);
        assert_eq!(x.document, src.doc_title);
        assert!((0.0..=1.0).contains(&x.score));
    }
    // Documents in input order, then position.
    let keys: Vec<(String, usize)> = s
        .sentences
        .iter()
        .map(|x| (x.doc_id.clone(), x.position))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn summaries_are_deterministic() {
    let u = units(DOC, "d");
    let a = summarize(&u, &params(Length::Sentences(3))).unwrap();
    for _ in 0..3 {
        assert_eq!(summarize(&u, &params(Length::Sentences(3))).unwrap(), a);
    }
}

#[test]
fn tiny_inputs() {
    let s = summarize(&[], &SummaryParams::default()).unwrap();
    assert!(s.sentences.is_empty());
    let one = units(&["Just one sentence here about training."], "d");
    let s = summarize(&one, &SummaryParams::default()).unwrap();
    assert_eq!(s.sentences.len(), 1);
    assert_eq!(s.sentences[0].text, one[0].text);
    let short = units(&["Hi.", "Yes."], "d");
    assert_eq!(
        summarize(&short, &SummaryParams::default())
            .unwrap()
            .sentences
            .len(),
        1
    );
}

#[test]
fn mismatched_dimensions_are_an_error() {
    let mut u = units(&DOC[..3], "d");
    u[1].vector.pop();
    assert!(summarize(&u, &SummaryParams::default()).is_err());
}

#[test]
fn json_has_the_documented_shape() {
    let u = units(DOC, "d");
    let s = summarize(&u, &params(Length::Words(40))).unwrap();
    let v = serde_json::to_value(&s).unwrap();
    let items = v["summary"].as_array().unwrap();
    assert!(!items.is_empty());
    for it in items {
        let keys: Vec<&str> = it.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        for k in ["text", "initiative", "document", "score"] {
            assert!(it.get(k).is_some(), "missing {k}");
        }
    }
    assert_eq!(v["params"]["length"]["words"], 40);
    assert!(v["params"]["mmr_lambda"].is_number());
}

#[test]
fn boilerplate_never_reaches_a_summary() {
    let docs = seeds::seed_documents();
    let u = embed_documents(&docs, &HashEmbedder::new(256)).unwrap();
    assert!(!u.is_empty());
    assert!(u.iter().all(|x| !x.text.contains("Editor's Note")));
    let s = summarize(&u, &params(Length::Sentences(10))).unwrap();
    assert!(s
        .sentences
        .iter()
        .all(|x| !x.text.contains("Editor's Note")));
}

fn enterprises_summary(
    length: Length,
) -> (Vec<simsum::ingest::Document>, simsum::summarize::Summary) {
    let e = seeds::minilm();
    let docs: Vec<_> = seeds::seed_documents_for(&e)
        .into_iter()
        .filter(|d| d.title.contains("Enterprises"))
        .collect();
    assert_eq!(docs.len(), 1);
    let u = embed_documents(&docs, &e).unwrap();
    (docs, summarize(&u, &params(length)).unwrap())
}

#[test]
fn seed_enterprises_summary_covers_training_and_environment() {
    // Six sentences: a sentence that leans on the one before it comes with it, so the
    // environmental sentence ("In addition to ..., they have ...") takes two places.
    let (docs, s) = enterprises_summary(Length::Sentences(6));
    let text: String = s
        .sentences
        .iter()
        .map(|x| x.text.to_lowercase() + " ")
        .collect();
    eprintln!("{text}");
    assert!(
        text.contains("training") || text.contains("trained"),
        "{text}"
    );
    assert!(text.contains("environmental"), "{text}");
    // Nothing from the editor's note, which is boilerplate.
    let note: Vec<&str> = docs[0]
        .initiatives()
        .filter(|(_, i)| i.boilerplate)
        .flat_map(|(_, i)| i.sentences.iter().map(|s| s.text.as_str()))
        .collect();
    assert!(!note.is_empty());
    assert!(s.sentences.iter().all(|x| !note.contains(&x.text.as_str())));
    assert!(s.sentences.iter().all(|x| word_count(&x.text) >= 5));
}

#[test]
fn lexical_similarity_matches_stemmed_words_and_ignores_stop_words() {
    let texts = [
        "The company trained local workers.",
        "Training local workers is what the companies do.",
        "Rainfall was heavy in the mountains.",
        "Of the, and to it.",
    ];
    let m = lexical_similarity(&texts);
    let n = texts.len();
    assert_eq!(m.len(), n * n);
    for i in 0..n {
        assert_eq!(m[i * n + i], 1.0);
        for j in 0..n {
            assert!((m[i * n + j] - m[j * n + i]).abs() < 1e-6);
            assert!((-1e-6..=1.0 + 1e-6).contains(&m[i * n + j]));
        }
    }
    // "trained"/"training", "workers", "company"/"companies" share stems.
    assert!(m[1] > 0.5, "{}", m[1]);
    // Nothing in common but stop words.
    assert_eq!(m[2], 0.0);
    assert_eq!(m[n + 2], 0.0);
    // A sentence of stop words only overlaps with nothing.
    assert!((0..3).all(|j| m[3 * n + j] == 0.0));
}

#[test]
fn lexical_weight_is_used_and_kept_in_params() {
    let u = units(DOC, "d");
    let mut p = params(Length::Sentences(3));
    p.lexical_weight = 0.0;
    let embeddings_only = summarize(&u, &p).unwrap();
    p.lexical_weight = 1.0;
    let words_only = summarize(&u, &p).unwrap();
    assert_eq!(words_only.params.lexical_weight, 1.0);
    for s in [&embeddings_only, &words_only] {
        assert_eq!(s.sentences.len(), 3);
        assert!(s.sentences.iter().all(|x| DOC.contains(&x.text.as_str())));
    }
    // With words alone the weather and television sentences, which share no word with the
    // rest, are never central.
    assert!(words_only
        .sentences
        .iter()
        .all(|x| !x.text.contains("weather") && !x.text.contains("television")));
}

#[test]
fn an_opener_comes_with_its_predecessor_or_not_at_all() {
    // The most central sentence of this text opens with "For example": alone it would start
    // the summary mid-thought.
    let text = [
        "Rainfall in the valley was measured every morning.",
        "For example, local workers were trained in construction skills and vocational courses.",
        "Local workers received vocational training in construction skills at the base.",
        "Construction skills training for local workers continued through the year.",
        "The museum opened a new wing for ancient pottery.",
    ];
    let u = units(&text, "d");
    for n in 1..=4 {
        let s = summarize(&u, &params(Length::Sentences(n))).unwrap();
        assert!(s.sentences.len() <= n);
        assert!(
            seeds::dangling(&s.sentences).is_empty(),
            "{n}: {:?}",
            s.sentences
        );
        if let Some(k) = s
            .sentences
            .iter()
            .position(|x| x.text.starts_with("For example"))
        {
            assert_eq!(s.sentences[k - 1].text, text[0], "{n}");
        }
    }
    // One sentence allowed, and the only sentences that stand alone are short: the summary
    // still has a sentence, never an opener without its predecessor.
    let short = units(
        &[
            "Training began.",
            "For example, local workers were trained in construction skills and vocational courses.",
            "Moreover, local workers received vocational training in construction skills at the base.",
        ],
        "s",
    );
    let s = summarize(&short, &params(Length::Sentences(1))).unwrap();
    assert_eq!(s.sentences.len(), 1, "{:?}", s.sentences);
    assert!(
        seeds::dangling(&s.sentences).is_empty(),
        "{:?}",
        s.sentences
    );
    // A word budget counts both sentences of the pair.
    let s = summarize(&u, &params(Length::Words(14))).unwrap();
    assert!(s.word_count() <= 14 && seeds::dangling(&s.sentences).is_empty());
    // An opener at the start of a document has nothing to lean on and is never chosen.
    let lone = units(&["However, the training continued for local workers."], "x");
    assert!(summarize(&lone, &SummaryParams::default())
        .unwrap()
        .sentences
        .is_empty());
}

#[test]
fn near_copies_of_a_sentence_are_chosen_once() {
    let mut texts: Vec<String> = DOC.iter().map(|s| s.to_string()).collect();
    for city in ["Luanda", "Nairobi", "Lima"] {
        texts.push(format!(
            "Thousands of local workers were trained at the training base in {city}."
        ));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let u = units(&refs, "d");
    let s = summarize(&u, &params(Length::Sentences(10))).unwrap();
    let copies = s
        .sentences
        .iter()
        .filter(|x| x.text.starts_with("Thousands of local workers"))
        .count();
    assert_eq!(copies, 1, "{:?}", s.sentences);
}

/// The seeds indexed with the real model, for summaries of stored documents, themes and
/// query results.
fn seed_store(
    e: &simsum::embed::bert::BertEmbedder,
    dir: &std::path::Path,
) -> Box<dyn simsum::store::Store> {
    let docs = seeds::seed_documents_for(e);
    seeds::index_documents(&docs, &seeds::seed_dir(), e, dir)
}

#[test]
fn seed_summaries_never_start_mid_thought() {
    use simsum::store::Level;
    use simsum::summarize::units_from_items;
    let e = seeds::minilm();
    let tmp = tempfile::tempdir().unwrap();
    let store = seed_store(&e, tmp.path());
    let mut checked = 0;
    let mut check = |what: &str, s: &[simsum::summarize::SummarySentence]| {
        for x in s {
            eprintln!("{what}: {}", x.text);
        }
        assert!(!s.is_empty(), "{what}: empty summary");
        let d = seeds::dangling(s);
        assert!(d.is_empty(), "{what}: dangling {d:?}");
        checked += 1;
    };
    // Documents, freshly embedded and as stored, at several lengths.
    let docs = seeds::seed_documents_for(&e);
    for doc in &docs {
        let u = embed_documents(std::slice::from_ref(doc), &e).unwrap();
        let stored: Vec<_> = store
            .items(Level::Initiative)
            .unwrap()
            .into_iter()
            .filter(|i| i.doc_id == doc.id)
            .collect();
        let su = units_from_items(&stored);
        for length in [
            Length::Auto,
            Length::Sentences(3),
            Length::Sentences(5),
            Length::Words(80),
        ] {
            check(
                &doc.title,
                &summarize(&u, &params(length)).unwrap().sentences,
            );
            check(
                &doc.title,
                &summarize(&su, &params(length)).unwrap().sentences,
            );
        }
    }
    // Themes.
    let themes = simsum::cluster::indexed::cluster_index(
        store.as_ref(),
        Level::Initiative,
        &simsum::cluster::ClusterParams::default(),
        Some(&e),
    )
    .unwrap();
    assert!(themes.report.themes.len() >= 2);
    for t in &themes.report.themes {
        check(&t.title, t.summary.as_deref().unwrap());
    }
    // Query results, as `summarize --query` reads them.
    for q in [
        "vocational training for local workers",
        "environmental protection",
        "international standards and rules",
        "culture and exchanges between peoples",
        "fighting Covid-19 together",
    ] {
        let opts = simsum::search::SearchOptions {
            k: 10,
            ..Default::default()
        };
        let hits = simsum::search::search(store.as_ref(), &e, q, &opts).unwrap();
        let items: Vec<_> = hits.iter().map(|h| store.item(&h.id).unwrap()).collect();
        let s = summarize(&units_from_items(&items), &params(Length::Sentences(3))).unwrap();
        check(q, &s.sentences);
    }
    assert!(checked >= 20);
}

/// An encyclopaedia-like article: numbered sections, openers that lean on the sentence before.
const ARTICLE: &str = "Port cranes

1. Description

A port crane lifts shipping containers between ships and the quay. It runs on rails along the berth. Most port cranes are ship-to-shore gantry cranes with a boom over the water.

However, smaller ports use mobile harbour cranes on rubber tyres. These cranes move between berths as ships arrive.

2. History

The first container cranes were built in the 1950s for the new box trade. They replaced the ship's own derricks and sped up loading tenfold. By the 1970s every large port had gantry cranes along its container berths.

3. Operation

A crane driver sits in a cabin that travels with the trolley. Modern cranes lift two containers at once and some are driven remotely. Twin-lift spreaders and automation raised the number of moves per hour.
";

#[test]
fn a_75_word_summary_of_a_sectioned_article_keeps_its_budget_and_openers_context() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cranes.txt");
    std::fs::write(&path, ARTICLE).unwrap();
    let e = HashEmbedder::new(256);
    let docs = simsum::ingest::ingest_paths(
        std::slice::from_ref(&path),
        &simsum::ingest::IngestOptions {
            max_tokens: 256,
            ..Default::default()
        },
        &|t: &str| e.count_tokens(t),
    )
    .documents;
    assert_eq!(docs[0].sections.len(), 3, "three numbered sections");
    let u = embed_documents(&docs, &e).unwrap();
    for scorer in [Scorer::Learned, Scorer::Blend] {
        let p = SummaryParams {
            scorer,
            ..params(Length::Words(75))
        };
        let s = summarize(&u, &p).unwrap();
        assert!(s.word_count() <= 75, "{scorer:?}: {} words", s.word_count());
        assert!(s.sentences.len() >= 3, "{scorer:?}: {:?}", s.sentences);
        assert!(
            seeds::dangling(&s.sentences).is_empty(),
            "{scorer:?}: {:?}",
            s.sentences
        );
        assert_eq!(s.params.scorer, scorer);
    }
    // The command line: the same budget, the scorer by name, an unknown scorer refused.
    let bin = env!("CARGO_BIN_EXE_simsum");
    let out = std::process::Command::new(bin)
        .args([
            "--model",
            "hash:256",
            "summarize",
            "--words",
            "75",
            "--json",
        ])
        .arg(&path)
        .output()
        .unwrap();
    support::assert_success(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let words: usize = v["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| word_count(s["text"].as_str().unwrap()))
        .sum();
    assert!(words <= 75 && words > 30, "{words} words");
    assert_eq!(v["params"]["scorer"], "learned");
    let bad = std::process::Command::new(bin)
        .args(["--model", "hash:256", "summarize", "--scorer", "oracle"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn a_word_budget_over_chinese_counts_two_characters_a_word() {
    let text = [
        "北京企业在海外培训了大量当地技术工人。",
        "这些培训提高了当地员工的技能水平和就业能力。",
        "企业在海外项目中重视环境保护和可持续发展。",
        "文化交流活动促进了各国人民之间的相互了解。",
        "协会帮助会员企业开拓国际市场并参与国际标准制定。",
    ];
    let u = units(&text, "zh");
    let s = summarize(&u, &params(Length::Words(25))).unwrap();
    let chars: usize = s
        .sentences
        .iter()
        .map(|x| {
            x.text
                .chars()
                .filter(|c| !c.is_ascii_punctuation() && *c != '。')
                .count()
        })
        .sum();
    assert!(!s.sentences.is_empty());
    assert!(chars <= 50, "{chars} characters: {:?}", s.sentences);
    assert!(s.word_count() <= 25);
}
