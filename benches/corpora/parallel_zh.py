#!/usr/bin/env python3
"""Builds simsum's small English/Chinese parallel corpus (committed) and the Chinese known-item
sets that choose the lexical index's Chinese tokens (BENCHMARKS.md, "Chinese lexical tokens").

1. tests/data/parallel/gnu-zh_CN.jsonl (committed, GPL-3+: see LICENSE.md beside it): message
   pairs, English `msgid` and Simplified Chinese `msgstr`, from the zh_CN message catalogues of
   GNU packages as Debian ships them (`apt-get download`, `dpkg-deb -x`, the .mo files read with
   Python's gettext): bash's builtin help texts, and help texts of coreutils, grep, sed,
   findutils, diffutils and tar. Kept: pairs whose English has at least 60 characters and whose
   Chinese has at least 20 Han characters, one per Chinese text; all of bash's, then a seeded
   sample of the others, 300 in all. One JSON object a line:
   {"id", "package", "version", "en", "zh"}.

2. benches/data/known-items-zh/ (git-ignored), for `simsum bench search` and
   benches/lexical/zh_tokens.py:
   - parallel-docs.jsonl  {"id","title","text"}: the Chinese side of the corpus above.
   - parallel-fragment.jsonl  {"query","answer"}: per document, six consecutive Han characters
     from a seeded place in it (a phrase a reader remembers).
   - parallel-mixed.jsonl  the same fragment shortened to four characters, plus a Latin word
     of the same document (`--help`, `bash`): mixed Chinese and English queries.
   - ddtp-docs.jsonl / ddtp-queries.jsonl: Debian's Chinese package descriptions (DDTP, apt's
     zh_CN translation index) as documents, each package's Chinese synopsis as its query, as
     known_items.py does in English. Kept: unique synopses, descriptions with at least 30 Han
     characters. (Not committed: only the figures are.)

Needs: apt (bookworm), and for 2, `apt-get update -o Acquire::Languages=en,zh_CN` once.
Run from anywhere: `python3 benches/corpora/parallel_zh.py`.
"""
import gettext
import glob
import json
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "data", "parallel", "gnu-zh_CN.jsonl")
OUT = os.path.join(ROOT, "benches", "data", "known-items-zh")
PACKAGES = ["bash", "coreutils", "grep", "sed", "findutils", "diffutils", "tar"]
PAIRS = 300
SEED = 37
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def han_count(text):
    return len(HAN.findall(text))


def catalogue_pairs(package, tmp):
    """(version, [(msgid, msgstr)]) of a package's zh_CN catalogue, from its .deb."""
    subprocess.run(["apt-get", "download", "-q", package], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    deb = sorted(glob.glob(os.path.join(tmp, f"{package}_*.deb")))[-1]
    version = os.path.basename(deb).split("_")[1].replace("%3a", ":")
    root = os.path.join(tmp, package)
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    mo = os.path.join(root, "usr/share/locale/zh_CN/LC_MESSAGES", f"{package}.mo")
    with open(mo, "rb") as f:
        catalogue = gettext.GNUTranslations(f)._catalog
    pairs = []
    for msgid, msgstr in catalogue.items():
        if isinstance(msgid, tuple):  # plural forms: keep the singular only
            if msgid[1] != 0:
                continue
            msgid = msgid[0]
        if msgid and msgstr and len(msgid) >= 60 and han_count(msgstr) >= 20:
            pairs.append((msgid, msgstr))
    return version, sorted(pairs)


def build_corpus():
    rows, seen = [], set()
    with tempfile.TemporaryDirectory() as tmp:
        per_package = {p: catalogue_pairs(p, tmp) for p in PACKAGES}
    rng = random.Random(SEED)
    first = [("bash", per_package["bash"][0], m) for m in per_package["bash"][1]]
    rest = [(p, v, m) for p in PACKAGES[1:] for v, ms in [per_package[p]] for m in ms]
    rng.shuffle(rest)
    for package, version, (en, zh) in first + rest:
        if zh in seen or len(rows) >= PAIRS:
            continue
        seen.add(zh)
        rows.append({"package": package, "version": version, "en": en, "zh": zh})
    rows.sort(key=lambda r: (r["package"], r["en"]))
    counts = {}
    for r in rows:
        counts[r["package"]] = counts.get(r["package"], 0) + 1
        r["id"] = f"{r['package']}-{counts[r['package']]:03d}"
    os.makedirs(os.path.dirname(CORPUS), exist_ok=True)
    with open(CORPUS, "w", encoding="utf-8") as f:
        for r in rows:
            keys = ["id", "package", "version", "en", "zh"]
            f.write(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n")
    print(f"{CORPUS}: {len(rows)} pairs", {p: counts.get(p, 0) for p in PACKAGES})
    return rows


def parallel_known_items(rows):
    rng = random.Random(SEED)
    docs, fragments, mixed = [], [], []
    for r in rows:
        text = r["zh"]
        docs.append({"id": r["id"], "title": "", "text": text})
        runs = [m for m in HAN_RUN.finditer(text) if len(m.group()) >= 6]
        if not runs:
            continue
        run = rng.choice(runs).group()
        at = rng.randrange(len(run) - 5)
        fragments.append({"query": run[at:at + 6], "answer": r["id"]})
        latin = sorted(set(w for w in re.findall(r"[A-Za-z][A-Za-z0-9_-]{2,}", text)))
        if latin:
            mixed.append({"query": f"{run[at:at + 4]} {rng.choice(latin)}", "answer": r["id"]})
    write("parallel-docs.jsonl", docs)
    write("parallel-fragment.jsonl", fragments)
    write("parallel-mixed.jsonl", mixed)


def ddtp_known_items():
    files = sorted(glob.glob("/var/lib/apt/lists/*_main_i18n_Translation-zh%5fCN*"))
    if not files:
        print("no Translation-zh_CN index: run `apt-get update -o Acquire::Languages=en,zh_CN`;"
              " skipping the DDTP set", file=sys.stderr)
        return
    packages = {}
    for path in files:
        text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path],
                              capture_output=True, text=True, check=True).stdout
        for block in text.split("\n\n"):
            name = re.search(r"^Package: (\S+)", block, re.M)
            desc = re.search(r"^Description-zh_CN: (.*)((?:\n .*)*)", block, re.M)
            if not (name and desc):
                continue
            paras, cur = [], []
            for line in desc.group(2).split("\n")[1:]:
                line = line[1:]
                if line.strip() == ".":
                    paras.append("\n".join(cur))
                    cur = []
                else:
                    cur.append(line.strip())
            paras.append("\n".join(cur))
            body = "\n\n".join(p for p in paras if p.strip())
            packages.setdefault(name.group(1), (desc.group(1).strip(), body))
    synopses = {}
    for s, _ in packages.values():
        synopses[s] = synopses.get(s, 0) + 1
    docs, queries = [], []
    for name in sorted(packages):
        synopsis, body = packages[name]
        if synopses[synopsis] == 1 and han_count(synopsis) >= 2 and han_count(body) >= 30:
            docs.append({"id": name, "title": "", "text": body})
            queries.append({"query": synopsis, "answer": name})
    write("ddtp-docs.jsonl", docs)
    write("ddtp-queries.jsonl", queries)


def write(name, rows):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)}")


if __name__ == "__main__":
    corpus = build_corpus()
    parallel_known_items(corpus)
    ddtp_known_items()
