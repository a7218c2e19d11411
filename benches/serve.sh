#!/usr/bin/env bash
# Load test of `simsum serve` against txtai's API, in the same run, on the same machine, with
# the same model folder and the same data (the paragraphs of seeds/).
#
# Measures, for 1, 16 and 64 concurrent clients (each a keep-alive connection sending one
# request after another): requests/s, p50/p99 latency and errors, on
#   search      simsum POST /v1/search {"query", "k": 10}    txtai GET /search?query=&limit=10
#               (the 28 seed queries over and over: simsum answers repeats from its query cache)
#   search-new  the same, every query text new (a counter appended): no cache can help
#   embeddings  simsum POST /v1/embeddings {"input": text}   txtai GET /transform?text=
# then a soak: 16 clients searching simsum for SOAK seconds (default 600) while its resident
# memory (VmRSS) is sampled every 5 s.
#
#   benches/serve.sh                      full run (about 15 minutes on 2 cores)
#   DURATION=5 SOAK=60 benches/serve.sh   quick look
#
# Needs: cargo (builds target/release/simsum), python3 (venv target/venv-txtai with
# `txtai[api]`, installed on first use), the default model (`simsum model info` finds it).
# Writes benches/results/serve-<date>.json (one JSON object per line) and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
SOAK=${SOAK:-600}
CLIENTS=${CLIENTS:-"1 16 64"}
SIMSUM_PORT=${SIMSUM_PORT:-7711}
TXTAI_PORT=${TXTAI_PORT:-7712}
VENV=target/venv-txtai
WORK=$(mktemp -d)
OUT=benches/results/serve-$(date -u +%Y-%m-%d).json
mkdir -p benches/results
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
log() { echo "== $*" >&2; }

log "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, flags: $(grep -m1 -o -w -E 'avx2|fma|avx512f' /proc/cpuinfo | sort -u | xargs)"
# BIN=target/debug/simsum reuses a dev build (opt-level 2, dependencies at 3) instead.
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=target/release/simsum
fi
MODEL_DIR=$("$BIN" model info 2>/dev/null | sed -n 's/^path  *//p' | head -1)
[ -d "$MODEL_DIR" ] || { echo "could not find the model folder with \`simsum model info\`" >&2; exit 2; }
log "model folder: $MODEL_DIR"

if [ ! -x "$VENV/bin/uvicorn" ]; then
  log "installing txtai[api] into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "txtai[api]"
fi

# The seed paragraphs, the data both servers index; the queries are their first sentences.
python3 - "$WORK" <<'EOF'
import json, pathlib, re, sys
work = pathlib.Path(sys.argv[1])
paras = []
for f in sorted(pathlib.Path("seeds").glob("*.txt")):
    for p in re.split(r"\n\s*\n", f.read_text()):
        p = " ".join(p.split())
        if len(p) > 80:
            paras.append(p)
(work / "paras.json").write_text(json.dumps(paras))
queries = [re.split(r"(?<=[.!?])\s", p)[0][:200] for p in paras]
(work / "queries.json").write_text(json.dumps(queries))
print(f"{len(paras)} paragraphs, {len(queries)} queries", file=sys.stderr)
EOF

log "simsum: index the seeds, serve on :$SIMSUM_PORT"
"$BIN" --index "$WORK/idx" index seeds >/dev/null
"$BIN" --index "$WORK/idx" serve --addr 127.0.0.1:$SIMSUM_PORT 2>"$WORK/simsum.log" &
SIMSUM_PID=$!; PIDS+=("$SIMSUM_PID")

log "txtai: index the same paragraphs with $MODEL_DIR, serve on :$TXTAI_PORT"
cat > "$WORK/txtai.yml" <<EOF
writable: true
embeddings:
  path: $MODEL_DIR
  content: true
EOF
(cd "$WORK" && CONFIG="$WORK/txtai.yml" exec "$OLDPWD/$VENV/bin/uvicorn" txtai.api:app --host 127.0.0.1 --port $TXTAI_PORT --log-level warning) 2>"$WORK/txtai.log" &
TXTAI_PID=$!; PIDS+=("$TXTAI_PID")

python3 - "$WORK" "$SIMSUM_PORT" "$TXTAI_PORT" "$DURATION" "$SOAK" "$CLIENTS" "$SIMSUM_PID" "$OUT" <<'EOF'
"""Closed-loop load: N threads, each a keep-alive HTTP/1.1 connection sending the next request
as soon as the last answer arrived; latency per request, errors are non-2xx or failures."""
import http.client, json, pathlib, sys, threading, time, urllib.parse

work, sp, tp, duration, soak, clients, spid, out = sys.argv[1:9]
work = pathlib.Path(work); duration = float(duration); soak = float(soak)
clients = [int(c) for c in clients.split()]
paras = json.loads((work / "paras.json").read_text())
queries = json.loads((work / "queries.json").read_text())

def wait_up(port, path, secs=600):
    t0 = time.time()
    while time.time() - t0 < secs:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5); c.request("GET", path)
            if c.getresponse().status < 500: return
        except OSError: pass
        time.sleep(0.5)
    sys.exit(f"server on {port} did not come up")

def req(conn, method, path, body=None):
    h = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = conn.getresponse(); r.read(); return r.status

wait_up(int(sp), "/health"); wait_up(int(tp), "/count")
c = http.client.HTTPConnection("127.0.0.1", int(tp), timeout=600)
assert req(c, "POST", "/add", [{"id": str(i), "text": p} for i, p in enumerate(paras)]) == 200
assert req(c, "GET", "/index") == 200
print(f"txtai indexed {len(paras)} paragraphs", file=sys.stderr)

def make(server, kind):
    if server == "simsum":
        port = int(sp)
        if kind.startswith("search"): return port, lambda q: ("POST", "/v1/search", {"query": q, "k": 10})
        return port, lambda q: ("POST", "/v1/embeddings", {"input": q})
    port = int(tp)
    if kind.startswith("search"): return port, lambda q: ("GET", "/search?" + urllib.parse.urlencode({"query": q, "limit": 10}), None)
    return port, lambda q: ("GET", "/transform?" + urllib.parse.urlencode({"text": q}), None)

def load(server, kind, n, secs, rss_pid=None):
    port, build = make(server, kind)
    lat, errors, stop = [], [0], time.time() + secs
    lock = threading.Lock()
    def worker(w):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i, mine, err = w, [], 0
        while time.time() < stop:
            q = queries[i % len(queries)]
            if kind == "search-new": q = f"{q} (request {i})"
            m, p, b = build(q); i += n
            t = time.perf_counter()
            try:
                s = req(conn, m, p, b)
                if s >= 300: err += 1
            except Exception:
                err += 1; conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - t)
        with lock: lat.extend(mine); errors[0] += err
    rss = []
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(n)]
    t0 = time.time(); [t.start() for t in ts]
    if rss_pid:
        while any(t.is_alive() for t in ts):
            kb = int([l for l in open(f"/proc/{rss_pid}/status") if l.startswith("VmRSS")][0].split()[1])
            rss.append([round(time.time() - t0), kb // 1024]); time.sleep(5)
    [t.join() for t in ts]
    took = time.time() - t0
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000 if lat else float("nan")
    r = dict(server=server, kind=kind, clients=n, seconds=round(took, 1), requests=len(lat),
             per_s=round(len(lat) / took, 1), p50_ms=round(q(0.5), 1), p99_ms=round(q(0.99), 1), errors=errors[0])
    if rss: r["rss_mb"] = rss
    return r

results = []
with open(out, "a") as f:
    for kind in ["search", "search-new", "embeddings"]:
        for n in clients:
            for server in ["simsum", "txtai"]:
                load(server, kind, n, min(3, duration))  # warm-up
                r = load(server, kind, n, duration)
                results.append(r); f.write(json.dumps(r) + "\n"); f.flush()
                print(f"{kind:10} {server:6} {n:3} clients: {r['per_s']:8.1f}/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  errors {r['errors']}", file=sys.stderr)
    if soak > 0:
        r = load("simsum", "search", 16, soak, rss_pid=int(spid)); r["kind"] = "soak-search"
        f.write(json.dumps(r) + "\n")
        print(f"soak: {r['per_s']}/s over {r['seconds']} s, p99 {r['p99_ms']} ms, errors {r['errors']}, RSS MB {r['rss_mb'][0][1]} -> {r['rss_mb'][-1][1]} (max {max(x[1] for x in r['rss_mb'])})", file=sys.stderr)

print("\n| kind | clients | simsum /s | p50 ms | p99 ms | err | txtai /s | p50 ms | p99 ms | err | ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for kind in ["search", "search-new", "embeddings"]:
    for n in clients:
        a = next(r for r in results if r["server"] == "simsum" and r["kind"] == kind and r["clients"] == n)
        b = next(r for r in results if r["server"] == "txtai" and r["kind"] == kind and r["clients"] == n)
        print(f"| {kind} | {n} | {a['per_s']} | {a['p50_ms']} | {a['p99_ms']} | {a['errors']} | {b['per_s']} | {b['p50_ms']} | {b['p99_ms']} | {b['errors']} | {a['per_s'] / max(b['per_s'], 1e-9):.1f}x |")
EOF
log "raw figures appended to $OUT"
