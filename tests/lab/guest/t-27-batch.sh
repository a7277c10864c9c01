#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Batch mode: one process runs a file of commands and holds its devices, so states and data fds carry from line to line.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B
fp() { cat "$DBG/$1/fingerprint"; }

# The one-command-at-a-time workflow that needs a holder, inside one batch.
echo 4242 >"$DBG/$A/seed"
echo 5353 >"$DBG/$B/seed"
a_fp=$(fp "$A")
cat >b1.vmb <<EOT
# state set then save: the batch holds $A in between
state set $A stop-copy
expect state stop-copy
save $A -o ./b1.blob
expect state $A stop
load $B -i ./b1.blob --then running
expect state $B running
EOT
run $V batch b1.vmb
check_rc 0 "a state set followed by save in one batch works"
is "$(fp "$B")" "$a_fp" "and B holds A's state afterwards"
is "$($V state get "$A")" running "the batch closed A when it ended (back to running)"

# The first failure stops the batch with FILE:LINE, and its status is the batch's.
cat >b2.vmb <<EOT
echo first
state get $A
state get 0000:7f:1f.7
echo never
EOT
run $V batch b2.vmb
check_rc 2 "a failing line's exit status is the batch's (2: no such device)"
check_out "^first$" "lines before the failure ran"
check_out_not "never" "lines after the failure did not"
check_err "b2.vmb:3: command failed with exit status 2" "the failure names FILE:LINE"
run $V batch --force b2.vmb
check_rc 2 "--force still exits with the first failure's status"
check_out "never" "--force goes on after a failure"

# Expectations.
cat >b3.vmb <<EOT
expect exit 3
state get $E1000E
expect fail ENOTTY
save $E1000E -o ./never.blob
expect fail EINVAL
state set $A error
expect state $A running
expect same b3.vmb ./b3.vmb
# a continued line
state set $A \\
    stop --dry-run
sleep 0.1
EOT
run $V batch b3.vmb
check_rc 0 "expect exit, expect fail, expect state and expect same all hold"
cat >b4.vmb <<EOT
expect state $A stop
EOT
run $V batch b4.vmb
check_rc 1 "a wrong expect state fails"
check_err "b4.vmb:1: expected '$A' in stop, but it is in running" "and says what it found"
printf 'expect fail ENOTTY\nstate get %s\n' "$A" >b5.vmb
run $V batch b5.vmb
check_rc 1 "expect fail on a command that succeeds fails"
check_err "b5.vmb:2: expected a failure with ENOTTY \(line 1\), but the command succeeded" "and says so"
printf 'expect fail EIO\nstate get %s\n' "$E1000E" >b6.vmb
run $V batch b6.vmb
check_rc 3 "expect fail with the wrong errno keeps the command's status"
check_err "expected a failure with EIO \(line 1\), got ENOTTY" "and names both errnos"
printf 'state get "unterminated\n' >b7.vmb
run $V batch b7.vmb
check_rc 2 "a syntax error exits 2"
check_err "b7.vmb:1: an unterminated double quote at column 11" "and is located"
printf 'state get $NOT_SET_ANYWHERE\n' >b8.vmb
run $V batch b8.vmb
check_rc 2 "an unset variable stops the batch"
check_err "variable \\\$NOT_SET_ANYWHERE is not set" "and is named"

# Variables come from the environment; -b is batch; stdin works.
printf 'state get $DEV\n' >b9.vmb
run env DEV="$A" $V -b b9.vmb
check_rc 0 "-b FILE with a variable from the environment"
check_out "^running$" "the variable named the device"
run_stdin b9.vmb env DEV="$A" $V batch -
check_rc 0 "batch - reads standard input"

# JSON: one document with every line's command, status and output.
run env DEV="$A" $V -j batch b9.vmb
check_rc 0 "batch -j exits 0"
check "batch -j: line, command, status, output" sh -c "printf '%s' \"\$1\" | jq -e '.results[0].line == 1 and .results[0].command == [\"state\",\"get\",\"$A\"] and .results[0].status == 0 and .results[0].output.state == \"running\"'" sh "$OUT"
run $V -j batch b2.vmb
check "batch -j carries the failing line's error" sh -c "printf '%s' \"\$1\" | jq -e '.status == 2 and (.results[] | select(.line == 3) | .status == 2 and (.error.error.reason | test(\"no such device\")))'" sh "$OUT"

run $V batch /nonexistent.vmb
check_rc 1 "a missing batch file exits 1"
run $V -b b9.vmb state get "$A"
check_rc 2 "-b with a command is a usage error"
done_testing
