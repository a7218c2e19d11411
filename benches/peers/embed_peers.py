#!/usr/bin/env python3
"""Embedding peers on the same texts as `simsum bench embed`: sentence-transformers (PyTorch)
and ONNX Runtime on an ONNX export of the same weights (what fastembed and
text-embeddings-inference run on CPU). f32, texts sorted by length, batches of --batch-size,
max_seq_length 256, mean pooling + L2 normalisation. Prints one JSON object per peer.
Tokens are real tokens (padding excluded), special tokens included, as simsum counts them."""
import argparse, json, os, sys, time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--peers", default="sentence-transformers,onnxruntime")
    ap.add_argument("--onnx-cache", default=os.path.join(os.path.dirname(__file__), "..", "data", "minilm.onnx"))
    a = ap.parse_args()
    texts = [l.rstrip("\n") for l in open(a.texts, encoding="utf-8") if l.strip()]
    if a.limit:
        texts = texts[: a.limit]
    import torch
    torch.set_num_threads(a.threads)
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(a.model_dir, device="cpu")
    st.max_seq_length = 256
    tok = st.tokenizer
    lens = [len(x) for x in tok(texts, truncation=True, max_length=256)["input_ids"]]
    tokens = sum(lens)
    order = sorted(range(len(texts)), key=lambda i: -lens[i])
    results = []

    if "sentence-transformers" in a.peers:
        st.encode(texts[:64], batch_size=a.batch_size)  # warm-up
        t = time.perf_counter()
        ref = st.encode(texts, batch_size=a.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        dt = time.perf_counter() - t
        results.append({"peer": "sentence-transformers", "version": __import__("sentence_transformers").__version__,
                        "torch": torch.__version__, "texts": len(texts), "tokens": tokens, "seconds": dt,
                        "tokens_per_s": tokens / dt, "texts_per_s": len(texts) / dt, "batch_size": a.batch_size})
    else:
        ref = None

    if "onnxruntime" in a.peers:
        import onnxruntime as ort
        path = os.path.abspath(a.onnx_cache)
        if not os.path.exists(path):
            bert = st[0].auto_model.eval()

            class Wrap(torch.nn.Module):
                def __init__(self, m):
                    super().__init__()
                    self.m = m

                def forward(self, input_ids, attention_mask, token_type_ids):
                    return self.m(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

            dummy = tok(["hello world"], return_tensors="pt")
            torch.onnx.export(Wrap(bert), (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]), path,
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "b", 1: "l"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]})
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

        def run(batch):
            enc = tok(batch, padding=True, truncation=True, max_length=256, return_tensors="np")
            feeds = {k: enc[k].astype(np.int64) for k in ["input_ids", "attention_mask", "token_type_ids"]}
            h = sess.run(None, feeds)[0]
            m = feeds["attention_mask"][..., None].astype(np.float32)
            v = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        run(texts[:32])
        out = np.zeros((len(texts), 384), dtype=np.float32)
        t = time.perf_counter()
        for i in range(0, len(order), a.batch_size):
            idx = order[i:i + a.batch_size]
            out[idx] = run([texts[j] for j in idx])
        dt = time.perf_counter() - t
        r = {"peer": "onnxruntime", "version": ort.__version__, "texts": len(texts), "tokens": tokens,
             "seconds": dt, "tokens_per_s": tokens / dt, "texts_per_s": len(texts) / dt, "batch_size": a.batch_size}
        if ref is not None:
            r["min_cosine_to_sentence_transformers"] = float((out * ref).sum(1).min())
        results.append(r)
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
