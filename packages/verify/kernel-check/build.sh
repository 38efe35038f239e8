#!/bin/sh
# Build rmaplab-kcheck. Usage: kernel-check/build.sh [OUTDIR]
# (default OUTDIR: kernel-check/build/, which is git-ignored)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUTDIR=${1:-"$HERE/build"}
mkdir -p "$OUTDIR"
OUT="$OUTDIR/rmaplab-kcheck"
cd "$HERE"
${CC:-cc} -O2 -Wall -Wextra -o "$OUT" rmaplab-kcheck.c
echo "$OUT"
