// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiomig_test's DMA dirty logging: the ranges the core hands over, one dirty bitmap per range. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/iova_bitmap.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vmt.h"

/* Bitmaps stay within 2 MiB in all: larger spans get larger pages. */
#define VMT_LOG_MAX_PAGES	BIT_ULL(24)
#define VMT_LOG_MIN_PAGE	SZ_4K
#define VMT_LOG_MAX_REQ_PAGE	SZ_1G

/*
 * node spans whole pages, so the tree answers "which bitmaps cover this
 * address"; start/last keep the range as requested, for validation and show.
 */
struct vmt_range {
	struct interval_tree_node node;
	unsigned long start;
	unsigned long last;
	unsigned long npages;
	unsigned long *bitmap;
};

static u64 vmt_range_pages(unsigned long start, unsigned long last, u64 pg)
{
	u64 base = start & ~(pg - 1);

	return (last - base) / pg + 1;
}

/*
 * Mark the pages holding any byte of [iova, end] that lies in a logged
 * range; bytes outside every range are not logged, as with real DMA.
 * log_lock held.
 */
static void vmt_log_set_locked(struct vmt_device *vd, unsigned long iova,
			       unsigned long end)
{
	struct interval_tree_node *n;

	for (n = interval_tree_iter_first(&vd->log_ranges, iova, end); n;
	     n = interval_tree_iter_next(n, iova, end)) {
		struct vmt_range *r = container_of(n, struct vmt_range, node);
		u64 pg = vd->log_page_size;
		unsigned long lo = max_t(unsigned long, iova, r->start);
		unsigned long hi = min(end, r->last);
		unsigned long first, last;

		if (lo > hi)
			continue;
		first = (lo - n->start) / pg;
		last = (hi - n->start) / pg;
		bitmap_set(r->bitmap, first, last - first + 1);
	}
}

static u64 vmt_log_page_size(struct rb_root_cached *ranges, u64 req)
{
	struct interval_tree_node *n;
	u64 pg = clamp_t(u64, req, VMT_LOG_MIN_PAGE, VMT_LOG_MAX_REQ_PAGE);
	u64 total;

	pg = roundup_pow_of_two(pg);
	for (;;) {
		total = 0;
		for (n = interval_tree_iter_first(ranges, 0, ULONG_MAX); n;
		     n = interval_tree_iter_next(n, 0, ULONG_MAX))
			total += vmt_range_pages(n->start, n->last, pg);
		if (total <= VMT_LOG_MAX_PAGES || pg >= BIT_ULL(62))
			return pg;
		pg <<= 1;
	}
}

static void vmt_log_free_locked(struct vmt_device *vd)
{
	struct interval_tree_node *n;

	while ((n = interval_tree_iter_first(&vd->log_ranges, 0, ULONG_MAX))) {
		struct vmt_range *r = container_of(n, struct vmt_range, node);

		interval_tree_remove(n, &vd->log_ranges);
		kvfree(r->bitmap);
		kfree(r);
	}
	vd->logging = false;
	vd->log_page_size = 0;
}

static int vmt_log_start(struct vfio_device *vdev, struct rb_root_cached *ranges,
			 u32 nnodes, u64 *page_size)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);
	struct interval_tree_node *n;
	unsigned int i;
	int ret = 0;
	u64 pg;

	mutex_lock(&vd->log_lock);
	/*
	 * The core keeps no record of a running log; refusing is ours to do,
	 * with EINVAL as mlx5 and pds do.
	 */
	if (vd->logging) {
		ret = -EINVAL;
		goto out;
	}

	if (READ_ONCE(vd->log_max_span)) {
		u64 max_span = READ_ONCE(vd->log_max_span), total = 0;
		bool over = false;

		for (n = interval_tree_iter_first(ranges, 0, ULONG_MAX); n;
		     n = interval_tree_iter_next(n, 0, ULONG_MAX))
			over |= check_add_overflow(total,
						   (u64)(n->last - n->start) + 1,
						   &total);
		/* Rounded up to a power of two, as mlx5 sizes its tracker. */
		if (over || total > rounddown_pow_of_two(max_span)) {
			ret = -EOPNOTSUPP;
			goto out;
		}
	}

	pg = vmt_log_page_size(ranges, *page_size);
	/* The core frees its nodes after this call: keep copies. */
	for (n = interval_tree_iter_first(ranges, 0, ULONG_MAX); n;
	     n = interval_tree_iter_next(n, 0, ULONG_MAX)) {
		struct vmt_range *r = kzalloc(sizeof(*r), GFP_KERNEL);
		unsigned long span_last;

		if (!r) {
			ret = -ENOMEM;
			break;
		}
		r->start = n->start;
		r->last = n->last;
		r->npages = vmt_range_pages(n->start, n->last, pg);
		r->node.start = n->start & ~(pg - 1);
		if (check_add_overflow(r->node.start,
				       (unsigned long)(r->npages * pg - 1),
				       &span_last))
			span_last = ULONG_MAX;
		r->node.last = span_last;
		r->bitmap = kvcalloc(BITS_TO_LONGS(r->npages),
				     sizeof(unsigned long), GFP_KERNEL);
		if (!r->bitmap) {
			kfree(r);
			ret = -ENOMEM;
			break;
		}
		interval_tree_insert(&r->node, &vd->log_ranges);
	}
	if (ret) {
		vmt_log_free_locked(vd);
		goto out;
	}

	vd->logging = true;
	vd->log_page_size = pg;
	*page_size = pg;
	for (i = 0; i < vd->dirty_on_start_n; i++) {
		const struct vmt_span *s = &vd->dirty_on_start[i];

		/* Checked when written: length >= 1, no wrap. */
		vmt_log_set_locked(vd, s->iova, s->iova + (s->length - 1));
	}
out:
	mutex_unlock(&vd->log_lock);
	return ret;
}

static int vmt_log_stop(struct vfio_device *vdev)
{
	vmt_log_stop_all(vmt_from_vfio(vdev));
	return 0;
}

void vmt_log_stop_all(struct vmt_device *vd)
{
	mutex_lock(&vd->log_lock);
	vmt_log_free_locked(vd);
	mutex_unlock(&vd->log_lock);
}

/*
 * Called per window of the user's bitmap.  A page reaching past the window
 * stays dirty, so the next window (or the next report) still sees it.
 */
static int vmt_log_read_and_clear(struct vfio_device *vdev, unsigned long iova,
				  unsigned long length, struct iova_bitmap *dirty)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);
	struct interval_tree_node *n;
	unsigned long end;
	int ret = 0;

	if (!length || check_add_overflow(iova, length - 1, &end))
		return -EINVAL;

	mutex_lock(&vd->log_lock);
	if (!vd->logging) {
		ret = -EINVAL;
		goto out;
	}
	if (vd->fail_report_errno && vd->fail_report_iova >= iova &&
	    vd->fail_report_iova <= end) {
		ret = -vd->fail_report_errno;
		vd->fail_report_errno = 0;
		goto out;
	}

	for (n = interval_tree_iter_first(&vd->log_ranges, iova, end); n;
	     n = interval_tree_iter_next(n, iova, end)) {
		struct vmt_range *r = container_of(n, struct vmt_range, node);
		u64 pg = vd->log_page_size;
		unsigned long lo = max(iova, n->start);
		unsigned long hi = min(end, n->last);
		unsigned long stop = (hi - n->start) / pg + 1;
		unsigned long i = (lo - n->start) / pg;

		for_each_set_bit_from(i, r->bitmap, stop) {
			unsigned long ps, pl, s, e;

			ps = n->start + i * pg;
			pl = min_t(unsigned long, ps + (pg - 1), n->last);
			s = max(ps, iova);
			e = min(pl, end);
			iova_bitmap_set(dirty, s, e - s + 1);
			if (pl <= end)
				clear_bit(i, r->bitmap);
		}
	}
out:
	mutex_unlock(&vd->log_lock);
	return ret;
}

const struct vfio_log_ops vmt_log_ops = {
	.log_start		= vmt_log_start,
	.log_stop		= vmt_log_stop,
	.log_read_and_clear	= vmt_log_read_and_clear,
};

/* Find the requested range holding addr, if any; log_lock held. */
static struct vmt_range *vmt_log_find(struct vmt_device *vd, unsigned long addr)
{
	struct interval_tree_node *n;

	for (n = interval_tree_iter_first(&vd->log_ranges, addr, addr); n;
	     n = interval_tree_iter_next(n, addr, addr)) {
		struct vmt_range *r = container_of(n, struct vmt_range, node);

		if (r->start <= addr && addr <= r->last)
			return r;
	}
	return NULL;
}

/* Pretend the device wrote [iova, iova + length): what a test's DMA would do. */
int vmt_log_mark(struct vmt_device *vd, u64 iova, u64 length)
{
	unsigned long end, cur;
	int ret = 0;

	if (!length || iova > ULONG_MAX || length - 1 > ULONG_MAX - iova)
		return -EINVAL;
	end = iova + (length - 1);

	mutex_lock(&vd->log_lock);
	if (!vd->logging) {
		ret = -EINVAL;
		goto out;
	}

	/* All or nothing: every byte must lie in a logged range. */
	for (cur = iova;;) {
		struct vmt_range *r = vmt_log_find(vd, cur);

		if (!r) {
			ret = -EINVAL;
			goto out;
		}
		if (r->last >= end)
			break;
		cur = r->last + 1;
	}
	vmt_log_set_locked(vd, iova, end);
out:
	mutex_unlock(&vd->log_lock);
	return ret;
}

void vmt_log_show(struct vmt_device *vd, struct seq_file *m)
{
	struct interval_tree_node *n;
	const char *sep = "";

	mutex_lock(&vd->log_lock);
	if (!vd->logging) {
		seq_puts(m, "off\n");
		goto out;
	}
	seq_printf(m, "on page_size=%llu ranges=", vd->log_page_size);
	for (n = interval_tree_iter_first(&vd->log_ranges, 0, ULONG_MAX); n;
	     n = interval_tree_iter_next(n, 0, ULONG_MAX)) {
		struct vmt_range *r = container_of(n, struct vmt_range, node);

		seq_printf(m, "%s0x%lx:0x%lx", sep, r->start,
			   r->last - r->start + 1);
		sep = ",";
	}
	seq_putc(m, '\n');
out:
	mutex_unlock(&vd->log_lock);
}

void vmt_log_set_on_start(struct vmt_device *vd, const struct vmt_span *s,
			  unsigned int n)
{
	mutex_lock(&vd->log_lock);
	memcpy(vd->dirty_on_start, s, n * sizeof(*s));
	vd->dirty_on_start_n = n;
	mutex_unlock(&vd->log_lock);
}

void vmt_log_show_on_start(struct vmt_device *vd, struct seq_file *m)
{
	unsigned int i;

	mutex_lock(&vd->log_lock);
	if (!vd->dirty_on_start_n)
		seq_puts(m, "off");
	for (i = 0; i < vd->dirty_on_start_n; i++)
		seq_printf(m, "%s0x%llx 0x%llx", i ? " " : "",
			   vd->dirty_on_start[i].iova,
			   vd->dirty_on_start[i].length);
	seq_putc(m, '\n');
	mutex_unlock(&vd->log_lock);
}

void vmt_log_set_fail_report(struct vmt_device *vd, u64 iova, int err)
{
	mutex_lock(&vd->log_lock);
	vd->fail_report_iova = iova;
	vd->fail_report_errno = err;
	mutex_unlock(&vd->log_lock);
}

void vmt_log_show_fail_report(struct vmt_device *vd, struct seq_file *m)
{
	mutex_lock(&vd->log_lock);
	if (vd->fail_report_errno)
		seq_printf(m, "0x%llx %d\n", vd->fail_report_iova,
			   vd->fail_report_errno);
	else
		seq_puts(m, "off\n");
	mutex_unlock(&vd->log_lock);
}
