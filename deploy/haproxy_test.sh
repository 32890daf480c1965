#!/usr/bin/env bash
# Two swiftlet replicas behind HAProxy on loopback: prefix routing and failover.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; }
flags=(-c release -Xswiftc -enable-testing)  # the flags of .ci/run's swift test: no second build
swift build "${flags[@]}" --product swiftlet >/dev/null
exec python3 deploy/haproxy_test.py "$(swift build "${flags[@]}" --show-bin-path)/swiftlet" Models/shakespeare-target.gguf
