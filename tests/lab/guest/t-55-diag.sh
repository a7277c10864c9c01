#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# list, info and doctor: facts from sysfs, debugfs and the kernel, and a device another process holds is never disturbed.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B

run $V list
check_rc 0 "list exits 0"
for d in $EDU_A $EDU_B $EDU_C; do
	check_out "^$d +vfiomig_test " "list shows $d on vfiomig_test"
done
check_out "^$E1000E +vfio-pci " "list shows the e1000e on vfio-pci"
check_out_not "pcieport" "list leaves out devices of other drivers"
if [ -n "$MTTY_A" ]; then
	check_out "^$MTTY_A +mtty " "list shows the mtty mdev"
fi
run $V -j list --probe
check_rc 0 "list --probe exits 0"
check "list --probe reads the test devices' flags from their driver" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.source == \"probe\" and (.migration.flags | test(\"stop-copy\")) and .migration.state == \"running\"'" sh "$OUT"
check "list --probe: plain vfio-pci has no migration" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$E1000E\") | .migration.flags == \"none\"'" sh "$OUT"

# A device held by a session, in stop-copy: list, info and doctor must not disturb it.
# The holder's pid comes from open itself: the session log keeps earlier sessions' lines.
run $V open "$A"
check_rc 0 "open exits 0"
holder=$(printf '%s' "$OUT" | sed -n 's/.*held by pid \([0-9]*\).*/\1/p')
$V state set "$A" stop-copy >/dev/null 2>&1
echo 1 >"$DBG/$A/arcs"
run $V -j list --probe
check "list names the holder of a held device" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .holders[0].pid == $holder and .holders[0].comm == \"vfiomig\"'" sh "$OUT"
check "list --probe does not open a held device" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.source != \"probe\"'" sh "$OUT"
# info and doctor run here, not in the session: they must only read.
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V info "$A"
check_rc 0 "info on a held device exits 0"
check_out "holder: pid $holder \(vfiomig\)" "info names the holder"
check_err "is held by another process: not opened" "info says it did not open it"
kver_re=$(printf '%s' "$KVER" | sed 's/[+.]/\\&/g')
check_out "kernel: $kver_re" "info shows the kernel release"
check_out "IOMMUFD_DRIVER=" "info shows the kernel config that matters"
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V doctor "$A"
check_out "ok +holder +held by pid $holder \(vfiomig\)" "doctor names the holder"
check_out_not "probe" "doctor does not probe without --probe"
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V doctor "$A" --probe
check_out_not "^  [a-z]+ +probe" "doctor --probe does not open a held device"
is "$(cat "$DBG/$A/arcs")" "" "no arc reached the held device"
is "$(cut -d' ' -f2 "$DBG/$A/state")" stop-copy "the held device is still in stop-copy"
is "$($V state get "$A")" stop-copy "and its session still answers"
$V close "$A" >/dev/null 2>&1

# doctor's verdicts.
run $V -j doctor "$A"
if kver_ge 6 8; then
	check_rc 6 "doctor on $KVER: a warning (no CONFIG_IOMMUFD_DRIVER in Debian's kernel) exits 6"
	if [ -r "/boot/config-$KVER" ]; then
		check "doctor warns about dirty tracking" sh -c "printf '%s' \"\$1\" | jq -e '.checks[] | select(.check == \"dirty_tracking\") | .verdict == \"warn\" and (.detail | test(\"EOPNOTSUPP\"))'" sh "$OUT"
	else
		check "doctor says it cannot tell without a kernel config" sh -c "printf '%s' \"\$1\" | jq -e '.checks[] | select(.check == \"dirty_tracking\") | .verdict == \"warn\" and (.detail | test(\"not readable\"))'" sh "$OUT"
	fi
else
	check_rc 6 "doctor on $KVER: a warning (no pre-copy before 6.2) exits 6"
	check "doctor warns about the kernel's missing pre-copy" sh -c "printf '%s' \"\$1\" | jq -e '.checks[] | select(.check == \"kernel\") | .verdict == \"warn\" and (.detail | test(\"no pre-copy\"))'" sh "$OUT"
fi
check "doctor -j: binding and driver ok" sh -c "printf '%s' \"\$1\" | jq -e '[.checks[] | select(.check == \"binding\" or .check == \"driver\" or .check == \"iommu_group\") | .verdict] == [\"ok\",\"ok\",\"ok\"]'" sh "$OUT"
run $V doctor "$E1000E"
check_rc 1 "doctor on plain vfio-pci fails"
check_out "fail +driver +plain vfio-pci has no migration support" "and says why"
check_out "remedy: bind the device's migration-capable variant driver" "with the remedy"
port=$(readlink -f /sys/bus/pci/devices/$A/..)
port=${port##*/}
run $V doctor "$port"
check_rc 1 "doctor on a device of another driver fails"
check_out "fail +binding +bound to pcieport, not to a VFIO driver" "and names the driver"
run $V doctor "$A" --probe
check_out "ok +probe +flags stop-copy,p2p" "doctor --probe asks a free device's driver"
if [ -n "$MTTY_A" ]; then
	run $V -j doctor "$MTTY_A" --probe
	check "doctor on mtty: the mdev driver and its probe are ok" sh -c "printf '%s' \"\$1\" | jq -e '[.checks[] | select(.check == \"driver\" or .check == \"probe\") | .verdict] == [\"ok\",\"ok\"]'" sh "$OUT"
fi

run $V info "$A" --no-open
check_rc 0 "info --no-open exits 0"
check_out_not "features:" "info --no-open shows no feature table"
check_err "not opened \(--no-open\)" "and says why"
run $V doctor
check_rc 2 "doctor without a device exits 2"
run $V list extra
check_rc 2 "list takes no operand"
done_testing
