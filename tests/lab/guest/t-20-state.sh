#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `vfiomig state`: every state reachable from every other, the path vfiomig predicts equal to the arcs the driver saw, refusals and failures explained.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A
D=$DBG/$A

states="stop running stop-copy resuming running-p2p"
full_flags=3
if kver_ge 6 2; then
	states="$states pre-copy pre-copy-p2p"
	full_flags=7
fi

# The arcs the driver performed since the log was cleared, as "a -> b -> c".
arcs_path() {
	awk 'NR > 1 { printf " -> " } { printf "%s", $3 }' "$D/arcs"
}

# vfiomig's predicted path from its JSON, in the same form.
predicted_path() {
	printf '%s' "$1" | jq -r '.path | join(" -> ")'
}

# check_arcs DESC: the driver's arcs start with the path the last run predicted.
# Closing the device adds the driver's own way back to running, hence a prefix.
check_arcs() {
	_want=$(predicted_path "$OUT")
	_got=$(arcs_path)
	case "$_got" in
	"$_want"*) pass "$1 ($_want)" ;;
	*) fail "$1" "predicted: $_want" "driver:    $_got" ;;
	esac
}

run $V state get "$A"
check_rc 0 "state get exits 0"
is "$OUT" running "a freshly opened device is running"

# From running (each invocation opens the device anew) to every state.
for t in $states; do
	echo 1 >"$D/arcs"
	run $V -j state set "$A" "$t"
	check_rc 0 "running -> $t succeeds"
	like "$OUT" "\"state\":\"$t\"" "running -> $t: the device reports $t"
	check_arcs "running -> $t: the driver saw the predicted arcs"
done

run $V state set "$A" stop-copy --explain
check_rc 0 "--explain exits 0"
check_out "running -> stop-copy in 3 steps" "--explain counts the steps"
check_out "stop +-> stop-copy .*new data fd to read" "--explain says where the data fd appears"
check_out "^ +snapshots the edu registers and owes the whole payload$" "--explain says what the driver does on stop -> stop-copy"
check_err "note: $A stays in stop-copy only while vfiomig holds it open" "a set says the state lasts only while the device is held"
run $V -j state set "$A" stop-copy --dry-run --explain
check "-j: the driver's note is on its arc, and null on the others" sh -c "printf '%s' \"\$1\" | jq -e '[.steps[].driver_note] == [null, null, \"snapshots the edu registers and owes the whole payload\"]'" sh "$OUT"

echo 1 >"$D/arcs"
run $V -j state set "$A" stop --dry-run
check_rc 0 "--dry-run exits 0"
like "$(predicted_path "$OUT")" "^running-p2p -> stop$" "--dry-run prints the path"
is "$(cat "$D/arcs")" "" "--dry-run moves nothing"

# Refusals before any ioctl.
run $V state set "$A" error
check_rc 2 "error cannot be requested (usage error)"
check_err "error cannot be requested" "and the refusal says why"
run $V state set "$A" bogus
check_rc 2 "an unknown state name exits 2"
run $V state set "$A" 8
check_rc 2 "state number 8 exits 2"
run $V -j state set "$A" 3 --dry-run
check "states by number: 3 is stop-copy" sh -c "printf '%s' \"\$1\" | jq -e '.to == \"stop-copy\"'" sh "$OUT"
if ! kver_ge 6 2; then
	run $V state set "$A" pre-copy
	check_rc 3 "pre-copy on $KVER exits 3 (not supported)"
	check_err "has no pre-copy state" "and says the device has no pre-copy state"
fi

# Devices without P2P or pre-copy: the kernel skips the missing states, and so does vfiomig.
for flags in 1 3 $( kver_ge 6 2 && echo 5 7 ); do
	if ! echo "$flags" >"$D/mig_flags" 2>/dev/null; then
		fail "mig_flags $flags can be set while the device is closed"
		continue
	fi
	for t in stop stop-copy resuming running-p2p pre-copy pre-copy-p2p; do
		echo 1 >"$D/arcs"
		run $V -j state set "$A" "$t"
		supported=1
		case "$t:$flags" in
		running-p2p:1 | running-p2p:5 | pre-copy:1 | pre-copy:3 | pre-copy-p2p:[135]) supported=0 ;;
		esac
		if [ $supported = 0 ]; then
			check_rc 3 "flags $flags: $t is refused as unsupported"
			is "$(cat "$D/arcs")" "" "flags $flags: nothing moved for $t"
			continue
		fi
		check_rc 0 "flags $flags: running -> $t succeeds"
		check_arcs "flags $flags: running -> $t took the predicted arcs"
	done
done
echo "$full_flags" >"$D/mig_flags"

# Every state from every other needs a device that keeps its state when closed.
if [ -e "$D/keep_state" ]; then
	echo 1 >"$D/keep_state"
	for from in $states; do
		for to in $states; do
			# Through running: stop-copy -> pre-copy* is refused, by design.
			$V state set "$A" running >/dev/null 2>&1
			run $V state set "$A" "$from"
			[ "$RC" = 0 ] || { fail "reach $from to start $from -> $to"; _t_diag_run; continue; }
			echo 1 >"$D/arcs"
			run $V -j state set "$A" "$to"
			if [ "$from" = stop-copy ] && { [ "$to" = pre-copy ] || [ "$to" = pre-copy-p2p ]; }; then
				check_rc 1 "$from -> $to is refused (the kernel bug)"
				check_err "loop forever" "$from -> $to: the refusal explains the kernel bug"
				is "$(cat "$D/arcs")" "" "$from -> $to: no ioctl reached the driver"
				continue
			fi
			check_rc 0 "$from -> $to succeeds"
			want=$(predicted_path "$OUT")
			is "$(arcs_path)" "$want" "$from -> $to: the driver saw exactly the predicted arcs"
			is "$($V state get "$A")" "$to" "$from -> $to: a new invocation reads $to"
		done
	done

	# A transition that fails midway: the device stays at the last step that worked.
	$V state set "$A" running >/dev/null 2>&1
	echo "1 5" >"$D/fail_state"
	run $V state set "$A" stop-copy
	check_rc 1 "an injected EIO on the arc into stop fails the set"
	check_err "running -> stop-copy failed after 1 of 3 steps: input/output error; the device is now in running-p2p" "the failure says where the device is"
	check_err "hint: vfiomig state set $A running returns it" "and how to return it"
	is "$($V state get "$A")" running-p2p "the device is where the message said"

	echo "3 5 error" >"$D/fail_state"
	run $V state set "$A" stop-copy
	check_rc 1 "an injected failure into error fails the set"
	check_err "the device is now in error" "the failure says the device is in error"
	check_err "hint: vfiomig reset $A" "and advises a reset"
	run $V state get "$A"
	is "$OUT" error "the device reports error"
	check_err "only 'vfiomig reset $A' leaves it" "state get in error advises a reset"
	run $V state set "$A" running
	check_rc 1 "leaving error by a set is refused"
	check_err "only a reset leaves it" "and the refusal says a reset is needed"
	run $V reset "$A"
	check_rc 0 "reset exits 0"
	check_out "$A: reset; state running" "reset prints the state afterwards"
	is "$($V state get "$A")" running "after reset the device is running"
	echo off >"$D/fail_state"
	echo 0 >"$D/keep_state"
else
	skip "the test driver has no keep_state knob" "every state from every other"
fi

done_testing
