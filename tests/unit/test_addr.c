/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for addr.c: accepted address forms and their canonical names, every reject with its reason, and sizes. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* struct vm_addr carries a PATH_MAX buffer: keep it off the small test stacks. */
static struct vm_addr addr;

static void expect_ok(const char *in, const char *canon)
{
	char why[256] = "untouched", name[PATH_MAX + 8];
	int ret;

	ret = addr_parse(in, &addr, why, sizeof(why));
	if (ret != 0)
		fail_msg("'%s' rejected (%d): %s", in, ret, why);
	addr_name(&addr, name, sizeof(name));
	if (strcmp(name, canon) != 0)
		fail_msg("'%s' is named '%s', want '%s'", in, name, canon);
}

/* Every word of NEEDLES (separated by '|') must appear in the reason. */
static void expect_reject(const char *in, const char *needles)
{
	char why[256] = "", want[256], *tok, *save = NULL;
	int ret;

	ret = addr_parse(in, &addr, why, sizeof(why));
	if (ret != -EINVAL)
		fail_msg("'%s': got %d, want -EINVAL", in ? in : "(null)", ret);
	if (why[0] == '\0')
		fail_msg("'%s': rejected without a reason", in ? in : "(null)");
	snprintf(want, sizeof(want), "%s", needles);
	for (tok = strtok_r(want, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
		if (!strstr(why, tok))
			fail_msg("'%s': reason '%s' lacks '%s'", in ? in : "(null)", why, tok);
}

static void test_pci_accepted(void **state)
{
	(void)state;
	expect_ok("0000:3b:00.2", "0000:3b:00.2");
	expect_ok("3b:00.2", "0000:3b:00.2");
	expect_ok("0000:3B:00.2", "0000:3b:00.2");
	expect_ok("ABCD:EF:1F.7", "abcd:ef:1f.7");
	expect_ok("aBcD:eF:1f.7", "abcd:ef:1f.7");
	expect_ok("1:2:3.4", "0001:02:03.4");
	expect_ok("0:0:0.0", "0000:00:00.0");
	expect_ok("3:4.5", "0000:03:04.5");
	assert_int_equal(addr.kind, ADDR_PCI);
	assert_int_equal(addr.domain, 0);
	assert_int_equal(addr.bus, 3);
	assert_int_equal(addr.dev, 4);
	assert_int_equal(addr.fn, 5);
	expect_ok("0012:3b:1d.6", "0012:3b:1d.6");
	assert_int_equal(addr.domain, 0x12);
	assert_int_equal(addr.bus, 0x3b);
	assert_int_equal(addr.dev, 0x1d);
	assert_int_equal(addr.fn, 6);
}

static void test_pci_boundaries(void **state)
{
	(void)state;
	expect_ok("ffff:00:00.0", "ffff:00:00.0");
	expect_ok("0000:ff:00.0", "0000:ff:00.0");
	expect_ok("ff:1f.7", "0000:ff:1f.7");
	expect_ok("0000:00:1f.0", "0000:00:1f.0");
	expect_ok("00:00.7", "0000:00:00.7");
	expect_reject("10000:00:00.0", "domain|10000|0000-ffff");
	expect_reject("0000:100:00.0", "bus|100|00-ff");
	expect_reject("100:00.0", "bus|100|00-ff");
	expect_reject("0000:00:20.0", "device|20|00-1f");
	expect_reject("00:ff.0", "device|ff|00-1f");
	expect_reject("0000:00:00.8", "function|8|0-7");
	expect_reject("00:00.f", "function|f|0-7");
	expect_reject("00:00.10", "function|10|0-7");
}

static void test_pci_too_many_digits(void **state)
{
	(void)state;
	expect_reject("00000:3b:00.2", "domain|'00000'|too many digits|4");
	expect_reject("0000:03b:00.2", "bus|'03b'|too many digits|2");
	expect_reject("3b:000.2", "device|'000'|too many digits|2");
	expect_reject("3b:00.00", "function|'00'|too many digits|1");
	/* A huge field is quoted, shortened, and not wrapped around to something small. */
	expect_reject("100000000000000000000:00:00.0", "domain|out of range|...");
	expect_reject("3b:00000000000000000001.0", "device|too many digits");
}

static void test_reject_empty(void **state)
{
	(void)state;
	expect_reject("", "empty");
	expect_reject(NULL, "empty");
}

static void test_reject_wildcards_and_missing_fields(void **state)
{
	(void)state;
	expect_reject("3b:*.2", "wildcard");
	expect_reject("*:00.2", "wildcard");
	expect_reject("0000:3b:00.*", "wildcard");
	expect_reject("*", "wildcard");
	expect_reject("3b:00", "missing function");
	expect_reject("3b:00.", "missing function");
	expect_reject("3b:", "missing device");
	expect_reject("3b:.2", "missing device");
	expect_reject(":00.2", "missing bus");
	expect_reject("0000::00.2", "missing bus");
	expect_reject(":3b:00.2", "missing domain");
	expect_reject("00.2", "missing bus");
	expect_reject("0000:3b:00:00.2", "':' separators");
}

static void test_reject_trailing(void **state)
{
	(void)state;
	expect_reject("3b:00.2x", "trailing|'x'|function");
	expect_reject("3b:00.2.1", "trailing|'.1'|function");
	expect_reject("3b:00.2/", "trailing|function");
	expect_reject("0000:3b:00.2 ", "trailing whitespace");
	expect_reject("0000:3b:00.2\n", "trailing whitespace");
	expect_reject("0000:3b:00.2/extra/long/trailing/text", "trailing|...");
}

static void test_reject_signs_whitespace_prefixes(void **state)
{
	(void)state;
	expect_reject("-3b:00.2", "sign");
	expect_reject("+3b:00.2", "sign");
	expect_reject("3b:-1.2", "sign|device");
	expect_reject("3b:00.+2", "sign|function");
	expect_reject(" 3b:00.2", "leading whitespace");
	expect_reject("3b: 00.2", "whitespace at offset 3");
	expect_reject("3b:00.\t2", "whitespace");
	expect_reject("0x3b:00.2", "0x|bus");
	expect_reject("0X3b:00.2", "0x|bus");
	expect_reject("0000:0x3b:00.2", "0x|bus");
	expect_reject("0x0000:3b:00.2", "0x|domain");
	expect_reject("3b:00.0x2", "0x|function");
}

static void test_reject_bad_characters(void **state)
{
	(void)state;
	expect_reject("3g:00.2", "'g'|not a hex digit|bus");
	expect_reject("3b:0z.2", "'z'|not a hex digit|device");
	expect_reject("3b:00.z", "'z'|not a hex digit|function");
	expect_reject("3b.00:2", "'.'|bus|':'");
	expect_reject("3b:00:2", "missing function");
	expect_reject("3b:00\x01.2", "0x01|device");
}

static void test_reject_unknown_forms(void **state)
{
	(void)state;
	expect_reject("eth0", "unknown|[DOMAIN:]BUS:DEV.FN|UUID|/sys/|/dev/vfio/devices/vfioN");
	expect_reject("3b", "unknown|[DOMAIN:]BUS:DEV.FN");
	expect_reject("pci", "unknown");
	expect_reject("/dev/vfio/3", "group|/sys/|/dev/vfio/devices/vfioN");
	expect_reject("/dev/vfio/noiommu-0", "group");
	expect_reject("/dev/vfio/vfio", "unknown path");
	expect_reject("/tmp/x", "unknown path|/sys/|/dev/vfio/devices/vfioN");
	expect_reject("/sys", "unknown path");
	expect_reject("/sys/", "no device");
	expect_reject("sys/bus/pci/devices/0000:3b:00.2", "relative path|'/'");
	expect_reject("dev/vfio/devices/vfio3", "relative path");
}

static void test_mdev(void **state)
{
	(void)state;
	expect_ok("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	assert_int_equal(addr.kind, ADDR_MDEV);
	expect_ok("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	assert_string_equal(addr.uuid, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	expect_ok("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000");

	expect_reject("83b8f4f2-509f-382f-3c1e-e6bfe0fa100", "UUID|group 5|11|12");
	expect_reject("83b8f4f2-509f-382f-3c1e-e6bfe0fa10011", "UUID|group 5|13|12");
	expect_reject("83b8f4f-2509f-382f-3c1e-e6bfe0fa1001", "UUID|group 1|7|8");
	expect_reject("83b8f4f2-509f-382f-3c1ee6bfe0fa1001", "UUID|group 4|16|4");
	expect_reject("83b8f4f2-509f-382f-3c1e", "UUID|4 groups|5");
	expect_reject("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001-", "UUID|more than 5 groups");
	expect_reject("83b8f4f2-509f-382f-3c1e-e6bfe0fa100g", "'g'|not a hex digit|UUID");
	expect_reject("83b8f4f2--509f-382f-3c1e-e6bfe0fa1001", "UUID|group 2|0|4");
	expect_reject("83b8f4f2-509f-382f-3c1e_e6bfe0fa1001", "'_'|not a hex digit|UUID");
	expect_reject("{83b8f4f2-509f-382f-3c1e-e6bfe0fa1001}", "unknown|UUID");
	expect_reject("foo-bar", "unknown|UUID");
	expect_reject("-83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "sign");
}

static void test_sysfs(void **state)
{
	char *big;

	(void)state;
	expect_ok("/sys/bus/pci/devices/0000:3b:00.2", "/sys/bus/pci/devices/0000:3b:00.2");
	assert_int_equal(addr.kind, ADDR_SYSFS);
	expect_ok("/sys/bus/mdev/devices/83B8F4F2-509F-382F-3C1E-E6BFE0FA1001/",
		  "/sys/bus/mdev/devices/83B8F4F2-509F-382F-3C1E-E6BFE0FA1001/");

	/* The longest path that fits PATH_MAX with its terminator, then one byte more. */
	big = malloc(PATH_MAX + 1);
	assert_non_null(big);
	memset(big, 'a', PATH_MAX);
	memcpy(big, "/sys/", 5);
	big[PATH_MAX - 1] = '\0';
	expect_ok(big, big);
	assert_int_equal(strlen(addr.path), PATH_MAX - 1);
	big[PATH_MAX - 1] = 'a';
	big[PATH_MAX] = '\0';
	expect_reject(big, "path|long");
	free(big);
}

static void test_cdev(void **state)
{
	(void)state;
	expect_ok("/dev/vfio/devices/vfio0", "/dev/vfio/devices/vfio0");
	assert_int_equal(addr.kind, ADDR_CDEV);
	assert_int_equal(addr.cdev, 0);
	expect_ok("/dev/vfio/devices/vfio3", "/dev/vfio/devices/vfio3");
	assert_int_equal(addr.cdev, 3);
	expect_ok("/dev/vfio/devices/vfio2147483647", "/dev/vfio/devices/vfio2147483647");
	assert_int_equal(addr.cdev, 2147483647U);

	expect_reject("/dev/vfio/devices/vfio", "missing number");
	expect_reject("/dev/vfio/devices/vfio03", "leading zero");
	expect_reject("/dev/vfio/devices/vfio00", "leading zero");
	expect_reject("/dev/vfio/devices/vfio3x", "trailing|'x'");
	expect_reject("/dev/vfio/devices/vfio-1", "'-'|decimal");
	expect_reject("/dev/vfio/devices/vfio+1", "'+'|decimal");
	expect_reject("/dev/vfio/devices/vfio0x3", "trailing|'x3'");
	expect_reject("/dev/vfio/devices/vfio2147483648", "out of range");
	expect_reject("/dev/vfio/devices/vfio99999999999999999999", "out of range");
	expect_reject("/dev/vfio/devices/vfio3 ", "trailing whitespace");
	expect_reject("/dev/vfio/devices/", "unknown path");
}

static void test_why_is_optional_and_bounded(void **state)
{
	char tiny[8];

	(void)state;
	assert_int_equal(addr_parse("3b:00.8", &addr, NULL, 0), -EINVAL);
	assert_int_equal(addr_parse("3b:00.7", &addr, NULL, 0), 0);
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(addr_parse("3b:00.8", &addr, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void test_addr_name_bounded(void **state)
{
	char small[8];

	(void)state;
	expect_ok("0000:3b:00.2", "0000:3b:00.2");
	assert_ptr_equal(addr_name(&addr, small, sizeof(small)), small);
	assert_string_equal(small, "0000:3b");
}

static void expect_size(const char *in, int want_ret, unsigned long long want)
{
	unsigned long long v = 12345;
	int ret = parse_size(in, &v);

	if (ret != want_ret)
		fail_msg("'%s': got %d, want %d", in ? in : "(null)", ret, want_ret);
	if (ret == 0 && v != want)
		fail_msg("'%s': got %llu, want %llu", in, v, want);
	if (ret != 0 && v != 12345)
		fail_msg("'%s': value written on error", in ? in : "(null)");
}

static void test_parse_size(void **state)
{
	(void)state;
	expect_size("0", 0, 0);
	expect_size("0K", 0, 0);
	expect_size("0x0", 0, 0);
	expect_size("1", 0, 1);
	expect_size("4096", 0, 4096);
	expect_size("4K", 0, 4096);
	expect_size("4k", 0, 4096);
	expect_size("2M", 0, 2ULL << 20);
	expect_size("2m", 0, 2ULL << 20);
	expect_size("1G", 0, 1ULL << 30);
	expect_size("1g", 0, 1ULL << 30);
	expect_size("3T", 0, 3ULL << 40);
	expect_size("3t", 0, 3ULL << 40);
	expect_size("0x1000", 0, 0x1000);
	expect_size("0X1000", 0, 0x1000);
	expect_size("0xfFfF", 0, 0xffff);
	expect_size("0x10K", 0, 16ULL << 10);
	expect_size("010", 0, 10); /* decimal, not octal */
	expect_size("18446744073709551615", 0, ULLONG_MAX);
	expect_size("0xffffffffffffffff", 0, ULLONG_MAX);
	expect_size("16777215T", 0, 16777215ULL << 40);
	expect_size("17179869183G", 0, 17179869183ULL << 30);
}

static void test_parse_size_rejects(void **state)
{
	(void)state;
	/* Overflow: in the digits, and by the suffix. */
	expect_size("18446744073709551616", -ERANGE, 0);
	expect_size("99999999999999999999999", -ERANGE, 0);
	expect_size("0x10000000000000000", -ERANGE, 0);
	expect_size("16777216T", -ERANGE, 0);
	expect_size("17179869184G", -ERANGE, 0);
	expect_size("18014398509481984K", -ERANGE, 0);
	/* Garbage outranks overflow. */
	expect_size("99999999999999999999999x", -EINVAL, 0);
	expect_size(NULL, -EINVAL, 0);
	expect_size("", -EINVAL, 0);
	expect_size("4KB", -EINVAL, 0);
	expect_size("4KiB", -EINVAL, 0);
	expect_size("4kk", -EINVAL, 0);
	expect_size("K", -EINVAL, 0);
	expect_size("-1", -EINVAL, 0);
	expect_size("+1", -EINVAL, 0);
	expect_size(" 4K", -EINVAL, 0);
	expect_size("4K ", -EINVAL, 0);
	expect_size("4 K", -EINVAL, 0);
	expect_size("0x", -EINVAL, 0);
	expect_size("0xK", -EINVAL, 0);
	expect_size("0xg", -EINVAL, 0);
	expect_size("1.5M", -EINVAL, 0);
	expect_size("1e3", -EINVAL, 0);
	expect_size("4P", -EINVAL, 0);
	expect_size("4B", -EINVAL, 0);
	expect_size("x10", -EINVAL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_accepted),
		cmocka_unit_test(test_pci_boundaries),
		cmocka_unit_test(test_pci_too_many_digits),
		cmocka_unit_test(test_reject_empty),
		cmocka_unit_test(test_reject_wildcards_and_missing_fields),
		cmocka_unit_test(test_reject_trailing),
		cmocka_unit_test(test_reject_signs_whitespace_prefixes),
		cmocka_unit_test(test_reject_bad_characters),
		cmocka_unit_test(test_reject_unknown_forms),
		cmocka_unit_test(test_mdev),
		cmocka_unit_test(test_sysfs),
		cmocka_unit_test(test_cdev),
		cmocka_unit_test(test_why_is_optional_and_bounded),
		cmocka_unit_test(test_addr_name_bounded),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_size_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
