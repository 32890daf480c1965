#!/usr/bin/env bash
# Make the standard random-weight benchmark models in Benchmarks/.work/
# (git-ignored):
#
#   stories15M-f32.gguf   stories15M-q8_0.gguf
#   stories110M-f32.gguf  stories110M-q8_0.gguf  (and -q4_0 of both shapes)
#
# and, when llama.cpp is built (Benchmarks/build-llama-cpp.sh), stories110M in the types
# of issue 12 written by llama.cpp's own llama-quantize from the F32 file:
#   stories110M-q4_1.gguf stories110M-q5_0.gguf stories110M-q4_k_m.gguf
#   stories110M-q5_k_m.gguf stories110M-q6_k.gguf stories110M-iq4_xs.gguf
#
# Creates the Python venv Benchmarks/.venv from Benchmarks/requirements.txt if
# needed. Idempotent: an existing model file is kept (use --force to remake).
# All files use the same fixed seed, so every machine gets identical bytes.
#
# Usage:  Benchmarks/make-models.sh [--force] [--verify]
#   --verify  also remake each file under a temporary name and check that it
#             is byte-identical to the existing one (determinism check).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$BENCH_DIR/.venv"
WORK="$BENCH_DIR/.work"
SEED=0

SHAPES=(stories15M stories110M)
TYPES=(f32 q8_0 q4_0)

log() { printf '[make-models] %s\n' "$*" >&2; }

FORCE=0
VERIFY=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --verify) VERIFY=1 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) log "unknown argument: $arg"; exit 2 ;;
    esac
done

# ---------------------------------------------------------------- the venv --
# Reinstall when requirements.txt changes (its copy in the venv is the stamp).
REQ="$BENCH_DIR/requirements.txt"
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQ" "$VENV/.requirements.txt"; then
    log "setting up $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet -r "$REQ"
    cp "$REQ" "$VENV/.requirements.txt"
fi
PY="$VENV/bin/python"

# Runs the command (which writes OUT) unless OUT exists and --force is off.
make_unless_present() {
    local out="$1"
    shift
    if [[ -f "$out" && $FORCE -eq 0 ]]; then
        log "exists: $out"
    else
        log "making $out"
        "$@"
    fi
}

# ------------------------------------------------------------------ models --
mkdir -p "$WORK"
for shape in "${SHAPES[@]}"; do
    for type in "${TYPES[@]}"; do
        out="$WORK/$shape-$type.gguf"
        make_unless_present "$out" "$PY" "$BENCH_DIR/make_model.py" --shape "$shape" --type "$type" --seed "$SEED" --out "$out"
        if [[ $VERIFY -eq 1 ]]; then
            again="$WORK/.verify-$shape-$type.gguf"
            "$PY" "$BENCH_DIR/make_model.py" --shape "$shape" --type "$type" --seed "$SEED" --out "$again"
            if cmp -s "$out" "$again"; then
                log "verified byte-identical: $out"
                rm -f "$again"
            else
                log "ERROR: $out differs from a fresh build with the same seed ($again)"
                exit 1
            fi
        fi
    done
done
# ------------------------------------------- llama-quantize copies (optional) --
QUANTIZE="$BENCH_DIR/peers/llama.cpp-build/bin/llama-quantize"
LLAMA_TYPES=(Q4_1 Q5_0 Q4_K_M Q5_K_M Q6_K IQ4_XS)
# Writes OUT from the F32 stories110M in TYPE with llama-quantize (its output in OUT.log).
llama_quantize() {
    local type="$1" out="$2"
    LD_LIBRARY_PATH="$(dirname "$QUANTIZE")" "$QUANTIZE" "$WORK/stories110M-f32.gguf" "$out" "$type" 2 > "$out.log" 2>&1 \
        || { log "ERROR: llama-quantize $type failed, see $out.log"; exit 1; }
}
if [[ -x "$QUANTIZE" ]]; then
    for type in "${LLAMA_TYPES[@]}"; do
        out="$WORK/stories110M-${type,,}.gguf"
        make_unless_present "$out" llama_quantize "$type" "$out"
    done
else
    log "llama.cpp not built: skipping the llama-quantize copies (${LLAMA_TYPES[*]})"
fi
log "models ready in $WORK"
