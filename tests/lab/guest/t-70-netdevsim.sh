#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Lab check, not a vfiomig feature: netdevsim gives the guest a devlink instance with VF ports in switchdev mode, whose port-function attributes are refused as not supported: the ground `mlx5 migratable` will be tested on.
. /tests/lib.sh

kconfig_has NETDEVSIM || skip_all "$KVER was built without CONFIG_NETDEVSIM"
DL=/usr/bin/devlink
[ -x "$DL" ] || skip_all "no devlink (iproute2) in the guest: LAB_EXTRA_BINS"
NSIM=/sys/bus/netdevsim
ID=7
DEV=netdevsim/netdevsim$ID

check "the netdevsim bus exists (module loaded)" test -d "$NSIM"
# ID, one port.
check "a netdevsim device can be created" sh -c "echo '$ID 1' >$NSIM/new_device"
check "it appears on its bus" test -d "$NSIM/devices/netdevsim$ID"

run "$DL" -j dev show
check_rc 0 "devlink dev show exits 0"
check "devlink lists $DEV" sh -c "printf '%s' \"\$1\" | /usr/bin/jq -e '.dev | has(\"$DEV\")'" sh "$OUT"
run "$DL" -j port show "$DEV/0"
check "port 0 is a physical port" sh -c "printf '%s' \"\$1\" | /usr/bin/jq -e '.port[\"$DEV/0\"].flavour == \"physical\"'" sh "$OUT"

# VFs and switchdev mode: one port per VF, named by PF and VF number, as
# mlx5 has them.
check "two VFs" sh -c "echo 2 >$NSIM/devices/netdevsim$ID/sriov_numvfs"
run "$DL" dev eswitch set "$DEV" mode switchdev
check_rc 0 "the eswitch goes to switchdev mode"
run "$DL" -j port show
check_rc 0 "devlink port show exits 0"
check "there are two VF ports, VF 0 and VF 1" sh -c "printf '%s' \"\$1\" | /usr/bin/jq -e '[.port[] | select(.flavour == \"pcivf\") | .vfnum] | sort == [0, 1]'" sh "$OUT"
vfport=$(printf '%s' "$OUT" | /usr/bin/jq -r '.port | to_entries[] | select(.value.flavour == "pcivf" and .value.vfnum == 0) | .key')
like "$vfport" "^$DEV/[0-9]+\$" "VF 0's port has an index ($vfport)"

# netdevsim has no port-function operations: devlink refuses function
# attributes on its ports as not supported (migratable included; the host's
# iproute2 cannot send that one).
run "$DL" port function set "$vfport" hw_addr 00:11:22:33:44:55
check_rc 1 "a port-function SET on a netdevsim VF port fails"
check_err "not supported|doesn't support" "and the kernel says it is not supported"

run "$DL" dev eswitch set "$DEV" mode legacy
check_rc 0 "back to legacy mode"
check "the VFs can be removed" sh -c "echo 0 >$NSIM/devices/netdevsim$ID/sriov_numvfs"
check "the device can be deleted" sh -c "echo $ID >$NSIM/del_device"
run "$DL" -j dev show
check_out_not "$DEV" "devlink no longer lists it"

done_testing
