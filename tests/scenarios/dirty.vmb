# DMA dirty logging held from line to line: start, pages the device dirties,
# a report that reads and clears them, stop. The device's writes come from
# the test driver vfiomig_test (tests/kmod): its debugfs knob dirty marks
# an IOVA range dirty, and logging shows what the driver logs.
# Run: DEV=0000:01:00.0 vfiomig batch dirty.vmb   (DEV bound to vfiomig_test, on a kernel with the dirty-bitmap code)
# Lab: DEV=EDU_A
# Lab-if: [ "$LAB_TEST_DRIVER" = vfiomig_test ]
# Lab-if: ! kver_ge 6 7 || kconfig_has IOMMUFD_DRIVER
# Lab-check: [ "$(od -An -tx1 -v dirty.bm | tr -d ' \n')" = "e0$(printf '%062d' 0)" ]
# Lab-check: [ "$(od -An -tx1 -v clean.bm | tr -d ' \n')" = "$(printf '%064d' 0)" ]
write /sys/kernel/debug/vfiomig_test/$DEV/dirty_on_start off
dirty start $DEV --range 0,1M
expect text /sys/kernel/debug/vfiomig_test/$DEV/logging on page_size=4096 ranges=0x0:0x100000
# A second start while the log runs: the driver refuses it.
expect fail EINVAL
dirty start $DEV --range 0,1M
# The device writes pages 5 to 7.
write /sys/kernel/debug/vfiomig_test/$DEV/dirty 0x5000 0x3000
dirty report $DEV --range 0,1M --bitmap-out ./dirty.bm
# Reading the log cleared it.
dirty report $DEV --range 0,1M --bitmap-out ./clean.bm
dirty stop $DEV
expect text /sys/kernel/debug/vfiomig_test/$DEV/logging off
expect fail EINVAL
dirty report $DEV --range 0,1M
