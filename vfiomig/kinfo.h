/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the running kernel offers, read without touching a device: release, config, VFIO's debugfs view. */
#ifndef VFIOMIG_KINFO_H
#define VFIOMIG_KINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mig.h"

/* uname -r */
const char *kinfo_release(void);
/* Whether the running kernel is at least MAJOR.MINOR. */
bool kinfo_at_least(int major, int minor);
/*
 * CONFIG_NAME of the running kernel: 'y', 'm', 'n' (not set), or 0 when
 * no config is readable (/boot/config-RELEASE, /proc/config.gz).
 */
char kinfo_config(const char *name);
/* Where the config came from, or NULL. */
const char *kinfo_config_source(void);

/*
 * VFIO's debugfs view of a device another process may hold (about 6.10 on):
 * /sys/kernel/debug/vfio/DEV/migration/state and, on newer kernels,
 * .../features. -ENOENT when the kernel has no such view.
 */
int kinfo_debugfs_state(const char *dev, enum mig_state *state);
int kinfo_debugfs_features(const char *dev, uint64_t *flags);

#endif
