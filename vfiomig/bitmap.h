/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decoding DMA_LOGGING_REPORT bitmaps: dirty page counts and runs of dirty pages, a 64-bit word at a time. */
#ifndef VFIOMIG_BITMAP_H
#define VFIOMIG_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kernel's format: an array of little-endian u64 words, bit i (bit
 * i % 64 of word i / 64) standing for page i of the reported range. A
 * buffer whose length is not a multiple of 8 is read as if zero-padded;
 * bits at or past NBITS are ignored, so padding never counts.
 */

/* Bytes of a bitmap for PAGES pages: whole u64 words, as the kernel writes them. */
uint64_t bitmap_bytes(uint64_t pages);

struct bitmap_stats {
	uint64_t dirty; /* set bits */
	uint64_t runs;  /* maximal runs of set bits: the extents */
};

/* Counts over the first NBITS bits of BUF (LEN bytes); no per-run work, so dense bitmaps cost no more than sparse ones. */
void bitmap_stats(const void *buf, size_t len, uint64_t nbits, struct bitmap_stats *st);

/* Walks the runs of set bits in order; zero and all-ones words are skipped whole. */
struct bitmap_iter {
	const unsigned char *buf;
	size_t len;
	uint64_t nbits;
	uint64_t pos; /* the first bit not yet looked at */
};

void bitmap_iter_init(struct bitmap_iter *it, const void *buf, size_t len, uint64_t nbits);
/* The next run as its first bit and its length in bits; false at the end. */
bool bitmap_next_run(struct bitmap_iter *it, uint64_t *first, uint64_t *count);

#endif
