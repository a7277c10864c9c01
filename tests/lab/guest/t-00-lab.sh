#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the lab itself, so a broken setup shows here and not as odd failures in later tests.
. /tests/lib.sh

bdf_re='^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'
for v in EDU_A EDU_B EDU_C E1000E VIRTIO_NET; do
	eval "d=\${$v:-}"
	like "$d" "$bdf_re" "$v is a full PCI address ($d)"
done

if [ "$LAB_TEST_DRIVER" = vfiomig_test ]; then
	for d in $EDU_A $EDU_B $EDU_C; do
		is "$(driver_of "$d")" vfiomig_test "edu $d is bound to vfiomig_test"
	done
else
	skip "vfiomig_test.ko not built (tests/kmod has no Makefile)" "edu devices bound to vfiomig_test"
	for d in $EDU_A $EDU_B $EDU_C; do
		is "$(driver_of "$d")" vfio-pci "edu $d is bound to vfio-pci in its place"
	done
fi
for d in $E1000E $VIRTIO_NET; do
	is "$(driver_of "$d")" vfio-pci "NIC $d is bound to vfio-pci"
done

# Each device sits behind its own root port: one IOMMU group each, each with its VFIO node.
groups=
for d in $EDU_A $EDU_B $EDU_C $E1000E $VIRTIO_NET; do
	g=$(iommu_group_of "$d")
	check "/dev/vfio/$g exists for $d" test -c "/dev/vfio/$g"
	groups="$groups $g"
done
is "$(echo "$groups" | tr ' ' '\n' | grep . | sort -u | wc -l)" 5 "the five PCI devices are in five IOMMU groups"
check "the VFIO container node exists" test -c /dev/vfio/vfio

if [ "$LAB_TEST_DRIVER" = vfiomig_test ]; then
	check "the test driver's debugfs root exists ($DBG)" test -d "$DBG"
	for d in $EDU_A $EDU_B $EDU_C; do
		check "the test driver's debugfs has $d" test -d "$DBG/$d"
	done
else
	skip "vfiomig_test.ko not built" "the test driver's debugfs directories exist"
fi

# mtty gained migration in 6.7; the lab builds it for those kernels only.
if kver_ge 6 7; then
	for u in "$MTTY_A" "$MTTY_B"; do
		like "$u" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "an mtty UUID is set ($u)"
		check "mdev $u exists" test -d "/sys/bus/mdev/devices/$u"
		g=$(iommu_group_of "$u")
		check "/dev/vfio/$g exists for mdev $u" test -c "/dev/vfio/${g:-none}"
	done
else
	is "$MTTY_A$MTTY_B" "" "no mtty before 6.7: MTTY_A and MTTY_B are empty"
fi

run "$VFIOMIG" --version
check_rc 0 "vfiomig --version exits 0"
check_out '[0-9]+\.[0-9]+' "vfiomig --version prints a version"
check_err_not . "vfiomig --version prints nothing on stderr"

done_testing
