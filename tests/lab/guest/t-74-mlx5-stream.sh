#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mlx5-framed streams: the test driver's stream_format mlx5 wraps its records the way mlx5_vfio_pci frames firmware data; blob inspect --records mlx5 decodes them, a load still moves the state, and corrupt headers are caught by vfiomig and by the destination driver.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B C=$EDU_C

[ "$LAB_TEST_DRIVER" = vfiomig_test ] || skip_all "the edu devices are not on the test driver"

fp() { cat "$DBG/$1/fingerprint"; }
jqo() { check "$1" sh -c "printf '%s' \"\$1\" | jq -e '$2'" sh "$OUT"; }

is "$(cat "$DBG/$A/stream_format")" vmt "a device speaks its own framing by default"
check "stream_format refuses an unknown framing" sh -c "! echo bogus >$DBG/$A/stream_format"
check "mlx5_bad_tag refuses a malformed value" sh -c "! echo '1 x' >$DBG/$A/mlx5_bad_tag"
is "$(cat "$DBG/$A/mlx5_bad_tag")" off "mlx5_bad_tag is off by default"

# Three pieces, the last one short: 262144 + 262144 + 75712 bytes.
size=600000
n=3
echo $size >"$DBG/$A/state_size"
echo 5151 >"$DBG/$A/seed"
echo 6262 >"$DBG/$B/seed"
inner=$((size + n * 32 + 88))
total=$((size + n * 48 + 144))
echo mlx5 >"$DBG/$A/stream_format"
echo mlx5 >"$DBG/$B/stream_format"
is "$(cat "$DBG/$A/stream_format")" mlx5 "stream_format reads back mlx5"
a_fp=$(fp "$A")
b_fp=$(fp "$B")

# MIG_DATA_SIZE counts the framing (the driver's own report, 6.2+).
if kver_ge 6 2; then
	run $V -j state size "$A"
	jqo "MIG_DATA_SIZE reports the framed stream, $total bytes" ".stop_copy_size == $total"
else
	skip "no MIG_DATA_SIZE before 6.2" "MIG_DATA_SIZE reports the framed stream"
fi

run $V save "$A" -o a.blob
check_rc 0 "save of an mlx5-framed stream exits 0"
run $V -j blob inspect a.blob --records mlx5
check_rc 0 "blob inspect --records mlx5 exits 0"
jqo "the blob holds $total stream bytes" ".valid and .stream_bytes == $total"
jqo "$((n + 3)) records: STOP_COPY_SIZE, then FW_DATA for $n pieces, REGS and END" ".mlx5.valid and .mlx5.records == $((n + 3)) and .mlx5.fw_data == $((n + 2)) and .mlx5.stop_copy_size_records == 1"
jqo "FW_DATA carries the driver's own $inner bytes" ".mlx5.fw_data_bytes == $inner"
jqo "STOP_COPY_SIZE says $total, what the driver reported and what the blob holds" ".mlx5.stop_copy_size == $total"
jqo "record 0: STOP_COPY_SIZE, optional, 8 bytes, at offset 0" ".mlx5.list[0] | .tag == \"STOP_COPY_SIZE\" and .flags == \"optional\" and .size == 8 and .offset == 0 and .stop_copy_size == $total"
jqo "record 1: FW_DATA, mandatory, a whole piece, at offset 24" ".mlx5.list[1] | .tag == \"FW_DATA\" and .flags == \"mandatory\" and .size == 262176 and .offset == 24"
jqo "the last piece is short" ".mlx5.list[3] | .tag == \"FW_DATA\" and .size == $((16 + 16 + size - 2 * 262144))"
jqo "REGS and END close the stream" "[.mlx5.list[4,5].size] == [56, 32]"
run $V blob inspect a.blob --records mlx5
check_out "^mlx5 records $((n + 3)) \(FW_DATA $((n + 2)): $inner bytes, STOP_COPY_SIZE 1: last $total bytes\)\$" "the text names the counts and the size"
run $V -j blob inspect a.blob
jqo "without --records, a vfiomig_test blob is not decoded" ".mlx5 == null"

run $V load "$B" -i a.blob
check_rc 0 "load of the mlx5-framed blob exits 0"
is "$(fp "$B")" "$a_fp" "B holds A's state"
is "$(cat "$DBG/$B/resume_status")" ok "B's driver unwrapped and accepted the stream"
echo 6262 >"$DBG/$B/seed"
b_fp=$(fp "$B")

# The other framing is refused both ways.
run $V load "$C" -i a.blob
check_rc 1 "a device speaking vmt refuses the mlx5-framed stream"
is "$(cat "$DBG/$C/resume_status")" "error: bad record magic (record at byte 0)" "and says why"
echo vmt >"$DBG/$A/stream_format"
run $V save "$A" -o vmt.blob
echo mlx5 >"$DBG/$A/stream_format"
run $V blob inspect vmt.blob --records mlx5
check_rc 4 "the driver's own framing is no mlx5 stream: exit 4"
check_err "^vfiomig: malformed mlx5 records in 'vmt.blob': mlx5 record 0 at stream offset 0: unknown flags 0x40010\$" "the header is named, with the field"
run $V load "$B" -i vmt.blob
check_rc 1 "a device speaking mlx5 refuses the driver's own framing"
is "$(cat "$DBG/$B/resume_status")" "error: unknown mlx5 record flags (mlx5 record at byte 0)" "and says why"
is "$(fp "$B")" "$b_fp" "the refused stream did not change B"

# A corrupted record header: record 1 (the first FW_DATA) carries tag 7, mandatory.
echo "1 7" >"$DBG/$A/mlx5_bad_tag"
is "$(cat "$DBG/$A/mlx5_bad_tag")" "1 7" "mlx5_bad_tag reads back"
run $V save "$A" -o bad.blob
check_rc 0 "the source does not check what it frames"
run $V blob inspect bad.blob --records mlx5
check_rc 4 "a corrupted mlx5 record header exits 4"
check_err "^vfiomig: malformed mlx5 records in 'bad.blob': mlx5 record 1 at stream offset 24: unknown mandatory tag 0x7: the destination driver would refuse it\$" "inspect names the record, its offset and the tag"
run $V -j blob inspect bad.blob --records mlx5
jqo "-j: the blob itself is valid, its mlx5 records are not" ".valid and (.mlx5.valid | not) and (.mlx5.error | test(\"unknown mandatory tag 0x7\"))"
run $V load "$B" -i bad.blob
check_rc 1 "the destination driver refuses it too"
is "$(cat "$DBG/$B/resume_status")" "error: unknown mandatory mlx5 record tag (mlx5 record at byte 24)" "and names the record"
is "$(fp "$B")" "$b_fp" "the refused stream did not change B"

# An unknown tag in an optional record is skipped by both.
echo "0 9" >"$DBG/$A/mlx5_bad_tag"
run $V save "$A" -o opt.blob
run $V -j blob inspect opt.blob --records mlx5
check_rc 0 "an optional record of an unknown tag is no error"
jqo "it is listed as unknown and optional" ".mlx5.valid and .mlx5.stop_copy_size_records == 0 and (.mlx5.list[0] | .tag == \"unknown\" and .flags == \"optional\")"
run $V load "$B" -i opt.blob
check_rc 0 "and the destination skips it"
is "$(fp "$B")" "$a_fp" "B holds A's state"
echo off >"$DBG/$A/mlx5_bad_tag"
echo 6262 >"$DBG/$B/seed"
b_fp=$(fp "$B")

# A stream cut inside an mlx5 record.
run sh -c "$V save $A --raw --then running > raw.bin"
check_rc 0 "save --raw exits 0"
is "$(wc -c <raw.bin | tr -d ' ')" "$total" "the raw stream is $total bytes"
head -c $((total - 100)) raw.bin >short.bin
run sh -c "$V load $B --raw < short.bin"
check_rc 1 "a stream cut inside a record is refused"
is "$(cat "$DBG/$B/resume_status")" "error: stream ends inside an mlx5 record" "and called incomplete"
is "$(fp "$B")" "$b_fp" "the refused stream did not change B"

# Pre-copy streams start with STOP_COPY_SIZE too.
if kver_ge 6 2; then
	run $V save "$A" --precopy -o pre.blob
	check_rc 0 "save --precopy of an mlx5-framed stream exits 0"
	run $V -j blob inspect pre.blob --records mlx5
	jqo "the pre-copy stream decodes, STOP_COPY_SIZE first" ".mlx5.valid and .mlx5.list[0].tag == \"STOP_COPY_SIZE\" and .mlx5.stop_copy_size == .stream_bytes"
	run $V load "$B" -i pre.blob
	check_rc 0 "and loads"
	is "$(fp "$B")" "$a_fp" "B holds A's state"
else
	skip "no pre-copy before 6.2" "pre-copy streams are framed too"
fi

echo vmt >"$DBG/$A/stream_format"
echo vmt >"$DBG/$B/stream_format"
echo 1048576 >"$DBG/$A/state_size"
done_testing
