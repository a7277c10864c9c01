#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every /tests/t-*.sh in order inside the lab guest and prints TAP per file plus per-file and overall counts.
#
# Usage: run-tests.sh [GLOB...]   (default: t-*.sh; e.g. 't-1*' runs a subset)
# Env: LAB_TEST_TIMEOUT  seconds one file may take (default 600) before it and
#      everything it started are killed and counted as a failure, so one hung
#      test cannot eat the whole boot's time budget.

TESTS_DIR=${TESTS_DIR:-/tests}
ENV_FILE=${ENV_FILE:-/run/lab.env}
LAB_TEST_TIMEOUT=${LAB_TEST_TIMEOUT:-600}

[ $# -gt 0 ] || set -- 't-*.sh'

# Expand the globs relative to the tests directory, in order, without duplicates.
files=$(
	cd "$TESTS_DIR" || exit 1
	for g in "$@"; do
		for f in $g; do
			[ -f "$f" ] && echo "$f"
		done
	done | sort -u
)

total_pass=0
total_fail=0
total_skip=0
nfiles=0
bad_files=

for f in $files; do
	nfiles=$((nfiles + 1))
	log=/tmp/run-tests.$f.log
	work=/tmp/work.$f
	rm -rf "$work"
	mkdir -p "$work"
	echo "# ---- $f"
	t0=$(date +%s)
	# A subshell per file: the file sees /run/lab.env, its own working
	# directory, and cannot disturb the runner or the next file. setsid puts
	# it in its own process group, so a timeout kills everything it started
	# (a stray child would otherwise keep tee's pipe open). Its status goes
	# through a file because a pipeline only reports tee's.
	rm -f "$log.rc" "$log.timeout"
	{
		(
			set -a
			. "$ENV_FILE"
			set +a
			cd "$work" || exit 99
			exec setsid sh "$TESTS_DIR/$f" </dev/null 2>&1
		) &
		pid=$!
		(
			trap 'kill $s 2>/dev/null; exit 0' TERM
			sleep "$LAB_TEST_TIMEOUT" &
			s=$!
			wait $s
			: >"$log.timeout"
			kill -TERM -- "-$pid"
			sleep 2
			kill -KILL -- "-$pid"
		) >/dev/null 2>&1 &
		wd=$!
		wait $pid
		echo $? >"$log.rc"
		kill $wd 2>/dev/null
		# Whatever the file left running goes with it.
		kill -KILL -- "-$pid" 2>/dev/null
	} | tee "$log"
	rc=$(cat "$log.rc")
	t1=$(date +%s)

	p=$(grep -E '^ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
	s=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$log")
	n=$(grep -cE '^not ok [0-9]+' "$log")
	checks=$((p + s + n))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)

	# Turn the ways a file can end badly into failed checks, so the host,
	# which only counts TAP lines, cannot miss them.
	why=
	if [ -e "$log.timeout" ]; then
		why="killed after ${LAB_TEST_TIMEOUT}s (LAB_TEST_TIMEOUT)"
	elif [ -z "$plan" ]; then
		why="ended without a plan (done_testing not reached), rc $rc"
	elif [ "$plan" != "$checks" ]; then
		why="planned $plan checks, ran $checks"
	elif [ "$rc" != 0 ] && [ "$n" = 0 ]; then
		why="exited with rc $rc but no check failed"
	fi
	if [ -n "$why" ]; then
		n=$((n + 1))
		echo "not ok $((checks + 1)) - $f: $why"
	fi

	# A file that skipped itself whole counts as one skip, so it shows.
	if [ "$plan" = 0 ] && grep -qE '^1\.\.0 # SKIP' "$log"; then
		s=$((s + 1))
	fi

	[ "$n" = 0 ] || bad_files="$bad_files $f"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + n))
	total_skip=$((total_skip + s))
	echo "# $f: $p passed, $n failed, $s skipped ($((t1 - t0)) s)"
done

if [ "$nfiles" = 0 ]; then
	echo "not ok 1 - no test file matches: $*"
	total_fail=1
fi

echo "# ---- summary: $nfiles files"
[ -z "$bad_files" ] || echo "# files with failures:$bad_files"
echo "LAB: tests done: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
