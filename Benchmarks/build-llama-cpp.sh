#!/usr/bin/env bash
# Build llama.cpp as a *peer* for side-by-side benchmarks with Swiftlet.
#
# The llama.cpp source comes only from the sdist of PyPI's llama-cpp-python
# (which vendors llama.cpp under vendor/llama.cpp). Everything is placed in
# Benchmarks/peers/, which is git-ignored: never commit llama.cpp code or
# binaries.
#
# Idempotent: the download, the extraction, the CMake configure and the build
# are each skipped when already done. Pass --force to rebuild from scratch
# (the downloaded sdist is kept).
#
# Usage:  Benchmarks/build-llama-cpp.sh [--force]
# Output: binaries in Benchmarks/peers/llama.cpp-build/bin/
#         (print that path with: Benchmarks/build-llama-cpp.sh --print-bin-dir)
set -euo pipefail

# ---------------------------------------------------------------- settings --
LLAMA_CPP_PYTHON_VERSION="0.3.36"
# sha256 of llama_cpp_python-0.3.36.tar.gz as published on PyPI.
SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
JOBS=2

# The programs we need for comparisons.
TARGETS=(
    llama-bench
    llama-batched-bench
    llama-cli
    llama-simple
    llama-speculative-simple
    llama-perplexity
    llama-server
    llama-quantize
)

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS_DIR="$BENCH_DIR/peers"
SDIST_NAME="llama_cpp_python-${LLAMA_CPP_PYTHON_VERSION}"
SDIST="$PEERS_DIR/${SDIST_NAME}.tar.gz"
SRC_ROOT="$PEERS_DIR/$SDIST_NAME"
LLAMA_SRC="$SRC_ROOT/vendor/llama.cpp"
BUILD_DIR="$PEERS_DIR/llama.cpp-build"
BIN_DIR="$BUILD_DIR/bin"
STAMP="$BUILD_DIR/.swiftlet-build-ok"

log() { printf '[build-llama-cpp] %s\n' "$*" >&2; }

# ------------------------------------------------------------------ options --
FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --print-bin-dir) echo "$BIN_DIR"; exit 0 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) log "unknown argument: $arg"; exit 2 ;;
    esac
done

# The CMake configuration; its text is also stored in the stamp so that a
# change here triggers a rebuild.
CMAKE_ARGS=(
    -DCMAKE_BUILD_TYPE=Release
    -DGGML_NATIVE=ON          # -march=native: AVX-512 etc. on this machine
    -DGGML_BLAS=OFF           # plain ggml CPU backend (llama.cpp's default)
    -DLLAMA_CURL=OFF          # no network code (deprecated option, kept explicit)
    -DLLAMA_OPENSSL=OFF       # no HTTPS needed for a local server
    -DLLAMA_BUILD_TESTS=OFF
    -DLLAMA_BUILD_TOOLS=ON
    -DLLAMA_BUILD_EXAMPLES=ON # llama-simple, llama-speculative-simple
    -DLLAMA_BUILD_SERVER=ON
    -DLLAMA_BUILD_UI=OFF      # no npm build of the web UI ...
    -DLLAMA_USE_PREBUILT_UI=OFF # ... and no download of it either
)
CONFIG_ID="$LLAMA_CPP_PYTHON_VERSION ${CMAKE_ARGS[*]} ${TARGETS[*]}"

all_built() {
    [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$CONFIG_ID" ]] || return 1
    local t
    for t in "${TARGETS[@]}"; do
        [[ -x "$BIN_DIR/$t" ]] || return 1
    done
}

if [[ $FORCE -eq 1 ]]; then
    log "--force: removing extracted source and build directory"
    rm -rf "$SRC_ROOT" "$BUILD_DIR"
fi

if all_built; then
    log "already built: $BIN_DIR (use --force to rebuild)"
    exit 0
fi

mkdir -p "$PEERS_DIR"

# ---------------------------------------------------------- 1. download ----
sdist_ok() {
    [[ -f "$SDIST" ]] && echo "$SDIST_SHA256  $SDIST" | sha256sum --check --status
}
if sdist_ok; then
    log "sdist present: $SDIST"
else
    rm -f "$SDIST"
    PY="python3"
    [[ -x "$BENCH_DIR/.venv/bin/python" ]] && PY="$BENCH_DIR/.venv/bin/python"
    log "downloading llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION sdist from PyPI"
    # The sdist itself, never a wheel; its build backend (scikit-build-core, cmake) may come
    # as wheels while pip prepares the metadata (with :all: pip compiles cmake from source).
    "$PY" -m pip download --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$PEERS_DIR"
    if ! sdist_ok; then
        log "ERROR: sha256 mismatch or missing file for $SDIST"
        exit 1
    fi
fi

# ----------------------------------------------------------- 2. extract ----
if [[ -f "$LLAMA_SRC/CMakeLists.txt" ]]; then
    log "source present: $LLAMA_SRC"
else
    log "extracting $SDIST"
    rm -rf "$SRC_ROOT"
    tar -xzf "$SDIST" -C "$PEERS_DIR"
    [[ -f "$LLAMA_SRC/CMakeLists.txt" ]] || { log "ERROR: no vendor/llama.cpp in sdist"; exit 1; }
fi

# ---------------------------------------------------------- 3. configure ---
# A fresh Debian machine has no CMake or C++ compiler; install them as the README's
# commands install OpenBLAS.
if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; then
    log "installing cmake and g++ (apt-get)"
    apt-get update -qq && apt-get install -y -qq cmake g++ >/dev/null
fi
# The vendored tree has no .git of its own; stop llama.cpp's build-info
# script from walking up into the Swiftlet repository and reporting *our*
# commit as llama.cpp's.
export GIT_CEILING_DIRECTORIES="$PEERS_DIR"

if [[ -f "$BUILD_DIR/CMakeCache.txt" && -f "$BUILD_DIR/.swiftlet-config" \
      && "$(cat "$BUILD_DIR/.swiftlet-config")" == "$CONFIG_ID" ]]; then
    log "already configured: $BUILD_DIR"
else
    log "configuring with CMake"
    rm -f "$STAMP"
    cmake -S "$LLAMA_SRC" -B "$BUILD_DIR" "${CMAKE_ARGS[@]}"
    echo "$CONFIG_ID" > "$BUILD_DIR/.swiftlet-config"
fi

# -------------------------------------------------------------- 4. build ---
log "building ${TARGETS[*]} with -j$JOBS (10-20 minutes on 2 cores)"
start=$(date +%s)
cmake --build "$BUILD_DIR" --config Release -j"$JOBS" --target "${TARGETS[@]}"
log "build finished in $(( $(date +%s) - start )) s"

for t in "${TARGETS[@]}"; do
    [[ -x "$BIN_DIR/$t" ]] || { log "ERROR: $BIN_DIR/$t was not built"; exit 1; }
done
echo "$CONFIG_ID" > "$STAMP"
log "done: $BIN_DIR"
