#!/usr/bin/env bash
# Builds the CUDA release binary of simsum on a machine WITHOUT a GPU or a system CUDA toolkit.
#
#   benches/gpu/build.sh            -> benches/gpu/out/simsum (stripped) and simsum.zst
#
# 1. Gets the CUDA 13.0 toolkit pieces (nvcc, nvvm, crt, runtime, cuBLAS, NVRTC, CCCL, cuRAND)
#    from the Python package index into a throwaway venv (benches/gpu/.cuda-venv, ~1.2 GB),
#    pinned to 13.0 to match the GPU machine's CUDA 13.0 driver.
# 2. Adds the unversioned library names the linker wants (libcublas.so -> libcublas.so.13 ...).
# 3. Builds a link-time stub libcuda.so from the driver functions cudarc declares (the driver
#    library itself only exists where a GPU driver is installed; the real one is used at run time).
# 4. Builds with CUDA_COMPUTE_CAP=90 (H100) in a separate target dir (target/cuda), so the CPU
#    build is not invalidated. candle-kernels' nvcc step alone takes ~8 minutes on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.cuda-venv"
out="$here/out"
cap="${CUDA_COMPUTE_CAP:-90}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q \
  'nvidia-cuda-nvcc==13.0.*' 'nvidia-nvvm==13.0.*' 'nvidia-cuda-crt==13.0.*' \
  'nvidia-cuda-runtime==13.0.*' 'nvidia-cublas==13.0.*' 'nvidia-cuda-nvrtc==13.0.*' \
  'nvidia-cuda-cccl==13.0.*' nvidia-curand
cu="$("$venv/bin/python" - <<'PY'
import glob, os, nvidia
base = os.path.dirname(nvidia.__file__) if getattr(nvidia, "__file__", None) else list(nvidia.__path__)[0]
hits = glob.glob(os.path.join(base, "cu13"))
print(hits[0] if hits else base)
PY
)"
[ -x "$cu/bin/nvcc" ] || { echo "nvcc not found under $cu/bin" >&2; exit 1; }
echo "CUDA toolkit pieces: $cu ($("$cu/bin/nvcc" --version | tail -1))"

# 2. Unversioned names for the linker.
for lib in cudart cublas cublasLt curand nvrtc; do
  if [ ! -e "$cu/lib/lib$lib.so" ]; then
    real="$(ls "$cu/lib/lib$lib.so."* 2>/dev/null | sort | head -1 || true)"
    [ -n "$real" ] && ln -sf "$(basename "$real")" "$cu/lib/lib$lib.so"
  fi
done

# 3. Link-time stub of the driver library.
cudarc="$(cargo metadata --format-version 1 --manifest-path "$root/Cargo.toml" --features cuda \
  | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="cudarc"))')"
sys_rs="$(dirname "$cudarc")/src/driver/sys/mod.rs"
stub="$here/.stub"
mkdir -p "$stub"
grep -oE '^\s*(pub )?fn cu[A-Za-z0-9_]*\(' "$sys_rs" | sed -E 's/.*fn (cu[A-Za-z0-9_]*)\(/\1/' | sort -u \
  | awk '{print "int " $1 "(void) { return 999; }"}' > "$stub/stub.c"
echo "driver stub: $(wc -l < "$stub/stub.c") functions"
gcc -shared -fPIC -o "$stub/libcuda.so" -Wl,-soname,libcuda.so.1 "$stub/stub.c"

# 4. Build.
cd "$root"
PATH="$cu/bin:$PATH" CUDA_ROOT="$cu" CUDA_PATH="$cu" CUDA_COMPUTE_CAP="$cap" \
  RUSTFLAGS="-L native=$stub -L native=$cu/lib" \
  CARGO_TARGET_DIR="$root/target/cuda" \
  cargo build --release --features cuda --bin simsum
mkdir -p "$out"
cp target/cuda/release/simsum "$out/simsum"
strip "$out/simsum"
if command -v zstd >/dev/null; then zstd -q -19 -f "$out/simsum" -o "$out/simsum.zst"; fi
ls -la "$out"
echo "needs at run time: $(ldd "$out/simsum" | grep -oE 'lib(cuda|cublas|cublasLt|curand|cudart)[^ ]*' | sort -u | tr '\n' ' ')"
