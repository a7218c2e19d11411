//! Themes that stay put (issue 38), with the real binary: index a first batch of documents,
//! cluster, add documents (three old topics and a new one), cluster again. The themes that carry
//! on keep their ids and titles, the new topic is a new theme numbered above the old ones, the
//! reports say what changed, `summarize --theme` follows the ids, and `--fresh` starts over.

mod support;

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use support::simsum;

const MODEL: &str = "hash:384";

const TOPICS: &[&[&str]] = &[
    &[
        "vocational",
        "training",
        "workers",
        "skills",
        "apprentices",
        "mechanics",
        "engineers",
        "courses",
        "trainees",
        "workshop",
    ],
    &[
        "environmental",
        "protection",
        "ecological",
        "conservation",
        "emissions",
        "pollution",
        "biodiversity",
        "wetlands",
        "forests",
        "recycling",
    ],
    &[
        "international",
        "standards",
        "rules",
        "normative",
        "framework",
        "drafting",
        "proposals",
        "organization",
        "observer",
        "rulemaking",
    ],
    // Arrives with the second batch only.
    &[
        "hospital", "nurses", "patients", "clinics", "medicine", "vaccines", "doctors", "surgery",
        "pharmacy", "wards",
    ],
];

/// Deterministic pseudo-random choices.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, m: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % m as u64) as usize
    }
}

/// Writes `docs` text files named `{prefix}{n}.txt` into `dir`, each with `per_topic`
/// paragraphs of every topic in `topics`, the topics taking turns.
fn write_docs(
    dir: &Path,
    prefix: &str,
    docs: usize,
    per_topic: usize,
    topics: &[usize],
    seed: u64,
) {
    let mut rng = Lcg(seed);
    for d in 0..docs {
        let mut paragraphs = Vec::new();
        for _ in 0..per_topic {
            for &t in topics {
                let vocab = TOPICS[t];
                let words: Vec<&str> = (0..14).map(|_| vocab[rng.next(vocab.len())]).collect();
                paragraphs.push(format!(
                    "The report said {} and the {}.",
                    words[..7].join(" "),
                    words[7..].join(" ")
                ));
            }
        }
        std::fs::write(
            dir.join(format!("{prefix}{d}.txt")),
            paragraphs.join("\n\n") + "\n",
        )
        .unwrap();
    }
}

fn run(index: &Path, args: &[&str]) -> std::process::Output {
    simsum()
        .args(["--model", MODEL, "--index"])
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}

fn ok(index: &Path, args: &[&str]) -> String {
    let out = run(index, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn cluster_json(index: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["cluster", "--no-model", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(index, &args)).unwrap()
}

/// Each clustered item's theme id.
fn theme_of(report: &Value) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for t in report["themes"].as_array().unwrap() {
        for m in t["members"].as_array().unwrap() {
            out.insert(m.as_str().unwrap().to_string(), t["id"].as_u64().unwrap());
        }
    }
    out
}

fn ids(report: &Value) -> Vec<u64> {
    report["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn themes_keep_their_ids_and_titles_when_documents_arrive() {
    let docs = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let index = index.path();
    write_docs(docs.path(), "first", 4, 4, &[0, 1, 2], 11);
    ok(index, &["index", docs.path().to_str().unwrap()]);
    let first = cluster_json(index, &[]);
    assert_eq!(first["lineage"]["compared_with"], Value::Null, "{first}");
    let n_first = first["themes"].as_array().unwrap().len();
    assert!(n_first >= 3, "three topics: {first}");
    let mut sorted = ids(&first);
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=n_first as u64).collect::<Vec<_>>());
    assert!(first["themes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["change"] == "new" && t["from"] == serde_json::json!([])));

    // The second batch: more of the three topics, and a fourth.
    write_docs(docs.path(), "second", 3, 2, &[0, 1, 2, 3], 12);
    ok(index, &["index", docs.path().to_str().unwrap()]);
    let second = cluster_json(index, &[]);
    assert!(second["lineage"]["compared_with"].is_u64(), "{second}");
    let before = theme_of(&first);
    let now = theme_of(&second);
    let kept = before
        .iter()
        .filter(|(m, t)| now.get(*m) == Some(t))
        .count();
    assert!(
        kept * 10 >= before.len() * 9,
        "{kept} of {} items kept their theme id",
        before.len()
    );
    let titles: HashMap<u64, &str> = second["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_u64().unwrap(), t["title"].as_str().unwrap()))
        .collect();
    for t in first["themes"].as_array().unwrap() {
        let id = t["id"].as_u64().unwrap();
        assert_eq!(
            titles.get(&id).copied(),
            t["title"].as_str(),
            "theme {id} carried on under its title"
        );
    }
    let max_first = *ids(&first).iter().max().unwrap();
    let news: Vec<&Value> = second["themes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["change"] == "new")
        .collect();
    assert!(
        !news.is_empty(),
        "the fourth topic is a new theme: {second}"
    );
    for t in &news {
        assert!(t["id"].as_u64().unwrap() > max_first, "{t}");
        let rep = t["representatives"][0]["text"].as_str().unwrap();
        assert!(
            TOPICS[3].iter().any(|w| rep.contains(w)),
            "the new theme is the new topic: {rep}"
        );
    }
    for t in second["themes"].as_array().unwrap() {
        if t["change"] != "new" {
            assert!(t["change"] == "kept" || t["change"] == "grown", "{t}");
            assert_eq!(t["from"][0], t["id"], "{t}");
        }
    }

    // The reports say what changed; `summarize --theme` follows the ids.
    let text = ok(index, &["cluster", "--no-model"]);
    assert!(text.contains("since the last report"), "{text}");
    assert!(
        text.contains("; grown)") || text.contains("; kept)"),
        "{text}"
    );
    let md = ok(index, &["cluster", "--no-model", "--format", "md"]);
    assert!(
        md.contains("| change |") && md.contains("**Change:**"),
        "{md}"
    );
    let new_id = news[0]["id"].as_u64().unwrap().to_string();
    let s: Value =
        serde_json::from_str(&ok(index, &["summarize", "--theme", &new_id, "--json"])).unwrap();
    let members: Vec<&str> = news[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for p in s["summary"].as_array().unwrap() {
        assert!(members.contains(&p["initiative"].as_str().unwrap()), "{p}");
    }
    let out = run(index, &["summarize", "--theme", "999"]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("no theme 999") && e.contains(&new_id), "{e}");

    // A report of sections shares no items with one of initiatives: it starts from scratch.
    let sections = cluster_json(index, &["--level", "section"]);
    assert_eq!(
        sections["lineage"]["compared_with"],
        Value::Null,
        "{sections}"
    );

    // `--fresh` numbers from 1 again, with nothing to compare.
    let fresh = cluster_json(index, &["--fresh"]);
    assert_eq!(fresh["lineage"]["compared_with"], Value::Null);
    let mut sorted = ids(&fresh);
    sorted.sort_unstable();
    let n = sorted.len() as u64;
    assert_eq!(sorted, (1..=n).collect::<Vec<_>>());
    assert!(fresh["themes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["change"] == "new"));
}

#[test]
fn a_report_saved_before_lineage_existed_is_carried_on() {
    let docs = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let index = index.path();
    write_docs(docs.path(), "first", 3, 4, &[0, 1, 2], 21);
    ok(index, &["index", docs.path().to_str().unwrap()]);
    let first = cluster_json(index, &[]);
    // Strip what this version adds, as an older simsum saved it.
    let saved = index.join("themes.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let report = if v.get("report").is_some() {
        &mut v["report"]
    } else {
        &mut v
    };
    report.as_object_mut().unwrap().remove("lineage");
    for t in report["themes"].as_array_mut().unwrap() {
        let t = t.as_object_mut().unwrap();
        t.remove("change");
        t.remove("from");
    }
    std::fs::write(&saved, serde_json::to_string(&v).unwrap()).unwrap();
    let again = cluster_json(index, &[]);
    assert!(again["lineage"]["compared_with"].is_u64(), "{again}");
    let (before, now) = (theme_of(&first), theme_of(&again));
    let kept = before
        .iter()
        .filter(|(m, t)| now.get(*m) == Some(t))
        .count();
    assert!(kept * 10 >= before.len() * 9, "{kept} of {}", before.len());
    assert!(again["themes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["change"] == "kept" || t["change"] == "grown"));
}
