#!/usr/bin/env bash
# End-to-end test of `swiftlet serve` with the official openai Python client (pinned in
# requirements.txt, installed into a virtual environment): completions and chat, streaming
# and not, errors, overload, a disconnect storm and SIGTERM (openai_client_test.py); then the
# Batch API and `swiftlet batch` on OpenAI Batch files (batch_api_test.py). Loopback only, bounded.
# Usage: Tests/server/openai_client_test.sh   (from anywhere; builds swiftlet in release)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${SWIFTLET_TEST_VENV:-.venv-server-test}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r Tests/server/requirements.txt
flags=(-c release -Xswiftc -enable-testing)  # the flags of .ci/run's swift test: no second build
# SWIFTLET_BIN: a swiftlet binary already built (CI sets it after swift test).
if [ -n "${SWIFTLET_BIN:-}" ] && [ -x "$SWIFTLET_BIN" ]; then binary="$SWIFTLET_BIN"; else
    swift build "${flags[@]}" --product swiftlet >/dev/null
    binary="$(swift build "${flags[@]}" --show-bin-path)/swiftlet"
fi
status=0
"$venv/bin/python" Tests/server/openai_client_test.py "$binary" Models/shakespeare-target.gguf || status=$?
"$venv/bin/python" Tests/server/batch_api_test.py "$binary" Models/shakespeare-target.gguf || status=$?
exit $status
