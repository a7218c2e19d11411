#!/usr/bin/env bash
# Builds every fuzz target once and runs each for SECONDS (or until RUNS executions), writing
# what each run did to fuzz/results/: per target a folder with libFuzzer's log and any crash,
# timeout or out-of-memory input, and one line per target in fuzz/results/summary.tsv
# (target, seconds, executions, executions/s, coverage edges, features, corpus size, crashes).
#
#   fuzz/run.sh SECONDS [TARGET...]     (default: every target in fuzz/fuzz_targets)
#   RUNS=1000000 fuzz/run.sh 7200       each target until a million executions (or 2 hours)
#   JOBS=2 fuzz/run.sh 600 ingest_pdf   two fuzzing processes (libFuzzer -fork) for one target
#   NO_BUILD=1 fuzz/run.sh 60           reuse the last build as it is
#
# The build is made once, by `cargo fuzz build`, and each target is then run as the binary it
# left in fuzz/target/<host triple>/release/ (no cargo between targets, so nothing is rebuilt
# or re-checked per target).
#
# Uses cargo-fuzz 0.13.2 (installed into fuzz/target/tools when absent) on a stable toolchain
# with RUSTC_BOOTSTRAP=1, without a sanitizer (simsum is safe Rust; ASan would slow every
# execution). New inputs go to a scratch folder; the committed corpus (fuzz/corpus/TARGET) is
# read, never written. A crash is copied to fuzz/results/TARGET/ and the script exits 1 after
# the last target: add the input to fuzz/corpus/TARGET once the bug is fixed.
set -uo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
export RUSTC_BOOTSTRAP=1

if command -v cargo-fuzz >/dev/null 2>&1; then
  FUZZ=(cargo fuzz)
else
  if [ ! -x target/tools/bin/cargo-fuzz ]; then
    cargo install --locked cargo-fuzz --version 0.13.2 --root target/tools || exit 2
  fi
  FUZZ=(target/tools/bin/cargo-fuzz fuzz)
fi

if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  TARGETS=()
  for f in fuzz_targets/*.rs; do TARGETS+=("$(basename "$f" .rs)"); done
fi

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN_DIR=target/$TRIPLE/release
if [ -z "${NO_BUILD:-}" ]; then
  echo "building ${#TARGETS[@]} targets once (release, no sanitizer) ..."
  "${FUZZ[@]}" build --sanitizer none || exit 2
fi
for t in "${TARGETS[@]}"; do
  [ -x "$BIN_DIR/$t" ] || { echo "no build of $t in $BIN_DIR (run without NO_BUILD)" >&2; exit 2; }
done
RUN_ARGS=()
[ -n "${RUNS:-}" ] && RUN_ARGS+=(-runs="$RUNS")
[ -n "${JOBS:-}" ] && RUN_ARGS+=(-fork="$JOBS")

mkdir -p results
SUMMARY=results/summary.tsv
printf 'target\tseconds\texecutions\texec_per_s\tcov\tft\tcorpus\tcrashes\tdate\tcpu\n' > "$SUMMARY"
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
failed=0
for t in "${TARGETS[@]}"; do
  out=results/$t
  rm -rf "$out" && mkdir -p "$out"
  scratch=$(mktemp -d)
  echo "== $t: ${SECONDS_EACH}s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  # -timeout=1: an input running over a second is a finding, like a panic.
  "$BIN_DIR/$t" "$scratch" "corpus/$t" \
    -max_total_time="$SECONDS_EACH" -timeout=1 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$out/" "${RUN_ARGS[@]}" > "$out/log.txt" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/log.txt" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$out/log.txt" | grep -o '[0-9]*$' | tail -1)
  if [ -z "$execs" ]; then
    # -fork (JOBS > 1) prints no final stats: "fuzzed for N iterations", "exiting: 0 time: Ss".
    execs=$(grep -o 'fuzzed for [0-9]* iterations' "$out/log.txt" | grep -o '[0-9]\+' | tail -1)
    took=$(grep -o 'exiting: [0-9]* time: [0-9]*s' "$out/log.txt" | grep -o '[0-9]*s$' | tr -d s | tail -1)
    [ -n "$execs" ] && [ -n "$took" ] && [ "$took" -gt 0 ] && rate=$((execs / took))
  fi
  last=$(grep -E '^#[0-9]+' "$out/log.txt" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*$')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*$')
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*$')
  crashes=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$SECONDS_EACH" "${execs:-0}" "${rate:-0}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$(date -u +%FT%TZ)" "$CPU" >> "$SUMMARY"
  echo "   executions ${execs:-0} (${rate:-0}/s), cov ${cov:-?}, crashes $crashes, exit $rc"
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    grep -m3 -E 'panicked|ERROR|SUMMARY' "$out/log.txt" | sed 's/^/   /'
  fi
  rm -rf "$scratch"
done
column -t -s$'\t' "$SUMMARY" | cut -c1-150
exit $failed
