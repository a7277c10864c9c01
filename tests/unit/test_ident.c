/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for ident.c: the identity options of blob pack, accepted forms and every reject with its reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ident.h"
#include "mig.h"

static void expect_why(int ret, const char *why, const char *want)
{
	assert_int_equal(ret, -EINVAL);
	if (!strstr(why, want))
		fail_msg("reason '%s' does not say '%s'", why, want);
}

static void ids_ok(void **state)
{
	struct blob_header h = { .subsys_vendor = 0x1111, .subsys_device = 0x2222 };
	char why[256];

	(void)state;
	assert_int_equal(ident_parse_ids("15b3:101e", &h, why, sizeof(why)), 0);
	assert_int_equal(h.vendor, 0x15b3);
	assert_int_equal(h.device, 0x101e);
	/* Not given: what --source found stays. */
	assert_int_equal(h.subsys_vendor, 0x1111);
	assert_int_equal(h.subsys_device, 0x2222);
	assert_int_equal(ident_parse_ids("1234:11E8:1af4:1", &h, why, sizeof(why)), 0);
	assert_int_equal(h.vendor, 0x1234);
	assert_int_equal(h.device, 0x11e8);
	assert_int_equal(h.subsys_vendor, 0x1af4);
	assert_int_equal(h.subsys_device, 0x0001);
	assert_int_equal(ident_parse_ids("0:ffff", &h, why, sizeof(why)), 0);
	assert_int_equal(h.vendor, 0);
	assert_int_equal(h.device, 0xffff);
}

static void ids_rejected(void **state)
{
	struct blob_header h = { .vendor = 0xaaaa, .device = 0xbbbb };
	char why[256];

	(void)state;
	expect_why(ident_parse_ids("15b3", &h, why, sizeof(why)), why, "VENDOR:DEVICE");
	expect_why(ident_parse_ids("15b3:101e:15b3", &h, why, sizeof(why)), why, "VENDOR:DEVICE");
	expect_why(ident_parse_ids("15b3:101e:1:2:3", &h, why, sizeof(why)), why, "after the subsystem device ID");
	expect_why(ident_parse_ids("15b33:101e", &h, why, sizeof(why)), why, "vendor ID has more than 4 hex digits");
	expect_why(ident_parse_ids("15b3:g01e", &h, why, sizeof(why)), why, "device ID is not a hex number");
	expect_why(ident_parse_ids("15b3:", &h, why, sizeof(why)), why, "device ID is not a hex number");
	expect_why(ident_parse_ids("0x15b3:101e", &h, why, sizeof(why)), why, "unexpected 'x15b3:101e' after the vendor ID");
	expect_why(ident_parse_ids("", &h, why, sizeof(why)), why, "vendor ID is not a hex number");
	expect_why(ident_parse_ids("15b3-101e", &h, why, sizeof(why)), why, "unexpected '-101e'");
	/* A reject changes nothing. */
	assert_int_equal(h.vendor, 0xaaaa);
	assert_int_equal(h.device, 0xbbbb);
}

static void class_forms(void **state)
{
	uint32_t c = 7;
	char why[256];

	(void)state;
	assert_int_equal(ident_parse_class("020000", &c, why, sizeof(why)), 0);
	assert_int_equal(c, 0x020000);
	assert_int_equal(ident_parse_class("0xff0000", &c, why, sizeof(why)), 0);
	assert_int_equal(c, 0xff0000);
	assert_int_equal(ident_parse_class("0", &c, why, sizeof(why)), 0);
	assert_int_equal(c, 0);
	expect_why(ident_parse_class("1020000", &c, why, sizeof(why)), why, "at most 6 hex digits");
	expect_why(ident_parse_class("0x", &c, why, sizeof(why)), why, "24-bit PCI class");
	expect_why(ident_parse_class("02000z", &c, why, sizeof(why)), why, "24-bit PCI class");
	expect_why(ident_parse_class("", &c, why, sizeof(why)), why, "24-bit PCI class");
	assert_int_equal(c, 0);
}

static void mig_flags_forms(void **state)
{
	uint64_t f = 99;
	char why[256], buf[64];

	(void)state;
	assert_int_equal(ident_parse_mig_flags("stop-copy", &f, why, sizeof(why)), 0);
	assert_int_equal(f, MIG_FLAG_STOP_COPY);
	assert_int_equal(ident_parse_mig_flags("pre-copy,stop-copy,p2p", &f, why, sizeof(why)), 0);
	assert_int_equal(f, MIG_FLAG_STOP_COPY | MIG_FLAG_P2P | MIG_FLAG_PRE_COPY);
	assert_int_equal(ident_parse_mig_flags("none", &f, why, sizeof(why)), 0);
	assert_int_equal(f, 0);
	assert_int_equal(ident_parse_mig_flags("0x7", &f, why, sizeof(why)), 0);
	assert_int_equal(f, 7);
	assert_int_equal(ident_parse_mig_flags("9", &f, why, sizeof(why)), 0);
	assert_int_equal(f, 9);
	/* What blob inspect prints parses back to the same flags. */
	mig_flags_str(MIG_FLAG_STOP_COPY | MIG_FLAG_P2P, buf, sizeof(buf));
	assert_int_equal(ident_parse_mig_flags(buf, &f, why, sizeof(why)), 0);
	assert_int_equal(f, MIG_FLAG_STOP_COPY | MIG_FLAG_P2P);

	f = 5;
	expect_why(ident_parse_mig_flags("p2p", &f, why, sizeof(why)), why, "stop-copy");
	expect_why(ident_parse_mig_flags("stop-copy,dirty", &f, why, sizeof(why)), why, "unknown flag 'dirty'");
	expect_why(ident_parse_mig_flags("stop-copy,,p2p", &f, why, sizeof(why)), why, "unknown flag ''");
	expect_why(ident_parse_mig_flags("stop-copy,p2p,p2p", &f, why, sizeof(why)), why, "'p2p' is given twice");
	expect_why(ident_parse_mig_flags("7x", &f, why, sizeof(why)), why, "not a number");
	expect_why(ident_parse_mig_flags("99999999999999999999", &f, why, sizeof(why)), why, "not a number");
	expect_why(ident_parse_mig_flags("", &f, why, sizeof(why)), why, "unknown flag ''");
	assert_int_equal(f, 5);
}

static void strings(void **state)
{
	struct blob_header h = { 0 };
	char why[256], long_name[80];

	(void)state;
	assert_int_equal(ident_parse_str("mlx5_vfio_pci", h.driver, sizeof(h.driver), why, sizeof(why)), 0);
	assert_string_equal(h.driver, "mlx5_vfio_pci");
	assert_int_equal(ident_parse_str("", h.driver, sizeof(h.driver), why, sizeof(why)), 0);
	assert_string_equal(h.driver, "");
	memset(long_name, 'a', 63);
	long_name[63] = '\0';
	assert_int_equal(ident_parse_str(long_name, h.dev_name, sizeof(h.dev_name), why, sizeof(why)), 0);
	assert_int_equal(strlen(h.dev_name), 63);
	long_name[63] = 'a';
	long_name[64] = '\0';
	expect_why(ident_parse_str(long_name, h.dev_name, sizeof(h.dev_name), why, sizeof(why)), why,
		   "64 bytes; the blob header holds at most 63");
	expect_why(ident_parse_str("a\nb", h.kernel, sizeof(h.kernel), why, sizeof(why)), why,
		   "control character 0x0a at position 1");
	/* The field keeps what it had. */
	assert_int_equal(strlen(h.dev_name), 63);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_ok),
		cmocka_unit_test(ids_rejected),
		cmocka_unit_test(class_forms),
		cmocka_unit_test(mig_flags_forms),
		cmocka_unit_test(strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
