#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Device addresses and opening: every accepted form reaches the device, every failure is explained and exits as documented.
. /tests/lib.sh
V=$VFIOMIG

short=${EDU_A#0000:}
for addr in "$EDU_A" "$short" "/sys/bus/pci/devices/$EDU_A" "$(readlink -f /sys/bus/pci/devices/$EDU_A)"; do
	run $V -j state get "$addr"
	check_rc 0 "state get through address '$addr'"
	check_out "\"device\":\"$EDU_A\"" "'$addr' resolves to $EDU_A"
done

cdev=$(ls /sys/bus/pci/devices/$EDU_A/vfio-dev 2>/dev/null | head -n 1)
# The kernel's config says whether a cdev must exist: built with it, its
# absence is a failure, not a skip (t-60 covers that kernel in depth).
if kconfig_has VFIO_DEVICE_CDEV; then
	check "the kernel made a VFIO cdev for $EDU_A" test -c "/dev/vfio/devices/${cdev:-none}"
	run $V -j state get "/dev/vfio/devices/$cdev"
	check_rc 0 "state get through the cdev /dev/vfio/devices/$cdev"
	check_out "\"device\":\"$EDU_A\"" "the cdev resolves to $EDU_A"
else
	skip "kernel without CONFIG_VFIO_DEVICE_CDEV" "state get through a VFIO cdev"
	run $V --iommufd state get "$EDU_A"
	check_rc 3 "--iommufd without a cdev exits 3 (unsupported)"
	check_err "no VFIO cdev|/dev/iommu" "--iommufd without a cdev says why"
fi
run $V --legacy state get "$EDU_A"
check_rc 0 "--legacy opens through the group and a container"
run $V --legacy --iommufd state get "$EDU_A"
check_rc 2 "--legacy with --iommufd is a usage error"

# Bad addresses: usage errors (2), nothing on stdout.
for bad in 3b:00 '3b:*.2' 3b:00.8 0000:3b:00.2x 00000:01:00.0 '' 01:20.0; do
	run $V state get "$bad"
	check_rc 2 "malformed address '$bad' exits 2"
	check_err "invalid device address" "malformed address '$bad' is named as such"
	check_out_not . "malformed address '$bad' prints nothing on stdout"
done
run $V state get 0000:7f:1f.7
check_rc 2 "an absent device exits 2"
check_err "no such device '0000:7f:1f.7'" "an absent device is named"
run $V state get 0123e4567-e89b-12d3-a456-426614174000
check_rc 2 "a malformed UUID exits 2"
run $V state get 123e4567-e89b-12d3-a456-426614174000
check_rc 2 "an absent mdev exits 2"
check_err "no such device" "an absent mdev is named"

# A device bound to a non-VFIO driver: the root ports are bound to pcieport.
port=$(readlink -f /sys/bus/pci/devices/$EDU_A/..)
port=${port##*/}
run $V state get "$port"
check_rc 1 "a device bound to another driver exits 1"
check_err "cannot open '$port': bound to pcieport, not to a VFIO driver" "the error names the bound driver"
check_err "hint: bind it to vfio-pci: echo vfio-pci > /sys/bus/pci/devices/$port/driver_override" "the hint says how to rebind"
run $V -j state get "$port"
check "the JSON error parses" sh -c "printf '%s' \"\$1\" | jq -e '.error.what == \"cannot open\" and .error.errno_name == \"ENODEV\"'" sh "$ERR"

# Busy: another process holds the group.
g=$(iommu_group_of "$EDU_A")
sh -c "exec 9<>/dev/vfio/$g; exec sleep 30" &
holder=$!
sleep 1
run $V state get "$EDU_A"
check_rc 1 "a device held by another process exits 1"
check_err "cannot open '$EDU_A': in use by pid $holder \(sleep\) through /dev/vfio/$g$" "the busy error names the holder's pid and command, and the node it holds"
kill $holder
wait $holder 2>/dev/null
run $V state get "$EDU_A"
check_rc 0 "the device opens again once the holder is gone"

# Not viable: behind the lab's PCIe-to-PCI bridge, pci-testdev (1b36:0005, no
# driver) shares its IOMMU group with pci-serial (1b36:0002), which the kernel's
# 8250 driver ("serial") owns. Bound to vfio-pci, the testdev cannot be opened.
pci_find() {
	for p in /sys/bus/pci/devices/*; do
		[ "$(cat "$p/vendor")" = "$1" ] && [ "$(cat "$p/device")" = "$2" ] && echo "${p##*/}"
	done | head -n 1
}
TESTDEV=$(pci_find 0x1b36 0x0005)
SERIAL=$(pci_find 0x1b36 0x0002)
bdf_re='^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'
like "$TESTDEV" "$bdf_re" "the lab has a pci-testdev ($TESTDEV)"
like "$SERIAL" "$bdf_re" "the lab has a pci-serial ($SERIAL)"
g=$(iommu_group_of "$TESTDEV")
diag "group $g: $(for m in /sys/kernel/iommu_groups/$g/devices/*; do printf '%s(%s) ' "${m##*/}" "$(driver_of "${m##*/}")"; done)"
is "$(iommu_group_of "$SERIAL")" "$g" "pci-testdev and pci-serial share IOMMU group $g"
is "$(driver_of "$SERIAL")" serial "pci-serial is bound to the kernel's serial driver"
echo vfio-pci >"/sys/bus/pci/devices/$TESTDEV/driver_override"
echo "$TESTDEV" >/sys/bus/pci/drivers_probe
is "$(driver_of "$TESTDEV")" vfio-pci "pci-testdev is bound to vfio-pci"
ways=--legacy
kconfig_has VFIO_DEVICE_CDEV && kconfig_has IOMMUFD && ways="--legacy --iommufd"
for m in $ways; do
	run $V $m state get "$TESTDEV"
	check_rc 1 "$m: a device in a group that is not viable exits 1"
	check_err "cannot open '$TESTDEV': IOMMU group $g is not viable: it also holds .*$SERIAL \(serial\)" \
		"$m: the message lists the group's other devices with their drivers"
	check_err "hint: bind every device of group $g to vfio-pci, or unbind the ones with other drivers: echo $SERIAL > /sys/bus/pci/drivers/serial/unbind" \
		"$m: the hint names the device to unbind and how"
done
# Without the serial driver the group is viable: the open gets through (the
# testdev has no migration, which is the next thing vfiomig finds).
echo "$SERIAL" >/sys/bus/pci/drivers/serial/unbind
for m in $ways; do
	run $V $m state get "$TESTDEV"
	check_rc 3 "$m: with pci-serial unbound the group is viable: the open succeeds"
	check_err "migration is not supported by '$TESTDEV'" "$m: and vfiomig goes on to the migration flags"
done
echo "$SERIAL" >/sys/bus/pci/drivers/serial/bind
is "$(driver_of "$SERIAL")" serial "pci-serial is back on its driver"
echo "$TESTDEV" >/sys/bus/pci/drivers/vfio-pci/unbind
echo >"/sys/bus/pci/devices/$TESTDEV/driver_override"

# Permission denied for an unprivileged user.
if command -v setpriv >/dev/null 2>&1; then
	run setpriv --reuid=1000 --regid=1000 --clear-groups $V state get "$EDU_A"
	check_rc 1 "an unprivileged user exits 1"
	check_err "permission denied" "an unprivileged user is told permission is denied"
	check_err "hint: run as root" "and how to fix it"
else
	skip "no setpriv in busybox" "permission denied is explained"
fi

# Plain vfio-pci has no migration: 'not supported' (3).
run $V state get "$E1000E"
check_rc 3 "state get on plain vfio-pci exits 3"
check_err "migration is not supported by '$E1000E': driver vfio-pci has no migration support" "and says the driver lacks migration"
run $V save "$E1000E" -o /tmp/nic.blob
check_rc 3 "save on plain vfio-pci exits 3"
check "a failed save leaves no file" test ! -e /tmp/nic.blob
check "and no temporary file" sh -c '! ls /tmp/nic.blob.* 2>/dev/null'

done_testing
