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
# Without --probe nothing is opened: the flags come from VFIO's debugfs
# features file or stay unknown (null), never "none".
VD=/sys/kernel/debug/vfio
run $V -j list
check_rc 0 "list -j exits 0"
if kconfig_has VFIO_DEBUGFS; then
	check "list reads a free device's state from VFIO debugfs" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.source == \"debugfs\" and .migration.state == \"running\"'" sh "$OUT"
else
	check "without VFIO debugfs a free device's migration is unknown" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.source == null and .migration.state == null'" sh "$OUT"
fi
if [ -e "$VD/$A/migration/features" ]; then
	check "list reads the flags from debugfs' features" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.flags | test(\"stop-copy\")'" sh "$OUT"
else
	check "with no features file the flags are unknown (null), not none" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.flags == null'" sh "$OUT"
	check "and so are plain vfio-pci's" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$E1000E\") | .migration.flags == null'" sh "$OUT"
fi
run $V list
check_out "^$E1000E +vfio-pci +[0-9]+ +- +- +" "in text, unknown flags are '-'"
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
if kconfig_has VFIO_DEBUGFS; then
	check "list reads the held device's state from VFIO debugfs" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.source == \"debugfs\" and .migration.state == \"stop-copy\"'" sh "$OUT"
else
	check "without VFIO debugfs the held device's migration is unknown" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.source == null and .migration.state == null'" sh "$OUT"
fi
[ -e "$VD/$A/migration/features" ] ||
	check "a held device's flags are unknown (null), not none" sh -c "printf '%s' \"\$1\" | jq -e '.devices[] | select(.device == \"$A\") | .migration.flags == null'" sh "$OUT"
# info and doctor run here, not in the session: they must only read.
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V info "$A"
check_rc 0 "info on a held device exits 0"
check_out "holder: pid $holder \(vfiomig\)" "info names the holder"
check_err "is held by another process: not opened" "info says it did not open it"
kver_re=$(printf '%s' "$KVER" | sed 's/[+.]/\\&/g')
check_out "kernel: $kver_re" "info shows the kernel release"
check_out "IOMMUFD_DRIVER=" "info shows the kernel config that matters"
check_out "^variant drivers: MLX5_VFIO_PCI=[ymn] HISI_ACC_VFIO_PCI=[ymn] PDS_VFIO_PCI=[ymn] VIRTIO_VFIO_PCI=[ymn] QAT_VFIO_PCI=[ymn] XE_VFIO_PCI=[ymn] NVGRACE_GPU_VFIO_PCI=[ymn]\$" "info lists the variant drivers' config"
# edu has no PCI PM capability: an open device stays active in D0.
check_out "^power: runtime active, D0\$" "info shows the held device's power"
check_out_not "^sriov:" "an edu is no SR-IOV VF"
if kconfig_has VFIO_DEBUGFS; then
	check_out "^debugfs migration state: stop-copy\$" "info reads the held device's state from VFIO debugfs"
else
	check_out_not "debugfs migration state" "without VFIO debugfs info shows no debugfs state"
fi
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V -j info "$A"
check "info -j: power and the whole config" sh -c "printf '%s' \"\$1\" | jq -e '.power.runtime_status == \"active\" and .power.power_state == \"D0\" and (.kernel.config | keys | length) == 11 and .kernel.config.NVGRACE_GPU_VFIO_PCI != null and (has(\"sriov\") | not)'" sh "$OUT"
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V doctor "$A"
check_out "ok +holder +held by pid $holder \(vfiomig\)" "doctor names the holder"
check_out_not "probe" "doctor does not probe without --probe"
if kconfig_has VFIO_DEBUGFS; then
	check_out "ok +state +stop-copy \(VFIO debugfs\)" "doctor reads the held device's state from VFIO debugfs"
else
	check_out_not "^  [a-z]+ +state " "without VFIO debugfs doctor has no state check"
fi
run env VFIOMIG_RUNTIME_DIR=/nonexistent $V doctor "$A" --probe
check_out_not "^  [a-z]+ +probe" "doctor --probe does not open a held device"
is "$(cat "$DBG/$A/arcs")" "" "no arc reached the held device"
is "$(cut -d' ' -f2 "$DBG/$A/state")" stop-copy "the held device is still in stop-copy"
is "$($V state get "$A")" stop-copy "and its session still answers"
$V close "$A" >/dev/null 2>&1

# doctor's verdicts.
# doctor's verdict follows the kernel's version and config.
dchk() { check "$1" sh -c "printf '%s' \"\$1\" | jq -e '.checks[] | select(.check == \"$2\") | $3'" sh "$OUT"; }
run $V -j doctor "$A"
if ! kver_ge 6 2; then
	check_rc 6 "doctor on $KVER: a warning (no pre-copy before 6.2) exits 6"
	dchk "doctor warns about the kernel's missing pre-copy" kernel '.verdict == "warn" and (.detail | test("no pre-copy"))'
elif [ ! -r "/boot/config-$KVER" ]; then
	check_rc 6 "doctor on $KVER without a readable config: a warning exits 6"
	dchk "doctor says it cannot tell without a kernel config" dirty_tracking '.verdict == "warn" and (.detail | test("not readable"))'
elif kconfig_has IOMMUFD_DRIVER; then
	check_rc 0 "doctor on $KVER (CONFIG_IOMMUFD_DRIVER): every check ok, exits 0"
	dchk "doctor: DMA logging reports work" dirty_tracking '.verdict == "ok" and (.detail | test("CONFIG_IOMMUFD_DRIVER=y"))'
	check "doctor -j: verdict ok" sh -c "printf '%s' \"\$1\" | jq -e '.verdict == \"ok\"'" sh "$OUT"
elif kver_ge 6 8; then
	check_rc 6 "doctor on $KVER: a warning (no CONFIG_IOMMUFD_DRIVER, as in Debian's kernel) exits 6"
	dchk "doctor warns about dirty tracking" dirty_tracking '.verdict == "warn" and (.detail | test("EOPNOTSUPP"))'
else
	check_rc 0 "doctor on $KVER (dirty bitmaps built in before 6.8): exits 0"
fi
if kconfig_has VFIO_DEVICE_CDEV && kconfig_has IOMMUFD; then
	dchk "doctor: cdevs and iommufd are built" cdev '.verdict == "ok" and (.detail | test("CONFIG_VFIO_DEVICE_CDEV=y.*CONFIG_IOMMUFD=[ym]"))'
elif [ -r "/boot/config-$KVER" ]; then
	dchk "doctor: no cdevs, devices open through their group" cdev '.verdict == "ok" and (.detail | test("no VFIO device cdevs"))'
fi
if kconfig_has VFIO_DEBUGFS; then
	dchk "doctor: a free device's state from VFIO debugfs" state '.verdict == "ok" and .detail == "running (VFIO debugfs)"'
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
