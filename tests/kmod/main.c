// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfiomig_test: a vfio-pci variant driver for QEMU's edu device that gives
 * vfiomig's lab tests a device with real migration, dirty logging and low
 * power, whose state they can inspect and disturb through debugfs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "vmt.h"

static unsigned long state_size = SZ_1M;
module_param(state_size, ulong, 0444);
MODULE_PARM_DESC(state_size, "payload bytes of each device at bind time (default 1 MiB)");

/*
 * A VFIO_DEVICE_RESET runs with vfio-pci-core's memory_lock held, so its
 * reset_done callback must not wait for state_mutex; the reset is recorded
 * here and carried out by whoever takes state_mutex next.  Every reader of
 * the state takes the mutex first, so nobody sees the state from before it.
 */
void vmt_state_lock(struct vmt_device *vd)
{
	mutex_lock(&vd->state_mutex);
	if (atomic_xchg(&vd->reset_pending, 0))
		vmt_mig_reset_locked(vd);
}

void vmt_state_unlock(struct vmt_device *vd)
{
	mutex_unlock(&vd->state_mutex);
}

/* States in which the device runs and so may change its own state. */
bool vmt_device_active(struct vmt_device *vd)
{
	switch (vd->state) {
	case VMT_RUNNING:
	case VMT_RUNNING_P2P:
	case VMT_PRE_COPY:
	case VMT_PRE_COPY_P2P:
		return true;
	}
	return false;
}

/*
 * The user may have switched memory decoding off through the device fd, yet
 * the registers must still be saved and restored.  Decoding is turned on for
 * the access and put back; memory_lock keeps vfio-pci-core's own command
 * register updates and resets away meanwhile.
 */
static u16 vmt_mmio_begin(struct vmt_device *vd)
{
	struct pci_dev *pdev = vd->core.pdev;
	u16 cmd;

	down_read(&vd->core.memory_lock);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

static void vmt_mmio_end(struct vmt_device *vd, u16 cmd)
{
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vd->core.pdev, PCI_COMMAND, cmd);
	up_read(&vd->core.memory_lock);
}

void vmt_regs_read(struct vmt_device *vd, struct vmt_regs *r)
{
	u16 cmd = vmt_mmio_begin(vd);

	r->liveness = readl(vd->bar0 + EDU_REG_LIVENESS);
	r->dma_src = readq(vd->bar0 + EDU_REG_DMA_SRC);
	r->dma_dst = readq(vd->bar0 + EDU_REG_DMA_DST);
	r->dma_cnt = readq(vd->bar0 + EDU_REG_DMA_CNT);
	vmt_mmio_end(vd, cmd);
}

void vmt_regs_write(struct vmt_device *vd, const struct vmt_regs *r)
{
	u16 cmd = vmt_mmio_begin(vd);

	/* edu stores the complement of what is written to the liveness register. */
	writel(~r->liveness, vd->bar0 + EDU_REG_LIVENESS);
	writeq(r->dma_src, vd->bar0 + EDU_REG_DMA_SRC);
	writeq(r->dma_dst, vd->bar0 + EDU_REG_DMA_DST);
	writeq(r->dma_cnt, vd->bar0 + EDU_REG_DMA_CNT);
	vmt_mmio_end(vd, cmd);
}

/* A raw register write, as a guest driver would do it. */
int vmt_reg_write_one(struct vmt_device *vd, const char *name, u64 val)
{
	unsigned int off;
	u16 cmd;

	if (!strcmp(name, "liveness")) {
		if (val > U32_MAX)
			return -ERANGE;
		cmd = vmt_mmio_begin(vd);
		writel(val, vd->bar0 + EDU_REG_LIVENESS);
		vmt_mmio_end(vd, cmd);
		return 0;
	}
	if (!strcmp(name, "dma_src"))
		off = EDU_REG_DMA_SRC;
	else if (!strcmp(name, "dma_dst"))
		off = EDU_REG_DMA_DST;
	else if (!strcmp(name, "dma_cnt"))
		off = EDU_REG_DMA_CNT;
	else
		return -EINVAL;

	cmd = vmt_mmio_begin(vd);
	writeq(val, vd->bar0 + off);
	vmt_mmio_end(vd, cmd);
	return 0;
}

/* The register block as the fingerprint hashes it, laid out like REGS. */
void vmt_regs_encode(const struct vmt_regs *r, u8 out[32])
{
	put_unaligned_le32(r->liveness, out);
	put_unaligned_le32(0, out + 4);
	put_unaligned_le64(r->dma_src, out + 8);
	put_unaligned_le64(r->dma_dst, out + 16);
	put_unaligned_le64(r->dma_cnt, out + 24);
}

/* CRC-32 as zlib computes it, so tests can check it from userspace. */
u32 vmt_crc_begin(void)
{
	return ~0U;
}

u32 vmt_crc_end(u32 crc)
{
	return ~crc;
}

/* splitmix64: cheap, and every seed gives an unrelated stream. */
static u64 vmt_rand_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void vmt_pattern_fill(void *buf, size_t size, u64 seed)
{
	u8 *p = buf;
	u64 s = seed;
	size_t i;

	for (i = 0; i + 8 <= size; i += 8) {
		put_unaligned_le64(vmt_rand_next(&s), p + i);
		/* Tens of MiB take a while under TCG. */
		if (!(i & (SZ_1M - 1)))
			cond_resched();
	}
	if (i < size) {
		u8 tail[8];

		put_unaligned_le64(vmt_rand_next(&s), tail);
		memcpy(p + i, tail, size - i);
	}
}

static int vmt_init_dev(struct vfio_device *vdev)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);
	struct pci_dev *pdev = to_pci_dev(vdev->dev);
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < EDU_MMIO_LEN)
		return -ENODEV;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;

	mutex_init(&vd->state_mutex);
	mutex_init(&vd->payload_lock);
	mutex_init(&vd->log_lock);
	atomic_set(&vd->reset_pending, 0);
	vd->state = VMT_RUNNING;
	vd->kept_state = VMT_RUNNING;
	vd->fail_state = -1;
	vd->fail_read_after = -1;
	vd->fail_write_after = -1;
	vd->stream_format = VMT_FMT_VMT;
	vd->mlx5_bad_rec = -1;
	vd->log_ranges = RB_ROOT_CACHED;
	strscpy(vd->resume_status, "none", sizeof(vd->resume_status));

	/*
	 * vfio-pci-core maps BARs only while the device is open (and 6.1 does
	 * not export the helper), but tests inspect the registers of closed
	 * devices too, so the driver keeps a mapping of its own.  It claims
	 * no region, so it does not get in vfio-pci-core's way.
	 */
	vd->bar0 = pci_iomap(pdev, 0, EDU_MMIO_LEN);
	if (!vd->bar0) {
		ret = -ENOMEM;
		goto err_core;
	}

	/* Distinct per device, so two instances never carry the same state. */
	vd->seed = ((u64)pci_domain_nr(pdev->bus) << 16) | pci_dev_id(pdev);
	vd->payload_size = state_size;
	vd->payload = vmalloc(vd->payload_size);
	if (!vd->payload) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	vmt_pattern_fill(vd->payload, vd->payload_size, vd->seed);

	vdev->migration_flags = VMT_MIG_FLAGS_ALL;
	vdev->mig_ops = &vmt_mig_ops;
	vdev->log_ops = &vmt_log_ops;
	return 0;

err_unmap:
	pci_iounmap(pdev, vd->bar0);
err_core:
	mutex_destroy(&vd->log_lock);
	mutex_destroy(&vd->payload_lock);
	mutex_destroy(&vd->state_mutex);
	vfio_pci_core_release_dev(vdev);
	return ret;
}

static void vmt_release_dev(struct vfio_device *vdev)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);

	vmt_log_stop_all(vd);
	vfree(vd->payload);
	pci_iounmap(vd->core.pdev, vd->bar0);
	mutex_destroy(&vd->log_lock);
	mutex_destroy(&vd->payload_lock);
	mutex_destroy(&vd->state_mutex);
	vfio_pci_core_release_dev(vdev);
}

static int vmt_open_device(struct vfio_device *vdev)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);
	int ret;

	ret = vfio_pci_core_enable(&vd->core);
	if (ret)
		return ret;

	vmt_state_lock(vd);
	vd->state = vd->kept_state;
	vd->opened = true;
	vmt_state_unlock(vd);

	vfio_pci_core_finish_enable(&vd->core);
	return 0;
}

static void vmt_close_device(struct vfio_device *vdev)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);

	u32 state;

	vmt_state_lock(vd);
	state = vd->state;
	vmt_mig_reset_locked(vd);
	/* The data fds end with the close either way: only the state is kept. */
	vd->kept_state = vd->keep_state ? state : VMT_RUNNING;
	vd->opened = false;
	vmt_state_unlock(vd);
	vmt_log_stop_all(vd);
	vfio_pci_core_close_device(vdev);
}

static const struct vfio_device_ops vmt_vfio_ops = {
	.name		= "vfiomig-test",
	.init		= vmt_init_dev,
	.release	= vmt_release_dev,
	.open_device	= vmt_open_device,
	.close_device	= vmt_close_device,
	.ioctl		= vfio_pci_core_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	/* NULL without CONFIG_IOMMUFD; binding through iommufd needs them. */
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif
};

static int vmt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vmt_device *vd;
	int ret;

	vd = vfio_alloc_device(vmt_device, core.vdev, &pdev->dev, &vmt_vfio_ops);
	if (IS_ERR(vd))
		return PTR_ERR(vd);

	dev_set_drvdata(&pdev->dev, &vd->core);
	ret = vfio_pci_core_register_device(&vd->core);
	if (ret)
		goto err_put;
	/* Tests rely on the instance: a device without it fails to bind, loudly. */
	ret = vmt_devlink_add(vd);
	if (ret) {
		dev_err(&pdev->dev, "cannot register the devlink instance: %d\n", ret);
		goto err_unregister;
	}
	vmt_debugfs_add(vd);
	return 0;

err_unregister:
	vfio_pci_core_unregister_device(&vd->core);
err_put:
	vfio_put_device(&vd->core.vdev);
	return ret;
}

static void vmt_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct vmt_device *vd = container_of(core, struct vmt_device, core);

	/* debugfs first: its handlers reach into the devlink instance. */
	vmt_debugfs_remove(vd);
	vmt_devlink_remove(vd);
	vfio_pci_core_unregister_device(&vd->core);
	vfio_put_device(&vd->core.vdev);
}

static void vmt_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct vmt_device *vd = container_of(core, struct vmt_device, core);

	atomic_set(&vd->reset_pending, 1);
}

static const struct pci_error_handlers vmt_err_handlers = {
	.reset_done	= vmt_reset_done,
	.error_detected	= vfio_pci_core_aer_err_detected,
};

/* Override-only: the driver binds to an edu only when a test asks for it. */
static const struct pci_device_id vmt_ids[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1234, 0x11e8) },
	{}
};
MODULE_DEVICE_TABLE(pci, vmt_ids);

static struct pci_driver vmt_driver = {
	.name			= KBUILD_MODNAME,
	.id_table		= vmt_ids,
	.probe			= vmt_probe,
	.remove			= vmt_remove,
	.err_handler		= &vmt_err_handlers,
	.driver_managed_dma	= true,
};

static int __init vmt_init(void)
{
	int ret;

	if (!state_size || state_size > VMT_MAX_STATE) {
		pr_err("state_size must be between 1 and %u\n", VMT_MAX_STATE);
		return -EINVAL;
	}

	vmt_debugfs_init();
	ret = pci_register_driver(&vmt_driver);
	if (ret)
		vmt_debugfs_exit();
	return ret;
}

static void __exit vmt_exit(void)
{
	pci_unregister_driver(&vmt_driver);
	vmt_debugfs_exit();
}

module_init(vmt_init);
module_exit(vmt_exit);

/* Since 6.7 iova_bitmap_set() lives in iommufd, exported in its namespace. */
#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER) && LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("IOMMUFD");
#else
MODULE_IMPORT_NS(IOMMUFD);
#endif
#endif
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-pci variant driver for QEMU's edu device, for vfiomig's tests");
