#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Micro-benchmark of `vfiomig dirty decode`: 32 MiB bitmaps (1 TiB of IOVA at 4 KiB pages) at 0.1%, 10% and 50% density, in long runs and scattered, against a plain read of the same file; prints times and ratios, asserts nothing.
#
# Usage: bench/dirty-decode.sh [VFIOMIG]   (default build/vfiomig)
# Env:   BENCH_REPEAT  runs per measurement, the best one kept (default 7)
#        BENCH_BYTES   bitmap size (default 33554432)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VFIOMIG=${1:-$ROOT/build/vfiomig}
REPEAT=${BENCH_REPEAT:-7}
BYTES=${BENCH_BYTES:-33554432}
CC=${CC:-cc}
[[ -x $VFIOMIG ]] || { echo "no vfiomig at $VFIOMIG: run make" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vfiomig-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
$CC -O2 -o "$TMP/gen" "$ROOT/bench/gen-bitmap.c"
# The decoder as vfiomig builds it, timed in process: no start-up, no read.
$CC -O2 -std=gnu11 -I"$ROOT/vfiomig" -o "$TMP/inproc" "$ROOT/bench/decode-inproc.c" "$ROOT/vfiomig/bitmap.c"

# best_ms CMD...: the fastest of REPEAT runs, in milliseconds, output discarded.
best_ms() {
	local i t0 t1 best=
	for ((i = 0; i < REPEAT; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		((t1 - t0 < ${best:-999999999999})) && best=$((t1 - t0))
	done
	awk -v ns="$best" 'BEGIN { printf "%.2f", ns / 1e6 }'
}

echo "vfiomig dirty decode, $((BYTES >> 20)) MiB bitmaps ($((BYTES * 8 * 4096 >> 40)) TiB of IOVA at 4 KiB), best of $REPEAT, $(nproc) CPUs, $(uname -r)"
echo "cat: read the file to /dev/null; decode: vfiomig dirty decode (totals + first 100 extents);"
echo "stats/walk: the decoder in process (totals by popcount / every run by ctz), GB/s of bitmap"
base=$(best_ms "$VFIOMIG" --version)
echo "vfiomig --version (start-up alone): $base ms"
printf '%-10s %7s %9s %9s %9s %7s %11s %11s %11s\n' layout density pages runs "cat ms" "decode" "ratio" "stats GB/s" "walk GB/s"
for layout in runs scattered; do
	for pct in 0.1 10 50; do
		f=$TMP/bm.$layout.$pct
		"$TMP/gen" "$layout" "$pct" "$BYTES" >"$f"
		cat "$f" >/dev/null # into the page cache
		read_ms=$(best_ms cat "$f")
		dec_ms=$(best_ms "$VFIOMIG" dirty decode "$f" --iova 0 --page-size 4K)
		read -r _ sgbs _ wgbs pages runs _ < <("$TMP/inproc" "$f")
		printf '%-10s %6s%% %9s %9s %9s %7s %10sx %11s %11s\n' "$layout" "$pct" "$pages" "$runs" \
			"$read_ms" "$dec_ms" "$(awk -v a="$dec_ms" -v b="$read_ms" 'BEGIN { printf "%.2f", a / b }')" \
			"$sgbs" "$wgbs"
	done
done
