# Regression (3caf87c, "Keep an unclaimed data fd with the device"): the data
# fd that a state set into stop-copy opens stays with the device, so a later
# save in the same process reads that stream. It used to be closed at once.
# Run: DEV=0000:01:00.0 vfiomig batch regress-datafd.vmb   (a device with migration)
# Lab: DEV=EDU_A
# Lab: DEV=MTTY_A
# Lab-check: [ -s datafd.blob ]
state set $DEV stop-copy
save $DEV -o ./datafd.blob --then running
expect state $DEV running
blob inspect ./datafd.blob
