# DMA dirty logging on a kernel from 6.7 on built without CONFIG_IOMMUFD_DRIVER
# (Debian's 6.12): START and STOP work, REPORT fails with EOPNOTSUPP for
# every driver, because the VFIO core has no dirty-bitmap code.
# Run: DEV=0000:01:00.0 vfiomig batch dirty-noreport.vmb   (DEV with DMA logging, such as vfiomig_test)
# Lab: DEV=EDU_A
# Lab-if: [ "$LAB_TEST_DRIVER" = vfiomig_test ]
# Lab-if: kver_ge 6 7 && ! kconfig_has IOMMUFD_DRIVER
# Lab-check: [ "$(cat "$DBG/$DEV/logging")" = off ]
dirty start $DEV --range 0,1M
expect text /sys/kernel/debug/vfiomig_test/$DEV/logging on page_size=4096 ranges=0x0:0x100000
expect fail EOPNOTSUPP
dirty report $DEV --range 0,1M
dirty stop $DEV
expect text /sys/kernel/debug/vfiomig_test/$DEV/logging off
