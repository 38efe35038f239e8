#!/bin/sh
# Run every experiment scenario with rmaplab-kcheck (needs root) and print
# "== name" followed by the JSON lines and the stderr notes.
# Usage: kernel-check/experiments/run-all.sh [path/to/rmaplab-kcheck]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-"$HERE/../build/rmaplab-kcheck"}
[ -x "$BIN" ] || BIN=$("$HERE/../build.sh" | tail -n 1)
for f in "$HERE"/*.rmap; do
  echo "== $(basename "$f")"
  "$BIN" -v "$f" 2>&1
  echo "(exit $?)"
done
