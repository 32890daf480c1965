#!/usr/bin/env bash
# Two swiftlet replicas behind HAProxy on loopback: prefix routing and failover.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; }
flags=(-c release -Xswiftc -enable-testing)  # the flags of .ci/run's swift test: no second build
# SWIFTLET_BIN: a swiftlet binary already built (CI sets it after swift test).
if [ -n "${SWIFTLET_BIN:-}" ] && [ -x "$SWIFTLET_BIN" ]; then binary="$SWIFTLET_BIN"; else
    swift build "${flags[@]}" --product swiftlet >/dev/null
    binary="$(swift build "${flags[@]}" --show-bin-path)/swiftlet"
fi
exec python3 deploy/haproxy_test.py "$binary" Models/shakespeare-target.gguf
