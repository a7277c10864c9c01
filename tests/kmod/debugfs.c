// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiomig_test's debugfs files, for tests to inspect and disturb devices (contract: README.md). */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "vmt.h"

#define VMT_DBG_MAX_INPUT	256

static struct dentry *vmt_dbg_root;

/* Split a user's line into at most max blank-separated words. */
static int vmt_words(char *s, char **word, int max)
{
	int n = 0;
	char *w;

	while ((w = strsep(&s, " \t\n")) != NULL) {
		if (!*w)
			continue;
		if (n == max)
			return -EINVAL;
		word[n++] = w;
	}
	return n;
}

/* Copy a write in, split it; the caller frees *buf. */
static int vmt_input(const char __user *ubuf, size_t count, char **buf,
		     char **word, int max)
{
	int n;

	if (!count || count > VMT_DBG_MAX_INPUT)
		return -EINVAL;
	*buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(*buf))
		return PTR_ERR(*buf);
	n = vmt_words(*buf, word, max);
	if (n < 0) {
		kfree(*buf);
		*buf = NULL;
	}
	return n;
}

static int vmt_input_u64(const char __user *ubuf, size_t count, u64 *val)
{
	char *buf, *word[1];
	int n, ret;

	n = vmt_input(ubuf, count, &buf, word, 1);
	if (n < 0)
		return n;
	ret = n == 1 ? kstrtou64(word[0], 0, val) : -EINVAL;
	kfree(buf);
	return ret;
}

static int vmt_input_s64(const char __user *ubuf, size_t count, s64 *val)
{
	char *buf, *word[1];
	int n, ret;

	n = vmt_input(ubuf, count, &buf, word, 1);
	if (n < 0)
		return n;
	ret = n == 1 ? kstrtos64(word[0], 0, val) : -EINVAL;
	kfree(buf);
	return ret;
}

#define VMT_DBG_RW(name)						\
static int name##_open(struct inode *inode, struct file *file)		\
{									\
	return single_open(file, name##_show, inode->i_private);	\
}									\
static const struct file_operations name##_fops = {			\
	.owner		= THIS_MODULE,					\
	.open		= name##_open,					\
	.read		= seq_read,					\
	.write		= name##_write,					\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}

static struct vmt_device *vmt_seq_dev(struct seq_file *m)
{
	return m->private;
}

static struct vmt_device *vmt_file_dev(struct file *file)
{
	return file_inode(file)->i_private;
}

/* state_size */

static int state_size_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	mutex_lock(&vd->payload_lock);
	seq_printf(m, "%zu\n", vd->payload_size);
	mutex_unlock(&vd->payload_lock);
	return 0;
}

static ssize_t state_size_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	void *payload, *old;
	u64 size;
	int ret;

	ret = vmt_input_u64(ubuf, count, &size);
	if (ret)
		return ret;
	if (!size || size > VMT_MAX_STATE)
		return -EINVAL;

	vmt_state_lock(vd);
	/* A size change under a migration would tear its stream apart. */
	if (vd->state != VMT_RUNNING) {
		ret = -EBUSY;
		goto out;
	}
	payload = vmalloc(size);
	if (!payload) {
		ret = -ENOMEM;
		goto out;
	}
	vmt_pattern_fill(payload, size, vd->seed);

	mutex_lock(&vd->payload_lock);
	old = vd->payload;
	vd->payload = payload;
	vd->payload_size = size;
	mutex_unlock(&vd->payload_lock);
	vfree(old);
	vmt_debugfs_payload_resized(vd);
out:
	vmt_state_unlock(vd);
	return ret ? ret : count;
}

VMT_DBG_RW(state_size);

/* seed */

static int seed_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	mutex_lock(&vd->payload_lock);
	seq_printf(m, "%llu\n", vd->seed);
	mutex_unlock(&vd->payload_lock);
	return 0;
}

static ssize_t seed_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	u64 seed;
	int ret;

	ret = vmt_input_u64(ubuf, count, &seed);
	if (ret)
		return ret;

	vmt_state_lock(vd);
	/* A stopped device does not change; STOP_COPY relies on that. */
	if (!vmt_device_active(vd)) {
		ret = -EBUSY;
		goto out;
	}
	mutex_lock(&vd->payload_lock);
	vmt_pattern_fill(vd->payload, vd->payload_size, seed);
	vd->seed = seed;
	vmt_mig_payload_changed(vd);
	mutex_unlock(&vd->payload_lock);
out:
	vmt_state_unlock(vd);
	return ret ? ret : count;
}

VMT_DBG_RW(seed);

/* payload */

static ssize_t payload_read(struct file *file, char __user *ubuf, size_t count,
			    loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	ssize_t ret;

	mutex_lock(&vd->payload_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, vd->payload,
				      vd->payload_size);
	mutex_unlock(&vd->payload_lock);
	return ret;
}

static const struct file_operations payload_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= payload_read,
	.llseek	= default_llseek,
};

/* fingerprint */

static int fingerprint_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);
	struct vmt_regs r;
	u8 block[32];
	size_t size;
	u32 crc;

	/* Under state_mutex nothing can change the device halfway through. */
	vmt_state_lock(vd);
	vmt_regs_read(vd, &r);
	vmt_regs_encode(&r, block);
	crc = crc32_le(vmt_crc_begin(), block, sizeof(block));
	mutex_lock(&vd->payload_lock);
	crc = crc32_le(crc, vd->payload, vd->payload_size);
	size = vd->payload_size;
	mutex_unlock(&vd->payload_lock);
	vmt_state_unlock(vd);

	seq_printf(m, "%08x %zu\n", vmt_crc_end(crc), size);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(fingerprint);

/* regs */

static int regs_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);
	struct vmt_regs r;

	vmt_regs_read(vd, &r);
	seq_printf(m, "liveness=0x%x dma_src=0x%llx dma_dst=0x%llx dma_cnt=0x%llx\n",
		   r.liveness, r.dma_src, r.dma_dst, r.dma_cnt);
	return 0;
}

static ssize_t regs_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[2];
	u64 val;
	int n, ret;

	n = vmt_input(ubuf, count, &buf, word, 2);
	if (n < 0)
		return n;
	ret = n == 2 ? kstrtou64(word[1], 0, &val) : -EINVAL;
	if (ret)
		goto out_free;

	vmt_state_lock(vd);
	if (vmt_device_active(vd))
		ret = vmt_reg_write_one(vd, word[0], val);
	else
		ret = -EBUSY;
	vmt_state_unlock(vd);
out_free:
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(regs);

/* state */

static int state_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);
	u32 state;

	vmt_state_lock(vd);
	state = vd->state;
	vmt_state_unlock(vd);
	seq_printf(m, "%u %s\n", state, vmt_state_name(state));
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(state);

/* mig_flags */

static int mig_flags_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);
	u32 flags;

	vmt_state_lock(vd);
	flags = vd->core.vdev.migration_flags;
	vmt_state_unlock(vd);
	seq_printf(m, "%u\n", flags);
	return 0;
}

static ssize_t mig_flags_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	u64 flags;
	int ret;

	ret = vmt_input_u64(ubuf, count, &flags);
	if (ret)
		return ret;
	if (!(flags & VFIO_MIGRATION_STOP_COPY) || (flags & ~(u64)VMT_MIG_FLAGS_ALL))
		return -EINVAL;

	vmt_state_lock(vd);
	/* The core reads the flags on every migration ioctl of an open device. */
	if (vd->opened)
		ret = -EBUSY;
	else
		vd->core.vdev.migration_flags = flags;
	vmt_state_unlock(vd);
	return ret ? ret : count;
}

VMT_DBG_RW(mig_flags);

/* fail_state */

static int fail_state_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	vmt_state_lock(vd);
	if (vd->fail_state < 0)
		seq_puts(m, "off\n");
	else
		seq_printf(m, "%d %d%s\n", vd->fail_state, vd->fail_errno,
			   vd->fail_to_error ? " error" : "");
	vmt_state_unlock(vd);
	return 0;
}

static ssize_t fail_state_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[3];
	bool to_error = false;
	u32 state;
	int n, err, ret;

	n = vmt_input(ubuf, count, &buf, word, 3);
	if (n < 0)
		return n;

	if (n == 1 && !strcmp(word[0], "off")) {
		vmt_state_lock(vd);
		vd->fail_state = -1;
		vmt_state_unlock(vd);
		ret = 0;
		goto out_free;
	}

	ret = -EINVAL;
	if (n < 2 || kstrtou32(word[0], 0, &state) || kstrtoint(word[1], 0, &err))
		goto out_free;
	if (n == 3) {
		if (strcmp(word[2], "error"))
			goto out_free;
		to_error = true;
	}
	if (err < 0)
		err = -err;
	if (state == VMT_ERROR || state >= VMT_NR_STATES || !err ||
	    err >= MAX_ERRNO)
		goto out_free;

	vmt_state_lock(vd);
	vd->fail_state = state;
	vd->fail_errno = err;
	vd->fail_to_error = to_error;
	vmt_state_unlock(vd);
	ret = 0;
out_free:
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(fail_state);

/* fail_read_after, fail_write_after */

static int fail_read_after_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	seq_printf(m, "%lld\n", READ_ONCE(vd->fail_read_after));
	return 0;
}

static ssize_t fail_read_after_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	s64 val;
	int ret;

	ret = vmt_input_s64(ubuf, count, &val);
	if (ret)
		return ret;
	if (val < -1)
		return -EINVAL;
	WRITE_ONCE(vd->fail_read_after, val);
	return count;
}

VMT_DBG_RW(fail_read_after);

static int fail_write_after_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	seq_printf(m, "%lld\n", READ_ONCE(vd->fail_write_after));
	return 0;
}

static ssize_t fail_write_after_write(struct file *file,
				      const char __user *ubuf, size_t count,
				      loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	s64 val;
	int ret;

	ret = vmt_input_s64(ubuf, count, &val);
	if (ret)
		return ret;
	if (val < -1)
		return -EINVAL;
	WRITE_ONCE(vd->fail_write_after, val);
	return count;
}

VMT_DBG_RW(fail_write_after);

/* precopy_enomsg, resume_bytes */

static int precopy_enomsg_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", atomic_read(&vmt_seq_dev(m)->precopy_enomsg));
	return 0;
}

static ssize_t precopy_enomsg_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	u64 val;
	int ret;

	ret = vmt_input_u64(ubuf, count, &val);
	if (ret)
		return ret;
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set(&vd->precopy_enomsg, val);
	return count;
}

VMT_DBG_RW(precopy_enomsg);

static int resume_bytes_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%llu\n", READ_ONCE(vmt_seq_dev(m)->resume_bytes));
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(resume_bytes);

/* arcs */

static int arcs_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);
	unsigned int i, at;

	vmt_state_lock(vd);
	at = (vd->arc_next + VMT_ARC_LOG_LEN - vd->arc_count) % VMT_ARC_LOG_LEN;
	for (i = 0; i < vd->arc_count; i++) {
		const struct vmt_arc *a = &vd->arcs[(at + i) % VMT_ARC_LOG_LEN];

		seq_printf(m, "%llu %s %s\n", a->seq, vmt_state_name(a->from),
			   vmt_state_name(a->to));
	}
	vmt_state_unlock(vd);
	return 0;
}

static ssize_t arcs_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);

	vmt_state_lock(vd);
	vd->arc_count = 0;
	vd->arc_next = 0;
	vmt_state_unlock(vd);
	return count;
}

VMT_DBG_RW(arcs);

/* dirty */

static ssize_t dirty_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[2];
	u64 iova, length;
	int n, ret;

	n = vmt_input(ubuf, count, &buf, word, 2);
	if (n < 0)
		return n;
	ret = -EINVAL;
	if (n == 2 && !kstrtou64(word[0], 0, &iova) &&
	    !kstrtou64(word[1], 0, &length))
		ret = vmt_log_mark(vd, iova, length);
	kfree(buf);
	return ret ? ret : count;
}

static const struct file_operations dirty_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= dirty_write,
	.llseek	= noop_llseek,
};

/* dirty_on_start */

static int dirty_on_start_show(struct seq_file *m, void *v)
{
	vmt_log_show_on_start(vmt_seq_dev(m), m);
	return 0;
}

static ssize_t dirty_on_start_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	struct vmt_span s[VMT_DIRTY_ON_START_MAX];
	char *buf, *word[2 * VMT_DIRTY_ON_START_MAX];
	int n, i, ret = -EINVAL;

	n = vmt_input(ubuf, count, &buf, word, ARRAY_SIZE(word));
	if (n < 0)
		return n;
	if (n == 1 && !strcmp(word[0], "off"))
		n = 0;
	else if (!n || n % 2)
		goto out_free;
	for (i = 0; i < n / 2; i++) {
		if (kstrtou64(word[2 * i], 0, &s[i].iova) ||
		    kstrtou64(word[2 * i + 1], 0, &s[i].length) ||
		    !s[i].length || s[i].length - 1 > U64_MAX - s[i].iova)
			goto out_free;
	}
	vmt_log_set_on_start(vd, s, n / 2);
	ret = 0;
out_free:
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(dirty_on_start);

/* fail_report */

static int fail_report_show(struct seq_file *m, void *v)
{
	vmt_log_show_fail_report(vmt_seq_dev(m), m);
	return 0;
}

static ssize_t fail_report_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[2];
	u64 iova;
	int n, err, ret = -EINVAL;

	n = vmt_input(ubuf, count, &buf, word, 2);
	if (n < 0)
		return n;
	if (n == 1 && !strcmp(word[0], "off")) {
		vmt_log_set_fail_report(vd, 0, 0);
		ret = 0;
	} else if (n == 2 && !kstrtou64(word[0], 0, &iova) &&
		   !kstrtoint(word[1], 0, &err)) {
		if (err < 0)
			err = -err;
		if (err && err < MAX_ERRNO) {
			vmt_log_set_fail_report(vd, iova, err);
			ret = 0;
		}
	}
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(fail_report);

/* logging */

static int logging_show(struct seq_file *m, void *v)
{
	vmt_log_show(vmt_seq_dev(m), m);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(logging);

/* resume_status */

static int resume_status_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	vmt_state_lock(vd);
	seq_printf(m, "%s\n", vd->resume_status);
	vmt_state_unlock(vd);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(resume_status);

/* stream_format */

static const char *const vmt_formats[] = {
	[VMT_FMT_VMT]	= "vmt",
	[VMT_FMT_MLX5]	= "mlx5",
};

static int stream_format_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);
	int fmt;

	vmt_state_lock(vd);
	fmt = vd->stream_format;
	vmt_state_unlock(vd);
	seq_printf(m, "%s\n", vmt_formats[fmt]);
	return 0;
}

static ssize_t stream_format_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[1];
	int n, i, ret = -EINVAL;

	n = vmt_input(ubuf, count, &buf, word, 1);
	if (n < 0)
		return n;
	for (i = 0; n == 1 && i < ARRAY_SIZE(vmt_formats); i++) {
		if (strcmp(word[0], vmt_formats[i]))
			continue;
		/* Data fds already open keep the framing they started with. */
		vmt_state_lock(vd);
		vd->stream_format = i;
		vmt_state_unlock(vd);
		ret = 0;
	}
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(stream_format);

/* mlx5_bad_tag */

static int mlx5_bad_tag_show(struct seq_file *m, void *v)
{
	struct vmt_device *vd = vmt_seq_dev(m);

	vmt_state_lock(vd);
	if (vd->mlx5_bad_rec < 0)
		seq_puts(m, "off\n");
	else
		seq_printf(m, "%lld %u\n", vd->mlx5_bad_rec, vd->mlx5_bad_tag);
	vmt_state_unlock(vd);
	return 0;
}

static ssize_t mlx5_bad_tag_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[2];
	s64 rec = -1;
	u32 tag = 0;
	int n, ret = 0;

	n = vmt_input(ubuf, count, &buf, word, 2);
	if (n < 0)
		return n;
	if (n == 1 && !strcmp(word[0], "off"))
		rec = -1;
	else if (n != 2 || kstrtos64(word[0], 0, &rec) || rec < 0 ||
		 kstrtou32(word[1], 0, &tag))
		ret = -EINVAL;
	if (!ret) {
		vmt_state_lock(vd);
		vd->mlx5_bad_rec = rec;
		vd->mlx5_bad_tag = tag;
		vmt_state_unlock(vd);
	}
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(mlx5_bad_tag);

/* devlink, devlink_fail */

static int devlink_show(struct seq_file *m, void *v)
{
	vmt_devlink_show(vmt_seq_dev(m), m);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(devlink);

static int devlink_fail_show(struct seq_file *m, void *v)
{
	vmt_devlink_show_fail(vmt_seq_dev(m), m);
	return 0;
}

static ssize_t devlink_fail_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct vmt_device *vd = vmt_file_dev(file);
	char *buf, *word[1];
	int n, err = 0, ret = -EINVAL;

	n = vmt_input(ubuf, count, &buf, word, 1);
	if (n < 0)
		return n;
	if (n == 1 && (!strcmp(word[0], "off") || !kstrtoint(word[0], 0, &err))) {
		if (err < 0)
			err = -err;
		if (err < MAX_ERRNO)
			ret = vmt_devlink_set_fail(vd, err);
	}
	kfree(buf);
	return ret ? ret : count;
}

VMT_DBG_RW(devlink_fail);

void vmt_debugfs_payload_resized(struct vmt_device *vd)
{
	struct inode *inode;
	size_t size;

	if (IS_ERR_OR_NULL(vd->dbg_payload))
		return;
	mutex_lock(&vd->payload_lock);
	size = vd->payload_size;
	mutex_unlock(&vd->payload_lock);

	/* So that stat() and tools that trust it see the new size. */
	inode = d_inode(vd->dbg_payload);
	inode_lock(inode);
	i_size_write(inode, size);
	inode_unlock(inode);
}

void vmt_debugfs_add(struct vmt_device *vd)
{
	struct dentry *dir;

	dir = debugfs_create_dir(pci_name(vd->core.pdev), vmt_dbg_root);
	vd->dbg_dir = dir;
	debugfs_create_file("state_size", 0644, dir, vd, &state_size_fops);
	debugfs_create_file("seed", 0644, dir, vd, &seed_fops);
	vd->dbg_payload = debugfs_create_file("payload", 0444, dir, vd,
					      &payload_fops);
	debugfs_create_file("fingerprint", 0444, dir, vd, &fingerprint_fops);
	debugfs_create_file("regs", 0644, dir, vd, &regs_fops);
	debugfs_create_file("state", 0444, dir, vd, &state_fops);
	debugfs_create_file("mig_flags", 0644, dir, vd, &mig_flags_fops);
	debugfs_create_bool("keep_state", 0644, dir, &vd->keep_state);
	debugfs_create_file("fail_state", 0644, dir, vd, &fail_state_fops);
	debugfs_create_file("fail_read_after", 0644, dir, vd,
			    &fail_read_after_fops);
	debugfs_create_file("fail_write_after", 0644, dir, vd,
			    &fail_write_after_fops);
	debugfs_create_file("precopy_enomsg", 0644, dir, vd,
			    &precopy_enomsg_fops);
	debugfs_create_file("resume_bytes", 0444, dir, vd, &resume_bytes_fops);
	debugfs_create_file("arcs", 0644, dir, vd, &arcs_fops);
	debugfs_create_file("dirty", 0200, dir, vd, &dirty_fops);
	debugfs_create_file("dirty_on_start", 0644, dir, vd,
			    &dirty_on_start_fops);
	debugfs_create_file("logging", 0444, dir, vd, &logging_fops);
	debugfs_create_u64("log_max_span", 0644, dir, &vd->log_max_span);
	debugfs_create_file("fail_report", 0644, dir, vd, &fail_report_fops);
	debugfs_create_file("resume_status", 0444, dir, vd,
			    &resume_status_fops);
	debugfs_create_file("stream_format", 0644, dir, vd, &stream_format_fops);
	debugfs_create_file("mlx5_bad_tag", 0644, dir, vd, &mlx5_bad_tag_fops);
	if (vd->devlink) {
		debugfs_create_file("devlink", 0444, dir, vd, &devlink_fops);
		if (vmt_devlink_has_caps())
			debugfs_create_file("devlink_fail", 0644, dir, vd,
					    &devlink_fail_fops);
	}
	vmt_debugfs_payload_resized(vd);
}

void vmt_debugfs_remove(struct vmt_device *vd)
{
	/* Waits for running handlers, so none outlives the device. */
	debugfs_remove_recursive(vd->dbg_dir);
	vd->dbg_dir = NULL;
	vd->dbg_payload = NULL;
}

void vmt_debugfs_init(void)
{
	vmt_dbg_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void vmt_debugfs_exit(void)
{
	debugfs_remove_recursive(vmt_dbg_root);
	vmt_dbg_root = NULL;
}
