#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# save, load and blob inspect: a device's state moves from A to B through a file and a pipe; bad blobs never reach a device.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B

fp() { cat "$DBG/$1/fingerprint"; }
regs() { cat "$DBG/$1/regs"; }

# Make A and B differ, in payload and in registers.
echo 1111 >"$DBG/$A/seed"
echo 2222 >"$DBG/$B/seed"
echo "dma_src 0x12345678" >"$DBG/$A/regs"
echo "dma_src 0x9abc" >"$DBG/$B/regs"
a_fp=$(fp "$A")
b_fp=$(fp "$B")
a_regs=$(regs "$A")
like "$a_regs" "dma_src=0x0*12345678" "A's dma_src register holds the test value"
[ "$a_fp" != "$b_fp" ] && pass "A and B start with different states" || fail "A and B start with different states"

# Through a file.
run $V save "$A" -o a.blob
check_rc 0 "save -o exits 0"
check_out "saved $A: [0-9]+ bytes" "save reports the bytes"
check_out "downtime: enter stop-copy [0-9]+ us, read [0-9]+ us, leave [0-9]+ us" "save reports the downtime split"
check_out "device left in stop" "save says where the device was left"
check_err "note: $A stays in stop only while vfiomig holds it open" "save says the device returns to running on close"
check "the blob exists" test -s a.blob
check "no temporary file is left" sh -c '! ls a.blob.* 2>/dev/null'

run $V blob inspect a.blob
check_rc 0 "blob inspect exits 0"
check_out "source +$A \(driver vfiomig_test\)" "inspect shows the source"
check_out "ids +1234:11e8" "inspect shows the IDs"
check_out "verdict +ok" "inspect verdict is ok"
run $V -j blob inspect a.blob
check "inspect -j parses" sh -c "printf '%s' \"\$1\" | jq -e '.valid and .source == \"$A\" and .stream_bytes > 1048576'" sh "$OUT"

run $V load "$B" -i a.blob
check_rc 0 "load -i exits 0"
check_out "loaded $B: [0-9]+ bytes" "load reports the bytes"
is "$(fp "$B")" "$a_fp" "after load B holds A's state (fingerprint)"
check "B's payload equals A's byte for byte" cmp "$DBG/$A/payload" "$DBG/$B/payload"
is "$(regs "$B" | sed 's/liveness=[^ ]* //')" "$(echo "$a_regs" | sed 's/liveness=[^ ]* //')" "B's registers equal A's"

# Through stdout/stdin and a pipe, with a 64 MiB state.
echo 67108864 >"$DBG/$A/state_size"
echo 3333 >"$DBG/$A/seed"
echo 4444 >"$DBG/$B/seed"
a_fp=$(fp "$A")
run sh -c "$V save $A | $V load $B"
check_rc 0 "save | load of 64 MiB exits 0"
is "$(fp "$B")" "$a_fp" "after save | load B holds A's 64 MiB state"
check "B's 64 MiB payload equals A's" cmp "$DBG/$A/payload" "$DBG/$B/payload"
run sh -c "$V -j save $A > big.blob"
check_rc 0 "save to stdout exits 0"
check "save -j reports on stderr, exactly" sh -c "printf '%s' \"\$1\" | jq -e '.bytes > 67108864 and .chunks >= 64 and .downtime_us.total > 0 and .state == \"stop\"'" sh "$ERR"
run sh -c "$V save $A --then running --raw > raw.bin"
check_rc 0 "save --raw --then running exits 0"
check_err "device left in running" "--then running resumes the device"
check "--raw writes the bare stream (no blob magic)" sh -c '[ "$(head -c 7 raw.bin)" != VFIOMIG ]'
run sh -c "$V load $B --raw < raw.bin"
check_rc 0 "load --raw exits 0"
is "$(fp "$B")" "$a_fp" "load --raw restores the state"
echo 1048576 >"$DBG/$A/state_size"

# Terminals get no binary.
if command -v script >/dev/null 2>&1; then
	run script -qc "$V save $A" /dev/null
	check_out "refusing to write binary data to a terminal" "save to a terminal is refused"
else
	skip "no script(1)" "save to a terminal is refused"
fi

# Bad blobs never reach the device: B's state and arc log stay untouched.
$V save "$A" -o good.blob 2>/dev/null
echo 5555 >"$DBG/$B/seed"
b_fp=$(fp "$B")
size=$(wc -c <good.blob)
head -c 600 good.blob >trunc.blob
head -c $((size - 10)) good.blob >trunc2.blob
cp good.blob flip-hdr.blob
printf '\001' | dd of=flip-hdr.blob bs=1 seek=20 conv=notrunc 2>/dev/null
cp good.blob flip-data.blob
printf '\377' | dd of=flip-data.blob bs=1 seek=100000 conv=notrunc 2>/dev/null
cp good.blob flip-trailer.blob
printf '\377' | dd of=flip-trailer.blob bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
for f in trunc trunc2 flip-hdr flip-data flip-trailer; do
	echo 1 >"$DBG/$B/arcs"
	run $V load "$B" -i $f.blob
	check_rc 4 "load of $f.blob exits 4"
	check_err "invalid blob '$f.blob'" "load of $f.blob names the blob"
	is "$(cat "$DBG/$B/arcs")" "" "$f.blob from a file: the device was never moved"
	is "$(fp "$B")" "$b_fp" "$f.blob: B's state is unchanged"
	run $V blob inspect $f.blob
	check_rc 4 "inspect of $f.blob exits 4"
	check_out "verdict +(truncated|.*mismatch|.*header)" "inspect of $f.blob gives a precise verdict"
done
run $V blob inspect flip-data.blob
check_out "verdict +chunk 0 at offset 512: data checksum mismatch" "a flipped data byte is located in chunk 0"

# A valid blob from another kind of device (an mlx5 VF, made on the host) is refused, in file and pipe.
F=/tests/fixtures/foreign.blob
if [ -f "$F" ]; then
	echo 1 >"$DBG/$B/arcs"
	run $V load "$B" -i "$F"
	check_rc 4 "a foreign blob exits 4"
	check_err "it was saved from 0000:3b:00.2, a different kind of device than $B: vendor 0x15b3 in the blob, 0x1234 here" "the refusal says what differs"
	check_err "hint: --force" "and names --force"
	run sh -c "$V load $B < $F"
	check_rc 4 "a foreign blob from a pipe exits 4"
	is "$(cat "$DBG/$B/arcs")" "" "a foreign blob never moved the device"
	is "$(fp "$B")" "$b_fp" "a foreign blob did not change B's state"
	run $V load "$B" -i "$F" --force
	check_rc 1 "--force hands the foreign stream to the driver, which rejects it"
	check_err "note: loading a blob from a different kind of device \(--force\)" "--force says what it overrides"
	check_err "rejected the state" "the driver's rejection is reported"
	is "$(fp "$B")" "$b_fp" "the rejected foreign stream did not change B's state"
else
	skip "no /tests/fixtures/foreign.blob" "a foreign blob is refused"
fi

# Through a pipe a bad chunk is detected before it is written; the device is reset.
run sh -c "cat flip-data.blob | $V load $B"
check_rc 4 "load of a corrupt blob from a pipe exits 4"
check_err "was reset and is now in running" "a bad stream resets the device and says so"
is "$(fp "$B")" "$b_fp" "a corrupt piped blob did not change B's state"
run sh -c "head -c $((size - 100)) good.blob | $V load $B"
check_rc 4 "a truncated piped blob exits 4"
check_err "truncated" "a truncated piped blob is called truncated"
is "$(fp "$B")" "$b_fp" "a truncated piped blob did not change B's state"

# Raw streams are checked by the driver only: a corrupt one fails at resuming -> stop.
head -c 1000 raw.bin >short-raw.bin
run sh -c "$V load $B --raw < short-raw.bin"
check_rc 1 "a short raw stream is rejected by the driver"
check_err "rejected the state" "the rejection is attributed to the driver"
check_err "was reset and is now in running" "and the device is reset"
is "$(fp "$B")" "$b_fp" "a rejected raw stream did not change B's state"

# ---- Fault injection in the driver: the data fd fails mid-stream.
last_arc() { tail -n 1 "$DBG/$1/arcs" | awk '{ print $2 " -> " $3 }'; }
a_fp=$(fp "$A")
# A save whose data fd fails after 1 MiB (fail_read_after): nothing that
# looks like a blob is left, and the device goes back to running.
echo 1 >"$DBG/$A/arcs"
echo 1048576 >"$DBG/$A/fail_read_after"
run $V save "$A" -o fr.blob
echo -1 >"$DBG/$A/fail_read_after"
check_rc 1 "save with the data fd failing after 1 MiB exits 1"
check_err "cannot read the state of '$A': the data fd failed after 1048576 bytes: input/output error" \
	"the message names the device, the byte count and the error"
check_err "note: $A was returned to running" "it says the device was returned to running"
check_out_not . "nothing on stdout"
check "save -o leaves no file" test ! -e fr.blob
check "and no temporary file" sh -c '! ls fr.blob.* .fr.blob* 2>/dev/null'
is "$(last_arc "$A")" "running-p2p -> running" "the driver saw the device walked back to running"
is "$(fp "$A")" "$a_fp" "A's state is untouched"
# The same through a pipe: the partial blob is called incomplete.
echo 1048576 >"$DBG/$A/fail_read_after"
run sh -c "$V save $A > fr2.blob"
echo -1 >"$DBG/$A/fail_read_after"
check_rc 1 "save to a pipe with the data fd failing exits 1"
check_err "the blob on standard output is incomplete and will fail verification" "it says the output is incomplete"
run $V blob inspect fr2.blob
check_rc 4 "and blob inspect finds it truncated"

# Failures inside a chunk: the bytes before them count, read or written.
echo 100000 >"$DBG/$A/fail_read_after"
run $V save "$A" -o fr.blob
echo -1 >"$DBG/$A/fail_read_after"
check_rc 1 "save with the data fd failing inside a chunk exits 1"
check_err "cannot read the state of '$A': the data fd failed after 100000 bytes: input/output error" \
	"the count includes the bytes read before the failure"
echo 100000 >"$DBG/$B/fail_write_after"
run $V load "$B" -i good.blob
echo -1 >"$DBG/$B/fail_write_after"
check_rc 1 "load with the driver refusing inside a chunk exits 1"
check_err "the driver refused the data after 100000 bytes: input/output error" \
	"the count includes what the driver took of the chunk"
is "$(cat "$DBG/$B/resume_bytes")" 100000 "which is what the driver says it took"
echo 1 >"$DBG/$B/fail_write_after"
run $V load "$B" --raw -i raw.bin
echo -1 >"$DBG/$B/fail_write_after"
check_err "the driver refused the data after 1 bytes" "a raw load counts a single byte taken too"

# A load the driver refuses after 1 MiB (fail_write_after): the device is
# reset and the message says where it is.
echo 5555 >"$DBG/$B/seed"
b_fp=$(fp "$B")
echo 1 >"$DBG/$B/arcs"
echo 1048576 >"$DBG/$B/fail_write_after"
run $V load "$B" -i good.blob
echo -1 >"$DBG/$B/fail_write_after"
check_rc 1 "load with the driver refusing writes after 1 MiB exits 1"
check_err "cannot write the state into '$B': the driver refused the data after 1048576 bytes: input/output error" \
	"the message names the device, the byte count and the error"
check_err "note: $B was reset and is now in running; nothing of the blob was kept" "it says the device was reset, and its state"
is "$(cat "$DBG/$B/resume_bytes")" 1048576 "the driver took exactly 1 MiB"
is "$(last_arc "$B")" "stop -> resuming" "the device never left resuming by an arc: the reset took it out"
is "$(cat "$DBG/$B/state")" "2 running" "the driver says running"
is "$(fp "$B")" "$b_fp" "B's state is untouched"

# A piped blob whose chunk 1 (not 0) is corrupt: chunk 0 reaches the driver,
# chunk 1 is caught before it is written, and the device is reset. With
# keep_state the driver would keep resuming across the close: only a reset
# brings it back to running.
run $V -j blob inspect good.blob
c0=$(printf '%s' "$OUT" | jq .largest_chunk)
is "$(printf '%s' "$OUT" | jq .chunks)" 2 "the 1 MiB state's blob has two chunks"
c1=$((512 + 16 + c0))
cp good.blob flip-c1.blob
printf '\377' | dd of=flip-c1.blob bs=1 seek=$((c1 + 16 + 40)) conv=notrunc 2>/dev/null
run $V blob inspect flip-c1.blob
check_out "verdict +chunk 1 at offset $c1: data checksum mismatch" "the flipped byte is in chunk 1"
echo 1 >"$DBG/$B/keep_state"
echo 1 >"$DBG/$B/arcs"
run sh -c "cat flip-c1.blob | $V load $B"
check_rc 4 "load of a blob with a corrupt chunk 1 from a pipe exits 4"
check_err "invalid blob '-'|invalid blob" "the blob is called invalid"
check_err "was reset and is now in running" "and the device reset"
is "$(cat "$DBG/$B/resume_bytes")" "$c0" "only chunk 0 ($c0 bytes) reached the driver"
is "$(last_arc "$B")" "stop -> resuming" "the device entered resuming and left it by no arc"
is "$($V state get "$B")" running "with keep_state, B runs: it was reset, not just closed in resuming"
echo 0 >"$DBG/$B/keep_state"
is "$(fp "$B")" "$b_fp" "B's state is untouched"

# Usage errors.
run sh -c "$V load $B < /dev/null"
check_rc 4 "an empty input is not a blob"
run $V load "$B" -i /nonexistent
check_rc 1 "a missing input file exits 1"
run $V save "$A" --then bogus -o x.blob
check_rc 2 "--then bogus exits 2"
run $V save
check_rc 2 "save without a device exits 2"

done_testing
