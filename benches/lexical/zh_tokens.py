#!/usr/bin/env python3
"""Which tokens should BM25 index for Chinese text? Known-item MRR@10 of Chinese queries,
BM25 only, for four tokenisations of the same documents:

  bigram          what simsum does (src/text/lexical.rs): each run of Han characters gives its
                  overlapping character bigrams (a run of one, that character); Latin words as
                  lower-case letter-and-digit runs (simsum also stems them; the queries here are
                  Chinese, or Chinese and one Latin word kept whole by both).
  bigram+unigram  both: each character of a run as well as its bigrams.
  unigram         each Han character alone (the floor: no word order at all).
  jieba           the jieba word segmenter (PyPI `jieba` 0.42.1, the dictionary and HMM that
                  the Rust port jieba-rs carries), accurate mode.
  jieba-search    jieba's search mode (cut_for_search: long words also as their sub-words).

BM25 is simsum's (src/store/lexical.rs): Lucene's idf, k1 = 1.2, b = 0.75, length in terms.
Units are paragraphs (blank-line separated, as simsum ingests JSON Lines text); a query's rank
is that of the first paragraph of its answer document, as `simsum bench search` counts it, so
the bigram row can be checked against simsum's own lexical figure.

Data: `python3 benches/corpora/parallel_zh.py` (benches/data/known-items-zh/). Run:
  python3 -m venv benches/.venv && benches/.venv/bin/pip install jieba==0.42.1
  benches/.venv/bin/python benches/lexical/zh_tokens.py
"""
import json
import math
import os
import re
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "known-items-zh")
SETS = [
    ("parallel: 6-character fragment", "parallel-docs.jsonl", "parallel-fragment.jsonl"),
    ("parallel: 4 characters + a Latin word", "parallel-docs.jsonl", "parallel-mixed.jsonl"),
    ("DDTP: synopsis -> description", "ddtp-docs.jsonl", "ddtp-queries.jsonl"),
]
K1, B = 1.2, 0.75
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
PIECES = re.compile(rf"[{HAN}]+|[^\W_]+")
IS_HAN = re.compile(rf"[{HAN}]")


def bigram(text):
    return bigram_tokens(text, unigrams=False)


def bigram_unigram(text):
    return bigram_tokens(text, unigrams=True)


def bigram_tokens(text, unigrams):
    out = []
    for piece in PIECES.findall(text):
        if IS_HAN.match(piece):
            out.extend([piece] if len(piece) == 1 else
                       [piece[i:i + 2] for i in range(len(piece) - 1)])
            if unigrams and len(piece) > 1:
                out.extend(piece)
        else:
            out.append(piece.lower())
    return out


def unigram(text):
    out = []
    for piece in PIECES.findall(text):
        out.extend(list(piece) if IS_HAN.match(piece) else [piece.lower()])
    return out


def jieba_tokens(cut):
    def tokens(text):
        return [t.lower() for t in cut(text) if PIECES.fullmatch(t.strip()) and t.strip()]
    return tokens


class Bm25:
    def __init__(self, units):
        self.postings = defaultdict(list)
        self.norms = []
        lengths = []
        for pos, terms in enumerate(units):
            for term, tf in Counter(terms).items():
                self.postings[term].append((pos, tf))
            lengths.append(len(terms))
        avg = sum(lengths) / max(len(lengths), 1)
        self.norms = [K1 * (1 - B + B * n / max(avg, 1e-9)) for n in lengths]
        self.n = len(units)

    def search(self, terms, k=10):
        acc = defaultdict(float)
        for term in dict.fromkeys(terms):
            post = self.postings.get(term)
            if not post:
                continue
            idf = math.log(1 + (self.n - len(post) + 0.5) / (len(post) + 0.5))
            for pos, tf in post:
                acc[pos] += idf * tf * (K1 + 1) / (tf + self.norms[pos])
        return sorted(acc, key=lambda p: (-acc[p], p))[:k]


def load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


SOURCE_BREAK = re.compile(rf"(?<=[{HAN}\u3000-\u303f\uff00-\uffef])\s+(?=[{HAN}\u3000-\u303f\uff00-\uffef])")


def ingest(text):
    """Whitespace between Chinese characters dropped, as simsum's ingest does (a line break of
    the source, not a word boundary)."""
    return SOURCE_BREAK.sub("", text)


def evaluate(tokenize, docs, queries):
    units, owner = [], []
    for d in docs:
        for para in re.split(r"\n\s*\n", d["text"]):
            if para.strip():
                units.append(tokenize(ingest(para)))
                owner.append(d["id"])
    index = Bm25(units)
    rr, found = 0.0, 0
    for q in queries:
        hits = index.search(tokenize(q["query"]))
        rank = next((r for r, p in enumerate(hits, 1) if owner[p] == q["answer"]), None)
        if rank:
            rr += 1 / rank
            found += 1
    n = max(len(queries), 1)
    return rr / n, found / n, len(units)


def main():
    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    tokenizers = [
        ("bigram", bigram),
        ("bigram+unigram", bigram_unigram),
        ("unigram", unigram),
        ("jieba", jieba_tokens(lambda t: jieba.cut(t, HMM=True))),
        ("jieba-search", jieba_tokens(lambda t: jieba.cut_for_search(t, HMM=True))),
    ]
    print("| set | queries | units | tokens | MRR@10 | recall@10 | seconds |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for label, docs_file, queries_file in SETS:
        try:
            docs, queries = load(docs_file), load(queries_file)
        except FileNotFoundError as e:
            print(f"skipped {label}: {e}", file=sys.stderr)
            continue
        for name, tokenize in tokenizers:
            start = time.perf_counter()
            mrr, recall, units = evaluate(tokenize, docs, queries)
            secs = time.perf_counter() - start
            print(f"| {label} | {len(queries)} | {units} | {name} | {mrr:.4f} | {recall:.4f} "
                  f"| {secs:.1f} |")


if __name__ == "__main__":
    main()
