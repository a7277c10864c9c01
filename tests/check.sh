#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check`: install what is missing, build warning-free, run unit, consistency and lab tests, timing each stage.
set -uo pipefail

cd "$(dirname "$0")/.."
start=$(date +%s)
failed=()

stage() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	echo "=== stage $name"
	"$@"
	rc=$?
	echo "=== stage $name: $([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $(($(date +%s) - t0)) s"
	[ $rc -eq 0 ] || failed+=("$name")
	return $rc
}

stage deps tests/deps.sh || exit 1
# -Werror here, not in a user's build: CI holds the tree to zero warnings.
stage build make --no-print-directory WERROR=1 all || exit 1
stage unit make --no-print-directory WERROR=1 unit
stage consistency tests/consistency.sh
stage lab make --no-print-directory lab

echo "=== make check: $(($(date +%s) - start)) s in all"
if [ ${#failed[@]} -gt 0 ]; then
	echo "=== FAILED stages: ${failed[*]}"
	exit 1
fi
echo "=== all stages passed"
