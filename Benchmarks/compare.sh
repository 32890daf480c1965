#!/usr/bin/env bash
# Side-by-side speed comparison of llama.cpp and Swiftlet on one GGUF file.
#
#   1. makes sure the peer llama.cpp is built (build-llama-cpp.sh) and the
#      standard models exist (make-models.sh); both steps are idempotent;
#   2. runs llama-bench on the model (prefill ppP and decode tgN) and prints
#      tok/s parsed from its JSON output;
#   3. runs `swiftlet bench` on the same file (not written yet: see TODO).
#
# Usage:  Benchmarks/compare.sh [MODEL.gguf] [-t THREADS] [-p PROMPT] [-n GEN] [-r REPS]
#   MODEL defaults to Benchmarks/.work/stories15M-f32.gguf; -t 2 -p 128 -n 128 -r 5.
# Raw results go to Benchmarks/.work/compare/.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$BENCH_DIR")"
WORK="$BENCH_DIR/.work"
OUT_DIR="$WORK/compare"

MODEL="$WORK/stories15M-f32.gguf"
THREADS=2
N_PROMPT=128
N_GEN=128
REPS=5

log() { printf '[compare] %s\n' "$*" >&2; }
usage() { sed -n '2,12p' "$0"; }

# ------------------------------------------------------------------ options --
while [[ $# -gt 0 ]]; do
    case "$1" in
        -t) THREADS="$2"; shift 2 ;;
        -p) N_PROMPT="$2"; shift 2 ;;
        -n) N_GEN="$2"; shift 2 ;;
        -r) REPS="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) log "unknown option: $1"; usage >&2; exit 2 ;;
        *) MODEL="$1"; shift ;;
    esac
done

# ------------------------------------------------------------- 1. prepare ---
"$BENCH_DIR/build-llama-cpp.sh"
BIN_DIR="$("$BENCH_DIR/build-llama-cpp.sh" --print-bin-dir)"

# The standard models are made on demand; any other file must already exist.
if [[ ! -f "$MODEL" ]]; then
    "$BENCH_DIR/make-models.sh"
fi
[[ -f "$MODEL" ]] || { log "ERROR: model not found: $MODEL"; exit 1; }
MODEL="$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")"

mkdir -p "$OUT_DIR"
TAG="$(basename "$MODEL" .gguf)-t$THREADS-p$N_PROMPT-n$N_GEN"

log "model:   $MODEL"
log "threads: $THREADS   prompt: $N_PROMPT   gen: $N_GEN   reps: $REPS"
# This machine is shared: record the load so numbers can be judged.
log "load:   $(uptime)"

# ----------------------------------------------------------- 2. llama.cpp ---
run_llama_cpp() {
    local json="$OUT_DIR/$TAG-llama-bench.json"
    log "running llama-bench -> $json"
    "$BIN_DIR/llama-bench" -m "$MODEL" -t "$THREADS" \
        -p "$N_PROMPT" -n "$N_GEN" -r "$REPS" -o json > "$json"
    # One JSON object per test: n_prompt > 0 is prefill (pp), n_gen > 0 decode (tg).
    jq -r '.[] |
        (if .n_prompt > 0 then "pp\(.n_prompt)" else "tg\(.n_gen)" end) as $test |
        "llama.cpp  \($test)  \(.avg_ts * 100 | round / 100) tok/s  (± \(.stddev_ts * 100 | round / 100), threads \(.n_threads), \(.type_k) KV, build \(.build_commit))"' \
        "$json"
}

# ------------------------------------------------------------- 3. swiftlet --
# TODO(swiftlet-bench): the `swiftlet bench` subcommand does not exist yet.
# When it does, build it in release mode (swift build -c release) and run
#     swiftlet bench MODEL -t THREADS -p N_PROMPT -n N_GEN -r REPS
# from $REPO_DIR, save its raw output to "$OUT_DIR/$TAG-swiftlet.json", and
# print the same "pp/tg ... tok/s" lines as run_llama_cpp.
run_swiftlet() {
    : "$REPO_DIR"   # where the Swift package lives
    echo "swiftlet   swiftlet bench not yet available"
}

run_llama_cpp
run_swiftlet
