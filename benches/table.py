#!/usr/bin/env python3
"""Markdown tables of a benches/run.sh results file (JSON Lines): embedding throughput per engine
and corpus with simsum/peer ratios, index recall and speed next to hnswlib / faiss / numpy, and the
per-stage times of the cluster and pipeline benchmarks. Rounds are combined by the median."""
import collections, json, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = statistics.median
out = []
p = out.append

machine = next((r["machine"] for r in rows if "machine" in r), {})
model = next((r["model"] for r in rows if "model" in r), {})
emb = [r for r in rows if r["stage"] == "embed" and r["engine"] == "simsum"]
peak32 = med([r["f32_gemm_peak_gflops"] for r in emb]) if emb else None
peak16 = [r["bf16_gemm_peak_gflops"] for r in emb if r.get("bf16_gemm_peak_gflops")]
p(f"Machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} threads, SIMD {machine.get('simd', '?')}; model "
  f"{model.get('name', '?')} (weights sha256 {str(model.get('weights_sha256', '?'))[:12]}...).")
if peak32:
    p(f"Measured GEMM peak: f32 {peak32:.0f} GFLOP/s" +
      (f", bf16 {med(peak16):.0f} GFLOP/s" if peak16 else "") + ".")
p("")

# Embedding: tokens/s per (corpus, engine), median over rounds.
tps = collections.defaultdict(list)
extra, gf = {}, {}
for r in rows:
    if r["stage"] != "embed":
        continue
    if r["engine"] == "simsum":
        for run in r["runs"]:
            key = (r["corpus"], f"simsum {run['dtype']}")
            tps[key].append(run["tokens_per_s"])
            gf.setdefault(key, []).append(run["gflops"])
            extra[key] = (run["tokens"], None, run.get("cosine_to_f32_min"),
                          run.get("peak_rss_mib"), run["batch_size"])
    else:
        key = (r["corpus"], r["peer"])
        tps[key].append(r["tokens_per_s"])
        extra[key] = (r["tokens"], None, r.get("min_cosine_to_sentence_transformers"), None,
                      r["batch_size"])
if tps:
    p("### Embedding (CPU, batch 32, tokens/s = real tokens incl. [CLS]/[SEP], padding excluded)")
    p("")
    p("% of GEMM peak: achieved GFLOP/s (FLOP count of the model, see BENCHMARKS.md) over the median "
      "f32 matrix-product peak measured in this run.")
    p("")
    p("| corpus | engine | tokens | tokens/s | x sentence-transformers | x ONNX Runtime | % of GEMM peak | min cos | peak RSS MiB |")
    p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for corpus in ["short", "long", "seeds"]:
        st = tps.get((corpus, "sentence-transformers"))
        ort = tps.get((corpus, "onnxruntime"))
        for key in sorted(k for k in tps if k[0] == corpus):
            v = med(tps[key])
            tokens, _, cos, rss, _ = extra[key]
            # Against the run's median measured peak: single peak measurements are noisy.
            frac = med(gf[key]) / peak32 if key in gf and peak32 else None
            cells = [corpus, key[1], f"{tokens:,}", f"{v:,.0f}",
                     f"{v / med(st):.2f}" if st else "-",
                     f"{v / med(ort):.2f}" if ort else "-",
                     f"{frac * 100:.0f}%" if frac else "-",
                     f"{cos:.5f}" if cos is not None else "-",
                     f"{rss:.0f}" if rss else "-"]
            p("| " + " | ".join(cells) + " |")
    p("")

# Index.
idx = [r for r in rows if r["stage"] == "index"]
if idx:
    p("### Index (HNSW M=16, ef_construction=200, top 10; recall counts ties with the 10th exact neighbour)")
    p("")
    p("| engine | points | build s | ef | recall@1 | recall@10 | q/s 1 thread | q/s all threads | x hnswlib q/s (1 t) |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    by = collections.defaultdict(list)
    for r in idx:
        name = "simsum" if r["engine"] == "simsum" else r["peer"]
        by[name].append(r["result"] if name == "simsum" else r)
    hl = {}
    for r in by.get("hnswlib", []):
        for run in r["runs"]:
            hl.setdefault(run["ef"], []).append(run["qps_one_thread"])
    for name in ["simsum", "hnswlib", "faiss-hnsw"]:
        runs = by.get(name, [])
        if not runs:
            continue
        build = med([r["build_seconds"] for r in runs])
        per_ef = collections.defaultdict(list)
        for r in runs:
            for run in r["runs"]:
                per_ef[run["ef"]].append(run)
        for ef, rs in sorted(per_ef.items()):
            q1 = med([x["qps_one_thread"] for x in rs])
            ratio = f"{q1 / med(hl[ef]):.2f}" if ef in hl else "-"
            p(f"| {name} | {runs[0]['points']:,} | {build:.1f} | {ef} | "
              f"{med([x['recall_at_1'] for x in rs]):.4f} | {med([x['recall_at_10'] for x in rs]):.4f} | "
              f"{q1:,.0f} | {med([x['qps_all_threads'] for x in rs]):,.0f} | {ratio} |")
    bf = [r for r in idx if r.get("peer") == "numpy-brute-force"]
    simsum_exact = [r["result"]["exact_qps_one_thread"] for r in idx if r["engine"] == "simsum"]
    if bf:
        p(f"| numpy brute force (all threads) | {bf[0]['points']:,} | - | exact | 1 | 1 | - | "
          f"{med([r['qps_all_threads'] for r in bf]):,.0f} | - |")
    if simsum_exact:
        p(f"| simsum exact scan (1 thread) | {idx[0].get('result', {}).get('points', 0):,} | - | exact | 1 | 1 | "
          f"{med(simsum_exact):,.0f} | - | - |")
    sz = [r["result"]["index_mib_on_disk"] for r in idx if r["engine"] == "simsum"]
    if sz:
        p("")
        p(f"simsum index size on disk: {med(sz):.1f} MiB.")
    p("")

# Cluster and pipeline stages.
for stage in ["pipeline", "cluster"]:
    for r in [r for r in rows if r["stage"] == stage]:
        secs = "median_seconds" if stage == "cluster" else "seconds"
        total = r.get("total_median_seconds", r.get("total_seconds"))
        what = (f"{r.get('documents', '?')} documents, {r.get('embedded', '?')} texts embedded"
                if stage == "pipeline" else f"{r['items']} items")
        p(f"### {stage.capitalize()} on {r['corpus']} ({what}; {r.get('themes')} themes, "
          f"{r.get('unclustered')} unclustered)")
        p("")
        p("| stage | seconds |")
        p("| --- | ---: |")
        for s in r["stages"]:
            p(f"| {s['stage']} | {s[secs]:.3f} |")
        p(f"| **total** | **{total:.3f}** |")
        p("")

print("\n".join(out))
