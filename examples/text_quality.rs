//! Measures the three decisions of issue 20 on real text, each against the alternative in the
//! same run:
//!
//! 1. **Openers.** On news articles (Lee et al.'s 50 ABC articles, one per line, given as the
//!    first argument; `../shared/data/lee/lee-docs.txt` from the repository root on the project machine) and the seed
//!    reports: the share of summary sentences that open with a connective or pronoun
//!    ([`simsum::text::leans_on_previous`]) while the sentence before them is not in the summary,
//!    with the opener rule on and off (`SummaryParams::keep_openers_with_context`), at 3
//!    sentences and at the automatic length, with the real model.
//! 2. **Near-copy rule.** False merges (pairs grouped although the texts are different) among
//!    the articles' sentences, the whole articles and the seeds' paragraphs, and recall on the
//!    seeds' paragraphs with the city renamed six times, for: equal copy keys alone, cosine
//!    alone at 0.90 / 0.95 / 0.98, and keys plus cosine >= `COPY_COSINE` (the rule used).
//! 3. **Scale.** Grouping 100,000 synthetic items (`benches/support/synthetic.rs`, 5% of them
//!    renamed copies) against building an HNSW graph over the same vectors and searching it for
//!    every item's 15 neighbours (what indexing and clustering do), same run.
//!
//! Run: `cargo run --example text_quality -- LEE_DOCS [N]` (the dev profile is optimised).

use std::time::Instant;

use simsum::embed::Embedder;
use simsum::summarize::{summarize, Length, SentenceUnit, SummaryParams, SummarySentence};
use simsum::text::copies::{group, COPY_COSINE};

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

const CITIES: &[&str] = &[
    "Tianjin",
    "Chongqing",
    "Chengdu",
    "Wuhan",
    "Xi'an",
    "Nanjing",
];

fn dangling(summary: &[SummarySentence]) -> usize {
    summary
        .iter()
        .filter(|s| simsum::text::leans_on_previous(&s.text))
        .filter(|s| {
            !summary
                .iter()
                .any(|p| p.doc_id == s.doc_id && p.position + 1 == s.position)
        })
        .count()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    simsum::embed::normalize(&mut v);
    v
}

/// Units of one article: its sentences, split as simsum splits them.
fn article_units(id: usize, text: &str) -> Vec<SentenceUnit> {
    simsum::ingest::sentences::split_sentences(text)
        .into_iter()
        .enumerate()
        .map(|(k, (a, b))| SentenceUnit {
            text: text[a..b].trim().to_string(),
            initiative_id: format!("lee{id}#s0.p0"),
            doc_id: format!("lee{id}"),
            doc_title: format!("Article {id}"),
            position: k,
            vector: Vec::new(),
        })
        .filter(|u| !u.text.is_empty())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lee = args
        .get(1)
        .expect("usage: text_quality LEE_DOCS [N]  (lee-docs.txt: one article per line)");
    let n_scale: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    println!(
        "CPU: {} threads, kernel level {:?}",
        rayon::current_num_threads(),
        simsum::embed::kernels::level()
    );

    let e = {
        use simsum::model::{self, ResolveOptions, DEFAULT_MODEL};
        let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default()).unwrap();
        simsum::embed::bert::BertEmbedder::load(&files, Default::default()).unwrap()
    };

    // --- 1. Openers -------------------------------------------------------------------------
    let text = std::fs::read_to_string(lee).unwrap();
    let mut articles: Vec<Vec<SentenceUnit>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| article_units(i, l))
        .collect();
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let seed_docs = simsum::ingest::ingest_paths(
        &[seeds],
        &simsum::ingest::IngestOptions {
            max_tokens: e.max_tokens(),
            ..Default::default()
        },
        &|t: &str| e.count_tokens(t),
    )
    .documents;
    let started = Instant::now();
    for a in &mut articles {
        let texts: Vec<&str> = a.iter().map(|u| u.text.as_str()).collect();
        let vectors = e.embed(&texts).unwrap();
        for (u, v) in a.iter_mut().zip(vectors) {
            u.vector = v.vector;
        }
    }
    let mut seed_units: Vec<Vec<SentenceUnit>> = seed_docs
        .iter()
        .map(|d| simsum::summarize::embed_documents(std::slice::from_ref(d), &e).unwrap())
        .collect();
    println!(
        "embedded {} articles and {} seed documents in {:.1} s",
        articles.len(),
        seed_units.len(),
        started.elapsed().as_secs_f64()
    );
    let leaning: usize = articles
        .iter()
        .flatten()
        .filter(|u| simsum::text::leans_on_previous(&u.text))
        .count();
    let total: usize = articles.iter().map(Vec::len).sum();
    println!("openers among all article sentences: {leaning} of {total}");
    println!("\n| corpus | length | rule | sentences | dangling | share |");
    println!("| --- | --- | --- | ---: | ---: | ---: |");
    for (name, docs) in [("Lee articles", &mut articles), ("seeds", &mut seed_units)] {
        for (lname, length) in [
            ("3 sentences", Length::Sentences(3)),
            ("auto", Length::Auto),
        ] {
            for rule in [false, true] {
                let p = SummaryParams {
                    length,
                    keep_openers_with_context: rule,
                    ..Default::default()
                };
                let (mut n, mut d) = (0, 0);
                for a in docs.iter() {
                    let s = summarize(a, &p).unwrap().sentences;
                    n += s.len();
                    d += dangling(&s);
                }
                println!(
                    "| {name} | {lname} | {} | {n} | {d} | {:.1}% |",
                    if rule { "with context" } else { "off (before)" },
                    100.0 * d as f64 / n.max(1) as f64
                );
            }
        }
    }

    // --- 2. Near-copy rule ------------------------------------------------------------------
    // Different texts: article sentences, whole articles, seed paragraphs.
    let mut texts: Vec<String> = articles.iter().flatten().map(|u| u.text.clone()).collect();
    let mut vectors: Vec<Vec<f32>> = articles
        .iter()
        .flatten()
        .map(|u| normalised(u.vector.clone()))
        .collect();
    let whole: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    texts.extend(whole.iter().map(|s| s.to_string()));
    vectors.extend(
        e.embed(&whole)
            .unwrap()
            .into_iter()
            .map(|v| normalised(v.vector)),
    );
    let paragraphs: Vec<String> = seed_docs
        .iter()
        .flat_map(|d| {
            d.initiatives()
                .map(|(_, i)| i.text.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut distinct_paragraphs = paragraphs.clone();
    distinct_paragraphs.sort();
    distinct_paragraphs.dedup();
    let refs: Vec<&str> = distinct_paragraphs.iter().map(String::as_str).collect();
    texts.extend(distinct_paragraphs.iter().cloned());
    vectors.extend(
        e.embed(&refs)
            .unwrap()
            .into_iter()
            .map(|v| normalised(v.vector)),
    );
    let keys: Vec<Option<u64>> = texts.iter().map(|t| simsum::text::copy_key(t)).collect();
    let n = texts.len();
    // Renamed copies of the seed paragraphs that name the city.
    let named: Vec<&String> = distinct_paragraphs
        .iter()
        .filter(|p| p.contains("Beijing"))
        .collect();
    let mut copy_pairs: Vec<(Option<u64>, Option<u64>, f32)> = Vec::new();
    for city in CITIES {
        let renamed: Vec<String> = named.iter().map(|p| p.replace("Beijing", city)).collect();
        let rr: Vec<&str> = renamed.iter().map(String::as_str).collect();
        let rv = e.embed(&rr).unwrap();
        let ov = e
            .embed(&named.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .unwrap();
        for ((o, r), (ovec, rvec)) in named.iter().zip(&renamed).zip(ov.into_iter().zip(rv)) {
            let c = dot(&normalised(ovec.vector), &normalised(rvec.vector));
            copy_pairs.push((simsum::text::copy_key(o), simsum::text::copy_key(r), c));
        }
    }
    let min_copy_cos = copy_pairs.iter().map(|p| p.2).fold(1.0f32, f32::min);
    println!(
        "\nnear-copy rule: {n} different texts ({} article sentences, {} articles, {} seed paragraphs); {} renamed copies (min cosine to the original {min_copy_cos:.3})",
        total,
        whole.len(),
        distinct_paragraphs.len(),
        copy_pairs.len()
    );
    println!("\n| rule | false merges (pairs) | copies found |");
    println!("| --- | ---: | ---: |");
    // A sentence and the article it comes from are not two texts (a one-sentence article is
    // its sentence): those pairs are left out.
    let sentence_article: Vec<usize> = articles
        .iter()
        .enumerate()
        .flat_map(|(a, s)| std::iter::repeat_n(a, s.len()))
        .collect();
    let mut sims = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let same_article = i < total
                && j >= total
                && j < total + whole.len()
                && sentence_article[i] == j - total;
            if !same_article {
                sims.push((i, j, dot(&vectors[i], &vectors[j])));
            }
        }
    }
    let key_merges = sims
        .iter()
        .filter(|&&(i, j, _)| keys[i].is_some() && keys[i] == keys[j])
        .count();
    let key_found = copy_pairs
        .iter()
        .filter(|p| p.0.is_some() && p.0 == p.1)
        .count();
    println!(
        "| equal copy keys | {key_merges} | {key_found} of {} |",
        copy_pairs.len()
    );
    for t in [0.90f32, 0.95, 0.98] {
        let merges: Vec<&(usize, usize, f32)> = sims.iter().filter(|s| s.2 >= t).collect();
        let found = copy_pairs.iter().filter(|p| p.2 >= t).count();
        println!(
            "| cosine >= {t:.2} | {} | {found} of {} |",
            merges.len(),
            copy_pairs.len()
        );
        for m in merges.iter().take(3) {
            println!(
                "|   e.g. {:.3}: {:?} / {:?} | | |",
                m.2,
                &texts[m.0].chars().take(60).collect::<String>(),
                &texts[m.1].chars().take(60).collect::<String>()
            );
        }
    }
    for m in sims
        .iter()
        .filter(|&&(i, j, _)| keys[i].is_some() && keys[i] == keys[j])
        .take(3)
    {
        println!(
            "|   equal keys, e.g. {:.3}: {:?} / {:?} | | |",
            m.2,
            &texts[m.0].chars().take(60).collect::<String>(),
            &texts[m.1].chars().take(60).collect::<String>()
        );
    }
    for t in [0.6f32, COPY_COSINE, 0.8, 0.9] {
        let both = sims
            .iter()
            .filter(|&&(i, j, c)| keys[i].is_some() && keys[i] == keys[j] && c >= t)
            .count();
        let both_found = copy_pairs
            .iter()
            .filter(|p| p.0.is_some() && p.0 == p.1 && p.2 >= t)
            .count();
        println!(
            "| keys and cosine >= {t:.2}{} | {both} | {both_found} of {} |",
            if t == COPY_COSINE { " (used)" } else { "" },
            copy_pairs.len()
        );
    }

    // --- 3. Scale ---------------------------------------------------------------------------
    let (mut items, _) = synthetic::topic_items(n_scale, 200, 384, 7);
    // Every 20th item becomes a renamed copy of the item before it.
    for i in (1..items.len()).step_by(20) {
        let text = format!("{} Tianjin", items[i - 1].text);
        items[i].text = text;
        items[i - 1].text.push_str(" Beijing");
        items[i].vector = items[i - 1].vector.clone();
    }
    let vectors: Vec<Vec<f32>> = items.iter().map(|i| i.vector.clone()).collect();
    let t = Instant::now();
    let keys: Vec<Option<u64>> = items
        .iter()
        .map(|i| simsum::text::copy_key(&i.text))
        .collect();
    let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
    let groups = group(&keys, &refs);
    let grouping = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let graph = simsum::store::KnnGraph::from_hnsw(&vectors, 15, Default::default());
    let hnsw = t.elapsed().as_secs_f64();
    println!(
        "\nscale: {n_scale} items, {} groups ({} items folded); grouping {grouping:.3} s, HNSW build + 15-NN search {hnsw:.1} s ({} rows): grouping is {:.2}% of it",
        groups.len(),
        n_scale - groups.len(),
        graph.len(),
        100.0 * grouping / hnsw
    );
}
