#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A narrated migration in the lab guest: inspect edu A, save its state, inspect the blob, load it into edu B, compare.
#
# Run by /init with /run/lab.env in the environment (tests/lab/run.sh --demo),
# or by hand from the lab shell: sh /tests/demo.sh

BLOB=/tmp/a.blob
failed=0

say() {
	echo
	echo "==> $*"
}

# Shows the command, runs it, and keeps going on failure so the whole story is told.
step() {
	echo "\$ $*"
	"$@"
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "(exit status $rc)"
		failed=1
	fi
	return 0
}

# The test driver's own summary of a device: CRC32 of registers + payload, and the payload size.
fingerprint() {
	if [ -r "$DBG/$1/fingerprint" ]; then
		cat "$DBG/$1/fingerprint"
	else
		echo "(no $DBG/$1/fingerprint: is vfiomig_test bound?)"
	fi
}

payload_sum() {
	if [ -r "$DBG/$1/payload" ]; then
		sha256sum <"$DBG/$1/payload" | cut -c1-32
	else
		echo "(no payload file)"
	fi
}

say "The lab: kernel $KVER; edu A is $EDU_A, edu B is $EDU_B (driver $LAB_TEST_DRIVER)"
step "$VFIOMIG" --version

say "What does the kernel offer for A? (identity, binding, migration flags, features)"
step "$VFIOMIG" info "$EDU_A"

if [ -w "$DBG/$EDU_A/seed" ]; then
	say "Give A and B different contents (the test driver fills the payload from a seed)"
	step sh -c "echo 1111 >$DBG/$EDU_A/seed"
	step sh -c "echo 2222 >$DBG/$EDU_B/seed"
fi

say "Before: the test driver's view (fingerprint: crc32 size; payload: sha256)"
echo "A: $(fingerprint "$EDU_A")   payload $(payload_sum "$EDU_A")"
echo "B: $(fingerprint "$EDU_B")   payload $(payload_sum "$EDU_B")"

say "Save A's device state into $BLOB (A goes to stop-copy; vfiomig reads the migration data fd to its end)"
step "$VFIOMIG" save "$EDU_A" -o "$BLOB"
[ -f "$BLOB" ] && echo "blob: $(wc -c <"$BLOB") bytes"

say "What is in the blob? (header with the source's identity, chunks, checksums)"
step "$VFIOMIG" blob inspect "$BLOB"

say "Load the blob into B (B goes stop -> resuming, takes the stream, back to stop; the driver accepts or rejects it)"
step "$VFIOMIG" load "$EDU_B" -i "$BLOB"

say "Where are the devices now?"
step "$VFIOMIG" state get "$EDU_A"
step "$VFIOMIG" state get "$EDU_B"

say "After: B should carry A's state"
fa=$(fingerprint "$EDU_A") fb=$(fingerprint "$EDU_B")
pa=$(payload_sum "$EDU_A") pb=$(payload_sum "$EDU_B")
echo "A: $fa   payload $pa"
echo "B: $fb   payload $pb"
if [ -r "$DBG/$EDU_A/fingerprint" ]; then
	if [ "$fa" = "$fb" ] && [ "$pa" = "$pb" ]; then
		echo "A and B match: the state moved."
	else
		echo "A and B differ: the state did not move."
		failed=1
	fi
fi

echo
if [ "$failed" = 0 ]; then
	echo "demo: every step succeeded"
else
	echo "demo: some steps failed (see the exit statuses above)"
fi
exit "$failed"
