# A transition that fails midway and the way back; then one that fails into
# error, which only a reset leaves. The faults come from the test driver
# vfiomig_test (tests/kmod): its debugfs knob fail_state takes the target
# state of the arc to fail (uAPI numbers: 1 stop, 3 stop-copy), an errno,
# and "error" to leave the device in error; each fault fires once.
# Run: DEV=0000:01:00.0 vfiomig batch recover.vmb   (DEV bound to vfiomig_test, debugfs mounted)
# Lab: DEV=EDU_A
# Lab-if: [ "$LAB_TEST_DRIVER" = vfiomig_test ]
# Lab-cleanup: echo off >"$DBG/$DEV/fail_state"
expect state $DEV running
# The arc into stop fails with EIO (5).
write /sys/kernel/debug/vfiomig_test/$DEV/fail_state 1 5
expect fail EIO
state set $DEV stop-copy
# The device stopped at the last arc that worked, and goes back from there.
expect state $DEV running-p2p
state set $DEV running
expect state $DEV running
# The arc into stop-copy fails with EIO and sends the device to error.
write /sys/kernel/debug/vfiomig_test/$DEV/fail_state 3 5 error
expect fail EIO
state set $DEV stop-copy
expect state $DEV error
# vfiomig refuses to move a device out of error before any ioctl: only a reset leaves it.
expect fail EINVAL
state set $DEV running
reset $DEV
expect state $DEV running
# And the device migrates again.
state set $DEV stop-copy
expect state $DEV stop-copy
state set $DEV running
