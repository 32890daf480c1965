#!/usr/bin/env bash
# Measure the llama.cpp peer numbers recorded in Benchmarks/PEERS.md.
#
# For each F32 benchmark model (stories15M, stories110M) runs, with 2 threads:
#   llama-bench          prefill pp128 and decode tg128 (markdown + JSON)
#   llama-batched-bench  prompt 32, 128 generated, 1/4/16/64 parallel sequences
# Raw outputs, with the machine load (uptime) before and after each run, go to
# Benchmarks/.work/peers-results/<timestamp>/.
#
# Usage:  Benchmarks/run-peers.sh [--wait-quiet SECONDS] [MODEL.gguf ...]
#         Benchmarks/run-peers.sh --summarize RESULTS_DIR
#   --wait-quiet S  before each benchmark, wait up to S seconds for a moment
#                   when no other normal-priority process is busy (niced
#                   background jobs are ignored); then run regardless.
#   --summarize DIR only print the one-line-per-number summary of an earlier
#                   run's results directory.
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

# Print tok/s of every result in results directory $1: llama-bench's pp/tg
# (mean ± stddev of the repetitions, from its JSON) and batched-bench's
# generation speed S_TG per parallel level B (from its markdown table).
summarize() {
    local dir="$1" f m
    for f in "$dir"/*-llama-bench.json; do
        [[ -s "$f" ]] || continue
        m="$(basename "$f" -llama-bench.json)"
        jq -r --arg m "$m" '.[] |
            (if .n_prompt > 0 then "pp\(.n_prompt)" else "tg\(.n_gen)" end) as $t |
            "\($m)  llama-bench  \($t)  \(.avg_ts * 100 | round / 100) ± \(.stddev_ts * 100 | round / 100) tok/s"' "$f"
    done
    for f in "$dir"/*-batched-bench.out; do
        [[ -s "$f" ]] || continue
        m="$(basename "$f" -batched-bench.out)"
        # Table columns: | PP | TG | B | N_KV | T_PP | S_PP | T_TG | S_TG | T | S |
        awk -F'|' -v m="$m" '$2 ~ /^ *[0-9]+ *$/ {
            gsub(/ /, ""); printf "%s  batched-bench  pp%s tg%s B=%-3s  S_TG %s tok/s  (S_PP %s)\n", m, $2, $3, $4, $9, $7 }' "$f"
    done
    grep -h "load before" "$dir"/*.meta | sed 's/^/  /' | sort -u
}

if [[ "${1:-}" == "--summarize" ]]; then
    summarize "${2:?usage: --summarize RESULTS_DIR}"
    exit 0
fi

"$BENCH_DIR/build-llama-cpp.sh"
"$BENCH_DIR/make-models.sh"
BIN_DIR="$("$BENCH_DIR/build-llama-cpp.sh" --print-bin-dir)"

WAIT_QUIET=0
MODELS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --wait-quiet) WAIT_QUIET="$2"; shift 2 ;;
        *) MODELS+=("$1"); shift ;;
    esac
done
if [[ ${#MODELS[@]} -eq 0 ]]; then
    MODELS=("$WORK/stories15M-f32.gguf" "$WORK/stories110M-f32.gguf")
fi

OUT="$WORK/peers-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
log "results -> $OUT"

# Names of processes that used > 15% of a CPU over the last second, other
# than niced ones (nice >= 10, e.g. background training); empty when quiet.
# (top's second sample is the instantaneous one; ps %cpu is a lifetime mean.)
busy_processes() {
    top -b -n 2 -d 1 -w 200 |
        awk '/^ *PID/ { block++; next } block == 2 && $4 < 10 && $9 > 15 { printf "%s ", $12 }'
}

wait_quiet() {
    [[ $WAIT_QUIET -gt 0 ]] || return 0
    local deadline=$(( $(date +%s) + WAIT_QUIET )) busy
    while busy="$(busy_processes)"; [[ -n "$busy" ]]; do
        if [[ $(date +%s) -ge $deadline ]]; then
            log "still busy after ${WAIT_QUIET}s ($busy); running anyway"
            return 0
        fi
        sleep 5
    done
}

# Run a command, saving stdout to $1.out and stderr to $1.log, with the load
# recorded before and after (the machine is shared with other work).
run() {
    local name="$1"; shift
    wait_quiet
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
summarize "$OUT"
