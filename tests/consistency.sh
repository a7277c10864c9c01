#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host-side tests that need no device: the man page, the bash completion and --help agree with the command table, and usage errors, JSON errors and blob checks behave as documented.
#
# Usage: tests/consistency.sh   (VFIOMIG=path overrides build/vfiomig)
# Prints TAP ("ok N - ...", "not ok N - ...", the plan) and ends with a line
# "N passed, N failed"; exits 1 if anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VFIOMIG=${VFIOMIG:-$ROOT/build/vfiomig}
MAN=$ROOT/man/vfiomig.8
COMPLETION=$ROOT/bash-completion/vfiomig
HEADER=$ROOT/vfiomig/vfiomig.h
# An address no host has: domain 0, the last device and function of bus ff.
ABSENT=0000:ff:1f.7

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vfiomig-consistency.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

N=0
PASSED=0
FAILED=0

# A '#' in a description would start a TAP directive.
desc() { printf '%s' "$*" | tr '\n' ' ' | sed 's/#/\\#/g'; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
pass() {
	N=$((N + 1))
	PASSED=$((PASSED + 1))
	echo "ok $N - $(desc "$1")"
}
# fail DESC [DIAG...]
fail() {
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - $(desc "$1")"
	shift
	(($# == 0)) || diag "$@"
}
skip() {
	N=$((N + 1))
	PASSED=$((PASSED + 1))
	echo "ok $N - $(desc "$1") # SKIP $2"
}
# check DESC CONDITION-COMMAND... : ok when the command succeeds.
check() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d" "failed: $*"; fi
}

# run ARGS...: runs vfiomig with stdin from /dev/null; sets RC and ERR, leaves OUT_FILE and ERR_FILE.
OUT_FILE=$TMP/out
ERR_FILE=$TMP/err
RC=0 ERR='' CMD=''
run() {
	CMD="vfiomig $*"
	"$VFIOMIG" "$@" </dev/null >"$OUT_FILE" 2>"$ERR_FILE"
	RC=$?
	ERR=$(cat "$ERR_FILE")
}
run_diag() {
	diag "command: $CMD" "exit status: $RC" "stdout: $(head -c 600 "$OUT_FILE")" \
		"stderr: $(head -c 600 "$ERR_FILE")"
}
# expect DESC RC [STDERR-REGEX]: the last run exited with RC and its stderr matches.
expect() {
	local d=$1 rc=$2 re=${3-}

	if [[ $RC != "$rc" ]]; then
		fail "$d" "expected exit status $rc" && run_diag
	elif [[ -n $re ]] && ! grep -Eq -- "$re" "$ERR_FILE"; then
		fail "$d" "stderr does not match /$re/" && run_diag
	else
		pass "$d"
	fi
}
# usage_error DESC STDERR-REGEX ARGS...: exit 2, a message on stderr, nothing on stdout.
usage_error() {
	local d=$1 re=$2
	shift 2

	run "$@"
	if [[ $RC != 2 ]]; then
		fail "$d: exits 2" && run_diag
	elif [[ -s $OUT_FILE ]]; then
		fail "$d: nothing on stdout" && run_diag
	elif ! head -n1 "$ERR_FILE" | grep -q '^vfiomig: ' || ! grep -Eq -- "$re" "$ERR_FILE"; then
		fail "$d: stderr says /$re/" && run_diag
	else
		pass "$d: exits 2 with '$(head -n1 "$ERR_FILE")'"
	fi
}

# The man page with roff escapes and fonts removed, for searching.
man_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\(dq/"/g' \
		-e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\%//g' "$MAN"
}
# The lines of section NAME (.SH NAME up to the next .SH).
man_section() {
	man_text | awk -v name="$1" '
		/^\.SH / { s = $0; sub(/^\.SH +/, "", s); gsub(/"/, "", s); on = (s == name); next }
		on'
}
# The lines of the COMMANDS subsection of PATH (".SS PATH ..." up to the next .SS or .SH).
man_command() {
	man_section COMMANDS | awk -v path="$1" '
		/^\.S[SH] / { s = $0; sub(/^\.SS +/, "", s); gsub(/"/, "", s)
			on = (s == path || index(s, path " ") == 1); next }
		on'
}

if [[ ! -x $VFIOMIG ]]; then
	echo "Bail out! $VFIOMIG is not built (run make)"
	exit 1
fi

# ---------------------------------------------------------------- the table
TABLE=$("$VFIOMIG" help --commands 2>"$ERR_FILE")
rc=$?
if [[ $rc == 0 && -n $TABLE ]]; then
	pass "'help --commands' prints the command table"
else
	fail "'help --commands' prints the command table" "exit status $rc"
	echo "Bail out! no command table"
	exit 1
fi
bad=$(awk -F'\t' 'NF != 3' <<<"$TABLE")
if [[ -z $bad ]]; then
	pass "every table line has three tab-separated fields"
else
	fail "every table line has three tab-separated fields" "$bad"
fi

# Paths, option fields and argument fields, one entry per command.
PATHS=() OPTFIELDS=() ARGFIELDS=()
while IFS= read -r line; do
	PATHS+=("${line%%$'\t'*}")
	rest=${line#*$'\t'}
	OPTFIELDS+=("${rest%%$'\t'*}")
	ARGFIELDS+=("${rest#*$'\t'}")
done <<<"$TABLE"

# The argument field of command PATH.
args_of() {
	local j
	for j in "${!PATHS[@]}"; do
		[[ ${PATHS[j]} == "$1" ]] && printf '%s\n' "${ARGFIELDS[j]}"
	done
}

run --help
missing=()
for p in "${PATHS[@]}"; do
	grep -Eq "^  $p( |$)" "$OUT_FILE" || missing+=("$p")
done
if [[ $RC == 0 && ${#missing[@]} == 0 ]]; then
	pass "'vfiomig --help' lists every command of the table"
else
	fail "'vfiomig --help' lists every command of the table" "missing: ${missing[*]}"
fi

# ---------------------------------------------------------------- man page
if [[ -r $MAN ]]; then
	pass "man/vfiomig.8 exists"
else
	fail "man/vfiomig.8 exists"
fi
MAN_SYNOPSIS=$(man_section SYNOPSIS)

for i in "${!PATHS[@]}"; do
	p=${PATHS[i]}
	sub=$(man_command "$p")
	if [[ -n $sub ]]; then
		pass "man page has a COMMANDS subsection for '$p'"
	else
		fail "man page has a COMMANDS subsection for '$p'"
	fi
	if grep -Fq -- "$p" <<<"$MAN_SYNOPSIS"; then
		pass "man page SYNOPSIS shows '$p'"
	else
		fail "man page SYNOPSIS shows '$p'"
	fi
	# The options of the table, and those only the synopsis names (help's --commands).
	read -ra opts <<<"${OPTFIELDS[i]}"
	a=${ARGFIELDS[i]}
	read -ra toks <<<"${a//[][|]/ }"
	for t in "${toks[@]}"; do
		[[ $t == --* && " ${opts[*]} " != *" $t "* && " ${opts[*]} " != *" $t= "* ]] && opts+=("$t")
	done
	for o in "${opts[@]}"; do
		o=${o%=}
		if grep -Eq -- "(^|[^-[:alnum:]])$o([^-[:alnum:]]|$)" <<<"$sub"; then
			pass "man page documents '$p $o' in its subsection"
		else
			fail "man page documents '$p $o' in its subsection"
		fi
	done
done

# Global options, as the top-level help lists them.
run --help
mapfile -t GLOBAL_OPTS < <(grep -Eo -- '^ +(-[[:alnum:]], )?--[a-z-]+' "$OUT_FILE" | grep -Eo -- '-[-[:alnum:]]+')
if ((${#GLOBAL_OPTS[@]} >= 7)); then
	pass "'vfiomig --help' lists the global options (${GLOBAL_OPTS[*]})"
else
	fail "'vfiomig --help' lists the global options" "found: ${GLOBAL_OPTS[*]}"
fi
MAN_OPTIONS=$(man_section OPTIONS)
for o in "${GLOBAL_OPTS[@]}"; do
	if grep -Eq -- "(^|[^-[:alnum:]])$o([^-[:alnum:]]|$)" <<<"$MAN_OPTIONS"; then
		pass "man page OPTIONS documents global option $o"
	else
		fail "man page OPTIONS documents global option $o"
	fi
done

# Every exit status of enum vm_exit, in EXIT STATUS.
mapfile -t STATUSES < <(sed -n 's/^[[:space:]]*VM_EXIT_[A-Z_]*[[:space:]]*=[[:space:]]*\([0-9]\+\).*/\1/p' "$HEADER")
if ((${#STATUSES[@]} > 0)); then
	pass "vfiomig.h defines exit statuses ${STATUSES[*]}"
else
	fail "vfiomig.h defines exit statuses" "no VM_EXIT_* = N found in $HEADER"
fi
MAN_EXIT=$(man_section "EXIT STATUS")
for s in "${STATUSES[@]}"; do
	if grep -Eq -- "^\.B $s\$" <<<"$MAN_EXIT"; then
		pass "man page EXIT STATUS documents status $s"
	else
		fail "man page EXIT STATUS documents status $s"
	fi
done
for sec in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS STATES "BLOB FORMAT" "JSON OUTPUT" \
	"EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
	if [[ -n $(man_section "$sec") ]]; then
		pass "man page has section $sec"
	else
		fail "man page has section $sec"
	fi
done

# It renders without warnings.
if command -v groff >/dev/null; then
	warn=$(groff -t -man -Tutf8 -ww "$MAN" 2>&1 >/dev/null)
	if [[ -z $warn ]]; then pass "groff -t -man -ww renders the man page without warnings"; else
		fail "groff -t -man -ww renders the man page without warnings" "$warn"; fi
else
	skip "groff renders the man page without warnings" "groff is not installed"
fi
if command -v man >/dev/null && man --help 2>&1 | grep -q -- --warnings; then
	warn=$(MANWIDTH=80 man -l --warnings -E UTF-8 "$MAN" 2>&1 >/dev/null)
	if [[ -z $warn ]]; then pass "man -l --warnings renders the man page without warnings at 80 columns"; else
		fail "man -l --warnings renders the man page without warnings at 80 columns" "$warn"; fi
else
	skip "man -l --warnings renders the man page" "man-db is not installed"
fi

# ---------------------------------------------------------------- --help and help
for p in "${PATHS[@]}"; do
	read -ra words <<<"$p"
	a=$(args_of "$p")
	run "${words[@]}" --help
	if [[ $RC == 0 && -z $ERR ]] && head -n1 "$OUT_FILE" | grep -Fxq -- "Usage: vfiomig [OPTIONS] $p${a:+ $a}"; then
		pass "'$p --help' exits 0 and prints its Usage line"
	else
		fail "'$p --help' exits 0 and prints its Usage line" && run_diag
	fi
	cp "$OUT_FILE" "$TMP/help-opt"
	run help "${words[@]}"
	if [[ $RC == 0 && -z $ERR ]] && cmp -s "$OUT_FILE" "$TMP/help-opt"; then
		pass "'help $p' exits 0 and prints what '$p --help' prints"
	else
		fail "'help $p' exits 0 and prints what '$p --help' prints" && run_diag
	fi
	run "${words[@]}" -h
	if [[ $RC == 0 ]] && cmp -s "$OUT_FILE" "$TMP/help-opt"; then
		pass "'$p -h' prints the same help"
	else
		fail "'$p -h' prints the same help" && run_diag
	fi
done
for i in "${!PATHS[@]}"; do
	read -ra opts <<<"${OPTFIELDS[i]}"
	read -ra words <<<"${PATHS[i]}"
	run "${words[@]}" --help
	for o in "${opts[@]}"; do
		[[ $o == --* ]] || continue
		o=${o%=}
		if grep -Fq -- "$o" "$OUT_FILE"; then
			pass "'${PATHS[i]} --help' explains $o"
		else
			fail "'${PATHS[i]} --help' explains $o" && run_diag
		fi
	done
done
# Command groups have help too.
for g in $(printf '%s\n' "${PATHS[@]}" | awk 'NF > 1 { print $1 }' | sort -u); do
	run "$g" --help
	if [[ $RC == 0 ]] && grep -q '^Usage: ' "$OUT_FILE"; then pass "'$g --help' exits 0 with a Usage line"; else
		fail "'$g --help' exits 0 with a Usage line" && run_diag; fi
	run help "$g"
	expect "'help $g' exits 0" 0
done
run help
if [[ $RC == 0 ]] && grep -q '^Usage: vfiomig' "$OUT_FILE"; then pass "'help' alone prints the main usage"; else
	fail "'help' alone prints the main usage" && run_diag; fi
run --version
if [[ $RC == 0 ]] && grep -Eq '^vfiomig [0-9]' "$OUT_FILE"; then pass "'--version' prints the version"; else
	fail "'--version' prints the version" && run_diag; fi

# ---------------------------------------------------------------- bash completion
check "the bash completion parses (bash -n)" bash -n "$COMPLETION"
if command -v shellcheck >/dev/null; then
	sc=$(shellcheck -s bash "$COMPLETION" 2>&1)
	if [[ -z $sc ]]; then pass "the bash completion is shellcheck-clean"; else
		fail "the bash completion is shellcheck-clean" "$sc"; fi
else
	skip "the bash completion is shellcheck-clean" "shellcheck is not installed"
fi

# The completion runs `vfiomig help --commands`: give it our build, through a
# wrapper that counts the calls, to see that the table is cached.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/vfiomig" <<EOF
#!/bin/sh
echo "\$*" >>"$TMP/calls"
exec "$VFIOMIG" "\$@"
EOF
chmod +x "$TMP/bin/vfiomig"
: >"$TMP/calls"

# A fake sysfs and /dev for device completion.
F=$TMP/root
mkdir -p "$F/sys/devices/pci0000:00" "$F/sys/bus/pci/devices" "$F/sys/bus/mdev/devices" \
	"$F/dev/vfio/devices"
for d in 0000:3b:00.2 0000:3b:00.3 0000:3c:00.0 0001:00:01.0 0000:3d:00.0; do
	mkdir -p "$F/sys/devices/pci0000:00/$d"
	ln -s "../../../devices/pci0000:00/$d" "$F/sys/bus/pci/devices/$d"
done
for pair in vfio-pci:0000:3b:00.2 mlx5_vfio_pci:0000:3b:00.3 virtio-pci:0000:3c:00.0 \
	ixgbe:0001:00:01.0; do
	drv=${pair%%:*} d=${pair#*:}
	mkdir -p "$F/sys/bus/pci/drivers/$drv"
	: >"$F/sys/bus/pci/drivers/$drv/bind"
	ln -s "../../../../devices/pci0000:00/$d" "$F/sys/bus/pci/drivers/$drv/$d"
	ln -s "../../../bus/pci/drivers/$drv" "$F/sys/devices/pci0000:00/$d/driver"
done
# 0001:00:01.0's driver is not named vfio, but the kernel made a VFIO cdev for it.
mkdir -p "$F/sys/devices/pci0000:00/0001:00:01.0/vfio-dev/vfio1"
mkdir -p "$F/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
: >"$F/dev/vfio/devices/vfio0"
: >"$F/dev/vfio/devices/vfio1"
: >"$TMP/save-target.blob"
: >"$TMP/save-other.blob"

# complete WORD... : runs the completion for that command line (the cursor on
# the last word) in a subshell and prints COMPREPLY, one per line, sorted.
complete_line() {
	(
		export PATH=$TMP/bin:$PATH VFIOMIG_COMPLETION_ROOT=$F
		# shellcheck disable=SC1090
		. "$COMPLETION" || exit 1
		_vfiomig_cache=$CACHE _vfiomig_cache_bin=$CACHE_BIN
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		# Bash's line has no blanks around the ':' and '=' it split at.
		COMP_LINE=''
		local w prev=''
		for w in "$@"; do
			if [[ -z $COMP_LINE || $w =~ ^[:=]+$ || $prev =~ ^[:=]+$ ]]; then
				COMP_LINE+=$w
			else
				COMP_LINE+=" $w"
			fi
			prev=$w
		done
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_vfiomig 2>/dev/null
		printf '%s\n' "${COMPREPLY[@]}" | sort
		# Hand the cache back to the parent through a file.
		printf '%s' "$_vfiomig_cache" >"$TMP/cache"
		printf '%s' "$_vfiomig_cache_bin" >"$TMP/cache-bin"
	)
}
CACHE='' CACHE_BIN=''
# expect_completion DESC WANT-EXACT|WANT-SUBSET "EXPECTED WORDS" WORD...
expect_completion() {
	local d=$1 mode=$2 want=$3 got w missing=()
	shift 3

	got=$(complete_line "$@")
	CACHE=$(cat "$TMP/cache") CACHE_BIN=$(cat "$TMP/cache-bin")
	if [[ $mode == exact ]]; then
		if [[ $got == "$(tr ' ' '\n' <<<"$want" | grep . | sort)" ]]; then pass "$d"; else
			fail "$d" "line: $*" "expected: $want" "got: $(tr '\n' ' ' <<<"$got")"; fi
		return
	fi
	for w in $want; do
		grep -Fxq -- "$w" <<<"$got" || missing+=("$w")
	done
	if ((${#missing[@]} == 0)); then pass "$d"; else
		fail "$d" "line: $*" "missing: ${missing[*]}" "got: $(tr '\n' ' ' <<<"$got")"; fi
}

if bash -c '. "$1"' _ "$COMPLETION" 2>/dev/null; then
	pass "the bash completion can be sourced"
else
	fail "the bash completion can be sourced"
fi

TOP=$(printf '%s\n' "${PATHS[@]}" | awk '{ print $1 }' | awk '!seen[$0]++' | tr '\n' ' ')
expect_completion "completing 'vfiomig ' offers every command" exact "$TOP" vfiomig ""
if [[ $(wc -l <"$TMP/calls") == 1 && $(cat "$TMP/calls") == "help --commands" ]]; then
	pass "the completion asked 'vfiomig help --commands' once"
else
	fail "the completion asked 'vfiomig help --commands' once" "calls: $(tr '\n' ';' <"$TMP/calls")"
fi
expect_completion "completing 'vfiomig st' offers state" exact "state" vfiomig st
if [[ $(wc -l <"$TMP/calls") == 1 ]]; then
	pass "the command table is cached for the shell session"
else
	fail "the command table is cached for the shell session" "calls: $(tr '\n' ';' <"$TMP/calls")"
fi
expect_completion "completing 'vfiomig state s' offers set and size" exact "set size" vfiomig state s
expect_completion "completing 'vfiomig save x --th' offers --then" exact "--then" vfiomig save x --th
expect_completion "completing 'vfiomig state set DEV ' offers the states" subset \
	"stop running stop-copy resuming running-p2p pre-copy pre-copy-p2p" vfiomig state set DEV ""
expect_completion "completing 'vfiomig state set DEV ' offers more devices too" subset \
	"0000:3b:00.2 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" vfiomig state set DEV ""
expect_completion "completing 'vfiomig state set DEV stop ' offers its options" exact \
	"--explain --dry-run --no-p2p-barrier" vfiomig state set DEV stop ""
expect_completion "completing 'vfiomig state set DEV DEV stop ' offers options, not more devices" exact \
	"--explain --dry-run --no-p2p-barrier" vfiomig state set DEV DEV stop ""
expect_completion "completing 'vfiomig state set DEV DEV ' still offers the states" subset \
	"stop running stop-copy resuming running-p2p pre-copy pre-copy-p2p" vfiomig state set DEV DEV ""
expect_completion "completing after load --by offers position and identity" exact "position identity" \
	vfiomig load DEV --by ""
expect_completion "completing after --then offers stop and running" exact "stop running" \
	vfiomig save DEV --then ""
expect_completion "completing after load --then offers stop and running" exact "stop running" \
	vfiomig load DEV --force --then ""
expect_completion "completing '--then=r' (split at '=' by bash) offers running" exact "running" \
	vfiomig save DEV --then = r
expect_completion "completing after -o offers file names" subset "$TMP/save-target.blob $TMP/save-other.blob" \
	vfiomig save DEV -o "$TMP/save-"
expect_completion "completing after --output offers file names" exact "$TMP/save-target.blob" \
	vfiomig save DEV --output "$TMP/save-t"
expect_completion "completing after -i offers file names" exact "$TMP/save-target.blob" \
	vfiomig load DEV -i "$TMP/save-t"
expect_completion "completing after --input offers file names" exact "$TMP/save-target.blob" \
	vfiomig load DEV --input "$TMP/save-t"
expect_completion "completing 'blob inspect' offers file names" exact "$TMP/save-target.blob" \
	vfiomig blob inspect "$TMP/save-t"
expect_completion "completing 'blob pack' offers file names for the stream" exact "$TMP/save-target.blob" \
	vfiomig blob pack "$TMP/save-t"
expect_completion "completing 'blob unpack -o' offers file names" exact "$TMP/save-target.blob" \
	vfiomig blob unpack x.blob -o "$TMP/save-t"
expect_completion "completing 'blob pack --source' offers devices" exact \
	"0000:3b:00.2 0000:3b:00.3 0001:00:01.0 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" vfiomig blob pack --source ""
expect_completion "completing 'blob pack --migration-flags stop-copy,p' offers the p2p sets" exact \
	"stop-copy,p2p stop-copy,p2p,pre-copy stop-copy,pre-copy" vfiomig blob pack --migration-flags stop-copy,p
expect_completion "completing after 'blob unpack --member' offers nothing" exact "" vfiomig blob unpack --member ""
expect_completion "completing global options" exact \
	"-j --json -p --pretty -v --verbose --iommufd --legacy -b --batch -V --version -h --help" vfiomig -
expect_completion "completing after -b offers file names" exact "$TMP/save-target.blob" \
	vfiomig -b "$TMP/save-t"
expect_completion "completing after --batch offers file names" exact "$TMP/save-target.blob" \
	vfiomig -j --batch "$TMP/save-t"
expect_completion "nothing follows -b FILE" exact "" vfiomig -b "$TMP/save-target.blob" ""
for o in "${GLOBAL_OPTS[@]}"; do
	expect_completion "global option $o completes" subset "$o" vfiomig "${o:0:3}"
done
expect_completion "commands complete after global options" exact "state" vfiomig -j --legacy st
expect_completion "'help ' offers the commands" exact "$TOP" vfiomig help ""
expect_completion "'help state ' offers its subcommands" exact "get set size" vfiomig help state ""
expect_completion "'help --c' offers --commands" exact "--commands" vfiomig help --c
expect_completion "an unknown command completes nothing" exact "" vfiomig bogus ""

# Every command, subcommand and option of the table completes.
seen=' '
for i in "${!PATHS[@]}"; do
	read -ra words <<<"${PATHS[i]}"
	if [[ $seen != *" ${words[0]} "* ]]; then
		seen+="${words[0]} "
		expect_completion "'${words[0]:0:2}' completes to command ${words[0]}" subset "${words[0]}" \
			vfiomig "${words[0]:0:2}"
	fi
	if ((${#words[@]} > 1)); then
		expect_completion "'${words[0]} ${words[1]:0:1}' completes to ${PATHS[i]}" subset "${words[1]}" \
			vfiomig "${words[0]}" "${words[1]:0:1}"
	fi
	read -ra opts <<<"${OPTFIELDS[i]//=/}"
	if ((${#opts[@]})); then
		expect_completion "'${PATHS[i]} -' offers all its options" subset "${opts[*]}" \
			vfiomig "${words[@]}" -
	fi
done

# Device addresses from the fake sysfs.
expect_completion "devices: PCI functions bound to a VFIO driver, those with a VFIO cdev, and mdevs" exact \
	"0000:3b:00.2 0000:3b:00.3 0001:00:01.0 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" vfiomig info ""
expect_completion "devices: 'state get 0000:3b' (split at ':' by bash) offers the rest" exact \
	"3b:00.2 3b:00.3" vfiomig state get 0000 : 3b
expect_completion "devices: a short BDF completes too" exact "00.2 00.3" vfiomig save 3b : 00
expect_completion "devices: an mdev UUID completes" exact "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" \
	vfiomig reset 83
expect_completion "devices: 'open' takes more than one device" exact \
	"0000:3b:00.2 0000:3b:00.3 0001:00:01.0 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" vfiomig open 0000:3b:00.3 ""
expect_completion "devices: 'close' takes one" exact "" vfiomig close 0000:3b:00.3 ""
expect_completion "devices: /dev/vfio/devices/vfio* complete" exact \
	"/dev/vfio/devices/vfio0 /dev/vfio/devices/vfio1" vfiomig state set /dev/v
expect_completion "devices: state names follow a device given as a cdev" subset "stop-copy" \
	vfiomig state set /dev/vfio/devices/vfio0 stop-
# devlink handles for --pf, from a stand-in for iproute2's devlink.
printf '#!/bin/sh\n[ "$*" = "dev show" ] && printf "pci/0000:3b:00.0\\nnetdevsim/netdevsim1\\n"\n' >"$TMP/bin/devlink"
chmod +x "$TMP/bin/devlink"
expect_completion "mlx5 migratable --pf offers the devlink instances" exact \
	"netdevsim/netdevsim1 pci/0000:3b:00.0" vfiomig mlx5 migratable --pf ""
expect_completion "--pf 'pci/0000:3b' (split at ':' by bash) offers the rest" exact \
	"3b:00.0" vfiomig mlx5 migratable --pf pci/0000 : 3b

# ---------------------------------------------------------------- usage errors
run
if [[ $RC == 2 && ! -s $OUT_FILE ]] && grep -q '^Usage: vfiomig' "$ERR_FILE"; then
	pass "no command: exits 2 with the usage on stderr"
else
	fail "no command: exits 2 with the usage on stderr" && run_diag
fi
usage_error "an unknown command" "unknown command 'bogus'" bogus
usage_error "an unknown global option" "unknown option '--bogus'" --bogus info x
usage_error "an unknown short global option" "unknown option '-x'" -x info x
usage_error "--iommufd with --legacy" "exclude each other" --iommufd --legacy info "$ABSENT"
usage_error "a command group without a subcommand" "needs a subcommand" state
usage_error "an unknown subcommand" "unknown command 'state bogus'" state bogus
usage_error "a prefix of a command" "unknown command 'sta'" sta
usage_error "an unknown command option" "unknown option '--bogus'" save "$ABSENT" --bogus
usage_error "an unknown short command option" "unknown option '-x'" state get -x "$ABSENT"
usage_error "an option without its value" "needs a value" save "$ABSENT" -o
for p in "${PATHS[@]}"; do
	read -ra words <<<"$p"
	case " $(args_of "$p") " in
	" DEV"*) usage_error "'$p' without a device" "missing device" "${words[@]}" ;;
	" FILE"*) usage_error "'$p' without a file" "missing file" "${words[@]}" ;;
	esac
done
usage_error "state set without a state" "missing argument" state set "$ABSENT"
usage_error "too many arguments" "too many arguments|unexpected argument" info "$ABSENT" extra
usage_error "state get with an extra argument" "unexpected argument 'extra'" state get "$ABSENT" extra
usage_error "help of an unknown command" "unknown command 'bogus'" help bogus

usage_error "address '3b:00'" "invalid device address '3b:00': missing function" info 3b:00
usage_error "address '3b:*.2'" "invalid device address '3b:\*\.2': wildcards" info '3b:*.2'
usage_error "address '3b:00.8'" "function 8 is out of range 0-7" info 3b:00.8
usage_error "address '0000:3b:00.2x'" "trailing characters 'x'" info 0000:3b:00.2x
usage_error "address '3b:20.0'" "device 20 is out of range" state get 3b:20.0
usage_error "address '0x3b:00.0'" "prefix|not a hex digit" reset 0x3b:00.0
usage_error "address with a trailing newline" "trailing whitespace" info $'0000:3b:00.2\n'
usage_error "a VFIO group node as address" "a VFIO group is not a device address" info /dev/vfio/12
usage_error "a relative sysfs path" "relative path" info sys/bus/pci/devices/0000:3b:00.2
usage_error "a malformed UUID" "UUID group" info 83b8f4f2-509f-382f-3c1e-e6bfe0fa100
usage_error "a cdev with a leading zero" "leading zero" info /dev/vfio/devices/vfio03
if [[ -e /sys/bus/pci/devices/$ABSENT ]]; then
	skip "a non-existent device" "$ABSENT exists on this host"
else
	for cmd in info "state get" save load reset; do
		read -ra words <<<"$cmd"
		usage_error "'$cmd' of non-existent device $ABSENT" "no such device '$ABSENT'" "${words[@]}" "$ABSENT"
	done
	usage_error "'state set' of non-existent device $ABSENT" "no such device '$ABSENT'" state set "$ABSENT" stop
fi
usage_error "a non-existent mdev" "no such device" info 00000000-0000-0000-0000-000000000000
usage_error "a non-existent cdev" "no such device" info /dev/vfio/devices/vfio999999
usage_error "a bad state name" "invalid state 'halt'" state set "$ABSENT" halt
usage_error "a state number out of range" "invalid state '8'" state set "$ABSENT" 8
usage_error "a state name in upper case" "invalid state 'STOP'" state set "$ABSENT" STOP
usage_error "error as a target" "error cannot be requested" state set "$ABSENT" error
usage_error "error as a target, by number" "error cannot be requested" state set "$ABSENT" 0
usage_error "save --then bogus" "invalid --then 'bogus'" save "$ABSENT" --then bogus
usage_error "save --then=bogus" "invalid --then 'bogus'" save "$ABSENT" --then=bogus
usage_error "load --then bogus" "invalid --then 'bogus'" load "$ABSENT" --then bogus
usage_error "save --then stop-copy (only stop or running)" "invalid --then 'stop-copy'" save "$ABSENT" --then stop-copy
usage_error "save --precopy-rounds 0" "invalid --precopy-rounds '0'" save "$ABSENT" --precopy --precopy-rounds 0
usage_error "save --precopy-rounds 2x" "invalid --precopy-rounds '2x'" save "$ABSENT" --precopy --precopy-rounds 2x
usage_error "save --precopy-until-bytes -1" "invalid --precopy-until-bytes '-1'" save "$ABSENT" --precopy --precopy-until-bytes -1
usage_error "save --precopy-step without --precopy" "--precopy-step needs --precopy" save "$ABSENT" --precopy-step
usage_error "pm enter --wait=abc" "invalid --wait 'abc'" pm enter "$ABSENT" --wait=abc
usage_error "pm enter --wait=0" "invalid --wait '0'" pm enter "$ABSENT" --wait=0
usage_error "pm enter --wait 5 (value not after '=')" "--wait takes its value after '=': --wait=5" pm enter "$ABSENT" --wait 5
usage_error "pm status of a non-existent device" "no such device '$ABSENT'" pm status "$ABSENT"

# ---------------------------------------------------------------- JSON errors
if command -v jq >/dev/null; then
	for args in "-j bogus" "-j info 3b:00" "-j state set $ABSENT halt" "-p save $ABSENT --then bogus" \
		"-j info $ABSENT" "-j state" "-p help bogus"; do
		read -ra words <<<"$args"
		run "${words[@]}"
		lines=$(wc -l <"$ERR_FILE")
		if [[ $RC == 2 && ! -s $OUT_FILE && $lines == 1 ]] &&
			jq -e '.error.what == "usage" and (.error.reason | type == "string" and length > 0)
				and (.error | has("errno") | not)' "$ERR_FILE" >/dev/null 2>&1; then
			pass "'$args': exit 2, one JSON error line with .error.what and .error.reason"
		else
			fail "'$args': exit 2, one JSON error line with .error.what and .error.reason" && run_diag
		fi
	done
	run -j blob inspect "$TMP/nonexistent.blob"
	if [[ $RC == 1 ]] && jq -e --arg f "$TMP/nonexistent.blob" '.error.what == "cannot open" and
		.error.object == $f and .error.errno == 2 and .error.errno_name == "ENOENT"' \
		"$ERR_FILE" >/dev/null 2>&1; then
		pass "-j blob inspect of a missing file: what, object, errno and errno_name"
	else
		fail "-j blob inspect of a missing file: what, object, errno and errno_name" && run_diag
	fi
else
	skip "JSON errors parse" "jq is not installed"
fi

# ---------------------------------------------------------------- terminals
if command -v script >/dev/null && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	script -qec "'$VFIOMIG' save '$ABSENT' 2>'$TMP/tty-err'" /dev/null </dev/null >"$TMP/tty-out" 2>&1
	rc=$?
	if [[ $rc == 2 ]] && grep -q "refusing to write binary data to a terminal" "$TMP/tty-err" &&
		[[ ! -s $TMP/tty-out ]]; then
		pass "save to a terminal is refused with exit 2, before the device is looked up"
	else
		fail "save to a terminal is refused with exit 2" "exit status $rc" "stderr: $(cat "$TMP/tty-err")" \
			"terminal: $(cat "$TMP/tty-out")"
	fi
	script -qec "'$VFIOMIG' load '$ABSENT' 2>'$TMP/tty-err'" /dev/null </dev/null >"$TMP/tty-out" 2>&1
	rc=$?
	if [[ $rc == 2 ]] && grep -q "refusing to read a blob from a terminal" "$TMP/tty-err"; then
		pass "load from a terminal is refused with exit 2"
	else
		fail "load from a terminal is refused with exit 2" "exit status $rc" "stderr: $(cat "$TMP/tty-err")"
	fi
else
	skip "save to a terminal is refused" "no pseudo-terminal (script -qec)"
	skip "load from a terminal is refused" "no pseudo-terminal (script -qec)"
fi

# ---------------------------------------------------------------- blob inspect
run blob inspect "$TMP/nonexistent.blob"
expect "blob inspect of a missing file exits 1" 1 "^vfiomig: cannot open '.*nonexistent.blob': no such file"
run blob inspect "$TMP"
expect "blob inspect of a directory exits 1" 1 "^vfiomig: cannot read"
head -c 2048 "$MAN" >"$TMP/not-a-blob"
run blob inspect "$TMP/not-a-blob"
expect "blob inspect of a non-blob file exits 4 with 'bad magic'" 4 "invalid blob '.*not-a-blob': header: bad magic"
printf 'VF' >"$TMP/tiny"
run blob inspect "$TMP/tiny"
expect "blob inspect of a 2-byte file exits 4 (truncated header)" 4 "truncated"
if command -v jq >/dev/null; then
	run -j blob inspect "$TMP/not-a-blob"
	if [[ $RC == 4 ]] && jq -e '.valid == false and (.verdict | test("bad magic")) and .error_offset == 0' \
		"$OUT_FILE" >/dev/null 2>&1 &&
		jq -e '.error.what == "invalid blob" and .error.errno_name == "EBADMSG"' "$ERR_FILE" >/dev/null 2>&1; then
		pass "-j blob inspect of a non-blob: document with valid false, EBADMSG error"
	else
		fail "-j blob inspect of a non-blob: document with valid false, EBADMSG error" && run_diag
	fi
fi

# Real blobs, written by the project's own encoder (vfiomig/blob.c), so that
# blob inspect and the man page's BLOB FORMAT are checked against it.
MKBLOB=$TMP/mkblob
cat >"$TMP/mkblob.c" <<'EOF'
/*
 * mkblob SIZE...: a blob on stdout whose stream is chunks of these sizes.
 * The stream is what mlx5_vfio_pci writes: a STOP_COPY_SIZE record, then
 * one FW_DATA record; MKBLOB_BAD_TAG=1 makes the second tag an unknown
 * mandatory one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blob.h"

int main(int argc, char **argv)
{
	struct blob_header h = { .version = BLOB_VERSION, .vendor = 0x15b3, .device = 0x101e,
				 .subsys_vendor = 0x15b3, .subsys_device = 0x0061,
				 .class_code = 0x020000, .mig_flags = 7,
				 .time = 1795000000 };
	uint8_t hdr[BLOB_HEADER_SIZE], ch[BLOB_CHUNK_HDR_SIZE], tr[BLOB_TRAILER_SIZE];
	struct blob_writer w;

	strcpy(h.dev_name, "0000:3b:00.2");
	strcpy(h.driver, "mlx5_vfio_pci");
	strcpy(h.kernel, "6.12.0-test");
	strcpy(h.tool, "vfiomig test");
	blob_header_encode(&h, hdr);
	fwrite(hdr, 1, sizeof(hdr), stdout);
	if (blob_writer_init(&w))
		return 1;
	size_t total = 0, off = 0;

	for (int i = 1; i < argc; i++)
		total += strtoul(argv[i], NULL, 0);
	unsigned char *s = calloc(1, total + 1);

	for (size_t j = 40; j < total; j++)
		s[j] = (unsigned char)(j * 7);
	if (total >= 40) {
		uint64_t rec[2][2] = { { 8, (uint64_t)1 << 32 }, { total - 40, 0 } };

		if (getenv("MKBLOB_BAD_TAG"))
			rec[1][1] = (uint64_t)0x40 << 32;
		memcpy(s, rec[0], 16);
		memcpy(s + 16, &total, 8);
		memcpy(s + 24, rec[1], 16);
	}
	for (int i = 1; i < argc; i++) {
		size_t n = strtoul(argv[i], NULL, 0);

		blob_writer_chunk(&w, s + off, n, ch);
		fwrite(ch, 1, sizeof(ch), stdout);
		fwrite(s + off, 1, n, stdout);
		off += n;
	}
	free(s);
	blob_writer_trailer(&w, tr);
	fwrite(tr, 1, sizeof(tr), stdout);
	blob_writer_free(&w);
	return 0;
}
EOF
# shellcheck disable=SC2046
if ${CC:-cc} -std=gnu11 -I"$ROOT/vfiomig" -o "$MKBLOB" "$TMP/mkblob.c" "$ROOT/vfiomig/blob.c" \
	$(pkg-config --cflags --libs libxxhash 2>/dev/null || echo -lxxhash) 2>"$TMP/cc.log"; then
	pass "a test blob writer builds from vfiomig/blob.c"
	"$MKBLOB" 1048576 1000 >"$TMP/good.blob"
	size=$(stat -c %s "$TMP/good.blob")
	# Offsets as the man page's BLOB FORMAT gives them: at OFFSET OD-TYPE BYTES.
	at() { od -An -t "$2" -j "$1" -N "$3" "$TMP/good.blob" | tr -s ' ' | sed 's/^ //;s/ $//'; }
	is() { if [[ $1 == "$2" ]]; then pass "$3"; else fail "$3" "got '$1', expected '$2'"; fi; }
	is "$size" $((512 + 16 + 1048576 + 16 + 1000 + 40)) "blob size is header + chunk headers + data + trailer"
	is "$(at 0 x1 8)" "56 46 49 4f 4d 49 47 1a" "BLOB FORMAT: magic at offset 0"
	is "$(at 8 u2 2)" "1" "BLOB FORMAT: version at offset 8"
	is "$(at 10 u2 2)" "512" "BLOB FORMAT: header size at offset 10"
	is "$(at 16 x2 8)" "15b3 101e 15b3 0061" "BLOB FORMAT: vendor, device and subsystem IDs at 16-23"
	is "$(at 24 x4 4)" "00020000" "BLOB FORMAT: class at offset 24"
	is "$(at 32 u8 8)" "7" "BLOB FORMAT: migration flags at offset 32"
	is "$(at 40 d8 8)" "1795000000" "BLOB FORMAT: time at offset 40"
	is "$(dd if="$TMP/good.blob" bs=1 skip=48 count=12 2>/dev/null)" "0000:3b:00.2" "BLOB FORMAT: dev_name at offset 48"
	is "$(dd if="$TMP/good.blob" bs=1 skip=112 count=13 2>/dev/null)" "mlx5_vfio_pci" "BLOB FORMAT: driver at offset 112"
	is "$(dd if="$TMP/good.blob" bs=1 skip=240 count=11 2>/dev/null)" "6.12.0-test" "BLOB FORMAT: kernel at offset 240"
	is "$(dd if="$TMP/good.blob" bs=1 skip=336 count=12 2>/dev/null)" "vfiomig test" "BLOB FORMAT: tool at offset 336"
	is "$(dd if="$TMP/good.blob" bs=1 skip=512 count=4 2>/dev/null)" "CHNK" "BLOB FORMAT: the first chunk's tag at 512"
	is "$(at 516 u4 4)" "1048576" "BLOB FORMAT: the chunk length follows the tag"
	is "$(dd if="$TMP/good.blob" bs=1 skip=$((size - 40)) count=4 2>/dev/null)" "TRLR" "BLOB FORMAT: the trailer's tag"
	is "$(at $((size - 32)) u8 8)" "2" "BLOB FORMAT: the trailer's chunk count"
	is "$(at $((size - 24)) u8 8)" "1049576" "BLOB FORMAT: the trailer's stream length"

	run blob inspect "$TMP/good.blob"
	expect "blob inspect of a valid blob exits 0" 0
	if grep -Eq '^verdict +ok$' "$OUT_FILE" && grep -Eq '^chunks +2 \(largest 1048576 bytes\)$' "$OUT_FILE"; then
		pass "blob inspect prints the verdict ok and the chunks"
	else
		fail "blob inspect prints the verdict ok and the chunks" && run_diag
	fi
	"$VFIOMIG" blob inspect - <"$TMP/good.blob" >/dev/null 2>&1
	is "$?" 0 "blob inspect - reads standard input"
	if command -v jq >/dev/null; then
		run -j blob inspect "$TMP/good.blob"
		if [[ $RC == 0 ]] && jq -e '.valid == true and .verdict == "ok" and .chunks == 2 and
			.stream_bytes == 1049576 and .largest_chunk == 1048576 and .vendor_id == "0x15b3" and
			.device_id == "0x101e" and .class_code == "0x20000" and .source == "0000:3b:00.2" and
			.time == 1795000000 and .version == 1 and (has("mdev_type") | not)' \
			"$OUT_FILE" >/dev/null 2>&1; then
			pass "-j blob inspect of a valid blob: the documented keys and values"
		else
			fail "-j blob inspect of a valid blob: the documented keys and values" && run_diag
		fi
		run -p blob inspect "$TMP/good.blob"
		if [[ $RC == 0 && $(wc -l <"$OUT_FILE") -gt 1 ]] && jq -e .valid "$OUT_FILE" >/dev/null 2>&1; then
			pass "-p prints indented JSON that parses"
		else
			fail "-p prints indented JSON that parses" && run_diag
		fi
	fi
	# Damage: one data byte, a truncation, trailing data, a header byte.
	cp "$TMP/good.blob" "$TMP/bad.blob"
	printf '\xff' | dd of="$TMP/bad.blob" bs=1 seek=$((512 + 16 + 100)) conv=notrunc 2>/dev/null
	run blob inspect "$TMP/bad.blob"
	expect "a flipped data byte: exit 4, 'chunk 0 ... data checksum mismatch'" 4 "chunk 0 at offset 512: data checksum mismatch"
	head -c $((size - 40)) "$TMP/good.blob" >"$TMP/bad.blob"
	run blob inspect "$TMP/bad.blob"
	expect "a blob cut before its trailer: exit 4, truncated" 4 "truncated"
	head -c $((512 + 16 + 1048576)) "$TMP/good.blob" >"$TMP/bad.blob"
	run blob inspect "$TMP/bad.blob"
	expect "a blob cut at a chunk boundary: exit 4, truncated" 4 "truncated"
	{ cat "$TMP/good.blob"; printf 'x'; } >"$TMP/bad.blob"
	run blob inspect "$TMP/bad.blob"
	expect "a byte after the trailer: exit 4, trailing data" 4 "1 byte of trailing data"
	cp "$TMP/good.blob" "$TMP/bad.blob"
	printf '\x00' | dd of="$TMP/bad.blob" bs=1 seek=20 conv=notrunc 2>/dev/null
	run blob inspect "$TMP/bad.blob"
	expect "a changed header byte: exit 4, header checksum mismatch" 4 "header: checksum mismatch"
	run blob inspect "$TMP/good.blob"
	if [[ $RC == 0 ]] && grep -q "^mlx5 records 2 (FW_DATA 1: $((1048576 + 1000 - 40)) bytes, STOP_COPY_SIZE 1: last $((1048576 + 1000)) bytes)" "$OUT_FILE"; then
		pass "blob inspect decodes mlx5 records of a blob from mlx5_vfio_pci"
	else
		fail "blob inspect decodes mlx5 records of a blob from mlx5_vfio_pci" && run_diag
	fi
	MKBLOB_BAD_TAG=1 "$MKBLOB" 1048576 1000 >"$TMP/badrec.blob"
	run blob inspect "$TMP/badrec.blob"
	if [[ $RC == 4 ]] && grep -q "mlx5 record 1 at stream offset 24: unknown mandatory tag 0x40" "$ERR_FILE"; then
		pass "a malformed mlx5 record exits 4 and is located"
	else
		fail "a malformed mlx5 record exits 4 and is located" && run_diag
	fi
	run blob inspect --records none "$TMP/badrec.blob"
	if [[ $RC == 0 ]]; then pass "--records none skips the record decoding"; else
		fail "--records none skips the record decoding" && run_diag; fi
	run blob inspect --records xml "$TMP/badrec.blob"
	if [[ $RC == 2 ]]; then pass "--records with a bad format exits 2"; else
		fail "--records with a bad format exits 2" && run_diag; fi
	"$MKBLOB" >"$TMP/empty.blob"
	is "$(stat -c %s "$TMP/empty.blob")" 552 "an empty stream is a header and a trailer"
	run blob inspect "$TMP/empty.blob"
	expect "blob inspect of an empty stream exits 0" 0
	run load "$ABSENT" -i "$TMP/good.blob"
	expect "load checks the device address before it reads the blob" 2 "no such device"
else
	skip "blob checks against the encoder" "cannot build vfiomig/blob.c: $(head -n1 "$TMP/cc.log")"
fi

# ---------------------------------------------------------------- blob pack, blob unpack
# No device: a stream in, a blob out, and back, through save's and load's code.
P=$TMP/pack
mkdir -p "$P"
is_eq() { if [[ $1 == "$2" ]]; then pass "$3"; else fail "$3" "got '$1', expected '$2'"; fi; }
# No file named x* may be left in $P by a failed command.
# shellcheck disable=SC2016 # expanded by the inner bash
no_leftovers() { check "$1" bash -c '! compgen -G "$0/x*" >/dev/null' "$P"; }
# 3 MiB and 5 bytes: three full chunks and a short one.
head -c $((3 * 1048576 + 5)) /dev/urandom >"$P/raw"
"$VFIOMIG" blob pack "$P/raw" >"$P/a.blob" 2>"$P/err"
is_eq "$?" 0 "blob pack FILE > BLOB exits 0"
if grep -Eq "^packed $P/raw: 3145733 bytes in 4 chunks to -, [0-9.]+ s, [0-9.]+ MiB/s$" "$P/err"; then
	pass "blob pack reports bytes, chunks and throughput on stderr"
else
	fail "blob pack reports bytes, chunks and throughput on stderr" "stderr: $(cat "$P/err")"
fi
is_eq "$(stat -c %s "$P/a.blob")" $((512 + 4 * 16 + 3145733 + 40)) \
	"the blob is the header, 4 chunk headers, the stream and the trailer"
run blob inspect --records none "$P/a.blob"
expect "blob inspect verifies what blob pack wrote" 0
"$VFIOMIG" blob unpack "$P/a.blob" >"$P/out" 2>"$P/err"
is_eq "$?" 0 "blob unpack FILE > RAW exits 0"
check "blob unpack gives the stream back byte for byte" cmp -s "$P/raw" "$P/out"
if grep -Eq "^unpacked $P/a.blob: 3145733 bytes in 4 chunks to -, " "$P/err"; then
	pass "blob unpack reports bytes and chunks on stderr"
else
	fail "blob unpack reports bytes and chunks on stderr" "stderr: $(cat "$P/err")"
fi
"$VFIOMIG" blob pack <"$P/raw" 2>/dev/null | "$VFIOMIG" blob unpack 2>/dev/null >"$P/out"
check "pack | unpack through pipes is byte-exact" cmp -s "$P/raw" "$P/out"
# A pipe in and a pipe out: pack moves the pages with tee() and splice().
cat "$P/raw" | "$VFIOMIG" blob pack 2>/dev/null | tee "$P/spliced.blob" | "$VFIOMIG" blob unpack 2>/dev/null >"$P/out"
check "cat | pack | unpack, pipe to pipe (tee and splice), is byte-exact" cmp -s "$P/raw" "$P/out"
run blob inspect --records none "$P/spliced.blob"
expect "and the blob pack spliced checks out" 0
"$VFIOMIG" blob pack - <"$P/raw" 2>/dev/null | "$VFIOMIG" blob unpack - -o "$P/out2" >/dev/null 2>&1
check "'-' names standard input, and unpack -o writes the file" cmp -s "$P/raw" "$P/out2"
# shellcheck disable=SC2016 # expanded by the inner bash
check "unpack -o leaves no temporary file" bash -c '! compgen -G "$0.*" >/dev/null' "$P/out2"
"$VFIOMIG" blob pack "$P/raw" -o - 2>/dev/null | "$VFIOMIG" blob unpack -o - 2>/dev/null >"$P/out"
check "'-o -' is standard output, for pack and unpack" cmp -s "$P/raw" "$P/out"
mkdir -p "$P/dir"
run blob pack "$P/raw" -o "$P/dir"
expect "pack -o DIR fails before it reads anything" 1
if [[ $ERR == *"cannot create '$P/dir': is a directory"* ]] && ! compgen -G "$P/dir.*" >/dev/null; then
	pass "and says so, leaving no temporary beside it"
else
	fail "and says so, leaving no temporary beside it" "stderr: $ERR"
fi
"$VFIOMIG" blob pack </dev/null >"$P/empty.blob" 2>/dev/null
is_eq "$(stat -c %s "$P/empty.blob")" 552 "an empty stream packs into a header and a trailer"
"$VFIOMIG" blob unpack "$P/empty.blob" >"$P/out" 2>/dev/null
is_eq "$?:$(stat -c %s "$P/out")" "0:0" "and unpacks into nothing, exit 0"

# The identity, field by field.
"$VFIOMIG" blob pack "$P/raw" -o "$P/id.blob" --name 0000:3b:00.2 --ids 15b3:101e:15b3:0061 \
	--class 020000 --driver mlx5_vfio_pci --migration-flags stop-copy,p2p,pre-copy \
	--kernel 6.12.0-test >"$P/out" 2>"$P/err"
is_eq "$?" 0 "blob pack -o FILE with every identity option exits 0"
if grep -Eq "^packed $P/raw \(source 0000:3b:00.2\): 3145733 bytes in 4 chunks to $P/id.blob" "$P/out" &&
	[[ ! -s $P/err ]]; then
	pass "with -o the report goes to stdout"
else
	fail "with -o the report goes to stdout" "stdout: $(cat "$P/out")" "stderr: $(cat "$P/err")"
fi
if command -v jq >/dev/null; then
	run -j blob inspect --records none "$P/id.blob"
	if [[ $RC == 0 ]] && jq -e '.valid and .source == "0000:3b:00.2" and .vendor_id == "0x15b3" and
		.device_id == "0x101e" and .subsystem_vendor_id == "0x15b3" and .subsystem_device_id == "0x61" and
		.class_code == "0x20000" and .driver == "mlx5_vfio_pci" and .migration_flags == "stop-copy,p2p,pre-copy" and
		.kernel == "6.12.0-test" and (.tool | startswith("vfiomig ")) and .stream_bytes == 3145733 and
		(now - .time | fabs) < 600' "$OUT_FILE" >/dev/null 2>&1; then
		pass "the header holds the identity given, the tool and the time"
	else
		fail "the header holds the identity given, the tool and the time" && run_diag
	fi
	"$VFIOMIG" -j blob pack "$P/raw" 2>"$P/err" >/dev/null
	if jq -e --arg f "$P/raw" '.input == $f and .source == null and .bytes == 3145733 and .chunks == 4 and
		.file == "-" and .seconds >= 0 and .throughput_bps >= 0' "$P/err" >/dev/null 2>&1; then
		pass "-j blob pack: one JSON document on stderr with the documented keys"
	else
		fail "-j blob pack: one JSON document on stderr with the documented keys" "stderr: $(cat "$P/err")"
	fi
	"$VFIOMIG" -j blob unpack "$P/id.blob" -o "$P/out" >"$P/json" 2>"$P/err"
	if jq -e --arg f "$P/id.blob" --arg o "$P/out" '.file == $f and .member == 0 and .member_count == 1 and
		.source == "0000:3b:00.2" and .bytes == 3145733 and .chunks == 4 and .output == $o' \
		"$P/json" >/dev/null 2>&1 && [[ ! -s $P/err ]]; then
		pass "-j blob unpack -o: one JSON document on stdout with the documented keys"
	else
		fail "-j blob unpack -o: one JSON document on stdout with the documented keys" \
			"stdout: $(cat "$P/json")" "stderr: $(cat "$P/err")"
	fi
fi
# --source: a real device of this host, read from sysfs and never opened.
HOSTDEV=$(find /sys/bus/pci/devices/ -mindepth 1 -maxdepth 1 2>/dev/null | sort | head -n1)
if [[ -n $HOSTDEV ]] && command -v jq >/dev/null; then
	name=${HOSTDEV##*/}
	drv=
	[[ -L $HOSTDEV/driver ]] && drv=$(basename "$(readlink "$HOSTDEV/driver")")
	ids=$(printf '0x%x 0x%x' "$(<"$HOSTDEV/vendor")" "$(<"$HOSTDEV/device")")
	"$VFIOMIG" blob pack "$P/raw" --source "$name" -o "$P/src.blob" >/dev/null 2>"$P/err"
	run -j blob inspect --records none "$P/src.blob"
	if [[ $RC == 0 ]] && jq -e --arg n "$name" --arg d "$drv" --arg ids "$ids" --arg k "$(uname -r)" \
		'.source == $n and .driver == $d and .vendor_id + " " + .device_id == $ids and .kernel == $k' \
		"$OUT_FILE" >/dev/null 2>&1; then
		pass "blob pack --source $name takes its name, IDs ($ids), driver (${drv:-none}) and this kernel from sysfs"
	else
		fail "blob pack --source $name takes its name, IDs ($ids), driver and this kernel from sysfs" && run_diag
	fi
	"$VFIOMIG" blob pack "$P/raw" --source "$name" --driver other_drv -o "$P/src2.blob" >/dev/null 2>&1
	run -j blob inspect --records none "$P/src2.blob"
	if jq -e --arg n "$name" '.source == $n and .driver == "other_drv"' "$OUT_FILE" >/dev/null 2>&1; then
		pass "an identity option overrides what --source found"
	else
		fail "an identity option overrides what --source found" && run_diag
	fi
else
	skip "blob pack --source of a host device" "no PCI device or no jq"
	skip "an identity option overrides --source" "no PCI device or no jq"
fi

# Usage errors: exit 2, nothing written.
usage_error "blob pack --ids 15b3" "invalid --ids '15b3': give VENDOR:DEVICE" blob pack --ids 15b3 -o "$P/x"
usage_error "blob pack --ids 15b3:1x" "invalid --ids '15b3:1x'" blob pack --ids 15b3:1x -o "$P/x"
usage_error "blob pack --class 1234567" "invalid --class '1234567': a PCI class has at most 6 hex digits" \
	blob pack --class 1234567 -o "$P/x"
usage_error "blob pack --migration-flags p2p" "invalid --migration-flags 'p2p': every migratable device has stop-copy" \
	blob pack --migration-flags p2p -o "$P/x"
usage_error "blob pack --migration-flags stop-copy,dirty" "unknown flag 'dirty'" \
	blob pack --migration-flags stop-copy,dirty -o "$P/x"
usage_error "blob pack --driver of 64 bytes" "64 bytes; the blob header holds at most 63" \
	blob pack --driver "$(printf 'd%.0s' {1..64})" -o "$P/x"
usage_error "blob pack --source of an absent device" "no such device '$ABSENT'" blob pack --source "$ABSENT" -o "$P/x"
usage_error "blob pack with two operands" "blob pack" blob pack a b -o "$P/x"
usage_error "blob pack --bogus" "unknown option '--bogus'" blob pack --bogus -o "$P/x"
usage_error "blob unpack --member x" "invalid --member 'x'" blob unpack "$P/a.blob" --member x -o "$P/x"
usage_error "blob unpack --member -1" "invalid --member '-1'" blob unpack "$P/a.blob" --member -1 -o "$P/x"
usage_error "blob unpack --member 1 of a single blob" "--member 1: .* holds 1 device state \(members 0 to 0\)" \
	blob unpack "$P/a.blob" --member 1 -o "$P/x"
usage_error "blob unpack with two operands" "blob unpack" blob unpack a b -o "$P/x"
no_leftovers "no usage error left a file behind"
run blob unpack "$P/a.blob" --member 0 -o "$P/m0"
expect "blob unpack --member 0 of a single blob exits 0" 0
check "and writes its stream" cmp -s "$P/raw" "$P/m0"

# Run-time errors.
run blob unpack "$P/nonexistent.blob" -o "$P/x"
expect "blob unpack of a missing file exits 1" 1 "cannot open '.*nonexistent.blob': no such file"
run blob pack "$P/nonexistent" -o "$P/x"
expect "blob pack of a missing file exits 1" 1 "cannot open '.*nonexistent': no such file"
run blob pack "$P/raw" -o "$P/no/such/dir/x.blob"
expect "blob pack -o into a missing directory exits 1" 1 "cannot create '.*x.blob': no such file"
if [[ -w /dev/full ]]; then
	"$VFIOMIG" blob pack "$P/raw" >/dev/full 2>"$P/err"
	rc=$?
	if [[ $rc == 1 ]] && grep -q "cannot write .*no space left" "$P/err" &&
		grep -q "the blob on standard output is incomplete" "$P/err"; then
		pass "blob pack to a full device exits 1 and says the blob is incomplete"
	else
		fail "blob pack to a full device exits 1 and says the blob is incomplete" "exit status $rc" \
			"stderr: $(cat "$P/err")"
	fi
else
	skip "blob pack to a full device" "no /dev/full"
fi

# Corrupt and truncated blobs: exit 4; -o leaves nothing; stdout gets the chunks before the fault.
cp "$P/a.blob" "$P/bad.blob"
# A byte of chunk 2's data: chunks are 16 + 1 MiB, after the 512-byte header.
printf '\xff' | dd of="$P/bad.blob" bs=1 seek=$((512 + 2 * 1048592 + 16 + 7)) conv=notrunc 2>/dev/null
run blob unpack "$P/bad.blob" -o "$P/x"
expect "unpack -o of a blob with a flipped data byte exits 4 and locates it" 4 \
	"invalid blob '.*bad.blob': chunk 2 at offset 2097696: data checksum mismatch"
no_leftovers "nothing appears under the -o file, and no temporary is left"
"$VFIOMIG" blob unpack "$P/bad.blob" >"$P/partial" 2>"$P/err"
is_eq "$?" 4 "unpack of the same blob to stdout exits 4"
check "stdout holds exactly the verified chunks before the bad one" cmp -s "$P/partial" <(head -c 2097152 "$P/raw")
if grep -q "note: standard output got 2097152 bytes of verified chunks before the fault: the stream there is incomplete" \
	"$P/err"; then
	pass "a note says how much reached stdout and that it is incomplete"
else
	fail "a note says how much reached stdout and that it is incomplete" "stderr: $(cat "$P/err")"
fi
"$VFIOMIG" blob unpack <"$P/bad.blob" >"$P/partial" 2>"$P/err"
is_eq "$?" 4 "unpack of the corrupt blob from standard input exits 4"
head -c $((512 + 1048592 + 1000)) "$P/a.blob" >"$P/trunc.blob"
run blob unpack "$P/trunc.blob" -o "$P/x"
expect "unpack -o of a blob cut in a chunk exits 4" 4 "truncated: the stream ends in chunk 1's data"
head -c $((512 + 4 * 16 + 3145733)) "$P/a.blob" >"$P/trunc.blob"
"$VFIOMIG" blob unpack "$P/trunc.blob" >"$P/partial" 2>"$P/err"
is_eq "$?" 4 "unpack of a blob cut before its trailer exits 4"
check "even though the whole stream reached stdout" cmp -s "$P/partial" "$P/raw"
{ cat "$P/a.blob"; printf 'x'; } >"$P/trail.blob"
run blob unpack "$P/trail.blob" -o "$P/x"
expect "unpack -o of a blob with a byte after its trailer exits 4" 4 "1 byte of trailing data"
run blob unpack "$P/raw" -o "$P/x"
expect "unpack of a bare stream exits 4: bad magic" 4 "header: bad magic \(not a vfiomig blob\)"
no_leftovers "no failed unpack left a file behind"

# Bundles, written by the project's own encoder (vfiomig/blob.c, bundle.c).
cat >"$TMP/mkbundle.c" <<'EOF'
/* mkbundle FILE...: a bundle on stdout whose members hold the files' bytes, in 1 MiB chunks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blob.h"

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	uint8_t hdr[BLOB_HEADER_SIZE], dir[BUNDLE_MAX][BLOB_HEADER_SIZE], ch[BLOB_CHUNK_HDR_SIZE];
	uint8_t tr[BLOB_TRAILER_SIZE];
	struct bundle_writer bw;
	int i;

	if (argc < 2 || argc - 1 > BUNDLE_MAX || bundle_writer_init(&bw))
		return 1;
	bundle_header_encode((uint32_t)(argc - 1), 1795000000, "vfiomig test", hdr);
	fwrite(hdr, 1, sizeof(hdr), stdout);
	for (i = 1; i < argc; i++) {
		struct blob_header h = { .version = BLOB_VERSION, .vendor = 0x1234, .device = 0x11e8 };

		snprintf(h.dev_name, sizeof(h.dev_name), "0000:0%d:00.0", i);
		strcpy(h.driver, "vfiomig_test");
		blob_header_encode(&h, dir[i - 1]);
		fwrite(dir[i - 1], 1, BLOB_HEADER_SIZE, stdout);
	}
	for (i = 1; i < argc; i++) {
		struct blob_writer w;
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (!f || blob_writer_init(&w))
			return 1;
		fwrite(dir[i - 1], 1, BLOB_HEADER_SIZE, stdout);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			blob_writer_chunk(&w, buf, n, ch);
			fwrite(ch, 1, sizeof(ch), stdout);
			fwrite(buf, 1, n, stdout);
		}
		blob_writer_trailer(&w, tr);
		fwrite(tr, 1, sizeof(tr), stdout);
		bundle_writer_member(&bw, &w, tr);
		blob_writer_free(&w);
		fclose(f);
	}
	bundle_writer_trailer(&bw, tr);
	fwrite(tr, 1, sizeof(tr), stdout);
	bundle_writer_free(&bw);
	return 0;
}
EOF
# shellcheck disable=SC2046
if ${CC:-cc} -std=gnu11 -I"$ROOT/vfiomig" -o "$TMP/mkbundle" "$TMP/mkbundle.c" "$ROOT/vfiomig/blob.c" \
	"$ROOT/vfiomig/bundle.c" $(pkg-config --cflags --libs libxxhash 2>/dev/null || echo -lxxhash) 2>"$TMP/cc.log"; then
	pass "a test bundle writer builds from vfiomig/blob.c and bundle.c"
	head -c 1500000 /dev/urandom >"$P/raw1"
	"$TMP/mkbundle" "$P/raw" "$P/raw1" >"$P/two.bundle"
	run blob inspect "$P/two.bundle"
	expect "a bundle of two members from the encoder checks out" 0
	run blob unpack "$P/two.bundle" -o "$P/x"
	expect "unpack of a bundle of two without --member is a usage error" 2 \
		"bundle of 2 devices' states: choose one with --member N, from 0 to 1"
	run blob unpack "$P/two.bundle" --member 1 -o "$P/m1"
	expect "unpack --member 1 of the bundle exits 0" 0
	check "and writes the second member's stream byte for byte" cmp -s "$P/raw1" "$P/m1"
	"$VFIOMIG" blob unpack --member 0 <"$P/two.bundle" 2>/dev/null >"$P/m0"
	check "--member 0 from standard input writes the first member's" cmp -s "$P/raw" "$P/m0"
	run blob unpack "$P/two.bundle" --member 2 -o "$P/x"
	expect "--member 2 of a bundle of two is a usage error" 2 "--member 2: .* holds 2 device states \(members 0 to 1\)"
	"$TMP/mkbundle" "$P/raw" >"$P/one.bundle"
	run blob unpack "$P/one.bundle" -o "$P/m0"
	expect "a bundle of one member needs no --member" 0
	check "and gives its stream" cmp -s "$P/raw" "$P/m0"
	# A fault in member 0 fails an unpack of member 1: the whole bundle is verified.
	cp "$P/two.bundle" "$P/bad.bundle"
	printf '\xff' | dd of="$P/bad.bundle" bs=1 seek=$((512 + 2 * 512 + 512 + 16 + 100)) conv=notrunc 2>/dev/null
	run blob unpack "$P/bad.bundle" --member 1 -o "$P/x"
	expect "a corrupt member 0 fails unpack --member 1 with exit 4" 4 "chunk 0 at offset 2048: data checksum mismatch"
	# And a fault after member 0 fails --member 0, although its stream was whole.
	head -c $(($(stat -c %s "$P/two.bundle") - 40)) "$P/two.bundle" >"$P/cut.bundle"
	run blob unpack "$P/cut.bundle" --member 0 -o "$P/x"
	expect "a bundle cut before its trailer fails unpack --member 0 with exit 4" 4 "truncated"
	no_leftovers "no failed bundle unpack left a file behind"
else
	skip "bundle unpack" "cannot build the bundle writer: $(head -n1 "$TMP/cc.log")"
fi

# Terminals get no binary, and hold no stream.
if command -v script >/dev/null && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	for cmd in pack unpack; do
		in=$P/raw
		[[ $cmd == unpack ]] && in=$P/a.blob
		script -qec "'$VFIOMIG' blob $cmd '$in' 2>'$TMP/tty-err'" /dev/null </dev/null >"$TMP/tty-out" 2>&1
		rc=$?
		if [[ $rc == 2 ]] && grep -q "refusing to write binary data to a terminal" "$TMP/tty-err" &&
			[[ ! -s $TMP/tty-out ]]; then
			pass "blob $cmd to a terminal is refused with exit 2"
		else
			fail "blob $cmd to a terminal is refused with exit 2" "exit status $rc" "stderr: $(cat "$TMP/tty-err")"
		fi
		script -qec "'$VFIOMIG' blob $cmd -o '$P/x' 2>'$TMP/tty-err'" /dev/null </dev/null >"$TMP/tty-out" 2>&1
		rc=$?
		if [[ $rc == 2 ]] && grep -q "refusing to read a stream from a terminal" "$TMP/tty-err"; then
			pass "blob $cmd from a terminal is refused with exit 2"
		else
			fail "blob $cmd from a terminal is refused with exit 2" "exit status $rc" "stderr: $(cat "$TMP/tty-err")"
		fi
	done
	no_leftovers "no refused command left a file behind"
else
	skip "blob pack and unpack refuse terminals" "no pseudo-terminal (script -qec)"
fi

echo "1..$N"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
