// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure knowledge of mlx5_vfio_pci: its stream records and the firmware commands its arcs issue. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "le.h"
#include "mlx5.h"

const char *mlx5_tag_name(uint32_t tag)
{
	switch (tag) {
	case MLX5_REC_TAG_FW_DATA:
		return "FW_DATA";
	case MLX5_REC_TAG_STOP_COPY_SIZE:
		return "STOP_COPY_SIZE";
	default:
		return "unknown";
	}
}

void mlx5_decoder_init(struct mlx5_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

static int bad(struct mlx5_decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct mlx5_decoder *d, const char *fmt, ...)
{
	char what[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(d->why, sizeof(d->why), "mlx5 record %llu at stream offset %llu: %s",
		 (unsigned long long)d->records, (unsigned long long)d->cur.offset, what);
	d->bad = true;
	return -EBADMSG;
}

/* The header is complete: check it and decide how much payload follows. */
static int header_done(struct mlx5_decoder *d)
{
	d->cur.size = get_le64(d->hdr);
	d->cur.flags = get_le32(d->hdr + 8);
	d->cur.tag = get_le32(d->hdr + 12);
	if (d->cur.flags & ~MLX5_REC_FLAG_OPTIONAL)
		return bad(d, "unknown flags 0x%x", d->cur.flags);
	if (d->cur.tag != MLX5_REC_TAG_FW_DATA && d->cur.tag != MLX5_REC_TAG_STOP_COPY_SIZE &&
	    !(d->cur.flags & MLX5_REC_FLAG_OPTIONAL))
		return bad(d, "unknown mandatory tag 0x%x: the destination driver would refuse it",
			   d->cur.tag);
	if (d->cur.tag == MLX5_REC_TAG_STOP_COPY_SIZE && d->cur.size != 8)
		return bad(d, "a STOP_COPY_SIZE record carries %llu bytes, not 8",
			   (unsigned long long)d->cur.size);
	d->left = d->cur.size;
	return 0;
}

static void record_done(struct mlx5_decoder *d,
			void (*emit)(const struct mlx5_record *r, void *ctx), void *ctx)
{
	if (d->cur.tag == MLX5_REC_TAG_STOP_COPY_SIZE) {
		d->cur.stop_copy_size = get_le64(d->hdr + MLX5_REC_HDR_SIZE);
		d->last_stop_copy_size = d->cur.stop_copy_size;
		d->stop_copy_records++;
	} else if (d->cur.tag == MLX5_REC_TAG_FW_DATA) {
		d->fw_data++;
		d->fw_bytes += d->cur.size;
	}
	d->records++;
	if (emit)
		emit(&d->cur, ctx);
	d->have = 0;
	d->left = 0;
}

int mlx5_decoder_feed(struct mlx5_decoder *d, const void *data, size_t len,
		      void (*emit)(const struct mlx5_record *r, void *ctx), void *ctx)
{
	const uint8_t *p = data;
	size_t n;
	int ret;

	if (d->bad)
		return -EBADMSG;
	while (len) {
		if (d->have < MLX5_REC_HDR_SIZE) {
			if (d->have == 0)
				d->cur.offset = d->offset;
			n = MLX5_REC_HDR_SIZE - d->have < len ? MLX5_REC_HDR_SIZE - d->have : len;
			memcpy(d->hdr + d->have, p, n);
			d->have += n;
			p += n;
			len -= n;
			d->offset += n;
			if (d->have < MLX5_REC_HDR_SIZE)
				continue;
			ret = header_done(d);
			if (ret)
				return ret;
		} else {
			n = d->left < len ? d->left : len;
			/* A STOP_COPY_SIZE payload is the value: keep it; other payloads are skipped. */
			if (d->cur.tag == MLX5_REC_TAG_STOP_COPY_SIZE) {
				memcpy(d->hdr + d->have, p, n);
				d->have += n;
			}
			d->left -= n;
			p += n;
			len -= n;
			d->offset += n;
		}
		if (d->left == 0)
			record_done(d, emit, ctx);
	}
	return 0;
}

int mlx5_decoder_finish(struct mlx5_decoder *d)
{
	if (d->bad)
		return -EBADMSG;
	if (d->have == 0)
		return 0;
	if (d->have < MLX5_REC_HDR_SIZE)
		return bad(d, "the stream ends inside the record header (%zu of %d bytes)",
			   d->have, MLX5_REC_HDR_SIZE);
	return bad(d, "the stream ends inside the payload (%llu of %llu bytes)",
		   (unsigned long long)(d->offset - d->cur.offset - MLX5_REC_HDR_SIZE),
		   (unsigned long long)d->cur.size);
}

/* ---- what drivers do on each arc ---- */

static const struct {
	const char *driver;
	enum mig_state from, to;
	const char *note;
} arc_notes[] = {
	/* mlx5_vfio_pci (drivers/vfio/pci/mlx5): the firmware command behind each arc. */
	{ "mlx5_vfio_pci", MIG_RUNNING, MIG_RUNNING_P2P, "SUSPEND_VHCA (0x115, initiator)" },
	{ "mlx5_vfio_pci", MIG_PRE_COPY, MIG_PRE_COPY_P2P, "SUSPEND_VHCA (0x115, initiator)" },
	{ "mlx5_vfio_pci", MIG_RUNNING_P2P, MIG_RUNNING, "RESUME_VHCA (0x116, initiator)" },
	{ "mlx5_vfio_pci", MIG_PRE_COPY_P2P, MIG_PRE_COPY, "RESUME_VHCA (0x116, initiator)" },
	{ "mlx5_vfio_pci", MIG_RUNNING_P2P, MIG_STOP, "SUSPEND_VHCA (0x115, responder)" },
	{ "mlx5_vfio_pci", MIG_STOP, MIG_RUNNING_P2P, "RESUME_VHCA (0x116, responder)" },
	{ "mlx5_vfio_pci", MIG_STOP, MIG_STOP_COPY,
	  "QUERY_VHCA_MIGRATION_STATE (0x117), SAVE_VHCA_STATE (0x118)" },
	{ "mlx5_vfio_pci", MIG_RUNNING, MIG_PRE_COPY,
	  "QUERY_VHCA_MIGRATION_STATE (0x117), SAVE_VHCA_STATE (0x118) with dirty tracking" },
	{ "mlx5_vfio_pci", MIG_RUNNING_P2P, MIG_PRE_COPY_P2P,
	  "QUERY_VHCA_MIGRATION_STATE (0x117), SAVE_VHCA_STATE (0x118) with dirty tracking" },
	{ "mlx5_vfio_pci", MIG_PRE_COPY_P2P, MIG_STOP_COPY,
	  "SUSPEND_VHCA (0x115, responder), QUERY_VHCA_MIGRATION_STATE (0x117, final), SAVE_VHCA_STATE (0x118, incremental)" },
	{ "mlx5_vfio_pci", MIG_STOP, MIG_RESUMING, "LOAD_VHCA_STATE (0x119) for each record written" },
	{ "mlx5_vfio_pci", MIG_RESUMING, MIG_STOP, "LOAD_VHCA_STATE (0x119) of the last record, if pending" },
	/* vfiomig_test (tests/kmod): the lab's driver, so the annotation is checked against a kernel. */
	{ "vfiomig_test", MIG_STOP, MIG_STOP_COPY, "snapshots the edu registers and owes the whole payload" },
	{ "vfiomig_test", MIG_RUNNING, MIG_PRE_COPY, "starts tracking payload writes and owes the whole payload" },
	{ "vfiomig_test", MIG_RUNNING_P2P, MIG_PRE_COPY_P2P,
	  "starts tracking payload writes and owes the whole payload" },
	{ "vfiomig_test", MIG_PRE_COPY_P2P, MIG_STOP_COPY,
	  "stops tracking; owes the pieces dirtied since they were read, then the registers" },
	{ "vfiomig_test", MIG_STOP_COPY, MIG_STOP, "drops what was not read" },
	{ "vfiomig_test", MIG_STOP, MIG_RESUMING, "opens a stream for the records to be written" },
	{ "vfiomig_test", MIG_RESUMING, MIG_STOP,
	  "checks that the records are complete, then loads the registers and the payload" },
};

const char *drv_arc_note(const char *driver, enum mig_state from, enum mig_state to)
{
	size_t i;

	for (i = 0; i < sizeof(arc_notes) / sizeof(arc_notes[0]); i++)
		if (!strcmp(arc_notes[i].driver, driver) && arc_notes[i].from == from &&
		    arc_notes[i].to == to)
			return arc_notes[i].note;
	return NULL;
}
