#!/usr/bin/env bash
# Adds what the quality evaluations need to benches/.venv (created by benches/peers/setup.sh if
# missing): scikit-learn (k-means, V-measure, ARI), rouge-score (Google's ROUGE implementation),
# sumy (TextRank / LexRank baselines), BERTopic (UMAP + HDBSCAN; its c-TF-IDF labels the title
# benchmark's themes) and KeyBERT (the title benchmark's keyphrase peer). Installs by package name.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q numpy scikit-learn rouge-score sumy
# BERTopic is optional: the clustering evaluation reports it as unavailable if this fails.
.venv/bin/pip install -q bertopic || echo "warning: BERTopic could not be installed"
# KeyBERT: titles_eval.py needs it (and BERTopic's ClassTfidfTransformer).
.venv/bin/pip install -q keybert || echo "warning: KeyBERT could not be installed"
.venv/bin/python -c "import sklearn, rouge_score, sumy; print('quality tools ready')"
