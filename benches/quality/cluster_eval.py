#!/usr/bin/env python3
"""Clustering quality: simsum's themes against true labels, next to k-means and BERTopic.

Corpus: benches/data/labelled.jsonl (built by benches/corpora/build.py): Debian package
descriptions, label = the package's archive Section (a dozen topical sections). Nobody here wrote
them or chose the labels.

What runs, in this order, on the same vectors:
  1. `simsum index` the corpus into a fresh index and `simsum cluster --format json` (the number
     of themes is found, not given). Both are timed.
  2. The stored initiative vectors are read back from the index (index.sqlite), so the peers
     cluster exactly the vectors simsum clustered.
  3. k-means told the true number of classes (scikit-learn, n_init=10, seed 0).
  4. BERTopic's default pipeline (UMAP + HDBSCAN, precomputed embeddings), if installed.

Metrics (scikit-learn): V-measure, homogeneity, completeness, adjusted Rand index over every item
given to the clusterer. Unclustered items (simsum's "unclustered", BERTopic's outlier topic -1)
count as one extra predicted class in these figures, so leaving items out is not free; the
fraction unclustered is reported next to them, and the figures over clustered items only too.

Usage: benches/.venv/bin/python benches/quality/cluster_eval.py --simsum target/release/simsum
       [--data benches/data/labelled.jsonl] [--work /tmp/simsum-quality] [--out FILE.json]
"""
import argparse, collections, json, os, re, shutil, sqlite3, subprocess, sys, time

import numpy as np
from sklearn import metrics
from sklearn.cluster import KMeans


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0,):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return time.perf_counter() - t, p.stdout


def scores(truth, pred):
    truth, pred = np.asarray(truth), np.asarray(pred)
    h, c, v = metrics.homogeneity_completeness_v_measure(truth, pred)
    out = {"v_measure": v, "homogeneity": h, "completeness": c,
           "ari": metrics.adjusted_rand_score(truth, pred),
           "clusters": int(len(set(pred.tolist()) - {-1})),
           "unclustered_fraction": float(np.mean(pred == -1))}
    keep = pred != -1
    if keep.any() and not keep.all():
        out["v_measure_clustered_only"] = metrics.v_measure_score(truth[keep], pred[keep])
        out["ari_clustered_only"] = metrics.adjusted_rand_score(truth[keep], pred[keep])
    return {k: round(float(x), 4) if isinstance(x, float) else x for k, x in out.items()}


def words(text):
    """Lower-case words as simsum's label step reads them (letters, digits, inner - and ',
    a possessive 's dropped); punctuation is ignored here, so a phrase may span it."""
    out = []
    for w in re.findall(r"[\w'\u2019-]+", text.lower()):
        w = w.strip("-'\u2019")
        for suffix in ("'s", "\u2019s"):
            if w.endswith(suffix):
                w = w[:-len(suffix)]
        if w:
            out.append(w)
    return out


def supports(title, text):
    """Whether a member's text contains its theme's title: the phrase as consecutive words, or
    for a two-word title "A and B" either word (the rule simsum's titles are chosen by,
    src/cluster/labels.rs `make_title`)."""
    ws = words(text)
    for part in title.lower().split(" and "):
        p = part.split()
        if p and any(ws[i:i + len(p)] == p for i in range(len(ws) - len(p) + 1)):
            return True
    return False


def stored_vectors(index_dir):
    db = sqlite3.connect(os.path.join(index_dir, "index.sqlite"))
    rows = db.execute(
        "SELECT i.id, i.text, i.vector, d.metadata FROM items i JOIN documents d ON d.id = i.doc_id "
        "WHERE i.level = 2 AND i.boilerplate = 0 ORDER BY i.key").fetchall()
    ids, texts, vecs, labels = [], [], [], []
    for id_, text, blob, meta in rows:
        ids.append(id_)
        texts.append(text)
        vecs.append(np.frombuffer(blob, dtype="<f4"))
        labels.append(json.loads(meta).get("label"))
    return ids, texts, np.vstack(vecs), labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--simsum", default="target/release/simsum")
    ap.add_argument("--data", default="benches/data/labelled.jsonl")
    ap.add_argument("--work", default="/tmp/simsum-quality/cluster")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out")
    ap.add_argument("--no-bertopic", action="store_true", help="leave BERTopic out")
    a = ap.parse_args()

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    index = os.path.join(a.work, "index")
    t_index, _ = run([a.simsum, "--index", index, "index", a.data])
    report_path = os.path.join(a.work, "themes.json")
    t_cluster, _ = run([a.simsum, "--index", index, "cluster", "--format", "json",
                        "--seed", str(a.seed), "-o", report_path])
    report = json.load(open(report_path))

    ids, texts, X, truth = stored_vectors(index)
    pos = {id_: i for i, id_ in enumerate(ids)}
    k_true = len(set(truth))
    results = {"corpus": os.path.basename(a.data), "items": len(ids), "classes": k_true,
               "class_sizes": dict(collections.Counter(truth).most_common())}

    pred = np.full(len(ids), -1)
    for t in report["themes"]:
        for m in t["members"]:
            pred[pos[m]] = t["id"]
    themes = []
    for t in report["themes"]:
        labs = collections.Counter(truth[pos[m]] for m in t["members"])
        top, n = labs.most_common(1)[0]
        held = sum(supports(t["title"], texts[pos[m]]) for m in t["members"])
        themes.append({"id": t["id"], "title": t["title"], "size": t["size"],
                       "members": len(t["members"]),
                       "majority_label": top, "purity": round(n / len(t["members"]), 3),
                       "title_support": round(held / len(t["members"]), 3),
                       "keyphrases": t["keyphrases"][:5]})
    results["simsum"] = dict(scores(truth, pred), seconds_index=round(t_index, 2),
                             seconds_cluster=round(t_cluster, 2), params=report["params"],
                             titles_supported_by_half=sum(t["title_support"] >= 0.5
                                                          for t in themes),
                             themes=themes)

    t = time.perf_counter()
    km = KMeans(n_clusters=k_true, n_init=10, random_state=0).fit(X)
    results["kmeans_true_k"] = dict(scores(truth, km.labels_),
                                    seconds_cluster=round(time.perf_counter() - t, 2))

    if a.no_bertopic:
        results["bertopic_default"] = {"unavailable": "not run (--no-bertopic)"}
    else:
        try:
            from bertopic import BERTopic
            t = time.perf_counter()
            topics, _ = BERTopic().fit_transform(texts, embeddings=X)
            results["bertopic_default"] = dict(scores(truth, topics),
                                               seconds_cluster=round(time.perf_counter() - t, 2))
        except ImportError as e:
            results["bertopic_default"] = {"unavailable": str(e)}

    text = json.dumps(results, indent=1)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
