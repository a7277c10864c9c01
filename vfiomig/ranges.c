// SPDX-License-Identifier: GPL-2.0-or-later
/* IOVA ranges for DMA dirty logging: the kernel's rules checked before any ioctl, each refusal naming the range and the rule. */
#include "ranges.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

#define FORM "expected IOVA,LENGTH (e.g. 0x100000,2M)"
/* Longest piece of user input quoted back in a reason. */
#define QUOTE_MAX 32

static int reject(int err, char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int reject(int err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -err;
}

int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

unsigned int log2_roundup(uint64_t len)
{
	unsigned int n = 0;

	while (n < 64 && (1ULL << n) < len)
		n++;
	return n;
}

uint64_t range_pages(const struct dirty_range *r, uint64_t page_size)
{
	return r->length / page_size + (r->length % page_size != 0);
}

uint64_t ranges_total(const struct dirty_range *r, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum = r[i].length > UINT64_MAX - sum ? UINT64_MAX : sum + r[i].length;
	return sum;
}

/* One number of "IOVA,LENGTH"; NAME says which, for the reason. */
static int parse_part(const char *s, size_t len, const char *name, uint64_t *val,
		      char *why, size_t whylen)
{
	unsigned long long v;
	char buf[64];
	int ret;

	if (len == 0)
		return reject(EINVAL, why, whylen, "missing %s: " FORM, name);
	if (len >= sizeof(buf))
		return reject(EINVAL, why, whylen, "%s '%.*s...' is too long to be a number",
			      name, QUOTE_MAX, s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	ret = parse_size(buf, &v);
	if (ret == -ERANGE)
		return reject(EINVAL, why, whylen, "%s '%s' does not fit in 64 bits", name, buf);
	if (ret)
		return reject(EINVAL, why, whylen,
			      "%s '%.*s' is not a number: use decimal or 0x hex, with an optional K, M, G or T",
			      name, QUOTE_MAX, buf);
	*val = v;
	return 0;
}

int range_parse(const char *s, struct dirty_range *r, char *why, size_t whylen)
{
	const char *comma;
	int ret;

	if (why && whylen)
		why[0] = '\0';
	if (!s || !*s)
		return reject(EINVAL, why, whylen, "empty range: " FORM);
	comma = strchr(s, ',');
	if (!comma)
		return reject(EINVAL, why, whylen, "missing ',': " FORM);
	if (strchr(comma + 1, ','))
		return reject(EINVAL, why, whylen, "more than one ',': " FORM);
	ret = parse_part(s, (size_t)(comma - s), "IOVA", &r->iova, why, whylen);
	if (!ret)
		ret = parse_part(comma + 1, strlen(comma + 1), "length", &r->length, why, whylen);
	return ret;
}

/* "0x100000,0x200000": a range as --range takes it. */
static const char *show(const struct dirty_range *r, char buf[48])
{
	snprintf(buf, 48, "0x%" PRIx64 ",0x%" PRIx64, r->iova, r->length);
	return buf;
}

/* Whether R ends past 2^64 - 1: the kernel wants iova + length itself to fit. */
static int wraps(const struct dirty_range *r)
{
	return r->length > UINT64_MAX - r->iova;
}

/* The first range before index I that overlaps R[I], or I if none. */
static size_t overlaps_earlier(const struct dirty_range *r, size_t i)
{
	uint64_t last = r[i].iova + (r[i].length - 1);
	size_t j;

	/* Quadratic like the kernel's own check; there are a few hundred at most. */
	for (j = 0; j < i; j++)
		if (r[j].iova <= last && r[i].iova <= r[j].iova + (r[j].length - 1))
			return j;
	return i;
}

static int reject_overlap(const struct dirty_range *r, size_t i, size_t j, const char *tail,
			  char *why, size_t whylen)
{
	uint64_t lo = r[i].iova > r[j].iova ? r[i].iova : r[j].iova;
	uint64_t li = r[i].iova + (r[i].length - 1), lj = r[j].iova + (r[j].length - 1);
	char a[48], b[48];

	return reject(EINVAL, why, whylen, "ranges %zu (%s) and %zu (%s) overlap at 0x%" PRIx64
		      "-0x%" PRIx64 "%s", j + 1, show(&r[j], a), i + 1, show(&r[i], b), lo,
		      li < lj ? li : lj, tail);
}

/* The rules START and REPORT share, applied to range I: not empty, aligned, no wrap. */
static int check_one(const struct dirty_range *r, size_t i, uint64_t page_size,
		     const char *align_tail, char *why, size_t whylen)
{
	char a[48];

	if (!r[i].length)
		return reject(EINVAL, why, whylen, "range %zu (%s) is empty: its length is 0",
			      i + 1, show(&r[i], a));
	if (r[i].iova & (page_size - 1))
		return reject(EINVAL, why, whylen,
			      "range %zu (%s): IOVA 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64 "%s",
			      i + 1, show(&r[i], a), r[i].iova, page_size, align_tail);
	if (r[i].length & (page_size - 1))
		return reject(EINVAL, why, whylen,
			      "range %zu (%s): length 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64 "%s",
			      i + 1, show(&r[i], a), r[i].length, page_size, align_tail);
	if (wraps(&r[i]))
		return reject(EOVERFLOW, why, whylen,
			      "range %zu (%s) ends past the top of the 64-bit IOVA space; the kernel would answer EOVERFLOW",
			      i + 1, show(&r[i], a));
	return 0;
}

int ranges_check_start(const struct dirty_range *r, size_t n, uint64_t page_size,
		       size_t max_ranges, char *why, size_t whylen)
{
	size_t i, j;
	int ret;

	if (why && whylen)
		why[0] = '\0';
	if (!is_pow2(page_size))
		return reject(EINVAL, why, whylen,
			      "page size %" PRIu64 " (0x%" PRIx64 ") is not a power of two: the kernel checks the ranges' alignment with it as if it were one",
			      page_size, page_size);
	if (n == 0)
		return reject(EINVAL, why, whylen,
			      "no range: logging needs at least one; the kernel would answer EINVAL");
	if (n > max_ranges)
		return reject(E2BIG, why, whylen,
			      "%zu ranges: the kernel takes at most %zu (one page of 16-byte ranges) and would answer E2BIG",
			      n, max_ranges);
	for (i = 0; i < n; i++) {
		ret = check_one(r, i, page_size, "; the kernel would answer EINVAL", why, whylen);
		if (ret)
			return ret;
		j = overlaps_earlier(r, i);
		if (j != i)
			return reject_overlap(r, i, j, "; the kernel would answer EINVAL", why, whylen);
	}
	return 0;
}

int ranges_check_report(const struct dirty_range *r, size_t n, uint64_t page_size,
			char *why, size_t whylen)
{
	uint64_t pages, bytes, total = 0;
	char a[48];
	size_t i, j;
	int ret;

	if (why && whylen)
		why[0] = '\0';
	if (!is_pow2(page_size) || page_size < DIRTY_REPORT_MIN_PAGE)
		return reject(EINVAL, why, whylen,
			      "page size %" PRIu64 " (0x%" PRIx64 ") is not a power of two of at least 4096; the kernel would answer EINVAL",
			      page_size, page_size);
	if (n == 0)
		return reject(EINVAL, why, whylen, "no range to report");
	for (i = 0; i < n; i++) {
		ret = check_one(r, i, page_size, ", so the bitmap's bits would not be whole pages",
				why, whylen);
		if (ret)
			return ret;
		pages = range_pages(&r[i], page_size);
		bytes = (pages / 64 + (pages % 64 != 0)) * 8;
		if (bytes > DIRTY_BITMAP_MAX)
			return reject(E2BIG, why, whylen,
				      "range %zu (%s) needs a bitmap of %" PRIu64 " bytes at page size %" PRIu64 ", more than vfiomig's limit of %llu: report it in pieces or with larger pages",
				      i + 1, show(&r[i], a), bytes, page_size, DIRTY_BITMAP_MAX);
		j = overlaps_earlier(r, i);
		if (j != i)
			return reject_overlap(r, i, j,
					      ": reading the log clears it, so the second would miss pages",
					      why, whylen);
		total += bytes;
	}
	if (total > DIRTY_BITMAP_MAX)
		return reject(E2BIG, why, whylen,
			      "the %zu ranges need bitmaps of %" PRIu64 " bytes in all at page size %" PRIu64 ", more than vfiomig's limit of %llu: report fewer at a time or with larger pages",
			      n, total, page_size, DIRTY_BITMAP_MAX);
	return 0;
}
