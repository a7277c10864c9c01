#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs, idempotently, every Debian package vfiomig needs to build, unit-test and run the kernel lab (and, with --bench, the benchmarks).
set -euo pipefail

# Build and unit tests.
BUILD_PKGS=(gcc make pkg-config libc6-dev libpci-dev libmnl-dev libcjson-dev
	libreadline-dev libxxhash-dev libcmocka-dev)
# The kernel lab (tests/lab/run.sh): QEMU, the guest's userland, the two
# kernels with their headers (out-of-tree test driver), the 6.12 source
# (upstream's mtty sample, and the lab kernel), what building that kernel
# needs (tests/lab/kernel/build.sh: bison, flex, bc, libelf for objtool),
# and the tools the lab scripts call or copy into the guest (devlink, socat;
# prlimit is util-linux's).
LAB_PKGS=(qemu-system-x86 busybox-static kmod cpio xz-utils zstd
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
	bison flex bc libelf-dev
	binutils coreutils gzip tar jq pciutils iproute2 socat util-linux)

# `make bench` (bench/run.sh, with --bench): hyperfine times commands,
# /usr/bin/time the middle of a pipeline, strace and readelf (binutils)
# check what start-up does, lspci is a baseline.
BENCH_PKGS=(hyperfine time strace binutils jq pciutils)

want=("${BUILD_PKGS[@]}" "${LAB_PKGS[@]}")
[[ ${1:-} == --bench ]] && want+=("${BENCH_PKGS[@]}")
# One dpkg-query for all: it lists known packages with their status word
# (removed-but-configured ones are not "installed") and skips unknown ones.
declare -A status=()
while read -r name st; do
	status[${name%%:*}]=$st
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" 2>/dev/null || true)
missing=()
for p in "${want[@]}"; do
	[[ ${status[$p]:-} == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps.sh: all ${#want[@]} packages installed"
	exit 0
fi

# INITRD=No: the lab boots its own initramfs, so skip building host ones for new kernels.
cmd=(env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y
	"${missing[@]}")
if ((EUID != 0)); then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: not root; run as root:" >&2
	echo "  apt-get update && ${cmd[*]}" >&2
	exit 1
fi

echo "deps.sh: installing: ${missing[*]}"
# No stdin in CI: make sure nothing waits on a prompt.
apt-get update </dev/null
"${cmd[@]}" </dev/null
echo "deps.sh: done"
