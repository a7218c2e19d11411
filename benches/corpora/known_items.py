#!/usr/bin/env python3
"""Builds the known-item search benchmark (`simsum bench search`) from Debian's package
descriptions, offline through apt's English translation index.

Each package's long description is a document; its one-line synopsis, written by a person for
people skimming a list, is a short query whose one right answer is that document. Synopses are
short and name-heavy ("GTK+ frontend for the MPD", "PostgreSQL extension for ICU collations"):
the kind of query where words and names count as much as meaning.

Outputs (under benches/data/known-items/, git-ignored):
  docs.jsonl      {"id","title","text"}: 1,400 packages (deterministic sample, seed 28); text
                  = the long description, paragraphs separated by blank lines; title = "" (the
                  package name would give the answer away).
  test.jsonl      {"query","answer"}: 300 of those packages' synopses (the reported figures).
  dev.jsonl       {"query","answer"}: 300 other packages' synopses over the same documents,
                  the only queries fusion settings were chosen on.
  large.jsonl     documents of the same kind for the latency run: packages with distinct
                  descriptions (repeated paragraphs allowed; they become boilerplate), sampled
                  until they hold --items N paragraphs (default 100,000: the initiatives).
Packages are kept when every paragraph of their description occurs in no other package (so
each query has one answer, and no paragraph is boilerplate) and the description has at least
25 words.

Needs: `apt-get update -o Acquire::Languages=en` once (fetches Translation-en).
"""
import glob, json, os, random, re, subprocess, sys
from collections import Counter

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "known-items")


def translations():
    files = sorted(glob.glob("/var/lib/apt/lists/*_main_i18n_Translation-en*"))
    if not files:
        sys.exit("no Translation-en index: run `apt-get update -o Acquire::Languages=en` first")
    seen = {}
    for f in files:
        text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", f],
                              capture_output=True, text=True, check=True).stdout
        for block in text.split("\n\n"):
            m = re.search(r"^Package: (\S+)", block, re.M)
            d = re.search(r"^Description-en: (.*)((?:\n .*)*)", block, re.M)
            if not (m and d):
                continue
            paras, cur = [], []
            for line in d.group(2).split("\n")[1:]:
                line = line[1:]
                if line.strip() == ".":
                    if cur:
                        paras.append(" ".join(cur))
                    cur = []
                else:
                    cur.append(line.strip())
            if cur:
                paras.append(" ".join(cur))
            paras = [re.sub(r"\s+", " ", p).strip() for p in paras if p.strip()]
            seen.setdefault(m.group(1), (d.group(1).strip(), paras))
    return seen


def main():
    large_items = 100000
    if "--items" in sys.argv:
        large_items = int(sys.argv[sys.argv.index("--items") + 1])
    pkgs = translations()
    para_count = Counter(p for _, paras in pkgs.values() for p in paras)
    syn_count = Counter(s.lower() for s, _ in pkgs.values())
    good = sorted(
        name for name, (syn, paras) in pkgs.items()
        if paras and all(para_count[p] == 1 for p in paras)
        and sum(len(p.split()) for p in paras) >= 25
        and syn_count[syn.lower()] == 1 and len(syn.split()) >= 2
    )
    rng = random.Random(28)
    docs = rng.sample(good, 1400)
    asked = rng.sample(docs, 600)
    test, dev = asked[:300], asked[300:]
    os.makedirs(OUT, exist_ok=True)

    def doc(name):
        return {"id": name, "title": "", "text": "\n\n".join(pkgs[name][1])}

    with open(os.path.join(OUT, "docs.jsonl"), "w") as f:
        for name in sorted(docs):
            f.write(json.dumps(doc(name)) + "\n")
    for fname, names in (("test.jsonl", test), ("dev.jsonl", dev)):
        with open(os.path.join(OUT, fname), "w") as f:
            for name in names:
                f.write(json.dumps({"query": pkgs[name][0], "answer": name}) + "\n")
    distinct, texts = [], set()
    for name in sorted(pkgs):
        t = "\n\n".join(pkgs[name][1])
        if t and t not in texts:
            texts.add(t)
            distinct.append(name)
    rng.shuffle(distinct)
    large, items = [], 0
    for name in distinct:
        if items >= large_items:
            break
        large.append(name)
        items += len(pkgs[name][1])
    large.sort()
    with open(os.path.join(OUT, "large.jsonl"), "w") as f:
        for name in large:
            f.write(json.dumps(doc(name)) + "\n")
    print(f"{len(pkgs)} packages, {len(good)} usable; wrote 1400 documents, 300 test and 300 dev "
          f"queries, {len(large)} large-corpus documents ({items} paragraphs) to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
