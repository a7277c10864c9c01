/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VFIO and iommufd ioctls, one thin call each: 0 or -errno, no messages. */
#ifndef VFIOMIG_VFIO_H
#define VFIOMIG_VFIO_H

#include <stddef.h>
#include <stdint.h>

#include "mig.h"
#include "ranges.h"
#include "uapi.h"

/* VFIO_DEVICE_FEATURE directions. */
#define VFIO_FEAT_GET VFIO_DEVICE_FEATURE_GET
#define VFIO_FEAT_SET VFIO_DEVICE_FEATURE_SET

/* Legacy path: container, group, device. */
int vfio_container_open(int *fd);
int vfio_group_open(int group, int *fd);
int vfio_group_viable(int group_fd, bool *viable);
int vfio_group_attach(int group_fd, int container_fd);
int vfio_group_device(int group_fd, const char *name, int *fd);

/*
 * cdev path: /dev/vfio/devices/vfioN bound to an iommufd. Opening a cdev
 * never fails for a device in use: BIND_IOMMUFD refuses instead (EBUSY
 * while a process has the group node open, EINVAL while another cdev user
 * has the device bound, EPERM while a kernel driver owns DMA in the group).
 */
int vfio_cdev_open(const char *path, int *fd);
int vfio_iommufd_open(int *fd);
int vfio_cdev_bind(int dev_fd, int iommufd);
/* An empty IOAS in IOMMUFD for the bound device, attached to it. */
int vfio_cdev_attach_ioas(int dev_fd, int iommufd);

int vfio_device_info(int fd, struct vfio_device_info *info);
int vfio_device_reset(int fd);

/* VFIO_DEVICE_FEATURE with FLAGS (GET/SET/PROBE | feature) and a payload. */
int vfio_feature(int fd, uint32_t flags, void *payload, size_t len);
/* PROBE: 0 if FEATURE is supported in direction DIR (GET or SET). */
int vfio_feature_probe(int fd, uint32_t feature, uint32_t dir);

int vfio_mig_flags(int fd, uint64_t *flags);
int vfio_mig_get_state(int fd, enum mig_state *state);
/* On success *DATA_FD is the new data fd, or -1 when the arc gives none. */
int vfio_mig_set_state(int fd, enum mig_state state, int *data_fd);
int vfio_mig_data_size(int fd, uint64_t *stop_copy_length);
int vfio_precopy_info(int data_fd, struct vm_precopy_info *info);

/*
 * LOW_POWER_ENTRY, or LOW_POWER_ENTRY_WITH_WAKEUP when WAKE_EVENTFD >= 0:
 * the kernel signals that eventfd once, on the first wake.
 */
int vfio_low_power_enter(int fd, int wake_eventfd);
int vfio_low_power_exit(int fd);

/*
 * DMA dirty logging (6.1). START hands the kernel RANGES by address (it
 * reads them during the call); *PAGE_SIZE is the hint going in and the
 * driver's choice coming out. REPORT reads and clears the log of range R
 * into BITMAP, bitmap_bytes() long, which the kernel only ORs bits into.
 */
int vfio_dma_logging_start(int fd, const struct dirty_range *ranges, uint32_t n,
			   uint64_t *page_size);
int vfio_dma_logging_stop(int fd);
int vfio_dma_logging_report(int fd, const struct dirty_range *r, uint64_t page_size,
			    void *bitmap);

/* "MIG_DEVICE_STATE" etc., for -v traces and the feature table. */
const char *vfio_feature_name(uint32_t feature);

#endif
