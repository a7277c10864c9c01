/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing device addresses as users type them: BDF, mdev UUID, sysfs path, VFIO cdev. */
#ifndef VFIOMIG_ADDR_H
#define VFIOMIG_ADDR_H

#include <limits.h>
#include <stddef.h>

enum addr_kind {
	ADDR_PCI,   /* "0000:3b:00.2" or "3b:00.2" (domain 0) */
	ADDR_MDEV,  /* "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" */
	ADDR_SYSFS, /* "/sys/bus/pci/devices/0000:3b:00.2", any path below /sys */
	ADDR_CDEV,  /* "/dev/vfio/devices/vfio3" */
};

struct vm_addr {
	enum addr_kind kind;
	unsigned int domain, bus, dev, fn;  /* ADDR_PCI */
	char uuid[37];                      /* ADDR_MDEV, lower case */
	unsigned int cdev;                  /* ADDR_CDEV: the N of vfioN */
	char path[PATH_MAX];                /* ADDR_SYSFS and ADDR_CDEV, as given */
};

/*
 * Strict parsing: no wildcards, no trailing characters, every field in range
 * (domain <= 0xffff, bus <= 0xff, device <= 0x1f, function <= 7).
 * Returns 0, or -EINVAL with a reason in WHY ("function 9 is out of range 0-7").
 * Existence is not checked here.
 */
int addr_parse(const char *s, struct vm_addr *a, char *why, size_t whylen);

/* The canonical name: "0000:3b:00.2", the lower-case UUID, or the path. */
const char *addr_name(const struct vm_addr *a, char *buf, size_t len);

/*
 * Sizes as users type them: decimal, 0x hex, with an optional K, M, G or T
 * suffix (powers of 1024). 0 or -EINVAL (garbage) or -ERANGE (overflow).
 */
int parse_size(const char *s, unsigned long long *val);

/* The value of hex digit C, -1 for anything else; our own test, not <ctype.h>, so the locale cannot widen it. */
int hexval(char c);

#endif
