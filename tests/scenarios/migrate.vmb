# A full migration cycle between two devices, in one vfiomig process.
# Run: SRC=0000:3b:00.2 DST=0000:3c:00.1 vfiomig batch migrate.vmb
# The blob is written to the current directory.
# Lab: SRC=EDU_A DST=EDU_B
# Lab: SRC=MTTY_A DST=MTTY_B
# Lab-setup: [ ! -d "$DBG/$SRC" ] || { echo 6161 >"$DBG/$SRC/seed" && echo 7272 >"$DBG/$DST/seed"; }
# Lab-check: [ -d "$DBG/$SRC" ] || exit 77; [ "$(cat "$DBG/$DST/fingerprint")" = "$(cat "$DBG/$SRC/fingerprint")" ]
echo "migrating $SRC to $DST"
expect state $SRC running
state set $SRC stop-copy --explain
expect state $SRC stop-copy
# The batch holds $SRC: save reads the stream the set above opened.
save $SRC -o ./migrate.blob --then stop
expect state $SRC stop
blob inspect ./migrate.blob
load $DST -i ./migrate.blob --then running
expect state $DST running
# The source resumes, as after a cancelled migration.
state set $SRC running
expect state $SRC running
