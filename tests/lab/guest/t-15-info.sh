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

run $V info
check_rc 2 "info without a device exits 2"
run $V info "$EDU_A" extra
check_rc 2 "info with an extra argument exits 2"
done_testing
