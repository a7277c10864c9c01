#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Low power: pm enter/exit/status on the vfio-pci NICs and on edu (no PM capability), wakes from another process, the single-shot wake eventfd, timeouts, and a pm status that never touches the device.
. /tests/lib.sh
V=$VFIOMIG
N=$E1000E
P=$VIRTIO_NET
E=$EDU_C

sys() { echo "/sys/bus/pci/devices/$1"; }
rs() { cat "$(sys "$1")/power/runtime_status"; }
pst() { cat "$(sys "$1")/power_state"; }
# pm_is DEV RUNTIME_STATUS [POWER_STATE]
pm_is() { [ "$(rs "$1")" = "$2" ] && { [ -z "${3-}" ] || [ "$(pst "$1")" = "$3" ]; }; }
# Wakes a runtime-suspended device from outside the process that holds it:
# forbidding runtime PM resumes it. Reading config space through sysfs would
# not: the kernel resumes a device for that only from D3cold.
wake() { echo on >"$(sys "$1")/power/control"; }
allow() { echo auto >"$(sys "$1")/power/control"; }
alive() { kill -0 "$1" 2>/dev/null; }
# An unused device on vfio-pci is runtime-suspended already (idle D3): wait
# for the background vfiomig to announce its entry (it opens the device, which
# wakes it, first), then for the suspend that follows the entry.
entered() { poll_until 60 grep -q "entered low power" "$1" && poll_until 30 pm_is "$2" suspended "${3-}"; }
# held DEV PID: pm status names PID as a holder (held open, a device can suspend only after the entry).
held() { "$V" pm status "$1" 2>/dev/null | grep -q "^held by .*pid $2 "; }

for d in $N $P $E; do
	[ "$(cat "$(sys "$d")/power/control")" = auto ] || allow "$d"
done

# ---- usage errors: nothing is opened
run $V pm
check_rc 2 "pm without a subcommand exits 2"
check_err "'pm' needs a subcommand" "and says so"
run $V pm enter
check_rc 2 "pm enter without a device exits 2"
run $V pm enter 0000:ff:1f.7
check_rc 2 "pm enter of a missing device exits 2"
check_err "no such device '0000:ff:1f.7'" "and names it"
run $V pm status 0000:ff:1f.7
check_rc 2 "pm status of a missing device exits 2"
for w in abc 0 -1 "" 1x 1.2.3 0x10; do
	run $V pm enter "$N" --wakeup "--wait=$w"
	check_rc 2 "--wait='$w' exits 2"
	check_err "invalid --wait '$w'" "--wait='$w' is named in the message"
done
run $V pm enter "$N" --wakeup --wait 5
check_rc 2 "--wait 5 (value not after '=') exits 2"
check_err "--wait takes its value after '=': --wait=5" "and says where the value goes"
is "$(rs "$N")" suspended "the usage errors left the NIC idle (nobody opened it)"

# ---- pm status at rest: vfio-pci lets an unused device runtime-suspend
poll_until 20 pm_is "$N" suspended D3hot
run $V pm status "$N"
check_rc 0 "pm status exits 0"
check_out "^runtime_status +suspended$" "an unused NIC on vfio-pci is runtime-suspended (idle D3)"
check_out "^power_state +D3hot$" "in D3hot"
check_out "^control +auto$" "runtime PM allowed"
check_out "^held by +nobody$" "held by nobody"
check_err "nobody holds $N open: vfio-pci lets an unused device runtime-suspend \(idle D3" "the note says this is idle D3, not VFIO low power"
run $V -j pm status "$N"
check "pm status -j: the documented keys" sh -c "printf '%s' \"\$1\" | jq -e '.device == \"$N\" and .driver == \"vfio-pci\" and .runtime_status == \"suspended\" and .power_state == \"D3hot\" and .control == \"auto\" and .holders == []'" sh "$OUT"

# ---- pm enter without --wait: low power ends when vfiomig closes the device
run $V pm enter "$N"
check_rc 0 "pm enter exits 0"
check_out "^$N: entered low power \(LOW_POWER_ENTRY\) from runtime_status active, power_state D0$" "it reports the entry, from the awake state an open gives"
check_err "low power lasts only while vfiomig holds $N: it ends now" "it says low power ends as vfiomig exits"
check_err "any access through the device fd" "and that any access wakes the device"
run $V -j pm enter "$P"
check "pm enter -j: feature, before, wakeup, wait" sh -c "printf '%s' \"\$1\" | jq -e '.feature == \"LOW_POWER_ENTRY\" and .before.runtime_status == \"active\" and .before.power_state == \"D0\" and .wakeup == false and .wait == false and .timeout_seconds == null and (.notes | length) == 1'" sh "$OUT"

# ---- --wakeup --wait: entry to D3hot, a wake from another process, and the report
$V pm enter "$N" --wakeup --wait=60 >w.out 2>w.err &
pid=$!
if entered w.out "$N" D3hot; then
	pass "with the wait running, the NIC is runtime-suspended in D3hot"
else
	fail "with the wait running, the NIC is runtime-suspended in D3hot" "$(rs "$N") $(pst "$N")" "$(cat w.out w.err)"
fi
# pm status reads sysfs and /proc only: it works while the group is held, and wakes nothing.
for _ in 1 2 3; do
	run $V pm status "$N"
done
check_rc 0 "pm status works while another process holds the device"
check_out "^runtime_status +suspended$" "pm status shows suspended"
check_out "^power_state +D3hot$" "pm status shows D3hot"
check_out "^held by +pid $pid \(vfiomig\)$" "pm status names the holder"
check_err "is held open and runtime-suspended: it is in VFIO low power" "the note says it is in VFIO low power"
run $V state get "$N"
check_rc 1 "opening the held device fails"
check_err "in use by pid $pid" "with the holder named"
check "neither pm status nor the failed open woke the device" pm_is "$N" suspended D3hot
check "the waiting vfiomig is still waiting" alive "$pid"
check "its announcement is out before the wake" grep -q "^$N: entered low power (LOW_POWER_ENTRY_WITH_WAKEUP) from runtime_status active, power_state D0; waiting up to 60 s for a wake$" w.out
wake "$N"
rc=0
wait "$pid" || rc=$?
allow "$N"
is "$rc" 0 "pm enter --wakeup --wait exits 0 on a wake"
like "$(cat w.out)" "$N: woke after [0-9]+\.[0-9]{3} s \(wake eventfd count 1\)" "it reports the wake, its latency and the eventfd count"
like "$(cat w.out)" "low power ended with the wake \(single-shot\)" "it says the wake ended low power"
like "$(cat w.out)" "runtime_status active, power_state D0" "the device it still holds is awake, in D0"
is "$(cat w.err)" "" "nothing on stderr"
poll_until 20 pm_is "$N" suspended D3hot
check "closed, the NIC is back in idle D3" pm_is "$N" suspended D3hot

# JSON, on virtio-net; it prints nothing before the end: ask pm status who holds the device.
$V -j pm enter "$P" --wakeup --wait=60 >wj.out 2>wj.err &
pid=$!
poll_until 60 held "$P" "$pid"
poll_until 30 pm_is "$P" suspended D3hot
wake "$P"
rc=0
wait "$pid" || rc=$?
allow "$P"
is "$rc" 0 "virtio-net: pm enter -j --wakeup --wait exits 0 on a wake"
check "virtio-net: woke, seconds, wake_count, status after" sh -c "jq -e '.woke == true and .wake_count == 1 and .seconds > 0 and .timeout_seconds == 60 and .wakeup and .wait and .runtime_status == \"active\" and .power_state == \"D0\"' wj.out"

# ---- the timeout: exit 5, and low power left cleanly
run $V pm enter "$N" --wakeup --wait=1.5
check_rc 5 "no wake within --wait=1.5 exits 5"
check_err "no wake from '$N': the wake eventfd did not fire within 1.5 s; vfiomig left low power \(LOW_POWER_EXIT\)" "the timeout is explained"
check_out "runtime_status active, power_state D0" "after LOW_POWER_EXIT the device it holds is awake"
run $V -j pm enter "$N" --wakeup --wait=1
check_rc 5 "-j: the timeout exits 5 too"
check "-j: the document says it did not wake" sh -c "printf '%s' \"\$1\" | jq -e '.woke == false and .timeout_seconds == 1 and .seconds >= 1'" sh "$OUT"
check "-j: the error is ETIMEDOUT" sh -c "printf '%s' \"\$1\" | jq -e '.error.errno_name == \"ETIMEDOUT\"'" sh "$ERR"

# ---- --wait without --wakeup holds low power: the device suspends again after a wake
$V pm enter "$P" --wait=60 >h.out 2>h.err &
pid=$!
entered h.out "$P" D3hot
check "held without --wakeup: suspended in D3hot" pm_is "$P" suspended D3hot
wake "$P"
check "forbidding runtime PM wakes it" pm_is "$P" active D0
allow "$P"
if poll_until 20 pm_is "$P" suspended D3hot; then
	pass "without --wakeup low power stays engaged: allowed again, the device suspends again by itself"
else
	fail "without --wakeup low power stays engaged: allowed again, the device suspends again by itself" "$(rs "$P") $(pst "$P")"
fi
check "nobody was told: the hold goes on" alive "$pid"
# Ctrl-C (SIGINT) ends the hold cleanly; a background job ignores SIGINT until vfiomig catches it.
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
is "$rc" 1 "SIGINT ends the hold with exit 1"
like "$(cat h.err)" "interrupted '$P': held low power for [0-9.]+ s; vfiomig left it \(LOW_POWER_EXIT\)" "it says low power was left"
like "$(cat h.out)" "runtime_status active, power_state D0" "and shows the device awake before it closes it"
# Ctrl-C while waiting for a wake: low power is left, exit 1.
$V pm enter "$P" --wakeup --wait >c.out 2>c.err &
pid=$!
entered c.out "$P" D3hot
check "--wakeup --wait: suspended in D3hot" pm_is "$P" suspended D3hot
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
is "$rc" 1 "SIGINT ends the wait for a wake with exit 1"
like "$(cat c.err)" "interrupted '$P': waited [0-9.]+ s without a wake; vfiomig left low power \(LOW_POWER_EXIT\)" "it says it left low power without a wake"
like "$(cat c.out)" "runtime_status active, power_state D0" "and shows the device awake before it closes it"
# The timeout of a hold is its normal end.
run $V pm enter "$P" --wait=1
check_rc 0 "a hold of 1 s without --wakeup exits 0"
check_out "$P: held low power for [0-9.]+ s, then left it \(LOW_POWER_EXIT\)" "and says it held it"

# ---- the single-shot rule, in a session that keeps the device open between commands
run $V open "$N"
check_rc 0 "a session holds the NIC"
check "held by the session, the NIC is awake" pm_is "$N" active D0
run $V pm enter "$N" --wakeup
check_rc 0 "pm enter --wakeup in the session exits 0"
check_err "stays in low power while its session holds it" "the note says the session keeps it in low power"
poll_until 30 pm_is "$N" suspended D3hot
check "the session keeps it in D3hot after the command" pm_is "$N" suspended D3hot
run $V pm status "$N"
check_out "^held by +pid [0-9]+ \(vfiomig\)$" "pm status in the session names the holder"
check_err "it is in VFIO low power" "and calls it VFIO low power"
wake "$N"
check "a wake brings it to D0" pm_is "$N" active D0
allow "$N"
sleep 2
check "single-shot: after the wake it stays awake, runtime PM allowed again" pm_is "$N" active D0
run $V pm enter "$N"
check_rc 0 "a new entry is needed, and works"
poll_until 30 pm_is "$N" suspended D3hot
check "after the new entry: D3hot" pm_is "$N" suspended D3hot
wake "$N"
allow "$N"
if poll_until 20 pm_is "$N" suspended D3hot; then
	pass "without a wake eventfd the entry outlives a wake: suspended again"
else
	fail "without a wake eventfd the entry outlives a wake: suspended again" "$(rs "$N") $(pst "$N")"
fi
run $V pm enter "$N"
check_rc 1 "a second entry while in low power is refused"
check_err "may already be in low power" "and explained"
check_err "pm exit" "with pm exit as the way out"
run $V pm exit "$N"
check_rc 0 "pm exit in the session exits 0"
check_out "^$N: out of low power \(LOW_POWER_EXIT\)$" "it reports the exit"
check_out "runtime_status active, power_state D0" "the NIC is awake"
check_err_not . "no note inside a session"
allow "$N"
sleep 1
check "after pm exit it stays awake while the session holds it" pm_is "$N" active D0
run $V close "$N"
check_rc 0 "the session ends"

# ---- the wake eventfd outlives 'pm enter --wakeup' in a session: any device
# ioctl from a later command in the holder wakes the device and fires it.
run $V open "$N"
check_rc 0 "a session holds the NIC again"
run $V pm enter "$N" --wakeup
check_rc 0 "pm enter --wakeup in the session"
check_err "'vfiomig pm status' then says the wake eventfd fired" "the note says where to look for the wake"
poll_until 30 pm_is "$N" suspended D3hot
check "after the entry: suspended, D3hot" pm_is "$N" suspended D3hot
run $V -j pm status "$N"
check_rc 0 "pm status in the session"
check "the holder keeps the eventfd, not fired yet" jq -e '.wake.fired == false and .wake.count == 0 and .wake.woke_after_seconds == null and .wake.entered_seconds_ago >= 0' "$OUT_FILE"
run $V pm status "$N"
check_out "^wake eventfd +armed, not fired: no wake yet; entered [0-9.]+ s ago$" "text: armed, no wake yet"
check "pm status does not wake it" pm_is "$N" suspended D3hot
sleep 1
# info opens the held device and probes its features: ioctls through its fd.
run $V info "$N"
check_rc 0 "info in the session (ioctls through the held fd)"
check "the ioctls woke it: active, D0" pm_is "$N" active D0
run $V -j pm status "$N"
check "pm status: the eventfd fired once, after at least 1 s in low power" \
	jq -e '.wake.fired == true and .wake.count == 1 and .wake.woke_after_seconds >= 1 and .runtime_status == "active" and .power_state == "D0"' "$OUT_FILE"
run $V pm status "$N"
check_out "^wake eventfd +fired \(count 1\); the device woke after [0-9.]+ s in low power; entered [0-9.]+ s ago$" "text: fired, and when"
check_err "the wake ended low power \(single-shot\): $N stays awake until a new 'pm enter'" "the single-shot rule is stated"
sleep 2
check "single-shot: runtime PM allowed, it stays awake after the wake" pm_is "$N" active D0
# A new entry arms a new eventfd; state get (an ioctl, refused: no migration) wakes it too.
run $V pm enter "$N" --wakeup
check_rc 0 "a new entry with wakeup"
poll_until 30 pm_is "$N" suspended D3hot
check "suspended again after the new entry" pm_is "$N" suspended D3hot
run $V -j pm status "$N"
check "the new entry's eventfd has not fired" jq -e '.wake.fired == false' "$OUT_FILE"
run $V state get "$N"
check_rc 3 "state get in the session (no migration) exits 3"
check "its ioctl woke the device" pm_is "$N" active D0
run $V -j pm status "$N"
check "and fired the new eventfd" jq -e '.wake.fired == true and .wake.count == 1' "$OUT_FILE"
# pm exit after a wake: nothing left to leave, and it says the device had woken.
run $V pm exit "$N"
check_rc 0 "pm exit after the wake exits 0"
check_out "^$N: out of low power \(LOW_POWER_EXIT\); it had woken already \(the wake eventfd fired\)$" "it says the device had woken already"
run $V -j pm status "$N"
check "after pm exit no wake is armed" jq -e '.wake == null' "$OUT_FILE"
# The session's client goes away while the holder waits for a wake (SIGIO):
# the wait ends, low power is left, and the holder serves on.
$V pm enter "$N" --wakeup --wait=60 >s.out 2>s.err &
cpid=$!
if poll_until 30 pm_is "$N" suspended D3hot; then
	pass "a forwarded --wakeup --wait: the holder has the NIC in D3hot"
else
	fail "a forwarded --wakeup --wait: the holder has the NIC in D3hot" "$(rs "$N") $(pst "$N")"
fi
kill "$cpid"
wait "$cpid" 2>/dev/null
if poll_until 20 pm_is "$N" active D0; then
	pass "the client gone, the holder left low power: active, D0"
else
	fail "the client gone, the holder left low power: active, D0" "$(rs "$N") $(pst "$N")"
fi
run $V pm status "$N"
check_rc 0 "the holder serves on"
check_out "^held by +pid [0-9]+ \(vfiomig\)$" "and still holds the NIC"
run $V close "$N"
check_rc 0 "the session ends"

# ---- virtio-net in a session: D3hot on entry, D0 on exit, as sysfs shows it
run $V open "$P"
check_rc 0 "a session holds virtio-net"
run $V pm enter "$P"
check_rc 0 "pm enter virtio-net"
poll_until 30 pm_is "$P" suspended D3hot
check "virtio-net: suspended, D3hot" pm_is "$P" suspended D3hot
run $V pm exit "$P"
check_rc 0 "pm exit virtio-net"
is "$(rs "$P") $(pst "$P")" "active D0" "virtio-net: sysfs says active, D0 right after the exit"
sleep 1
is "$(rs "$P") $(pst "$P")" "active D0" "and it stays so while the session holds it"
run $V close "$P"
check_rc 0 "the virtio-net session ends"

# pm exit of a device nobody held: nothing to leave.
run $V pm exit "$N"
check_rc 0 "pm exit without a session exits 0 (an exit without an entry is accepted)"
check_err "a vfiomig of its own finds it awake" "the note says there was nothing to leave"

# ---- edu has no PCI PM capability: runtime PM suspends it, the power state stays D0
$V pm enter "$E" --wakeup --wait=60 >e.out 2>e.err &
pid=$!
if entered e.out "$E"; then
	pass "edu: runtime-suspended in low power"
else
	fail "edu: runtime-suspended in low power" "$(rs "$E") $(pst "$E")"
fi
is "$(pst "$E")" D0 "edu: the power state stays D0"
run $V pm status "$E"
check_out "^power_state +D0$" "pm status shows D0"
check_err "runtime-suspended but in D0: it has no PCI power management capability" "and explains it"
wake "$E"
rc=0
wait "$pid" || rc=$?
allow "$E"
is "$rc" 0 "edu: the wake still fires the eventfd"
like "$(cat e.err)" "$E has no PCI power management capability: it runtime-suspends in software, but its power state stays D0" "pm enter says so before the entry"
like "$(cat e.out)" "woke after" "and reports the wake"

# ---- devices without low power
if [ -n "$MTTY_A" ]; then
	run $V pm enter "$MTTY_A"
	check_rc 3 "an mdev (mtty) has no low power: exit 3"
	check_err "low power is not supported by '$MTTY_A': driver mtty does not implement LOW_POWER_ENTRY" "explained"
	run $V pm status "$MTTY_A"
	check_rc 0 "pm status of an mdev exits 0"
	check_err "runtime PM is not enabled for $MTTY_A" "and says runtime PM does not apply"
else
	skip "no mtty on $KVER" "an mdev has no low power"
fi
for d in $N $P $E; do
	[ "$(cat "$(sys "$d")/power/control")" = auto ] || allow "$d"
done
done_testing
