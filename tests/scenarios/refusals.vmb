# What vfiomig refuses before any ioctl, and what the kernel refuses.
# Run: DEV=0000:01:00.0 NIC=0000:04:00.0 vfiomig batch refusals.vmb   (DEV with migration, NIC without)
# Lab: DEV=EDU_A NIC=E1000E
# Lab-if: [ "$LAB_TEST_DRIVER" = vfiomig_test ]
expect exit 2
state set $DEV error
expect fail EINVAL
state set $DEV bogus
expect exit 3
state get $NIC
expect fail ENOTTY
save $NIC -o ./never.blob
expect state $DEV running
