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
 * the top bit of the word before, the lower neighbour of bit 0. Words
 * FIRST to END of P are added to *DIRTY and *RUNS.
 * The popcnt clone matters: x86-64's baseline has no popcount instruction
 * and the library fallback costs several times more on dense bitmaps.
 */
__attribute__((target_clones("popcnt", "default")))
static void stats_words(const unsigned char *p, uint64_t first, uint64_t end, uint64_t carry,
			uint64_t *dirty, uint64_t *runs)
{
	uint64_t k, w, d = 0, r = 0;

	for (k = first; k < end; k++) {
		memcpy(&w, p + k * 8, 8);
		w = le64toh(w);
		if (!w) {
			carry = 0;
			continue;
		}
		d += (uint64_t)__builtin_popcountll(w);
		r += (uint64_t)__builtin_popcountll(w & ~((w << 1) | carry));
		carry = w >> 63;
	}
	*dirty += d;
	*runs += r;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The set bits of each 64-bit lane of V: a nibble table looked up 32 bytes at a time, summed per lane. */
__attribute__((target("avx2")))
static inline __m256i lane_popcount(__m256i v)
{
	const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
					       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	__m256i lo = _mm256_and_si256(v, nibble);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
	__m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));

	return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

/*
 * Four words a step, where one scalar word takes as long: each lane's run
 * starts need the word below it, which an unaligned load 8 bytes lower
 * brings into the same lane. Words 1 to END; word 0 has no word below.
 * Returns the first word it did not do.
 */
__attribute__((target("avx2")))
static uint64_t stats_avx2(const unsigned char *p, uint64_t end, uint64_t *dirty, uint64_t *runs)
{
	__m256i d = _mm256_setzero_si256(), r = _mm256_setzero_si256();
	uint64_t k, sum[4];

	for (k = 1; k + 4 <= end; k += 4) {
		__m256i w = _mm256_loadu_si256((const __m256i *)(p + k * 8));
		__m256i below = _mm256_loadu_si256((const __m256i *)(p + k * 8 - 8));
		__m256i starts = _mm256_andnot_si256(
			_mm256_or_si256(_mm256_slli_epi64(w, 1), _mm256_srli_epi64(below, 63)), w);

		d = _mm256_add_epi64(d, lane_popcount(w));
		r = _mm256_add_epi64(r, lane_popcount(starts));
	}
	_mm256_storeu_si256((__m256i *)sum, d);
	*dirty += sum[0] + sum[1] + sum[2] + sum[3];
	_mm256_storeu_si256((__m256i *)sum, r);
	*runs += sum[0] + sum[1] + sum[2] + sum[3];
	return k;
}
#endif

/* The top bit of whole word K - 1, the lower neighbour of word K's bit 0; 0 for K 0. */
static uint64_t carry_into(const unsigned char *p, uint64_t k)
{
	uint64_t w;

	if (!k)
		return 0;
	memcpy(&w, p + (k - 1) * 8, 8);
	return le64toh(w) >> 63;
}

void bitmap_stats(const void *buf, size_t len, uint64_t nbits, struct bitmap_stats *st)
{
	const unsigned char *p = buf;
	uint64_t n = clip(len, nbits), full = n / 64, k = 0, w, dirty = 0, runs = 0;

#if defined(__x86_64__) && defined(__GNUC__)
	/* The lanes are little-endian words already: x86 is. */
	if (full > 8 && __builtin_cpu_supports("avx2")) {
		stats_words(p, 0, 1, 0, &dirty, &runs);
		k = stats_avx2(p, full, &dirty, &runs);
	}
#endif
	stats_words(p, k, full, carry_into(p, k), &dirty, &runs);
	if (n % 64) {
		w = word_at(p, len, n, full);
		dirty += (uint64_t)__builtin_popcountll(w);
		runs += (uint64_t)__builtin_popcountll(w & ~((w << 1) | carry_into(p, full)));
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
