#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make bench`: vfiomig's data path, dirty-bitmap decoding and start-up on the host, each against a baseline measured in the same run; prints Markdown tables of times and ratios, and asserts no time.
#
# Usage: bench/run.sh [stream] [decode] [startup]   (default: all three)
# Env:   VFIOMIG        the binary (default build/vfiomig)
#        BENCH_BYTES    bytes of the piped stream (default 2147483648, 2 GiB)
#        BENCH_RUNS     runs of each stream pipeline, interleaved, the best kept (default 5)
#        BENCH_BITMAP   bytes of each dirty bitmap (default 33554432, 32 MiB)
#        BENCH_TMP      where the 2 GiB blob goes (default: TMPDIR or /tmp)
# Exit status: 0, or 1 when a result is wrong (a round trip that is not
# byte-exact, a check of start-up work that fails) or a tool is missing.
# A missed target is reported in the table, not in the exit status:
# times on a shared machine are not something to fail on.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VFIOMIG=${VFIOMIG:-$ROOT/build/vfiomig}
BYTES=${BENCH_BYTES:-2147483648}
RUNS=${BENCH_RUNS:-5}
BITMAP=${BENCH_BITMAP:-33554432}
CC=${CC:-cc}
BIN=$ROOT/build/bench
SECTIONS=("$@")
((${#SECTIONS[@]})) || SECTIONS=(stream decode startup)

die() { echo "bench: $*" >&2; exit 1; }
[[ -x $VFIOMIG ]] || die "no vfiomig at $VFIOMIG: run make"
for t in hyperfine jq strace /usr/bin/time lspci; do
	command -v "$t" >/dev/null || die "$t is missing: run 'tests/deps.sh --bench' (as root) or 'make bench', which does"
done

TMP=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/vfiomig-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILED=0
bad() { echo "bench: WRONG: $*" >&2; FAILED=1; }

mkdir -p "$BIN"
# shellcheck disable=SC2046 # pkg-config prints several flags
build() { "$CC" -O2 -std=gnu11 -D_GNU_SOURCE "$@" $(pkg-config --cflags --libs libxxhash); }
build -o "$BIN/stream-gen" "$ROOT/bench/stream-gen.c"
build -o "$BIN/gen-bitmap" "$ROOT/bench/gen-bitmap.c"
# The decoder as vfiomig builds it, timed in process: no start-up, no read.
build -I"$ROOT/vfiomig" -o "$BIN/decode-inproc" "$ROOT/bench/decode-inproc.c" "$ROOT/vfiomig/bitmap.c"

# awk arithmetic on the command line: calc '%.2f' 'a / b' a=1 b=2
calc() {
	local fmt=$1 expr=$2
	shift 2
	awk "$@" "BEGIN { printf \"$fmt\", $expr }"
}
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }

echo "# vfiomig benchmarks"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(uname -srm), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- vfiomig: $("$VFIOMIG" --version), $VFIOMIG"
echo "- tools: $(hyperfine --version), $(cat --version | head -n1), $(lspci --version)"

# ---------------------------------------------------------------- stream
# A pipeline's wall time in seconds into WALL, and the CPU seconds (user +
# system) of its middle command, run under /usr/bin/time, into CPU.
WALL=0 CPU=0
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	eval "$1"
	t1=$EPOCHREALTIME
	WALL=$(calc '%.6f' 'b - a' -v a="$t0" -v b="$t1")
	CPU=$(awk '{ printf "%.3f", $1 + $2 }' "$TMP/cpu")
}

stream_section() {
	local gen=$BIN/stream-gen blob=$TMP/stream.blob mid r k
	local -A best=() cpu=()
	local names=(cat-pack pack cat-unpack unpack)
	local -A cmd=(
		[cat-pack]="'$gen' $BYTES | /usr/bin/time -f '%U %S' -o '$TMP/cpu' cat | cat >/dev/null"
		[pack]="'$gen' $BYTES | /usr/bin/time -f '%U %S' -o '$TMP/cpu' '$VFIOMIG' blob pack 2>/dev/null | cat >/dev/null"
		[cat-unpack]="cat '$blob' | /usr/bin/time -f '%U %S' -o '$TMP/cpu' cat | cat >/dev/null"
		[unpack]="cat '$blob' | /usr/bin/time -f '%U %S' -o '$TMP/cpu' '$VFIOMIG' blob unpack 2>/dev/null | cat >/dev/null"
	)

	echo
	echo "## Blob framing: $(calc '%.2f' 'b / 1073741824' -v b="$BYTES") GiB through pipes, best of $RUNS interleaved runs"
	echo
	# The blob the unpack runs read, in the page cache like the stream pack reads.
	"$gen" "$BYTES" | "$VFIOMIG" blob pack -o "$blob" >/dev/null
	cat "$blob" >/dev/null
	# Byte-exact both ways, once, untimed: the generator's hash against the round trip's.
	want=$("$gen" "$BYTES" | "$gen" -s)
	got=$("$gen" "$BYTES" | "$VFIOMIG" blob pack 2>/dev/null | "$VFIOMIG" blob unpack 2>/dev/null | "$gen" -s)
	[[ $got == "$want" ]] || bad "pack | unpack is not byte-exact: $got, expected $want"
	got=$("$VFIOMIG" blob unpack "$blob" 2>/dev/null | "$gen" -s)
	[[ $got == "$want" ]] || bad "unpack of the packed file is not byte-exact: $got, expected $want"

	for ((r = 0; r < RUNS; r++)); do
		for k in "${names[@]}"; do
			timed "${cmd[$k]}"
			if [[ -z ${best[$k]:-} ]] || awk "BEGIN { exit !($WALL < ${best[$k]}) }"; then
				best[$k]=$WALL
			fi
			if [[ -z ${cpu[$k]:-} ]] || awk "BEGIN { exit !($CPU < ${cpu[$k]}) }"; then
				cpu[$k]=$CPU
			fi
		done
	done

	echo "| pipeline (middle command) | baseline: cat | vfiomig | throughput ratio | target | CPU of the middle command: cat, vfiomig |"
	echo "|---|---|---|---|---|---|"
	for mid in pack unpack; do
		local b=${best[cat-$mid]} v=${best[$mid]} ratio
		ratio=$(calc '%.2f' 'b / v' -v b="$b" -v v="$v")
		printf '| %s | %.3f s (%.2f GB/s) | %.3f s (%.2f GB/s) | %sx | >= 0.90x: %s | %.2f s, %.2f s |\n' \
			"$([[ $mid == pack ]] && echo 'stream-gen \| **blob pack** \| cat' || echo 'cat blob \| **blob unpack** \| cat')" \
			"$b" "$(calc '%.2f' 'n / b / 1e9' -v n="$BYTES" -v b="$b")" \
			"$v" "$(calc '%.2f' 'n / v / 1e9' -v n="$BYTES" -v v="$v")" \
			"$ratio" "$(verdict "$ratio >= 0.90")" "${cpu[cat-$mid]}" "${cpu[$mid]}"
	done
	echo
	echo "Round trip (stream-gen | blob pack | blob unpack, and unpack of the file) byte-exact: $([[ $FAILED == 0 ]] && echo yes || echo NO)."
}

# ---------------------------------------------------------------- decode
# hyperfine -N (no shell) of each command given: sets MIN[i] and MEDIAN[i] in ms.
MIN=() MEDIAN=()
hf() {
	local runs=$1 json=$TMP/hf.json
	shift
	hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json" "$@" >/dev/null 2>"$TMP/hf.err" ||
		die "hyperfine failed: $(cat "$TMP/hf.err")"
	mapfile -t MIN < <(jq -r '.results[].min * 1000' "$json")
	mapfile -t MEDIAN < <(jq -r '.results[].median * 1000' "$json")
}

decode_section() {
	local layout pct f ratio line dgbs
	echo
	echo "## Dirty bitmap decode: $((BITMAP >> 20)) MiB bitmaps ($((BITMAP * 8 * 4096 >> 40)) TiB of IOVA at 4 KiB pages)"
	echo
	echo "Baseline: \`cat FILE\` to /dev/null (reads the file, decodes nothing). vfiomig: \`vfiomig dirty decode FILE --iova 0 --page-size 4K\`"
	echo "(totals and the first 100 extents). Both are whole processes, start-up included; the decoder alone is"
	echo "timed in process (bench/decode-inproc.c: bitmap_stats, the totals \`dirty decode\` prints) over the same file."
	echo
	echo "| layout | density | dirty pages | runs | cat (median) | decode (median) | ratio | decode net of start-up | decoder in process | target |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	hf 30 "$VFIOMIG --version"
	local startup=${MEDIAN[0]}
	for layout in runs scattered; do
		for pct in 0.1 10 50; do
			f=$TMP/bm.$layout.$pct
			"$BIN/gen-bitmap" "$layout" "$pct" "$BITMAP" >"$f"
			cat "$f" >/dev/null
			hf 20 "cat $f" "$VFIOMIG dirty decode $f --iova 0 --page-size 4K"
			read -r _ dgbs _ _ pages runs _ < <("$BIN/decode-inproc" "$f")
			ratio=$(calc '%.2f' 'd / c' -v d="${MEDIAN[1]}" -v c="${MEDIAN[0]}")
			line=$(verdict "$dgbs >= 5")
			[[ $pct == 0.1 ]] && line="ratio <= 2: $(verdict "$ratio <= 2"); >= 5 GB/s: $line" || line=">= 5 GB/s: $line"
			printf '| %s | %s%% | %s | %s | %.2f ms | %.2f ms | %sx | %.2f GB/s | %s GB/s | %s |\n' "$layout" "$pct" \
				"$pages" "$runs" "${MEDIAN[0]}" "${MEDIAN[1]}" "$ratio" \
				"$(calc '%.2f' 'n / (d - s) / 1e6' -v n="$BITMAP" -v d="${MEDIAN[1]}" -v s="$startup")" "$dgbs" "$line"
		done
	done
	echo
	echo "Start-up of \`vfiomig --version\` (median, subtracted for the net column): $(calc '%.2f' 's' -v s="$startup") ms."
}

# ---------------------------------------------------------------- startup
# The library functions (PLT slots) of vfiomig that a run of it bound,
# i.e. called, from the libraries named by REGEX; relocations of data
# symbols are bound at load and do not count.
called_from() {
	local regex=$1
	shift
	LD_BIND_NOW='' LD_DEBUG=bindings "$VFIOMIG" "$@" 2>&1 >/dev/null </dev/null |
		sed -n "s|.*binding file $VFIOMIG \[0\] to \([^ ]*\) \[0\]: normal symbol \`\([^']*\)'.*|\1 \2|p" |
		grep -E "$regex" | awk '{ print $2 }' | grep -Fxf "$TMP/plt" | sort -u | tr '\n' ' ' || true
}

startup_section() {
	local i names=() cmds=() blob=$TMP/small.blob
	echo
	echo "## Start-up"
	echo
	head -c 65536 /dev/urandom | "$VFIOMIG" blob pack -o "$blob" --ids 1234:11e8 --driver vfiomig_test >/dev/null
	names=("true" "vfiomig --version" "vfiomig blob inspect (64 KiB blob)" "vfiomig list" "lspci -n")
	cmds=("true" "$VFIOMIG --version" "$VFIOMIG blob inspect $blob" "$VFIOMIG list" "lspci -n")
	hf 200 "${cmds[@]}"
	local vfio_devs
	vfio_devs=$(find /sys/bus/pci/drivers/ -maxdepth 2 -name '*:*' -path '*vfio*' 2>/dev/null | wc -l)
	echo "Every command run 200 times by \`hyperfine -N\` (no shell) after 3 warm-ups; $(find /sys/bus/pci/devices/ -mindepth 1 -maxdepth 1 | wc -l) PCI functions, $vfio_devs on a VFIO driver."
	echo
	echo "| command | best | median | median vs true | median vs lspci -n | target |"
	echo "|---|---|---|---|---|---|"
	for i in "${!names[@]}"; do
		local vs_lspci target=''
		vs_lspci=$(calc '%.2f' 'a / b' -v a="${MEDIAN[i]}" -v b="${MEDIAN[4]}")
		[[ ${names[i]} == "vfiomig list" ]] && target="<= 1.5x lspci -n: $(verdict "$vs_lspci <= 1.5")"
		printf '| %s | %.2f ms | %.2f ms | %.2fx | %sx | %s |\n' "${names[i]}" "${MIN[i]}" "${MEDIAN[i]}" \
			"$(calc '%.2f' 'a / b' -v a="${MEDIAN[i]}" -v b="${MEDIAN[0]}")" "$vs_lspci" "$target"
	done

	# What each command does before and besides its job: system calls
	# (strace) and the functions of libpci, libmnl and readline it calls.
	readelf -rW "$VFIOMIG" | awk '$3 == "R_X86_64_JUMP_SLOT" { sub(/@.*/, "", $5); print $5 }' | sort -u >"$TMP/plt"
	echo
	echo "Work done at start-up, per command: sockets opened (netlink: devlink), sysfs and /dev/vfio files"
	echo "opened, the PCI ID database and terminfo (what readline's initialisation reads), and the functions of"
	echo "libpci, libmnl and readline called (LD_DEBUG=bindings on vfiomig's own PLT slots)."
	echo
	echo "| command | sockets | /sys opens | /dev/vfio opens | pci.ids, terminfo | libpci, libmnl, readline calls | needed? |"
	echo "|---|---|---|---|---|---|---|"
	local args sock sys dev db libs ok
	for args in "--version" "blob inspect $blob" "list" "help --commands"; do
		# shellcheck disable=SC2086 # ARGS is words
		strace -f -qq -e trace=socket,open,openat -o "$TMP/strace" "$VFIOMIG" $args >/dev/null 2>&1 </dev/null || true
		sock=$(grep -c 'socket(' "$TMP/strace" || true)
		sys=$(grep -c '"/sys/' "$TMP/strace" || true)
		dev=$(grep -c '"/dev/vfio' "$TMP/strace" || true)
		db=$(grep -Ec 'pci\.ids|terminfo' "$TMP/strace" || true)
		# shellcheck disable=SC2086
		libs=$(called_from 'libpci|libmnl|libreadline' $args)
		ok=yes
		if ((sock || db || dev)) || [[ -n $libs ]]; then ok=NO; fi
		# Only list walks sysfs: the others have no device to look at.
		if [[ $args != list ]] && ((sys)); then ok=NO; fi
		[[ $ok == yes ]] || bad "vfiomig $args does work it does not need: sockets $sock, /sys $sys, /dev/vfio $dev, pci.ids/terminfo $db, calls: ${libs:-none}"
		printf '| vfiomig %s | %s | %s | %s | %s | %s | %s |\n' "${args/$blob/BLOB}" "$sock" "$sys" "$dev" "$db" "${libs:-none}" \
			"$([[ $ok == yes ]] && echo 'only what it needs' || echo '**more than it needs**')"
	done
}

for s in "${SECTIONS[@]}"; do
	case $s in
	stream) stream_section ;;
	decode) decode_section ;;
	startup) startup_section ;;
	*) die "unknown section '$s': use stream, decode or startup" ;;
	esac
done
echo
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$FAILED"
