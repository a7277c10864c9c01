#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `mlx5 migratable` against the kernel's devlink family and the test driver's instance pci/<BDF>: two VF ports whose migratable capability the driver keeps (Linux 6.4 on) or ports with no port-function capabilities (before); extack refusals; bad VF numbers and handles.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A
H=pci/$A
DL=/usr/bin/devlink

kconfig_has NET_DEVLINK || skip_all "$KVER was built without CONFIG_NET_DEVLINK"
[ "$LAB_TEST_DRIVER" = vfiomig_test ] || skip_all "the edu devices are not on the test driver"

# The driver's own view of its ports: "<vf> <port index> on|off|unsupported".
ports() { cat "$DBG/$1/devlink"; }
# jq over the last run's stdout.
jqo() { check "$1" sh -c "printf '%s' \"\$1\" | jq -e '$2'" sh "$OUT"; }

# Port-function ops with migratable in them came with 6.4 (struct devlink_port_ops).
if kver_ge 6 4; then caps=1; st=off; else caps=0; st=unsupported; fi
is "$(ports "$A")" "0 32769 $st
1 32770 $st" "the driver registered two VF ports on pci/$A"

# The kernel's devlink (iproute2 asks it) sees the instance, its ports and the eswitch mode.
if [ -x "$DL" ]; then
	run "$DL" -j dev show
	jqo "devlink lists pci/$A" ".dev | has(\"$H\")"
	run "$DL" -j port show
	jqo "its ports are VF ports 0 and 1 with indexes 32769 and 32770" "[.port | to_entries[] | select(.key | startswith(\"$H/\")) | [.value.flavour, .value.vfnum, (.key | split(\"/\") | .[2])]] | sort == [[\"pcivf\",0,\"32769\"],[\"pcivf\",1,\"32770\"]]"
	run "$DL" -j dev eswitch show "$H"
	jqo "its eswitch is in switchdev mode" ".dev[\"$H\"].mode == \"switchdev\""
else
	skip "no devlink (iproute2) in the guest" "the kernel lists the instance and its ports"
fi

if [ $caps = 1 ]; then
	run $V mlx5 migratable --pf "$H" --vf 0
	check_rc 0 "reading VF 0's capability exits 0"
	check_out "^$H VF 0 port 32769: migratable off\$" "a fresh port reads off"
	run $V -j mlx5 migratable --pf "$H" --vf 1
	jqo "-j: device null, handle, VF, port index, supported, migratable" ".device == null and .devlink == \"$H\" and .vf == 1 and .port_index == 32770 and .supported == true and .migratable == false"

	run $V mlx5 migratable --pf "$H" --vf 0 on
	check_rc 0 "setting VF 0 on exits 0"
	check_out "^$H VF 0 port 32769: migratable on\$" "and prints the value read back"
	is "$(ports "$A")" "0 32769 on
1 32770 off" "the driver holds on for VF 0 only"
	run $V mlx5 migratable --pf "$A" --vf 0
	check_out "migratable on\$" "a new process reads it back (--pf as a plain PCI address)"
	run $V -j mlx5 migratable --pf "$H" --vf 0 off
	check_rc 0 "setting it off exits 0"
	jqo "-j: set off reads back false" ".migratable == false and .supported == true"
	is "$(ports "$A")" "0 32769 off
1 32770 off" "the driver holds off again"

	# An armed devlink_fail makes the driver refuse the next set with an extack and an errno.
	echo 16 >"$DBG/$A/devlink_fail"
	run $V mlx5 migratable --pf "$H" --vf 1 on
	check_rc 1 "a refused set exits 1"
	check_err "^vfiomig: cannot set migratable for '$H/32770': device or resource busy; the kernel says: vfiomig_test: migratable refused: devlink_fail was armed in debugfs\$" "the kernel's errno and extack message reach the user"
	check_out_not "migratable on" "nothing claims it changed"
	is "$(ports "$A")" "0 32769 off
1 32770 off" "the refused set changed nothing"
	is "$(cat "$DBG/$A/devlink_fail")" off "the failure was injected once"
	echo 95 >"$DBG/$A/devlink_fail"
	run $V -j mlx5 migratable --pf "$H" --vf 1 on
	check_rc 3 "a refusal with EOPNOTSUPP exits 3"
	check_err '"error":' "-j: the error is a JSON object on stderr"
	check_err "devlink_fail was armed in debugfs" "-j: with the extack message"
	run $V mlx5 migratable --pf "$H" --vf 1 on
	check_rc 0 "the next set goes through"
	is "$(ports "$A")" "0 32769 off
1 32770 on" "and reaches the driver"
	$V mlx5 migratable --pf "$H" --vf 1 off >/dev/null

	# Changing a devlink port needs CAP_NET_ADMIN; reading does not.
	if [ -x /usr/bin/setpriv ]; then
		run setpriv --reuid=1000 --regid=1000 --clear-groups $V mlx5 migratable --pf "$H" --vf 0
		check_rc 0 "an unprivileged user can read the capability"
		run setpriv --reuid=1000 --regid=1000 --clear-groups $V mlx5 migratable --pf "$H" --vf 0 on
		check_rc 1 "an unprivileged set exits 1"
		check_err "cannot set migratable for '$H/32769': operation not permitted" "and says the kernel refused it"
		check_err "hint: .*CAP_NET_ADMIN" "with the remedy"
		is "$(ports "$A")" "0 32769 off
1 32770 off" "an unprivileged set changed nothing"
	else
		skip "no setpriv" "an unprivileged set is refused"
	fi
else
	# Before 6.4 the ports have no port-function capabilities: the "not supported" path on a stock kernel.
	run $V mlx5 migratable --pf "$H" --vf 0
	check_rc 3 "reading a port without capabilities exits 3"
	check_out "^$H VF 0 port 32769\$" "the port is found"
	check_err "^vfiomig: migratable is not supported for '$H/32769': the kernel or the driver reports no port-function capabilities" "and it says why migratable is missing"
	run $V -j mlx5 migratable --pf "$H" --vf 0
	jqo "-j: supported is false" ".supported == false and .port_index == 32769 and (has(\"migratable\") | not)"
	run $V mlx5 migratable --pf "$H" --vf 0 on
	check_rc 1 "setting it is refused"
	check_err "^vfiomig: cannot set migratable for '$H/32769': .*; the kernel says: .*; the kernel or the driver reports no port-function capabilities" "with the kernel's message and vfiomig's reason"
	is "$(ports "$A")" "0 32769 unsupported
1 32770 unsupported" "the driver's ports are unchanged"
fi

# A VF number the instance has no port for, and handles without an instance.
run $V mlx5 migratable --pf "$H" --vf 5
check_rc 1 "a VF without a port exits 1"
check_err "^vfiomig: no eswitch port for '$H': the devlink instance has no port for VF 5 \(its eswitch is in switchdev mode\)\$" "and names the VF and the eswitch mode"
check_err "hint: 'devlink port show' lists the VF ports of $H" "the hint fits switchdev mode"
run $V mlx5 migratable --pf "pci/$E1000E" --vf 0
check_rc 1 "a PCI function without a devlink instance exits 1"
check_err "cannot find devlink instance 'pci/$E1000E': the kernel has no devlink instance of that name" "and says so"

# The DEV form needs an SR-IOV VF, which the lab has none of.
run $V mlx5 migratable "$A"
check_rc 1 "DEV that is not a VF exits 1"
check_err "^vfiomig: cannot find the PF of '$A': it is not an SR-IOV virtual function" "and says it is no VF"
check_err "hint: name the devlink port with --pf HANDLE --vf N" "with the other way to name the port"
run $V mlx5 migratable "$A" on
check_rc 1 "setting through DEV that is not a VF exits 1"
is "$(ports "$A" | cut -d' ' -f3 | sort -u)" "$st" "nothing changed"

# Usage errors: nothing is asked of the kernel.
run $V mlx5 migratable --pf "$H" --vf x
check_rc 2 "--vf x exits 2"
check_err "invalid --vf 'x'" "and names the bad value"
run $V mlx5 migratable --pf "$H" --vf 70000
check_rc 2 "--vf beyond 65535 exits 2"
run $V mlx5 migratable --pf "$H"
check_rc 2 "--pf without --vf exits 2"
run $V mlx5 migratable --pf "$H" --vf 0 maybe
check_rc 2 "a value other than on or off exits 2"
run $V mlx5 migratable --pf "bogus" --vf 0
check_rc 2 "a handle that is neither BUS/DEVICE nor a PCI address exits 2"

# Unbind and rebind: the instance goes away with the device and comes back
# fresh; the runner fails the file on any kernel warning meanwhile.
C=$EDU_C
run sh -c "echo $C >/sys/bus/pci/drivers/vfiomig_test/unbind"
check_rc 0 "$C unbinds from the test driver"
run $V mlx5 migratable --pf "pci/$C" --vf 0
check_err "cannot find devlink instance 'pci/$C'" "its devlink instance is gone"
run sh -c "echo $C >/sys/bus/pci/drivers_probe"
is "$(driver_of "$C")" vfiomig_test "$C binds to the test driver again"
is "$(ports "$C")" "0 32769 $st
1 32770 $st" "with its two ports back"
if [ $caps = 1 ]; then
	run $V mlx5 migratable --pf "pci/$C" --vf 1 on
	check_rc 0 "and a working capability"
	$V mlx5 migratable --pf "pci/$C" --vf 1 off >/dev/null
fi

done_testing
