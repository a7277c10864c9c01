// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiomig_test's migration: the state machine arcs and the data fds that carry the device state. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/compat.h>
#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "vmt.h"

/*
 * The stream.  All integers are little-endian.  A stream is a sequence of
 * records, each a 16-byte header followed by `length` bytes of body:
 *
 *   header   le32 magic 0x31544d56 ("VMT1"), le32 type, le64 length
 *
 *   REGS     type 1, length 40: the registers as STOP_COPY found them
 *            le32 liveness (what BAR0+0x04 reads), le32 0,
 *            le64 dma_src, le64 dma_dst, le64 dma_cnt,
 *            le64 seed of the payload pattern (so the destination's
 *            debugfs reports the same one)
 *   PAYLOAD  type 2, length 16 + n with n >= 1: n bytes of the payload
 *            le64 payload size (the same in every PAYLOAD record),
 *            le64 offset, a multiple of 4096, then the n bytes; n is a
 *            multiple of 4096 unless the piece ends the payload.  A later
 *            piece replaces what an earlier one said about the same bytes.
 *   END      type 3, length 16: le64 number of stream bytes before END,
 *            le32 CRC-32 of those bytes (zlib's crc32()), le32 0
 *
 * The source sends the payload in 256 KiB pieces: in PRE_COPY the initial
 * pass, then pieces that changed again; in STOP_COPY whatever pieces are
 * still owed, then REGS and END.  The destination applies nothing until
 * RESUMING->STOP, and only a stream with exactly one REGS, PAYLOAD pieces
 * covering every byte, a matching END and nothing after it.
 *
 * With stream_format mlx5 the same records travel inside records framed
 * the way mlx5_vfio_pci frames its firmware data, so tools that decode
 * mlx5 streams can be tested without the hardware:
 *
 *   header   le64 record_size (of the payload), le32 flags (bit 0:
 *            optional), le32 tag
 *   tag 1    STOP_COPY_SIZE, optional, 8 bytes: le64 the length of the
 *            whole stream as the first record goes out (what
 *            MIG_DATA_SIZE reports then); always the first record
 *   tag 0    FW_DATA, mandatory: one record of the stream above
 *
 * END's length and CRC cover the inner records only.  The destination
 * unwraps FW_DATA, skips optional records of unknown tags and refuses
 * mandatory ones and unknown flags.
 */
#define VMT_MAGIC		0x31544d56
#define VMT_REC_REGS		1
#define VMT_REC_PAYLOAD		2
#define VMT_REC_END		3

#define VMT_HDR_LEN		16
#define VMT_REGS_LEN		40
#define VMT_PIECE_HDR_LEN	16
#define VMT_END_LEN		16
#define VMT_CHUNK		SZ_256K
#define VMT_UNIT		SZ_4K
#define VMT_REC_MAX		(VMT_HDR_LEN + VMT_PIECE_HDR_LEN + VMT_CHUNK)

#define VMT_M5_HDR_LEN		16
#define VMT_M5_FLAG_OPTIONAL	1
#define VMT_M5_TAG_FW_DATA	0
#define VMT_M5_TAG_STOP_COPY_SIZE 1
#define VMT_M5_SCS_LEN		(VMT_M5_HDR_LEN + 8)

struct vmt_mig_file {
	struct file *filp;
	struct vmt_device *vd;		/* valid while !disabled */
	struct mutex lock;
	wait_queue_head_t wq;
	bool disabled;
	bool saving;
	u64 xfer;			/* bytes moved, for fail_*_after */
	u32 crc;			/* running CRC of the stream so far */
	u64 length;			/* stream bytes so far */

	bool mlx5;			/* stream_format mlx5 when the fd was made */

	/*
	 * Saving: records are built one at a time into rec; read() sends
	 * wire[rec_off..rec_len), which is rec or, in mlx5 framing, its
	 * header just in front of it (rec_buf has room for it).
	 */
	bool stop_copy;
	u8 *rec_buf;
	u8 *rec;
	u8 *wire;
	size_t rec_len;
	size_t rec_off;
	bool rec_initial;
	size_t payload_size;
	unsigned int nchunks;
	unsigned long *pending;		/* pieces still owed; under payload_lock */
	unsigned long *initial;		/* pieces of the first pass not yet built */
	struct vmt_regs regs;
	u64 seed;
	bool regs_sent;
	bool end_sent;
	bool scs_sent;			/* mlx5: the STOP_COPY_SIZE record went out */
	u64 m5_records;			/* mlx5 records built so far */
	s64 m5_bad_rec;			/* mlx5_bad_tag as the fd was made */
	u32 m5_bad_tag;

	/* Resuming: the stream is parsed as it arrives, errors are latched. */
	u8 hdr[VMT_HDR_LEN];
	size_t hdr_have;
	u32 hdr_crc;			/* crc and length where the header began */
	u64 hdr_pos;
	u32 type;
	u64 body_len;
	u64 body_have;
	u8 small[VMT_REGS_LEN];
	u64 piece_off;
	void *staged;
	size_t staged_size;
	unsigned long *covered;		/* 4 KiB units received */
	bool got_regs;
	bool got_end;
	struct vmt_regs new_regs;
	u64 new_seed;
	int err;
	char why[96];

	/* Resuming in mlx5 framing: the outer record being parsed. */
	u8 m5_hdr[VMT_M5_HDR_LEN];
	size_t m5_have;			/* header bytes in; 0 between records */
	u64 m5_left;			/* payload bytes still to come */
	u32 m5_tag;
	u64 m5_pos;			/* outer stream bytes so far */
	u64 m5_rec_pos;			/* where the current outer record began */
};

static const char *const vmt_state_names[VMT_NR_STATES] = {
	[VMT_ERROR]		= "error",
	[VMT_STOP]		= "stop",
	[VMT_RUNNING]		= "running",
	[VMT_STOP_COPY]		= "stop-copy",
	[VMT_RESUMING]		= "resuming",
	[VMT_RUNNING_P2P]	= "running-p2p",
	[VMT_PRE_COPY]		= "pre-copy",
	[VMT_PRE_COPY_P2P]	= "pre-copy-p2p",
};

const char *vmt_state_name(u32 state)
{
	return state < VMT_NR_STATES ? vmt_state_names[state] : "invalid";
}

static atomic64_t vmt_arc_seq = ATOMIC64_INIT(0);

static void vmt_arc_log(struct vmt_device *vd, u32 from, u32 to)
{
	struct vmt_arc *a = &vd->arcs[vd->arc_next];

	/* One counter for all devices, so tests can order arcs across them. */
	a->seq = atomic64_inc_return(&vmt_arc_seq);
	a->from = from;
	a->to = to;
	vd->arc_next = (vd->arc_next + 1) % VMT_ARC_LOG_LEN;
	if (vd->arc_count < VMT_ARC_LOG_LEN)
		vd->arc_count++;
}

static size_t vmt_chunk_len(struct vmt_mig_file *mf, unsigned int i)
{
	size_t off = (size_t)i * VMT_CHUNK;

	return min_t(size_t, VMT_CHUNK, mf->payload_size - off);
}

/* Bytes on the wire for an inner record of LEN bytes. */
static u64 vmt_wire_len(bool mlx5, u64 len)
{
	return len + (mlx5 ? VMT_M5_HDR_LEN : 0);
}

static u64 vmt_piece_rec_len(struct vmt_mig_file *mf, size_t n)
{
	return vmt_wire_len(mf->mlx5, VMT_HDR_LEN + VMT_PIECE_HDR_LEN + n);
}

/* The whole stream of a payload of SIZE bytes, saved from STOP. */
static u64 __maybe_unused vmt_stream_len(size_t size, bool mlx5)
{
	u64 n = DIV_ROUND_UP(size, VMT_CHUNK);
	u64 len = size + n * (VMT_HDR_LEN + VMT_PIECE_HDR_LEN) +
		  VMT_HDR_LEN + VMT_REGS_LEN + VMT_HDR_LEN + VMT_END_LEN;

	if (mlx5)
		len += (n + 2) * VMT_M5_HDR_LEN + VMT_M5_SCS_LEN;
	return len;
}

static void vmt_file_free_bufs(struct vmt_mig_file *mf)
{
	kvfree(mf->rec_buf);
	mf->rec_buf = NULL;
	mf->rec = NULL;
	mf->wire = NULL;
	mf->rec_len = 0;
	mf->rec_off = 0;
	bitmap_free(mf->pending);
	mf->pending = NULL;
	bitmap_free(mf->initial);
	mf->initial = NULL;
	vfree(mf->staged);
	mf->staged = NULL;
	bitmap_free(mf->covered);
	mf->covered = NULL;
}

static int vmt_file_release(struct inode *inode, struct file *filp)
{
	struct vmt_mig_file *mf = filp->private_data;

	/* The device dropped its reference first, so it no longer knows mf. */
	vmt_file_free_bufs(mf);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

/*
 * Detach a data fd from the device: later calls on it fail, and the device's
 * own reference goes, so the fd lives on only as long as userspace keeps it.
 */
static void vmt_file_end(struct vmt_device *vd, struct vmt_mig_file *mf)
{
	if (mf->saving) {
		mutex_lock(&vd->payload_lock);
		if (vd->tracker == mf)
			vd->tracker = NULL;
		mutex_unlock(&vd->payload_lock);
	}

	mutex_lock(&mf->lock);
	mf->disabled = true;
	mf->vd = NULL;
	vmt_file_free_bufs(mf);
	mutex_unlock(&mf->lock);

	wake_up_interruptible(&mf->wq);
	fput(mf->filp);
}

static void vmt_save_end(struct vmt_device *vd)
{
	if (vd->saving) {
		vmt_file_end(vd, vd->saving);
		vd->saving = NULL;
	}
}

static void vmt_resume_end(struct vmt_device *vd)
{
	if (vd->resuming) {
		vmt_file_end(vd, vd->resuming);
		vd->resuming = NULL;
	}
}

/* Close and VFIO_DEVICE_RESET: everything ends and the device runs again. */
void vmt_mig_reset_locked(struct vmt_device *vd)
{
	vmt_save_end(vd);
	vmt_resume_end(vd);
	vd->state = VMT_RUNNING;
}

/* Called with payload_lock held after the payload changed under a running device. */
void vmt_mig_payload_changed(struct vmt_device *vd)
{
	struct vmt_mig_file *mf = vd->tracker;

	if (!mf)
		return;
	/* Every piece may differ now: owe all of them again. */
	bitmap_fill(mf->pending, mf->nchunks);
	wake_up_interruptible(&mf->wq);
}

static void vmt_rec_header(u8 *p, u32 type, u64 len)
{
	put_unaligned_le32(VMT_MAGIC, p);
	put_unaligned_le32(type, p + 4);
	put_unaligned_le64(len, p + 8);
}

static void vmt_m5_header(struct vmt_mig_file *mf, u8 *p, u64 size, u32 flags,
			  u32 tag)
{
	/* mlx5_bad_tag: a header a decoder must call malformed. */
	if (mf->m5_bad_rec >= 0 && mf->m5_records == (u64)mf->m5_bad_rec)
		tag = mf->m5_bad_tag;
	put_unaligned_le64(size, p);
	put_unaligned_le32(flags, p + 8);
	put_unaligned_le32(tag, p + 12);
	mf->m5_records++;
}

/* The record in rec (rec_len bytes) is built: put it on the wire. */
static void vmt_save_frame(struct vmt_mig_file *mf)
{
	mf->rec_off = 0;
	mf->wire = mf->rec;
	if (!mf->mlx5)
		return;
	mf->wire = mf->rec - VMT_M5_HDR_LEN;
	vmt_m5_header(mf, mf->wire, mf->rec_len, 0, VMT_M5_TAG_FW_DATA);
	mf->rec_len += VMT_M5_HDR_LEN;
}

static u64 vmt_save_remaining(struct vmt_mig_file *mf);

/*
 * Build the next record into mf->rec; false when nothing is owed right now.
 * Called with mf->lock held.
 */
static bool vmt_save_build(struct vmt_mig_file *mf)
{
	struct vmt_device *vd = mf->vd;
	unsigned int i;
	u8 *p = mf->rec;

	if (mf->mlx5 && !mf->scs_sent) {
		/* Counted before it is marked sent, so it counts itself. */
		u64 total = vmt_save_remaining(mf);

		mf->wire = mf->rec_buf;
		vmt_m5_header(mf, mf->wire, 8, VMT_M5_FLAG_OPTIONAL,
			      VMT_M5_TAG_STOP_COPY_SIZE);
		put_unaligned_le64(total, mf->wire + VMT_M5_HDR_LEN);
		mf->rec_len = VMT_M5_SCS_LEN;
		mf->rec_off = 0;
		mf->rec_initial = true;
		mf->scs_sent = true;
		return true;
	}

	mutex_lock(&vd->payload_lock);
	i = find_first_bit(mf->pending, mf->nchunks);
	if (i < mf->nchunks) {
		size_t n = vmt_chunk_len(mf, i);
		size_t off = (size_t)i * VMT_CHUNK;

		vmt_rec_header(p, VMT_REC_PAYLOAD, VMT_PIECE_HDR_LEN + n);
		put_unaligned_le64(mf->payload_size, p + VMT_HDR_LEN);
		put_unaligned_le64(off, p + VMT_HDR_LEN + 8);
		memcpy(p + VMT_HDR_LEN + VMT_PIECE_HDR_LEN, vd->payload + off, n);
		clear_bit(i, mf->pending);
		mf->rec_initial = test_and_clear_bit(i, mf->initial);
		mf->rec_len = VMT_HDR_LEN + VMT_PIECE_HDR_LEN + n;
		mutex_unlock(&vd->payload_lock);
		goto built;
	}
	mutex_unlock(&vd->payload_lock);

	/* In PRE_COPY the device still runs: registers and END come later. */
	if (!mf->stop_copy)
		return false;

	mf->rec_initial = false;
	if (!mf->regs_sent) {
		vmt_rec_header(p, VMT_REC_REGS, VMT_REGS_LEN);
		p += VMT_HDR_LEN;
		put_unaligned_le32(mf->regs.liveness, p);
		put_unaligned_le32(0, p + 4);
		put_unaligned_le64(mf->regs.dma_src, p + 8);
		put_unaligned_le64(mf->regs.dma_dst, p + 16);
		put_unaligned_le64(mf->regs.dma_cnt, p + 24);
		put_unaligned_le64(mf->seed, p + 32);
		mf->rec_len = VMT_HDR_LEN + VMT_REGS_LEN;
		mf->regs_sent = true;
		goto built;
	}
	if (!mf->end_sent) {
		vmt_rec_header(p, VMT_REC_END, VMT_END_LEN);
		p += VMT_HDR_LEN;
		put_unaligned_le64(mf->length, p);
		put_unaligned_le32(vmt_crc_end(mf->crc), p + 8);
		put_unaligned_le32(0, p + 12);
		mf->rec_len = VMT_HDR_LEN + VMT_END_LEN;
		mf->end_sent = true;
		vmt_save_frame(mf);
		return true;
	}
	return false;

built:
	mf->crc = crc32_le(mf->crc, mf->rec, mf->rec_len);
	mf->length += mf->rec_len;
	vmt_save_frame(mf);
	return true;
}

static ssize_t vmt_save_read(struct file *filp, char __user *buf, size_t len,
			     loff_t *pos)
{
	struct vmt_mig_file *mf = filp->private_data;
	ssize_t done = 0;
	s64 limit;

	if (pos)
		return -ESPIPE;
	if (!len)
		return 0;

	mutex_lock(&mf->lock);
	if (mf->disabled) {
		done = -ENODEV;
		goto out;
	}

	/* Injected: nothing ready yet though bytes are owed, as a driver still preparing them. */
	if (!mf->stop_copy && atomic_dec_if_positive(&mf->vd->precopy_enomsg) >= 0) {
		done = -ENOMSG;
		goto out;
	}

	limit = READ_ONCE(mf->vd->fail_read_after);
	if (limit >= 0) {
		if (mf->xfer >= limit) {
			done = -EIO;
			goto out;
		}
		len = min_t(u64, len, limit - mf->xfer);
	}

	while (len) {
		size_t n;

		if (mf->rec_off == mf->rec_len && !vmt_save_build(mf))
			break;
		n = min(len, mf->rec_len - mf->rec_off);
		if (copy_to_user(buf, mf->wire + mf->rec_off, n)) {
			if (!done)
				done = -EFAULT;
			goto out;
		}
		mf->rec_off += n;
		buf += n;
		len -= n;
		done += n;
	}

	/*
	 * Nothing owed in PRE_COPY is a temporary end, not the end of the
	 * stream: the uAPI says so with ENOMSG.
	 */
	if (!done && !mf->stop_copy)
		done = -ENOMSG;
out:
	if (done > 0)
		mf->xfer += done;
	mutex_unlock(&mf->lock);
	return done;
}

/* Bytes still owed, split as PRE_COPY info reports them; mf->lock held. */
static void vmt_save_owed(struct vmt_mig_file *mf, u64 *initial, u64 *dirty)
{
	size_t staged = mf->rec_len - mf->rec_off;
	unsigned int i;

	*initial = 0;
	*dirty = 0;
	if (mf->rec_initial)
		*initial += staged;
	else
		*dirty += staged;
	if (mf->mlx5 && !mf->scs_sent)
		*initial += VMT_M5_SCS_LEN;

	mutex_lock(&mf->vd->payload_lock);
	for_each_set_bit(i, mf->pending, mf->nchunks) {
		u64 n = vmt_piece_rec_len(mf, vmt_chunk_len(mf, i));

		if (test_bit(i, mf->initial))
			*initial += n;
		else
			*dirty += n;
	}
	mutex_unlock(&mf->vd->payload_lock);
}

/* What a STOP_COPY from here still sends on this fd; mf->lock held. */
static u64 vmt_save_remaining(struct vmt_mig_file *mf)
{
	u64 initial, dirty, total;

	vmt_save_owed(mf, &initial, &dirty);
	total = initial + dirty;
	if (!mf->regs_sent)
		total += vmt_wire_len(mf->mlx5, VMT_HDR_LEN + VMT_REGS_LEN);
	if (!mf->end_sent)
		total += vmt_wire_len(mf->mlx5, VMT_HDR_LEN + VMT_END_LEN);
	return total;
}

static __poll_t vmt_save_poll(struct file *filp, struct poll_table_struct *wait)
{
	struct vmt_mig_file *mf = filp->private_data;
	__poll_t mask = 0;
	u64 initial, dirty;

	poll_wait(filp, &mf->wq, wait);

	mutex_lock(&mf->lock);
	if (mf->disabled) {
		mask = EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	} else if (mf->stop_copy) {
		/* Either data or the end of the stream: read() will not block. */
		mask = EPOLLIN | EPOLLRDNORM;
	} else {
		vmt_save_owed(mf, &initial, &dirty);
		if (initial || dirty)
			mask = EPOLLIN | EPOLLRDNORM;
	}
	mutex_unlock(&mf->lock);
	return mask;
}

#ifdef VFIO_MIG_GET_PRECOPY_INFO
static long vmt_save_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct vmt_mig_file *mf = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	u64 initial, dirty;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&mf->lock);
	/* Only meaningful while the device is in PRE_COPY or PRE_COPY_P2P. */
	if (mf->disabled || mf->stop_copy) {
		mutex_unlock(&mf->lock);
		return -EINVAL;
	}
	vmt_save_owed(mf, &initial, &dirty);
	mutex_unlock(&mf->lock);

	info.flags = 0;
	info.initial_bytes = initial;
	info.dirty_bytes = dirty;
	if (copy_to_user((void __user *)arg, &info, minsz))
		return -EFAULT;
	return 0;
}
#endif

static const struct file_operations vmt_save_fops = {
	.owner		= THIS_MODULE,
	.read		= vmt_save_read,
	.poll		= vmt_save_poll,
#ifdef VFIO_MIG_GET_PRECOPY_INFO
	.unlocked_ioctl	= vmt_save_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
#endif
	.release	= vmt_file_release,
};

static void vmt_resume_fail(struct vmt_mig_file *mf, int err, const char *why)
{
	if (mf->err)
		return;
	mf->err = err;
	snprintf(mf->why, sizeof(mf->why), "%s (record at byte %llu)", why,
		 mf->hdr_pos);
}

static void vmt_resume_header(struct vmt_mig_file *mf)
{
	u32 magic = get_unaligned_le32(mf->hdr);

	mf->type = get_unaligned_le32(mf->hdr + 4);
	mf->body_len = get_unaligned_le64(mf->hdr + 8);
	mf->body_have = 0;

	if (magic != VMT_MAGIC)
		return vmt_resume_fail(mf, -EINVAL, "bad record magic");

	switch (mf->type) {
	case VMT_REC_REGS:
		if (mf->body_len != VMT_REGS_LEN)
			vmt_resume_fail(mf, -EINVAL, "REGS record of wrong length");
		else if (mf->got_regs)
			vmt_resume_fail(mf, -EINVAL, "second REGS record");
		break;
	case VMT_REC_PAYLOAD:
		if (mf->body_len <= VMT_PIECE_HDR_LEN ||
		    mf->body_len - VMT_PIECE_HDR_LEN > VMT_MAX_STATE)
			vmt_resume_fail(mf, -EINVAL, "PAYLOAD record of wrong length");
		break;
	case VMT_REC_END:
		if (mf->body_len != VMT_END_LEN)
			vmt_resume_fail(mf, -EINVAL, "END record of wrong length");
		break;
	default:
		vmt_resume_fail(mf, -EINVAL, "unknown record type");
	}
}

/* The PAYLOAD piece header is in: check it and find where the bytes go. */
static void vmt_resume_piece(struct vmt_mig_file *mf)
{
	u64 total = get_unaligned_le64(mf->small);
	u64 off = get_unaligned_le64(mf->small + 8);
	u64 n = mf->body_len - VMT_PIECE_HDR_LEN;

	if (!total || total > VMT_MAX_STATE)
		return vmt_resume_fail(mf, -EINVAL, "payload size out of range");
	if (!mf->staged) {
		mf->staged = vmalloc(total);
		mf->covered = bitmap_zalloc(DIV_ROUND_UP(total, VMT_UNIT),
					    GFP_KERNEL);
		if (!mf->staged || !mf->covered)
			return vmt_resume_fail(mf, -ENOMEM,
					       "no memory for the payload");
		mf->staged_size = total;
	} else if (total != mf->staged_size) {
		return vmt_resume_fail(mf, -EINVAL,
				       "payload size differs between records");
	}
	if (off % VMT_UNIT || off > total || n > total - off)
		return vmt_resume_fail(mf, -EINVAL,
				       "payload piece outside the payload");
	if (n % VMT_UNIT && off + n != total)
		return vmt_resume_fail(mf, -EINVAL,
				       "payload piece not a multiple of 4096");
	mf->piece_off = off;
}

static void vmt_resume_record_done(struct vmt_mig_file *mf)
{
	const u8 *p = mf->small;
	u64 n;

	switch (mf->type) {
	case VMT_REC_REGS:
		if (get_unaligned_le32(p + 4))
			return vmt_resume_fail(mf, -EINVAL, "REGS reserved field set");
		mf->new_regs.liveness = get_unaligned_le32(p);
		mf->new_regs.dma_src = get_unaligned_le64(p + 8);
		mf->new_regs.dma_dst = get_unaligned_le64(p + 16);
		mf->new_regs.dma_cnt = get_unaligned_le64(p + 24);
		mf->new_seed = get_unaligned_le64(p + 32);
		mf->got_regs = true;
		break;
	case VMT_REC_PAYLOAD:
		n = mf->body_len - VMT_PIECE_HDR_LEN;
		bitmap_set(mf->covered, mf->piece_off / VMT_UNIT,
			   DIV_ROUND_UP(n, VMT_UNIT));
		break;
	case VMT_REC_END:
		if (get_unaligned_le64(p) != mf->hdr_pos)
			return vmt_resume_fail(mf, -EINVAL, "END length mismatch");
		if (get_unaligned_le32(p + 8) != vmt_crc_end(mf->hdr_crc))
			return vmt_resume_fail(mf, -EINVAL, "checksum mismatch");
		if (get_unaligned_le32(p + 12))
			return vmt_resume_fail(mf, -EINVAL, "END reserved field set");
		mf->got_end = true;
		break;
	}
}

/*
 * Parse as much of the user's buffer as there is.  Bad content only latches
 * an error for RESUMING->STOP to report; write() itself fails only when the
 * bytes cannot be taken at all.
 */
static ssize_t vmt_resume_consume(struct vmt_mig_file *mf,
				  const char __user *buf, size_t len)
{
	ssize_t done = 0;

	while (len) {
		size_t n;
		u8 *dst;

		if (mf->err || mf->got_end) {
			if (!mf->err)
				vmt_resume_fail(mf, -EINVAL, "data after END");
			/* Swallow the rest: a broken stream has no record bounds. */
			mf->length += len;
			done += len;
			break;
		}

		if (mf->hdr_have < VMT_HDR_LEN) {
			if (!mf->hdr_have) {
				mf->hdr_crc = mf->crc;
				mf->hdr_pos = mf->length;
			}
			n = min(len, VMT_HDR_LEN - mf->hdr_have);
			dst = mf->hdr + mf->hdr_have;
		} else if (mf->type == VMT_REC_PAYLOAD &&
			   mf->body_have >= VMT_PIECE_HDR_LEN) {
			u64 at = mf->body_have - VMT_PIECE_HDR_LEN;

			n = min_t(u64, len, mf->body_len - mf->body_have);
			dst = mf->staged + mf->piece_off + at;
		} else {
			u64 small = mf->type == VMT_REC_PAYLOAD ?
				    VMT_PIECE_HDR_LEN : mf->body_len;

			n = min_t(u64, len, small - mf->body_have);
			dst = mf->small + mf->body_have;
		}

		if (copy_from_user(dst, buf, n))
			return done ? done : -EFAULT;
		mf->crc = crc32_le(mf->crc, dst, n);
		mf->length += n;
		buf += n;
		len -= n;
		done += n;

		if (mf->hdr_have < VMT_HDR_LEN) {
			mf->hdr_have += n;
			if (mf->hdr_have == VMT_HDR_LEN)
				vmt_resume_header(mf);
			continue;
		}

		mf->body_have += n;
		if (mf->type == VMT_REC_PAYLOAD &&
		    mf->body_have == VMT_PIECE_HDR_LEN)
			vmt_resume_piece(mf);
		if (!mf->err && mf->body_have == mf->body_len) {
			vmt_resume_record_done(mf);
			mf->hdr_have = 0;
		}
	}
	return done;
}

static void vmt_m5_fail(struct vmt_mig_file *mf, const char *why)
{
	if (mf->err)
		return;
	mf->err = -EINVAL;
	snprintf(mf->why, sizeof(mf->why), "%s (mlx5 record at byte %llu)", why,
		 mf->m5_rec_pos);
}

/* An outer header is in: check it, as mlx5_vfio_pci checks what it loads. */
static void vmt_m5_header_done(struct vmt_mig_file *mf)
{
	u64 size = get_unaligned_le64(mf->m5_hdr);
	u32 flags = get_unaligned_le32(mf->m5_hdr + 8);

	mf->m5_tag = get_unaligned_le32(mf->m5_hdr + 12);
	mf->m5_left = size;
	if (flags & ~VMT_M5_FLAG_OPTIONAL)
		return vmt_m5_fail(mf, "unknown mlx5 record flags");
	if (mf->m5_tag == VMT_M5_TAG_STOP_COPY_SIZE && size != 8)
		return vmt_m5_fail(mf, "STOP_COPY_SIZE record of wrong length");
	if (mf->m5_tag != VMT_M5_TAG_FW_DATA &&
	    mf->m5_tag != VMT_M5_TAG_STOP_COPY_SIZE &&
	    !(flags & VMT_M5_FLAG_OPTIONAL))
		return vmt_m5_fail(mf, "unknown mandatory mlx5 record tag");
}

/*
 * mlx5 framing: FW_DATA payloads go to the inner parser, everything else
 * (STOP_COPY_SIZE, optional records of unknown tags) is skipped.
 */
static ssize_t vmt_m5_consume(struct vmt_mig_file *mf, const char __user *buf,
			      size_t len)
{
	ssize_t done = 0, r;
	size_t n;

	while (len) {
		if (mf->err) {
			/* As the inner parser does: a broken stream has no record bounds. */
			mf->m5_pos += len;
			done += len;
			break;
		}
		if (mf->m5_have < VMT_M5_HDR_LEN) {
			if (!mf->m5_have)
				mf->m5_rec_pos = mf->m5_pos;
			n = min(len, VMT_M5_HDR_LEN - mf->m5_have);
			if (copy_from_user(mf->m5_hdr + mf->m5_have, buf, n))
				return done ? done : -EFAULT;
			mf->m5_have += n;
			if (mf->m5_have == VMT_M5_HDR_LEN)
				vmt_m5_header_done(mf);
		} else {
			n = min_t(u64, len, mf->m5_left);
			if (mf->m5_tag == VMT_M5_TAG_FW_DATA) {
				r = vmt_resume_consume(mf, buf, n);
				if (r < 0)
					return done ? done : r;
			}
			mf->m5_left -= n;
		}
		mf->m5_pos += n;
		buf += n;
		len -= n;
		done += n;
		if (!mf->err && mf->m5_have == VMT_M5_HDR_LEN && !mf->m5_left)
			mf->m5_have = 0;
	}
	return done;
}

static ssize_t vmt_resume_write(struct file *filp, const char __user *buf,
				size_t len, loff_t *pos)
{
	struct vmt_mig_file *mf = filp->private_data;
	ssize_t ret;
	s64 limit;

	if (pos)
		return -ESPIPE;
	if (!len)
		return 0;

	mutex_lock(&mf->lock);
	if (mf->disabled) {
		ret = -ENODEV;
		goto out;
	}

	limit = READ_ONCE(mf->vd->fail_write_after);
	if (limit >= 0) {
		if (mf->xfer >= limit) {
			ret = -EIO;
			goto out;
		}
		len = min_t(u64, len, limit - mf->xfer);
	}

	if (mf->mlx5)
		ret = vmt_m5_consume(mf, buf, len);
	else
		ret = vmt_resume_consume(mf, buf, len);
	if (ret > 0) {
		mf->xfer += ret;
		WRITE_ONCE(mf->vd->resume_bytes, mf->xfer);
	}
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static const struct file_operations vmt_resume_fops = {
	.owner		= THIS_MODULE,
	.write		= vmt_resume_write,
	.release	= vmt_file_release,
};

static struct vmt_mig_file *vmt_file_new(struct vmt_device *vd, bool saving)
{
	struct vmt_mig_file *mf;
	struct file *filp;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL);
	if (!mf)
		return ERR_PTR(-ENOMEM);
	mf->vd = vd;
	mf->saving = saving;
	mf->mlx5 = vd->stream_format == VMT_FMT_MLX5;
	mf->m5_bad_rec = vd->mlx5_bad_rec;
	mf->m5_bad_tag = vd->mlx5_bad_tag;
	mf->crc = vmt_crc_begin();
	mutex_init(&mf->lock);
	init_waitqueue_head(&mf->wq);

	if (saving) {
		/* The size cannot change while the device is not RUNNING. */
		mf->payload_size = vd->payload_size;
		mf->nchunks = DIV_ROUND_UP(mf->payload_size, VMT_CHUNK);
		mf->rec_buf = kvmalloc(VMT_M5_HDR_LEN + VMT_REC_MAX, GFP_KERNEL);
		mf->pending = bitmap_zalloc(mf->nchunks, GFP_KERNEL);
		mf->initial = bitmap_zalloc(mf->nchunks, GFP_KERNEL);
		if (!mf->rec_buf || !mf->pending || !mf->initial)
			goto err_free;
		mf->rec = mf->rec_buf + VMT_M5_HDR_LEN;
		mf->wire = mf->rec;
		bitmap_fill(mf->pending, mf->nchunks);
		bitmap_fill(mf->initial, mf->nchunks);
	}

	filp = anon_inode_getfile("vfiomig_test_mig",
				  saving ? &vmt_save_fops : &vmt_resume_fops,
				  mf, saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		vmt_file_free_bufs(mf);
		mutex_destroy(&mf->lock);
		kfree(mf);
		return ERR_CAST(filp);
	}
	stream_open(filp->f_inode, filp);
	mf->filp = filp;
	/* The device's own reference; the one from getfile goes to userspace. */
	get_file(filp);
	return mf;

err_free:
	vmt_file_free_bufs(mf);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return ERR_PTR(-ENOMEM);
}

/* Take the registers while the device is stopped; they go after the payload. */
static void vmt_save_enter_stop_copy(struct vmt_device *vd,
				     struct vmt_mig_file *mf)
{
	struct vmt_regs r;
	u64 seed;

	vmt_regs_read(vd, &r);
	mutex_lock(&vd->payload_lock);
	seed = vd->seed;
	mutex_unlock(&vd->payload_lock);

	mutex_lock(&mf->lock);
	mf->regs = r;
	mf->seed = seed;
	mf->stop_copy = true;
	mutex_unlock(&mf->lock);
	wake_up_interruptible(&mf->wq);
}

static struct file *vmt_save_start(struct vmt_device *vd, bool stop_copy)
{
	struct vmt_mig_file *mf;

	if (WARN_ON(vd->saving))
		return ERR_PTR(-EINVAL);
	mf = vmt_file_new(vd, true);
	if (IS_ERR(mf))
		return ERR_CAST(mf);

	if (stop_copy) {
		vmt_save_enter_stop_copy(vd, mf);
	} else {
		mutex_lock(&vd->payload_lock);
		vd->tracker = mf;
		mutex_unlock(&vd->payload_lock);
	}
	vd->saving = mf;
	return mf->filp;
}

static struct file *vmt_resume_start(struct vmt_device *vd)
{
	struct vmt_mig_file *mf;

	if (WARN_ON(vd->resuming))
		return ERR_PTR(-EINVAL);
	mf = vmt_file_new(vd, false);
	if (IS_ERR(mf))
		return ERR_CAST(mf);
	WRITE_ONCE(vd->resume_bytes, 0);
	vd->resuming = mf;
	return mf->filp;
}

/* RESUMING->STOP: check everything, and only then load it into the device. */
static int vmt_resume_finish(struct vmt_device *vd)
{
	struct vmt_mig_file *mf = vd->resuming;
	const char *why = NULL;
	struct vmt_regs regs;
	void *old, *payload;
	size_t size;
	u64 seed;
	int err;

	if (WARN_ON(!mf))
		return -EINVAL;

	mutex_lock(&mf->lock);
	err = mf->err;
	if (err)
		why = mf->why;
	else if (mf->mlx5 && mf->m5_have)
		why = "stream ends inside an mlx5 record";
	else if (mf->hdr_have)
		why = "stream ends inside a record";
	else if (!mf->got_end)
		why = "stream has no END record";
	else if (!mf->got_regs)
		why = "stream has no REGS record";
	else if (!mf->staged)
		why = "stream has no PAYLOAD record";
	else if (!bitmap_full(mf->covered,
			      DIV_ROUND_UP(mf->staged_size, VMT_UNIT)))
		why = "payload not fully covered";

	if (why) {
		/* Incomplete data is not latched: the user may write the rest. */
		snprintf(vd->resume_status, sizeof(vd->resume_status),
			 "error: %s", why);
		mutex_unlock(&mf->lock);
		dev_info(&vd->core.pdev->dev, "resume refused: %s\n", why);
		return err ? err : -EINVAL;
	}

	payload = mf->staged;
	size = mf->staged_size;
	regs = mf->new_regs;
	seed = mf->new_seed;
	mf->staged = NULL;
	mutex_unlock(&mf->lock);

	mutex_lock(&vd->payload_lock);
	old = vd->payload;
	vd->payload = payload;
	vd->payload_size = size;
	vd->seed = seed;
	mutex_unlock(&vd->payload_lock);
	vfree(old);
	vmt_debugfs_payload_resized(vd);

	vmt_regs_write(vd, &regs);
	strscpy(vd->resume_status, "ok", sizeof(vd->resume_status));
	return 0;
}

static struct file *vmt_step(struct vmt_device *vd, u32 next)
{
	u32 cur = vd->state;
	int ret;

	if (vd->fail_state >= 0 && (u32)vd->fail_state == next) {
		int err = vd->fail_errno;

		vd->fail_state = -1;
		if (vd->fail_to_error) {
			vmt_save_end(vd);
			vmt_resume_end(vd);
			vmt_arc_log(vd, cur, VMT_ERROR);
			vd->state = VMT_ERROR;
		}
		dev_info(&vd->core.pdev->dev, "injected failure %d on %s -> %s%s\n",
			 -err, vmt_state_name(cur), vmt_state_name(next),
			 vd->fail_to_error ? ", now in error" : "");
		return ERR_PTR(-err);
	}

	/* Nothing in edu runs on its own, so quiescing needs no action. */
	if ((cur == VMT_RUNNING && next == VMT_RUNNING_P2P) ||
	    (cur == VMT_RUNNING_P2P && next == VMT_RUNNING) ||
	    (cur == VMT_RUNNING_P2P && next == VMT_STOP) ||
	    (cur == VMT_STOP && next == VMT_RUNNING_P2P) ||
	    (cur == VMT_RUNNING && next == VMT_STOP) ||
	    (cur == VMT_STOP && next == VMT_RUNNING) ||
	    (cur == VMT_PRE_COPY && next == VMT_PRE_COPY_P2P) ||
	    (cur == VMT_PRE_COPY_P2P && next == VMT_PRE_COPY))
		return NULL;

	if (cur == VMT_STOP && next == VMT_STOP_COPY)
		return vmt_save_start(vd, true);

	if ((cur == VMT_RUNNING && next == VMT_PRE_COPY) ||
	    (cur == VMT_RUNNING_P2P && next == VMT_PRE_COPY_P2P))
		return vmt_save_start(vd, false);

	if ((cur == VMT_PRE_COPY || cur == VMT_PRE_COPY_P2P) &&
	    next == VMT_STOP_COPY) {
		/* With keep_state the pre-copy fd died with a close: start a whole new stream. */
		if (!vd->saving)
			return vmt_save_start(vd, true);
		mutex_lock(&vd->payload_lock);
		vd->tracker = NULL;
		mutex_unlock(&vd->payload_lock);
		vmt_save_enter_stop_copy(vd, vd->saving);
		return NULL;
	}

	if ((cur == VMT_STOP_COPY && next == VMT_STOP) ||
	    (cur == VMT_PRE_COPY && next == VMT_RUNNING) ||
	    (cur == VMT_PRE_COPY_P2P && next == VMT_RUNNING_P2P)) {
		vmt_save_end(vd);
		return NULL;
	}

	if (cur == VMT_STOP && next == VMT_RESUMING)
		return vmt_resume_start(vd);

	if (cur == VMT_RESUMING && next == VMT_STOP) {
		/* With keep_state the resume fd died with a close: nothing was loaded. */
		if (!vd->resuming)
			return NULL;
		ret = vmt_resume_finish(vd);
		if (ret)
			return ERR_PTR(ret);
		vmt_resume_end(vd);
		return NULL;
	}

	WARN(1, "unexpected arc %u -> %u\n", cur, next);
	return ERR_PTR(-EINVAL);
}

static struct file *vmt_set_state(struct vfio_device *vdev,
				  enum vfio_device_mig_state new_state)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	vmt_state_lock(vd);
	while (vd->state != (u32)new_state) {
		/* Only VFIO_DEVICE_RESET leaves ERROR. */
		if (vd->state == VMT_ERROR) {
			res = ERR_PTR(-EIO);
			break;
		}
		ret = vfio_mig_get_next_state(vdev, vd->state, new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = vmt_step(vd, next);
		if (IS_ERR(res))
			break;
		vmt_arc_log(vd, vd->state, next);
		vd->state = next;
		/* A new fd is only ever handed out by the last arc. */
		if (WARN_ON(res && vd->state != (u32)new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	vmt_state_unlock(vd);
	return res;
}

static int vmt_get_state(struct vfio_device *vdev,
			 enum vfio_device_mig_state *state)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);

	vmt_state_lock(vd);
	*state = vd->state;
	vmt_state_unlock(vd);
	return 0;
}

#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
/* What a STOP_COPY from here would still have to send. */
static int vmt_get_data_size(struct vfio_device *vdev,
			     unsigned long *stop_copy_length)
{
	struct vmt_device *vd = vmt_from_vfio(vdev);
	struct vmt_mig_file *mf;
	u64 total;

	vmt_state_lock(vd);
	mf = vd->saving;
	if (mf) {
		mutex_lock(&mf->lock);
		total = vmt_save_remaining(mf);
		mutex_unlock(&mf->lock);
	} else {
		size_t size;

		mutex_lock(&vd->payload_lock);
		size = vd->payload_size;
		mutex_unlock(&vd->payload_lock);
		total = vmt_stream_len(size, vd->stream_format == VMT_FMT_MLX5);
	}
	vmt_state_unlock(vd);

	*stop_copy_length = total;
	return 0;
}
#endif

const struct vfio_migration_ops vmt_mig_ops = {
	.migration_set_state	= vmt_set_state,
	.migration_get_state	= vmt_get_state,
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
	.migration_get_data_size = vmt_get_data_size,
#endif
};
