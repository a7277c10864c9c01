#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel lab: boots each Debian kernel under QEMU with emulated VFIO devices and runs the guest tests, the demo or a shell.
# QEMU options are comma lists, and Makefile text is literal on purpose.
# shellcheck disable=SC2054,SC2016
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tests/lab/run.sh [--shell | --demo]

Boots every kernel of LAB_KERNELS under QEMU (q35 + emulated VT-d) with three
edu devices bound to the vfiomig_test driver, an e1000e and a virtio-net bound
to vfio-pci, a pci-testdev and a pci-serial sharing one IOMMU group behind a
PCIe-to-PCI bridge and, on kernels that have it, two mtty mdevs; then runs
tests/lab/guest/t-*.sh in the guest and counts the TAP results.

Kernels: Debian's installed kernels by series ("6.1", "6.12") or exact
release, and "lab": Debian's linux-source-6.12 built with
tests/lab/kernel/lab.config (iommufd, VFIO cdev, VFIO debugfs, netdevsim,
mtty), cached per machine by tests/lab/kernel/build.sh (about 5 minutes
the first time, under a second after).

  (no option)  run the guest tests; exit 1 if anything failed
  --shell      interactive shell in the guest (first kernel of LAB_KERNELS);
               leave it with 'poweroff -f' (or Ctrl-A x to kill QEMU)
  --demo       run tests/lab/guest/demo.sh in the guest

Environment:
  LAB_KERNELS       kernels to boot: a Debian series or exact release, or "lab"
                    (default "6.1 6.12 lab")
  LAB_TESTS         test files to run, as globs (default "t-*.sh")
  LAB_VFIOMIG       the vfiomig binary to put in the guest (default build/vfiomig)
  LAB_TIMEOUT       seconds one boot may take, tests included (default 900 TCG, 300 KVM)
  LAB_TEST_TIMEOUT  seconds one test file may take in the guest (default 600)
  LAB_MEM           guest memory (default 1G)
  LAB_CMDLINE       extra guest kernel command line
  LAB_VERBOSE       1: show the whole serial console, kernel boot included
  LAB_EXTRA_BINS    host programs copied into the guest's /usr/bin with their libraries
                    (default "jq setpriv script devlink socat prlimit": JSON
                    checks, dropping privileges, driving the shell through a
                    pseudo-terminal, devlink on netdevsim, a session client that
                    connects and says nothing, a holder short of fds)
  LAB_KERNEL_CACHE  where the lab kernel is cached (see tests/lab/kernel/build.sh --help)
Output goes to build/lab/<kernel>/ (serial.log, build logs, initramfs).
EOF
}

MODE="test"
case ${1:-} in
"") ;;
--shell) MODE=shell ;;
--demo) MODE=demo ;;
-h | --help)
	usage
	exit 0
	;;
*)
	usage >&2
	exit 2
	;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GUEST=$ROOT/tests/lab/guest
KMOD_SRC=$ROOT/tests/kmod
OUT=$ROOT/build/lab

LAB_KERNELS=${LAB_KERNELS:-6.1 6.12 lab}
KERNEL_BUILD=$ROOT/tests/lab/kernel/build.sh
LAB_TESTS=${LAB_TESTS:-}
LAB_VFIOMIG=${LAB_VFIOMIG:-$ROOT/build/vfiomig}
LAB_TEST_TIMEOUT=${LAB_TEST_TIMEOUT:-600}
LAB_MEM=${LAB_MEM:-1G}
LAB_CMDLINE=${LAB_CMDLINE:-}
LAB_VERBOSE=${LAB_VERBOSE:-0}
LAB_EXTRA_BINS=${LAB_EXTRA_BINS-jq setpriv script devlink socat prlimit}
LAB_QEMU=${LAB_QEMU:-qemu-system-x86_64}

note() { printf 'lab: %s\n' "$*"; }
die() {
	printf 'lab: error: %s\n' "$*" >&2
	exit 1
}

# Microseconds since the epoch, for stage timings.
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() {
	local d=$(($(now_us) - $1))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

preflight() {
	local c missing=()
	for c in "$LAB_QEMU" busybox cpio depmod modprobe modinfo xz zstd make cc pkg-config timeout flock od ldd; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}; run tests/deps.sh"
	[[ -x $LAB_VFIOMIG ]] || die "no vfiomig binary at $LAB_VFIOMIG: run 'make' first (or set LAB_VFIOMIG)"
}

# Acceleration: KVM only where it can really run a guest. /dev/kvm can be
# present without VT-x/AMD-V exposed to us, and then QEMU aborts or hangs.
ACCEL=(-accel tcg,thread=multi -cpu max)
MACHINE=q35
ACCEL_NAME=tcg
if [[ -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
	ACCEL=(-accel kvm -cpu host)
	# Interrupt remapping with in-kernel irqchip needs the split irqchip.
	MACHINE=q35,kernel-irqchip=split
	ACCEL_NAME=kvm
fi
if [[ $ACCEL_NAME == kvm ]]; then
	LAB_TIMEOUT=${LAB_TIMEOUT:-300}
else
	LAB_TIMEOUT=${LAB_TIMEOUT:-900}
fi

# An installed kernel by series ("6.1") or exact release: the newest
# release of that series with an image in /boot.
resolve_kernel() {
	local want=$1 kv
	if [[ -d /lib/modules/$want && -f /boot/vmlinuz-$want ]]; then
		echo "$want"
		return
	fi
	kv=$(
		for d in /lib/modules/*; do
			d=${d##*/}
			# "6.1" must not match "6.12": the series is followed by '.' or '-'.
			[[ $d == "$want".* || $d == "$want"-* ]] || continue
			[[ $d == *-amd64 && -f /boot/vmlinuz-$d ]] && echo "$d"
		done | sort -V | tail -n 1
	)
	[[ -n $kv ]] || die "no installed kernel matches '$want' (/lib/modules and /boot/vmlinuz-*); run tests/deps.sh"
	echo "$kv"
}

# major*100+minor of a release, to compare series.
kver_num() {
	local maj=${1%%.*} rest=${1#*.}
	echo $((maj * 100 + ${rest%%[!0-9]*}))
}

# The uncompressed kernel, for QEMU's PVH entry (faster than the bzImage's
# real-mode path and its self-decompression under TCG). The setup header
# says where the compressed payload is; its magic says how to decompress it.
extract_vmlinux() {
	local bz=$1 out=$2 tmp=$2.tmp ss po pl off magic dec
	[[ $(dd if="$bz" bs=1 skip=$((0x202)) count=4 status=none) == HdrS ]] ||
		die "$bz: not a bzImage (no HdrS setup header)"
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz")
	po=$(od -An -tu4 -j $((0x248)) -N4 "$bz")
	pl=$(od -An -tu4 -j $((0x24c)) -N4 "$bz")
	ss=$((ss)) po=$((po)) pl=$((pl))
	((ss)) || ss=4 # the boot protocol's default for 0
	off=$(((ss + 1) * 512 + po))
	magic=$(od -An -tx1 -j "$off" -N6 "$bz" | tr -d ' \n')
	case $magic in
	fd377a585a00) dec=(xz -dc) ;;
	28b52ffd*) dec=(zstd -dc) ;;
	1f8b*) dec=(gzip -dc) ;;
	*) die "$bz: unknown payload format at offset $off (magic $magic)" ;;
	esac
	# The build appends the uncompressed size (4 bytes) after the stream:
	# zstd rejects it as trailing garbage, so leave it out.
	dd if="$bz" iflag=skip_bytes,count_bytes skip="$off" count=$((pl - 4)) bs=1M status=none |
		"${dec[@]}" >"$tmp" ||
		die "$bz: ${dec[0]} failed on the payload at offset $off"
	[[ $(od -An -tx1 -N4 "$tmp" | tr -d ' \n') == 7f454c46 ]] ||
		die "$bz: the payload is not an ELF file"
	# Without the PVH entry note (Xen note type 18) QEMU cannot boot it.
	if command -v readelf >/dev/null &&
		! readelf -n "$tmp" | grep -qE 'Xen.*(0x00000012|PHYS32)'; then
		die "$bz: vmlinux has no PVH entry note (CONFIG_PVH off?)"
	fi
	mv "$tmp" "$out"
}

# A content hash of a source directory, build output left out, so a
# rebuild happens exactly when a source changed.
src_tar() {
	tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude='.*.d' --exclude=modules.order \
		--exclude=Module.symvers --exclude=.tmp_versions -cf - .
}

# Builds an out-of-tree module directory against a kernel's build tree
# (KDIR), unless the same sources were already built for it.
build_modules() {
	local src=$1 dir=$2 kv=$3 kdir=$4 stamp ko
	[[ -d $kdir ]] || die "no build tree for $kv in $kdir; run tests/deps.sh"
	stamp="$kv $kdir $(stat -c %Y "$kdir/Module.symvers" 2>/dev/null) $(src_tar "$src" | sha256sum)"
	if [[ -f $dir.stamp && $(<"$dir.stamp") == "$stamp" ]] &&
		compgen -G "$dir/*.ko" >/dev/null; then
		return 0
	fi
	rm -rf "$dir" "$dir.stamp"
	mkdir -p "$dir"
	src_tar "$src" | tar -C "$dir" -xf -
	if ! make -C "$dir" KDIR="$kdir" >"$dir.log" 2>&1; then
		tail -n 40 "$dir.log" >&2
		die "building $src for $kv failed (log: $dir.log)"
	fi
	compgen -G "$dir/*.ko" >/dev/null || die "building $src for $kv made no .ko (log: $dir.log)"
	for ko in "$dir"/*.ko; do
		[[ $(modinfo -F vermagic "$ko") == "$kv "* ]] ||
			die "$ko: vermagic '$(modinfo -F vermagic "$ko")' is not for $kv"
	done
	echo "$stamp" >"$dir.stamp"
}

# Upstream's mtty sample, from Debian's source package: unpacked once (the
# whole .tar.xz must be decompressed, about 18 s), then only mtty.c is used.
MTTY_MIN=607 # mtty supports migration from 6.7 on
mtty_source() {
	local series=$1 tarball=/usr/src/linux-source-$1.tar.xz dir stamp
	[[ -f $tarball ]] || die "no $tarball for the mtty sample; run tests/deps.sh"
	dir=$OUT/src/linux-source-$series
	stamp="$(stat -c '%s %Y' "$tarball")"
	if [[ ! -f $dir.stamp || $(<"$dir.stamp") != "$stamp" ]]; then
		rm -rf "$dir" "$dir.stamp"
		mkdir -p "$OUT/src"
		note "unpacking samples/vfio-mdev from $tarball (once)" >&2
		tar -C "$OUT/src" -xJf "$tarball" "linux-source-$series/samples/vfio-mdev"
		echo "$stamp" >"$dir.stamp"
	fi
	echo "$dir/samples/vfio-mdev"
}

build_mtty() {
	local kv=$1 series=$2 dir=$3 kdir=$4 src msrc
	msrc=$(mtty_source "$series")
	# Our own Kbuild and Makefile: the sample's Makefile keys on a CONFIG_
	# the headers do not set. Same contract as tests/kmod: make KDIR=...
	src=$OUT/$kv/mtty-src
	rm -rf "$src"
	mkdir -p "$src"
	cp "$msrc/mtty.c" "$src/"
	echo 'obj-m := mtty.o' >"$src/Kbuild"
	printf '%s\n' 'KDIR ?= /lib/modules/$(shell uname -r)/build' \
		'all:' '	$(MAKE) -C $(KDIR) M=$(CURDIR) modules' >"$src/Makefile"
	build_modules "$src" "$dir" "$kv" "$kdir"
}

# Copies a program and the shared libraries ldd says it needs (the dynamic
# loader included) to the same paths under the initramfs root.
copy_with_libs() {
	local bin=$1 dest=$2 root=$3 lib
	install -D -m 0755 "$bin" "$root$dest"
	ldd "$bin" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' |
		while read -r lib; do
			[[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
		done
}

# Modules the guest loads where the kernel has them: iommufd (/dev/iommu),
# netdevsim (devlink), mtty when built with the kernel (the lab kernel).
OPTIONAL_MODULES=(iommufd netdevsim mtty)

# The modules the guest needs, with their dependencies, from
# $MODROOT/lib/modules: decompressed (busybox insmod may lack xz/zstd) and
# indexed with depmod.
copy_modules() {
	local kv=$1 root=$2 extra=("${@:3}") names=(vfio vfio_iommu_type1 vfio-pci vfio_pci_core mdev)
	local ko dep path rel mdir=$root/lib/modules/$kv src=${MODROOT%/}/lib/modules/$kv mp=(modprobe -S "$kv")
	# -d / would make paths start with //.
	[[ $MODROOT == / ]] || mp+=(-d "$MODROOT")
	mkdir -p "$mdir/extra"
	for ko in "${extra[@]}"; do
		install -m 0644 "$ko" "$mdir/extra/"
		IFS=, read -ra deps <<<"$(modinfo -F depends "$ko")"
		names+=("${deps[@]}")
	done
	for dep in "${OPTIONAL_MODULES[@]}"; do
		[[ -f $mdir/extra/$dep.ko ]] && continue
		"${mp[@]}" --show-depends "$dep" >/dev/null 2>&1 && names+=("$dep")
	done
	for dep in "${names[@]}"; do
		[[ -n $dep ]] || continue
		# A dependency on one of our own modules is not in $MODROOT.
		[[ -f $mdir/extra/$dep.ko ]] && continue
		"${mp[@]}" --show-depends "$dep" 2>/dev/null | awk '$1 == "insmod" { print $2 }' ||
			die "${mp[*]} cannot resolve module '$dep'"
	done | sort -u | while read -r path; do
		rel=${path#"$src"/}
		mkdir -p "$mdir/$(dirname "$rel")"
		case $path in
		*.ko.xz) xz -dc "$path" >"$mdir/${rel%.xz}" ;;
		*.ko.zst) zstd -qdc "$path" >"$mdir/${rel%.zst}" ;;
		*) cp "$path" "$mdir/$rel" ;;
		esac
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[[ -f $src/$f ]] && cp "$src/$f" "$mdir/"
	done
	depmod -b "$root" "$kv" || die "depmod -b $root $kv failed"
}

# busybox with a link per applet, at the paths busybox itself lists. Made
# once (400 links cost about 1.5 s) and copied into each initramfs.
busybox_tree() {
	local bb l tree=$OUT/busybox-root
	bb=$(command -v busybox)
	[[ -f $tree/bin/busybox && ! $bb -nt $tree/bin/busybox ]] && return 0
	rm -rf "$tree"
	install -D -m 0755 "$bb" "$tree/bin/busybox"
	"$tree/bin/busybox" --list-full | while read -r l; do
		[[ $l == bin/busybox || $l == linuxrc ]] && continue
		mkdir -p "$tree/${l%/*}"
		ln -s /bin/busybox "$tree/$l"
	done
}

# Data files the guest tests read from /tests/fixtures, made on the host
# with the project's own blob code (tests/lab/fixture-blob.c). Rebuilt when
# the sources change; skipped while the generator does not exist.
make_fixtures() {
	local dest=$1 gen=$OUT/fixture-blob src=$ROOT/tests/lab/fixture-blob.c
	[[ -f $src ]] || return 0
	if [[ ! -x $gen || $src -nt $gen || $ROOT/vfiomig/blob.c -nt $gen || $ROOT/vfiomig/blob.h -nt $gen ]]; then
		# shellcheck disable=SC2046 # pkg-config prints several flags
		cc -std=gnu11 -O1 -D_GNU_SOURCE -I"$ROOT/vfiomig" -o "$gen" "$src" \
			"$ROOT/vfiomig/blob.c" $(pkg-config --cflags --libs libxxhash) ||
			die "building $src failed"
	fi
	mkdir -p "$dest"
	# A valid blob from another kind of device: a ConnectX VF under mlx5_vfio_pci.
	"$gen" 15b3 101e mlx5_vfio_pci 100000 >"$dest/foreign.blob" ||
		die "$gen failed to write foreign.blob"
}

# Single quotes for a value in an ash-sourced file.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

build_initramfs() {
	local kv=$1 dir=$2 root=$2/initramfs img=$2/initramfs.cpio b f
	shift 2
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,tests}
	busybox_tree
	cp -a "$OUT/busybox-root/." "$root/"
	copy_with_libs "$LAB_VFIOMIG" /bin/vfiomig "$root"
	for b in $LAB_EXTRA_BINS; do
		if command -v "$b" >/dev/null; then
			# Beside busybox's applets, not over them: busybox ash runs its
			# applets before searching PATH, so only /usr/bin/NAME reaches these.
			copy_with_libs "$(command -v "$b")" "/usr/bin/$b" "$root"
		else
			note "$b not installed on the host: not in the guest"
		fi
	done
	# A user to drop privileges to (setpriv --reuid=1000, su lab), and names for ls and id.
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'lab:x:1000:1000:lab:/tmp:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'lab:x:1000:' 'nogroup:x:65534:' >"$root/etc/group"
	# libpci names devices from it; harmless when absent.
	[[ -f /usr/share/misc/pci.ids ]] && install -D -m 0644 /usr/share/misc/pci.ids "$root/usr/share/misc/pci.ids"
	copy_modules "$kv" "$root" "$@"
	# The kernel's configuration where Linux keeps it: tests ask it what the
	# kernel must offer (lib.sh: kconfig_has), so a missing feature fails
	# where it was built in and skips only where it was not.
	if [[ -f $KCONFIG ]]; then
		install -D -m 0644 "$KCONFIG" "$root/boot/config-$kv"
	else
		note "$kv: no kernel config at $KCONFIG: tests cannot tell what it offers"
	fi
	install -m 0755 "$GUEST/init" "$root/init"
	for f in "$GUEST"/*; do
		[[ ${f##*/} == init ]] && continue
		install -m 0755 "$f" "$root/tests/"
	done
	make_fixtures "$root/tests/fixtures"
	# Scenario files for `vfiomig batch`, run by t-28-scenarios.sh.
	mkdir -p "$root/tests/scenarios"
	cp "$ROOT"/tests/scenarios/*.vmb "$root/tests/scenarios/" 2>/dev/null || true
	{
		echo "LAB_MODE=$(shq "$MODE")"
		echo "LAB_TESTS=$(shq "$LAB_TESTS")"
		echo "LAB_TEST_TIMEOUT=$(shq "$LAB_TEST_TIMEOUT")"
		echo "LAB_KERNEL=$(shq "$KNAME")"
	} >"$root/lab.conf"
	# The kernel opens /dev/console before /init runs; only root can make the node.
	((EUID != 0)) || mknod -m 0600 "$root/dev/console" c 5 1
	# Uncompressed: QEMU loads it directly, and the guest skips a decompression
	# that is slow under TCG.
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --reproducible --quiet) >"$img"
}

# If we are interrupted or die mid-boot, do not leave QEMU running.
QEMU_PIDFILE=
cleanup() {
	local pid
	[[ -n $QEMU_PIDFILE && -f $QEMU_PIDFILE ]] || return 0
	pid=$(<"$QEMU_PIDFILE")
	# The pid may have been reused since QEMU wrote it: check it is QEMU.
	if [[ -n $pid ]] && grep -qa qemu "/proc/$pid/cmdline" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One boot. Sets BOOT_RC (QEMU's or timeout's status); the console goes to $log.
boot() {
	local kv=$1 dir=$2 log=$2/serial.log vmlinux=$3 pidfile=$2/qemu.pid line show=0 i rc
	local cmdline="console=ttyS0 intel_iommu=on panic=-1 $LAB_CMDLINE"
	local qemu=("$LAB_QEMU" -machine "$MACHINE" "${ACCEL[@]}" -smp 2 -m "$LAB_MEM"
		-device intel-iommu,intremap=on,eim=off
		-kernel "$vmlinux" -initrd "$dir/initramfs.cpio" -append "$cmdline"
		-nographic -vga none -no-reboot -net none -pidfile "$pidfile")
	# Every device behind its own root port: its own IOMMU group. Order
	# fixes the BDFs: edu A, B, C on buses 1-3, e1000e 4, virtio-net 5.
	local devs=(edu edu edu e1000e virtio-net-pci)
	for i in "${!devs[@]}"; do
		qemu+=(-device "pcie-root-port,id=rp$((i + 1)),chassis=$((i + 1))"
			-device "${devs[i]},bus=rp$((i + 1))")
	done
	# Then, on bus 7 behind a PCIe-to-PCI bridge (bus 6), two devices in one
	# IOMMU group, since the bridge issues the DMA of everything behind it:
	# pci-testdev (no driver; a test binds it to vfio-pci) and pci-serial
	# (the kernel's 8250 driver), which makes that group not viable.
	qemu+=(-device "pcie-root-port,id=rp6,chassis=6" -device "pcie-pci-bridge,id=br6,bus=rp6"
		-device "pci-testdev,bus=br6,addr=1" -device "pci-serial,bus=br6,addr=2")
	rm -f "$pidfile"
	QEMU_PIDFILE=$pidfile

	if [[ $MODE == shell ]]; then
		# Interactive: the console is the terminal; signal=off passes Ctrl-C to
		# the guest; QEMU keeps a copy of the console in the log.
		qemu+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$log"
			-serial chardev:con -mon chardev=con,mode=readline)
		BOOT_RC=0
		"${qemu[@]}" || BOOT_RC=$?
		rm -f "$pidfile"
		QEMU_PIDFILE=
		return
	fi

	# --foreground keeps QEMU in our process group, so Ctrl-C stops it too.
	# The pipeline runs in the background so that `wait` (unlike a foreground
	# job) yields to our INT/TERM traps, which then stop QEMU.
	rm -f "$dir/qemu.rc"
	{
		rc=0
		timeout --foreground -k 10 "$LAB_TIMEOUT" "${qemu[@]}" </dev/null 2>&1 || rc=$?
		echo "$rc" >"$dir/qemu.rc"
	} | while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$log"
		# Anywhere in the line: SeaBIOS leaves "Booting from ROM.." unterminated.
		if [[ $line == *"LAB: init reached"* ]]; then
			show=1
		fi
		if ((show || LAB_VERBOSE)); then
			printf '  | %s\n' "$line"
		fi
	done &
	wait $! || true
	BOOT_RC=$(cat "$dir/qemu.rc" 2>/dev/null || echo 255)
	rm -f "$pidfile"
	QEMU_PIDFILE=
}

# Counts the TAP lines of a serial log: sets PASS FAIL SKIP.
count_tap() {
	local log=$1
	PASS=$(grep -E '^ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)' || true)
	SKIP=$(grep -cE '^(ok [0-9]+.*# (SKIP|skip)|1\.\.0 # SKIP)' "$log" || true)
	FAIL=$(grep -cE '^not ok( |$)' "$log" || true)
}

TOTAL_PASS=0 TOTAL_FAIL=0 TOTAL_SKIP=0
SUMMARY=()

# What one kernel of LAB_KERNELS is made of, for the functions above:
# KNAME (the word in LAB_KERNELS), KV (its release), VMLINUX (what QEMU
# boots), KDIR (what out-of-tree modules build against), MODROOT (the root
# of its lib/modules/KV) and KCONFIG (its .config).
prepare_kernel() {
	local entry
	KNAME=$1
	case $KNAME in
	lab)
		# Built once per machine and cached (tests/lab/kernel/build.sh).
		entry=$("$KERNEL_BUILD") || return 1
		KV=$(<"$entry/release")
		VMLINUX=$entry/vmlinux
		KDIR=$entry/build
		MODROOT=$entry/modules
		KCONFIG=$entry/config
		;;
	*)
		KV=$(resolve_kernel "$KNAME")
		VMLINUX=$OUT/vmlinux-$KV
		if [[ ! -f $VMLINUX || /boot/vmlinuz-$KV -nt $VMLINUX ]]; then
			extract_vmlinux "/boot/vmlinuz-$KV" "$VMLINUX"
		fi
		KDIR=/usr/src/linux-headers-$KV
		MODROOT=/
		KCONFIG=/boot/config-$KV
		;;
	esac
}

run_kernel() {
	local want=$1 kv dir t0 t_kernel t_build t_init t_boot series kos=() tries log why
	note "== $want ($ACCEL_NAME)"
	t0=$(now_us)
	if ! prepare_kernel "$want"; then
		# The other kernels still run; this one counts as a failure.
		note "$want: FAILED: the kernel could not be built (see above)"
		SUMMARY+=("$want: 0 passed, 1 failed: the kernel could not be built")
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		return 0
	fi
	t_kernel=$(secs_since "$t0")
	kv=$KV
	dir=$OUT/$kv
	mkdir -p "$dir"
	series=${kv%%-*}
	series=${series%.*}
	[[ $want == "$kv" ]] || note "$want: $kv"

	t0=$(now_us)
	if [[ -f $KMOD_SRC/Makefile ]]; then
		build_modules "$KMOD_SRC" "$dir/kmod" "$kv" "$KDIR"
		kos+=("$dir"/kmod/*.ko)
	else
		note "tests/kmod has no Makefile yet: no test driver (edu devices go to vfio-pci)"
	fi
	# mtty from Debian's source, unless the kernel was built with it.
	if (($(kver_num "$kv") >= MTTY_MIN)) && ! compgen -G "${MODROOT%/}/lib/modules/$kv/kernel/samples/vfio-mdev/mtty.ko*" >/dev/null; then
		build_mtty "$kv" "$series" "$dir/mtty" "$KDIR"
		kos+=("$dir"/mtty/*.ko)
	fi
	t_build=$(secs_since "$t0")

	t0=$(now_us)
	build_initramfs "$kv" "$dir" "${kos[@]}"
	t_init=$(secs_since "$t0")
	note "$kv: initramfs $(($(stat -c %s "$dir/initramfs.cpio") / 1024)) KiB, modules: $(cd "$dir/initramfs/lib/modules/$kv" && find . -name '*.ko' -printf '%f ')"

	log=$dir/serial.log
	t0=$(now_us)
	rm -f "$log.try1"
	for tries in 1 2; do
		# Keep the failed first attempt for a post-mortem.
		((tries == 1)) || mv "$log" "$log.try1"
		: >"$log"
		boot "$kv" "$dir" "$VMLINUX"
		grep -q 'LAB: init reached' "$log" && break
		[[ $MODE == shell ]] && break
		# A timeout has used the whole budget: no second one.
		((BOOT_RC == 124 || BOOT_RC == 137)) && break
		# Seen about once in 40 boots: QEMU ends before the guest runs /init.
		((tries == 1)) && note "$kv: the guest never reached /init (QEMU rc $BOOT_RC): retrying once"
	done
	t_boot=$(secs_since "$t0")

	[[ $MODE == shell ]] && return 0

	why=
	if grep -q '^LAB: setup failed' "$log"; then
		why=$(grep -m1 '^LAB: setup failed' "$log")
		why=${why#LAB: }
	elif grep -q '^LAB: end' "$log"; then
		:
	elif ((BOOT_RC == 124 || BOOT_RC == 137)); then
		why="timed out after ${LAB_TIMEOUT}s (LAB_TIMEOUT)"
	elif ! grep -q 'LAB: init reached' "$log"; then
		why="the guest never reached /init (QEMU rc $BOOT_RC)"
	else
		why="the guest stopped before its end marker (QEMU rc $BOOT_RC)"
	fi

	count_tap "$log"
	if [[ -n $why ]]; then
		note "$kv: FAILED: $why; last 40 lines of $log:"
		tail -n 40 "$log" | sed 's/^/  > /'
		FAIL=$((FAIL + 1))
	fi
	if [[ $MODE == demo ]]; then
		local drc
		# The demo counts as one check, so the closing line says it ran.
		drc=$(sed -n 's/^LAB: demo done, rc \([0-9]*\).*/\1/p' "$log")
		if [[ ${drc:-none} == 0 ]]; then
			PASS=$((PASS + 1))
		elif [[ -z $why ]]; then
			FAIL=$((FAIL + 1))
			note "$kv: the demo failed (rc ${drc:-none})"
		fi
	fi
	note "$kv: kernel ${t_kernel}s, modules ${t_build}s, initramfs ${t_init}s, boot+${MODE} ${t_boot}s (log: ${log#"$ROOT"/})"
	echo "$kv: $PASS passed, $FAIL failed"
	SUMMARY+=("$kv: $PASS passed, $FAIL failed, $SKIP skipped (kernel ${t_kernel}s, modules ${t_build}s, initramfs ${t_init}s, boot+${MODE} ${t_boot}s)")
	TOTAL_PASS=$((TOTAL_PASS + PASS))
	TOTAL_FAIL=$((TOTAL_FAIL + FAIL))
	TOTAL_SKIP=$((TOTAL_SKIP + SKIP))
}

preflight
mkdir -p "$OUT"
# Two runs at once would build into and boot from the same directories.
exec 9>"$OUT/.lock"
if ! flock -n 9; then
	note "another lab run holds $OUT/.lock: waiting for it"
	flock 9
fi
read -ra kernels <<<"$LAB_KERNELS"
((${#kernels[@]})) || die "LAB_KERNELS is empty"
# One interactive guest at a time.
[[ $MODE == shell ]] && kernels=("${kernels[0]}")

for k in "${kernels[@]}"; do
	run_kernel "$k"
done

[[ $MODE == shell ]] && exit 0
note "summary ($ACCEL_NAME):"
printf '  %s\n' "${SUMMARY[@]}"
note "$TOTAL_SKIP skipped"
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
((TOTAL_FAIL == 0))
