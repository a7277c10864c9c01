# A transition that fails midway and the way back, with the test driver's
# fault injection (DBG: its debugfs directory for DEV, prepared by the caller).
# Run: DEV=0000:01:00.0 vfiomig batch recover.vmb
# The caller arms: echo "1 5" > $DBG/fail_state  (fail the arc into stop with EIO)
expect state $DEV running
expect fail EIO
state set $DEV stop-copy
# The device stopped at the last arc that worked.
expect state $DEV running-p2p
state set $DEV running
expect state $DEV running
# A failure into error: only a reset leaves it. The caller arms the second fault
# with the arc into stop-copy sending the device to error.
