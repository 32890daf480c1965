#!/bin/sh
# Builds and runs Swiftlet's libFuzzer targets under AddressSanitizer.
#
#   Fuzz/run.sh [target|all] [--time SECONDS | --runs N] [--build-only] [--jobs N]
#
# Targets: gguf (GGUF reader), llama2c (llama2.c checkpoint and tokenizer.bin readers),
# tokenizer (vocabulary loading, encode/decode round trips), batch (batch JSONL line),
# chat (chat-template parser and renderer), request (the HTTP server's request-body
# decoders, built without Hummingbird).
# The library's Swift sources are compiled directly with swiftc (no Package change) into
# Fuzz/.build, once, and linked into each target. Corpora live in Fuzz/corpus/<target>
# (not in git) and are seeded from real files on first use; crashes land in
# Fuzz/crashes/<target>. Default: every target for 60 s each.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD="$ROOT/Fuzz/.build"
SHARED="$ROOT/../shared/fixtures"
TARGETS="gguf llama2c tokenizer batch chat request"

target=all
limit="-max_total_time=60"
build_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --time) limit="-max_total_time=$2"; shift 2 ;;
        --runs) limit="-runs=$2"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        gguf|llama2c|tokenizer|batch|chat|request|all) target="$1"; shift ;;
        *) echo "Fuzz/run.sh: unknown argument '$1' (targets: $TARGETS all)" >&2; exit 2 ;;
    esac
done
[ "$target" = all ] && selected="$TARGETS" || selected="$target"

mkdir -p "$BUILD"
SWIFTC=${SWIFTC:-swiftc}
CLANG=${CLANG:-clang}
SWIFT_FLAGS="-O -swift-version 5 -sanitize=fuzzer,address -g"

# C kernels (when the CSwiftletKernels target exists) and OpenBLAS through CBLAS.
C_INCLUDES="-I $ROOT/Sources/CBLAS"
C_OBJECTS=""
if [ -d "$ROOT/Sources/CSwiftletKernels" ]; then
    C_INCLUDES="$C_INCLUDES -I $ROOT/Sources/CSwiftletKernels/include"
    for source in "$ROOT"/Sources/CSwiftletKernels/*.c; do
        [ -e "$source" ] || continue
        object="$BUILD/$(basename "$source" .c).o"
        if [ ! -e "$object" ] || [ "$source" -nt "$object" ]; then
            echo "clang $(basename "$source")"
            $CLANG -O1 -g -fsanitize=fuzzer-no-link,address -I "$ROOT/Sources/CSwiftletKernels/include" \
                -c "$source" -o "$object"
        fi
        C_OBJECTS="$C_OBJECTS $object"
    done
fi

# The library, once: a static archive and its module (built with testing enabled so the
# targets may reach internal readers).
LIBRARY="$BUILD/libSwiftlet.a"
# Sources newer than the snapshot the archive was built from make it stale.
STAMP="$BUILD/src.stamp"
newest=$(find "$ROOT/Sources/Swiftlet" -name '*.swift' -newer "$STAMP" 2>/dev/null | head -1 || true)
if [ ! -e "$LIBRARY" ] || [ ! -e "$STAMP" ] || [ -n "$newest" ]; then
    echo "swiftc Swiftlet (library, ASan + fuzzer coverage)..."
    # From a snapshot, so that editing the sources meanwhile cannot break the build.
    rm -rf "$BUILD/src" "$STAMP"
    touch "$STAMP.new"
    cp -R "$ROOT/Sources/Swiftlet" "$BUILD/src"
    # shellcheck disable=SC2046
    $SWIFTC $SWIFT_FLAGS $C_INCLUDES -wmo -parse-as-library -enable-testing -module-name Swiftlet \
        -emit-library -static -emit-module -emit-module-path "$BUILD/Swiftlet.swiftmodule" \
        -o "$LIBRARY.tmp" $(find "$BUILD/src" -name '*.swift' | sort)
    mv "$LIBRARY.tmp" "$LIBRARY"
    mv "$STAMP.new" "$STAMP"
fi

build_target() {
    name=$1
    case "$name" in
        gguf) sources="$ROOT/Fuzz/Targets/GGUFReader.swift" ;;
        llama2c) sources="$ROOT/Fuzz/Targets/Llama2C.swift" ;;
        tokenizer) sources="$ROOT/Fuzz/Targets/Tokenizer.swift $ROOT/Tests/SwiftletTests/TokenizerTestVocabularies.swift" ;;
        batch) sources="$ROOT/Fuzz/Targets/BatchLine.swift" ;;
        chat) sources="$ROOT/Fuzz/Targets/ChatTemplate.swift" ;;
        # The decoders live in the library (Sources/Swiftlet/API), which imports no HTTP library.
        request) sources="$ROOT/Fuzz/Targets/HTTPRequest.swift" ;;
    esac
    binary="$BUILD/fuzz-$name"
    stale=0
    [ -e "$binary" ] || stale=1
    for s in $sources "$LIBRARY"; do [ "$s" -nt "$binary" ] 2>/dev/null && stale=1; done
    if [ $stale = 1 ]; then
        echo "swiftc fuzz-$name"
        # shellcheck disable=SC2086
        # (ld.gold warns once per ASan register helper that it cannot export it: noise.)
        $SWIFTC $SWIFT_FLAGS $C_INCLUDES -parse-as-library -I "$BUILD" $sources "$LIBRARY" $C_OBJECTS \
            -lopenblas -o "$binary" 2>&1 | grep -v "Cannot export local symbol" || true
        [ -x "$binary" ] || { echo "Fuzz/run.sh: building fuzz-$name failed" >&2; exit 1; }
    fi
}

# Seeds: real files, cut to the length the target fuzzes (headers carry the structure).
seed_corpus() {
    name=$1
    corpus="$ROOT/Fuzz/corpus/$name"
    [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] && return 0
    mkdir -p "$corpus"
    case "$name" in
        gguf)
            for f in "$ROOT"/Models/*.gguf "$SHARED"/tokenizer/*.gguf "$SHARED"/models/*.gguf; do
                [ -e "$f" ] || continue
                head -c 65536 "$f" > "$corpus/$(basename "$f").64k"
                head -c 4096 "$f" > "$corpus/$(basename "$f").4k"
            done ;;
        llama2c)
            for f in "$SHARED"/models/*.bin; do
                [ -e "$f" ] || continue
                { printf '\000'; head -c 65535 "$f"; } > "$corpus/$(basename "$f").checkpoint"
            done
            # A tokenizer.bin made by the library's own writer is in the tokenizer seeds below;
            # here, a tiny one by hand: max_token_length 4, then (score, length, bytes) x 3.
            printf '\001\004\000\000\000\000\000\000\000\001\000\000\000a\000\000\200\077\001\000\000\000b\000\000\000\100\002\000\000\000ab' \
                > "$corpus/tiny.tokenizer" ;;
        tokenizer)
            SWIFTLET_FUZZ_WRITE_SEEDS="$corpus" "$BUILD/fuzz-tokenizer" || true
            for f in "$SHARED"/tokenizer/*.inp; do
                [ -e "$f" ] || continue
                { printf '\000\000'; head -c 4096 "$f"; } > "$corpus/$(basename "$f").text"
            done ;;
        batch)
            i=0
            grep -o "\"{[^\"]*\\\\\"[^']*}\"" "$ROOT/Tests/SwiftletTests/BatchCommandTests.swift" 2>/dev/null \
                | sed 's/^"//; s/"$//; s/\\"/"/g' | while IFS= read -r line; do
                    i=$((i + 1)); printf '%s' "$line" > "$corpus/test-line-$i"
                done
            printf '{"id":"a","prompt":"Once upon a time","max_tokens":8,"temperature":0.7,"top_p":0.9,"top_k":40,"min_p":0.05,"seed":1,"stop":["\\n"],"ignore_eos":true,"repeat_penalty":1.1,"frequency_penalty":0.5,"presence_penalty":0.5}' > "$corpus/all-fields"
            printf '{"id":3,"prompt_tokens":[1,2,3],"stop":"x"}' > "$corpus/tokens"
            printf '[1,2]' > "$corpus/array"
            printf '{"prompt":"\\u00e9\\ud83e\\udd99","seed":18446744073709551615}' > "$corpus/escapes" ;;
        chat)
            # llama.cpp's templates as they are, and each with a conversation after a NUL.
            for f in "$SHARED"/chat-templates/*.jinja; do
                [ -e "$f" ] || continue
                cp "$f" "$corpus/$(basename "$f")"
                { cat "$f"; printf '\000Hello\000Hi! How can I help?\000Tell me a "fun" fact\nabout cats.'; } \
                    > "$corpus/$(basename "$f" .jinja).turns"
            done
            printf "{%%- for message in messages -%%}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}{%%- endfor -%%}{%%- if add_generation_prompt -%%}{{- '<|im_start|>assistant\\n' -}}{%%- endif -%%}" \
                > "$corpus/chatml" ;;
        request)
            # The JSON bodies the server tests send (raw strings #"{...}"#), and a few by hand.
            i=0
            grep -ho '#"[{[][^#]*"#' "$ROOT"/Tests/SwiftletServerTests/*.swift 2>/dev/null \
                | sed 's/^#"//; s/"#$//' | sort -u | while IFS= read -r body; do
                    i=$((i + 1)); printf '%s' "$body" > "$corpus/test-body-$i"
                done
            printf '{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_completion_tokens":8,"temperature":0.7,"top_p":0.9,"stop":["\\n"],"stream":true,"stream_options":{"include_usage":true},"seed":1,"n":2}' > "$corpus/chat-all"
            printf '{"prompt":["ROMEO:",[1,2,3]],"max_tokens":4,"logprobs":null,"echo":false,"presence_penalty":0.5,"frequency_penalty":-0.5,"repetition_penalty":1.1,"top_k":40,"min_p":0.05,"ignore_eos":true}' > "$corpus/completion-all" ;;
    esac
}

max_len() {
    case "$1" in
        gguf) echo 8192 ;;
        llama2c) echo 65536 ;;
        tokenizer) echo 1024 ;;
        batch) echo 4096 ;;
        chat) echo 4096 ;;
        request) echo 4096 ;;
    esac
}

for name in $selected; do build_target "$name"; done
[ $build_only = 1 ] && exit 0

vocabs=""
for f in "$SHARED"/tokenizer/ggml-vocab-llama-spm.gguf "$SHARED"/tokenizer/ggml-vocab-llama-bpe.gguf \
         "$SHARED"/tokenizer/ggml-vocab-qwen2.gguf "$SHARED"/tokenizer/ggml-vocab-gpt-2.gguf "$ROOT"/Models/shakespeare-draft.gguf; do
    [ -e "$f" ] && vocabs="$vocabs${vocabs:+:}$f"
done

status=0
for name in $selected; do
    seed_corpus "$name"
    mkdir -p "$ROOT/Fuzz/crashes/$name"
    echo "== fuzz-$name ($limit, corpus $(ls "$ROOT/Fuzz/corpus/$name" | wc -l) files)"
    SWIFTLET_FUZZ_VOCABS="$vocabs" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
        "$BUILD/fuzz-$name" "$ROOT/Fuzz/corpus/$name" -max_len="$(max_len "$name")" $limit \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$ROOT/Fuzz/crashes/$name/" || status=$?
done
exit $status
