#!/usr/bin/env bash
# Cold start of `simsum search`: what one query costs from exec to exit, and where it goes.
#
# Indexes seeds/ once, then runs `simsum search "<query>"` RUNS times (default 15), each a new
# process with the model files in the page cache (as a user's second search finds them), and
# prints the median and p90 wall time with the median of each stage `-v` reports:
#   store opened     the index directory's manifest and SQLite opened
#   model loaded     model files found (sha256 memo), then (model ...) tokenizer parsed, the
#                    precision plan (a first run on a bf16 CPU also measures the kernels once),
#                    weights mapped and packed
#   searched         query embedded, level loaded (graph, SQLite rows), hits and why read
#   printed          the answer written
# "process" is the rest: exec, dynamic loading, argument parsing, exit. Timed separately:
# `simsum --version` (the floor of any command) and the same search with `--mode lexical` (no
# model at all). Goal (issue 35): median <= 60 ms.
#
#   benches/cold_start.sh                 release build, 15 runs
#   BIN=target/debug/simsum RUNS=30 benches/cold_start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
QUERY=${QUERY:-"vocational training for local workers"}
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=target/release/simsum
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" --index "$WORK/idx" index seeds >/dev/null 2>&1
"$BIN" --index "$WORK/idx" search "$QUERY" >/dev/null 2>&1 # warm the page cache and the memos

python3 - "$BIN" "$WORK/idx" "$RUNS" "$QUERY" <<'EOF'
import os, re, statistics, subprocess, sys, time
bin_, idx, runs, query = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
flags = open("/proc/cpuinfo").read()
feats = sorted(set(re.findall(r"\b(avx2|fma|avx512f|avx512_bf16)\b", flags)))
cpu = re.search(r"model name\s*:\s*(.*)", flags).group(1)
print(f"CPU: {cpu}, {os.cpu_count()} cores, features {' '.join(feats)}; "
      f"load average {os.getloadavg()[0]:.2f} at start")

def timed(args):
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    dt = (time.perf_counter() - t) * 1e3
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {p.stderr}")
    return dt, p.stderr

def med(xs): return statistics.median(xs)
def p90(xs): return sorted(xs)[min(len(xs) - 1, int(0.9 * len(xs)))]

rows = {}
for name, args in [
    ("search (default, hybrid)", [bin_, "-v", "--index", idx, "search", query]),
    ("search --mode lexical (no model)", [bin_, "-v", "--index", idx, "search", "--mode", "lexical", query]),
    ("simsum --version", [bin_, "--version"]),
]:
    walls, stages = [], {}
    for _ in range(runs):
        dt, err = timed(args)
        walls.append(dt)
        for m in re.finditer(r"^time: (.+?): ([0-9.]+) ms$", err, re.M):
            stages.setdefault(m.group(1), []).append(float(m.group(2)))
    rows[name] = (walls, stages)
    print(f"\n{name}: median {med(walls):.1f} ms, p90 {p90(walls):.1f} ms over {runs} runs")
    accounted = 0.0
    for stage, xs in stages.items():
        print(f"  {stage:<55} {med(xs):7.1f} ms")
        if not stage.startswith("model "):
            accounted += med(xs)
    if stages:
        print(f"  {'process (exec, loading, arguments, exit)':<55} {med(walls) - accounted:7.1f} ms")
print(f"\nload average {os.getloadavg()[0]:.2f} at end")
EOF
