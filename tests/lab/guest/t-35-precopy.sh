#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# save --precopy, state size and precopy-info: rounds from the test driver (its payload changed between rounds) and from mtty, loaded into the other device; kernels and devices without pre-copy refused before the device moves.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B C=$EDU_C
[ "$LAB_TEST_DRIVER" = vfiomig_test ] || skip_all "the edu devices are not on the vfiomig_test driver"

fp() { cat "$DBG/$1/fingerprint"; }
# The arcs the driver performed since the log was cleared, as "a -> b -> c".
arcs() { awk 'NR > 1 { printf " -> " } { printf "%s", $3 }' "$DBG/$1/arcs"; }
clear_arcs() { echo 1 >"$DBG/$1/arcs"; }
# A reader of the step fifo that died must fail a check, not kill this shell.
trap '' PIPE

# The stream of a 1 MiB payload: 4 PAYLOAD records of 32 + 262144 bytes,
# then REGS (56) and END (32).
PIECES=1048704
TAIL=88
WHOLE=$((PIECES + TAIL))

# ---- usage errors, before any device is looked at
run $V save "$A" --precopy-rounds 2 -o x.blob
check_rc 2 "--precopy-rounds without --precopy exits 2"
check_err "save: --precopy-rounds needs --precopy" "and says so"
run $V save "$A" --precopy --precopy-rounds 0 -o x.blob
check_rc 2 "--precopy-rounds 0 exits 2"
run $V save "$A" --precopy --precopy-until-bytes 1Q -o x.blob
check_rc 2 "--precopy-until-bytes 1Q exits 2"
check "no output file after usage errors" test ! -e x.blob

# ---- kernels without pre-copy (6.1): refused before the device moves
if ! kver_ge 6 2; then
	is "$(cat "$DBG/$A/mig_flags")" 3 "6.1: the test driver offers stop-copy and p2p only"
	clear_arcs "$A"
	run $V save "$A" --precopy -o p.blob
	check_rc 3 "6.1: save --precopy exits 3"
	check_err "pre-copy is not supported by '$A': its migration flags are stop-copy,p2p \(pre-copy needs Linux 6.2" "the refusal names the flags and the kernel"
	check_err "hint: save without --precopy" "and the way out"
	is "$(arcs "$A")" "" "6.1: the device never moved"
	check "6.1: no blob was written" test ! -e p.blob
	run $V -j save "$A" --precopy -o p.blob
	check "6.1: -j: the error is EOPNOTSUPP" sh -c "printf '%s' \"\$1\" | jq -e '.error.errno_name == \"EOPNOTSUPP\"'" sh "$ERR"
	run $V state size "$A"
	check_rc 3 "6.1: state size exits 3"
	check_err "no VFIO_DEVICE_FEATURE_MIG_DATA_SIZE \(it came with Linux 6.2\)" "MIG_DATA_SIZE is explained as missing from the kernel"
	run $V precopy-info "$A"
	check_rc 3 "6.1: precopy-info exits 3"
	run $V save "$A" -o plain.blob
	check_rc 0 "6.1: a save without --precopy still works"
	done_testing
fi

# ---- state size: MIG_DATA_SIZE
run $V state size "$A"
check_rc 0 "state size exits 0"
check_out "^$WHOLE bytes \(1\.0 MiB\)$" "the driver's estimate: the whole stream of a 1 MiB payload"
run $V -j state size "$A"
check "state size -j: device, state, stop_copy_size" sh -c "printf '%s' \"\$1\" | jq -e '.device == \"$A\" and .state == \"running\" and .stop_copy_size == $WHOLE'" sh "$OUT"
run $V save "$A" --raw -o plain.raw
check_rc 0 "a plain save"
is "$(wc -c <plain.raw)" "$WHOLE" "the estimate is exact for the test driver"
run $V state size "$E1000E"
check_rc 3 "state size of a NIC without migration exits 3"

# ---- one round: the initial bytes, then stop-copy reads the registers and END
echo 1111 >"$DBG/$A/seed"
echo 2222 >"$DBG/$B/seed"
echo "dma_src 0x12345678" >"$DBG/$A/regs"
a_fp=$(fp "$A")
clear_arcs "$A"
run $V save "$A" --precopy -o p1.blob
check_rc 0 "save --precopy exits 0"
check_out "^pre-copy round 1: $PIECES bytes in [0-9.]+ s \(owed at its start: initial $PIECES, dirty 0\)$" "round 1 reads the initial bytes the driver reported"
check_out "^pre-copy: $PIECES bytes in 1 round; converged: the initial bytes are read; owed to stop-copy: initial 0, dirty 0 \(until 0\)$" "pre-copy converged after one round"
check_out "^saved $A: $WHOLE bytes" "the blob holds the whole stream"
check_out "\(total [0-9]+ us\); stop-copy read $TAIL bytes; device left in stop$" "the downtime part read only the registers and END"
is "$(arcs "$A")" "pre-copy -> pre-copy-p2p -> stop-copy -> stop" "the driver saw running -> pre-copy, then pre-copy-p2p -> stop-copy on the same fd"
run $V blob inspect p1.blob
check_out "^stream +$WHOLE bytes$" "blob inspect: one stream, pre-copy and stop-copy chunks together"
check_out "^verdict +ok$" "and it checks out"
run $V load "$B" -i p1.blob
check_rc 0 "load of a pre-copy blob exits 0, with no option"
is "$(fp "$B")" "$a_fp" "B holds A's state (fingerprint)"
check "B's payload equals A's byte for byte" cmp "$DBG/$A/payload" "$DBG/$B/payload"
run sh -c "$V save $A --precopy --raw --then running > p1.raw"
check_rc 0 "save --precopy --raw --then running"
check_err "device left in running" "--then running applies after pre-copy too"
run sh -c "$V save $A --raw > s1.raw"
check "the pre-copy stream is byte for byte the stop-copy stream" cmp p1.raw s1.raw

run $V -j save "$A" --precopy -o p2.blob
check_rc 0 "save -j --precopy"
check "save -j: the precopy object, stop_copy_bytes and the downtime" sh -c "printf '%s' \"\$1\" | jq -e '
	(.precopy.rounds | length) == 1 and .precopy.rounds[0].round == 1 and
	.precopy.rounds[0].bytes == $PIECES and .precopy.rounds[0].initial_bytes == $PIECES and
	.precopy.rounds[0].dirty_bytes == 0 and .precopy.bytes == $PIECES and
	.precopy.end == \"converged\" and .precopy.initial_bytes == 0 and .precopy.dirty_bytes == 0 and
	.precopy.until_bytes == 0 and .precopy.max_rounds == 10 and
	.stop_copy_bytes == $TAIL and .bytes == $WHOLE and .downtime_us.total > 0 and .state == \"stop\"'" sh "$OUT"
run $V -j save "$A" -o p0.blob
check "save -j without --precopy: no precopy key, stop_copy_bytes is everything" sh -c "printf '%s' \"\$1\" | jq -e '(has(\"precopy\") | not) and .stop_copy_bytes == $WHOLE'" sh "$OUT"

# ---- the driver owes bytes but has none ready (ENOMSG), as a driver still
# preparing them: vfiomig asks the pre-copy sizes, polls and reads on.
if [ -e "$DBG/$A/precopy_enomsg" ]; then
	echo 4242 >"$DBG/$A/seed"
	a_fp=$(fp "$A")
	echo 5 >"$DBG/$A/precopy_enomsg"
	run $V save "$A" --precopy -o enomsg.blob
	check_rc 0 "save --precopy through 5 ENOMSG answers exits 0"
	is "$(cat "$DBG/$A/precopy_enomsg")" 0 "the driver gave all 5 ENOMSG answers"
	check_out "^pre-copy round 1: $PIECES bytes in [0-9.]+ s \(owed at its start: initial $PIECES, dirty 0\)$" \
		"round 1 still read every initial byte"
	check_out "^saved $A: $WHOLE bytes" "and the blob holds the whole stream"
	run $V load "$B" -i enomsg.blob
	check_rc 0 "the blob loads"
	is "$(fp "$B")" "$a_fp" "B holds A's state"
	echo 0 >"$DBG/$A/precopy_enomsg"
else
	skip "the test driver has no precopy_enomsg knob" "ENOMSG with bytes owed"
fi

# ---- the payload changes during pre-copy: --precopy-step pauses after each
# round until the test writes a line, so the change lands between rounds.
# step_start ARGS...: runs save in the background, reading the fifo; $pid, fd 3
step_start() {
	rm -f step
	mkfifo step
	$V save "$A" --precopy --precopy-step "$@" <step >step.out 2>step.err &
	pid=$!
	exec 3>step
}
step_round() { poll_until 60 grep -q "^pre-copy round $1:" step.out; }
step_end() {
	exec 3>&-
	rc=0
	wait "$pid" || rc=$?
}

echo 3333 >"$DBG/$A/seed"
step_start -o p3.blob
check "step: round 1 is reported while vfiomig waits" step_round 1
is "$(cat "$DBG/$A/state")" "6 pre-copy" "step: the device runs on in pre-copy"
check "step: the payload changes in pre-copy (seed)" sh -c "echo 4444 >'$DBG/$A/seed'"
check "step: and a register" sh -c "echo 'dma_dst 0xabcd000' >'$DBG/$A/regs'"
a_fp=$(fp "$A")
echo >&3
check "step: round 2 follows the line" step_round 2
echo >&3
step_end
is "$rc" 0 "step: save exits 0"
like "$(cat step.out)" "pre-copy round 2: $PIECES bytes in [0-9.]+ s \(owed at its start: initial 0, dirty $PIECES\)" "round 2 reads the pieces the change made dirty"
like "$(cat step.out)" "pre-copy: $((2 * PIECES)) bytes in 2 rounds; converged" "then pre-copy converges"
like "$(cat step.out)" "stop-copy read $TAIL bytes" "and stop-copy reads only the registers and END"
like "$(cat step.out)" "saved $A: $((2 * PIECES + TAIL)) bytes" "every round went into the blob"
run $V load "$B" -i p3.blob
check_rc 0 "load of the two-round blob exits 0"
is "$(fp "$B")" "$a_fp" "B holds A's state as changed during pre-copy"
check "B's payload equals A's new payload" cmp "$DBG/$A/payload" "$DBG/$B/payload"
like "$(cat "$DBG/$B/regs")" "dma_dst=0x0*abcd000" "B has the register written during pre-copy"

# Dirty bytes at most --precopy-until-bytes: stop-copy takes them.
step_start --precopy-until-bytes 2M -o p4.blob
step_round 1
echo 5555 >"$DBG/$A/seed"
a_fp=$(fp "$A")
echo >&3
step_end
is "$rc" 0 "until-bytes: save exits 0"
like "$(cat step.out)" "pre-copy: $PIECES bytes in 1 round; converged: the initial bytes are read; owed to stop-copy: initial 0, dirty $PIECES \(until 2097152\)" "dirty bytes within --precopy-until-bytes 2M end pre-copy"
like "$(cat step.out)" "stop-copy read $WHOLE bytes" "stop-copy reads the dirty pieces too"
run $V load "$B" -i p4.blob
is "$(fp "$B")" "$a_fp" "until-bytes: B holds A's changed state"

# The rounds are spent.
step_start --precopy-rounds 1 -o p5.blob
step_round 1
echo 6666 >"$DBG/$A/seed"
a_fp=$(fp "$A")
echo >&3
step_end
is "$rc" 0 "rounds: save exits 0"
like "$(cat step.out)" "pre-copy: $PIECES bytes in 1 round; the rounds are spent; owed to stop-copy: initial 0, dirty $PIECES" "--precopy-rounds 1 ends pre-copy with dirty bytes owed"
run $V load "$B" -i p5.blob
is "$(fp "$B")" "$a_fp" "rounds: B holds A's changed state"

# The end of standard input goes on to stop-copy.
step_start -o p6.blob
step_round 1
echo 7777 >"$DBG/$A/seed"
a_fp=$(fp "$A")
step_end
is "$rc" 0 "EOF: save exits 0"
like "$(cat step.out)" "pre-copy: $PIECES bytes in 1 round; standard input ended \(--precopy-step\); owed to stop-copy: initial 0, dirty $PIECES" "the end of standard input ends pre-copy"
run $V load "$B" -i p6.blob
is "$(fp "$B")" "$a_fp" "EOF: B holds A's changed state"

# Ctrl-C between rounds: the device goes back to running, no blob appears.
step_start -o p7.blob
step_round 1
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
exec 3>&-
is "$rc" 1 "SIGINT in pre-copy exits 1"
like "$(cat step.err)" "interrupted '$A'" "it says it was interrupted"
like "$(cat step.err)" "$A was returned to running" "and that the device went back to running"
check "no blob after an interrupted save" test ! -e p7.blob
is "$(cat "$DBG/$A/state")" "2 running" "the device runs"

# ---- devices that cannot start pre-copy, refused before they move
if [ -e "$DBG/$A/keep_state" ]; then
	echo 1 >"$DBG/$A/keep_state"
	$V state set "$A" stop >/dev/null 2>&1
	clear_arcs "$A"
	run $V save "$A" --precopy -o r.blob
	check_rc 1 "a stopped device: save --precopy exits 1"
	check_err "cannot pre-copy '$A': pre-copy reads the state of a running device, and it is in stop" "the refusal names the state"
	is "$(arcs "$A")" "" "the stopped device never moved"
	$V state set "$A" pre-copy >/dev/null 2>&1
	run $V precopy-info "$A"
	check_rc 1 "precopy-info of a pre-copy left by an earlier process exits 1"
	check_err "it is in pre-copy, but the sizes are read through the data fd of the process that entered it" "and explains whose fd it is"
	echo 8888 >"$DBG/$A/seed"
	a_fp=$(fp "$A")
	clear_arcs "$A"
	run $V save "$A" --precopy -o r.blob
	check_rc 0 "save --precopy of a pre-copy left by an earlier process"
	check_err "was in pre-copy, left by an earlier process; moving it back to running first" "starts over from running, and says so"
	is "$(arcs "$A")" "running -> pre-copy -> pre-copy-p2p -> stop-copy -> stop" "with a new pre-copy stream"
	run $V load "$B" -i r.blob
	is "$(fp "$B")" "$a_fp" "and the blob loads"
	$V state set "$A" running >/dev/null 2>&1
	echo 0 >"$DBG/$A/keep_state"
else
	skip "the test driver has no keep_state knob" "a stopped device is refused"
fi
run $V precopy-info "$A"
check_rc 1 "precopy-info of a running device exits 1"
check_err "it is in running: pre-copy sizes exist only in pre-copy and pre-copy-p2p" "and says where the sizes exist"
echo 3 >"$DBG/$C/mig_flags"
clear_arcs "$C"
run $V save "$C" --precopy -o c.blob
check_rc 3 "a device without the pre-copy flag: exit 3"
check_err "pre-copy is not supported by '$C': its migration flags are stop-copy,p2p" "explained with its flags"
is "$(arcs "$C")" "" "the device never moved"
run $V precopy-info "$C"
check_rc 3 "precopy-info of a device without pre-copy exits 3"
echo 7 >"$DBG/$C/mig_flags"

# ---- in a session: precopy-info reads the held data fd, save continues its stream
echo 9999 >"$DBG/$A/seed"
a_fp=$(fp "$A")
run $V open "$A"
check_rc 0 "a session holds A"
run $V state set "$A" pre-copy
check_rc 0 "pre-copy in the session"
run $V precopy-info "$A"
check_rc 0 "precopy-info in the session exits 0"
check_out "^initial_bytes $PIECES$" "initial bytes: the whole payload, nothing read yet"
check_out "^dirty_bytes +0$" "no dirty bytes"
run $V -j precopy-info "$A"
check "precopy-info -j: device, state, initial_bytes, dirty_bytes, flags" sh -c "printf '%s' \"\$1\" | jq -e '.device == \"$A\" and .state == \"pre-copy\" and .initial_bytes == $PIECES and .dirty_bytes == 0 and .flags == 0'" sh "$OUT"
run $V save "$A" --precopy -o s1.blob
check_rc 0 "save --precopy reads the stream the session's pre-copy opened"
check_err_not "left by an earlier process" "without starting over"
check_out "^pre-copy round 1: $PIECES bytes" "round 1 reads it"
run $V precopy-info "$A"
check_rc 1 "after save the device is in stop: no pre-copy info"
run $V state set "$A" running
run $V state set "$A" pre-copy
run $V save "$A" -o s2.blob
check_rc 0 "a plain save in the session goes from its pre-copy to stop-copy on the same fd"
check_out "saved $A: $WHOLE bytes" "and reads the whole stream"
run $V close "$A"
check_rc 0 "the session ends"
run $V load "$B" -i s1.blob
is "$(fp "$B")" "$a_fp" "the session's pre-copy blob loads into B"
echo 1 >"$DBG/$B/seed"
run $V load "$B" -i s2.blob
is "$(fp "$B")" "$a_fp" "so does the session's plain save from pre-copy"

# ---- upstream mtty: pre-copy round trip with an independent driver
if [ -n "$MTTY_A" ]; then
	MA=$MTTY_A MB=$MTTY_B
	# mtty keeps its migration state when closed: start from running.
	$V state set "$MA" running >/dev/null 2>&1
	$V state set "$MB" running >/dev/null 2>&1
	run $V state size "$MA"
	check_rc 0 "mtty: state size exits 0"
	m_size=$(printf '%s' "$OUT" | sed -n 's/^\([0-9]*\) bytes.*/\1/p')
	run $V save "$MA" --precopy -o m.blob
	check_rc 0 "mtty: save --precopy exits 0"
	check_out "^pre-copy round 1: [0-9]+ bytes in [0-9.]+ s \(owed at its start: initial [0-9]+, dirty 0\)$" "mtty: one round of initial bytes"
	check_out "converged" "mtty: pre-copy converges"
	m_round=$(sed -n 's/^pre-copy round 1: \([0-9]*\) bytes.*initial \([0-9]*\),.*/\1 \2/p' "$OUT_FILE")
	is "${m_round% *}" "${m_round#* }" "mtty: round 1 read exactly the initial bytes mtty reported"
	check_out "saved $MA: $m_size bytes" "mtty: the blob holds what state size announced"
	run $V load "$MB" -i m.blob --then running
	check_rc 0 "mtty: the pre-copy blob loads into the other mtty"
	$V state set "$MA" running >/dev/null 2>&1
	run sh -c "$V save $MA --precopy --raw --then running > mp.raw"
	check_rc 0 "mtty: save --precopy --raw"
	run sh -c "$V save $MA --raw --then running > ms.raw"
	check "mtty: the pre-copy stream equals the stop-copy stream" cmp mp.raw ms.raw
	run sh -c "$V save $MB --raw --then running > mb.raw"
	check "mtty: B, loaded from A's pre-copy blob, saves the same stream as A" cmp ms.raw mb.raw
	$V state set "$MA" stop >/dev/null 2>&1
	run $V save "$MA" --precopy -o m2.blob
	check_rc 1 "mtty: a stopped mtty is refused"
	is "$($V state get "$MA")" stop "mtty: and did not move"
	$V state set "$MA" running >/dev/null 2>&1
else
	skip "no mtty on $KVER" "mtty pre-copy round trip"
fi
done_testing
