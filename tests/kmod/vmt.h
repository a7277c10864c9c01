/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Definitions shared by the parts of vfiomig_test, the edu variant driver the lab tests migrate. */
#ifndef VMT_H
#define VMT_H

#include <linux/atomic.h>
#include <linux/interval_tree.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
/* The unaligned helpers moved from asm/ to linux/ in 6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* PRE_COPY, its data-fd ioctl and MIG_DATA_SIZE all arrived in 6.2. */
#ifdef VFIO_MIGRATION_PRE_COPY
#define VMT_MIG_PRE_COPY	VFIO_MIGRATION_PRE_COPY
#else
#define VMT_MIG_PRE_COPY	0
#endif
#define VMT_MIG_FLAGS_ALL	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | \
				 VMT_MIG_PRE_COPY)

/*
 * Migration states by their uAPI numbers, kept as plain integers because the
 * 6.1 enum has no names for the PRE_COPY states.
 */
enum {
	VMT_ERROR,
	VMT_STOP,
	VMT_RUNNING,
	VMT_STOP_COPY,
	VMT_RESUMING,
	VMT_RUNNING_P2P,
	VMT_PRE_COPY,
	VMT_PRE_COPY_P2P,
	VMT_NR_STATES,
};

/* edu registers that are plain storage in QEMU's model (0x98 would start DMA). */
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_MMIO_LEN		0x100

#define VMT_MAX_STATE		SZ_1G
#define VMT_ARC_LOG_LEN		1024
#define VMT_DIRTY_ON_START_MAX	8

/* The framing a device's data fds speak (debugfs stream_format). */
enum {
	VMT_FMT_VMT,		/* the driver's own records */
	VMT_FMT_MLX5,		/* the same records, each inside an mlx5-style record */
};

struct vmt_regs {
	u32 liveness;
	u64 dma_src;
	u64 dma_dst;
	u64 dma_cnt;
};

struct vmt_arc {
	u64 seq;
	u8 from;
	u8 to;
};

/* [iova, iova + length): a span of IOVA the device "writes". */
struct vmt_span {
	u64 iova;
	u64 length;
};

struct vmt_mig_file;

struct vmt_device {
	/* First member: vfio_alloc_device() requires the vfio_device at offset 0. */
	struct vfio_pci_core_device core;
	void __iomem *bar0;

	/*
	 * state_mutex orders everything about migration; it nests outside a
	 * data fd's lock, which nests outside payload_lock.
	 */
	struct mutex state_mutex;
	atomic_t reset_pending;
	bool opened;
	u32 state;
	/*
	 * keep_state makes a close leave the migration state as it was, the
	 * way upstream mtty behaves, so tests can start a transition from any
	 * state across processes; kept_state carries it to the next open.
	 */
	bool keep_state;
	u32 kept_state;
	struct vmt_mig_file *saving;
	struct vmt_mig_file *resuming;

	int fail_state;			/* -1: no injected failure */
	int fail_errno;
	bool fail_to_error;
	s64 fail_read_after;		/* -1: off; read locklessly by the fds */
	s64 fail_write_after;

	/* Reads of a pre-copy fd still to answer ENOMSG although bytes are owed. */
	atomic_t precopy_enomsg;
	/* Bytes the latest resume fd took, read locklessly by debugfs. */
	u64 resume_bytes;

	struct vmt_arc arcs[VMT_ARC_LOG_LEN];
	unsigned int arc_next;
	unsigned int arc_count;
	char resume_status[128];

	struct mutex payload_lock;	/* payload, payload_size, seed, tracker */
	void *payload;
	size_t payload_size;
	u64 seed;
	struct vmt_mig_file *tracker;	/* saving fd to tell about payload changes */

	struct mutex log_lock;		/* everything about dirty logging */
	bool logging;
	u64 log_page_size;
	struct rb_root_cached log_ranges;
	/*
	 * Spans marked dirty the moment logging starts, as if the device
	 * wrote them right after START: a test knows what the first report
	 * must hold without racing the command that starts and reports.
	 */
	struct vmt_span dirty_on_start[VMT_DIRTY_ON_START_MAX];
	unsigned int dirty_on_start_n;
	/*
	 * Faults of real trackers: START refuses ranges that total more than
	 * log_max_span once rounded up to a power of two (0: no limit), with
	 * EOPNOTSUPP as mlx5_vfio_pci does; the next REPORT whose range holds
	 * fail_report_iova fails with fail_report_errno (0: off), once.
	 */
	u64 log_max_span;
	u64 fail_report_iova;
	int fail_report_errno;

	/*
	 * Stream framing, taken by each data fd when it is created; under
	 * state_mutex.  mlx5_bad_rec >= 0 makes that mlx5 record of every
	 * later save stream carry mlx5_bad_tag instead of its own tag.
	 */
	int stream_format;
	s64 mlx5_bad_rec;
	u32 mlx5_bad_tag;

	struct devlink *devlink;	/* NULL without CONFIG_NET_DEVLINK */

	struct dentry *dbg_dir;
	struct dentry *dbg_payload;
};

static inline struct vmt_device *vmt_from_vfio(struct vfio_device *vdev)
{
	return container_of(vdev, struct vmt_device, core.vdev);
}

/* main.c */
void vmt_state_lock(struct vmt_device *vd);
void vmt_state_unlock(struct vmt_device *vd);
bool vmt_device_active(struct vmt_device *vd);
void vmt_regs_read(struct vmt_device *vd, struct vmt_regs *r);
void vmt_regs_write(struct vmt_device *vd, const struct vmt_regs *r);
int vmt_reg_write_one(struct vmt_device *vd, const char *name, u64 val);
void vmt_pattern_fill(void *buf, size_t size, u64 seed);
u32 vmt_crc_begin(void);
u32 vmt_crc_end(u32 crc);
void vmt_regs_encode(const struct vmt_regs *r, u8 out[32]);

/* migration.c */
extern const struct vfio_migration_ops vmt_mig_ops;
const char *vmt_state_name(u32 state);
void vmt_mig_reset_locked(struct vmt_device *vd);
void vmt_mig_payload_changed(struct vmt_device *vd);

/* dirty.c */
extern const struct vfio_log_ops vmt_log_ops;
void vmt_log_stop_all(struct vmt_device *vd);
int vmt_log_mark(struct vmt_device *vd, u64 iova, u64 length);
struct seq_file;
void vmt_log_show(struct vmt_device *vd, struct seq_file *m);
void vmt_log_set_on_start(struct vmt_device *vd, const struct vmt_span *s,
			  unsigned int n);
void vmt_log_show_on_start(struct vmt_device *vd, struct seq_file *m);
void vmt_log_set_fail_report(struct vmt_device *vd, u64 iova, int err);
void vmt_log_show_fail_report(struct vmt_device *vd, struct seq_file *m);

/* devlink.c */
int vmt_devlink_add(struct vmt_device *vd);
void vmt_devlink_remove(struct vmt_device *vd);
bool vmt_devlink_has_caps(void);
void vmt_devlink_show(struct vmt_device *vd, struct seq_file *m);
void vmt_devlink_show_fail(struct vmt_device *vd, struct seq_file *m);
int vmt_devlink_set_fail(struct vmt_device *vd, int err);

/* debugfs.c */
void vmt_debugfs_init(void);
void vmt_debugfs_exit(void);
void vmt_debugfs_add(struct vmt_device *vd);
void vmt_debugfs_remove(struct vmt_device *vd);
void vmt_debugfs_payload_resized(struct vmt_device *vd);

#endif
