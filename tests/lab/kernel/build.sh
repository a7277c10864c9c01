#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the lab kernel (Debian's linux-source-6.12 + lab.config) once per machine, caches it, and prints the cache entry's directory.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tests/lab/kernel/build.sh [--key | --force]

Prints the directory of the lab kernel's cache entry on stdout, building it
first when the cache has no entry for the current key: the source package's
version, the SHA-256 of tests/lab/kernel/lab.config and the gcc version. A
cold build takes about 5 minutes on 2 cores; a cached one under a second.

The build: `make tinyconfig`, merge lab.config (merge_config.sh -m),
`make olddefconfig`; then every line of lab.config must have survived, or the
build stops naming the options that did not. Progress goes to stderr.

  (no option)  print the entry's directory, building it if needed
  --key        print the cache key and exit
  --force      rebuild even if the entry exists

An entry holds: release (`uname -r` of the kernel), vmlinux (booted through
its PVH note), bzImage, config, System.map, modules/ (lib/modules/<release>,
depmod'ed), build/ (the tree out-of-tree modules build against: KDIR),
key and build.log.

Environment:
  LAB_KERNEL_SRC     the source tarball (default /usr/src/linux-source-6.12.tar.xz)
  LAB_KERNEL_CACHE   the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/vfiomig/lab-kernel)
  LAB_KERNEL_JOBS    parallel make jobs (default: the number of CPUs)
  LAB_KERNEL_KEEP    1: keep the unpacked, built tree (<cache>/work, about
                     1.7 GB), so a changed fragment rebuilds in seconds
EOF
}

FORCE=0
case ${1:-} in
"") ;;
--key) ;;
--force) FORCE=1 ;;
-h | --help)
	usage
	exit 0
	;;
*)
	usage >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$HERE/lab.config
SRC_TARBALL=${LAB_KERNEL_SRC:-/usr/src/linux-source-6.12.tar.xz}
CACHE=${LAB_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfiomig/lab-kernel}
JOBS=${LAB_KERNEL_JOBS:-$(nproc)}
KEEP=${LAB_KERNEL_KEEP:-0}
# Bump when an entry's layout or the way it is built changes.
FORMAT=1
# Entries unused this long go, but the newest two always stay.
PRUNE_DAYS=14

note() { printf 'lab-kernel: %s\n' "$*" >&2; }
die() {
	printf 'lab-kernel: error: %s\n' "$*" >&2
	exit 1
}
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() {
	local d=$(($(now_us) - $1))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

[[ -f $SRC_TARBALL ]] || die "no kernel source at $SRC_TARBALL; run tests/deps.sh (package linux-source-6.12)"
[[ -f $FRAGMENT ]] || die "no config fragment at $FRAGMENT"
command -v gcc >/dev/null || die "no gcc; run tests/deps.sh"

# The source's version: the Debian package's, or the tarball's own hash
# when LAB_KERNEL_SRC names a file no package owns.
src_version() {
	local pkg
	if pkg=$(dpkg-query -S "$SRC_TARBALL" 2>/dev/null | head -n 1) && [[ -n $pkg ]]; then
		pkg=${pkg%%:*}
		dpkg-query -W -f='${Version}' "$pkg"
	else
		sha256sum "$SRC_TARBALL" | cut -c1-16
	fi
}

SRC_VERSION=$(src_version)
GCC_VERSION=$(gcc --version | head -n 1)
FRAG_SHA=$(sha256sum "$FRAGMENT" | cut -d' ' -f1)
KEY_TEXT=$(printf '%s\n' "format $FORMAT" "source $SRC_VERSION ($SRC_TARBALL)" \
	"fragment sha256 $FRAG_SHA" "compiler $GCC_VERSION")
KEY=$SRC_VERSION-$(printf '%s\n' "$KEY_TEXT" | sha256sum | cut -c1-12)
ENTRY=$CACHE/$KEY

if [[ ${1:-} == --key ]]; then
	echo "$KEY"
	exit 0
fi

mkdir -p "$CACHE"
# One builder per machine: every checkout shares the cache.
exec 8>"$CACHE/.lock"
if ! flock -n 8; then
	note "another build holds $CACHE/.lock: waiting for it"
	flock 8
fi

# Unused entries go; the newest two stay whatever their age.
prune() {
	local e n=0
	while read -r e; do
		n=$((n + 1))
		((n > 2)) || continue
		[[ $e != "$ENTRY" ]] || continue
		if [[ -n $(find "$e" -maxdepth 0 -mtime +"$PRUNE_DAYS") ]]; then
			note "pruning $e (unused for $PRUNE_DAYS days)"
			rm -rf "$e"
		fi
	done < <(find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name work ! -name '*.tmp' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
}

if ((!FORCE)) && [[ -f $ENTRY/done ]]; then
	# The mtime says when it was last used, for prune.
	touch "$ENTRY"
	echo "$ENTRY"
	exit 0
fi

WORK=$CACHE/work
TREE=$WORK/linux
LOG=$WORK/build.log
t_all=$(now_us)

# The unpacked tree, reused only for the same source version (LAB_KERNEL_KEEP).
if [[ ! -f $WORK/source || $(<"$WORK/source") != "$SRC_VERSION" || ! -f $TREE/Makefile ]]; then
	rm -rf "$WORK"
	mkdir -p "$WORK/unpack"
	t0=$(now_us)
	note "unpacking $SRC_TARBALL (source $SRC_VERSION)"
	tar -C "$WORK/unpack" -xJf "$SRC_TARBALL"
	mv "$WORK/unpack"/linux-source-* "$TREE"
	rmdir "$WORK/unpack"
	echo "$SRC_VERSION" >"$WORK/source"
	note "unpacked in $(secs_since "$t0") s"
fi
: >"$LOG"

kmake() {
	make -C "$TREE" ARCH=x86_64 -j"$JOBS" "$@" >>"$LOG" 2>&1
}

fail_build() {
	note "last 60 lines of $LOG:"
	tail -n 60 "$LOG" | sed 's/^/  > /' >&2
	die "$* (whole log: $LOG; the tree stays in $TREE)"
}

# Each line of the fragment as "NAME VALUE" (VALUE n for "is not set").
fragment_options() {
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' \
		-e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p' "$FRAGMENT"
}

# Names every option of the fragment that .config does not carry as asked,
# with where Kconfig defines it, so its dependencies can be read there.
check_config() {
	local name want got bad=0 where
	while read -r name want; do
		got=$(sed -n "s/^$name=\(.*\)$/\1/p" "$TREE/.config")
		[[ -n $got ]] || got=n
		[[ $got == "$want" ]] && continue
		bad=$((bad + 1))
		where=$(cd "$TREE" && grep -rn --include='Kconfig*' -m1 -E "^(menu)?config ${name#CONFIG_}\$" . 2>/dev/null | head -n 1 | cut -d: -f1,2)
		note "  $name: wanted $want, got $got${where:+ (defined in ${where#./}: see its depends on and select lines)}"
	done < <(fragment_options)
	((bad == 0)) || die "$bad option(s) of ${FRAGMENT#"$PWD"/} did not survive olddefconfig (listed above): a dependency is missing from the fragment"
}

t0=$(now_us)
note "configuring: tinyconfig + ${FRAGMENT##*/} + olddefconfig"
kmake tinyconfig || fail_build "make tinyconfig failed"
(cd "$TREE" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") >>"$LOG" 2>&1 ||
	fail_build "merge_config.sh failed"
kmake olddefconfig || fail_build "make olddefconfig failed"
check_config
note "configured in $(secs_since "$t0") s; every option of the fragment is set"

t0=$(now_us)
note "building bzImage and modules with $JOBS jobs (about 5 minutes on 2 cores; log: $LOG)"
kmake bzImage modules || fail_build "the kernel build failed"
note "built in $(secs_since "$t0") s"

t0=$(now_us)
RELEASE=$(make -s -C "$TREE" ARCH=x86_64 kernelrelease)
STAGE=$ENTRY.tmp
rm -rf "$STAGE"
mkdir -p "$STAGE"
kmake modules_install INSTALL_MOD_PATH="$STAGE/modules" INSTALL_MOD_STRIP=1 ||
	fail_build "make modules_install failed"
# Links back into the work tree, which may go away.
rm -f "$STAGE/modules/lib/modules/$RELEASE/build" "$STAGE/modules/lib/modules/$RELEASE/source"
# What `make M=...` needs, as the deb and rpm headers packages take it.
kmake run-command KBUILD_RUN_COMMAND="\$(srctree)/scripts/package/install-extmod-build $STAGE/build" ||
	fail_build "install-extmod-build failed"
cp "$TREE/arch/x86/boot/bzImage" "$TREE/vmlinux" "$TREE/System.map" "$STAGE/"
# QEMU boots vmlinux through its PVH note (Xen ELF note type 18).
readelf -n "$STAGE/vmlinux" | grep -qE 'Xen.*(0x00000012|PHYS32)' ||
	fail_build "vmlinux has no PVH entry note (CONFIG_PVH off?)"
cp "$TREE/.config" "$STAGE/config"
cp "$LOG" "$STAGE/build.log"
echo "$RELEASE" >"$STAGE/release"
printf '%s\n' "$KEY_TEXT" >"$STAGE/key"
: >"$STAGE/done"
rm -rf "$ENTRY"
mv "$STAGE" "$ENTRY"
note "cached as $ENTRY ($(du -sm "$ENTRY" | cut -f1) MB) in $(secs_since "$t0") s"

if [[ $KEEP == 1 ]]; then
	note "keeping the built tree in $TREE (LAB_KERNEL_KEEP=1)"
else
	rm -rf "$WORK"
fi
prune
note "lab kernel $RELEASE ready in $(secs_since "$t_all") s"
echo "$ENTRY"
