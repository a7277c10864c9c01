#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Both ways of opening a device, on kernels with VFIO cdevs and iommufd: cdev + /dev/iommu (the default there, or --iommufd) and group + container (--legacy) give the same results, and each sees a device the other holds.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A B=$EDU_B

# Kernels without these options are covered by t-10 (--iommufd is refused there).
if ! kconfig_has VFIO_DEVICE_CDEV || ! kconfig_has IOMMUFD; then
	skip_all "$KVER was built without CONFIG_VFIO_DEVICE_CDEV and CONFIG_IOMMUFD"
fi

cdev_of() {
	ls "$1/vfio-dev" 2>/dev/null | head -n 1
}
fp() { cat "$DBG/$1/fingerprint"; }
access() { printf '%s' "$OUT" | jq -r .access; }

# The kernel's side: /dev/iommu and a cdev for every VFIO device, mdevs too.
check "/dev/iommu exists" test -c /dev/iommu
for d in $EDU_A $EDU_B $EDU_C $E1000E $VIRTIO_NET; do
	c=$(cdev_of "/sys/bus/pci/devices/$d")
	check "$d has a VFIO cdev (/dev/vfio/devices/${c:-?})" test -c "/dev/vfio/devices/${c:-none}"
done
for u in $MTTY_A $MTTY_B; do
	c=$(cdev_of "/sys/bus/mdev/devices/$u")
	check "mdev $u has a VFIO cdev (/dev/vfio/devices/${c:-?})" test -c "/dev/vfio/devices/${c:-none}"
done
CDEV_A=/dev/vfio/devices/$(cdev_of "/sys/bus/pci/devices/$A")

# Which way: the cdev by default, as forced with --iommufd; the group with --legacy.
run $V -j info "$A"
check_rc 0 "info opens $A"
is "$(access)" cdev+iommufd "with a cdev and /dev/iommu, vfiomig opens through them by default"
run $V -j --iommufd info "$A"
check_rc 0 "info --iommufd exits 0"
is "$(access)" cdev+iommufd "--iommufd opens through the cdev"
run $V -j --legacy info "$A"
check_rc 0 "info --legacy exits 0"
is "$(access)" group+container "--legacy opens through the group and a container"
run $V -v state get "$A"
check_err "open $A through cdev\+iommufd: ok" "-v says the default open went through the cdev"
run $V -v --legacy state get "$A"
check_err "open $A through group\+container: ok" "-v says --legacy went through the group"
run $V -j info "$CDEV_A"
check "a device named by its cdev opens through the cdev" sh -c "printf '%s' \"\$1\" | jq -e '.access == \"cdev+iommufd\" and .device == \"$A\"'" sh "$OUT"

# The same commands, the same results, both ways.
for dev in $A $MTTY_A; do
	for m in --iommufd --legacy; do
		run $V -j $m info "$dev"
		printf '%s' "$OUT" | jq -S 'del(.access)' >"info$m.$dev.json"
	done
	check "info on $dev reports the same both ways (access aside)" cmp "info--iommufd.$dev.json" "info--legacy.$dev.json"
done

states="stop running stop-copy resuming running-p2p pre-copy pre-copy-p2p"
for m in --iommufd --legacy; do
	for t in $states; do
		echo 1 >"$DBG/$A/arcs"
		run $V -j $m state set "$A" "$t"
		check_rc 0 "$m: running -> $t"
		printf '%s\n' "$OUT" >"set$m.$t.json"
		# The arcs the driver saw, without the shared sequence numbers.
		awk '{ print $2, $3 }' "$DBG/$A/arcs" >"arcs$m.$t"
		run $V $m state get "$A"
		is "$OUT" running "$m: after $t the device is running again once closed"
	done
done
for t in $states; do
	check "state set $t: the same JSON both ways" cmp "set--iommufd.$t.json" "set--legacy.$t.json"
	check "state set $t: the driver saw the same arcs both ways" cmp "arcs--iommufd.$t" "arcs--legacy.$t"
done

# Save and load, every pairing of the two ways, through a pipe.
echo 1234 >"$DBG/$A/seed"
echo "dma_src 0x4242" >"$DBG/$A/regs"
a_fp=$(fp "$A")
n=0
for s in --iommufd --legacy; do
	for l in --iommufd --legacy; do
		n=$((n + 1))
		echo $((5000 + n)) >"$DBG/$B/seed"
		run sh -c "$V $s save $A | $V $l load $B"
		check_rc 0 "save $s | load $l exits 0"
		is "$(fp "$B")" "$a_fp" "save $s | load $l: B holds A's state"
	done
done
# The device's stream does not depend on the way it was opened.
run sh -c "$V --iommufd save $A --raw > cdev.raw"
check_rc 0 "save --raw through the cdev"
run sh -c "$V --legacy save $A --raw > group.raw"
check_rc 0 "save --raw through the group"
check "the raw streams are byte for byte the same" cmp cdev.raw group.raw
run $V --iommufd save "$A" -o a.blob
check_rc 0 "save -o through the cdev"
run $V --legacy load "$B" -i a.blob
check_rc 0 "load -i through the group"
is "$(fp "$B")" "$a_fp" "a blob saved through the cdev loads through the group"

if [ -n "$MTTY_A" ]; then
	$V state set "$MTTY_A" running >/dev/null 2>&1
	$V state set "$MTTY_B" running >/dev/null 2>&1
	run sh -c "$V --iommufd save $MTTY_A --then running | $V --legacy load $MTTY_B --then running"
	check_rc 0 "mtty: save through the cdev, load through the group"
	run sh -c "$V --legacy save $MTTY_B --then running | $V --iommufd load $MTTY_A --then running"
	check_rc 0 "mtty: save through the group, load through the cdev"
	is "$($V state get "$MTTY_A")" running "mtty A runs after the round trip"
fi

# One user at a time, whichever way each came: a device held one way is
# busy the other way, and the message names the holder. The holder is a
# save blocked on a pipe nobody reads (the stream is larger than the pipe).
hold() {
	mkfifo hold.fifo
	$V "$1" save "$A" --raw >hold.fifo 2>/dev/null &
	holder=$!
	exec 7<hold.fifo
	# The holder has the device once the driver is in stop-copy (read
	# through debugfs: opening the device would race with the holder).
	i=0
	while ! grep -q stop-copy "$DBG/$A/state" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	like "$(cat "$DBG/$A/state")" stop-copy "the holder ($1) has $A in stop-copy"
}
release() {
	exec 7<&-
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	rm -f hold.fifo
}
# Opening a cdev never fails for a device in use: BIND_IOMMUFD refuses it,
# with EBUSY when the group node is open and EINVAL when another process has
# the cdev bound. Either way the message is the same and names the node held.
G_A=/dev/vfio/$(iommu_group_of "$A")
for h in --iommufd --legacy; do
	hold "$h"
	node=$G_A
	[ "$h" = --iommufd ] && node=$CDEV_A
	for m in --iommufd --legacy; do
		run $V $m state get "$A"
		check_rc 1 "held $h, opened $m: exits 1"
		check_err "cannot open '$A': in use by pid $holder \(vfiomig\) through $node$" "held $h, opened $m: the message names the holder and the node it holds"
		check_err "hint: a VFIO device has one user at a time" "held $h, opened $m: and what to do"
		run $V -j $m state get "$A"
		check "held $h, opened $m: the JSON error is EBUSY" jq -e '.error.errno_name == "EBUSY"' "$ERR_FILE"
	done
	release
	run $V state get "$A"
	check_rc 0 "released ($h): the device opens again"
done

done_testing
