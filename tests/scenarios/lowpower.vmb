# Low power held from line to line: entry, a second entry the driver refuses,
# exit, and a wake that never comes within --wait.
# Run: NIC=0000:04:00.0 vfiomig batch lowpower.vmb   (a device on vfio-pci with PCI power management)
# Lab: NIC=E1000E
# Lab: NIC=VIRTIO_NET
pm enter $NIC
# The batch holds the device, so it is still in low power: a second entry is refused.
expect fail EINVAL
pm enter $NIC
pm exit $NIC
expect text /sys/bus/pci/devices/$NIC/power/runtime_status active
# With a wake eventfd and nobody to wake the device, the wait runs out (exit 5),
# and vfiomig leaves low power itself.
expect fail ETIMEDOUT
pm enter $NIC --wakeup --wait=1
expect text /sys/bus/pci/devices/$NIC/power/runtime_status active
# An exit without an entry is accepted.
pm exit $NIC
