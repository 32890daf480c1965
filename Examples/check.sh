#!/usr/bin/env bash
# Builds Examples/Consumer against Swiftlet as a versioned dependency
# (`.package(url:from:)`, which SwiftPM refuses for packages with unsafe build flags):
# clones this repository's HEAD into a temporary folder, tags it, builds the consumer in
# release and generates text with the shipped model.
# Usage: Examples/check.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/swiftlet"
git -C "$work/swiftlet" -c user.name=check -c user.email=check@localhost tag -a 0.9.0 -m "check" HEAD
cp -R "$root/Examples/Consumer" "$work/consumer"
rm -rf "$work/consumer/.build"
cd "$work/consumer"
SWIFTLET_URL="file://$work/swiftlet" swift build -c release 2>&1 | tail -3
output="$(SWIFTLET_URL="file://$work/swiftlet" swift run -c release Consumer "$root/Models/shakespeare-target.gguf" "ROMEO:" 2>&1)"
echo "$output"
grep -q "tok/s" <<<"$output" || { echo "check.sh: the consumer generated no text" >&2; exit 1; }
tokens=$(grep -o '\[[0-9]* tokens' <<<"$output" | grep -o '[0-9]*')
[ "${tokens:-0}" -gt 0 ] || { echo "check.sh: no tokens generated" >&2; exit 1; }
echo "versioned dependency: ok ($tokens tokens)"
