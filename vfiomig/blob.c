// SPDX-License-Identifier: GPL-2.0-or-later
/* The blob format without I/O: encodes the framing and checks a stream read through a callback. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "le.h"

/* Header field offsets; the layout is the on-disk format and never moves. */
#define H_MAGIC          0
#define H_VERSION        8
#define H_SIZE          10
#define H_FLAGS         12
#define H_VENDOR        16
#define H_DEVICE        18
#define H_SUBSYS_VENDOR 20
#define H_SUBSYS_DEVICE 22
#define H_CLASS         24
#define H_RESERVED      28
#define H_MIG_FLAGS     32
#define H_TIME          40
#define H_DEV_NAME      48
#define H_DRIVER       112
#define H_MDEV_TYPE    176
#define H_KERNEL       240
#define H_TOOL         336
#define H_STRINGS_END  368
#define H_CSUM         504

/* Chunk header and trailer offsets. */
#define C_TAG    0
#define C_LEN    4
#define C_HASH   8
#define T_TAG    0
#define T_ZERO   4
#define T_COUNT  8
#define T_BYTES 16
#define T_HASH  24
#define T_CSUM  32

/* The strings, so that encoding, decoding and the error text agree on them. */
static const struct blob_str {
	const char *name;
	size_t off, size, member;
} blob_strs[] = {
	{ "dev_name",  H_DEV_NAME,  64, offsetof(struct blob_header, dev_name) },
	{ "driver",    H_DRIVER,    64, offsetof(struct blob_header, driver) },
	{ "mdev_type", H_MDEV_TYPE, 64, offsetof(struct blob_header, mdev_type) },
	{ "kernel",    H_KERNEL,    96, offsetof(struct blob_header, kernel) },
	{ "tool",      H_TOOL,      32, offsetof(struct blob_header, tool) },
};

_Static_assert(sizeof(BLOB_MAGIC) - 1 == 8, "the magic is 8 bytes");
_Static_assert(H_TOOL + 32 == H_STRINGS_END && H_STRINGS_END <= H_CSUM,
	       "the strings fit before the checksum");
_Static_assert(H_CSUM + 8 == BLOB_HEADER_SIZE, "the checksum ends the header");
_Static_assert(T_CSUM + 8 == BLOB_TRAILER_SIZE, "the checksum ends the trailer");

/* Fills ERR (which may be NULL) and returns -EBADMSG, so that callers can return it. */
static int __attribute__((format(printf, 3, 4)))
bad(struct blob_error *err, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->offset = offset;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

void blob_header_encode(const struct blob_header *h, uint8_t out[BLOB_HEADER_SIZE])
{
	memset(out, 0, BLOB_HEADER_SIZE);
	memcpy(out + H_MAGIC, BLOB_MAGIC, 8);
	/* This code writes version 1 only, whatever H->version holds. */
	put_le16(out + H_VERSION, BLOB_VERSION);
	put_le16(out + H_SIZE, BLOB_HEADER_SIZE);
	put_le32(out + H_FLAGS, h->flags);
	put_le16(out + H_VENDOR, h->vendor);
	put_le16(out + H_DEVICE, h->device);
	put_le16(out + H_SUBSYS_VENDOR, h->subsys_vendor);
	put_le16(out + H_SUBSYS_DEVICE, h->subsys_device);
	put_le32(out + H_CLASS, h->class_code);
	put_le32(out + H_RESERVED, 0);
	put_le64(out + H_MIG_FLAGS, h->mig_flags);
	put_le64(out + H_TIME, (uint64_t)h->time);
	for (size_t i = 0; i < sizeof(blob_strs) / sizeof(blob_strs[0]); i++) {
		const struct blob_str *s = &blob_strs[i];
		const char *src = (const char *)h + s->member;

		/* At most size - 1 bytes: the reader insists on a NUL in every field. */
		memcpy(out + s->off, src, strnlen(src, s->size - 1));
	}
	put_le64(out + H_CSUM, XXH3_64bits(out, H_CSUM));
}

int blob_header_decode(const uint8_t in[BLOB_HEADER_SIZE], struct blob_header *h,
		       struct blob_error *err)
{
	struct blob_header d;
	uint64_t stored, computed;

	if (memcmp(in + H_MAGIC, BLOB_MAGIC, 8))
		return bad(err, 0, "header: bad magic (not a vfiomig blob)");
	/* Before the checksum: another version may place or compute it differently. */
	memset(&d, 0, sizeof(d));
	d.version = get_le16(in + H_VERSION);
	if (d.version != BLOB_VERSION)
		return bad(err, 0, "header: unsupported version %u (this vfiomig reads version %u)",
			   d.version, BLOB_VERSION);
	stored = get_le64(in + H_CSUM);
	computed = XXH3_64bits(in, H_CSUM);
	if (stored != computed)
		return bad(err, 0, "header: checksum mismatch (stored 0x%016" PRIx64
			   ", computed 0x%016" PRIx64 ")", stored, computed);

	/*
	 * The checksum matched, so what follows is what a writer meant: a
	 * version 1 writer that sets anything we do not know is not one we
	 * can trust to have written a stream we understand.
	 */
	if (get_le16(in + H_SIZE) != BLOB_HEADER_SIZE)
		return bad(err, 0, "header: header size %u (version %u headers are %u bytes)",
			   get_le16(in + H_SIZE), BLOB_VERSION, BLOB_HEADER_SIZE);
	d.flags = get_le32(in + H_FLAGS);
	if (d.flags)
		return bad(err, 0, "header: unknown flags 0x%08" PRIx32 " (version %u defines none)",
			   d.flags, BLOB_VERSION);
	if (get_le32(in + H_RESERVED))
		return bad(err, 0, "header: reserved field is 0x%08" PRIx32 " (expected 0)",
			   get_le32(in + H_RESERVED));
	for (size_t i = H_STRINGS_END; i < H_CSUM; i++)
		if (in[i])
			return bad(err, 0, "header: padding byte at offset %zu is 0x%02x (expected 0)",
				   i, in[i]);

	d.vendor = get_le16(in + H_VENDOR);
	d.device = get_le16(in + H_DEVICE);
	d.subsys_vendor = get_le16(in + H_SUBSYS_VENDOR);
	d.subsys_device = get_le16(in + H_SUBSYS_DEVICE);
	d.class_code = get_le32(in + H_CLASS);
	d.mig_flags = get_le64(in + H_MIG_FLAGS);
	d.time = (int64_t)get_le64(in + H_TIME);
	for (size_t i = 0; i < sizeof(blob_strs) / sizeof(blob_strs[0]); i++) {
		const struct blob_str *s = &blob_strs[i];
		const uint8_t *f = in + s->off;
		size_t len = strnlen((const char *)f, s->size);

		if (len == s->size)
			return bad(err, 0, "header: %s at offset %zu has no terminating NUL in its %zu bytes",
				   s->name, s->off, s->size);
		memcpy((char *)&d + s->member, f, len);
	}
	*h = d;
	return 0;
}

int blob_writer_init(struct blob_writer *w)
{
	w->chunks = 0;
	w->bytes = 0;
	w->stream = XXH3_createState();
	if (!w->stream)
		return -ENOMEM;
	XXH3_64bits_reset(w->stream);
	return 0;
}

void blob_writer_free(struct blob_writer *w)
{
	XXH3_freeState(w->stream);
	w->stream = NULL;
}

void blob_writer_chunk(struct blob_writer *w, const void *data, size_t len,
		       uint8_t out[BLOB_CHUNK_HDR_SIZE])
{
	uint64_t hash;

	assert(len >= 1 && len <= BLOB_CHUNK_MAX);
	hash = XXH3_64bits_withSeed(data, len, w->chunks);
	put_le32(out + C_TAG, BLOB_TAG_CHUNK);
	put_le32(out + C_LEN, (uint32_t)len);
	put_le64(out + C_HASH, hash);
	/* The stream hash covers the 8 bytes as written, so hashing the data once suffices. */
	XXH3_64bits_update(w->stream, out + C_HASH, 8);
	w->chunks++;
	w->bytes += len;
}

void blob_writer_trailer(struct blob_writer *w, uint8_t out[BLOB_TRAILER_SIZE])
{
	put_le32(out + T_TAG, BLOB_TAG_TRAILER);
	put_le32(out + T_ZERO, 0);
	put_le64(out + T_COUNT, w->chunks);
	put_le64(out + T_BYTES, w->bytes);
	put_le64(out + T_HASH, XXH3_64bits_digest(w->stream));
	put_le64(out + T_CSUM, XXH3_64bits(out, T_CSUM));
}

ssize_t blob_src_read_full(const struct blob_src *src, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = src->read(src->ctx, (uint8_t *)buf + got, len - got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* blob_src_read_full() that counts the bytes consumed. */
static ssize_t read_full(struct blob_reader *r, void *buf, size_t len)
{
	ssize_t n = blob_src_read_full(r->src, buf, len);

	if (n > 0)
		r->offset += (uint64_t)n;
	return n;
}

int blob_read_head(const struct blob_src *src, uint8_t hdr[BLOB_HEADER_SIZE], size_t *got,
		   struct blob_error *err)
{
	ssize_t n = blob_src_read_full(src, hdr, BLOB_HEADER_SIZE);

	*got = n > 0 ? (size_t)n : 0;
	if (n < 0)
		return (int)n;
	if (n < BLOB_HEADER_SIZE) {
		/* A short file that is not a blob is not a truncated one. */
		if (n >= 8 && memcmp(hdr, BLOB_MAGIC, 8) && memcmp(hdr, BUNDLE_MAGIC, 8))
			return bad(err, 0, "header: bad magic (not a vfiomig blob)");
		return bad(err, 0, "truncated: the stream ends in the header (%zd of %u bytes)",
			   n, BLOB_HEADER_SIZE);
	}
	return 0;
}

int blob_reader_start(struct blob_reader *r, const struct blob_src *src,
		      const uint8_t hdr[BLOB_HEADER_SIZE], uint64_t offset, bool member,
		      struct blob_header *h)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->src = src;
	r->offset = offset;
	r->member = member;
	ret = blob_header_decode(hdr, h, &r->err);
	if (ret) {
		/* The decoder counts from the header's first byte. */
		r->err.offset += offset - BLOB_HEADER_SIZE;
		return ret;
	}

	/*
	 * All of it now, so that the data path never allocates; page-aligned,
	 * because the kernel copies into and out of pipes a page at a time and
	 * a misaligned buffer costs it twice the work.
	 */
	if (posix_memalign((void **)&r->buf, 4096, BLOB_CHUNK_MAX))
		r->buf = NULL;
	if (!r->buf)
		return -ENOMEM;
	r->stream = XXH3_createState();
	if (!r->stream) {
		ret = -ENOMEM;
		goto free_buf;
	}
	XXH3_64bits_reset(r->stream);
	return 0;

free_buf:
	free(r->buf);
	r->buf = NULL;
	return ret;
}

int blob_reader_open(struct blob_reader *r, const struct blob_src *src,
		     struct blob_header *h)
{
	uint8_t hdr[BLOB_HEADER_SIZE];
	size_t got;
	int ret;

	memset(r, 0, sizeof(*r));
	/* The header first: no 16 MiB buffer just to turn away what is not a blob. */
	ret = blob_read_head(src, hdr, &got, &r->err);
	if (ret)
		return ret;
	if (!memcmp(hdr, BUNDLE_MAGIC, 8))
		return bad(&r->err, 0, "header: this is a bundle of several devices' states, not a single blob");
	return blob_reader_start(r, src, hdr, BLOB_HEADER_SIZE, false, h);
}

/* After a verified trailer: anything more means the blob is not what was written. */
static int check_end(struct blob_reader *r)
{
	uint64_t end = r->offset;
	ssize_t n;

	/* Counting is bounded by the buffer: the source may be endless. */
	n = read_full(r, r->buf, BLOB_CHUNK_MAX);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return 0;
	return bad(&r->err, end, "%s%zd byte%s of trailing data after the trailer, at offset %" PRIu64,
		   n == BLOB_CHUNK_MAX ? "at least " : "", n, n == 1 ? "" : "s", end);
}

static int read_trailer(struct blob_reader *r, uint8_t t[BLOB_TRAILER_SIZE], size_t have,
			uint64_t at)
{
	uint64_t stored, computed, stream;
	ssize_t n;

	n = read_full(r, t + have, BLOB_TRAILER_SIZE - have);
	if (n < 0)
		return (int)n;
	if (have + (size_t)n < BLOB_TRAILER_SIZE)
		return bad(&r->err, at, "truncated: the stream ends in the trailer at offset %" PRIu64
			   " (%zu of %u bytes)", at, have + (size_t)n, BLOB_TRAILER_SIZE);

	stored = get_le64(t + T_CSUM);
	computed = XXH3_64bits(t, T_CSUM);
	if (stored != computed)
		return bad(&r->err, at, "trailer at offset %" PRIu64 ": checksum mismatch (stored 0x%016"
			   PRIx64 ", computed 0x%016" PRIx64 ")", at, stored, computed);
	if (get_le32(t + T_ZERO))
		return bad(&r->err, at, "trailer at offset %" PRIu64 ": reserved field is 0x%08" PRIx32
			   " (expected 0)", at, get_le32(t + T_ZERO));
	if (get_le64(t + T_COUNT) != r->chunks)
		return bad(&r->err, at, "trailer at offset %" PRIu64 ": chunk count %" PRIu64
			   " but %" PRIu64 " chunks were read", at, get_le64(t + T_COUNT), r->chunks);
	if (get_le64(t + T_BYTES) != r->bytes)
		return bad(&r->err, at, "trailer at offset %" PRIu64 ": stream length %" PRIu64
			   " but the chunks carry %" PRIu64 " bytes", at, get_le64(t + T_BYTES), r->bytes);
	stream = XXH3_64bits_digest(r->stream);
	if (get_le64(t + T_HASH) != stream)
		return bad(&r->err, at, "trailer at offset %" PRIu64 ": stream checksum mismatch"
			   " (stored 0x%016" PRIx64 ", computed 0x%016" PRIx64 ")",
			   at, get_le64(t + T_HASH), stream);
	memcpy(r->trailer, t, BLOB_TRAILER_SIZE);
	return r->member ? 0 : check_end(r);
}

/*
 * Chunks are numbered from 0 in the messages, as they are in their hash
 * seeds, so "chunk 3" is the one whose hash was seeded with 3.
 */
int blob_reader_next(struct blob_reader *r, const void **data, size_t *len)
{
	/* The trailer is longer than a chunk header and starts the same way. */
	uint8_t hdr[BLOB_TRAILER_SIZE];
	uint64_t at = r->offset, stored, computed;
	uint32_t tag, clen;
	ssize_t n;
	int ret;

	if (r->done)
		return 0;
	n = read_full(r, hdr, BLOB_CHUNK_HDR_SIZE);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return bad(&r->err, at, "truncated: the stream ends before the trailer, at offset %"
			   PRIu64 " after %" PRIu64 " chunks", at, r->chunks);
	if (n < 4)
		return bad(&r->err, at, "truncated: the stream ends in the tag of chunk %" PRIu64
			   " or the trailer at offset %" PRIu64 " (%zd of 4 bytes)", r->chunks, at, n);

	tag = get_le32(hdr + C_TAG);
	if (tag == BLOB_TAG_TRAILER) {
		ret = read_trailer(r, hdr, (size_t)n, at);
		if (ret)
			return ret;
		r->done = true;
		return 0;
	}
	if (tag != BLOB_TAG_CHUNK)
		return bad(&r->err, at, "chunk %" PRIu64 " at offset %" PRIu64 ": bad tag 0x%08" PRIx32
			   " (neither a chunk nor the trailer)", r->chunks, at, tag);
	if (n < BLOB_CHUNK_HDR_SIZE)
		return bad(&r->err, at, "truncated: the stream ends in chunk %" PRIu64 "'s header at offset %"
			   PRIu64 " (%zd of %u bytes)", r->chunks, at, n, BLOB_CHUNK_HDR_SIZE);

	clen = get_le32(hdr + C_LEN);
	if (clen == 0 || clen > BLOB_CHUNK_MAX)
		return bad(&r->err, at, "chunk %" PRIu64 " at offset %" PRIu64 ": length %" PRIu32
			   " is out of range 1-%u", r->chunks, at, clen, BLOB_CHUNK_MAX);
	n = read_full(r, r->buf, clen);
	if (n < 0)
		return (int)n;
	if ((size_t)n < clen)
		return bad(&r->err, at + BLOB_CHUNK_HDR_SIZE, "truncated: the stream ends in chunk %"
			   PRIu64 "'s data at offset %" PRIu64 " (%zd of %" PRIu32 " bytes)",
			   r->chunks, at + BLOB_CHUNK_HDR_SIZE, n, clen);

	stored = get_le64(hdr + C_HASH);
	computed = XXH3_64bits_withSeed(r->buf, clen, r->chunks);
	if (stored != computed)
		return bad(&r->err, at, "chunk %" PRIu64 " at offset %" PRIu64 ": data checksum mismatch",
			   r->chunks, at);
	XXH3_64bits_update(r->stream, hdr + C_HASH, 8);
	r->chunks++;
	r->bytes += clen;
	if (clen > r->max_chunk)
		r->max_chunk = clen;
	*data = r->buf;
	*len = clen;
	return 1;
}

void blob_reader_close(struct blob_reader *r)
{
	XXH3_freeState(r->stream);
	r->stream = NULL;
	free(r->buf);
	r->buf = NULL;
}
