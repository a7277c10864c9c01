/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for ranges.c: parsing IOVA,LENGTH and the kernel's DMA logging rules, with the errno and the words of each refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ranges.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define K4 4096ULL
#define TOP UINT64_MAX

static void expect_parse(const char *s, uint64_t iova, uint64_t length)
{
	struct dirty_range r = { 1, 1 };
	char why[160];

	if (range_parse(s, &r, why, sizeof(why)))
		fail_msg("'%s' refused: %s", s, why);
	assert_int_equal(r.iova, iova);
	assert_int_equal(r.length, length);
}

static void expect_parse_fails(const char *s, const char *reason)
{
	struct dirty_range r;
	char why[160];

	assert_int_equal(range_parse(s, &r, why, sizeof(why)), -EINVAL);
	if (!strstr(why, reason))
		fail_msg("'%s': reason '%s' lacks '%s'", s ? s : "(null)", why, reason);
}

static void test_parse(void **state)
{
	(void)state;
	expect_parse("0x100000,2M", 0x100000, 2 << 20);
	expect_parse("4G,1G", 4ULL << 30, 1ULL << 30);
	expect_parse("0,4096", 0, 4096);
	expect_parse("0xfffffffffffff000,0x1000", 0xfffffffffffff000ULL, 0x1000);
	expect_parse("0X10,0x20", 0x10, 0x20);
	/* Parsing takes a zero length; the rules refuse it later, with the range's position. */
	expect_parse("0x1000,0", 0x1000, 0);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	expect_parse_fails(NULL, "empty range");
	expect_parse_fails("", "empty range");
	expect_parse_fails("0x1000", "missing ','");
	expect_parse_fails("1,2,3", "more than one ','");
	expect_parse_fails(",4K", "missing IOVA");
	expect_parse_fails("4K,", "missing length");
	expect_parse_fails("x,4K", "IOVA 'x' is not a number");
	expect_parse_fails("4K,zz", "length 'zz' is not a number");
	expect_parse_fails("99999999999999999999,1", "IOVA '99999999999999999999' does not fit in 64 bits");
	expect_parse_fails("1,16777216T", "does not fit in 64 bits");
	expect_parse_fails(" 1,2", "IOVA ' 1' is not a number");
	expect_parse_fails("-1,2", "not a number");
	expect_parse_fails("1,2 ", "not a number");
	expect_parse_fails("1;2", "missing ','");
	expect_parse_fails("0x1000000000000000000000000000000000000000000000000000000000000000000,1",
			   "too long to be a number");
}

/* The first WHY-fragment must appear in the reason; ERR is what the check returns. */
static void expect_start(const struct dirty_range *r, size_t n, uint64_t ps, int err,
			 const char *reason)
{
	char why[256];
	int ret = ranges_check_start(r, n, ps, 256, why, sizeof(why));

	if (ret != err)
		fail_msg("start check returned %d, expected %d (%s)", ret, err, why);
	if (reason && !strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

static void expect_report(const struct dirty_range *r, size_t n, uint64_t ps, int err,
			  const char *reason)
{
	char why[256];
	int ret = ranges_check_report(r, n, ps, why, sizeof(why));

	if (ret != err)
		fail_msg("report check returned %d, expected %d (%s)", ret, err, why);
	if (reason && !strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

static void test_start_accepts(void **state)
{
	const struct dirty_range two[] = { { 0, 1 << 20 }, { 4ULL << 30, 1ULL << 30 } };
	/* Adjacent is not overlapping. */
	const struct dirty_range adjacent[] = { { 0x2000, 0x1000 }, { 0x1000, 0x1000 } };
	/* The last page below 2^64 - 1 fits: iova + length is 0xffff...f000. */
	const struct dirty_range high[] = { { 0xffffffffffffe000ULL, 0x1000 } };
	struct dirty_range many[256];
	size_t i;

	(void)state;
	expect_start(two, LEN(two), K4, 0, NULL);
	expect_start(adjacent, LEN(adjacent), K4, 0, NULL);
	expect_start(high, LEN(high), K4, 0, NULL);
	/* The page size is a hint: any power of two, 1 included, is the kernel's to judge. */
	expect_start(two, LEN(two), 1, 0, NULL);
	expect_start(two, LEN(two), 1 << 20, 0, NULL);
	for (i = 0; i < LEN(many); i++)
		many[i] = (struct dirty_range){ i * 0x2000, 0x1000 };
	expect_start(many, LEN(many), K4, 0, NULL);
}

static void test_start_rejects(void **state)
{
	const struct dirty_range one[] = { { 0, 0x10000 } };
	const struct dirty_range bad_iova[] = { { 0, 0x1000 }, { 0x1200, 0x1000 } };
	const struct dirty_range bad_len[] = { { 0, 0x800 } };
	const struct dirty_range empty[] = { { 0, 0x1000 }, { 0x2000, 0 } };
	const struct dirty_range wrap[] = { { 0xfffffffffffff000ULL, 0x1000 } };
	const struct dirty_range wrap_far[] = { { 0x1000, TOP & ~0xfffULL } };
	const struct dirty_range overlap[] = { { 0, 0x2000 }, { 0x10000, 0x1000 }, { 0x1000, 0x1000 } };
	const struct dirty_range inside[] = { { 0x1000, 0x1000 }, { 0, 0x10000 } };
	/* The kernel checks range by range: range 1's alignment before range 2's overlap. */
	const struct dirty_range order[] = { { 0x800, 0x1000 }, { 0x800, 0x1000 } };
	struct dirty_range many[257];
	size_t i;

	(void)state;
	expect_start(one, 1, 0, -EINVAL, "page size 0 (0x0) is not a power of two");
	expect_start(one, 1, 3072, -EINVAL, "page size 3072 (0xc00) is not a power of two");
	expect_start(one, 0, K4, -EINVAL, "no range");
	for (i = 0; i < LEN(many); i++)
		many[i] = (struct dirty_range){ i * 0x2000, 0x1000 };
	expect_start(many, LEN(many), K4, -E2BIG, "257 ranges: the kernel takes at most 256");
	expect_start(bad_iova, LEN(bad_iova), K4, -EINVAL,
		     "range 2 (0x1200,0x1000): IOVA 0x1200 is not a multiple of the page size 0x1000; the kernel would answer EINVAL");
	expect_start(bad_len, 1, K4, -EINVAL,
		     "range 1 (0x0,0x800): length 0x800 is not a multiple of the page size 0x1000");
	expect_start(empty, LEN(empty), K4, -EINVAL, "range 2 (0x2000,0x0) is empty");
	expect_start(wrap, 1, K4, -EOVERFLOW, "range 1 (0xfffffffffffff000,0x1000) ends past the top");
	expect_start(wrap_far, 1, K4, -EOVERFLOW, "EOVERFLOW");
	expect_start(overlap, LEN(overlap), K4, -EINVAL,
		     "ranges 1 (0x0,0x2000) and 3 (0x1000,0x1000) overlap at 0x1000-0x1fff; the kernel would answer EINVAL");
	expect_start(inside, LEN(inside), K4, -EINVAL,
		     "ranges 1 (0x1000,0x1000) and 2 (0x0,0x10000) overlap at 0x1000-0x1fff");
	expect_start(order, LEN(order), K4, -EINVAL, "range 1 (0x800,0x1000): IOVA 0x800");
	/* Larger pages make aligned-at-4K ranges unaligned. */
	expect_start(bad_iova, LEN(bad_iova), 2 << 20, -EINVAL, "range 1 (0x0,0x1000): length 0x1000");
}

static void test_start_max_ranges_is_a_parameter(void **state)
{
	struct dirty_range many[300];
	char why[256];
	size_t i;

	(void)state;
	/* 64 KiB kernel pages (arm64, ppc64) take 4096 ranges. */
	for (i = 0; i < LEN(many); i++)
		many[i] = (struct dirty_range){ i * 0x20000, 0x10000 };
	assert_int_equal(ranges_check_start(many, LEN(many), 0x10000, 4096, why, sizeof(why)), 0);
	assert_int_equal(ranges_check_start(many, LEN(many), 0x10000, 256, why, sizeof(why)), -E2BIG);
	/* WHY may be absent. */
	assert_int_equal(ranges_check_start(many, LEN(many), 0x10000, 256, NULL, 0), -E2BIG);
}

static void test_report_rules(void **state)
{
	const struct dirty_range one[] = { { 0x100000, 0x100000 } };
	const struct dirty_range unaligned[] = { { 0x100800, 0x1000 } };
	const struct dirty_range empty[] = { { 0, 0 } };
	const struct dirty_range wrap[] = { { 0xfffffffffffff000ULL, 0x1000 } };
	const struct dirty_range huge[] = { { 0, 1ULL << 62 } };
	const struct dirty_range limit[] = { { 0, 32ULL << 40 } };
	const struct dirty_range over[] = { { 0, (32ULL << 40) + 4096 * 64 } };
	const struct dirty_range overlap[] = { { 0, 0x2000 }, { 0x1000, 0x1000 } };
	const struct dirty_range pair[] = { { 0, 20ULL << 40 }, { 20ULL << 40, 20ULL << 40 } };

	(void)state;
	expect_report(one, 1, K4, 0, NULL);
	expect_report(one, 1, 1 << 20, 0, NULL);
	expect_report(one, 1, 2048, -EINVAL, "page size 2048 (0x800) is not a power of two of at least 4096");
	expect_report(one, 1, 3 * K4, -EINVAL, "not a power of two of at least 4096");
	expect_report(one, 1, 0, -EINVAL, "page size 0");
	expect_report(one, 0, K4, -EINVAL, "no range");
	expect_report(unaligned, 1, K4, -EINVAL,
		      "IOVA 0x100800 is not a multiple of the page size 0x1000, so the bitmap's bits would not be whole pages");
	expect_report(empty, 1, K4, -EINVAL, "is empty");
	expect_report(wrap, 1, K4, -EOVERFLOW, "EOVERFLOW");
	/* 32 TiB at 4 KiB is a 1 GiB bitmap: the limit; one more word is over it. */
	expect_report(limit, 1, K4, 0, NULL);
	expect_report(over, 1, K4, -E2BIG, "needs a bitmap of 1073741832 bytes");
	expect_report(huge, 1, K4, -E2BIG, "report it in pieces or with larger pages");
	expect_report(huge, 1, 1ULL << 30, 0, NULL);
	/* Two ranges of 20 TiB each: within the limit one by one, over it together. */
	expect_report(pair, 1, K4, 0, NULL);
	expect_report(pair, LEN(pair), K4, -E2BIG, "the 2 ranges need bitmaps of 1342177280 bytes in all");
	expect_report(overlap, LEN(overlap), K4, -EINVAL,
		      "ranges 1 (0x0,0x2000) and 2 (0x1000,0x1000) overlap at 0x1000-0x1fff: reading the log clears it");
}

static void test_helpers(void **state)
{
	const struct dirty_range r[] = { { 0, 0x1000 }, { 0x10000, 0x2800 } };
	const struct dirty_range big[] = { { 0, TOP - 5 }, { 0, 10 } };

	(void)state;
	assert_int_equal(range_pages(&r[0], K4), 1);
	assert_int_equal(range_pages(&r[1], K4), 3);
	assert_int_equal(ranges_total(r, LEN(r)), 0x3800);
	assert_int_equal(ranges_total(big, LEN(big)), TOP);
	assert_int_equal(ranges_total(r, 0), 0);
	assert_int_equal(log2_roundup(0), 0);
	assert_int_equal(log2_roundup(1), 0);
	assert_int_equal(log2_roundup(2), 1);
	assert_int_equal(log2_roundup(3), 2);
	assert_int_equal(log2_roundup(1ULL << 42), 42);
	assert_int_equal(log2_roundup((1ULL << 42) + 1), 43);
	assert_int_equal(log2_roundup(TOP), 64);
	assert_false(is_pow2(0));
	assert_true(is_pow2(1));
	assert_true(is_pow2(1ULL << 63));
	assert_false(is_pow2(TOP));
	assert_false(is_pow2(6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_start_accepts),
		cmocka_unit_test(test_start_rejects),
		cmocka_unit_test(test_start_max_ranges_is_a_parameter),
		cmocka_unit_test(test_report_rules),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
