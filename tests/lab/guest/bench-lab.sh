#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench-lab's guest part: save and load of a 64 MiB device state with vfiomig, with --raw and with a minimal loop over the data fd (mig-loop), best of N; prints the tables as "BENCH: " lines and checks that every run moved the whole state.
#
# Not a t-*.sh file: `make lab` does not run it; bench/lab.sh boots the lab
# with LAB_TESTS=bench-lab.sh and /usr/bin/mig-loop in the guest.
# Env: BENCH_LAB_RUNS (default 5), BENCH_LAB_BYTES (default 67108864).
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B
RUNS=${BENCH_LAB_RUNS:-5}
SIZE=${BENCH_LAB_BYTES:-67108864}
LOOP=/usr/bin/mig-loop

[ "$LAB_TEST_DRIVER" = vfiomig_test ] || skip_all "the edu devices are not on vfiomig_test: no state to move"
[ -x "$LOOP" ] || skip_all "no $LOOP in the guest (bench/lab.sh puts it there)"

echo "$SIZE" >"$DBG/$A/state_size"
echo 4242 >"$DBG/$A/seed"
a_fp=$(cat "$DBG/$A/fingerprint")

# min VAR VALUE: VAR becomes VALUE when unset or larger.
min() {
	eval "_cur=\${$1:-}"
	if [ -z "$_cur" ] || [ "$2" -lt "$_cur" ]; then
		eval "$1=$2"
	fi
}
# The fields of a mig-loop line ("enter_us N move_us N leave_us N bytes N") into L_*.
loop_fields() {
	set -- $1
	L_ENTER=$2 L_MOVE=$4 L_LEAVE=$6 L_BYTES=$8
}
wall() { cat wall.us; }

# The files the loads read, and the stream's size.
$V save "$A" -o a.blob >/dev/null 2>&1
is "$?" 0 "vfiomig save -o a.blob exits 0"
$V save "$A" --raw >raw.bin 2>/dev/null
is "$?" 0 "vfiomig save --raw exits 0"
STREAM=$(wc -c <raw.bin)
[ "$STREAM" -gt "$SIZE" ] && pass "the stream ($STREAM bytes) holds the $SIZE-byte state" ||
	fail "the stream ($STREAM bytes) holds the $SIZE-byte state"

ok_save=0 ok_raw=0 ok_loop=0 ok_lfile=0 ok_lpipe=0 ok_lraw=0 ok_lloop=0
i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	# Interleaved, so that a slow moment of the host costs each the same.
	$LOOP time wall.us $V -j save "$A" >/dev/null 2>save.json &&
		b=$(jq -r .bytes save.json) && [ "$b" = "$STREAM" ] && ok_save=$((ok_save + 1))
	min S_WALL "$(wall)"
	min S_ENTER "$(jq -r .downtime_us.enter save.json)"
	min S_READ "$(jq -r .downtime_us.read save.json)"
	min S_LEAVE "$(jq -r .downtime_us.leave save.json)"
	min S_TOTAL "$(jq -r .downtime_us.total save.json)"

	$LOOP time wall.us $V -j save "$A" --raw >/dev/null 2>save.json &&
		b=$(jq -r .bytes save.json) && [ "$b" = "$STREAM" ] && ok_raw=$((ok_raw + 1))
	min R_WALL "$(wall)"
	min R_ENTER "$(jq -r .downtime_us.enter save.json)"
	min R_READ "$(jq -r .downtime_us.read save.json)"
	min R_LEAVE "$(jq -r .downtime_us.leave save.json)"
	min R_TOTAL "$(jq -r .downtime_us.total save.json)"

	$LOOP time wall.us $LOOP save "$A" >loop.txt && loop_fields "$(cat loop.txt)" &&
		[ "$L_BYTES" = "$STREAM" ] && ok_loop=$((ok_loop + 1))
	min M_WALL "$(wall)"
	min M_ENTER "$L_ENTER"
	min M_READ "$L_MOVE"
	min M_LEAVE "$L_LEAVE"
	min M_TOTAL "$((L_ENTER + L_MOVE + L_LEAVE))"

	echo $((1000 + i)) >"$DBG/$B/seed"
	$LOOP time wall.us $V -j load "$B" -i a.blob >load.json 2>/dev/null &&
		[ "$(cat "$DBG/$B/fingerprint")" = "$a_fp" ] && ok_lfile=$((ok_lfile + 1))
	min LF_WALL "$(wall)"
	min LF_SECS "$(jq -r '.seconds * 1e6 | floor' load.json)"

	echo $((2000 + i)) >"$DBG/$B/seed"
	$LOOP time wall.us sh -c "cat a.blob | $V -j load $B" >load.json 2>/dev/null &&
		[ "$(cat "$DBG/$B/fingerprint")" = "$a_fp" ] && ok_lpipe=$((ok_lpipe + 1))
	min LP_WALL "$(wall)"
	min LP_SECS "$(jq -r '.seconds * 1e6 | floor' load.json)"

	echo $((3000 + i)) >"$DBG/$B/seed"
	$LOOP time wall.us $V -j load "$B" --raw -i raw.bin >load.json 2>/dev/null &&
		[ "$(cat "$DBG/$B/fingerprint")" = "$a_fp" ] && ok_lraw=$((ok_lraw + 1))
	min LR_WALL "$(wall)"
	min LR_SECS "$(jq -r '.seconds * 1e6 | floor' load.json)"

	echo $((4000 + i)) >"$DBG/$B/seed"
	$LOOP time wall.us $LOOP load "$B" raw.bin >loop.txt && loop_fields "$(cat loop.txt)" &&
		[ "$L_BYTES" = "$STREAM" ] && [ "$(cat "$DBG/$B/fingerprint")" = "$a_fp" ] &&
		ok_lloop=$((ok_lloop + 1))
	min LM_WALL "$(wall)"
	min LM_SECS "$((L_ENTER + L_MOVE + L_LEAVE))"
done
is "$ok_save" "$RUNS" "every vfiomig save read the whole stream"
is "$ok_raw" "$RUNS" "every vfiomig save --raw read the whole stream"
is "$ok_loop" "$RUNS" "every mig-loop save read the whole stream"
is "$ok_lfile" "$RUNS" "every vfiomig load -i a.blob gave B A's state"
is "$ok_lpipe" "$RUNS" "every cat a.blob | vfiomig load gave B A's state"
is "$ok_lraw" "$RUNS" "every vfiomig load --raw gave B A's state"
is "$ok_lloop" "$RUNS" "every mig-loop load gave B A's state"

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
row() {
	echo "BENCH: | $1 | $(ms "$2") ms | $(ms "$3") ms | $(ms "$4") ms | $(ms "$5") ms | $(ms "$6") ms | $(ratio "$6" "$M_TOTAL")x | $(ratio "$2" "$M_WALL")x |"
}
echo "BENCH: "
echo "BENCH: Kernel $KVER ($LAB_KERNEL), $(nproc) vCPUs under $(grep -q hypervisor /proc/cpuinfo && echo QEMU || echo ?),"
echo "BENCH: a $SIZE-byte state ($STREAM-byte stream) of $A on vfiomig_test, best of $RUNS interleaved runs."
echo "BENCH: Downtime as each tool reports it: vfiomig's downtime_us (-j save), mig-loop's own clock."
echo "BENCH: Wall: the whole command, exec to exit (mig-loop time)."
echo "BENCH: "
echo "BENCH: | save | wall | enter stop-copy | read | leave | downtime | downtime vs loop | wall vs loop |"
echo "BENCH: |---|---|---|---|---|---|---|---|"
row "vfiomig save (blob, to /dev/null)" "$S_WALL" "$S_ENTER" "$S_READ" "$S_LEAVE" "$S_TOTAL"
row "vfiomig save --raw" "$R_WALL" "$R_ENTER" "$R_READ" "$R_LEAVE" "$R_TOTAL"
row "mig-loop save (read loop, 1 MiB reads)" "$M_WALL" "$M_ENTER" "$M_READ" "$M_LEAVE" "$M_TOTAL"
echo "BENCH: "
echo "BENCH: | load | wall | first arc to last arc | vs loop | wall vs loop |"
echo "BENCH: |---|---|---|---|---|"
lrow() { echo "BENCH: | $1 | $(ms "$2") ms | $(ms "$3") ms | $(ratio "$3" "$LM_SECS")x | $(ratio "$2" "$LM_WALL")x |"; }
lrow "vfiomig load -i a.blob (whole file verified first)" "$LF_WALL" "$LF_SECS"
lrow "cat a.blob \\| vfiomig load (chunk by chunk)" "$LP_WALL" "$LP_SECS"
lrow "vfiomig load --raw -i raw.bin" "$LR_WALL" "$LR_SECS"
lrow "mig-loop load (write loop, 1 MiB writes)" "$LM_WALL" "$LM_SECS"
echo "BENCH: "

echo 1048576 >"$DBG/$A/state_size"
done_testing
