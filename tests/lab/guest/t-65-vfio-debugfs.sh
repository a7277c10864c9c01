#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Lab check, not a vfiomig feature: VFIO's debugfs view (/sys/kernel/debug/vfio/<dev>/migration/) exists and follows the migration state, also of a device another process holds, so list/info/doctor can read it without opening the device.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A
VD=/sys/kernel/debug/vfio

kconfig_has VFIO_DEBUGFS || skip_all "$KVER was built without CONFIG_VFIO_DEBUGFS"

# vfiomig's state names as the kernel prints them there.
kname() { echo "$1" | tr 'a-z-' 'A-Z_'; }
vstate() { cat "$VD/$1/migration/state" 2>&1; }

check "$VD exists" test -d "$VD"
for d in $EDU_A $EDU_B $EDU_C $MTTY_A $MTTY_B; do
	check "$d has $VD/$d/migration/state" test -r "$VD/$d/migration/state"
done
# Only devices with migration get the directory.
for d in $E1000E $VIRTIO_NET; do
	check "plain vfio-pci $d has a VFIO debugfs directory" test -d "$VD/$d"
	check "but no migration directory" test ! -e "$VD/$d/migration"
done
is "$(vstate "$A")" RUNNING "a closed device reads RUNNING"

# migration/features came upstream after 6.12: check it where it exists.
if [ -e "$VD/$A/migration/features" ]; then
	is "$(tr '\n' ' ' <"$VD/$A/migration/features")" "stop-copy p2p pre-copy dirty-tracking " "features lists the test driver's flags and dirty tracking"
else
	skip "$KVER's VFIO debugfs has migration/state only" "migration/features lists the device's flags"
fi

# A device held by another process: a save blocked on a pipe nobody reads.
mkfifo hold.fifo
$V save "$A" --raw >hold.fifo 2>/dev/null &
holder=$!
exec 7<hold.fifo
i=0
while ! grep -q stop-copy "$DBG/$A/state" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "$(vstate "$A")" STOP_COPY "while another process holds $A in stop-copy, debugfs reads STOP_COPY"
exec 7<&-
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
is "$(vstate "$A")" RUNNING "once the holder is gone, RUNNING again"

# Every state, on mtty, which keeps its state when closed. (The test
# driver's keep_state keeps it aside while the device is closed, and the
# driver reports running then: VFIO debugfs shows RUNNING for it.) Not
# resuming: mtty left in resuming by a closed process dereferences a NULL
# resume file on the way out of it (upstream mtty.c, mtty_load_state()).
if [ -n "$MTTY_A" ]; then
	for t in stop running-p2p pre-copy pre-copy-p2p stop-copy running; do
		$V state set "$MTTY_A" running >/dev/null 2>&1
		run $V state set "$MTTY_A" "$t"
		check_rc 0 "mtty: state set $t"
		is "$(vstate "$MTTY_A")" "$(kname "$t")" "mtty: debugfs follows: $(kname "$t")"
	done
	$V state set "$MTTY_A" running >/dev/null 2>&1
else
	skip "no mtty on $KVER" "debugfs follows every state of mtty"
fi

done_testing
