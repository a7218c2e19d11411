#!/usr/bin/env python3
"""Index peers on the same .npy vectors as `simsum bench index`: hnswlib and faiss HNSW at the
same M / ef_construction, and numpy brute force. Same split (last --queries rows are queries),
same recall definition (ties count: a result as close as the k-th exact neighbour is a hit).
Prints one JSON object per peer."""
import argparse, json, os, time

import numpy as np


def recall(found_sims, kth, n):
    hits = (found_sims[:, :n] >= kth[:, None] - 1e-6).sum(1)
    return float(np.minimum(hits, n).sum() / (len(kth) * n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", default="16,32,64,128,256")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    x = np.load(a.vectors).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = min(a.queries, len(x) // 10)
    base, queries = np.ascontiguousarray(x[:-q]), np.ascontiguousarray(x[-q:])
    k = 10
    t = time.perf_counter()
    sims = queries @ base.T
    exact = -np.sort(-sims, axis=1)[:, :k]
    bf_qps = q / (time.perf_counter() - t)
    kth1, kth10 = exact[:, 0], exact[:, k - 1]
    print(json.dumps({"peer": "numpy-brute-force", "points": len(base), "queries": q, "qps_all_threads": bf_qps}))
    efs = [int(e) for e in a.ef.split(",")]

    import hnswlib
    idx = hnswlib.Index(space="ip", dim=x.shape[1])
    idx.init_index(max_elements=len(base), M=a.m, ef_construction=a.ef_construction)
    idx.set_num_threads(a.threads)
    t = time.perf_counter()
    idx.add_items(base, np.arange(len(base)))
    build = time.perf_counter() - t
    runs = []
    for ef in efs:
        idx.set_ef(max(ef, k))
        idx.set_num_threads(1)
        t = time.perf_counter()
        labels, d = idx.knn_query(queries, k=k)
        one = q / (time.perf_counter() - t)
        idx.set_num_threads(a.threads)
        t = time.perf_counter()
        idx.knn_query(queries, k=k)
        allt = q / (time.perf_counter() - t)
        s = 1.0 - d
        runs.append({"ef": ef, "recall_at_1": recall(s, kth1, 1), "recall_at_10": recall(s, kth10, 10),
                     "qps_one_thread": one, "qps_all_threads": allt})
    print(json.dumps({"peer": "hnswlib", "version": getattr(hnswlib, "__version__", "?"), "points": len(base),
                      "build_seconds": build, "build_threads": a.threads, "M": a.m,
                      "ef_construction": a.ef_construction, "runs": runs}))

    import faiss
    faiss.omp_set_num_threads(a.threads)
    f = faiss.IndexHNSWFlat(x.shape[1], a.m, faiss.METRIC_INNER_PRODUCT)
    f.hnsw.efConstruction = a.ef_construction
    t = time.perf_counter()
    f.add(base)
    build = time.perf_counter() - t
    runs = []
    for ef in efs:
        f.hnsw.efSearch = max(ef, k)
        faiss.omp_set_num_threads(1)
        t = time.perf_counter()
        s, _ = f.search(queries, k)
        one = q / (time.perf_counter() - t)
        faiss.omp_set_num_threads(a.threads)
        t = time.perf_counter()
        f.search(queries, k)
        allt = q / (time.perf_counter() - t)
        runs.append({"ef": ef, "recall_at_1": recall(s, kth1, 1), "recall_at_10": recall(s, kth10, 10),
                     "qps_one_thread": one, "qps_all_threads": allt})
    print(json.dumps({"peer": "faiss-hnsw", "version": faiss.__version__, "points": len(base),
                      "build_seconds": build, "build_threads": a.threads, "M": a.m,
                      "ef_construction": a.ef_construction, "runs": runs}))


if __name__ == "__main__":
    main()
