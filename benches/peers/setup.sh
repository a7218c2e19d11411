#!/usr/bin/env bash
# Creates benches/.venv with the peers: sentence-transformers (PyTorch), ONNX Runtime (+ onnx
# for the export), hnswlib, faiss and numpy. Installs by package name from the Python index.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q torch sentence-transformers onnx onnxscript onnxruntime hnswlib faiss-cpu numpy
.venv/bin/python -c "import torch, sentence_transformers, onnxruntime, hnswlib, faiss; print('peers ready')"
