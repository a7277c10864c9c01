/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel ABI newer than the build host's headers, defined by the project from the documented facts. */
#ifndef VFIOMIG_UAPI_H
#define VFIOMIG_UAPI_H

#include <linux/types.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

/*
 * Build hosts may carry uAPI headers older than the kernels vfiomig drives
 * (Debian 12 has 6.1's). Every definition below is guarded, so a newer
 * header wins; the values are the kernel's ABI and can never change.
 */

/* 6.2: the pre-copy phase and its size reporting. */
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#endif
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif
#ifndef VFIO_MIG_GET_PRECOPY_INFO
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

/* Layouts we use under our own names, so that no #ifndef can hide a struct. */
struct vm_mig_data_size {
	__aligned_u64 stop_copy_length;
};

struct vm_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};

/* 6.6: VFIO device cdevs bound to an iommufd. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif
#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

struct vm_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};

struct vm_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};

/* iommufd (6.2): ioctls on /dev/iommu are _IO(';', 0x80 + n). */
#define VM_IOMMUFD_TYPE ';'
#define VM_IOMMU_IOAS_ALLOC _IO(VM_IOMMUFD_TYPE, 0x81)

struct vm_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

#endif
