#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Upstream's mtty sample as an independent peer: mdev addressing, save from one instance, load into the other, pre-copy.
. /tests/lib.sh
V=$VFIOMIG
[ -n "$MTTY_A" ] || skip_all "no mtty on $KVER (migration in mtty needs 6.7)"
A=$MTTY_A B=$MTTY_B

run $V -j info "$A"
check_rc 0 "info on an mdev exits 0"
check "info -j: an mdev with migration" sh -c "printf '%s' \"\$1\" | jq -e '.kind == \"mdev\" and .migration.supported'" sh "$OUT"
run $V state get "/sys/bus/mdev/devices/$A"
check_rc 0 "an mdev by sysfs path"

# mtty keeps its migration state when closed: start from running.
$V state set "$A" running >/dev/null 2>&1
$V state set "$B" running >/dev/null 2>&1
run $V save "$A" -o m.blob
check_rc 0 "save from mtty exits 0"
run $V -j blob inspect m.blob
check "the blob records the mdev type and driver" sh -c "printf '%s' \"\$1\" | jq -e '.valid and (.mdev_type | test(\"mtty\")) and .driver == \"mtty\"'" sh "$OUT"
run $V load "$B" -i m.blob --then running
check_rc 0 "load into the other mtty exits 0"
is "$($V state get "$B")" running "mtty B runs after load --then running (mtty keeps state across closes)"
is "$($V state get "$A")" stop "mtty A stayed in stop after save (mtty keeps state across closes)"

# B holds A's state. Fresh mttys save the same stream, so first make them
# differ: mtty's stream is its struct mtty_data, a 24-byte header (magic,
# versions, port count, flags) then per port its 8 UART registers, and the
# scratch register (SCR, the 8th, byte 31) is plain storage mtty loads as
# given. Load A and B with streams that differ there, then migrate A to B.
scr() { dd if="$1" bs=1 skip=31 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n'; }
# with_scr IN OUT OCTAL: IN with the scratch register set to OCTAL.
with_scr() { cp "$1" "$2" && printf "\\$3" | dd of="$2" bs=1 seek=31 conv=notrunc 2>/dev/null; }
$V state set "$A" running >/dev/null 2>&1
run sh -c "$V save $A --raw --then running > base.raw"
check_rc 0 "save --raw from mtty A"
check "mtty's stream holds a header and a port" test "$(wc -c <base.raw)" -gt 32
with_scr base.raw a-in.raw 245
with_scr base.raw b-in.raw 132
run sh -c "$V load $A --raw --then running < a-in.raw"
check_rc 0 "load a stream with SCR 0xa5 into A"
run sh -c "$V load $B --raw --then running < b-in.raw"
check_rc 0 "load a stream with SCR 0x5a into B"
$V save "$A" --raw --then running >a.raw 2>/dev/null
$V save "$B" --raw --then running >b-before.raw 2>/dev/null
is "$(scr a.raw)" a5 "A saves the state it was given (SCR 0xa5)"
is "$(scr b-before.raw)" 5a "B saves its own, different state (SCR 0x5a)"
check "A and B differ before the migration" sh -c '! cmp -s a.raw b-before.raw'
run sh -c "$V save $A --then running | $V load $B --then running"
check_rc 0 "save A | load B"
$V save "$B" --raw --then running >b-after.raw 2>/dev/null
check "after save A | load B, B saves exactly A's stream" cmp a.raw b-after.raw
is "$(scr b-after.raw)" a5 "B's scratch register is A's"

# Pre-copy on mtty, and the refusal of stop-copy -> pre-copy on a device really in stop-copy.
run $V state set "$A" pre-copy
check_rc 0 "mtty enters pre-copy"
is "$($V state get "$A")" pre-copy "mtty reports pre-copy"
run $V state set "$A" stop-copy
check_rc 0 "pre-copy -> stop-copy"
run $V state set "$A" pre-copy
check_rc 1 "stop-copy -> pre-copy is refused"
check_err "loop forever" "with the kernel bug as the reason"
is "$($V state get "$A")" stop-copy "and the device did not move"
run $V save "$A" -o m2.blob
check_rc 0 "save from a device left in stop-copy starts over from stop"
check_err "was in stop-copy, left by an earlier process; moving it to stop first" "and says so"
$V state set "$A" running >/dev/null 2>&1

# A blob from an edu device is foreign to mtty.
$V save "$EDU_A" -o edu.blob 2>/dev/null
run $V load "$B" -i edu.blob
check_rc 4 "an edu blob into mtty is refused (exit 4)"
check_err "refusing to load 'edu.blob': it was saved from $EDU_A, a different kind of device" "the refusal names the source"
check_err "driver 'vfiomig_test' in the blob, 'mtty' here" "and says what differs"
check_err "hint: --force" "and offers --force"
is "$($V state get "$B")" running "the refused blob did not move mtty B"
done_testing
