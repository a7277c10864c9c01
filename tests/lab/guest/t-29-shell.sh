#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The interactive shell, driven through a pseudo-terminal: prompt with state, Tab completion, history, held devices.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A
command -v /usr/bin/script >/dev/null || skip_all "no script(1) in the guest"

# Types the given chunks into `vfiomig shell ARGS` on a pty, a second apart, and keeps the screen in screen.txt.
drive() {
	args=$1
	shift
	(for chunk in "$@"; do printf "$chunk"; sleep 1; done) |
		HOME=$PWD TERM=dumb /usr/bin/script -qfec "$V shell $args" /dev/null >screen.txt 2>&1
	tr -d '\r' <screen.txt >screen.clean
}

drive "$A" "state set $A stop-copy\n" "state get $A\n" 'exit\n'
check "the prompt shows the device and its state" grep -q "vfiomig $A \[running\]> " screen.clean
check "the prompt follows the state the shell set" grep -q "vfiomig $A \[stop-copy\]> " screen.clean
check "state get in the shell sees the held state" grep -qx "stop-copy" screen.clean
check "history is kept in ~/.vfiomig_history" grep -q "^state set $A stop-copy$" .vfiomig_history
is "$($V state get "$A")" running "leaving the shell closed the device (back to running)"

drive "" 'sta\t\t' 'ge\t\n' 'help sa\t\n' 'exit\n'
check "Tab completes a command" grep -q "vfiomig> state " screen.clean
check "Tab completes a subcommand" grep -q "state get " screen.clean
check "help completes command names" grep -q "Usage: vfiomig \[OPTIONS\] save DEV" screen.clean

drive "" "state set $A sto\t-c\t --dr\t\n" 'exit\n'
check "Tab completes states and options" grep -q "running -> stop-copy" screen.clean

drive "" 'save 0000:0\t\t' '\025' '\003' 'exit\n'
check "Tab lists the VFIO devices from sysfs" grep -q "$E1000E" screen.clean
check "Ctrl-C abandons the line and the shell goes on" grep -q "vfiomig> exit" screen.clean

# A device a session holds: the shell runs here and sends each line to the session.
run $V open "$A"
hs=$(printf '%s' "$OUT" | sed -n 's/.*held by pid \([0-9]*\).*/\1/p')
drive "$A" "state set $A stop-copy\n" "state get $A\n" 'exit\n'
check "the prompt shows the session's device and state" grep -q "vfiomig $A \[running\]> " screen.clean
check "and follows the state the session's holder set" grep -q "vfiomig $A \[stop-copy\]> " screen.clean
check "the shell's line ran in the session" grep -q "pid $hs: runs 'state set $A stop-copy'" "/run/vfiomig/$A.log"
check "the shell itself did not run inside the holder" sh -c "! grep -q \"runs 'shell\" /run/vfiomig/$A.log"
is "$($V state get "$A")" stop-copy "after the shell the session still holds the state"
run $V close "$A"
check_rc 0 "close the session"

# open and close in the shell: the held device moves to the holder, and close closes it.
drive "" "state set $A stop-copy\n" "open $A\n" "state get $A\n" "close $A\n" "state get $A\n" 'exit\n'
check "open in the shell moves the device to the session" grep -q "$A moved to the session with its state" screen.clean
check "the session has the state the shell set" grep -qx "stop-copy" screen.clean
check "after close the shell holds it no more: a new open finds it running" grep -qx "running" screen.clean
is "$(grep -x -e stop-copy -e running screen.clean | tail -n 2 | tr '\n' ' ')" "stop-copy running " "in that order"

drive "" 'state get "oops\n' 'frobnicate\n' 'exit\n'
check "a quoting error is reported, the shell goes on" grep -q "unterminated double quote" screen.clean
check "an unknown command is reported, the shell goes on" grep -q "unknown command 'frobnicate'" screen.clean
check "exit leaves" sh -c '[ $(grep -c "vfiomig> " screen.clean) -ge 3 ]'
done_testing
