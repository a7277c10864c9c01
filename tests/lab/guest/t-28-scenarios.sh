#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The scenario files in tests/scenarios/, run as a support engineer would run them, against the lab's devices.
. /tests/lib.sh
V=$VFIOMIG
S=/tests/scenarios
[ -d "$S" ] || skip_all "no scenarios in the initramfs"

echo 6161 >"$DBG/$EDU_A/seed"
echo 7272 >"$DBG/$EDU_B/seed"
run env SRC="$EDU_A" DST="$EDU_B" $V batch "$S/migrate.vmb"
check_rc 0 "migrate.vmb: a full migration cycle"
is "$(cat "$DBG/$EDU_B/fingerprint")" "$(cat "$DBG/$EDU_A/fingerprint")" "migrate.vmb: B holds A's state"

run env DEV="$EDU_A" NIC="$E1000E" $V batch "$S/refusals.vmb"
check_rc 0 "refusals.vmb: every refusal as expected"

echo "1 5" >"$DBG/$EDU_A/fail_state"
run env DEV="$EDU_A" $V batch "$S/recover.vmb"
check_rc 0 "recover.vmb: a failed transition and the way back"
echo off >"$DBG/$EDU_A/fail_state"

if [ -n "$MTTY_A" ]; then
	run env SRC="$MTTY_A" DST="$MTTY_B" $V batch "$S/migrate.vmb"
	check_rc 0 "migrate.vmb on upstream mtty"
fi
for f in "$S"/*.vmb; do
	run sh -c "grep -q '^# Run:' '$f'"
	check_rc 0 "$(basename "$f") says how to run it"
done
done_testing
