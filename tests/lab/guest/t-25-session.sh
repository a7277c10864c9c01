#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sessions: `vfiomig open` holds devices so that state set, save and load work across invocations; sets of devices, refusals, private directories, clients that die or say nothing, crashes.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B C=$EDU_C N=$E1000E
fp() { cat "$DBG/$1/fingerprint"; }
holder_of() { printf '%s' "$1" | sed -n 's/.*held by pid \([0-9]*\).*/\1/p' | head -n 1; }
gone() { ! kill -0 "$1" 2>/dev/null; }
rs() { cat "/sys/bus/pci/devices/$1/power/runtime_status"; }
# The pattern of a device's VFIO node in `ls -l /proc/PID/fd`: its group, or its cdev (iommufd way).
vfio_node_re() {
	_c=$(ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null)
	echo "/dev/vfio/($(iommu_group_of "$1")${_c:+|devices/$_c})\$"
}
# The fds a process has open, as "N -> TARGET" lines.
fds_of() { for _f in /proc/"$1"/fd/*; do echo "${_f##*/} -> $(readlink "$_f")"; done; }
# The lowest fd number a process has free.
free_fd_of() {
	_i=0
	while [ -e "/proc/$1/fd/$_i" ]; do _i=$((_i + 1)); done
	echo "$_i"
}
# in_log DESC PATTERN FILE: a fixed string in a log, which is shown when it is not.
in_log() {
	if grep -qF -- "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "not in $3: $2"
		while IFS= read -r _l; do diag "  $_l"; done <"$3"
	fi
}
# utime + stime of a process, in clock ticks.
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# An fd the caller leaves open must not end up in the holder.
exec 7>inherited.txt
run $V open "$A"
exec 7>&-
check_rc 0 "open exits 0"
check_out "$A: session opened, held by pid [0-9]+" "open names the holder"
holder=$(holder_of "$OUT")
check "the holder process is alive" kill -0 "$holder"
check "the socket is in /run/vfiomig" test -S "/run/vfiomig/$A.sock"
check "the socket directory is private (0700)" sh -c '[ "$(stat -c %a /run/vfiomig)" = 700 ]'
fds_of "$holder" >holder.fds
check "the holder did not inherit the caller's other fds" sh -c '! grep -q inherited.txt holder.fds'
check "the holder holds the device's VFIO node" grep -Eq "$(vfio_node_re "$A")" holder.fds
is "$(readlink "/proc/$holder/cwd")" / "the holder's working directory is /: it pins no mount"

run $V open "$A"
check_rc 1 "a second open fails"
check_err "already open: held by pid $holder" "and names the holder"

run $V -j sessions
check_rc 0 "sessions exits 0"
check "sessions lists the device, its holder and state" sh -c "printf '%s' \"\$1\" | jq -e '.sessions[0].device == \"$A\" and .sessions[0].pid == $holder and .sessions[0].state == \"running\" and .sessions[0].owner == \"root\"'" sh "$OUT"

# The state now lasts across invocations.
run $V state set "$A" stop-copy
check_rc 0 "state set stop-copy in the session"
check_err_not "stays in stop-copy only while" "no 'returns to running' note inside a session"
is "$($V state get "$A")" stop-copy "a later invocation sees stop-copy"
echo 7777 >"$DBG/$B/seed"
a_fp=$(fp "$A")
mkdir -p sub && cd sub
run $V save "$A" -o s.blob
cd ..
check_rc 0 "save reads the stream the session's stop-copy opened"
check "a relative -o is the client's working directory" test -s sub/s.blob
check_out "device left in stop" "save leaves the device in stop"
is "$($V state get "$A")" stop "the device stays in stop after save"
run $V load "$B" -i sub/s.blob
check_rc 0 "load of the session's blob"
is "$(fp "$B")" "$a_fp" "B holds A's state"

# stdin/stdout are the client's own: a pipe through the holder.
echo 8888 >"$DBG/$B/seed"
run sh -c "$V save $A | $V load $B"
check_rc 0 "save | load with the source in a session"
is "$(fp "$B")" "$a_fp" "the pipe moved A's state to B"

# Exit statuses and JSON come back from the holder.
run $V state set "$A" bogus
check_rc 2 "a usage error in the session exits 2"
check_err "invalid state 'bogus'" "and its message reaches the client's stderr"
run $V -j state get "$A"
check "JSON through the session parses" sh -c "printf '%s' \"\$1\" | jq -e '.device == \"$A\"'" sh "$OUT"

# A client that goes away mid-command does not take the holder down.
$V state set "$A" running >/dev/null 2>&1
run sh -c "$V save $A | head -c 100 >/dev/null"
check "the holder survives a reader that went away" kill -0 "$holder"
run $V state get "$A"
check_rc 0 "and still answers"

# Several clients at once are served one after the other.
for i in 1 2 3 4; do $V state get "$A" >"par.$i" 2>&1 & done
wait
check "four concurrent clients all got an answer" sh -c 'cat par.* | grep -c . | grep -qx 4'
check "the holder ran each command from start to end before the next (its log)" \
	awk '/ runs /{ if (open) bad = 1; open = 1 } / finished /{ open = 0 } END { exit bad }' "/run/vfiomig/$A.log"

# A client that connects and says nothing is dropped after 5 s, not served forever.
if [ -x /usr/bin/socat ]; then
	# socat splits addresses at ':', which PCI addresses are full of: a link without any.
	ln -sf "/run/vfiomig/$A.sock" silent.sock
	/usr/bin/socat -u "UNIX-CONNECT:silent.sock,so-type=5" SYSTEM:'sleep 60' >socat.err 2>&1 &
	silent=$!
	sleep 2
	run timeout 20 $V state get "$A"
	check_rc 0 "a command after a silent client is served (within 20 s)"
	poll_until 10 grep -q "dropped a client" "/run/vfiomig/$A.log"
	in_log "the holder logs that it dropped the silent client" \
		"dropped a client (pid $silent) that sent no request within 5 s" "/run/vfiomig/$A.log"
	kill "$silent" 2>/dev/null
	wait "$silent" 2>/dev/null
else
	skip "no /usr/bin/socat in the guest (LAB_EXTRA_BINS)" "a silent client is dropped after 5 s"
fi

# Out of fds, the holder waits for them without spinning, and serves again after.
if [ -x /usr/bin/prlimit ]; then
	lim=$(free_fd_of "$holder")
	/usr/bin/prlimit --pid "$holder" --nofile="$lim:$lim"
	$V state get "$A" >emfile.out 2>&1 &
	cpid=$!
	t0=$(cpu_of "$holder")
	sleep 3
	t1=$(cpu_of "$holder")
	in_log "the holder logs that it cannot accept" \
		"cannot accept a client: too many open files; retrying every second" "/run/vfiomig/$A.log"
	is "$(grep -c 'cannot accept a client' "/run/vfiomig/$A.log")" 1 "once, not once per retry"
	if [ $((t1 - t0)) -lt 100 ]; then
		pass "it does not spin meanwhile ($((t1 - t0)) ticks of CPU in 3 s)"
	else
		fail "it does not spin meanwhile" "$((t1 - t0)) ticks of CPU in 3 s"
	fi
	/usr/bin/prlimit --pid "$holder" --nofile=1024:1024
	rc=0
	wait "$cpid" || rc=$?
	is "$rc" 0 "with fds again, the waiting client is served"
	is "$(cat emfile.out)" running "and gets its answer"
	check "the holder logs that it accepts again" grep -q "accepts clients again" "/run/vfiomig/$A.log"
else
	skip "no /usr/bin/prlimit in the guest (LAB_EXTRA_BINS)" "out of fds, the holder waits without spinning"
fi

# ---- A client killed mid-command, and one killed before its command started.
run $V open "$N"
check_rc 0 "a session holds the NIC"
holder_n=$(holder_of "$OUT")
nlog=/run/vfiomig/$N.log
$V pm enter "$N" --wait=20 >k.out 2>k.err &
cpid=$!
check "the holder runs the client's pm enter --wait=20" \
	poll_until 30 grep -q "runs 'pm enter $N --wait=20' for uid 0 (pid $cpid)" "$nlog"
check "the NIC is in low power" poll_until 30 sh -c "[ \"\$(cat /sys/bus/pci/devices/$N/power/runtime_status)\" = suspended ]"
# Meanwhile a second client waits its turn; it dies before the holder gets to it.
$V pm status "$N" >/dev/null 2>&1 &
waiter=$!
sleep 1
kill -9 "$waiter"
kill -9 "$cpid"
check "the holder logs that the client went away mid-command" \
	poll_until 10 grep -q "the client (pid $cpid) went away mid-command: interrupted 'pm enter $N --wait=20'" "$nlog"
check "the holder survives the client's SIGKILL" kill -0 "$holder_n"
check "and logs the command's end" poll_until 10 grep -q "finished 'pm enter $N --wait=20': exit status 1" "$nlog"
check "the waiting client's command, whose client died, was not run" \
	poll_until 10 grep -q "the client (pid $waiter) went away before 'pm status $N' started: not run" "$nlog"
run $V pm status "$N"
check_rc 0 "the holder still answers"
check_out "^held by +pid $holder_n \(vfiomig\)$" "the NIC is still held by the session"
check "the interrupted hold left low power: the NIC is awake (D0)" poll_until 10 sh -c "[ \"\$(cat /sys/bus/pci/devices/$N/power/runtime_status)\" = active ]"
# Serialized: a short command waits for a long one.
$V pm enter "$N" --wait=2 >/dev/null 2>&1 &
cpid=$!
poll_until 30 grep -q "runs 'pm enter $N --wait=2'" "$nlog"
run $V pm status "$N"
rc=0
wait "$cpid" || rc=$?
is "$rc" 0 "a hold of 2 s in the session ends normally"
fin=$(grep -n "finished 'pm enter $N --wait=2'" "$nlog" | cut -d: -f1)
st=$(grep -n "runs 'pm status $N'" "$nlog" | tail -n 1 | cut -d: -f1)
check "pm status, sent during the hold, started only after the hold finished" test "${st:-0}" -gt "${fin:-999999}"
check "no two commands of the holder ever overlapped" \
	awk '/ runs /{ if (open) bad = 1; open = 1 } / finished /{ open = 0 } END { exit bad }' "$nlog"
run $V close "$N"
check_rc 0 "close the NIC's session"

# ---- The socket directory must be private: another user could otherwise reach the sockets.
rm -rf /tmp/sess && mkdir -p /tmp/sess && chmod 755 /tmp/sess
run env VFIOMIG_RUNTIME_DIR=/tmp/sess $V open "$C"
check_rc 1 "open refuses a socket directory of mode 0755"
check_err "cannot use the session directory '/tmp/sess': its mode is 0755: other users could reach the sessions' sockets" \
	"and names the directory and its mode"
check_err "hint: chmod 700 /tmp/sess" "with the remedy"
check "nothing was started" test ! -e "/tmp/sess/$C.sock"
ln -s /tmp/sess /tmp/sess-link
run env VFIOMIG_RUNTIME_DIR=/tmp/sess-link $V open "$C"
check_rc 1 "open refuses a symlink in place of the directory"
check_err "cannot use the session directory '/tmp/sess-link': it is not a directory" "and says so"
rm -f /tmp/sess-link
# A directory vfiomig makes is 0700 whatever the umask.
rm -rf /tmp/sess2
run sh -c "umask 0277; VFIOMIG_RUNTIME_DIR=/tmp/sess2 $V open $C"
check_rc 0 "open makes its directory under umask 0277"
is "$(stat -c %a /tmp/sess2)" 700 "and gives it mode 0700"
run env VFIOMIG_RUNTIME_DIR=/tmp/sess2 $V close "$C"
check_rc 0 "close in that directory"

# Another user is refused, and the refusal is logged.
chmod 700 /tmp/sess
run env VFIOMIG_RUNTIME_DIR=/tmp/sess $V open "$C"
check_rc 0 "open with VFIOMIG_RUNTIME_DIR of mode 0700"
chmod 711 /tmp/sess
run env VFIOMIG_RUNTIME_DIR=/tmp/sess /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups $V state get "$C"
check_rc 1 "another user cannot even connect to the socket"
check_err "cannot reach the session of '$C': permission denied" "and is told so"
# Past the file permissions, the holder itself checks the peer's credentials.
chmod 666 "/tmp/sess/$C.sock"
run env VFIOMIG_RUNTIME_DIR=/tmp/sess /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups $V state get "$C"
check_rc 1 "another user's command is refused"
check_err "session refused '$C'" "the refusal is explained"
check "the refusal is logged" grep -q "refused a command from uid 1000" "/tmp/sess/$C.log"
run env VFIOMIG_RUNTIME_DIR=/tmp/sess $V close "$C"
check_rc 0 "close with VFIOMIG_RUNTIME_DIR"

# A holder that dies leaves a stale socket: the next command removes it and runs here.
run $V open "$C"
holder_c=$(holder_of "$OUT")
kill -9 "$holder_c"
sleep 1
run $V state get "$C"
check_rc 0 "a command for a device whose holder died still works"
check_err "removed the stale session of $C" "and says it removed the stale socket"
check "the stale socket is gone" test ! -e "/run/vfiomig/$C.sock"

run $V close "$A"
check_rc 0 "close exits 0"
check_out "$A: session closed" "close says so"
check_err "its driver returns it to running" "close says the device returns to running"
check "the holder is gone" poll_until 10 gone "$holder"
run $V close "$A"
check_rc 1 "close without a session fails"
check_err "no session for '$A'" "and says there is none"
run $V state set "$A" stop
check_err "'vfiomig open $A' holds it across commands" "without a session a set suggests vfiomig open"

# ---- A set: one holder for several devices, a socket each.
run $V open "$A" "$A"
check_rc 2 "open of the same device twice is a usage error"
run $V open "$A" "$B"
check_rc 0 "open A B exits 0"
hs=$(holder_of "$OUT")
check_out "^$A: session opened, held by pid $hs " "A is held by the holder"
check_out "^$B: session opened, held by pid $hs " "B by the same holder"
check "a socket for each" sh -c "[ -S /run/vfiomig/$A.sock ] && [ -S /run/vfiomig/$B.sock ]"
run $V open "$B" "$C"
check_rc 1 "open of a device a set holds fails"
check_err "cannot open a session for '$B': it is already open: held by pid $hs" "and names the set's holder"
check "C was not opened by that failed open" test ! -e "/run/vfiomig/$C.sock"
run $V state set "$A" stop-copy
check_rc 0 "state set A in the set"
run $V state set "$B" stop
check_rc 0 "state set B in the set"
run $V -j sessions
check "sessions lists both with the one pid and each its own state" sh -c "printf '%s' \"\$1\" | jq -e '[.sessions[] | select(.device == \"$A\" or .device == \"$B\")] | length == 2 and (map(.pid) | unique) == [$hs] and (map(select(.device == \"$A\"))[0].state == \"stop-copy\") and (map(select(.device == \"$B\"))[0].state == \"stop\")'" sh "$OUT"
check "one holder ran both commands (A's log)" sh -c "grep -q \"pid $hs: runs 'state set $A stop-copy'\" /run/vfiomig/$A.log && grep -q \"pid $hs: runs 'state set $B stop'\" /run/vfiomig/$A.log"
check "B's log is the same holder's" grep -q "pid $hs: runs 'state set $A stop-copy'" "/run/vfiomig/$B.log"
# A command naming both goes to their holder (whether state set takes several devices or not).
run $V state set "$A" "$B" stop
check "a command naming both devices of the set runs in its holder" grep -q "pid $hs: runs 'state set $A $B stop'" "/run/vfiomig/$A.log"
$V state set "$A" stop-copy >/dev/null 2>&1
# Devices of a set and of no session: refused before anything runs.
run $V state set "$A" "$C" stop
check_rc 1 "a command for a set's device and a free one is refused"
check_err "cannot run 'state set' for '$A $C': not held by one session: $A by pid $hs, $C by none" \
	"it says which device is held by which holder"
check_err "hint: a command runs in one holder: vfiomig close $A; then vfiomig open $A $C" "and the way out"
check "the refused command did not run" sh -c "! grep -q \"runs 'state set $A $C\" /run/vfiomig/$A.log"
is "$($V state get "$A")" stop-copy "A stayed where it was"
# Devices of two holders.
run $V open "$C"
hc=$(holder_of "$OUT")
run $V -j state set "$B" "$C" stop
check_rc 1 "a command for devices of two holders is refused"
check "the JSON error names each holder and the remedy" sh -c "jq -e '.error.reason == \"not held by one session: $B by pid $hs, $C by pid $hc\" and (.error.hint | test(\"vfiomig close $B; vfiomig close $C; then vfiomig open $B $C\"))' \"\$1\"" sh "$ERR_FILE"
run $V close "$C"
check_rc 0 "close C"
# close of one device ends the whole set, and says so.
run $V -j close "$B"
check_rc 0 "close B ends the set's holder"
check "close -j lists every device it released" sh -c "printf '%s' \"\$1\" | jq -e '.device == \"$B\" and .pid == $hs and (.released | sort) == ([\"$A\", \"$B\"] | sort)'" sh "$OUT"
run $V state get "$A"
check_rc 0 "at once after close, the set's devices are free for another process"
check_out "^running$" "and back in running"
check "the set's holder is gone" poll_until 10 gone "$hs"
check "both sockets are gone" sh -c "[ ! -e /run/vfiomig/$A.sock ] && [ ! -e /run/vfiomig/$B.sock ]"
is "$($V state get "$A")" running "A is closed (back to running)"
run $V -j open "$A" "$B"
check "open -j: the holder's pid and each device with its socket" sh -c "printf '%s' \"\$1\" | jq -e '.device == \"$A\" and (.pid | type) == \"number\" and .socket == \"/run/vfiomig/$A.sock\" and .devices == [{\"device\": \"$A\", \"socket\": \"/run/vfiomig/$A.sock\"}, {\"device\": \"$B\", \"socket\": \"/run/vfiomig/$B.sock\"}]'" sh "$OUT"
run $V close "$A"
check_out "^$A: session closed \(pid [0-9]+\); it also released $B$" "close in text names the other device it released"
check_err "the devices of its session are closed now" "and the note speaks of all of them"
done_testing
