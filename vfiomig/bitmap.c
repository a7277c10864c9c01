// SPDX-License-Identifier: GPL-2.0-or-later
/* DMA dirty bitmaps decoded a 64-bit word at a time: popcounts for the totals, ctz to walk runs, whole words skipped. */
#include "bitmap.h"

#include <endian.h>
#include <string.h>

uint64_t bitmap_bytes(uint64_t pages)
{
	return (pages / 64 + (pages % 64 != 0)) * 8;
}

/* NBITS, or fewer if LEN bytes hold fewer. */
static uint64_t clip(size_t len, uint64_t nbits)
{
	uint64_t have = len > UINT64_MAX / 8 ? UINT64_MAX : (uint64_t)len * 8;

	return nbits < have ? nbits : have;
}

/* Word K, zero-padded past LEN, without the bits at or past NBITS; K * 64 < NBITS. */
static inline uint64_t word_at(const unsigned char *buf, size_t len, uint64_t nbits, uint64_t k)
{
	uint64_t w = 0, off = k * 8, left = nbits - k * 64;

	/* memcpy: the caller's buffer need not be aligned for u64 loads. */
	if (off + 8 <= len)
		memcpy(&w, buf + off, 8);
	else
		memcpy(&w, buf + off, len - off);
	w = le64toh(w);
	if (left < 64)
		w &= (1ULL << left) - 1;
	return w;
}

/*
 * A run starts at every set bit whose lower neighbour is clear; CARRY is
 * the top bit of the word before, the lower neighbour of bit 0.
 * The popcnt clone matters: x86-64's baseline has no popcount instruction
 * and the library fallback costs several times more on dense bitmaps.
 */
__attribute__((target_clones("popcnt", "default")))
void bitmap_stats(const void *buf, size_t len, uint64_t nbits, struct bitmap_stats *st)
{
	const unsigned char *p = buf;
	uint64_t n = clip(len, nbits), full = n / 64, k, w, carry = 0, dirty = 0, runs = 0;

	for (k = 0; k < full; k++) {
		memcpy(&w, p + k * 8, 8);
		w = le64toh(w);
		if (!w) {
			carry = 0;
			continue;
		}
		dirty += (uint64_t)__builtin_popcountll(w);
		runs += (uint64_t)__builtin_popcountll(w & ~((w << 1) | carry));
		carry = w >> 63;
	}
	if (n % 64) {
		w = word_at(p, len, n, full);
		dirty += (uint64_t)__builtin_popcountll(w);
		runs += (uint64_t)__builtin_popcountll(w & ~((w << 1) | carry));
	}
	st->dirty = dirty;
	st->runs = runs;
}

void bitmap_iter_init(struct bitmap_iter *it, const void *buf, size_t len, uint64_t nbits)
{
	it->buf = buf;
	it->len = len;
	it->nbits = clip(len, nbits);
	it->pos = 0;
}

bool bitmap_next_run(struct bitmap_iter *it, uint64_t *first, uint64_t *count)
{
	uint64_t n = it->nbits, k, w, start, end;

	if (it->pos >= n)
		return false;
	/* The first set bit at or after pos. */
	k = it->pos / 64;
	w = word_at(it->buf, it->len, n, k) & (~0ULL << (it->pos % 64));
	while (!w) {
		if (++k * 64 >= n) {
			it->pos = n;
			return false;
		}
		w = word_at(it->buf, it->len, n, k);
	}
	start = k * 64 + (uint64_t)__builtin_ctzll(w);

	/* The first clear bit after it; bits past nbits read as clear, so runs stop there. */
	w = ~word_at(it->buf, it->len, n, k) & (~0ULL << (start % 64));
	while (!w) {
		if (++k * 64 >= n) {
			end = n;
			goto found;
		}
		w = ~word_at(it->buf, it->len, n, k);
	}
	end = k * 64 + (uint64_t)__builtin_ctzll(w);
found:
	*first = start;
	*count = end - start;
	it->pos = end;
	return true;
}
