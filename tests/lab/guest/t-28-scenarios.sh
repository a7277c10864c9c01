#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every scenario file in tests/scenarios/, run as a support engineer would run it, against the lab's devices that its header names.
#
# A scenario's header (comment lines) says how to run it, for people and for
# this file, which needs nothing else to run a new one:
#   # Run: VAR=VALUE ... vfiomig batch FILE   how to run it by hand (required)
#   # Lab: VAR=LABVAR ...        one run in the lab, each VAR set to the value of
#                                /run/lab.env's LABVAR (EDU_A, E1000E, MTTY_A, ...);
#                                a run whose LABVAR is empty on this kernel is skipped.
#                                Several Lab lines make several runs (required)
#   # Lab-if: SHELL-CONDITION    every run needs it (lib.sh's kver_ge and
#                                kconfig_has work here); else the file is skipped
#   # Lab-exit: N                the batch's exit status (default 0)
#   # Lab-setup: SHELL-COMMAND   before each run, with the run's variables set
#   # Lab-check: SHELL-CONDITION after each run, a check of its own (the device's
#                                state as its driver shows it, a file the run wrote;
#                                batch.out and batch.err hold the batch's output);
#                                exit 77 says it does not apply to this run (a skip)
#   # Lab-cleanup: SHELL-COMMAND after each run, whatever happened
. /tests/lib.sh
V=$VFIOMIG
S=/tests/scenarios
[ -d "$S" ] || skip_all "no scenarios in the initramfs"

# header FILE KEY: the values of the file's "# KEY: " lines, one per line.
header() { sed -n "s/^# $2: *//p" "$1"; }

# Runs the shell code on stdin, line by line, with the run's variables
# exported; stops at the first line that fails, and says which.
each_line() {
	while IFS= read -r _l; do
		[ -n "$_l" ] || continue
		(if [ -n "$vars" ]; then export $vars; fi; eval "$_l") || { echo "$_l"; return 1; }
	done
}

nfiles=0
for f in "$S"/*.vmb; do
	[ -e "$f" ] || continue
	nfiles=$((nfiles + 1))
	name=${f##*/}
	if ! grep -q '^# Run: .*vfiomig batch' "$f"; then
		fail "$name says how to run it by hand ('# Run:' line)"
	fi
	header "$f" Lab >"$name.runs"
	if [ ! -s "$name.runs" ]; then
		fail "$name says how the lab runs it ('# Lab:' line)"
		continue
	fi
	vars=
	header "$f" Lab-if >"$name.if"
	if why=$(each_line <"$name.if"); then :; else
		skip "needs: $why" "$name"
		continue
	fi
	want=$(header "$f" Lab-exit | tail -n 1)
	header "$f" Lab-setup >"$name.setup"
	header "$f" Lab-check >"$name.check"
	header "$f" Lab-cleanup >"$name.cleanup"
	while read -r spec; do
		vars= missing=
		for pair in $spec; do
			eval "val=\${${pair#*=}-}"
			[ -n "$val" ] || missing="$missing ${pair#*=}"
			vars="$vars ${pair%%=*}=$val"
		done
		if [ -n "$missing" ]; then
			skip "empty on $KVER:$missing" "$name ($spec)"
			continue
		fi
		if bad=$(each_line <"$name.setup"); then :; else
			fail "$name ($spec): set-up" "failed: $bad"
			continue
		fi
		# shellcheck disable=SC2086 # VAR=VALUE words
		run env $vars $V batch "$f"
		cp "$OUT_FILE" batch.out
		cp "$ERR_FILE" batch.err
		check_rc "${want:-0}" "$name ($spec): the batch exits ${want:-0}"
		while IFS= read -r cond; do
			[ -n "$cond" ] || continue
			rc=0
			# shellcheck disable=SC2086
			env $vars sh -c "$cond" >check.out 2>&1 || rc=$?
			if [ $rc = 0 ]; then
				pass "$name ($spec): $cond"
			elif [ $rc = 77 ]; then
				skip "does not apply to this run" "$name ($spec): $cond"
			else
				fail "$name ($spec): $cond" "exit status $rc" "$(cat check.out)"
			fi
		done <"$name.check"
		each_line <"$name.cleanup" >/dev/null
	done <"$name.runs"
done
check "there are scenario files ($nfiles)" test "$nfiles" -gt 0
done_testing
