# Regression: an echo right after an expect state printed nothing, because
# the JSON mode of the state get behind the expectation stayed on.
# Run: DEV=0000:01:00.0 vfiomig batch regress-echo.vmb
# Lab: DEV=EDU_A
# Lab-check: grep -qx 'after the expectation' batch.out
expect state $DEV running
echo after the expectation
