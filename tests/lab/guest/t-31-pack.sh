#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# blob pack and unpack against real streams: a raw save packed with a device's identity loads without --force; a blob unpacked loads as --raw; --source never opens the device.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B
[ "$LAB_TEST_DRIVER" = vfiomig_test ] || skip_all "the edu devices are not on vfiomig_test: no state to move"

fp() { cat "$DBG/$1/fingerprint"; }
echo 3131 >"$DBG/$A/seed"
a_fp=$(fp "$A")

# A raw stream, wrapped with A's identity (the kind of device B is too).
$V save "$A" --raw >raw.bin 2>/dev/null
is "$?" 0 "save --raw exits 0"
run $V blob pack raw.bin --source "$A" -o a.blob
check_rc 0 "blob pack --source exits 0"
check_out "^packed raw.bin \(source $A\): [0-9]+ bytes in [0-9]+ chunks to a.blob" "pack reports the source and the bytes"
run $V -j blob inspect a.blob
check "the header holds A's name, IDs, driver and kernel" sh -c "printf '%s' \"\$1\" | jq -e '.valid and .source == \"$A\" and .vendor_id == \"0x1234\" and .device_id == \"0x11e8\" and .driver == \"vfiomig_test\" and .kernel == \"$KVER\"'" sh "$OUT"
# The flags come from VFIO's debugfs, whose features file is newer than 6.12.
if [ -r "/sys/kernel/debug/vfio/$A/migration/features" ]; then
	check "the migration flags are what VFIO's debugfs says" sh -c "printf '%s' \"\$1\" | jq -e '.migration_flags != \"none\"'" sh "$OUT"
else
	check "no debugfs features file: the migration flags are none" sh -c "printf '%s' \"\$1\" | jq -e '.migration_flags == \"none\"'" sh "$OUT"
fi
echo 1 >"$DBG/$B/seed"
run $V load "$B" -i a.blob
check_rc 0 "load of the packed blob into B needs no --force"
is "$(fp "$B")" "$a_fp" "B holds A's state"

# A blob back to the bare stream: byte for byte what --raw wrote, loadable as --raw.
run $V blob unpack a.blob -o back.bin
check_rc 0 "blob unpack -o exits 0"
check "unpack gives the raw stream back byte for byte" cmp raw.bin back.bin
echo 2 >"$DBG/$B/seed"
run sh -c "$V save $A 2>/dev/null | $V blob unpack 2>/dev/null | $V load $B --raw"
check_rc 0 "save | blob unpack | load --raw exits 0"
is "$(fp "$B")" "$a_fp" "B holds A's state after the pipeline"

# An anonymous stream is another kind of device: refused, then --force.
run $V blob pack raw.bin -o anon.blob
check_rc 0 "blob pack without identity exits 0"
echo 3 >"$DBG/$B/seed"
b_fp=$(fp "$B")
echo 1 >"$DBG/$B/arcs"
run $V load "$B" -i anon.blob
check_rc 4 "load refuses a blob without identity"
check_err "a different kind of device than $B: vendor 0x0000 in the blob, 0x1234 here" "and says what differs"
is "$(cat "$DBG/$B/arcs")" "" "B was never moved"
is "$(fp "$B")" "$b_fp" "B's state is unchanged"
run $V load "$B" -i anon.blob --force
check_rc 0 "--force loads it"
is "$(fp "$B")" "$a_fp" "and B holds A's state"

# --source reads sysfs only: it works on a device a session holds, which any open would find busy.
run $V open "$A"
check_rc 0 "a session holds A"
run $V blob pack raw.bin --source "$A" -o held.blob
check_rc 0 "blob pack --source of a held device exits 0: it never opens it"
run $V close "$A"
check_rc 0 "the session closes"

# A corrupt blob: exit 4, nothing under -o, and the verified chunks on stdout.
size=$(wc -c <a.blob)
cp a.blob bad.blob
printf '\377' | dd of=bad.blob bs=1 seek=$((size - 100000)) conv=notrunc 2>/dev/null
run $V blob unpack bad.blob -o bad.bin
check_rc 4 "unpack of a corrupt blob exits 4"
check_err "invalid blob 'bad.blob': chunk [0-9]+ at offset [0-9]+: data checksum mismatch" "and locates the bad chunk"
check "nothing appears under -o" sh -c '! ls bad.bin* 2>/dev/null'
done_testing
