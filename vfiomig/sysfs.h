/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading sysfs and /proc: device facts that need no device fd. 0 or -errno, no messages. */
#ifndef VFIOMIG_SYSFS_H
#define VFIOMIG_SYSFS_H

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

/* A process that has PATH open. */
struct holder {
	pid_t pid;
	char comm[32];
};
/* Up to MAX processes with PATH open (found through /proc/PID/fd); the count or -errno. */
int proc_holders(const char *path, struct holder *h, int max);

#endif
