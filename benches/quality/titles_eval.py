#!/usr/bin/env python3
"""Theme titles: does a theme's title point to the article its members come from?

Measures issue 38's goal on encyclopaedia articles clustered at the paragraph level:
  1. `simsum index` each half of benches/data/wikitext-articles.jsonl (60 WikiText-2 articles,
     one item per paragraph; "tune" and "test" halves, indexed and clustered separately) and
     `simsum cluster --format json` it, with each simsum binary given (--simsum, and
     --simsum-before for the code before a change), each on its own copy of the index (a saved
     report would carry titles over to the next run).
  2. For each theme, its article is the majority article of its members. Each labeller names
     the SAME member sets: simsum's title; BERTopic's c-TF-IDF (ClassTfidfTransformer over
     CountVectorizer(stop_words="english"), the members of each theme as one class and the
     unclustered paragraphs as another, as BERTopic labels topics) as its top four words; and
     KeyBERT's top four keyphrases (1-2 words, English stop words) of the members' text joined.
  3. A label "points to its article" when, embedded with all-MiniLM-L6-v2 (sentence-
     transformers), its nearest article title (cosine, over all articles of the half) is the
     theme's article. The share of themes that do is reported per labeller.
Also counted for simsum: titles that are "X and Y" of two single words, and titles that are not
a contiguous phrase of the members' text (case-insensitive, spaces folded). With --seeds, the
seed documents are clustered by each binary too and their titles printed side by side.

Usage: benches/.venv/bin/python benches/quality/titles_eval.py --simsum target/release/simsum
       [--simsum-before /tmp/simsum-before] [--data benches/data/wikitext-articles.jsonl]
       [--seeds seeds] [--work /tmp/simsum-titles] [--out benches/results/quality-titles-DATE.json]
Needs benches/.venv with sentence-transformers, bertopic and keybert (benches/quality/setup.sh).
"""
import argparse, collections, json, os, re, shutil, sqlite3, subprocess, sys, time

import numpy as np

# The model is read from the local Hugging Face cache; never ask the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return time.perf_counter() - t


def paragraphs(index_dir):
    db = sqlite3.connect(os.path.join(index_dir, "index.sqlite"))
    rows = db.execute(
        "SELECT i.id, i.text, i.doc_id FROM items i WHERE i.level = 2 AND i.boilerplate = 0 "
        "ORDER BY i.key").fetchall()
    return {id_: (text, doc) for id_, text, doc in rows}


def cluster(binary, index, work, name, seed):
    """Clusters a private copy of `index` with `binary`; returns (report, seconds)."""
    copy = os.path.join(work, f"index-{name}")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(index, copy)
    out = os.path.join(work, f"themes-{name}.json")
    secs = run([binary, "--index", copy, "cluster", "--format", "json", "--seed", str(seed),
                "-o", out])
    return json.load(open(out)), secs


def fold(s):
    return re.sub(r"\s+", " ", s.replace("\u2019", "'")).strip().lower()


def and_pair(title):
    return re.fullmatch(r"\S+ and \S+", title.strip(), re.IGNORECASE) is not None


def bertopic_labels(member_texts, unclustered, top=4):
    from sklearn.feature_extraction.text import CountVectorizer
    from bertopic.vectorizers import ClassTfidfTransformer
    docs = [" ".join(ts) for ts in member_texts] + [" ".join(unclustered)]
    cv = CountVectorizer(stop_words="english")
    X = cv.fit_transform(docs)
    c = ClassTfidfTransformer().fit_transform(X).toarray()
    vocab = cv.get_feature_names_out()
    return [" ".join(vocab[j] for j in np.argsort(-c[k])[:top]) for k in range(len(member_texts))]


def keybert_labels(model, member_texts, top=4):
    from keybert import KeyBERT
    kb = KeyBERT(model=model)
    out = []
    for ts in member_texts:
        kws = kb.extract_keywords(" ".join(ts), keyphrase_ngram_range=(1, 2),
                                  stop_words="english", top_n=top)
        out.append(" ".join(k for k, _ in kws))
    return out


def points(model, labels, articles, truth):
    """For each label, whether its nearest article title (cosine) is its theme's article."""
    titles = list(articles.values())
    keys = list(articles.keys())
    A = model.encode(titles, normalize_embeddings=True)
    L = model.encode(labels, normalize_embeddings=True)
    nearest = np.argmax(L @ A.T, axis=1)
    return [keys[n] == t for n, t in zip(nearest, truth)]


def evaluate_half(a, model, half, docs, binaries):
    work = os.path.join(a.work, half)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = os.path.join(work, f"{half}.jsonl")
    with open(data, "w") as f:
        for d in docs:
            f.write(json.dumps({k: d[k] for k in ("id", "title", "text")}) + "\n")
    index = os.path.join(work, "index")
    first = next(iter(binaries.values()))
    t_index = run([first, "--index", index, "index", data])
    items = paragraphs(index)
    articles = {d["id"]: d["title"] for d in docs}

    def article_of(item_id):
        return items[item_id][1]  # a JSONL record's id is its document's id

    reports = {name: cluster(b, index, work, name, a.seed) for name, b in binaries.items()}
    base = next(iter(reports.values()))[0]
    themes = base["themes"]
    for name, (r, _) in reports.items():
        same = [sorted(t["members"]) for t in r["themes"]] == [sorted(t["members"]) for t in themes]
        if not same:
            sys.exit(f"{name}: different themes from the same index; compare titles only on the same members")
    member_texts = [[items[m][0] for m in t["members"]] for t in themes]
    clustered = {m for t in themes for m in t["members"]}
    unclustered = [items[i][0] for i in items if i not in clustered]
    truth = [collections.Counter(article_of(m) for m in t["members"]).most_common(1)[0][0]
             for t in themes]
    for t, art in zip(themes, truth):
        if art not in articles:
            sys.exit(f"theme {t['id']}: majority document {art} is no article")

    labellers = {}
    for name, (r, secs) in reports.items():
        labellers[f"simsum {name}"] = ([t["title"] for t in r["themes"]], secs)
    t0 = time.perf_counter()
    labellers["BERTopic c-TF-IDF (4 words)"] = (bertopic_labels(member_texts, unclustered),
                                              time.perf_counter() - t0)
    t0 = time.perf_counter()
    labellers["KeyBERT (4 keyphrases)"] = (keybert_labels(model, member_texts),
                                         time.perf_counter() - t0)

    out = {"articles": len(docs), "paragraphs": len(items), "themes": len(themes),
           "unclustered": len(unclustered), "index_seconds": round(t_index, 2), "labellers": {}}
    for name, (labels, secs) in labellers.items():
        hits = points(model, labels, articles, truth)
        row = {"points_to_article": round(sum(hits) / max(len(hits), 1), 3),
               "hits": int(sum(hits)), "seconds": round(secs, 2)}
        if name.startswith("simsum"):
            joined = [fold(" \n ".join(ts)) for ts in member_texts]
            row["x_and_y_titles"] = sum(and_pair(l) for l in labels)
            row["not_in_text"] = sum(fold(l) not in j for l, j in zip(labels, joined))
        out["labellers"][name] = row
    out["themes_detail"] = [
        {"article": articles[art], "size": len(t["members"]),
         **{name: labels[k] for name, (labels, _) in labellers.items()}}
        for k, (t, art) in enumerate(zip(themes, truth))]
    return out


def seed_titles(a, binaries):
    work = os.path.join(a.work, "seeds")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    index = os.path.join(work, "index")
    run([next(iter(binaries.values())), "--index", index, "index", a.seeds])
    reports = {name: cluster(b, index, work, name, a.seed)[0] for name, b in binaries.items()}
    names = list(reports)
    base = reports[names[0]]["themes"]
    rows = []
    for k, t in enumerate(base):
        rows.append({"size": t["size"], **{n: reports[n]["themes"][k]["title"] for n in names}})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--simsum", default="target/release/simsum")
    ap.add_argument("--simsum-before")
    ap.add_argument("--data", default="benches/data/wikitext-articles.jsonl")
    ap.add_argument("--seeds")
    ap.add_argument("--halves", default="tune,test")
    ap.add_argument("--work", default="/tmp/simsum-titles")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out")
    a = ap.parse_args()
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2", device="cpu")
    binaries = {}
    if a.simsum_before:
        binaries["before"] = os.path.abspath(a.simsum_before)
    binaries["after"] = os.path.abspath(a.simsum)
    docs = [json.loads(l) for l in open(a.data)]
    result = {"corpus": os.path.basename(a.data), "halves": {}}
    for half in a.halves.split(","):
        r = evaluate_half(a, model, half, [d for d in docs if d["half"] == half], binaries)
        result["halves"][half] = r
        print(f"\n== {half} half: {r['articles']} articles, {r['paragraphs']} paragraphs, "
              f"{r['themes']} themes, {r['unclustered']} unclustered")
        print(f"{'labeller':34} {'points':>7} {'hits':>5} {'X and Y':>8} {'not in text':>12}")
        for name, row in r["labellers"].items():
            print(f"{name:34} {row['points_to_article']:7.3f} {row['hits']:5d} "
                  f"{row.get('x_and_y_titles', ''):>8} {row.get('not_in_text', ''):>12}")
        for d in r["themes_detail"]:
            print("   ", " | ".join(str(v) for v in d.values()))
    if a.seeds:
        result["seeds"] = seed_titles(a, binaries)
        print("\n== seeds")
        for row in result["seeds"]:
            print("   ", " | ".join(str(v) for v in row.values()))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
