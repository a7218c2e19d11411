#!/usr/bin/env bash
# Soak test of `simsum serve`: a steady search load for MINUTES (default 30) while a document is
# uploaded every UPLOAD_EVERY seconds (default 180) and the themes are clustered again every
# RECLUSTER_EVERY seconds (default 300). Measures, per minute: resident memory (VmRSS, sampled
# every 10 s), searches answered, p50/p99 latency, errors, the load average; and judges the run:
#   - memory flat: from minute 10 to the end, the largest per-minute median RSS within 10% of the
#     smallest (the peak sample, e.g. while re-clustering, is reported beside it);
#   - no error (every search, upload and re-clustering answered 2xx);
#   - p99 steady: no minute after the fifth with a p99 over twice the median minute's p99.
#
# The load is open-loop and paced (RATE searches/s, default 40, over 4 connections), every query
# text new (a counter appended, so no cache answers it), so the server is loaded, not saturated,
# and latency is the server's own. Uploads write one of three documents (`soak-0..2.txt`) in turn
# with new text each time, so both the "new document" and the "changed document" paths run while
# the corpus stays the same size.
#
#   benches/soak.sh                              30 minutes (the issue's run)
#   MINUTES=3 UPLOAD_EVERY=40 RECLUSTER_EVERY=60 benches/soak.sh     a quick look
#
# Corpus: seeds/ plus the first DOCS (default 3000) documents of benches/data/known-items/docs.jsonl
# when it exists (benches/corpora/known_items.py builds it). Model: the default (set MODEL=hash:384
# for a model-free run). Needs cargo (builds target/release/simsum unless BIN is set) and python3.
# Writes benches/results/soak-<date>.json (per-minute rows and the verdict) and prints a table;
# exits 1 when a judgement fails.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-30}
RATE=${RATE:-40}
UPLOAD_EVERY=${UPLOAD_EVERY:-180}
RECLUSTER_EVERY=${RECLUSTER_EVERY:-300}
DOCS=${DOCS:-3000}
PORT=${PORT:-7719}
WORK=$(mktemp -d)
OUT=benches/results/soak-$(date -u +%Y-%m-%d).json
mkdir -p benches/results
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
log() { echo "== $*" >&2; }

log "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, flags: $(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16' /proc/cpuinfo | sort -u | xargs)"
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=target/release/simsum
fi
MODEL_ARGS=()
[ -n "${MODEL:-}" ] && MODEL_ARGS=(--model "$MODEL")

mkdir -p "$WORK/corpus"
cp seeds/*.txt "$WORK/corpus/"
if [ -f benches/data/known-items/docs.jsonl ]; then
  head -n "$DOCS" benches/data/known-items/docs.jsonl > "$WORK/corpus/known-items.jsonl"
fi
log "indexing $(ls "$WORK/corpus" | wc -l) file(s) into $WORK/index"
"$BIN" "${MODEL_ARGS[@]}" --index "$WORK/index" index "$WORK/corpus" >&2
"$BIN" "${MODEL_ARGS[@]}" --index "$WORK/index" cluster >/dev/null
"$BIN" "${MODEL_ARGS[@]}" --index "$WORK/index" serve --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/serve.log" >&2; exit 2; }
log "serving (pid $PID); soak for $MINUTES min at $RATE searches/s, upload every ${UPLOAD_EVERY}s, re-cluster every ${RECLUSTER_EVERY}s"

python3 - "$PORT" "$PID" "$MINUTES" "$RATE" "$UPLOAD_EVERY" "$RECLUSTER_EVERY" "$OUT" "$BIN" <<'EOF'
import http.client, json, os, statistics, sys, threading, time
port, pid, minutes, rate, up_every, rc_every, out, binary = sys.argv[1:9]
port = int(port); pid = int(pid); minutes = float(minutes); rate = float(rate)
up_every = float(up_every); rc_every = float(rc_every)
WORDS = ("vocational training local workers environmental protection investment culture "
         "exchange cooperation standards youth health trade technology media forum garden "
         "python library network security compiler database font audio graphics").split()

def rss_mb():
    """(VmRSS, RssAnon, RssFile) in MB: RssFile is mapped files (the model's weights, the
    index's graphs) paged in, which the kernel may drop again; RssAnon is the heap."""
    got = {}
    for line in open(f"/proc/{pid}/status"):
        k = line.split(":")[0]
        if k in ("VmRSS", "RssAnon", "RssFile"):
            got[k] = int(line.split()[1]) / 1024
    return tuple(got.get(k, float("nan")) for k in ("VmRSS", "RssAnon", "RssFile"))

start = time.time()
end = start + minutes * 60
lock = threading.Lock()
lat = {}      # minute -> [ms]
errors = {}   # minute -> count
events = []   # (t, kind, status, seconds)
counter = [0]

def minute(t):
    return int((t - start) // 60)

def request(conn, method, path, body):
    conn.request(method, path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    return r.status, data

def searcher(i, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    period = n / rate
    nxt = start + i * period / n
    while True:
        now = time.time()
        if now >= end:
            break
        if nxt > now:
            time.sleep(nxt - now)
        nxt += period
        with lock:
            counter[0] += 1
            c = counter[0]
        q = " ".join(WORDS[(c * k) % len(WORDS)] for k in (1, 3, 7)) + f" {c}"
        t0 = time.time()
        try:
            status, _ = request(conn, "POST", "/v1/search", {"query": q, "k": 10})
            ok = status == 200
        except Exception:
            ok = False
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        ms = (time.time() - t0) * 1000
        m = minute(t0)
        with lock:
            if ok:
                lat.setdefault(m, []).append(ms)
            else:
                errors[m] = errors.get(m, 0) + 1

def chores():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    n_up = 0
    next_up, next_rc = start + up_every, start + rc_every
    while time.time() < end:
        now = time.time()
        if now >= next_up:
            name = f"soak-{n_up % 3}.txt"
            text = (f"Soak report {n_up}\nDate: 2024-01-{1 + n_up % 28:02d}\nSource: soak\n\n"
                    f"I. Round {n_up}\n\n" +
                    " ".join(f"Sentence {n_up}.{k} about {WORDS[(n_up + k) % len(WORDS)]} and "
                             f"{WORDS[(n_up * 5 + k) % len(WORDS)]}." for k in range(30)))
            t0 = time.time()
            try:
                status, _ = request(conn, "POST", "/v1/documents", {"name": name, "text": text, "format": "seed"})
            except Exception as e:
                status = str(e)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            events.append((round(t0 - start, 1), "upload", status, round(time.time() - t0, 2)))
            n_up += 1
            next_up += up_every
        if now >= next_rc:
            t0 = time.time()
            try:
                status, _ = request(conn, "POST", "/v1/themes", {})
            except Exception as e:
                status = str(e)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            events.append((round(t0 - start, 1), "recluster", status, round(time.time() - t0, 2)))
            next_rc += rc_every
        time.sleep(0.5)

rss = []  # (seconds, VmRSS MB, RssAnon MB, RssFile MB)
def sampler():
    while time.time() < end:
        rss.append((round(time.time() - start), *(round(x, 1) for x in rss_mb())))
        time.sleep(10)

n_conn = 4
threads = [threading.Thread(target=searcher, args=(i, n_conn)) for i in range(n_conn)]
threads += [threading.Thread(target=chores), threading.Thread(target=sampler)]
for t in threads:
    t.start()
last_print = -1
while any(t.is_alive() for t in threads):
    time.sleep(5)
    m = minute(time.time()) - 1
    if m > last_print and m >= 0:
        with lock:
            xs = sorted(lat.get(m, []))
        if xs:
            print(f"minute {m:3d}: {len(xs)/60:5.1f}/s p50 {xs[len(xs)//2]:6.1f} ms p99 {xs[int(len(xs)*0.99)]:6.1f} ms "
                  f"errors {errors.get(m, 0)} RSS {rss[-1][1] if rss else '?'} MB anon {rss[-1][2] if rss else '?'} MB load {os.getloadavg()[0]:.2f}",
                  file=sys.stderr, flush=True)
        last_print = m
for t in threads:
    t.join()

rows = []
for m in range(int(minutes)):
    xs = sorted(lat.get(m, []))
    samples = [r[1] for r in rss if m * 60 <= r[0] < (m + 1) * 60]
    anon = [r[2] for r in rss if m * 60 <= r[0] < (m + 1) * 60]
    files = [r[3] for r in rss if m * 60 <= r[0] < (m + 1) * 60]
    rows.append({"minute": m, "searches": len(xs),
                 "p50_ms": round(xs[len(xs) // 2], 1) if xs else None,
                 "p99_ms": round(xs[int(len(xs) * 0.99)], 1) if xs else None,
                 "errors": errors.get(m, 0),
                 "rss_mb": max(samples) if samples else None,
                 "anon_mb": statistics.median(anon) if anon else None,
                 "file_mb": statistics.median(files) if files else None})
flat_from = min(10, int(minutes) // 3)
# Memory is judged on each minute's median sample: re-clustering takes memory for a few
# seconds and gives it back, and a one-off sample landing in that moment is no growth. The
# largest sample is reported beside it.
by_minute, anon_by_minute = {}, {}
for s, mb, anon, _ in rss:
    by_minute.setdefault(s // 60, []).append(mb)
    anon_by_minute.setdefault(s // 60, []).append(anon)
late = [statistics.median(v) for m, v in by_minute.items() if m >= flat_from]
late_anon = [statistics.median(v) for m, v in anon_by_minute.items() if m >= flat_from]
rss_spread = max(late) / min(late) if late else float("nan")
peak = max((r[1] for r in rss if r[0] >= flat_from * 60), default=float("nan"))
p99s = [r["p99_ms"] for r in rows[5:] if r["p99_ms"] is not None] or [r["p99_ms"] for r in rows if r["p99_ms"]]
p99_median = statistics.median(p99s)
bad_events = [e for e in events if e[2] != 200]
verdict = {
    "memory_flat": rss_spread <= 1.10,
    "rss_spread_from_minute": flat_from,
    "rss_median_max_over_min": round(rss_spread, 3),
    "rss_median_first_mb": late[0] if late else None,
    "rss_median_last_mb": late[-1] if late else None,
    "rss_peak_mb": peak,
    "anon_median_max_over_min": round(max(late_anon) / min(late_anon), 3) if late_anon else None,
    "no_errors": sum(errors.values()) == 0 and not bad_events,
    "p99_steady": max(p99s) <= 2 * p99_median,
    "p99_median_ms": round(p99_median, 1),
    "p99_max_ms": round(max(p99s), 1),
}
cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
flags = sorted({f for l in open("/proc/cpuinfo") if l.startswith("flags") for f in l.split()
                if f in ("avx2", "fma", "avx512f", "avx512_bf16")})
with open(out, "w") as f:
    f.write(json.dumps({"kind": "soak", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "cpu": cpu, "flags": flags, "minutes": minutes, "rate": rate,
                        "upload_every_s": up_every, "recluster_every_s": rc_every,
                        "rows": rows, "rss": rss, "events": events, "verdict": verdict}) + "\n")
print("\nminute  searches  p50 ms  p99 ms  errors  RSS MB  anon MB  file MB", file=sys.stderr)
for r in rows:
    print(f"{r['minute']:6d}  {r['searches']:8d}  {r['p50_ms']!s:>6}  {r['p99_ms']!s:>6}  {r['errors']:6d}  {r['rss_mb']!s:>6}  {r['anon_mb']!s:>7}  {r['file_mb']!s:>7}", file=sys.stderr)
print("events:", events, file=sys.stderr)
print("verdict:", json.dumps(verdict), file=sys.stderr)
print(f"written: {out}", file=sys.stderr)
sys.exit(0 if verdict["memory_flat"] and verdict["no_errors"] and verdict["p99_steady"] else 1)
EOF
