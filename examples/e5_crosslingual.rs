//! Cross-lingual known-item search with simsum's multilingual-e5-small (issue 37, part 4):
//! with and without per-language centring, in one-language and mixed indexes.
//!
//! What: each en/zh pair of tests/data/parallel/gnu-zh_CN.jsonl is a known item: a Chinese text
//! embedded as a query must find its English version (a passage), and the reverse. MRR@10 by
//! exact cosine, zh->en in the English-only index and en->zh in the Chinese-only one, and both
//! in the mixed index (all passages of both languages; the query's own text, as a passage, is
//! left out of its ranking). Centring variants: none; the means simsum ships
//! (`src/embed/centres/`, made by examples/e5_centres.rs from the seed reports, the Chinese
//! test report and these pairs' texts, each language alone: in-sample here); the reports'
//! means alone (another domain); the means of the evaluated texts themselves (transductive, as
//! in the literature); and a split: means from the odd pairs' texts (each language alone, no
//! pairing), evaluated on the even pairs, with the reports added or not. benches/e5_crosslingual.py gives the package's own engine's figures.
//! Run: `cargo run --example e5_crosslingual` (prints JSON)

use simsum::embed::bert::{BertEmbedder, BertOptions};
use simsum::embed::{DType, Device, Embedder, InputKind};
use simsum::model::{self, ResolveOptions, E5_MODEL};

type V = Vec<f32>;

fn read_pairs() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/parallel/gnu-zh_CN.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["en"].as_str().unwrap().into(),
                v["zh"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn paragraphs(dir: &str, min: usize) -> Vec<String> {
    let dir = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .split("\n\n")
                .map(|p| p.trim().to_string())
                .filter(|p| p.chars().count() > min)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn mean(vs: &[&V]) -> V {
    let mut m = vec![0f32; vs[0].len()];
    for v in vs {
        m.iter_mut()
            .zip(v.iter())
            .for_each(|(a, b)| *a += b / vs.len() as f32);
    }
    m
}

fn centre(vs: &[V], mu: &V) -> Vec<V> {
    vs.iter()
        .map(|v| {
            let mut c: V = v.iter().zip(mu).map(|(a, b)| a - b).collect();
            simsum::embed::normalize(&mut c);
            c
        })
        .collect()
}

fn dot(a: &V, b: &V) -> f32 {
    simsum::embed::dot(a, b)
}

/// MRR@10 of queries[i] finding index[target(i)], index entries `skip(i)` left out.
fn mrr(
    q: &[V],
    index: &[&V],
    target: impl Fn(usize) -> usize,
    skip: impl Fn(usize) -> Option<usize>,
) -> f64 {
    let mut total = 0.0;
    for (i, qv) in q.iter().enumerate() {
        let t = target(i);
        let st = dot(qv, index[t]);
        let better = index
            .iter()
            .enumerate()
            .filter(|(j, v)| *j != t && Some(*j) != skip(i) && dot(qv, v) > st)
            .count();
        if better < 10 {
            total += 1.0 / (better as f64 + 1.0);
        }
    }
    total / q.len() as f64
}

struct Set {
    qen: Vec<V>,
    qzh: Vec<V>,
    pen: Vec<V>,
    pzh: Vec<V>,
}

fn figures(s: &Set) -> serde_json::Value {
    let n = s.pen.len();
    let en: Vec<&V> = s.pen.iter().collect();
    let zh: Vec<&V> = s.pzh.iter().collect();
    let mixed: Vec<&V> = s.pen.iter().chain(&s.pzh).collect();
    serde_json::json!({
        "zh_to_en_english_only": mrr(&s.qzh, &en, |i| i, |_| None),
        "en_to_zh_chinese_only": mrr(&s.qen, &zh, |i| i, |_| None),
        "zh_to_en_mixed": mrr(&s.qzh, &mixed, |i| i, |i| Some(n + i)),
        "en_to_zh_mixed": mrr(&s.qen, &mixed, |i| n + i, Some),
    })
}

/// The set centred with means (qen, qzh, pen, pzh).
fn centred(s: &Set, m: [&V; 4]) -> Set {
    Set {
        qen: centre(&s.qen, m[0]),
        qzh: centre(&s.qzh, m[1]),
        pen: centre(&s.pen, m[2]),
        pzh: centre(&s.pzh, m[3]),
    }
}

/// The set centred as simsum does by default (the shipped means).
fn shipped(s: &Set, en: &[String], zh: &[String]) -> Set {
    let c = simsum::embed::centring::LanguageCentres::for_model(E5_MODEL, 384)
        .expect("shipped centres");
    let apply = |vs: &[V], texts: &[String], kind: InputKind| -> Vec<V> {
        vs.iter()
            .zip(texts)
            .map(|(v, t)| {
                let mut v = v.clone();
                c.apply(t, kind, &mut v);
                v
            })
            .collect()
    };
    Set {
        qen: apply(&s.qen, en, InputKind::Query),
        qzh: apply(&s.qzh, zh, InputKind::Query),
        pen: apply(&s.pen, en, InputKind::Passage),
        pzh: apply(&s.pzh, zh, InputKind::Passage),
    }
}

fn main() {
    let files = model::resolve(E5_MODEL, &ResolveOptions::default()).unwrap();
    let e = BertEmbedder::load(
        &files,
        BertOptions {
            device: Device::Cpu,
            dtype: DType::Auto,
            centre_languages: false,
            ..Default::default()
        },
    )
    .unwrap();
    let emb = |t: &[String], k: InputKind| -> Vec<V> {
        let r: Vec<&str> = t.iter().map(String::as_str).collect();
        e.embed_as(&r, k)
            .unwrap()
            .into_iter()
            .map(|x| x.vector)
            .collect()
    };
    let pairs = read_pairs();
    let en: Vec<String> = pairs.iter().map(|p| p.0.clone()).collect();
    let zh: Vec<String> = pairs.iter().map(|p| p.1.clone()).collect();
    let all = Set {
        qen: emb(&en, InputKind::Query),
        qzh: emb(&zh, InputKind::Query),
        pen: emb(&en, InputKind::Passage),
        pzh: emb(&zh, InputKind::Passage),
    };
    let ren = paragraphs("seeds", 40);
    let rzh = paragraphs("tests/data/zh", 15);
    let r = [
        emb(&ren, InputKind::Query),
        emb(&rzh, InputKind::Query),
        emb(&ren, InputKind::Passage),
        emb(&rzh, InputKind::Passage),
    ];
    let rm: Vec<V> = r
        .iter()
        .map(|vs| mean(&vs.iter().collect::<Vec<_>>()))
        .collect();
    let own =
        [&all.qen, &all.qzh, &all.pen, &all.pzh].map(|vs| mean(&vs.iter().collect::<Vec<_>>()));
    // The split: even pairs evaluated, odd pairs' texts give the means.
    let pick = |vs: &Vec<V>, odd: bool| -> Vec<V> {
        vs.iter()
            .enumerate()
            .filter(|(i, _)| (i % 2 == 1) == odd)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let even = Set {
        qen: pick(&all.qen, false),
        qzh: pick(&all.qzh, false),
        pen: pick(&all.pen, false),
        pzh: pick(&all.pzh, false),
    };
    let odd_means = [&all.qen, &all.qzh, &all.pen, &all.pzh].map(|vs| {
        let o = pick(vs, true);
        mean(&o.iter().collect::<Vec<_>>())
    });
    let odd_and_ref = [0, 1, 2, 3].map(|k| {
        let o = pick([&all.qen, &all.qzh, &all.pen, &all.pzh][k], true);
        mean(&o.iter().chain(&r[k]).collect::<Vec<_>>())
    });
    let out = serde_json::json!({
        "engine": format!("simsum {} ({})", E5_MODEL, e.dtype()),
        "pairs": pairs.len(),
        "reference_texts": {"en": ren.len(), "zh": rzh.len()},
        "all_pairs": {
            "none": figures(&all),
            "centred_shipped_means": figures(&shipped(&all, &en, &zh)),
            "centred_report_means": figures(&centred(&all, [&rm[0], &rm[1], &rm[2], &rm[3]])),
            "centred_corpus_means": figures(&centred(&all, [&own[0], &own[1], &own[2], &own[3]])),
        },
        "even_pairs": {
            "none": figures(&even),
            "centred_report_means": figures(&centred(&even, [&rm[0], &rm[1], &rm[2], &rm[3]])),
            "centred_odd_pairs_means": figures(&centred(&even, [&odd_means[0], &odd_means[1], &odd_means[2], &odd_means[3]])),
            "centred_odd_pairs_and_report_means": figures(&centred(&even, [&odd_and_ref[0], &odd_and_ref[1], &odd_and_ref[2], &odd_and_ref[3]])),
        },
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
