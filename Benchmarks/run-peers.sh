#!/usr/bin/env bash
# Measure the llama.cpp peer numbers recorded in Benchmarks/PEERS.md.
#
# For each F32 benchmark model (stories15M, stories110M) runs, with 2 threads:
#   llama-bench          prefill pp128 and decode tg128 (markdown + JSON)
#   llama-batched-bench  prompt 32, 128 generated, 1/4/16/64 parallel sequences
# Raw outputs, with the machine load (uptime) before and after each run, go to
# Benchmarks/.work/peers-results/<timestamp>/.
#
# Usage:  Benchmarks/run-peers.sh [MODEL.gguf ...]
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$BENCH_DIR/.work"
THREADS=2

# batched-bench: every sequence has its own prompt, so the KV cache must hold
# max(npl) * (npp + ntg) = 64 * (32 + 128) = 10240 cells, or batched-bench
# silently skips the levels that don't fit. llama.cpp splits -c evenly over
# max(npl) = 64 sequences and pads each share to a multiple of 256, so
# -c 10240 becomes 64 * 256 = 16384 anyway (with a warning): ask for 16384.
# -b 2048 lets the 64*32-token prefill go in one llama_decode call, split
# into micro-batches of -ub 512.
NPP=32
NTG=128
NPL=1,4,16,64
CTX=16384

log() { printf '[run-peers] %s\n' "$*" >&2; }

"$BENCH_DIR/build-llama-cpp.sh"
"$BENCH_DIR/make-models.sh"
BIN_DIR="$("$BENCH_DIR/build-llama-cpp.sh" --print-bin-dir)"

if [[ $# -gt 0 ]]; then
    MODELS=("$@")
else
    MODELS=("$WORK/stories15M-f32.gguf" "$WORK/stories110M-f32.gguf")
fi

OUT="$WORK/peers-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
log "results -> $OUT"

# Run a command, saving stdout to $1.out and stderr to $1.log, with the load
# recorded before and after (the machine is shared with other work).
run() {
    local name="$1"; shift
    {
        echo "command: $*"
        echo "load before: $(uptime)"
    } > "$OUT/$name.meta"
    log "$name: $*"
    "$@" > "$OUT/$name.out" 2> "$OUT/$name.log"
    echo "load after:  $(uptime)" >> "$OUT/$name.meta"
    cat "$OUT/$name.meta" >&2
}

for model in "${MODELS[@]}"; do
    m="$(basename "$model" .gguf)"
    run "$m-llama-bench" "$BIN_DIR/llama-bench" -m "$model" -p 128 -n 128 -t "$THREADS" -o md -oe json
    # -oe json went to the .log file (stderr) after the loading messages:
    # keep just the JSON array in its own file.
    sed -n '/^\[/,/^\]/p' "$OUT/$m-llama-bench.log" > "$OUT/$m-llama-bench.json"
    cat "$OUT/$m-llama-bench.out"

    run "$m-batched-bench" "$BIN_DIR/llama-batched-bench" -m "$model" -t "$THREADS" \
        -c "$CTX" -b 2048 -ub 512 -npp "$NPP" -ntg "$NTG" -npl "$NPL"
    cat "$OUT/$m-batched-bench.out"
done
log "done: $OUT"
