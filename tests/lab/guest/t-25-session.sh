#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sessions: `vfiomig open` holds a device so that state set, save and load work across invocations; refusals, stale sockets, crashes.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B C=$EDU_C
fp() { cat "$DBG/$1/fingerprint"; }

run $V open "$A"
check_rc 0 "open exits 0"
check_out "$A: session opened, held by pid [0-9]+" "open names the holder"
holder=$(printf '%s' "$OUT" | sed -n 's/.*held by pid \([0-9]*\).*/\1/p')
check "the holder process is alive" kill -0 "$holder"
check "the socket is in /run/vfiomig" test -S "/run/vfiomig/$A.sock"
check "the socket directory is private (0700)" sh -c '[ "$(stat -c %a /run/vfiomig)" = 700 ]'

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

# Another user is refused, and the refusal is logged.
mkdir -p /tmp/sess
run env VFIOMIG_RUNTIME_DIR=/tmp/sess $V open "$C"
check_rc 0 "open with VFIOMIG_RUNTIME_DIR"
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
holder_c=$(printf '%s' "$OUT" | sed -n 's/.*held by pid \([0-9]*\).*/\1/p')
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
sleep 1
check "the holder is gone" sh -c "! kill -0 $holder 2>/dev/null"
run $V close "$A"
check_rc 1 "close without a session fails"
check_err "no session for '$A'" "and says there is none"
run $V state set "$A" stop
check_err "'vfiomig open $A' holds it across commands" "without a session a set suggests vfiomig open"
done_testing
