#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make bench-lab`: boots the lab (tests/lab/run.sh) to run guest/bench-lab.sh, which saves and loads a 64 MiB device state with vfiomig, --raw and a minimal data-fd loop (bench/mig-loop.c), and prints its tables here.
#
# Usage: bench/lab.sh   (LAB_KERNELS picks the kernels, default 6.12; the
#        guest's BENCH_LAB_RUNS is not passed: edit bench-lab.sh's default)
# Under TCG only ratios mean anything: the guest's clock runs on an
# emulated CPU. Exit status: the lab run's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/build/bench
CC=${CC:-cc}
export LAB_KERNELS=${LAB_KERNELS:-6.12}

mkdir -p "$BIN"
# Built here with the project's own VFIO definitions; run.sh copies it into
# the guest's /usr/bin with its libraries, found through PATH.
"$CC" -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -I"$ROOT/vfiomig" -o "$BIN/mig-loop" "$ROOT/bench/mig-loop.c"
export PATH=$BIN:$PATH
# jq reads vfiomig's reports in the guest; the rest of the lab's usual programs are not needed.
export LAB_EXTRA_BINS="jq mig-loop"
export LAB_TESTS=bench-lab.sh

log=$(mktemp "${TMPDIR:-/tmp}/vfiomig-bench-lab.XXXXXX")
trap 'rm -f "$log"' EXIT
set +e
"$ROOT/tests/lab/run.sh" 2>&1 | tee "$log" | grep -v '^  | BENCH: '
rc=${PIPESTATUS[0]}
set -e
echo
echo "# vfiomig in the lab ($(date -u +%Y-%m-%dT%H:%M:%SZ); host $(uname -srm), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs)"
sed -n 's/^  | BENCH: \{0,1\}//p' "$log"
exit "$rc"
