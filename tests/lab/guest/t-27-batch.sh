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

# JSON: one array, a record per line run: line, command (its text), status, output.
run env DEV="$A" $V -j batch b9.vmb
check_rc 0 "batch -j exits 0"
check "batch -j: an array of {line, command, status, output}" sh -c "printf '%s' \"\$1\" | jq -e 'type == \"array\" and length == 1 and .[0].line == 1 and .[0].command == \"state get \$DEV\" and .[0].words == [\"state\",\"get\",\"$A\"] and .[0].status == 0 and .[0].output.state == \"running\"'" sh "$OUT"
run $V -j batch b2.vmb
check_rc 2 "batch -j of a failing file exits with the failure's status"
check "batch -j: records up to the failing line, which carries its error" sh -c "printf '%s' \"\$1\" | jq -e 'map(.line) == [1, 2, 3] and .[0].output == \"first\\n\" and (.[] | select(.line == 3) | .status == 2 and (.error.error.reason | test(\"no such device\")))'" sh "$OUT"
run $V -j batch b7.vmb
check "batch -j: a line that does not parse has a record with its error" sh -c "printf '%s' \"\$1\" | jq -e '.[0].line == 1 and .[0].status == 2 and (.[0].error.error.reason | test(\"unterminated double quote\"))'" sh "$OUT"
run env DEV="$A" $V -p batch b9.vmb
check "batch -p prints the array indented" sh -c "[ \"\$(head -c 1 \"\$1\")\" = '[' ] && [ \$(wc -l <\"\$1\") -gt 3 ] && jq -e 'length == 1' \"\$1\"" sh "$OUT_FILE"

# An echo after an expect state prints (the expectation's own -j used to linger).
printf 'expect state %s running\necho after the expectation\n' "$A" >b10.vmb
run $V batch b10.vmb
check_out "^after the expectation$" "echo after expect state prints"

# A comment that ends in a backslash continues nothing: the next line runs.
printf '# a comment \\\necho after the comment\necho '"'"'a\\'"'"' b\n' >b11.vmb
run $V batch b11.vmb
check_rc 0 "a comment ending in a backslash"
check_out "^after the comment$" "does not swallow the next line"
check_out '^a\\ b$' "a backslash inside single quotes is literal, as in sh"

# write: a scenario arms the test driver's knobs itself; only under /sys.
cat >b12.vmb <<EOT
write $DBG/$A/fail_state 1 5
expect fail EIO
state set $A stop
write $DBG/$A/fail_state off
EOT
run $V batch b12.vmb
check_rc 0 "write arms the driver's fault injection from the scenario"
is "$(cat "$DBG/$A/fail_state")" off "and disarms it"
printf 'write ./b12.vmb x\n' >b13.vmb
run $V batch b13.vmb
check_rc 2 "write outside /sys is refused (exit 2)"
check_err "b13.vmb:1: write: '\./b12.vmb' is not under /sys" "and says why"
check "the file was not touched" grep -q "fail_state off" b12.vmb
printf 'write %s/%s/fail_state bogus\n' "$DBG" "$A" >b14.vmb
run $V batch b14.vmb
check_rc 1 "a knob that refuses the value fails the line"
check_err "b14.vmb:1: write: '.*fail_state' refused 'bogus': invalid argument" "with the knob's errno"

# open and close inside a batch: the device moves to the holder with its
# state, the holder takes no other device, and the batch keeps no zombie.
# The pattern of a device's VFIO node in `ls -l /proc/PID/fd`: its group, or its cdev (iommufd way).
vfio_node_re() {
	_c=$(ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null)
	echo "/dev/vfio/($(iommu_group_of "$1")${_c:+|devices/$_c})\$"
}
zombies_of() { for _s in /proc/[0-9]*/stat; do awk -v p="$1" '$3 == "Z" && $4 == p' "$_s" 2>/dev/null; done | grep -c .; }
cat >b15.vmb <<EOT
state get $B
state set $A stop-copy
open $A
expect state $A stop-copy
echo opened
sleep 4
close $A
echo closed
sleep 4
EOT
$V batch b15.vmb >b15.out 2>b15.err &
bpid=$!
i=0
while ! grep -q '^opened$' b15.out && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
h=$(sed -n 's/.*held by pid \([0-9]*\).*/\1/p' b15.out)
check "the batch's open started a holder" kill -0 "${h:-0}"
check "the state set before the open carried over to the holder (expect state)" grep -q '^opened$' b15.out
diag_files() { for _f in "$@"; do diag "--- $_f"; while IFS= read -r _l; do diag "$_l"; done <"$_f"; done; }
grep -q '^opened$' b15.out || diag_files b15.out b15.err
ls -l "/proc/$h/fd" >h.fds 2>/dev/null
check "the holder holds A" grep -Eq "$(vfio_node_re "$A")" h.fds
check "the holder does not hold B, which only the batch holds" sh -c "! grep -Eq '$(vfio_node_re "$B")' h.fds"
check "the holder is not the batch's child" sh -c "[ \"\$(awk '{ print \$4 }' /proc/$h/stat)\" != $bpid ]"
i=0
while ! grep -q '^closed$' b15.out && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
is "$(zombies_of "$bpid")" 0 "the ended holder is no zombie of the batch"
check "the holder is gone" sh -c "! kill -0 $h 2>/dev/null"
run $V state get "$A"
check_rc 0 "after close the batch no longer holds A: another process opens it"
check_out "^running$" "and finds it back in running"
run $V state get "$B"
check_rc 1 "B stays held by the batch"
rc=0
wait "$bpid" || rc=$?
is "$rc" 0 "the batch with open and close exits 0"

run $V batch /nonexistent.vmb
check_rc 1 "a missing batch file exits 1"
run $V -b b9.vmb state get "$A"
check_rc 2 "-b with a command is a usage error"
done_testing
