# Regression: a comment line that ends in a backslash continued into the next
# line, which then never ran (here: the expectation, so the refused command
# failed the batch).
# Run: DEV=0000:01:00.0 vfiomig batch regress-comment.vmb
# Lab: DEV=EDU_A
# A comment is text to its end, backslash included \
expect fail EINVAL
state set $DEV bogus
