// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the blob format: layout, round trips, and that every truncation and bit flip is caught. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blob.h"

/*
 * The test writes its own little-endian helpers and hashes rather than
 * borrowing blob.c's, so that the layout is checked against the documented
 * format, not against itself.
 */
static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A memory source that can hand out STEP bytes at a time and fail at FAIL_AT. */
struct mem_src {
	const uint8_t *p;
	size_t len, pos;
	size_t step;            /* 0: as much as asked */
	size_t fail_at;         /* with FAIL_ERR: fail once this offset is reached */
	int fail_err;
	unsigned long calls;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_src *m = ctx;
	size_t n = m->len - m->pos;

	m->calls++;
	if (m->fail_err) {
		if (m->pos >= m->fail_at)
			return m->fail_err;
		if (n > m->fail_at - m->pos)
			n = m->fail_at - m->pos;
	}
	if (n > len)
		n = len;
	if (m->step && n > m->step)
		n = m->step;
	if (n)
		memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* A blob built in memory, with where its parts start. */
struct blob {
	uint8_t *p;
	size_t len;
	size_t nchunks;
	size_t chunk_off[8];    /* of each chunk header */
	size_t chunk_len[8];    /* header + data */
	size_t trailer_off;
	uint8_t *stream;        /* the device stream it carries */
	size_t stream_len;
};

static void append(struct blob *b, const void *d, size_t n)
{
	b->p = realloc(b->p, b->len + n);
	assert_non_null(b->p);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void fill(uint8_t *d, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 12345;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345;
		d[i] = (uint8_t)(x >> 16);
	}
}

static void sample_header(struct blob_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = BLOB_VERSION;
	h->vendor = 0x15b3;
	h->device = 0x101e;
	h->subsys_vendor = 0x15b3;
	h->subsys_device = 0x0063;
	h->class_code = 0x020000;
	h->mig_flags = 0x5;
	h->time = 1732190000;
	strcpy(h->dev_name, "0000:3b:00.2");
	strcpy(h->driver, "mlx5_vfio_pci");
	strcpy(h->kernel, "6.12.0");
	strcpy(h->tool, "vfiomig 0.1.0");
}

static struct blob build(const size_t *sizes, size_t n)
{
	struct blob b = { 0 };
	struct blob_header h;
	struct blob_writer w;
	uint8_t hdr[BLOB_HEADER_SIZE], ch[BLOB_CHUNK_HDR_SIZE], tr[BLOB_TRAILER_SIZE];

	assert_true(n <= 8);
	sample_header(&h);
	blob_header_encode(&h, hdr);
	append(&b, hdr, sizeof(hdr));
	assert_int_equal(blob_writer_init(&w), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *d = malloc(sizes[i]);

		assert_non_null(d);
		fill(d, sizes[i], (uint32_t)i);
		blob_writer_chunk(&w, d, sizes[i], ch);
		b.chunk_off[i] = b.len;
		b.chunk_len[i] = BLOB_CHUNK_HDR_SIZE + sizes[i];
		append(&b, ch, sizeof(ch));
		append(&b, d, sizes[i]);
		b.stream = realloc(b.stream, b.stream_len + sizes[i]);
		assert_non_null(b.stream);
		memcpy(b.stream + b.stream_len, d, sizes[i]);
		b.stream_len += sizes[i];
		free(d);
	}
	b.nchunks = n;
	b.trailer_off = b.len;
	blob_writer_trailer(&w, tr);
	blob_writer_free(&w);
	append(&b, tr, sizeof(tr));
	return b;
}

static void blob_free(struct blob *b)
{
	free(b->p);
	free(b->stream);
}

/*
 * The small blob most tests corrupt: header, chunks of 4, 1 and 9 bytes,
 * trailer. Its parts start at 0, 512, 532, 549 and 574; it ends at 614.
 * Small, because every byte of it is cut or flipped in turn.
 */
static const size_t small_sizes[] = { 4, 1, 9 };

static struct blob small_blob(void)
{
	return build(small_sizes, 3);
}

struct result {
	int ret;
	int open_ret;
	struct blob_header h;
	struct blob_error err;
	size_t len;             /* bytes of data handed out */
	uint64_t chunks, bytes, max_chunk, offset;
	unsigned long calls;
};

/*
 * Reads a blob to its end. With EXPECT, checks every chunk handed out
 * against the stream the blob carries: corrupt data must never come out,
 * even from a blob that fails later.
 */
static int decode_src(struct mem_src *m, const uint8_t *expect, size_t expect_len,
		      struct result *res)
{
	struct blob_src src = { .read = mem_read, .ctx = m };
	struct blob_reader r;
	const void *d;
	size_t n;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = blob_reader_open(&r, &src, &res->h);
	res->open_ret = ret;
	if (ret == 0) {
		while ((ret = blob_reader_next(&r, &d, &n)) == 1) {
			assert_true(n >= 1 && n <= BLOB_CHUNK_MAX);
			if (expect) {
				assert_true(res->len + n <= expect_len);
				assert_memory_equal(d, expect + res->len, n);
			}
			res->len += n;
		}
	}
	res->ret = ret;
	res->err = r.err;
	res->chunks = r.chunks;
	res->bytes = r.bytes;
	res->max_chunk = r.max_chunk;
	res->offset = r.offset;
	res->calls = m->calls;
	if (ret == 0) {
		/* Once done, the reader stays done. */
		assert_int_equal(blob_reader_next(&r, &d, &n), 0);
		assert_true(r.done);
	}
	blob_reader_close(&r);
	blob_reader_close(&r);  /* closing twice is harmless */
	return ret;
}

static int decode(const uint8_t *p, size_t len, struct result *res)
{
	struct mem_src m = { .p = p, .len = len };

	return decode_src(&m, NULL, 0, res);
}

/* The first LEN bytes of B's bytes P (B itself, or a corrupt copy), checked against B's stream. */
static int decode_checked(const struct blob *b, const uint8_t *p, size_t len, struct result *res)
{
	struct mem_src m = { .p = p, .len = len };

	return decode_src(&m, b->stream, b->stream_len, res);
}

#define assert_msg_has(res, needle) do { \
	if (!strstr((res)->err.msg, (needle))) \
		fail_msg("message \"%s\" lacks \"%s\"", (res)->err.msg, (needle)); \
} while (0)

/* Asserts -EBADMSG with exactly MSG at OFFSET. */
static void expect_error(const uint8_t *p, size_t len, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void expect_error(const uint8_t *p, size_t len, uint64_t offset, const char *fmt, ...)
{
	struct result res;
	char want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	assert_int_equal(decode(p, len, &res), -EBADMSG);
	assert_string_equal(res.err.msg, want);
	assert_int_equal(res.err.offset, offset);
}

static void expect_ok(const uint8_t *p, size_t len)
{
	struct result res;

	if (decode(p, len, &res))
		fail_msg("decode failed: %d, %s", res.ret, res.err.msg);
}

static void reseal_header(uint8_t *p)
{
	le64(p + 504, XXH3_64bits(p, 504));
}

static void reseal_trailer(uint8_t *t)
{
	le64(t + 32, XXH3_64bits(t, 32));
}

/* Header. */

static void full_header(struct blob_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = BLOB_VERSION;
	h->flags = 0;
	h->vendor = 0xfedc;
	h->device = 0xba98;
	h->subsys_vendor = 0x7654;
	h->subsys_device = 0x3210;
	h->class_code = 0xabcdef;
	h->mig_flags = 0x8877665544332211ull;
	h->time = (int64_t)0xf123456789abcdefull;  /* negative: all 64 bits survive */
	memset(h->dev_name, 'd', sizeof(h->dev_name) - 1);
	memset(h->driver, 'r', sizeof(h->driver) - 1);
	memset(h->mdev_type, 'm', sizeof(h->mdev_type) - 1);
	memset(h->kernel, 'k', sizeof(h->kernel) - 1);
	memset(h->tool, 't', sizeof(h->tool) - 1);
	h->dev_name[0] = 'D';
	h->tool[30] = 'T';
}

static void test_header_round_trip(void **state)
{
	struct blob_header h, d;
	struct blob_error err = { 0 };
	uint8_t b[BLOB_HEADER_SIZE];

	(void)state;
	full_header(&h);
	blob_header_encode(&h, b);
	memset(&d, 0x55, sizeof(d));
	assert_int_equal(blob_header_decode(b, &d, &err), 0);
	assert_int_equal(d.version, BLOB_VERSION);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.vendor, 0xfedc);
	assert_int_equal(d.device, 0xba98);
	assert_int_equal(d.subsys_vendor, 0x7654);
	assert_int_equal(d.subsys_device, 0x3210);
	assert_int_equal(d.class_code, 0xabcdef);
	assert_true(d.mig_flags == 0x8877665544332211ull);
	assert_true(d.time == h.time && d.time < 0);
	assert_string_equal(d.dev_name, h.dev_name);
	assert_string_equal(d.driver, h.driver);
	assert_string_equal(d.mdev_type, h.mdev_type);
	assert_string_equal(d.kernel, h.kernel);
	assert_string_equal(d.tool, h.tool);
	assert_int_equal(strlen(d.kernel), 95);

	/* Empty strings and zero fields too; no stale bytes stay behind the strings. */
	memset(&h, 0, sizeof(h));
	blob_header_encode(&h, b);
	memset(&d, 0x55, sizeof(d));
	assert_int_equal(blob_header_decode(b, &d, &err), 0);
	assert_int_equal(d.version, BLOB_VERSION);  /* the encoder writes its own */
	assert_int_equal(d.vendor | d.device | d.subsys_vendor | d.subsys_device, 0);
	assert_int_equal(d.class_code | d.flags, 0);
	assert_true(d.mig_flags == 0 && d.time == 0);
	assert_memory_equal(d.dev_name, h.dev_name, sizeof(d.dev_name));
	assert_memory_equal(d.driver, h.driver, sizeof(d.driver));
	assert_memory_equal(d.mdev_type, h.mdev_type, sizeof(d.mdev_type));
	assert_memory_equal(d.kernel, h.kernel, sizeof(d.kernel));
	assert_memory_equal(d.tool, h.tool, sizeof(d.tool));
}

static void test_header_layout(void **state)
{
	struct blob_header h;
	uint8_t b[BLOB_HEADER_SIZE], want[BLOB_HEADER_SIZE] = { 0 };

	(void)state;
	full_header(&h);
	/* A string filling its whole field is cut to leave the NUL the reader requires. */
	memset(h.driver, 'x', sizeof(h.driver));
	h.version = 9;          /* ignored: this code writes version 1 */
	blob_header_encode(&h, b);

	memcpy(want, "VFIOMIG\x1a", 8);
	le16(want + 8, 1);
	le16(want + 10, 512);
	le32(want + 12, 0);
	le16(want + 16, 0xfedc);
	le16(want + 18, 0xba98);
	le16(want + 20, 0x7654);
	le16(want + 22, 0x3210);
	le32(want + 24, 0xabcdef);
	le32(want + 28, 0);
	le64(want + 32, 0x8877665544332211ull);
	le64(want + 40, 0xf123456789abcdefull);
	memcpy(want + 48, h.dev_name, 63);
	memset(want + 112, 'x', 63);
	memcpy(want + 176, h.mdev_type, 63);
	memcpy(want + 240, h.kernel, 95);
	memcpy(want + 336, h.tool, 31);
	le64(want + 504, XXH3_64bits(want, 504));
	assert_memory_equal(b, want, sizeof(b));
	/* Spot checks that the helpers above are little-endian, as the format says. */
	assert_int_equal(b[10], 0x00);
	assert_int_equal(b[11], 0x02);
	assert_int_equal(b[16], 0xdc);
	assert_int_equal(b[32], 0x11);
}

static void test_header_errors(void **state)
{
	static const struct { const char *name; size_t off, size; } strs[] = {
		{ "dev_name", 48, 64 }, { "driver", 112, 64 }, { "mdev_type", 176, 64 },
		{ "kernel", 240, 96 }, { "tool", 336, 32 },
	};
	struct blob_header h, d;
	struct blob_error err;
	uint8_t good[BLOB_HEADER_SIZE], b[BLOB_HEADER_SIZE];
	char want[256];

	(void)state;
	sample_header(&h);
	blob_header_encode(&h, good);

	memcpy(b, good, sizeof(b));
	b[7] = 0x1b;
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: bad magic (not a vfiomig blob)");
	assert_int_equal(err.offset, 0);

	/* The version is checked before the checksum, resealed or not. */
	memcpy(b, good, sizeof(b));
	le16(b + 8, 7);
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: unsupported version 7 (this vfiomig reads version 1)");
	reseal_header(b);
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: unsupported version 7 (this vfiomig reads version 1)");

	memcpy(b, good, sizeof(b));
	b[20] ^= 1;
	snprintf(want, sizeof(want), "header: checksum mismatch (stored 0x%016" PRIx64
		 ", computed 0x%016" PRIx64 ")", rd64(good + 504), (uint64_t)XXH3_64bits(b, 504));
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, want);

	memcpy(b, good, sizeof(b));
	le16(b + 10, 1024);
	reseal_header(b);
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: header size 1024 (version 1 headers are 512 bytes)");

	memcpy(b, good, sizeof(b));
	le32(b + 12, 0x100);
	reseal_header(b);
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: unknown flags 0x00000100 (version 1 defines none)");

	memcpy(b, good, sizeof(b));
	le32(b + 28, 0x80000000u);
	reseal_header(b);
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: reserved field is 0x80000000 (expected 0)");

	memcpy(b, good, sizeof(b));
	b[400] = 0x20;
	reseal_header(b);
	assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
	assert_string_equal(err.msg, "header: padding byte at offset 400 is 0x20 (expected 0)");

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		memcpy(b, good, sizeof(b));
		memset(b + strs[i].off, 'a', strs[i].size);
		reseal_header(b);
		snprintf(want, sizeof(want), "header: %s at offset %zu has no terminating NUL in its %zu bytes",
			 strs[i].name, strs[i].off, strs[i].size);
		assert_int_equal(blob_header_decode(b, &d, &err), -EBADMSG);
		assert_string_equal(err.msg, want);
		/* One byte shorter is a valid, longest string. */
		b[strs[i].off + strs[i].size - 1] = 0;
		reseal_header(b);
		assert_int_equal(blob_header_decode(b, &d, &err), 0);
	}

	/* A NULL error is allowed. */
	memcpy(b, good, sizeof(b));
	b[0] = 0;
	assert_int_equal(blob_header_decode(b, &d, NULL), -EBADMSG);
}

/* Writer: the bytes match the documented format, computed independently. */
static void test_writer_layout(void **state)
{
	static const size_t sizes[] = { 3, 1000, 1 };
	struct blob b;
	uint8_t hashes[3 * 8], want[BLOB_TRAILER_SIZE];
	size_t at = 0;

	(void)state;
	b = build(sizes, 3);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *c = b.p + b.chunk_off[i];

		assert_memory_equal(c, "CHNK", 4);
		assert_int_equal(c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24, sizes[i]);
		assert_true(rd64(c + 8) == XXH3_64bits_withSeed(b.stream + at, sizes[i], i));
		le64(hashes + 8 * i, rd64(c + 8));
		at += sizes[i];
	}
	memcpy(want, "TRLR", 4);
	le32(want + 4, 0);
	le64(want + 8, 3);
	le64(want + 16, 1004);
	le64(want + 24, XXH3_64bits(hashes, sizeof(hashes)));
	le64(want + 32, XXH3_64bits(want, 32));
	assert_int_equal(b.len - b.trailer_off, BLOB_TRAILER_SIZE);
	assert_memory_equal(b.p + b.trailer_off, want, BLOB_TRAILER_SIZE);
	blob_free(&b);

	/* No chunks: the stream hash is that of nothing. */
	b = build(NULL, 0);
	assert_int_equal(b.len, BLOB_HEADER_SIZE + BLOB_TRAILER_SIZE);
	memcpy(want, "TRLR", 4);
	le32(want + 4, 0);
	le64(want + 8, 0);
	le64(want + 16, 0);
	le64(want + 24, XXH3_64bits("", 0));
	le64(want + 32, XXH3_64bits(want, 32));
	assert_memory_equal(b.p + b.trailer_off, want, BLOB_TRAILER_SIZE);
	blob_free(&b);
}

/* Round trips. */

static void round_trip(const size_t *sizes, size_t n, size_t step)
{
	struct blob b = build(sizes, n);
	struct mem_src m = { .p = b.p, .len = b.len, .step = step };
	struct result res;
	size_t max = 0;

	for (size_t i = 0; i < n; i++)
		if (sizes[i] > max)
			max = sizes[i];
	if (decode_src(&m, b.stream, b.stream_len, &res))
		fail_msg("decode failed: %d, %s", res.ret, res.err.msg);
	assert_string_equal(res.h.dev_name, "0000:3b:00.2");
	assert_string_equal(res.h.driver, "mlx5_vfio_pci");
	assert_int_equal(res.len, b.stream_len);
	assert_int_equal(res.chunks, n);
	assert_int_equal(res.bytes, b.stream_len);
	assert_int_equal(res.max_chunk, max);
	assert_int_equal(res.offset, b.len);
	if (step == 1)
		assert_int_equal(res.calls, b.len + 1);  /* one a byte, one for the end */
	blob_free(&b);
}

static void test_round_trip_empty(void **state)
{
	(void)state;
	round_trip(NULL, 0, 0);
	round_trip(NULL, 0, 1);
}

static void test_round_trip_one_byte(void **state)
{
	static const size_t sizes[] = { 1 };

	(void)state;
	round_trip(sizes, 1, 0);
	round_trip(sizes, 1, 1);
}

static void test_round_trip_max_chunk(void **state)
{
	static const size_t sizes[] = { BLOB_CHUNK_MAX };

	(void)state;
	/* Short reads of an odd size end at a different place in every part. */
	round_trip(sizes, 1, 1 << 16 | 3);
}

static void test_round_trip_several(void **state)
{
	static const size_t sizes[] = { 4096, 1, 7, 65539, 1000, 2, 300000 };

	(void)state;
	round_trip(sizes, 7, 0);
	round_trip(sizes, 7, 4093);
	round_trip(small_sizes, 3, 0);
	round_trip(small_sizes, 3, 1);
	round_trip(small_sizes, 3, 7);
}

/* Truncation, corruption, rearrangement. */

static void test_truncation_every_prefix(void **state)
{
	struct blob b = small_blob();
	struct result res;

	(void)state;
	assert_int_equal(b.len, 614);
	for (size_t len = 0; len < b.len; len++) {
		if (decode_checked(&b, b.p, len, &res) != -EBADMSG)
			fail_msg("prefix of %zu bytes: got %d", len, res.ret);
		if (!strstr(res.err.msg, "truncated"))
			fail_msg("prefix of %zu bytes: \"%s\"", len, res.err.msg);
	}
	if (decode_checked(&b, b.p, b.len, &res))
		fail_msg("whole blob: got %d, %s", res.ret, res.err.msg);
	blob_free(&b);
}

static void test_bit_flip_every_byte(void **state)
{
	static const uint8_t bits[] = { 0x01, 0x40 };
	struct blob b = small_blob();
	struct result res;

	(void)state;
	for (size_t i = 0; i < b.len; i++) {
		for (size_t k = 0; k < sizeof(bits); k++) {
			b.p[i] ^= bits[k];
			if (decode_checked(&b, b.p, b.len, &res) != -EBADMSG)
				fail_msg("flip 0x%02x at byte %zu: got %d", bits[k], i, res.ret);
			if (!res.err.msg[0])
				fail_msg("flip 0x%02x at byte %zu: no message", bits[k], i);
			b.p[i] ^= bits[k];
		}
	}
	blob_free(&b);
}

/* A blob from the small blob's parts: 'H' header, '0'..'2' chunks, 'T' trailer. */
static uint8_t *assemble(const struct blob *b, const char *parts, size_t *len)
{
	struct blob out = { 0 };

	for (const char *p = parts; *p; p++) {
		if (*p == 'H')
			append(&out, b->p, BLOB_HEADER_SIZE);
		else if (*p == 'T')
			append(&out, b->p + b->trailer_off, BLOB_TRAILER_SIZE);
		else
			append(&out, b->p + b->chunk_off[*p - '0'], b->chunk_len[*p - '0']);
	}
	*len = out.len;
	return out.p;
}

static void expect_assembled(const struct blob *b, const char *parts, uint64_t offset,
			     const char *msg)
{
	size_t len;
	uint8_t *p = assemble(b, parts, &len);

	expect_error(p, len, offset, "%s", msg);
	free(p);
}

static void test_rearranged_chunks(void **state)
{
	struct blob b = small_blob();

	(void)state;
	/* Swapped. */
	expect_assembled(&b, "H102T", 512, "chunk 0 at offset 512: data checksum mismatch");
	expect_assembled(&b, "H021T", 532, "chunk 1 at offset 532: data checksum mismatch");
	/* Duplicated. */
	expect_assembled(&b, "H0112T", 549, "chunk 2 at offset 549: data checksum mismatch");
	expect_assembled(&b, "H0122T", 574, "chunk 3 at offset 574: data checksum mismatch");
	expect_assembled(&b, "H0012T", 532, "chunk 1 at offset 532: data checksum mismatch");
	/* Dropped: in the middle, at the end, all of them, the trailer. */
	expect_assembled(&b, "H02T", 532, "chunk 1 at offset 532: data checksum mismatch");
	expect_assembled(&b, "H01T", 549, "trailer at offset 549: chunk count 3 but 2 chunks were read");
	expect_assembled(&b, "HT", 512, "trailer at offset 512: chunk count 3 but 0 chunks were read");
	expect_assembled(&b, "H012", 574,
			 "truncated: the stream ends before the trailer, at offset 574 after 3 chunks");
	/* Repeated trailer or header. */
	expect_assembled(&b, "H012TT", 614, "40 bytes of trailing data after the trailer, at offset 614");
	expect_assembled(&b, "H01T2T", 549, "trailer at offset 549: chunk count 3 but 2 chunks were read");
	expect_assembled(&b, "HH012T", 512,
			 "chunk 0 at offset 512: bad tag 0x4f494656 (neither a chunk nor the trailer)");
	blob_free(&b);
}

static void test_trailing_data(void **state)
{
	struct blob b = small_blob();
	struct blob big = { 0 };
	uint8_t *junk;

	(void)state;
	append(&b, "\0", 1);
	expect_error(b.p, b.len, 614, "1 byte of trailing data after the trailer, at offset 614");
	append(&b, "junk", 4);
	expect_error(b.p, b.len, 614, "5 bytes of trailing data after the trailer, at offset 614");
	/* A whole second blob. */
	b.len = 614;
	append(&big, b.p, b.len);
	append(&big, b.p, b.len);
	expect_error(big.p, big.len, 614, "614 bytes of trailing data after the trailer, at offset 614");

	/* An endless source would be read for ever: the count stops at a buffer. */
	junk = calloc(1, BLOB_CHUNK_MAX + 100);
	assert_non_null(junk);
	append(&big, junk, BLOB_CHUNK_MAX + 100);
	free(junk);
	expect_error(big.p, big.len, 614,
		     "at least 16777216 bytes of trailing data after the trailer, at offset 614");
	free(big.p);
	blob_free(&b);
}

/* Precise offsets and messages for specific corruptions of the small blob. */
static void test_error_messages(void **state)
{
	static const char text[] = "#!/bin/sh\necho hello\n";
	struct blob b = small_blob();
	uint8_t *c1 = b.p + 532, *c2 = b.p + 549, *t = b.p + 574;
	uint8_t save[BLOB_TRAILER_SIZE];
	struct result res;
	char want[256];

	(void)state;
	assert_int_equal(b.chunk_off[0], 512);
	assert_int_equal(b.chunk_off[1], 532);
	assert_int_equal(b.chunk_off[2], 549);
	assert_int_equal(b.trailer_off, 574);

	/* Chunk header fields. */
	le32(c1 + 4, 0);
	expect_error(b.p, b.len, 532, "chunk 1 at offset 532: length 0 is out of range 1-16777216");
	le32(c1 + 4, BLOB_CHUNK_MAX + 1);
	expect_error(b.p, b.len, 532, "chunk 1 at offset 532: length 16777217 is out of range 1-16777216");
	le32(c1 + 4, 1);
	le32(c2, 0x4b4e4844);
	expect_error(b.p, b.len, 549,
		     "chunk 2 at offset 549: bad tag 0x4b4e4844 (neither a chunk nor the trailer)");
	le32(c2, BLOB_TAG_CHUNK);
	c2[16 + 8] ^= 0x80;
	expect_error(b.p, b.len, 549, "chunk 2 at offset 549: data checksum mismatch");
	c2[16 + 8] ^= 0x80;
	c2[8] ^= 0x80;
	expect_error(b.p, b.len, 549, "chunk 2 at offset 549: data checksum mismatch");
	c2[8] ^= 0x80;
	expect_ok(b.p, b.len);

	/* Truncations name the part, where it starts and how much of it arrived. */
	expect_error(b.p, 0, 0, "truncated: the stream ends in the header (0 of 512 bytes)");
	expect_error(b.p, 100, 0, "truncated: the stream ends in the header (100 of 512 bytes)");
	expect_error(b.p, 514, 512,
		     "truncated: the stream ends in the tag of chunk 0 or the trailer at offset 512 (2 of 4 bytes)");
	expect_error(b.p, 539, 532,
		     "truncated: the stream ends in chunk 1's header at offset 532 (7 of 16 bytes)");
	expect_error(b.p, 569, 565,
		     "truncated: the stream ends in chunk 2's data at offset 565 (4 of 9 bytes)");
	expect_error(b.p, 574, 574,
		     "truncated: the stream ends before the trailer, at offset 574 after 3 chunks");
	expect_error(b.p, 582, 574,
		     "truncated: the stream ends in the trailer at offset 574 (8 of 40 bytes)");
	/* A short file that is not a blob at all is not called truncated. */
	expect_error((const uint8_t *)text, sizeof(text) - 1, 0, "header: bad magic (not a vfiomig blob)");

	/* The trailer: its own checksum first, then each field (resealed). */
	memcpy(save, t, sizeof(save));
	t[20] ^= 1;
	snprintf(want, sizeof(want), "trailer at offset 574: checksum mismatch (stored 0x%016"
		 PRIx64 ", computed 0x%016" PRIx64 ")", rd64(t + 32), (uint64_t)XXH3_64bits(t, 32));
	expect_error(b.p, b.len, 574, "%s", want);
	memcpy(t, save, sizeof(save));
	le32(t + 4, 1);
	reseal_trailer(t);
	expect_error(b.p, b.len, 574, "trailer at offset 574: reserved field is 0x00000001 (expected 0)");
	memcpy(t, save, sizeof(save));
	le64(t + 8, 5);
	reseal_trailer(t);
	expect_error(b.p, b.len, 574, "trailer at offset 574: chunk count 5 but 3 chunks were read");
	memcpy(t, save, sizeof(save));
	le64(t + 16, 15);
	reseal_trailer(t);
	expect_error(b.p, b.len, 574, "trailer at offset 574: stream length 15 but the chunks carry 14 bytes");
	memcpy(t, save, sizeof(save));
	t[24] ^= 4;
	reseal_trailer(t);
	assert_int_equal(decode(b.p, b.len, &res), -EBADMSG);
	assert_msg_has(&res, "trailer at offset 574: stream checksum mismatch (stored 0x");
	assert_int_equal(res.err.offset, 574);
	memcpy(t, save, sizeof(save));
	expect_ok(b.p, b.len);
	blob_free(&b);
}

/* Sources: short reads are normal, errors pass through untouched. */

static void test_source_errors(void **state)
{
	/* In the header, each chunk's header and data, the trailer, and the check for its end. */
	static const size_t at[] = { 0, 100, 511, 512, 520, 530, 540, 548, 560, 570, 574, 590, 613, 614 };
	static const int errs[] = { -EIO, -EINTR };
	struct blob b = small_blob();

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
			struct mem_src m = { .p = b.p, .len = b.len, .step = 3,
					     .fail_at = at[i], .fail_err = errs[k] };
			struct result res;

			if (decode_src(&m, b.stream, b.stream_len, &res) != errs[k])
				fail_msg("error %d at %zu: got %d (%s)", errs[k], at[i], res.ret, res.err.msg);
			/* Open fails only while it reads the header. */
			assert_int_equal(res.open_ret, at[i] < 512 ? errs[k] : 0);
		}
	}
	blob_free(&b);
}

static void test_short_reads(void **state)
{
	struct blob b = small_blob();
	struct mem_src m = { .p = b.p, .len = b.len, .step = 1 };
	struct result res;

	(void)state;
	assert_int_equal(decode_src(&m, b.stream, b.stream_len, &res), 0);
	assert_int_equal(res.len, 14);
	assert_int_equal(res.calls, b.len + 1);  /* one a byte, one for the end */

	/* Truncated and corrupt blobs read a byte at a time give the same answers. */
	m = (struct mem_src){ .p = b.p, .len = 569, .step = 1 };
	assert_int_equal(decode_src(&m, b.stream, b.stream_len, &res), -EBADMSG);
	assert_string_equal(res.err.msg,
			    "truncated: the stream ends in chunk 2's data at offset 565 (4 of 9 bytes)");
	b.p[570] ^= 2;
	m = (struct mem_src){ .p = b.p, .len = b.len, .step = 1 };
	assert_int_equal(decode_src(&m, b.stream, b.stream_len, &res), -EBADMSG);
	assert_string_equal(res.err.msg, "chunk 2 at offset 549: data checksum mismatch");
	b.p[570] ^= 2;
	b.p[600] ^= 2;
	m = (struct mem_src){ .p = b.p, .len = b.len, .step = 1 };
	assert_int_equal(decode_src(&m, b.stream, b.stream_len, &res), -EBADMSG);
	assert_msg_has(&res, "trailer at offset 574: checksum mismatch");
	blob_free(&b);
}

static void test_writer_free_twice(void **state)
{
	struct blob_writer w;

	(void)state;
	assert_int_equal(blob_writer_init(&w), 0);
	assert_non_null(w.stream);
	blob_writer_free(&w);
	assert_null(w.stream);
	blob_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_writer_layout),
		cmocka_unit_test(test_writer_free_twice),
		cmocka_unit_test(test_round_trip_empty),
		cmocka_unit_test(test_round_trip_one_byte),
		cmocka_unit_test(test_round_trip_max_chunk),
		cmocka_unit_test(test_round_trip_several),
		cmocka_unit_test(test_truncation_every_prefix),
		cmocka_unit_test(test_bit_flip_every_byte),
		cmocka_unit_test(test_rearranged_chunks),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_source_errors),
		cmocka_unit_test(test_short_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
