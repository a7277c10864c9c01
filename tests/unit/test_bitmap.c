/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for bitmap.c: every edge of the word-at-a-time decoder, and random bitmaps against a bit-by-bit oracle written here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bitmap.h"

#define MAX_RUNS 4096

struct run {
	uint64_t first, count;
};

/* ---- The oracle: one bit at a time, straight from the uAPI's definition ---- */

/* Bit I as the kernel defines it: bit I % 64 of little-endian u64 word I / 64, i.e. bit I % 8 of byte I / 8. */
static bool oracle_bit(const unsigned char *buf, size_t len, uint64_t i)
{
	return i / 8 < len && (buf[i / 8] >> (i % 8)) & 1;
}

static size_t oracle_runs(const unsigned char *buf, size_t len, uint64_t nbits, struct run *runs,
			  uint64_t *dirty)
{
	size_t n = 0;
	uint64_t i;

	*dirty = 0;
	for (i = 0; i < nbits && i < (uint64_t)len * 8; i++) {
		if (!oracle_bit(buf, len, i))
			continue;
		(*dirty)++;
		if (i > 0 && oracle_bit(buf, len, i - 1)) {
			runs[n - 1].count++;
		} else {
			assert_true(n < MAX_RUNS);
			runs[n++] = (struct run){ i, 1 };
		}
	}
	return n;
}

/* Runs and totals from bitmap.c, compared with the oracle's. */
static void check_against_oracle(const unsigned char *buf, size_t len, uint64_t nbits)
{
	static struct run want[MAX_RUNS];
	struct bitmap_stats st;
	struct bitmap_iter it;
	uint64_t dirty, first, count;
	size_t nwant = oracle_runs(buf, len, nbits, want, &dirty), got = 0;

	bitmap_stats(buf, len, nbits, &st);
	if (st.dirty != dirty || st.runs != nwant)
		fail_msg("len %zu nbits %llu: stats dirty %llu runs %llu, oracle %llu and %zu", len,
			 (unsigned long long)nbits, (unsigned long long)st.dirty,
			 (unsigned long long)st.runs, (unsigned long long)dirty, nwant);
	bitmap_iter_init(&it, buf, len, nbits);
	while (bitmap_next_run(&it, &first, &count)) {
		if (got >= nwant || want[got].first != first || want[got].count != count)
			fail_msg("len %zu nbits %llu: run %zu is %llu+%llu, oracle %llu+%llu", len,
				 (unsigned long long)nbits, got, (unsigned long long)first,
				 (unsigned long long)count,
				 got < nwant ? (unsigned long long)want[got].first : 0ULL,
				 got < nwant ? (unsigned long long)want[got].count : 0ULL);
		got++;
	}
	assert_int_equal(got, nwant);
	/* The end is sticky. */
	assert_false(bitmap_next_run(&it, &first, &count));
}

static void set_bits(unsigned char *buf, uint64_t first, uint64_t count)
{
	uint64_t i;

	for (i = first; i < first + count; i++)
		buf[i / 8] |= (unsigned char)(1u << (i % 8));
}

/* Expects exactly the runs given as (first, count) pairs, ended by a count of 0. */
static void expect_runs(const unsigned char *buf, size_t len, uint64_t nbits, ...)
{
	struct bitmap_iter it;
	uint64_t first, count, want_first, want_count;
	va_list ap;

	bitmap_iter_init(&it, buf, len, nbits);
	va_start(ap, nbits);
	for (;;) {
		want_first = va_arg(ap, uint64_t);
		want_count = va_arg(ap, uint64_t);
		if (!want_count)
			break;
		assert_true(bitmap_next_run(&it, &first, &count));
		assert_int_equal(first, want_first);
		assert_int_equal(count, want_count);
	}
	va_end(ap);
	assert_false(bitmap_next_run(&it, &first, &count));
	check_against_oracle(buf, len, nbits);
}

#define U(x) ((uint64_t)(x))
#define END U(0), U(0)

static void test_bytes(void **state)
{
	(void)state;
	assert_int_equal(bitmap_bytes(0), 0);
	assert_int_equal(bitmap_bytes(1), 8);
	assert_int_equal(bitmap_bytes(64), 8);
	assert_int_equal(bitmap_bytes(65), 16);
	/* 1 TiB at 4 KiB: 32 MiB. */
	assert_int_equal(bitmap_bytes(U(1) << 28), U(32) << 20);
}

static void test_none_set(void **state)
{
	unsigned char buf[40] = { 0 };
	struct bitmap_stats st;
	size_t len;

	(void)state;
	for (len = 0; len <= sizeof(buf); len++) {
		expect_runs(buf, len, (uint64_t)len * 8, END);
		bitmap_stats(buf, len, (uint64_t)len * 8, &st);
		assert_int_equal(st.dirty, 0);
		assert_int_equal(st.runs, 0);
	}
	/* No bits at all, whatever the buffer holds. */
	memset(buf, 0xff, sizeof(buf));
	expect_runs(buf, sizeof(buf), 0, END);
}

static void test_all_set(void **state)
{
	unsigned char buf[40];
	struct bitmap_stats st;
	uint64_t nbits;

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	for (nbits = 1; nbits <= sizeof(buf) * 8; nbits++) {
		expect_runs(buf, sizeof(buf), nbits, U(0), nbits, END);
		bitmap_stats(buf, sizeof(buf), nbits, &st);
		assert_int_equal(st.dirty, nbits);
		assert_int_equal(st.runs, 1);
	}
}

static void test_single_bits_first_and_last(void **state)
{
	static const uint64_t sizes[] = { 1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 200, 256 };
	unsigned char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];

		memset(buf, 0, sizeof(buf));
		set_bits(buf, 0, 1);
		expect_runs(buf, sizeof(buf), n, U(0), U(1), END);
		memset(buf, 0, sizeof(buf));
		set_bits(buf, n - 1, 1);
		expect_runs(buf, sizeof(buf), n, n - 1, U(1), END);
		/* Both: two runs unless they are the same bit or neighbours. */
		set_bits(buf, 0, 1);
		if (n == 1)
			expect_runs(buf, sizeof(buf), n, U(0), U(1), END);
		else if (n == 2)
			expect_runs(buf, sizeof(buf), n, U(0), U(2), END);
		else
			expect_runs(buf, sizeof(buf), n, U(0), U(1), n - 1, U(1), END);
	}
}

static void test_runs_across_words(void **state)
{
	unsigned char buf[48] = { 0 };

	(void)state;
	/* Bits 63 and 64: the last of word 0 and the first of word 1 make one run. */
	set_bits(buf, 63, 2);
	expect_runs(buf, sizeof(buf), 384, U(63), U(2), END);
	/* Through two whole all-ones words (64..191) and into a fourth. */
	memset(buf, 0, sizeof(buf));
	set_bits(buf, 10, 190);
	expect_runs(buf, sizeof(buf), 384, U(10), U(190), END);
	/* A run that ends exactly at a word boundary, another that starts at one. */
	memset(buf, 0, sizeof(buf));
	set_bits(buf, 100, 28);
	set_bits(buf, 192, 3);
	expect_runs(buf, sizeof(buf), 384, U(100), U(28), U(192), U(3), END);
	/* Alternate bits: the densest set of runs. */
	memset(buf, 0x55, sizeof(buf));
	check_against_oracle(buf, sizeof(buf), 384);
	memset(buf, 0xaa, sizeof(buf));
	check_against_oracle(buf, sizeof(buf), 384);
}

static void test_last_partial_word(void **state)
{
	unsigned char buf[16];

	(void)state;
	/* 100 pages: word 1 holds 36 of them; bits past 100 are padding and never count. */
	memset(buf, 0, sizeof(buf));
	set_bits(buf, 90, 10);
	set_bits(buf, 100, 28); /* padding garbage */
	expect_runs(buf, sizeof(buf), 100, U(90), U(10), END);
	/* A run through the word boundary up to the last page. */
	memset(buf, 0, sizeof(buf));
	set_bits(buf, 60, 40);
	expect_runs(buf, sizeof(buf), 100, U(60), U(40), END);
	/* All padding set, nothing real. */
	memset(buf, 0, sizeof(buf));
	set_bits(buf, 100, 28);
	expect_runs(buf, sizeof(buf), 100, END);
}

static void test_length_not_a_multiple_of_8(void **state)
{
	unsigned char buf[13] = { 0 };
	unsigned char *heap;
	size_t len;

	(void)state;
	/* 13 bytes: one whole word and 5 bytes read as if zero-padded; bits 100-103 end the last byte. */
	set_bits(buf, 100, 4);
	expect_runs(buf, sizeof(buf), 104, U(100), U(4), END);
	set_bits(buf, 40, 30);
	expect_runs(buf, sizeof(buf), 104, U(40), U(30), U(100), U(4), END);
	/* More bits asked for than the buffer holds: clipped, never read past it (ASan watches). */
	for (len = 1; len < 24; len++) {
		heap = malloc(len);
		assert_non_null(heap);
		memset(heap, 0xff, len);
		expect_runs(heap, len, 1000, U(0), (uint64_t)len * 8, END);
		memset(heap, 0, len);
		heap[len - 1] = 0x80;
		expect_runs(heap, len, 1000, (uint64_t)len * 8 - 1, U(1), END);
		free(heap);
	}
}

static void test_byte_order(void **state)
{
	/* Page 8 is bit 8 of word 0: bit 0 of byte 1 (little-endian), whatever the host's order. */
	unsigned char buf[8] = { 0, 0x01, 0, 0, 0, 0, 0, 0x80 };

	(void)state;
	expect_runs(buf, sizeof(buf), 64, U(8), U(1), U(63), U(1), END);
}

static void test_unaligned_buffer(void **state)
{
	unsigned char raw[41] = { 0 };

	(void)state;
	/* The decoder loads words with memcpy; a buffer at an odd address must decode the same. */
	set_bits(raw + 1, 5, 70);
	expect_runs(raw + 1, 40, 320, U(5), U(70), END);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void test_random_against_oracle(void **state)
{
	/* Densities in 1/1024: sparse, half, dense; plus long runs. */
	static const unsigned int density[] = { 1, 20, 512, 1000, 1023 };
	unsigned char buf[264];
	int round;
	size_t i, d;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t len = 1 + rng() % sizeof(buf);
		uint64_t nbits = rng() % ((uint64_t)len * 8 + 80);

		for (d = 0; d < sizeof(density) / sizeof(density[0]); d++) {
			memset(buf, 0, sizeof(buf));
			for (i = 0; i < len * 8; i++)
				if (rng() % 1024 < density[d])
					set_bits(buf, i, 1);
			check_against_oracle(buf, len, nbits);
		}
		/* Long runs: a few random stretches. */
		memset(buf, 0, sizeof(buf));
		for (i = 0; i < 4; i++) {
			uint64_t first = rng() % (len * 8);
			uint64_t count = 1 + rng() % (len * 8 - first);

			set_bits(buf, first, count);
		}
		check_against_oracle(buf, len, nbits);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_none_set),
		cmocka_unit_test(test_all_set),
		cmocka_unit_test(test_single_bits_first_and_last),
		cmocka_unit_test(test_runs_across_words),
		cmocka_unit_test(test_last_partial_word),
		cmocka_unit_test(test_length_not_a_multiple_of_8),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_random_against_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
