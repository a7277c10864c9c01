# Regression: `open` in a batch started a holder but the batch kept holding
# the device too, so `close` did not close it; and the holder took every
# other device the batch held. Now the device moves to the holder with its
# state, and close closes it.
# Run: DEV=0000:01:00.0 OTHER=0000:02:00.0 vfiomig batch regress-open.vmb   (devices with migration)
# Lab: DEV=EDU_A OTHER=EDU_B
# Lab-if: [ "$LAB_TEST_DRIVER" = vfiomig_test ]
state set $OTHER stop
state set $DEV stop-copy
open $DEV
expect state $DEV stop-copy
close $DEV
# Closed for real: opened anew (which resets it), it is running.
expect state $DEV running
# The batch still holds the other device, in the state it left it.
expect state $OTHER stop
