#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `vfiomig info`: identity through libpci, binding, migration flags and the feature table, as text and JSON.
. /tests/lib.sh
V=$VFIOMIG

run $V info "$EDU_A"
check_rc 0 "info on the test device exits 0"
check_out "\[1234:11e8\]" "info shows the PCI IDs"
check_out "driver vfiomig_test" "info shows the driver"
check_out "iommu group $(iommu_group_of "$EDU_A")" "info shows the IOMMU group"
check_out "migration: stop-copy,p2p" "info shows the migration flags"
check_out "migration +get: supported" "the feature table lists migration"
check_out "low_power_entry +set: supported" "the feature table shows low power from vfio-pci-core"

run $V -j info "$EDU_A"
check_rc 0 "info -j exits 0"
check "info -j parses and carries the IDs" sh -c "printf '%s' \"\$1\" | jq -e '.vendor_id == \"0x1234\" and .device_id == \"0x11e8\" and .driver == \"vfiomig_test\"'" sh "$OUT"
check "info -j reports migration support and the state" sh -c "printf '%s' \"\$1\" | jq -e '.migration.supported and .migration.state == \"running\" and .features.mig_device_state.set'" sh "$OUT"
if kver_ge 6 2; then
	check "info -j has an exact stop-copy size estimate" sh -c "printf '%s' \"\$1\" | jq -e '.migration.stop_copy_size > 0'" sh "$OUT"
	check "pre-copy is in the flags on $KVER" sh -c "printf '%s' \"\$1\" | jq -e '.migration.flags | test(\"pre-copy\")'" sh "$OUT"
else
	check "no MIG_DATA_SIZE before 6.2: the size is null" sh -c "printf '%s' \"\$1\" | jq -e '.migration.stop_copy_size == null and (.features.mig_data_size.get | not)'" sh "$OUT"
fi

run $V -p info "$E1000E"
check_rc 0 "info on plain vfio-pci exits 0"
check "plain vfio-pci: migration unsupported, low power supported" sh -c "printf '%s' \"\$1\" | jq -e '(.migration.supported | not) and .features.low_power_entry.set and (.features.migration.get | not) and .features.migration.get_detail == \"not supported by the kernel or the driver\"'" sh "$OUT"

# ---- Names from pci.ids (libpci reads the guest's copy of the host's file).
IDS=/usr/share/misc/pci.ids
# ids_vendor VVVV / ids_device VVVV DDDD: the name pci.ids gives, or nothing.
ids_vendor() {
	awk -v v="$1" '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / && $1 == v { sub(/^[0-9a-f]+  /, ""); print; exit }' "$IDS"
}
ids_device() {
	awk -v v="$1" -v d="$2" '
		/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { in_v = ($1 == v); next }
		in_v && /^\t[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / && $1 == d { sub(/^\t[0-9a-f]+  /, ""); print; exit }' "$IDS"
}
jqs() { printf '%s' "$OUT" | jq -r "$1"; }
if [ -r "$IDS" ]; then
	for dev in $E1000E $VIRTIO_NET $EDU_A; do
		vid=$(cut -c3- "/sys/bus/pci/devices/$dev/vendor")
		did=$(cut -c3- "/sys/bus/pci/devices/$dev/device")
		vname=$(ids_vendor "$vid")
		dname=$(ids_device "$vid" "$did")
		run $V -j info "$dev"
		check_rc 0 "info -j $dev ($vid:$did) exits 0"
		if [ -n "$vname" ]; then
			is "$(jqs .vendor)" "$vname" "$dev: the vendor name is pci.ids' ($vname)"
		else
			like "$(jqs .vendor)" "$vid" "$dev: vendor $vid is not in pci.ids: libpci names it by number"
		fi
		if [ -n "$dname" ]; then
			is "$(jqs .device_name)" "$dname" "$dev: the device name is pci.ids' ($dname)"
		else
			like "$(jqs .device_name)" "$did" "$dev: device $did is not in pci.ids: libpci names it by number"
		fi
		jv=$(jqs .vendor) jd=$(jqs .device_name)
		run $V info "$dev"
		check "$dev: the text line carries both names and the IDs" grep -qF ": $jv $jd [$vid:$did]" "$OUT_FILE"
	done
	is "$(ids_device 8086 10d3)" "82574L Gigabit Network Connection" "the guest's pci.ids names the e1000e (82574L)"
else
	skip "no pci.ids in the guest" "names from pci.ids"
fi

# ---- The feature table: every row, on the test driver and on plain vfio-pci.
# feature_is DEV KEY DIR(get|set) true|false DETAIL
feature_is() {
	check "$1: $2 $3 is $4 ($5)" sh -c "jq -e '.features.$2.$3 == $4 and .features.$2.$3_detail == \"$5\"' \"\$1\"" sh "$_F"
}
S=supported
NS="not supported by the kernel or the driver"
run $V -j info "$E1000E"
_F=e1000e.json
printf '%s' "$OUT" >"$_F"
check "e1000e: the table has the nine rows" sh -c "jq -e '.features | keys == [\"dma_logging_report\", \"dma_logging_start\", \"dma_logging_stop\", \"low_power_entry\", \"low_power_entry_with_wakeup\", \"low_power_exit\", \"mig_data_size\", \"mig_device_state\", \"migration\"]' \"\$1\"" sh "$_F"
feature_is e1000e migration get false "$NS"
feature_is e1000e mig_device_state get false "$NS"
feature_is e1000e mig_device_state set false "$NS"
feature_is e1000e mig_data_size get false "$NS"
feature_is e1000e low_power_entry set true "$S"
feature_is e1000e low_power_entry_with_wakeup set true "$S"
feature_is e1000e low_power_exit set true "$S"
feature_is e1000e dma_logging_start set false "$NS"
feature_is e1000e dma_logging_stop set false "$NS"
feature_is e1000e dma_logging_report get false "$NS"
run $V info "$E1000E"
check_out "^  dma_logging_report +get: $NS$" "e1000e, text: the DMA logging rows say ENOTTY in words"
check_out "^  low_power_exit +set: $S$" "e1000e, text: low power exit is supported"

if [ "$LAB_TEST_DRIVER" = vfiomig_test ]; then
	run $V -j info "$EDU_A"
	_F=edu.json
	printf '%s' "$OUT" >"$_F"
	feature_is edu migration get true "$S"
	feature_is edu mig_device_state get true "$S"
	feature_is edu mig_device_state set true "$S"
	# MIG_DATA_SIZE came with 6.2: 6.1's core sends the unknown feature to vfio-pci-core, which knows it not.
	if kver_ge 6 2; then
		feature_is edu mig_data_size get true "$S"
	else
		feature_is edu mig_data_size get false "$NS"
	fi
	feature_is edu low_power_entry set true "$S"
	feature_is edu low_power_entry_with_wakeup set true "$S"
	feature_is edu low_power_exit set true "$S"
	# PROBE answers from the driver's log ops: REPORT is "supported" even
	# where the kernel lacks the bitmap code to carry it out (t-45).
	feature_is edu dma_logging_start set true "$S"
	feature_is edu dma_logging_stop set true "$S"
	feature_is edu dma_logging_report get true "$S"
	run $V info "$EDU_A"
	check_out "^  dma_logging_start +set: $S$" "edu, text: DMA logging start is supported"
	check_out "^  low_power_entry_with_wakeup +set: $S$" "edu, text: low power with wakeup is supported"
else
	skip "the edu devices are not on vfiomig_test" "the test driver's feature table"
fi

run $V info
check_rc 2 "info without a device exits 2"
run $V info "$EDU_A" extra
check_rc 2 "info with an extra argument exits 2"
done_testing
