//! Themes that stay put, measured (issue 38): a labelled corpus arrives in two batches (70%,
//! then the rest). The first batch is clustered; then everything is clustered three ways:
//!
//! - `fresh`: from scratch, as `simsum cluster --fresh` (ids 1..n, nothing carried on);
//! - `matched`: from scratch, then matched with the first report ([`lineage::carry_over`]);
//! - `carried`: starting from the first report's themes ([`cluster_from`]) and matched with it,
//!   as `simsum cluster` does when a report is saved.
//!
//! For each it prints V-measure against the labels (unclustered items count as one more class,
//! as in `benches/quality/cluster_eval.py`), the share of the first batch's clustered items
//! whose theme id is unchanged, and the share of first-batch themes that keep at least half
//! their members in one theme and kept their title. A second from-scratch run with another seed
//! shows how much V-measure moves by chance alone. Several random splits are averaged, then as
//! many splits where every item of one label arrives with the second batch (a new topic).
//!
//! Input: JSON Lines `{"id","text","label"}` (`benches/data/labelled.jsonl`, built by
//! `python3 benches/corpora/build.py --packages-only`). Labels come from the members alone
//! (no keyphrase embedding), in every run alike.
//!
//! Run: `cargo run --release --example themes_stability -- DATA.jsonl [MODEL] [SPLITS] [OUT.json]`
//! with MODEL `hash:384` (default; no model files) or a model name or directory.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use simsum::cluster::lineage::{carry_over, previous_assignment, Previous};
use simsum::cluster::{cluster, cluster_from, ClusterParams, ThemeItem, ThemeReport};
use simsum::embed::Embedder;
use simsum::store::KnnGraph;

/// Neighbours per item, as `simsum cluster` asks of an index.
const K: usize = 15;

struct Record {
    id: String,
    text: String,
    label: String,
}

fn read(path: &str) -> anyhow::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            let v: serde_json::Value =
                serde_json::from_str(l).with_context(|| format!("{path}:{}", n + 1))?;
            let field = |k: &str| {
                v[k].as_str()
                    .map(str::to_string)
                    .with_context(|| format!("{path}:{}: no string `{k}`", n + 1))
            };
            Ok(Record {
                id: field("id")?,
                text: field("text")?,
                label: field("label")?,
            })
        })
        .collect()
}

fn embedder(spec: &str) -> anyhow::Result<Box<dyn Embedder>> {
    use simsum::embed::bert::{BertEmbedder, BertOptions};
    use simsum::model::ModelRef;
    match spec.parse::<ModelRef>()? {
        ModelRef::Hash(dim) => Ok(Box::new(simsum::embed::HashEmbedder::new(dim))),
        ModelRef::Named(name) => {
            let files = simsum::model::resolve(&name, &Default::default())?;
            Ok(Box::new(BertEmbedder::load(
                &files,
                BertOptions::default(),
            )?))
        }
    }
}

/// A deterministic shuffle (SplitMix64).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed ^ 0x5DEE_CE66_D1CE_4E5B;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// V-measure of `pred` (theme id, or `None`: one more class) against `truth`.
fn v_measure(truth: &[&str], pred: &[Option<usize>]) -> f64 {
    let n = truth.len() as f64;
    let mut joint: HashMap<(&str, Option<usize>), f64> = HashMap::new();
    let mut classes: HashMap<&str, f64> = HashMap::new();
    let mut clusters: HashMap<Option<usize>, f64> = HashMap::new();
    for (t, p) in truth.iter().zip(pred) {
        *joint.entry((t, *p)).or_default() += 1.0;
        *classes.entry(t).or_default() += 1.0;
        *clusters.entry(*p).or_default() += 1.0;
    }
    let entropy =
        |counts: Vec<f64>| -> f64 { counts.iter().map(|&c| -(c / n) * (c / n).ln()).sum() };
    let h_c = entropy(classes.values().copied().collect());
    let h_k = entropy(clusters.values().copied().collect());
    let (mut h_c_k, mut h_k_c) = (0.0, 0.0);
    for (&(t, p), &c) in &joint {
        h_c_k -= (c / n) * (c / clusters[&p]).ln();
        h_k_c -= (c / n) * (c / classes[t]).ln();
    }
    let h = if h_c > 0.0 { 1.0 - h_c_k / h_c } else { 1.0 };
    let c = if h_k > 0.0 { 1.0 - h_k_c / h_k } else { 1.0 };
    if h + c > 0.0 {
        2.0 * h * c / (h + c)
    } else {
        0.0
    }
}

/// Each item id's theme id in `r`.
fn theme_of(r: &ThemeReport) -> HashMap<&str, usize> {
    r.themes
        .iter()
        .flat_map(|t| t.members.iter().map(move |m| (m.as_str(), t.id)))
        .collect()
}

/// What one way of clustering everything gave.
#[derive(Default, Clone, serde::Serialize)]
struct Outcome {
    v_measure: f64,
    themes: usize,
    unclustered: f64,
    /// Of the first batch's clustered items, the share whose theme id is unchanged.
    ids_kept: f64,
    /// Of the first batch's themes with half their members still together, the share whose
    /// theme there has the old title.
    titles_kept: f64,
    changes: HashMap<String, usize>,
    gone: usize,
    /// Modularity of the community partition.
    modularity: f64,
    seconds: f64,
}

fn outcome(
    r: &ThemeReport,
    first: &ThemeReport,
    ids: &[&str],
    truth: &[&str],
    seconds: f64,
) -> Outcome {
    let now = theme_of(r);
    let before = theme_of(first);
    let pred: Vec<Option<usize>> = ids.iter().map(|id| now.get(id).copied()).collect();
    let kept = before
        .iter()
        .filter(|(m, t)| now.get(*m) == Some(t))
        .count();
    let (mut eligible, mut titled) = (0usize, 0usize);
    for old in &first.themes {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for m in &old.members {
            if let Some(&t) = now.get(m.as_str()) {
                *counts.entry(t).or_default() += 1;
            }
        }
        let best = counts.into_iter().max_by_key(|&(t, c)| (c, usize::MAX - t));
        if let Some((t, _)) = best.filter(|&(_, c)| 2 * c >= old.members.len()) {
            eligible += 1;
            if r.themes.iter().any(|n| n.id == t && n.title == old.title) {
                titled += 1;
            }
        }
    }
    let mut changes = HashMap::new();
    for t in &r.themes {
        *changes.entry(t.change.as_str().to_string()).or_default() += 1;
    }
    Outcome {
        v_measure: v_measure(truth, &pred),
        themes: r.themes.len(),
        unclustered: r.unclustered.len() as f64 / ids.len() as f64,
        ids_kept: kept as f64 / before.len().max(1) as f64,
        titles_kept: titled as f64 / eligible.max(1) as f64,
        changes,
        gone: r.lineage.gone.len(),
        modularity: r.params.modularity,
        seconds,
    }
}

fn items_of(records: &[&Record], vectors: &[&Vec<f32>]) -> Vec<ThemeItem> {
    records
        .iter()
        .zip(vectors)
        .map(|(r, v)| ThemeItem {
            id: r.id.clone(),
            doc_id: r.id.clone(),
            doc_title: r.id.clone(),
            text: r.text.clone(),
            vector: v.to_vec(),
        })
        .collect()
}

/// The order items arrive in: shuffled; with `late`, the items of that label all come after
/// the cut (a topic that only arrives with the second batch).
fn arrival(records: &[Record], seed: u64, late: Option<&str>) -> Vec<usize> {
    let mut order = shuffled(records.len(), seed);
    if let Some(label) = late {
        order.sort_by_key(|&i| records[i].label == label);
    }
    order
}

/// One split: the first batch's report, then everything clustered each way.
fn split(
    records: &[Record],
    vectors: &[Vec<f32>],
    fraction: f64,
    seed: u64,
    late: Option<&str>,
) -> anyhow::Result<Vec<(&'static str, Outcome)>> {
    let order = arrival(records, seed, late);
    let cut = (records.len() as f64 * fraction).round() as usize;
    let recs: Vec<&Record> = order.iter().map(|&i| &records[i]).collect();
    let vecs: Vec<&Vec<f32>> = order.iter().map(|&i| &vectors[i]).collect();
    let params = ClusterParams::default();
    let graph = |items: &[ThemeItem]| {
        let v: Vec<Vec<f32>> = items.iter().map(|i| i.vector.clone()).collect();
        KnnGraph::brute_force(&v, K)
    };

    let first_items = items_of(&recs[..cut], &vecs[..cut]);
    let mut first = cluster(&first_items, &graph(&first_items), &params)?;
    carry_over(&mut first, None);
    let first_truth: Vec<&str> = recs[..cut].iter().map(|r| r.label.as_str()).collect();
    let first_ids: Vec<&str> = first_items.iter().map(|i| i.id.as_str()).collect();

    let all = items_of(&recs, &vecs);
    let knn = graph(&all);
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    let truth: Vec<&str> = recs.iter().map(|r| r.label.as_str()).collect();
    let previous = Previous {
        generation: 1,
        report: &first,
    };
    let mut out = vec![(
        "first batch",
        outcome(&first, &first, &first_ids, &first_truth, 0.0),
    )];
    let timed =
        |f: &dyn Fn() -> anyhow::Result<ThemeReport>| -> anyhow::Result<(ThemeReport, f64)> {
            let t = Instant::now();
            let r = f()?;
            Ok((r, t.elapsed().as_secs_f64()))
        };
    let (mut fresh, s) = timed(&|| Ok(cluster(&all, &knn, &params)?))?;
    carry_over(&mut fresh, None);
    out.push(("fresh", outcome(&fresh, &first, &ids, &truth, s)));
    let other_seed = ClusterParams {
        seed: 7,
        ..params.clone()
    };
    let (mut fresh7, s) = timed(&|| Ok(cluster(&all, &knn, &other_seed)?))?;
    carry_over(&mut fresh7, None);
    out.push(("fresh, seed 7", outcome(&fresh7, &first, &ids, &truth, s)));
    let (mut matched, s) = timed(&|| Ok(cluster(&all, &knn, &params)?))?;
    carry_over(&mut matched, Some(previous));
    out.push(("matched", outcome(&matched, &first, &ids, &truth, s)));
    let start = previous_assignment(&ids, &first);
    let (mut carried, s) = timed(&|| Ok(cluster_from(&all, &knn, &params, None, &start)?))?;
    carry_over(&mut carried, Some(previous));
    out.push(("carried", outcome(&carried, &first, &ids, &truth, s)));
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let data = args
        .get(1)
        .context("usage: themes_stability DATA.jsonl [MODEL] [SPLITS] [OUT.json]")?;
    let model = args.get(2).map_or("hash:384", String::as_str);
    let splits: u64 = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let records = read(data)?;
    anyhow::ensure!(records.len() >= 10, "{data}: too few records");
    let t = Instant::now();
    let e = embedder(model)?;
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let vectors: Vec<Vec<f32>> = texts
        .chunks(256)
        .map(|c| e.embed(c))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(|x| x.vector)
        .collect();
    eprintln!(
        "{} records embedded with {model} in {:.1} s",
        records.len(),
        t.elapsed().as_secs_f64()
    );
    let mut labels: Vec<&str> = records.iter().map(|r| r.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    // Random splits, then splits where one label arrives only with the second batch.
    let plan: Vec<(u64, Option<&str>)> = (0..splits)
        .map(|s| (s, None))
        .chain((0..splits).map(|s| (s, Some(labels[s as usize % labels.len()]))))
        .collect();
    let mut all: Vec<(String, &'static str, Outcome)> = Vec::new();
    println!("| split | run | V-measure | themes | unclustered | ids kept | titles kept | changes | gone | modularity |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    for (seed, late) in plan {
        let split_name = match late {
            Some(l) => format!("{seed}, {l} late"),
            None => seed.to_string(),
        };
        for (name, o) in split(&records, &vectors, 0.7, seed, late)? {
            let mut ch: Vec<String> = o.changes.iter().map(|(k, v)| format!("{v} {k}")).collect();
            ch.sort();
            println!(
                "| {split_name} | {name} | {:.4} | {} | {:.1}% | {:.1}% | {:.1}% | {} | {} | {:.4} |",
                o.v_measure,
                o.themes,
                100.0 * o.unclustered,
                100.0 * o.ids_kept,
                100.0 * o.titles_kept,
                ch.join(", "),
                o.gone,
                o.modularity
            );
            all.push((split_name.clone(), name, o));
        }
    }
    for (late, name) in [false, true]
        .into_iter()
        .flat_map(|late| ["fresh", "fresh, seed 7", "matched", "carried"].map(move |n| (late, n)))
    {
        let runs: Vec<&Outcome> = all
            .iter()
            .filter(|r| r.1 == name && r.0.ends_with("late") == late)
            .map(|r| &r.2)
            .collect();
        let mean = |f: &dyn Fn(&Outcome) -> f64| {
            runs.iter().map(|o| f(o)).sum::<f64>() / runs.len() as f64
        };
        println!(
            "| mean{} | {name} | {:.4} | {:.1} | {:.1}% | {:.1}% | {:.1}% | | | |",
            if late { ", one label late" } else { "" },
            mean(&|o| o.v_measure),
            mean(&|o| o.themes as f64),
            100.0 * mean(&|o| o.unclustered),
            100.0 * mean(&|o| o.ids_kept),
            100.0 * mean(&|o| o.titles_kept),
        );
    }
    if let Some(out) = args.get(4) {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|(seed, name, o)| serde_json::json!({"split": seed, "run": name, "result": o}))
            .collect();
        let doc = serde_json::json!({"data": data, "model": model, "items": records.len(),
            "fraction_first": 0.7, "rows": rows});
        std::fs::write(out, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("writing {out}"))?;
    }
    Ok(())
}
