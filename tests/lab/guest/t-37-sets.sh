#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Several devices at once: phases behind the P2P barrier in the order the driver saw them, a fault rolled back, bundles moved whole.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B C=$EDU_C
export A B C
fp() { cat "$DBG/$1/fingerprint"; }
clear_arcs() { for _d in $A $B $C; do echo 1 >"$DBG/$_d/arcs"; done; }
# The arcs of the test devices merged in the order the driver did them: "seq device from to".
merged() {
	for _d in $A $B $C; do
		awk -v d="$_d" '{ print $1, d, $2, $3 }' "$DBG/$_d/arcs"
	done | sort -n
}
# The sequence number of the last (first) arc FROM -> TO of any device; 0 when none.
last_seq() { merged | awk -v f="$1" -v t="$2" '$3 == f && $4 == t { s = $1 } END { print s + 0 }'; }
first_seq() { merged | awk -v f="$1" -v t="$2" '$3 == f && $4 == t && !s { s = $1 } END { print s + 0 }'; }
# check_before A_FROM A_TO B_FROM B_TO DESC: every arc of the first kind came before any of the second.
check_before() {
	_l=$(last_seq "$1" "$2")
	_f=$(first_seq "$3" "$4")
	if [ "$_l" -gt 0 ] && [ "$_f" -gt 0 ] && [ "$_l" -lt "$_f" ]; then
		pass "$5"
	else
		fail "$5" "last $1 -> $2 at $_l, first $3 -> $4 at $_f" "$(merged)"
	fi
}
# The states one device's arcs went to, as "a b c".
arcs_of() { awk '{ printf "%s%s", (NR > 1 ? " " : ""), $3 }' "$DBG/$1/arcs"; }
jq_ok() { printf '%s' "$OUT" | jq -e "$1" >/dev/null; }

# ---- state set: down and up behind the barrier
clear_arcs
run $V -j state set "$A" "$B" stop
check_rc 0 "state set A B stop exits 0"
check "two phases: both to running-p2p, then both to stop" jq_ok \
	'[.phases[] | [.steps[].to] | unique] == [["running-p2p"], ["stop"]] and (.phases[0].steps | length) == 2'
check "-j times each device's arc in each phase" jq_ok \
	'[.phases[].steps[].us | type] == ["number","number","number","number"] and (.phases[0].us | type) == "number"'
check "-j reports both devices in stop" jq_ok '[.states[].state] == ["stop","stop"]'
check_before running running-p2p running-p2p stop "the driver saw every device quiesce before any stopped"

clear_arcs
cat >/tmp/updown.vmb <<'EOF'
state set $A $B stop
expect state stop
state set $A $B running
EOF
run $V batch /tmp/updown.vmb
check_rc 0 "a batch moves the set down and up again"
check_before stop running-p2p running-p2p running "on the way up, every device reached running-p2p before any ran"

clear_arcs
run $V state set "$A" "$B" stop-copy --dry-run --explain
check_rc 0 "--dry-run --explain exits 0"
check_out "^2 devices to stop-copy in 3 phases, behind the P2P barrier:" "it names the phases and the barrier"
check_out "^phase 1: quiesce: these devices stop initiating DMA" "phase 1 quiesces"
check_out "^phase 2: stop: no device initiates DMA any more" "phase 2 stops"
is "$(merged)" "" "a dry run moves nothing"

# ---- a fault in the second device's stop rolls the first one back
clear_arcs
echo "1 5" >"$DBG/$B/fail_state"
run $V state set "$A" "$B" stop
check_rc 1 "a failed arc fails the command"
check_err "phase 2 of 2 failed; returning every device to where it started" "and says the set is rolled back"
check_err "$A was returned to running" "the first device is back in running"
check_err "$B was returned to running" "the second device is back in running"
is "$(arcs_of "$A")" "running-p2p stop running-p2p running" "the first device went down and came back the way it went"
is "$(arcs_of "$B")" "running-p2p running" "the failing device came back from running-p2p"
check_before stop running-p2p running-p2p running "the way back keeps the barrier too"
check_out "^$A: running$" "the final state of the first device is shown"
check_out "^$B: running$" "and of the second"

clear_arcs
echo "1 5 error" >"$DBG/$B/fail_state"
run $V state set "$A" "$B" stop
check_rc 1 "a device that fails into error fails the command"
check_err "$B is in error, not back in running; 'vfiomig reset $B' returns it to running" "the device in error is named, with the remedy"
check_err "$A was returned to running" "the other device is returned"
echo off >"$DBG/$B/fail_state"

# ---- devices without P2P: one can still keep the barrier, two cannot
flags=$(cat "$DBG/$C/mig_flags")
echo 1 >"$DBG/$C/mig_flags"
clear_arcs
run $V state set "$A" "$C" stop
check_rc 0 "one device without P2P still moves behind the barrier"
is "$(arcs_of "$C")" "stop" "it goes straight to stop"
check_before running running-p2p running stop "but only once its peer quiesced"
check_before running stop running-p2p stop "and its peer stops only after it"
echo 1 >"$DBG/$B/mig_flags"
clear_arcs
run $V state set "$A" "$B" "$C" stop
check_rc 3 "two devices without P2P are refused (exit 3)"
check_err "$B has no P2P states \(migration flags stop-copy\)" "the refusal names a device and its flags"
check_err "hint: --no-p2p-barrier" "and the way to move them anyway"
is "$(merged)" "" "nothing moved"
run $V state set "$A" "$B" "$C" stop --no-p2p-barrier
check_rc 0 "--no-p2p-barrier moves them anyway"
is "$(arcs_of "$B") / $(arcs_of "$C")" "stop / stop" "both went straight to stop"
echo "$flags" >"$DBG/$B/mig_flags"
echo "$flags" >"$DBG/$C/mig_flags"

run $V state set "$A" "$A" stop
check_rc 2 "a device named twice is a usage error"
check_err "device $A is named twice" "and says so"
run $V state set "$A" "$B" bogus
check_rc 2 "a bad state with several devices is a usage error"

# ---- bundles
fa=$(fp "$A")
fb=$(fp "$B")
clear_arcs
run $V save "$A" "$B" -o /tmp/ab.bundle
check_rc 0 "save A B -o writes a bundle"
check_out "^saved $A: [0-9]+ bytes" "save reports the first device"
check_out "^saved $B: [0-9]+ bytes" "and the second"
check_out "^bundle of 2 devices: [0-9]+ bytes to /tmp/ab.bundle" "and the bundle"
check_out "downtime: enter stop-copy [0-9]+ us, read [0-9]+ us, leave [0-9]+ us" "and the downtime split"
check_before running running-p2p running-p2p stop "save quiesced both devices before stopping either"
check_before running-p2p stop stop stop-copy "and stopped both before reading either"

run $V blob inspect /tmp/ab.bundle
check_rc 0 "blob inspect of the bundle exits 0"
check_out "^format +vfiomig bundle version 1$" "inspect calls it a bundle"
check_out "^members +2$" "with two members"
check_out "^source +$A \(driver vfiomig_test\)$" "the first member is A's"
check_out "^source +$B \(driver vfiomig_test\)$" "the second member is B's"
check_out "^verdict +ok$" "and it checks out"
run $V -j blob inspect /tmp/ab.bundle
check "-j lists the members in order" jq_ok '[.members[].source] == ["'"$A"'","'"$B"'"] and .valid'

# New states in both, so that a load shows.
echo 4242 >"$DBG/$A/seed"
echo 4343 >"$DBG/$B/seed"
run $V load "$B" "$A" -i /tmp/ab.bundle
check_rc 0 "load B A pairs the members by position"
check_out "^loaded $B \(saved from $A\): [0-9]+ bytes" "B got A's member"
check_out "^loaded $A \(saved from $B\): [0-9]+ bytes" "A got B's member"
is "$(fp "$B")" "$fa" "B now holds what A held when saved"
is "$(fp "$A")" "$fb" "A now holds what B held when saved"

echo 4444 >"$DBG/$C/seed"
run $V load "$C" "$A" --by identity -i /tmp/ab.bundle
check_rc 0 "load --by identity pairs members of one kind in order"
is "$(fp "$C")" "$fa" "C got the first member"

echo 4545 >"$DBG/$C/seed"
run $V load --map "$B=$C" -i /tmp/ab.bundle
check_rc 0 "load --map loads one member"
check_err "skipping the state of $A: no --map names it" "and says which it skipped"
is "$(fp "$C")" "$fb" "C got B's member"

run $V load "$A" -i /tmp/ab.bundle
check_rc 2 "one device for a bundle of two is a usage error"
check_err "the blob holds 2 device states and 1 device was given" "and says so"
run $V load "$A" --map "$B=$C" -i /tmp/ab.bundle
check_rc 2 "operands and --map together are refused"
run $V load --map "0000:7f:00.0=$C" -i /tmp/ab.bundle
check_rc 2 "--map of a source the bundle lacks is refused"
check_err "the blob holds no state saved from '0000:7f:00.0'" "naming the source"

clear_arcs
run $V load "$A" "$E1000E" -i /tmp/ab.bundle
check_rc 4 "a member paired with a different kind of device is refused (exit 4)"
check_err "it was saved from $B, a different kind of device than $E1000E: vendor 0x1234 in the blob, 0x8086 here" "naming the pair and what differs"
is "$(merged)" "" "before any device moved"

# Through a pipe: the load verifies each chunk as it comes.
fa=$(fp "$A")
echo 4646 >"$DBG/$C/seed"
sh -c "$V save $A $B 2>/dev/null | $V load --map $A=$C" >/dev/null 2>&1
is "$?" 0 "save A B | load --map A=C works through a pipe"
is "$(fp "$C")" "$fa" "C holds A's state after the pipe"

# A corrupt bundle file never reaches a device.
size=$(stat -c %s /tmp/ab.bundle)
cp /tmp/ab.bundle /tmp/bad.bundle
printf 'X' | dd of=/tmp/bad.bundle bs=1 seek=$((size - 1000)) conv=notrunc 2>/dev/null
clear_arcs
run $V load "$A" "$B" -i /tmp/bad.bundle
check_rc 4 "a corrupt bundle is refused with exit 4"
check_err "invalid blob '/tmp/bad.bundle': chunk [0-9]+ at offset [0-9]+: data checksum mismatch" "naming the chunk"
is "$(merged)" "" "neither device was touched"
# Cut short in a pipe: the devices were resuming, so they are reset.
run sh -c "head -c $((size - 100)) /tmp/ab.bundle | $V load $A $B"
check_rc 4 "a truncated bundle in a pipe fails with exit 4"
check_err "truncated" "and is called truncated"
check_err "$A was reset and is now in running" "the first device is reset"
check_err "$B was reset and is now in running" "and the second"

# The driver refusing a write mid-stream.
echo 100 >"$DBG/$B/fail_write_after"
run $V load "$A" "$B" -i /tmp/ab.bundle
check_rc 1 "a write the driver refuses fails the load"
check_err "cannot write the state into '$B': the driver refused the data after 100 bytes" "naming the device and the bytes it took"
check_err "$B was reset and is now in running" "and every device is reset"
echo -1 >"$DBG/$B/fail_write_after"

# A failed save rolls the set back and leaves no file.
clear_arcs
echo "3 5" >"$DBG/$B/fail_state"
rm -f /tmp/fail.bundle
run $V save "$A" "$B" -o /tmp/fail.bundle
check_rc 1 "a failed stop-copy fails the save"
check_err "$A was returned to running" "the set is returned to running"
check_err "$B was returned to running" "both devices"
check "no bundle is left behind" sh -c '! ls /tmp/fail.bundle* 2>/dev/null | grep -q .'
echo off >"$DBG/$B/fail_state"

# A session holding the set: the state lasts between commands, and save reads the streams it holds.
run $V open "$A" "$B"
check_rc 0 "open A B holds the set in one session"
run $V state set "$A" "$B" stop-copy
check_rc 0 "state set of the set runs in the session"
clear_arcs
run $V save "$A" "$B" -o /tmp/held.bundle
check_rc 0 "save of the held set exits 0"
is "$(arcs_of "$A") / $(arcs_of "$B")" "stop / stop" "it read the held streams without a new stop-copy, then stopped"
run $V blob inspect /tmp/held.bundle
check_out "^verdict +ok$" "and the bundle checks out"
$V close "$A" >/dev/null 2>&1
rm -f /tmp/held.bundle

# An upstream driver in the set, where the kernel has mtty.
if [ -n "$MTTY_A" ] && [ -n "$MTTY_B" ]; then
	run $V save "$A" "$MTTY_A" -o /tmp/mixed.bundle
	check_rc 0 "a set of our device and mtty saves"
	run $V load "$B" "$MTTY_B" -i /tmp/mixed.bundle
	check_rc 0 "and loads into their peers"
	is "$(fp "$B")" "$(fp "$A")" "B holds A's state"
	run $V -j blob inspect /tmp/mixed.bundle
	check "the bundle names both drivers" jq_ok '[.members[].driver] == ["vfiomig_test","mtty"]'
else
	skip "no mtty on $KVER" "a set with mtty"
fi
rm -f /tmp/ab.bundle /tmp/bad.bundle /tmp/mixed.bundle /tmp/updown.vmb
done_testing
