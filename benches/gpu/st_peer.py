#!/usr/bin/env python3
"""sentence-transformers on a CUDA GPU (the peer of `simsum bench embed --device cuda`): fp16
(model.half()) and f32, texts sorted by length, batches of each --batch-sizes, max_seq_length 256.
Prints one JSON object per configuration: texts/s, real tokens/s (padding excluded), per-batch
p50/p99 latency, peak device memory, and cosine to the f32 result for fp16."""
import argparse, json, time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch-sizes", default="32,256,1024")
    ap.add_argument("--dtypes", default="f32,f16")
    a = ap.parse_args()
    texts = [l.rstrip("\n") for l in open(a.texts, encoding="utf-8") if l.strip()]
    if a.limit:
        texts = texts[: a.limit]
    base = SentenceTransformer(a.model_dir, device="cuda")
    base.max_seq_length = 256
    tok = base.tokenizer
    lens = [min(len(tok(t)["input_ids"]), 256) for t in texts]
    order = np.argsort([-n for n in lens], kind="stable")
    sorted_texts = [texts[i] for i in order]
    ref = None
    for dtype in a.dtypes.split(","):
        model = SentenceTransformer(a.model_dir, device="cuda")
        model.max_seq_length = 256
        if dtype == "f16":
            model.half()
        elif dtype == "bf16":
            model.to(torch.bfloat16)
        for bs in [int(b) for b in a.batch_sizes.split(",")]:
            model.encode(sorted_texts[: bs * 2], batch_size=bs)  # warm-up
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            lat, out = [], []
            t0 = time.perf_counter()
            for s in range(0, len(sorted_texts), bs):
                b0 = time.perf_counter()
                v = model.encode(sorted_texts[s : s + bs], batch_size=bs, convert_to_numpy=True,
                                 normalize_embeddings=True)
                torch.cuda.synchronize()
                lat.append(time.perf_counter() - b0)
                out.append(v.astype(np.float32))
            secs = time.perf_counter() - t0
            vecs = np.concatenate(out)
            rec = {
                "peer": "sentence-transformers", "device": torch.cuda.get_device_name(0),
                "torch": torch.__version__, "dtype": dtype, "batch_size": bs, "texts": len(texts),
                "tokens": int(sum(lens)), "seconds": secs, "texts_per_s": len(texts) / secs,
                "tokens_per_s": sum(lens) / secs,
                "batch_p50_ms": float(np.percentile(lat, 50) * 1e3),
                "batch_p99_ms": float(np.percentile(lat, 99) * 1e3),
                "peak_device_mib": torch.cuda.max_memory_allocated() / 2**20,
            }
            if dtype == "f32" and ref is None:
                ref = vecs
            elif ref is not None:
                cos = (vecs * ref).sum(1) / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(ref, axis=1))
                rec["min_cosine_to_f32"] = float(cos.min())
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
