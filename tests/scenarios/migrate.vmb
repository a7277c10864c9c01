# A full migration cycle between two devices, in one vfiomig process.
# Run: SRC=0000:3b:00.2 DST=0000:3c:00.1 vfiomig batch migrate.vmb
# DIR (optional): where the blob goes; the current directory by default.
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
