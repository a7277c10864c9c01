/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mlx5 vfio driver's migration stream: its records, and the firmware command behind each arc. */
#ifndef VFIOMIG_MLX5_H
#define VFIOMIG_MLX5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mig.h"

/*
 * mlx5_vfio_pci frames its stream in records: a 16-byte header, le64
 * record_size (the payload's length), le32 flags (0 mandatory, bit 0
 * optional), le32 tag (0 FW_DATA, bit 0 STOP_COPY_SIZE, whose payload is
 * an le64 size estimate), then the payload.
 */
#define MLX5_REC_HDR_SIZE 16
#define MLX5_REC_FLAG_OPTIONAL 1u
#define MLX5_REC_TAG_FW_DATA 0u
#define MLX5_REC_TAG_STOP_COPY_SIZE 1u

struct mlx5_record {
	uint64_t offset;        /* of the header, in the device stream */
	uint64_t size;          /* the payload's */
	uint32_t flags, tag;
	uint64_t stop_copy_size; /* for STOP_COPY_SIZE records */
};

/* An incremental decoder: the stream arrives in chunks that cut records anywhere. */
struct mlx5_decoder {
	uint64_t offset;        /* bytes of the stream consumed */
	uint8_t hdr[MLX5_REC_HDR_SIZE + 8];
	size_t have;            /* bytes of hdr (and a STOP_COPY_SIZE payload) gathered */
	uint64_t left;          /* payload bytes still to skip */
	struct mlx5_record cur;
	uint64_t records, fw_data, fw_bytes, stop_copy_records;
	uint64_t last_stop_copy_size;
	bool bad;
	char why[160];
};

void mlx5_decoder_init(struct mlx5_decoder *d);
/*
 * Feeds LEN bytes; calls EMIT (if not NULL) for each complete record.
 * Returns 0, or -EBADMSG with d->why naming the record and the field
 * (an unknown mandatory tag, a STOP_COPY_SIZE record of the wrong size).
 */
int mlx5_decoder_feed(struct mlx5_decoder *d, const void *data, size_t len,
		      void (*emit)(const struct mlx5_record *r, void *ctx), void *ctx);
/* At the end of the stream: -EBADMSG if it ends inside a record. */
int mlx5_decoder_finish(struct mlx5_decoder *d);

const char *mlx5_tag_name(uint32_t tag);

/*
 * Driver-specific notes for --explain: what a driver does on an arc. One
 * table for every driver, so another is a few rows. NULL if none is known.
 */
const char *drv_arc_note(const char *driver, enum mig_state from, enum mig_state to);

#endif
