#!/usr/bin/env python3
"""Fits simsum's summary feature weights (`LEARNED_WEIGHTS` in src/summarize/score.rs) on the
tune halves of the 75-word summary corpora, and compares summary settings on those halves.

Data: for each corpus, the directory `examples/summary_features.rs` wrote for its tune half
(`features.jsonl`: every candidate sentence of every document with its features, in
`FEATURE_NAMES` order; `units.jsonl`: the embedded sentences), and the corpus file
(benches/corpora/summaries.py) for the references.

Labels: a sentence is positive when it is in the document's greedy ROUGE-2 oracle: sentences
added one at a time, each the one that most raises ROUGE-2 F1 (Porter-stemmed tokens, as
Google's `rouge-score` makes them) against the reference, within 75 words, until none raises it.
Model: logistic regression (scikit-learn, L2, C=1, classes balanced) of the label on the
features; each corpus's documents weigh the same in total, so the 600 proposals do not drown
the 47 articles. The weights (the intercept is dropped: simsum rescales scores to 0..1) are
printed, and then every variant (the fitted weights with a few MMR and coverage settings, and
the hand-set blend that came before) is run through the example on the cached vectors and
scored with ROUGE-2 on the tune halves; the best by the mean over the two corpora is the one
to ship. Nothing here reads a test half.

Usage: benches/.venv/bin/python benches/quality/fit_summary_weights.py \
    --example target/debug/examples/summary_features \
    --corpus encyclopaedia=benches/data/encyclopaedia_summaries.jsonl:/tmp/s75/wiki-tune \
    --corpus proposals=benches/data/proposal_sections.jsonl:/tmp/s75/prop-tune \
    [--out benches/results/summary-weights-2026-12-07.json]
"""
import argparse, collections, json, os, subprocess, sys

import numpy as np
from rouge_score import rouge_scorer, tokenizers
from sklearn.linear_model import LogisticRegression

WORDS = 75
TOK = tokenizers.DefaultTokenizer(use_stemmer=True)


def words(text):
    return sum(1 for w in text.split() if any(c.isalnum() for c in w))


def bigrams(tokens):
    return collections.Counter(zip(tokens, tokens[1:]))


def f1(overlap, hyp, ref):
    if not overlap or not hyp or not ref:
        return 0.0
    p, r = overlap / hyp, overlap / ref
    return 2 * p * r / (p + r)


def oracle(sentences, reference):
    """Indices of the greedy ROUGE-2 oracle summary within the word budget."""
    ref = bigrams(TOK.tokenize(reference))
    ref_total = sum(ref.values())
    grams = [bigrams(TOK.tokenize(s["text"])) for s in sentences]
    lengths = [words(s["text"]) for s in sentences]
    chosen, have, used, best = [], collections.Counter(), 0, 0.0
    while True:
        pick = None
        for i, g in enumerate(grams):
            if i in chosen or used + lengths[i] > WORDS:
                continue
            union = have + g
            ov = sum(min(c, ref[b]) for b, c in union.items() if b in ref)
            score = f1(ov, sum(union.values()), ref_total)
            if score > best + 1e-9:
                best, pick = score, i
        if pick is None:
            return chosen
        chosen.append(pick)
        have += grams[pick]
        used += lengths[pick]


def load(spec):
    name, rest = spec.split("=", 1)
    corpus, out = rest.rsplit(":", 1)
    refs = {}
    for line in open(corpus):
        r = json.loads(line)
        if r["split"] == "tune":
            refs[r["id"]] = r["reference"]
    docs = [json.loads(l) for l in open(os.path.join(out, "features.jsonl"))]
    return name, out, refs, [d for d in docs if d["id"] in refs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--example", default="target/debug/examples/summary_features")
    ap.add_argument("--corpus", action="append", required=True,
                    help="NAME=CORPUS.jsonl:FEATURE_DIR (the example's output for the tune half)")
    ap.add_argument("--out")
    a = ap.parse_args()
    corpora = [load(s) for s in a.corpus]

    X, y, w = [], [], []
    for name, _, refs, docs in corpora:
        for d in docs:
            picks = set(oracle(d["sentences"], refs[d["id"]]))
            for i, s in enumerate(d["sentences"]):
                X.append(s["features"])
                y.append(1 if i in picks else 0)
                w.append(1.0 / (len(docs) * len(d["sentences"])))
        print(f"{name}: {len(docs)} documents", file=sys.stderr)
    X, y, w = np.array(X), np.array(y), np.array(w)
    w *= len(w) / w.sum()
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    model.fit(X, y, sample_weight=w)
    fitted = [round(float(c), 3) for c in model.coef_[0]]
    print(f"positives {int(y.sum())} of {len(y)}; weights {fitted}", file=sys.stderr)

    # The hand-set blend that came before, then the fitted weights under a small grid of the
    # choice's settings: MMR's relevance share and the coverage gain's weight.
    variants = [{"scorer": "blend"}] + [
        {"weights": fitted, "mmr_lambda": lam, "coverage_weight": cov}
        for lam in (0.7, 0.85, 1.0) for cov in (0.0, 0.25, 0.5)]
    scorer = rouge_scorer.RougeScorer(["rouge2"], use_stemmer=True)
    table = collections.defaultdict(dict)
    for name, out, refs, docs in corpora:
        # The example reads the cached vectors in `out`; the corpus path is not read again.
        subprocess.run([a.example, "-", "tune", out, "--words", str(WORDS),
                        "--variants", json.dumps(variants)], check=True)
        got = collections.defaultdict(dict)
        for line in open(os.path.join(out, "summaries.jsonl")):
            r = json.loads(line)
            got[r["variant"]][r["id"]] = " ".join(r["summary"])
        for k in range(len(variants)):
            scores = [scorer.score(refs[d], got[k].get(d, ""))["rouge2"].fmeasure for d in refs]
            table[k][name] = round(sum(scores) / len(scores), 4)
    rows = []
    for k, v in enumerate(variants):
        mean = round(sum(table[k].values()) / len(table[k]), 4)
        rows.append({"variant": v, "rouge2": table[k], "mean": mean})
        print(f"{mean:.4f} {table[k]} {json.dumps(v)}", file=sys.stderr)
    best = max(rows, key=lambda r: r["mean"])
    result = {"features": "src/summarize/score.rs FEATURE_NAMES", "budget_words": WORDS,
              "positives": int(y.sum()), "sentences": len(y), "weights": fitted,
              "intercept": round(float(model.intercept_[0]), 3), "tune_variants": rows,
              "best": best}
    text = json.dumps(result, indent=1)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
