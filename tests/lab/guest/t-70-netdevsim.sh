#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# netdevsim gives the guest a devlink instance with VF ports in switchdev mode whose port-function attributes are refused as not supported: `mlx5 migratable`'s "not supported" path against a driver that is not ours.
. /tests/lib.sh
V=$VFIOMIG

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
# Only netdevsim's ports: the test driver's devices have VF ports too.
check "there are two VF ports, VF 0 and VF 1" sh -c "printf '%s' \"\$1\" | /usr/bin/jq -e '[.port | to_entries[] | select(.key | startswith(\"$DEV/\")) | .value | select(.flavour == \"pcivf\") | .vfnum] | sort == [0, 1]'" sh "$OUT"
vfport=$(printf '%s' "$OUT" | /usr/bin/jq -r ".port | to_entries[] | select((.key | startswith(\"$DEV/\")) and .value.flavour == \"pcivf\" and .value.vfnum == 0) | .key")
like "$vfport" "^$DEV/[0-9]+\$" "VF 0's port has an index ($vfport)"

# netdevsim has no port-function operations: devlink refuses function
# attributes on its ports as not supported (migratable included; the host's
# iproute2 cannot send that one).
run "$DL" port function set "$vfport" hw_addr 00:11:22:33:44:55
check_rc 1 "a port-function SET on a netdevsim VF port fails"
check_err "not supported|doesn't support" "and the kernel says it is not supported"

# vfiomig: the port is found, and migratable is not supported, by the
# port (no port-function capabilities) and by the kernel when asked to set it.
run $V mlx5 migratable --pf "$DEV" --vf 0
check_rc 3 "mlx5 migratable on a netdevsim VF port exits 3"
check_out "^$DEV VF 0 port ${vfport##*/}\$" "it finds VF 0's port"
check_err "^vfiomig: migratable is not supported for '$vfport': the kernel or the driver reports no port-function capabilities" "and says the port has no capabilities"
run $V -j mlx5 migratable --pf "$DEV" --vf 0
check "-j: supported is false" sh -c "printf '%s' \"\$1\" | /usr/bin/jq -e '.supported == false and .devlink == \"$DEV\" and .vf == 0 and (has(\"migratable\") | not)'" sh "$OUT"
run $V mlx5 migratable --pf "$DEV" --vf 1 on
check_rc 3 "setting it is refused with EOPNOTSUPP: exit 3"
check_err "^vfiomig: cannot set migratable for '$DEV/[0-9]+': operation not supported; the kernel says: Port doesn't support migratable function attribute; the kernel or the driver reports no port-function capabilities" "the kernel's own message is shown"
check_out_not "migratable on" "nothing claims it changed"
run $V mlx5 migratable --pf "$DEV" --vf 2
check_rc 1 "a VF without a port exits 1"
check_err "no eswitch port for '$DEV': the devlink instance has no port for VF 2 \(its eswitch is in switchdev mode\)" "and says so"

run "$DL" dev eswitch set "$DEV" mode legacy
check_rc 0 "back to legacy mode"
run $V mlx5 migratable --pf "$DEV" --vf 0
check_rc 1 "in legacy mode there is no VF port"
check_err "no eswitch port for '$DEV': the devlink instance has no port for VF 0 \(its eswitch is in legacy mode\)" "vfiomig says the eswitch is in legacy mode"
check_err "hint: VF ports exist in switchdev mode: devlink dev eswitch set $DEV mode switchdev" "and how to change it"
check "the VFs can be removed" sh -c "echo 0 >$NSIM/devices/netdevsim$ID/sriov_numvfs"
check "the device can be deleted" sh -c "echo $ID >$NSIM/del_device"
run "$DL" -j dev show
check_out_not "$DEV" "devlink no longer lists it"
run $V mlx5 migratable --pf "$DEV" --vf 0
check_err "cannot find devlink instance '$DEV'" "vfiomig no longer finds it"

done_testing
