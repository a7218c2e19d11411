#!/usr/bin/env bash
# Runs the GPU benchmark on an NVIDIA machine (CUDA 13 driver; PyTorch and sentence-transformers
# installed; no Rust toolchain and no network needed). Carry there: the binary from
# benches/gpu/build.sh (out/simsum or out/simsum.zst), a model folder in the Hugging Face layout,
# and the corpora (benches/data/short.txt, long.txt).
#
#   benches/gpu/run.sh MODEL_DIR [SIMSUM_BINARY]
#
# Writes benches/results/<date>-gpu-<device>.json (simsum `bench embed --device cuda` for f32,
# f16 and bf16 at batch sizes up to 1024, and the sentence-transformers peer in f32 and fp16 on
# the same texts) and a Markdown table next to it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model="${1:?usage: run.sh MODEL_DIR [SIMSUM_BINARY]}"
bin="${2:-$here/out/simsum}"
if [ ! -x "$bin" ] && [ -f "$here/out/simsum.zst" ]; then
  zstd -q -d -f "$here/out/simsum.zst" -o "$here/out/simsum" && chmod +x "$here/out/simsum"
  bin="$here/out/simsum"
fi
short="${SHORT:-$root/benches/data/short.txt}"
long="${LONG:-$root/benches/data/long.txt}"
n_short="${N_SHORT:-20000}"
n_long="${N_LONG:-4000}"
batches="${BATCHES:-32,128,256,512,1024}"

# CUDA libraries: the ones PyTorch's wheels ship (nvidia/*/lib, nvidia/cu13/lib).
nv="$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])' 2>/dev/null || true)"
if [ -n "$nv" ]; then
  libs="$(find "$nv" -maxdepth 3 -type d -name lib | tr '\n' ':')"
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
fi
echo "missing libraries: $(ldd "$bin" | grep 'not found' || echo none)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

device="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-' | tr -cd 'A-Za-z0-9-')"
stamp="$(date +%Y-%m-%d)"
raw="$root/benches/results/$stamp-gpu-$device.jsonl"
mkdir -p "$root/benches/results"
: > "$raw"
for corpus in short long; do
  file="$short"; n="$n_short"
  [ "$corpus" = long ] && { file="$long"; n="$n_long"; }
  echo "== $corpus: simsum (cuda)"
  "$bin" --model "$model" --device cuda bench embed --texts "$file" --limit "$n" \
    --dtype f32,f16,bf16 --batch-sizes "$batches" --json \
    | python3 -c "import json,sys; d=json.load(sys.stdin); d['corpus']='$corpus'; print(json.dumps(d))" >> "$raw"
  echo "== $corpus: sentence-transformers (cuda)"
  python3 "$here/st_peer.py" --model-dir "$model" --texts "$file" --limit "$n" \
    --batch-sizes "$batches" --dtypes f32,f16 \
    | python3 -c "import json,sys; [print(json.dumps(dict(json.loads(l), corpus='$corpus'))) for l in sys.stdin]" >> "$raw"
done
python3 "$here/table.py" "$raw" > "${raw%.jsonl}.md"
cat "${raw%.jsonl}.md"
