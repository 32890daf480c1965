#!/usr/bin/env bash
# Schema-driven fuzzing of `swiftlet serve` with schemathesis (pinned in
# requirements-fuzz.txt) against the committed OpenAPI description (openapi.yaml): valid
# and invalid bodies for every endpoint; the check is that none gets a 5xx and the server
# stays up. One worker: hypothesis parses lambda sources with ast, which CPython 3.11 is not
# thread-safe about ("AST constructor recursion depth mismatch"). Loopback only; the number of examples is bounded (FUZZ_EXAMPLES, default 30).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${SWIFTLET_FUZZ_VENV:-.venv-server-fuzz}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r Tests/server/requirements-fuzz.txt
flags=(-c release -Xswiftc -enable-testing)  # the flags of .ci/run's swift test: no second build
# SWIFTLET_BIN: a swiftlet binary already built (CI sets it after swift test).
if [ -n "${SWIFTLET_BIN:-}" ] && [ -x "$SWIFTLET_BIN" ]; then binary="$SWIFTLET_BIN"; else
    swift build "${flags[@]}" --product swiftlet >/dev/null
    binary="$(swift build "${flags[@]}" --show-bin-path)/swiftlet"
fi
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --model Models/shakespeare-target.gguf --host 127.0.0.1 --port "$port" --context 256 --max-queue 64 \
    >/tmp/swiftlet-fuzz-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 $server 2>/dev/null || { echo "server exited"; cat /tmp/swiftlet-fuzz-server.log; exit 1; }
    sleep 0.2
done
status=0
"$venv/bin/schemathesis" run Tests/server/openapi.yaml --url "http://127.0.0.1:$port" --checks not_a_server_error \
    --max-examples "${FUZZ_EXAMPLES:-30}" --seed 14 --workers 1 --request-timeout 120 --suppress-health-check all || status=$?
if kill -0 $server 2>/dev/null && curl -sf "http://127.0.0.1:$port/health" >/dev/null; then
    echo "server still healthy after fuzzing"
else
    echo "server died during fuzzing"; cat /tmp/swiftlet-fuzz-server.log; status=1
fi
if [ $status -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $status
