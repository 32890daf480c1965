#!/usr/bin/env bash
# Side-by-side speed comparison of llama.cpp and Swiftlet on one GGUF file.
#
#   1. makes sure the peer llama.cpp is built (build-llama-cpp.sh) and the standard
#      random-weight models exist (make-models.sh); both steps are idempotent;
#   2. builds Swiftlet in release mode;
#   3. runs side_by_side.py: single-stream prefill/decode and batched generation,
#      both engines in one invocation, and prints markdown tables with the ratios.
#
# Usage:  Benchmarks/compare.sh [MODEL.gguf] [-t THREADS] [-r REPS]
#   MODEL defaults to Benchmarks/.work/stories15M-f32.gguf; -t 2 -r 3.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$BENCH_DIR")"
MODEL="$BENCH_DIR/.work/stories15M-f32.gguf"
THREADS=2
REPS=3

log() { printf '[compare] %s\n' "$*" >&2; }
usage() { sed -n '2,12p' "$0"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        -t) THREADS="$2"; shift 2 ;;
        -r) REPS="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) log "unknown option: $1"; usage >&2; exit 2 ;;
        *) MODEL="$1"; shift ;;
    esac
done

"$BENCH_DIR/build-llama-cpp.sh"
[[ -f "$MODEL" ]] || "$BENCH_DIR/make-models.sh"
[[ -f "$MODEL" ]] || { log "ERROR: model not found: $MODEL"; exit 1; }

(cd "$REPO_DIR" && swift build -c release)
log "load: $(uptime)"
python3 "$BENCH_DIR/side_by_side.py" decode --model "$MODEL" --threads "$THREADS" --repetitions "$REPS"
python3 "$BENCH_DIR/side_by_side.py" batched --model "$MODEL" --threads "$THREADS"
