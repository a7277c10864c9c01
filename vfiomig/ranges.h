/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IOVA ranges for DMA dirty logging: parsing what users type and checking it against the kernel's rules before any ioctl. */
#ifndef VFIOMIG_RANGES_H
#define VFIOMIG_RANGES_H

#include <stddef.h>
#include <stdint.h>

/*
 * One IOVA range. The layout is the kernel's struct
 * vfio_device_feature_dma_logging_range (two aligned u64s), so an array of
 * these is handed to DMA_LOGGING_START as it is.
 */
struct dirty_range {
	uint64_t iova;
	uint64_t length;
};

/* DMA_LOGGING_REPORT refuses smaller pages (EINVAL). */
#define DIRTY_REPORT_MIN_PAGE 4096ULL
/* START copies the ranges into one kernel page: at most PAGE_SIZE / 16 of them. */
#define DIRTY_RANGE_BYTES 16
/*
 * Our own cap on one REPORT's bitmap (32 TiB of IOVA at 4 KiB pages), so a
 * typing slip fails with a reason instead of an allocation the size of RAM.
 */
#define DIRTY_BITMAP_MAX (1ULL << 30)

/*
 * "IOVA,LENGTH" with both numbers as parse_size() reads them (decimal, 0x
 * hex, K/M/G/T suffixes): "0x100000,2M". 0, or -EINVAL with a reason in WHY.
 */
int range_parse(const char *s, struct dirty_range *r, char *why, size_t whylen);

/*
 * DMA_LOGGING_START's rules, in the order the kernel applies them: at least
 * one range and at most MAX_RANGES, every IOVA and length a multiple of
 * PAGE_SIZE (a power of two: the kernel's alignment test assumes one), no
 * range wrapping past 2^64, none overlapping an earlier one; and ours: no
 * empty range. 0, or the -errno the kernel would answer (-EINVAL, -E2BIG,
 * -EOVERFLOW) with a reason in WHY naming the range by its 1-based position.
 */
int ranges_check_start(const struct dirty_range *r, size_t n, uint64_t page_size,
		       size_t max_ranges, char *why, size_t whylen);

/*
 * DMA_LOGGING_REPORT's rules (PAGE_SIZE a power of two of at least 4 KiB,
 * no wrap past 2^64) and ours: not empty, aligned to PAGE_SIZE so that each
 * bit is one page, no overlap (the second read would find the first one's
 * pages cleared), the bitmaps within DIRTY_BITMAP_MAX. 0 or -EINVAL,
 * -EOVERFLOW, -E2BIG with a reason in WHY.
 */
int ranges_check_report(const struct dirty_range *r, size_t n, uint64_t page_size,
			char *why, size_t whylen);

/* The pages (bits) of R at PAGE_SIZE, rounded up. */
uint64_t range_pages(const struct dirty_range *r, uint64_t page_size);
/* The sum of the lengths, saturating at UINT64_MAX. */
uint64_t ranges_total(const struct dirty_range *r, size_t n);
/* log2 of the smallest power of two >= LEN (0 for 0 and 1; 64 past 2^63). */
unsigned int log2_roundup(uint64_t len);
/* Whether V is a power of two (0 is not). */
int is_pow2(uint64_t v);

#endif
