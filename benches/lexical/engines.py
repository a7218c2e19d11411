#!/usr/bin/env python3
"""BM25 engines for the local store's lexical index, measured on the same data: SQLite FTS5's
bm25() (Python's sqlite3 module; same FTS5 code as the bundled SQLite) and tantivy (the
`tantivy` PyPI package, tantivy-py over tantivy 0.2x). simsum's own in-memory BM25 is measured by
`simsum bench search` on the same corpus (BENCHMARKS.md, hybrid search).

Data: benches/data/known-items/large.jsonl (100,001 paragraphs, one item each) and the 300 test
synopses as queries (benches/corpora/known_items.py). Tokens: lower-cased runs of letters and
digits joined by - . (a close stand-in for simsum's terms; no stemming), stop words dropped; a
query is the OR of its distinct terms, top 100 by BM25.

Run: python3 benches/lexical/engines.py [--tantivy]   (pip install tantivy for the second)
"""
import json, os, re, sqlite3, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "known-items")
STOP = set("a an and are as at be by for from has have in is it its of on or that the this to was were will with which can you your all also not but into more than other these they use used using".split())


def toks(t):
    return [w for w in re.findall(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", t.lower()) if w not in STOP]


def report(name, lat):
    lat.sort()
    print("%-22s p50 %.3f ms  p90 %.3f ms  p99 %.3f ms" % (
        name, lat[len(lat) // 2], lat[int(len(lat) * .9)], lat[int(len(lat) * .99)]))


def main():
    paras = []
    for l in open(os.path.join(DATA, "large.jsonl")):
        paras += json.loads(l)["text"].split("\n\n")
    queries = [sorted(set(toks(json.loads(l)["query"])))
               for l in open(os.path.join(DATA, "test.jsonl"))]
    queries = [q for q in queries if q]
    print(len(paras), "items,", len(queries), "queries; load average", open("/proc/loadavg").read().split()[:3])
    tmp = tempfile.mkdtemp()
    db = sqlite3.connect(os.path.join(tmp, "fts.db"))
    db.execute("create virtual table lex using fts5(terms, tokenize=\"unicode61 remove_diacritics 0 tokenchars '-.'\")")
    t = time.time()
    db.executemany("insert into lex(rowid, terms) values (?, ?)",
                   ((i + 1, " ".join(toks(p))) for i, p in enumerate(paras)))
    db.commit()
    print("fts5 build %.1f s" % (time.time() - t))
    lat = []
    for q in queries:
        m = " OR ".join('"%s"' % x for x in q)
        t = time.perf_counter()
        db.execute("select rowid, bm25(lex) from lex where lex match ? order by rank limit 100", (m,)).fetchall()
        lat.append((time.perf_counter() - t) * 1000)
    report("sqlite fts5 bm25()", lat)
    if "--tantivy" in sys.argv:
        import tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("terms", stored=False, tokenizer_name="whitespace")
        sb.add_integer_field("key", stored=True, indexed=True, fast=True)
        schema = sb.build()
        d = os.path.join(tmp, "tv")
        os.makedirs(d)
        idx = tantivy.Index(schema, path=d)
        w = idx.writer(heap_size=200_000_000, num_threads=1)
        t = time.time()
        for i, p in enumerate(paras):
            w.add_document(tantivy.Document(key=i + 1, terms=" ".join(toks(p))))
        w.commit()
        w.wait_merging_threads()
        print("tantivy build %.1f s" % (time.time() - t))
        idx.reload()
        s = idx.searcher()
        lat = []
        for q in queries:
            qq = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, "terms", x)) for x in q])
            t = time.perf_counter()
            s.search(qq, 100).hits
            lat.append((time.perf_counter() - t) * 1000)
        report("tantivy (block-max WAND)", lat)


if __name__ == "__main__":
    main()
