#!/usr/bin/env python3
"""Markdown table of a GPU run (the JSON Lines benches/gpu/run.sh writes): tokens/s per engine,
precision and batch size, and simsum's ratio to sentence-transformers fp16 at the same batch."""
import json, sys

rows = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "runs" in d:
        for r in d["runs"]:
            rows.append(dict(engine="simsum", corpus=d["corpus"], dtype=r["dtype"], batch=r["batch_size"],
                             tps=r["tokens_per_s"], p99=r.get("batch_latency_p99_ms"),
                             cos=r.get("cosine_to_f32_min"), peak=r.get("peak_fraction")))
    else:
        rows.append(dict(engine="sentence-transformers", corpus=d["corpus"], dtype=d["dtype"],
                         batch=d["batch_size"], tps=d["tokens_per_s"], p99=d.get("batch_p99_ms"),
                         cos=d.get("min_cosine_to_f32"), peak=None))
st16 = {(r["corpus"], r["batch"]): r["tps"] for r in rows
        if r["engine"] == "sentence-transformers" and r["dtype"] == "f16"}
print("| corpus | engine | dtype | batch | tokens/s | x ST fp16 | p99 batch ms | min cos to f32 |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
for r in sorted(rows, key=lambda r: (r["corpus"], r["batch"], r["engine"], r["dtype"])):
    ref = st16.get((r["corpus"], r["batch"]))
    ratio = f"{r['tps'] / ref:.2f}" if ref else ""
    p99 = f"{r['p99']:.1f}" if r["p99"] is not None else ""
    cos = f"{r['cos']:.5f}" if r["cos"] is not None else ""
    print(f"| {r['corpus']} | {r['engine']} | {r['dtype']} | {r['batch']} | {r['tps']:,.0f} | {ratio} | {p99} | {cos} |")
