# SPDX-License-Identifier: GPL-2.0-or-later
# A small TAP harness for the lab's guest tests (busybox ash): source it with `. /tests/lib.sh`.
#
# API (every check prints "ok N - description" or "not ok N - description",
# and on failure "#" diagnostics with the command, its exit status and the
# first lines of its stdout and stderr):
#   run CMD...              run CMD (stdin /dev/null); sets OUT, ERR (text),
#                           OUT_FILE, ERR_FILE (exact bytes), RC, CMD; never aborts
#   run_stdin FILE CMD...   the same with stdin from FILE
#   check_rc N DESC         the last run exited with N
#   check_out REGEX DESC    grep -E REGEX matches the last run's stdout
#   check_out_not REGEX DESC   ... does not match
#   check_err REGEX DESC    grep -E REGEX matches the last run's stderr
#   check_err_not REGEX DESC   ... does not match
#   check DESC CMD...       ok when CMD exits 0; its output is captured for the
#                           diagnostics only: OUT, ERR, RC of the last run stay
#   is GOT EXPECTED DESC    string equality
#   like GOT REGEX DESC     grep -E REGEX matches GOT
#   pass DESC / fail DESC [DIAG...]   record a result computed by the test itself
#   skip REASON DESC        record a skipped check ("ok N - DESC # SKIP REASON")
#   skip_all REASON         skip the whole file now ("1..0 # SKIP REASON"), exit 0
#   diag MSG...             print "# MSG" lines
#   kver_ge MAJOR MINOR     true when the running kernel is at least MAJOR.MINOR
#   kconfig_has NAME        true when the kernel was built with CONFIG_NAME (y or m):
#                           a feature it has must work, one it lacks may skip
#   poll_until SECONDS CMD...  run CMD every 0.1 s until it succeeds; false after SECONDS
#   driver_of BDF           name of the driver bound to a PCI device (empty if none)
#   iommu_group_of DEV      IOMMU group number of a PCI BDF or an mdev UUID
#   done_testing            print the plan "1..N" and exit 1 if any check failed
#
# busybox ash runs its own applets before it searches PATH, even when a
# real program of the same name is installed: call such programs by path.
# The lab adds /usr/bin/jq and /usr/bin/setpriv (util-linux's, which has
# --reuid; busybox's has not); `setpriv` below is a function for that one.
# A user "lab" (uid/gid 1000) exists for privilege-drop tests.
#
# Counters are global to the file, so checks must run in the file's main
# shell, not in a pipeline or $(...) subshell, or their results are lost.

_T_N=0
_T_FAIL=0
_T_TMP=$(mktemp -d /tmp/lib.XXXXXX)
OUT= ERR= RC= CMD=
OUT_FILE=$_T_TMP/out
ERR_FILE=$_T_TMP/err
: >"$OUT_FILE"
: >"$ERR_FILE"

# How many lines of stdout/stderr a failure shows.
LIB_DIAG_LINES=${LIB_DIAG_LINES:-10}

# A '#' in a description would start a TAP directive: escape it.
_t_desc() {
	printf '%s' "$*" | sed 's/#/\\#/g' | tr '\n' ' '
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Diagnostics about a command: _t_diag CMD RC OUT_FILE ERR_FILE
_t_diag() {
	diag "command: $1" "rc: $2"
	if [ -s "$3" ]; then
		diag "stdout (first $LIB_DIAG_LINES lines):"
		head -n "$LIB_DIAG_LINES" "$3" | sed 's/^/#   /'
	else
		diag "stdout: (empty)"
	fi
	if [ -s "$4" ]; then
		diag "stderr (first $LIB_DIAG_LINES lines):"
		head -n "$LIB_DIAG_LINES" "$4" | sed 's/^/#   /'
	else
		diag "stderr: (empty)"
	fi
}

# ... about the last `run`.
_t_diag_run() {
	[ -n "$CMD" ] || return 0
	_t_diag "$CMD" "$RC" "$OUT_FILE" "$ERR_FILE"
}

pass() {
	_T_N=$((_T_N + 1))
	echo "ok $_T_N - $(_t_desc "$1")"
	return 0
}

# fail DESC [DIAG...]: the extra arguments are printed as diagnostics.
fail() {
	_T_N=$((_T_N + 1))
	_T_FAIL=$((_T_FAIL + 1))
	echo "not ok $_T_N - $(_t_desc "$1")"
	shift
	[ $# -eq 0 ] || diag "$@"
	# Never let a failure abort a caller running under `set -e`.
	return 0
}

skip() {
	_T_N=$((_T_N + 1))
	echo "ok $_T_N - $(_t_desc "$2") # SKIP $(_t_desc "$1")"
}

skip_all() {
	echo "1..0 # SKIP $(_t_desc "$1")"
	rm -rf "$_T_TMP"
	exit 0
}

# _t_exec STDOUT STDERR STDIN CMD...: runs CMD, its status in _T_RC, never aborts.
_t_exec() {
	_T_O=$1 _T_E=$2 _T_I=$3
	shift 3
	_T_RC=0
	"$@" >"$_T_O" 2>"$_T_E" <"$_T_I" || _T_RC=$?
	return 0
}

# shellcheck disable=SC2034 # OUT and ERR are for the tests that source us
_t_run() {
	CMD=$*
	_t_exec "$OUT_FILE" "$ERR_FILE" "$_T_IN" "$@"
	RC=$_T_RC
	OUT=$(cat "$OUT_FILE")
	ERR=$(cat "$ERR_FILE")
	return 0
}

run() {
	_T_IN=/dev/null
	_t_run "$@"
}

run_stdin() {
	_T_IN=$1
	shift
	_t_run "$@"
}

check_rc() {
	if [ "$RC" = "$1" ]; then
		pass "$2"
	else
		fail "$2" "expected rc $1, got $RC"
		_t_diag_run
	fi
}

check_out() {
	if grep -Eq -- "$1" "$OUT_FILE"; then
		pass "$2"
	else
		fail "$2" "stdout does not match /$1/"
		_t_diag_run
	fi
}

check_out_not() {
	if grep -Eq -- "$1" "$OUT_FILE"; then
		fail "$2" "stdout matches /$1/"
		_t_diag_run
	else
		pass "$2"
	fi
}

check_err() {
	if grep -Eq -- "$1" "$ERR_FILE"; then
		pass "$2"
	else
		fail "$2" "stderr does not match /$1/"
		_t_diag_run
	fi
}

check_err_not() {
	if grep -Eq -- "$1" "$ERR_FILE"; then
		fail "$2" "stderr matches /$1/"
		_t_diag_run
	else
		pass "$2"
	fi
}

# Leaves OUT, ERR, RC and CMD of the last `run` alone, so several checks
# can look at one run's output: check "..." sh -c '... "$1"' sh "$OUT"
check() {
	_c_desc=$1
	shift
	_t_exec "$_T_TMP/check.out" "$_T_TMP/check.err" /dev/null "$@"
	if [ "$_T_RC" = 0 ]; then
		pass "$_c_desc"
	else
		fail "$_c_desc"
		_t_diag "$*" "$_T_RC" "$_T_TMP/check.out" "$_T_TMP/check.err"
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:      '$1'" "expected: '$2'"
	fi
}

like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "got:      '$1'" "expected to match /$2/"
	fi
}

setpriv() {
	/usr/bin/setpriv "$@"
}

kver_ge() {
	_k=$(uname -r)
	_kmaj=${_k%%.*}
	_k=${_k#*.}
	_kmin=${_k%%[!0-9]*}
	[ "$_kmaj" -gt "$1" ] || { [ "$_kmaj" -eq "$1" ] && [ "$_kmin" -ge "$2" ]; }
}

poll_until() {
	_pu_n=$(($1 * 10))
	shift
	while [ "$_pu_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_pu_n=$((_pu_n - 1))
	done
	return 1
}

# The host puts the kernel's .config at /boot/config-$(uname -r) (KCONFIG).
kconfig_has() {
	grep -Eq "^CONFIG_$1=[ym]\$" "${KCONFIG:-/boot/config-$(uname -r)}" 2>/dev/null
}

driver_of() {
	_d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	echo "${_d##*/}"
}

iommu_group_of() {
	for _p in "/sys/bus/pci/devices/$1" "/sys/bus/mdev/devices/$1"; do
		if [ -e "$_p/iommu_group" ]; then
			_g=$(readlink "$_p/iommu_group")
			echo "${_g##*/}"
			return 0
		fi
	done
	return 1
}

done_testing() {
	echo "1..$_T_N"
	rm -rf "$_T_TMP"
	[ "$_T_FAIL" -eq 0 ] || exit 1
	exit 0
}
