// SPDX-License-Identifier: GPL-2.0-or-later
/* The VFIO kernel boundary: every ioctl vfiomig issues on container, group, device and data fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfio.h"
#include "vfiomig.h"

static int open_rw(const char *path, int *fd)
{
	*fd = open(path, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* ioctl() with EINTR retried and the result as 0 or -errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int vfio_container_open(int *fd)
{
	int ret = open_rw("/dev/vfio/vfio", fd);

	if (ret)
		return ret;
	ret = xioctl(*fd, VFIO_GET_API_VERSION, NULL);
	if (ret >= 0 && ret != VFIO_API_VERSION)
		ret = -EPROTO;
	else if (ret >= 0)
		ret = xioctl(*fd, VFIO_CHECK_EXTENSION, (void *)(long)VFIO_TYPE1v2_IOMMU);
	if (ret == 0)
		ret = -EOPNOTSUPP; /* no type1v2 IOMMU driver */
	if (ret < 0) {
		close(*fd);
		*fd = -1;
		return ret;
	}
	return 0;
}

int vfio_group_open(int group, int *fd)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return open_rw(path, fd);
}

int vfio_group_viable(int group_fd, bool *viable)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int ret = xioctl(group_fd, VFIO_GROUP_GET_STATUS, &st);

	if (ret < 0)
		return ret;
	*viable = st.flags & VFIO_GROUP_FLAGS_VIABLE;
	return 0;
}

int vfio_group_attach(int group_fd, int container_fd)
{
	int ret = xioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd);

	if (ret < 0)
		return ret;
	/* Only the first group in a container picks the IOMMU model; one group here. */
	ret = xioctl(container_fd, VFIO_SET_IOMMU, (void *)(long)VFIO_TYPE1v2_IOMMU);
	return ret < 0 ? ret : 0;
}

int vfio_group_device(int group_fd, const char *name, int *fd)
{
	int ret = xioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, (void *)name);

	*fd = ret < 0 ? -1 : ret;
	return ret < 0 ? ret : 0;
}

int vfio_cdev_open(const char *path, int *fd)
{
	return open_rw(path, fd);
}

int vfio_iommufd_open(int *fd)
{
	return open_rw("/dev/iommu", fd);
}

int vfio_cdev_bind(int dev_fd, int iommufd)
{
	struct vm_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = iommufd };
	int ret = xioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	return ret < 0 ? ret : 0;
}

int vfio_cdev_attach_ioas(int dev_fd, int iommufd)
{
	struct vm_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vm_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	int ret;

	/*
	 * Migration needs no DMA mappings, but some drivers expect the device
	 * to sit in an address space: give it an empty one, as QEMU would.
	 */
	ret = xioctl(iommufd, VM_IOMMU_IOAS_ALLOC, &ioas);
	if (ret < 0)
		return ret;
	attach.pt_id = ioas.out_ioas_id;
	ret = xioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	return ret < 0 ? ret : 0;
}

int vfio_device_info(int fd, struct vfio_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	int ret = xioctl(fd, VFIO_DEVICE_GET_INFO, info);

	return ret < 0 ? ret : 0;
}

int vfio_device_reset(int fd)
{
	int ret = xioctl(fd, VFIO_DEVICE_RESET, NULL);

	return ret < 0 ? ret : 0;
}

const char *vfio_feature_name(uint32_t feature)
{
	static const char *const names[] = {
		[1] = "MIGRATION",
		[2] = "MIG_DEVICE_STATE",
		[3] = "LOW_POWER_ENTRY",
		[4] = "LOW_POWER_ENTRY_WITH_WAKEUP",
		[5] = "LOW_POWER_EXIT",
		[6] = "DMA_LOGGING_START",
		[7] = "DMA_LOGGING_STOP",
		[8] = "DMA_LOGGING_REPORT",
		[9] = "MIG_DATA_SIZE",
	};

	if (feature < ARRAY_SIZE(names) && names[feature])
		return names[feature];
	return "feature";
}

int vfio_feature(int fd, uint32_t flags, void *payload, size_t len)
{
	/* The header and the payload are one buffer; keep the u64 payloads aligned. */
	union {
		struct vfio_device_feature f;
		uint64_t align;
		uint8_t buf[sizeof(struct vfio_device_feature) + 64];
	} u;
	int ret;

	if (len > sizeof(u.buf) - sizeof(u.f))
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	u.f.argsz = sizeof(u.f) + len;
	u.f.flags = flags;
	if (len)
		memcpy(u.f.data, payload, len);
	ret = xioctl(fd, VFIO_DEVICE_FEATURE, &u.f);
	vm_debug("ioctl DEVICE_FEATURE %s%s%s %s: %s",
		 flags & VFIO_DEVICE_FEATURE_PROBE ? "PROBE " : "",
		 flags & VFIO_FEAT_GET ? "GET" : "",
		 flags & VFIO_FEAT_SET ? "SET" : "",
		 vfio_feature_name(flags & VFIO_DEVICE_FEATURE_MASK),
		 ret < 0 ? strerror(-ret) : "ok");
	if (ret < 0)
		return ret;
	if (len)
		memcpy(payload, u.f.data, len);
	return 0;
}

int vfio_feature_probe(int fd, uint32_t feature, uint32_t dir)
{
	return vfio_feature(fd, VFIO_DEVICE_FEATURE_PROBE | dir | feature, NULL, 0);
}

/* START's payload points at our ranges and the kernel reads them as its own struct. */
_Static_assert(sizeof(struct dirty_range) == sizeof(struct vfio_device_feature_dma_logging_range) &&
	       offsetof(struct dirty_range, iova) ==
	       offsetof(struct vfio_device_feature_dma_logging_range, iova) &&
	       offsetof(struct dirty_range, length) ==
	       offsetof(struct vfio_device_feature_dma_logging_range, length),
	       "struct dirty_range must have the kernel's range layout");

int vfio_dma_logging_start(int fd, const struct dirty_range *ranges, uint32_t n,
			   uint64_t *page_size)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = *page_size,
		.num_ranges = n,
		.ranges = (uintptr_t)ranges,
	};
	int ret = vfio_feature(fd, VFIO_FEAT_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			       &c, sizeof(c));

	if (!ret)
		*page_size = c.page_size;
	return ret;
}

int vfio_dma_logging_stop(int fd)
{
	return vfio_feature(fd, VFIO_FEAT_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

int vfio_dma_logging_report(int fd, const struct dirty_range *r, uint64_t page_size,
			    void *bitmap)
{
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = r->iova,
		.length = r->length,
		.page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};

	return vfio_feature(fd, VFIO_FEAT_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			    &rep, sizeof(rep));
}

int vfio_mig_flags(int fd, uint64_t *flags)
{
	struct vfio_device_feature_migration m = { 0 };
	int ret = vfio_feature(fd, VFIO_FEAT_GET | VFIO_DEVICE_FEATURE_MIGRATION,
			       &m, sizeof(m));

	if (!ret)
		*flags = m.flags;
	return ret;
}

int vfio_mig_get_state(int fd, enum mig_state *state)
{
	struct vfio_device_feature_mig_state s = { .data_fd = -1 };
	int ret = vfio_feature(fd, VFIO_FEAT_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       &s, sizeof(s));

	if (!ret)
		*state = s.device_state;
	return ret;
}

int vfio_mig_set_state(int fd, enum mig_state state, int *data_fd)
{
	struct vfio_device_feature_mig_state s = {
		.device_state = state,
		.data_fd = -1,
	};
	int ret = vfio_feature(fd, VFIO_FEAT_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       &s, sizeof(s));

	*data_fd = ret ? -1 : s.data_fd;
	return ret;
}

int vfio_mig_data_size(int fd, uint64_t *stop_copy_length)
{
	struct vm_mig_data_size d = { 0 };
	int ret = vfio_feature(fd, VFIO_FEAT_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			       &d, sizeof(d));

	if (!ret)
		*stop_copy_length = d.stop_copy_length;
	return ret;
}

int vfio_precopy_info(int data_fd, struct vm_precopy_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	int ret = xioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, info);

	return ret < 0 ? ret : 0;
}

int vfio_low_power_enter(int fd, int wake_eventfd)
{
	/* The payload of LOW_POWER_ENTRY_WITH_WAKEUP (6.1), under our own name. */
	struct {
		__s32 wakeup_eventfd;
		__u32 reserved;
	} wake = { .wakeup_eventfd = wake_eventfd };

	if (wake_eventfd < 0)
		return vfio_feature(fd, VFIO_FEAT_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0);
	return vfio_feature(fd, VFIO_FEAT_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
			    &wake, sizeof(wake));
}

int vfio_low_power_exit(int fd)
{
	return vfio_feature(fd, VFIO_FEAT_SET | VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0);
}
