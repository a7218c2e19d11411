#!/usr/bin/env bash
# One command for the CPU benchmark: simsum and its peers, alternately, on the same data, in the
# same run. Writes benches/results/<date>-<machine>.json (every raw figure, one JSON object per
# line) and the Markdown table benches/results/<date>-<machine>.md (see BENCHMARKS.md).
#
#   benches/run.sh            full run (about 30-40 minutes on 2 cores, the first time more:
#                             it builds the corpora, the peers' venv and 100k index vectors)
#   benches/run.sh --quick    smaller samples, one round (about 10 minutes)
#
# Stages: embedding (short texts, long sections, seed paragraphs; simsum f32 and bf16 against
# sentence-transformers and ONNX Runtime), index (>= 100k real embeddings; simsum's HNSW against
# hnswlib, faiss HNSW and numpy brute force), cluster and the end-to-end pipeline (simsum only:
# no peer does ingest -> report; the clustering peers are in benches/quality/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

DATA=benches/data
PY=benches/.venv/bin/python
BIN=target/release/simsum
MACHINE=$(hostname -s 2>/dev/null || echo machine)
STAMP=$(date -u +%Y-%m-%d)
mkdir -p benches/results
OUT=benches/results/$STAMP-$MACHINE.json
: > "$OUT"
log() { echo "== $*" >&2; }
record() { # stage, extra JSON fields; reads JSON objects (one per line or pretty) on stdin
  "$PY" -c '
import json, sys
stage, extra = sys.argv[1], json.loads(sys.argv[2])
text = sys.stdin.read()
dec, i = json.JSONDecoder(), 0
while i < len(text):
    if text[i].isspace():
        i += 1; continue
    obj, i = dec.raw_decode(text, i)
    print(json.dumps(dict(stage=stage, **extra, **obj)))' "$1" "$2" >> "$OUT"
}

log "build"
cargo build --release --locked -q
[ -x "$PY" ] || bash benches/peers/setup.sh
[ -f $DATA/short.txt ] && [ -f $DATA/long.txt ] || python3 benches/corpora/build.py
MODEL_DIR=$("$BIN" model info --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["path"])')

# Seed paragraphs, one per line (the seeds' own text, long enough to be an initiative).
"$BIN" sections --json seeds | "$PY" -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    for s in d["sections"]:
        for it in s["initiatives"]:
            print(it["text"].replace("\n", " "))' > $DATA/seeds.txt

if [ $QUICK = 1 ]; then ROUNDS=1; SHORT=2000; LONG=200; else ROUNDS=2; SHORT=6000; LONG=800; fi
for round in $(seq 1 $ROUNDS); do
  for corpus in short long seeds; do
    case $corpus in short) n=$SHORT ;; long) n=$LONG ;; seeds) n=1000 ;; esac
    log "embed $corpus (round $round): simsum"
    "$BIN" bench embed --texts $DATA/$corpus.txt --limit $n --dtype f32,bf16 --batch-sizes 32 --json \
      | record embed "{\"corpus\":\"$corpus\",\"round\":$round,\"engine\":\"simsum\"}"
    log "embed $corpus (round $round): peers"
    "$PY" benches/peers/embed_peers.py --model-dir "$MODEL_DIR" --texts $DATA/$corpus.txt --limit $n \
      --batch-size 32 | record embed "{\"corpus\":\"$corpus\",\"round\":$round,\"engine\":\"peer\"}"
  done
done

# >= 100k real embeddings for the index benchmark: distinct texts only (duplicate points distort
# every HNSW library's graph and recall), from the short texts, the manual-page chunks, their
# sentences and clauses, embedded once by simsum (bf16 on CPUs that have it: cosine >= 0.9999 to
# f32, and the index benchmark is about the vectors' geometry, not their last digits).
VEC=$DATA/index-vectors-v2.npy
if [ ! -f $VEC ]; then
  log "embedding the index corpus (once)"
  "$PY" -c '
import re, sys
seen, out = set(), []
def add(t):
    t = t.strip()
    if len(t.split()) >= 3 and t not in seen:
        seen.add(t); out.append(t)
for l in open(sys.argv[1]):
    add(l)
chunks = [l.strip() for l in open(sys.argv[2]) if l.strip()]
for c in chunks:
    add(c)
    for s in re.split(r"(?<=[.!?])\s+", c):
        add(s)
        for part in re.split(r"[;:]\s+", s):
            add(part)
print("\n".join(out[:110000]))
print(f"{min(len(out), 110000)} distinct texts", file=sys.stderr)' $DATA/short.txt $DATA/long.txt > $DATA/index-texts.txt
  "$BIN" embed --input $DATA/index-texts.txt --dtype bf16 --npy $VEC
fi
if [ $QUICK = 1 ]; then Q=500; else Q=2000; fi
for round in $(seq 1 $ROUNDS); do
  log "index (round $round): simsum"
  "$BIN" bench index --vectors $VEC --queries $Q --ef 16,32,64,128,256 --json \
    | record index "{\"round\":$round,\"engine\":\"simsum\"}"
  log "index (round $round): peers"
  "$PY" benches/peers/index_peers.py --vectors $VEC --queries $Q \
    | record index "{\"round\":$round,\"engine\":\"peer\"}"
done

log "pipeline + cluster"
"$BIN" bench pipeline seeds --json | record pipeline '{"corpus":"seeds","engine":"simsum"}'
"$PY" -c '
import json, sys
for i, l in enumerate(open(sys.argv[1])):
    if i >= int(sys.argv[2]): break
    r = json.loads(l); print(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"]}))' \
  $DATA/labelled.jsonl $([ $QUICK = 1 ] && echo 1500 || echo 6000) > $DATA/packages.jsonl
"$BIN" bench pipeline $DATA/packages.jsonl --json | record pipeline '{"corpus":"packages","engine":"simsum"}'
IDX=$(mktemp -d)
"$BIN" --index "$IDX" index $DATA/packages.jsonl >/dev/null
"$BIN" --index "$IDX" bench cluster --json | record cluster '{"corpus":"packages","engine":"simsum"}'
rm -rf "$IDX"

"$PY" benches/table.py "$OUT" > "${OUT%.json}.md"
log "wrote $OUT and ${OUT%.json}.md"
cat "${OUT%.json}.md"
