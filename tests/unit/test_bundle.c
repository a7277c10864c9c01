// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for bundles: round trips, a blob read as a bundle of one, and that every cut, flip and move is caught. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blob.h"

/* A memory source handing out at most STEP bytes a call (0: all asked). */
struct mem_src {
	const uint8_t *p;
	size_t len, pos, step;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_src *m = ctx;
	size_t n = m->len - m->pos;

	if (n > len)
		n = len;
	if (m->step && n > m->step)
		n = m->step;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

struct buf {
	uint8_t *p;
	size_t len;
};

static void append(struct buf *b, const void *d, size_t n)
{
	b->p = realloc(b->p, b->len + n);
	assert_non_null(b->p);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* The stream of member I: SIZES[I] bytes, distinct per member. */
static void fill(uint8_t *d, size_t n, unsigned int member)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(i * 7 + member * 31 + 1);
}

static void member_header(struct blob_header *h, unsigned int i)
{
	memset(h, 0, sizeof(*h));
	h->version = BLOB_VERSION;
	h->vendor = 0x1234;
	h->device = 0x11e8;
	h->mig_flags = 3;
	h->time = 1765000000 + i;
	snprintf(h->dev_name, sizeof(h->dev_name), "0000:0%u:00.0", i + 1);
	strcpy(h->driver, "vfiomig_test");
	strcpy(h->kernel, "6.12.0");
	strcpy(h->tool, "vfiomig test");
}

/* Where the parts of a bundle start, for the tests that cut or move them. */
struct layout {
	size_t dir, member[BUNDLE_MAX], trailer;
};

/* A blob of member I's stream, split in chunks of at most 5 bytes. */
static void put_member(struct buf *b, unsigned int i, size_t size, struct bundle_writer *bw)
{
	uint8_t hdr[BLOB_HEADER_SIZE], ch[BLOB_CHUNK_HDR_SIZE], tr[BLOB_TRAILER_SIZE];
	uint8_t *d = malloc(size + 1);
	struct blob_header h;
	struct blob_writer w;

	assert_non_null(d);
	fill(d, size, i);
	member_header(&h, i);
	blob_header_encode(&h, hdr);
	append(b, hdr, sizeof(hdr));
	assert_int_equal(blob_writer_init(&w), 0);
	for (size_t off = 0; off < size; off += 5) {
		size_t n = size - off < 5 ? size - off : 5;

		blob_writer_chunk(&w, d + off, n, ch);
		append(b, ch, sizeof(ch));
		append(b, d + off, n);
	}
	blob_writer_trailer(&w, tr);
	append(b, tr, sizeof(tr));
	if (bw)
		bundle_writer_member(bw, &w, tr);
	blob_writer_free(&w);
	free(d);
}

static struct buf build(const size_t *sizes, unsigned int n, struct layout *lay)
{
	uint8_t hdr[BLOB_HEADER_SIZE], tr[BLOB_TRAILER_SIZE];
	struct bundle_writer bw;
	struct blob_header h;
	struct buf b = { 0 };
	unsigned int i;

	bundle_header_encode(n, 1765000000, "vfiomig test", hdr);
	append(&b, hdr, sizeof(hdr));
	lay->dir = b.len;
	for (i = 0; i < n; i++) {
		member_header(&h, i);
		blob_header_encode(&h, hdr);
		append(&b, hdr, sizeof(hdr));
	}
	assert_int_equal(bundle_writer_init(&bw), 0);
	for (i = 0; i < n; i++) {
		lay->member[i] = b.len;
		put_member(&b, i, sizes[i], &bw);
	}
	lay->trailer = b.len;
	bundle_writer_trailer(&bw, tr);
	bundle_writer_free(&bw);
	append(&b, tr, sizeof(tr));
	return b;
}

struct result {
	int ret;
	uint32_t members;
	size_t bytes[BUNDLE_MAX];
	bool data_ok;           /* every chunk handed out was what the member carries */
	char msg[256];
	uint64_t offset;
};

/* Reads all of B through the bundle reader, STEP bytes a read. */
static struct result decode(const uint8_t *p, size_t len, size_t step, const size_t *sizes)
{
	struct mem_src m = { .p = p, .len = len, .step = step };
	struct blob_src src = { .read = mem_read, .ctx = &m };
	struct result res = { .data_ok = true };
	struct bundle_reader b;
	uint8_t expect[64];
	const void *data;
	uint32_t idx;
	size_t n;
	int ret;

	ret = bundle_reader_open(&b, &src);
	while (!ret && (ret = bundle_reader_member(&b, &idx)) > 0) {
		assert_int_equal(idx, res.members);
		res.members++;
		while ((ret = bundle_reader_next(&b, &data, &n)) > 0) {
			if (sizes && res.bytes[idx] + n <= sizes[idx]) {
				fill(expect, sizes[idx], idx);
				if (memcmp(data, expect + res.bytes[idx], n))
					res.data_ok = false;
			} else if (sizes) {
				res.data_ok = false;
			}
			res.bytes[idx] += n;
		}
		if (ret < 0)
			break;
		ret = 0;
	}
	res.ret = ret;
	if (ret == -EBADMSG) {
		snprintf(res.msg, sizeof(res.msg), "%s", bundle_reader_error(&b)->msg);
		res.offset = bundle_reader_error(&b)->offset;
	}
	bundle_reader_close(&b);
	return res;
}

static const size_t sizes3[] = { 12, 0, 7 };

static void test_round_trip(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);
	struct mem_src m = { .p = b.p, .len = b.len };
	struct blob_src src = { .read = mem_read, .ctx = &m };
	struct bundle_reader r;
	struct result res;

	(void)state;
	for (size_t step = 0; step < 4; step++) {
		res = decode(b.p, b.len, step, sizes3);
		assert_int_equal(res.ret, 0);
		assert_int_equal(res.members, 3);
		assert_true(res.data_ok);
		for (int i = 0; i < 3; i++)
			assert_int_equal(res.bytes[i], sizes3[i]);
	}
	/* The directory names every member before any stream is read. */
	assert_int_equal(bundle_reader_open(&r, &src), 0);
	assert_true(r.bundle);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.members[2].dev_name, "0000:03:00.0");
	assert_string_equal(r.tool, "vfiomig test");
	assert_int_equal(m.pos, lay.member[0]);
	bundle_reader_close(&r);
	free(b.p);
}

/* A single blob reads as a bundle of one, with its own end check. */
static void test_single_blob(void **state)
{
	struct buf b = { 0 };
	struct mem_src m;
	struct blob_src src = { .read = mem_read, .ctx = &m };
	struct bundle_reader r;
	struct result res;
	const size_t size[] = { 11 };

	(void)state;
	put_member(&b, 0, 11, NULL);
	res = decode(b.p, b.len, 0, size);
	assert_int_equal(res.ret, 0);
	assert_int_equal(res.members, 1);
	assert_int_equal(res.bytes[0], 11);
	assert_true(res.data_ok);
	m = (struct mem_src){ .p = b.p, .len = b.len };
	assert_int_equal(bundle_reader_open(&r, &src), 0);
	assert_false(r.bundle);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.members[0].dev_name, "0000:01:00.0");
	bundle_reader_close(&r);

	append(&b, "x", 1);
	res = decode(b.p, b.len, 0, size);
	assert_int_equal(res.ret, -EBADMSG);
	assert_non_null(strstr(res.msg, "trailing data"));
	free(b.p);
}

/* blob_reader_open() is for single blobs: a bundle is named as what it is. */
static void test_blob_reader_refuses_bundle(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);
	struct mem_src m = { .p = b.p, .len = b.len };
	struct blob_src src = { .read = mem_read, .ctx = &m };
	struct blob_reader r;
	struct blob_header h;

	(void)state;
	assert_int_equal(blob_reader_open(&r, &src, &h), -EBADMSG);
	assert_non_null(strstr(r.err.msg, "bundle"));
	blob_reader_close(&r);
	free(b.p);
}

static void test_truncation_every_prefix(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);

	(void)state;
	for (size_t len = 0; len < b.len; len++) {
		struct result res = decode(b.p, len, 0, sizes3);

		if (res.ret != -EBADMSG)
			fail_msg("a bundle cut to %zu of %zu bytes gave %d", len, b.len, res.ret);
		assert_true(res.data_ok);
	}
	free(b.p);
}

/* Every byte is under a checksum or compared with one that is: no flip goes unnoticed. */
static void test_bit_flip_every_byte(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);

	(void)state;
	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			struct result res;

			b.p[i] ^= (uint8_t)(1u << bit);
			res = decode(b.p, b.len, 0, sizes3);
			b.p[i] ^= (uint8_t)(1u << bit);
			if (res.ret != -EBADMSG)
				fail_msg("flipping bit %d of byte %zu gave %d", bit, i, res.ret);
			assert_true(res.data_ok);
		}
	}
	free(b.p);
}

/* Members moved, dropped or repeated in the body, with the directory left as written. */
static void test_members_moved(void **state)
{
	static const size_t sizes[] = { 6, 6, 6 };
	struct layout lay;
	struct buf b = build(sizes, 3, &lay), c = { 0 };
	size_t m0 = lay.member[1] - lay.member[0];
	struct result res;

	(void)state;
	/* Members 0 and 1 swapped (the same length each). */
	append(&c, b.p, lay.member[0]);
	append(&c, b.p + lay.member[1], m0);
	append(&c, b.p + lay.member[0], m0);
	append(&c, b.p + lay.member[2], b.len - lay.member[2]);
	res = decode(c.p, c.len, 0, NULL);
	assert_int_equal(res.ret, -EBADMSG);
	assert_non_null(strstr(res.msg, "member 0"));
	assert_non_null(strstr(res.msg, "differs from directory entry 0"));
	assert_int_equal(res.offset, lay.member[0]);
	free(c.p);

	/* The last member dropped: the bundle trailer comes where a member must. */
	c = (struct buf){ 0 };
	append(&c, b.p, lay.member[2]);
	append(&c, b.p + lay.trailer, b.len - lay.trailer);
	res = decode(c.p, c.len, 0, NULL);
	assert_int_equal(res.ret, -EBADMSG);
	free(c.p);

	/* A member's trailer that does not belong to it. */
	c = (struct buf){ 0 };
	append(&c, b.p, b.len);
	memcpy(c.p + lay.member[1] - BLOB_TRAILER_SIZE, b.p + lay.member[2] - BLOB_TRAILER_SIZE,
	       BLOB_TRAILER_SIZE);
	res = decode(c.p, c.len, 0, NULL);
	assert_int_equal(res.ret, -EBADMSG);
	free(c.p);
	free(b.p);
}

static void test_trailing_data(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);
	struct result res;

	(void)state;
	append(&b, "\0", 1);
	res = decode(b.p, b.len, 0, sizes3);
	assert_int_equal(res.ret, -EBADMSG);
	assert_non_null(strstr(res.msg, "trailing data after the bundle's trailer"));
	assert_int_equal(res.offset, b.len - 1);
	free(b.p);
}

/* Counts outside 1..BUNDLE_MAX, written with a valid checksum. */
static void test_member_count(void **state)
{
	uint8_t hdr[BLOB_HEADER_SIZE];
	struct result res;

	(void)state;
	bundle_header_encode(0, 0, "t", hdr);
	res = decode(hdr, sizeof(hdr), 0, NULL);
	assert_int_equal(res.ret, -EBADMSG);
	assert_non_null(strstr(res.msg, "member count 0 is out of range"));
	bundle_header_encode(BUNDLE_MAX + 1, 0, "t", hdr);
	res = decode(hdr, sizeof(hdr), 0, NULL);
	assert_int_equal(res.ret, -EBADMSG);
	assert_non_null(strstr(res.msg, "out of range"));
}

static void test_messages_name_the_part(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);
	struct result res;

	(void)state;
	res = decode(b.p, lay.dir + 100, 0, NULL);
	assert_non_null(strstr(res.msg, "directory entry 0"));
	res = decode(b.p, lay.trailer, 0, NULL);
	assert_non_null(strstr(res.msg, "before the bundle's trailer"));
	b.p[lay.dir + BLOB_HEADER_SIZE + 20] ^= 1;
	res = decode(b.p, b.len, 0, NULL);
	assert_non_null(strstr(res.msg, "directory entry 1"));
	assert_non_null(strstr(res.msg, "checksum mismatch"));
	b.p[lay.dir + BLOB_HEADER_SIZE + 20] ^= 1;
	b.p[lay.member[2] + BLOB_HEADER_SIZE + 20] ^= 1;
	res = decode(b.p, b.len, 0, NULL);
	/* Offsets count from the bundle's first byte, not the member's. */
	assert_int_equal(res.offset, lay.member[2] + BLOB_HEADER_SIZE);
	free(b.p);
}

/* The format is what vfiomig(8) documents: the magic, the count and the trailer's tag where it says. */
static void test_layout(void **state)
{
	struct layout lay;
	struct buf b = build(sizes3, 3, &lay);

	(void)state;
	assert_memory_equal(b.p, "VFIOBND\x1a", 8);
	assert_int_equal(b.p[8] | b.p[9] << 8, 1);
	assert_int_equal(b.p[10] | b.p[11] << 8, 512);
	assert_int_equal(b.p[12], 3);
	assert_int_equal(lay.dir, 512);
	assert_int_equal(lay.member[0], 512 + 3 * 512);
	assert_memory_equal(b.p + lay.member[0], b.p + lay.dir, BLOB_HEADER_SIZE);
	assert_memory_equal(b.p + lay.trailer, "BEND", 4);
	assert_int_equal(b.len - lay.trailer, BLOB_TRAILER_SIZE);
	free(b.p);
}

static void ident(struct blob_header *h, const char *name, uint16_t vendor, uint16_t device,
		  const char *driver)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dev_name, sizeof(h->dev_name), "%s", name);
	h->vendor = vendor;
	h->device = device;
	snprintf(h->driver, sizeof(h->driver), "%s", driver);
}

static void test_identity_diff(void **state)
{
	struct blob_header a, b;
	char buf[256];

	(void)state;
	ident(&a, "0000:01:00.0", 0x1234, 0x11e8, "vfiomig_test");
	ident(&b, "0000:09:00.0", 0x1234, 0x11e8, "vfiomig_test");
	/* The name and the time are where it came from, not what it is. */
	b.time = 99;
	b.mig_flags = 7;
	assert_int_equal(blob_identity_diff(&a, &b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	b.vendor = 0x15b3;
	strcpy(b.driver, "mtty");
	assert_int_equal(blob_identity_diff(&a, &b, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "vendor 0x1234 in the blob, 0x15b3 here, driver 'vfiomig_test' in the blob, 'mtty' here");
	b = a;
	strcpy(b.mdev_type, "mtty-2");
	assert_int_equal(blob_identity_diff(&a, &b, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "mdev type '' in the blob, 'mtty-2' here");
}

static void test_match(void **state)
{
	struct blob_header m[3], t[3];
	int to[3];
	char why[256];

	(void)state;
	ident(&m[0], "0000:01:00.0", 0x1234, 0x11e8, "vfiomig_test");
	ident(&m[1], "a0", 0x8086, 0x10d3, "mtty");
	ident(&m[2], "0000:02:00.0", 0x1234, 0x11e8, "vfiomig_test");
	/* Targets in another order: a NIC-like mtty first. */
	ident(&t[0], "b0", 0x8086, 0x10d3, "mtty");
	ident(&t[1], "0000:05:00.0", 0x1234, 0x11e8, "vfiomig_test");
	ident(&t[2], "0000:06:00.0", 0x1234, 0x11e8, "vfiomig_test");

	assert_int_equal(bundle_match(m, 3, t, 3, BUNDLE_BY_POSITION, to, why, sizeof(why)), 0);
	assert_int_equal(to[0], 0);
	assert_int_equal(to[2], 2);
	assert_int_equal(bundle_match(m, 3, t, 2, BUNDLE_BY_POSITION, to, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the blob holds 3 device states and 2 devices were given");

	/* By identity, members of one kind keep their order among that kind's targets. */
	assert_int_equal(bundle_match(m, 3, t, 3, BUNDLE_BY_IDENTITY, to, why, sizeof(why)), 0);
	assert_int_equal(to[0], 1);
	assert_int_equal(to[1], 0);
	assert_int_equal(to[2], 2);

	/* A member with no target of its kind, and a target no member wants. */
	strcpy(t[2].driver, "vfio-pci");
	assert_int_equal(bundle_match(m, 3, t, 3, BUNDLE_BY_IDENTITY, to, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "member 2 (0000:02:00.0"));
	assert_int_equal(bundle_match(m, 2, t, 3, BUNDLE_BY_IDENTITY, to, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "device 0000:06:00.0"));
	assert_non_null(strstr(why, "matches no member"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_single_blob),
		cmocka_unit_test(test_blob_reader_refuses_bundle),
		cmocka_unit_test(test_truncation_every_prefix),
		cmocka_unit_test(test_bit_flip_every_byte),
		cmocka_unit_test(test_members_moved),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_member_count),
		cmocka_unit_test(test_messages_name_the_part),
		cmocka_unit_test(test_identity_diff),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
