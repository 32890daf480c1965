#!/usr/bin/env bash
# The chat page in headless chromium (Debian's package): load, send, wait for streamed
# text, screenshot into $SWIFTLET_TEST_OUTPUT (default .build/test-output/chat-page.png).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
venv="${SWIFTLET_TEST_VENV:-.venv-server-test}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r Tests/server/requirements.txt
output="${SWIFTLET_TEST_OUTPUT:-.build/test-output}"
mkdir -p "$output"
flags=(-c release -Xswiftc -enable-testing)  # the flags of .ci/run's swift test: no second build
# SWIFTLET_BIN: a swiftlet binary already built (CI sets it after swift test).
if [ -n "${SWIFTLET_BIN:-}" ] && [ -x "$SWIFTLET_BIN" ]; then binary="$SWIFTLET_BIN"; else
    swift build "${flags[@]}" --product swiftlet >/dev/null
    binary="$(swift build "${flags[@]}" --show-bin-path)/swiftlet"
fi
exec "$venv/bin/python" Tests/server/chat_page_test.py "$binary" Models/shakespeare-target.gguf "$output/chat-page.png"
