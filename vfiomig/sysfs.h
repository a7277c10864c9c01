/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading sysfs and /proc: device facts that need no device fd. 0 or -errno, no messages. */
#ifndef VFIOMIG_SYSFS_H
#define VFIOMIG_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The first line of DIR/ATTR, without its newline. */
int sysfs_read(const char *dir, const char *attr, char *buf, size_t len);
/* DIR/ATTR as an unsigned number (sysfs writes IDs as 0x-prefixed hex). */
int sysfs_read_ulong(const char *dir, const char *attr, unsigned long *val);
/* The last component of the symlink DIR/ATTR ("vfio-pci" for "driver"); -ENOENT if absent. */
int sysfs_link_name(const char *dir, const char *attr, char *buf, size_t len);
/* Whether DIR/NAME exists. */
int sysfs_exists(const char *dir, const char *name);
/* The name of the single entry of DIR/SUB whose name starts with PREFIX ("vfio" in vfio-dev/). */
int sysfs_find_entry(const char *dir, const char *sub, const char *prefix,
		     char *buf, size_t len);

/* Calls FN for each entry name of DIR (no dot entries), sorted; stops at a non-zero return. */
int sysfs_each(const char *dir, int (*fn)(const char *name, void *data), void *data);

/*
 * A device's power state as sysfs shows it. Reading these attributes does
 * not touch the device, so a runtime-suspended device stays suspended.
 * An attribute the device lacks is "" (power_state exists for PCI only).
 */
struct sysfs_pm {
	char runtime_status[16]; /* power/runtime_status: active, suspended, ... */
	char power_state[16];    /* power_state: D0, D3hot, ... */
	char control[16];        /* power/control: auto or on */
	/*
	 * power/runtime_suspended_time: milliseconds spent runtime-suspended
	 * since the device was added; it stops counting while the device is
	 * awake, so two readings tell when a wake came.
	 */
	unsigned long suspended_ms;
	bool has_suspended_ms;
};
/* 0 when at least power/runtime_status was read, else -errno. */
int sysfs_pm_read(const char *dir, struct sysfs_pm *pm);
/*
 * Whether the PCI function at DIR has a PCI power-management capability:
 * 1, 0, or -errno (-EACCES when only the first 64 bytes are readable).
 * It reads config space through sysfs, which resumes a runtime-suspended
 * device only from D3cold (its parent bridge is resumed for the access):
 * call it for a device in D0, D3hot, or one this process holds awake.
 */
int sysfs_pci_has_pm_cap(const char *dir);

/* A process that has PATH open. */
struct holder {
	pid_t pid;
	char comm[32];
};
/* Up to MAX processes with PATH open (found through /proc/PID/fd); the count or -errno. */
int proc_holders(const char *path, struct holder *h, int max);

/*
 * Whether the running kernel has the function NAME, built in or in a loaded
 * module, from /proc/kallsyms: 1, 0, or -errno when it cannot be read. For
 * explaining a failure by what the kernel was built with.
 */
int proc_kernel_has_symbol(const char *name);

#endif
