// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the mlx5 record decoder (every split point, malformed records) and the arc annotation table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlx5.h"

static size_t put_rec(uint8_t *p, uint64_t size, uint32_t flags, uint32_t tag, const void *payload)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(size >> (8 * i));
	for (i = 0; i < 4; i++) {
		p[8 + i] = (uint8_t)(flags >> (8 * i));
		p[12 + i] = (uint8_t)(tag >> (8 * i));
	}
	if (payload)
		memcpy(p + 16, payload, size);
	else
		memset(p + 16, 0xab, size);
	return 16 + size;
}

/* A stream like mlx5's: STOP_COPY_SIZE, then FW_DATA records, one empty, one optional unknown. */
static size_t sample(uint8_t *buf)
{
	uint8_t size[8] = { 0x00, 0x10, 0, 0, 0, 0, 0, 0 }; /* 4096 */
	size_t n = 0;

	n += put_rec(buf + n, 8, 0, MLX5_REC_TAG_STOP_COPY_SIZE, size);
	n += put_rec(buf + n, 100, 0, MLX5_REC_TAG_FW_DATA, NULL);
	n += put_rec(buf + n, 0, 0, MLX5_REC_TAG_FW_DATA, NULL);
	n += put_rec(buf + n, 7, MLX5_REC_FLAG_OPTIONAL, 0x40, NULL);
	n += put_rec(buf + n, 33, 0, MLX5_REC_TAG_FW_DATA, NULL);
	return n;
}

struct seen {
	int n;
	struct mlx5_record r[8];
};

static void collect(const struct mlx5_record *r, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8)
		s->r[s->n] = *r;
	s->n++;
}

static void check_sample(const struct mlx5_decoder *d, const struct seen *s)
{
	assert_int_equal(d->records, 5);
	assert_int_equal(d->fw_data, 3);
	assert_int_equal(d->fw_bytes, 133);
	assert_int_equal(d->stop_copy_records, 1);
	assert_int_equal(d->last_stop_copy_size, 4096);
	assert_int_equal(s->n, 5);
	assert_int_equal(s->r[0].tag, MLX5_REC_TAG_STOP_COPY_SIZE);
	assert_int_equal(s->r[0].stop_copy_size, 4096);
	assert_int_equal(s->r[1].offset, 24);
	assert_int_equal(s->r[1].size, 100);
	assert_int_equal(s->r[2].offset, 140);
	assert_int_equal(s->r[2].size, 0);
	assert_int_equal(s->r[3].flags, MLX5_REC_FLAG_OPTIONAL);
	assert_int_equal(s->r[4].offset, 179);
}

static void test_whole(void **state)
{
	uint8_t buf[512];
	size_t n = sample(buf);
	struct mlx5_decoder d;
	struct seen s = { 0 };

	(void)state;
	mlx5_decoder_init(&d);
	assert_int_equal(mlx5_decoder_feed(&d, buf, n, collect, &s), 0);
	assert_int_equal(mlx5_decoder_finish(&d), 0);
	check_sample(&d, &s);
}

static void test_every_split(void **state)
{
	uint8_t buf[512];
	size_t n = sample(buf), cut, i;

	(void)state;
	/* Chunks cut records anywhere: two pieces at every point, and byte by byte. */
	for (cut = 0; cut <= n; cut++) {
		struct mlx5_decoder d;
		struct seen s = { 0 };

		mlx5_decoder_init(&d);
		assert_int_equal(mlx5_decoder_feed(&d, buf, cut, collect, &s), 0);
		assert_int_equal(mlx5_decoder_feed(&d, buf + cut, n - cut, collect, &s), 0);
		assert_int_equal(mlx5_decoder_finish(&d), 0);
		check_sample(&d, &s);
	}
	{
		struct mlx5_decoder d;
		struct seen s = { 0 };

		mlx5_decoder_init(&d);
		for (i = 0; i < n; i++)
			assert_int_equal(mlx5_decoder_feed(&d, buf + i, 1, collect, &s), 0);
		assert_int_equal(mlx5_decoder_finish(&d), 0);
		check_sample(&d, &s);
	}
}

static void test_truncated(void **state)
{
	uint8_t buf[512];
	size_t n = sample(buf), cut;
	const size_t ends[] = { 0, 24, 140, 156, 179, 228 }; /* record boundaries */

	(void)state;
	for (cut = 1; cut < n; cut++) {
		struct mlx5_decoder d;
		bool boundary = false;
		size_t i;

		for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
			boundary |= ends[i] == cut;
		mlx5_decoder_init(&d);
		assert_int_equal(mlx5_decoder_feed(&d, buf, cut, NULL, NULL), 0);
		if (boundary) {
			assert_int_equal(mlx5_decoder_finish(&d), 0);
		} else {
			assert_int_equal(mlx5_decoder_finish(&d), -EBADMSG);
			assert_non_null(strstr(d.why, "the stream ends inside the"));
		}
	}
}

static void expect_bad(const uint8_t *buf, size_t n, const char *why)
{
	struct mlx5_decoder d;

	mlx5_decoder_init(&d);
	assert_int_equal(mlx5_decoder_feed(&d, buf, n, NULL, NULL), -EBADMSG);
	assert_non_null(strstr(d.why, why));
	/* A broken decoder stays broken. */
	assert_int_equal(mlx5_decoder_feed(&d, buf, 1, NULL, NULL), -EBADMSG);
	assert_int_equal(mlx5_decoder_finish(&d), -EBADMSG);
}

static void test_malformed(void **state)
{
	uint8_t buf[128];
	size_t n;

	(void)state;
	n = put_rec(buf, 4, 0, 0x40, NULL);
	expect_bad(buf, n, "mlx5 record 0 at stream offset 0: unknown mandatory tag 0x40");
	n = put_rec(buf, 4, 0, MLX5_REC_TAG_FW_DATA, NULL);
	n += put_rec(buf + n, 4, 0x6, MLX5_REC_TAG_FW_DATA, NULL);
	expect_bad(buf, n, "mlx5 record 1 at stream offset 20: unknown flags 0x6");
	n = put_rec(buf, 4, 0, MLX5_REC_TAG_STOP_COPY_SIZE, NULL);
	expect_bad(buf, n, "a STOP_COPY_SIZE record carries 4 bytes, not 8");
}

static void test_arc_notes(void **state)
{
	(void)state;
	assert_string_equal(drv_arc_note("mlx5_vfio_pci", MIG_RUNNING, MIG_RUNNING_P2P),
			    "SUSPEND_VHCA (0x115, initiator)");
	assert_non_null(strstr(drv_arc_note("mlx5_vfio_pci", MIG_STOP, MIG_STOP_COPY), "SAVE_VHCA_STATE"));
	assert_non_null(strstr(drv_arc_note("mlx5_vfio_pci", MIG_STOP, MIG_RESUMING), "LOAD_VHCA_STATE"));
	assert_null(drv_arc_note("mlx5_vfio_pci", MIG_STOP, MIG_RUNNING));
	assert_null(drv_arc_note("vfio-pci", MIG_RUNNING, MIG_RUNNING_P2P));
	assert_string_equal(mlx5_tag_name(0), "FW_DATA");
	assert_string_equal(mlx5_tag_name(1), "STOP_COPY_SIZE");
	assert_string_equal(mlx5_tag_name(9), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_arc_notes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
