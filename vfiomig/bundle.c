// SPDX-License-Identifier: GPL-2.0-or-later
/* Bundles of several devices' blobs, and the one reader that takes a blob or a bundle; no I/O of its own. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "blob.h"
#include "le.h"

/* Bundle header and trailer offsets; the layout is the on-disk format and never moves. */
#define B_MAGIC    0
#define B_VERSION  8
#define B_SIZE    10
#define B_COUNT   12
#define B_TIME    16
#define B_TOOL    24
#define B_TOOL_END 56
#define B_CSUM   504
#define E_TAG      0
#define E_ZERO     4
#define E_COUNT    8
#define E_BYTES   16
#define E_HASH    24
#define E_CSUM    32

_Static_assert(sizeof(BUNDLE_MAGIC) - 1 == 8, "the magic is 8 bytes");
_Static_assert(B_CSUM + 8 == BLOB_HEADER_SIZE, "a bundle header is as long as a blob header");
_Static_assert(E_CSUM + 8 == BLOB_TRAILER_SIZE, "a bundle trailer is as long as a blob trailer");

static int __attribute__((format(printf, 3, 4)))
bad(struct blob_error *err, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

void bundle_header_encode(uint32_t count, int64_t time, const char *tool,
			  uint8_t out[BLOB_HEADER_SIZE])
{
	memset(out, 0, BLOB_HEADER_SIZE);
	memcpy(out + B_MAGIC, BUNDLE_MAGIC, 8);
	put_le16(out + B_VERSION, BUNDLE_VERSION);
	put_le16(out + B_SIZE, BLOB_HEADER_SIZE);
	put_le32(out + B_COUNT, count);
	put_le64(out + B_TIME, (uint64_t)time);
	memcpy(out + B_TOOL, tool, strnlen(tool, B_TOOL_END - B_TOOL - 1));
	put_le64(out + B_CSUM, XXH3_64bits(out, B_CSUM));
}

int bundle_writer_init(struct bundle_writer *w)
{
	w->members = 0;
	w->bytes = 0;
	w->trailers = XXH3_createState();
	if (!w->trailers)
		return -ENOMEM;
	XXH3_64bits_reset(w->trailers);
	return 0;
}

void bundle_writer_free(struct bundle_writer *w)
{
	XXH3_freeState(w->trailers);
	w->trailers = NULL;
}

void bundle_writer_member(struct bundle_writer *bw, const struct blob_writer *w,
			  const uint8_t trailer[BLOB_TRAILER_SIZE])
{
	XXH3_64bits_update(bw->trailers, trailer, BLOB_TRAILER_SIZE);
	bw->members++;
	bw->bytes += w->bytes;
}

void bundle_writer_trailer(struct bundle_writer *bw, uint8_t out[BLOB_TRAILER_SIZE])
{
	put_le32(out + E_TAG, BUNDLE_TAG_TRAILER);
	put_le32(out + E_ZERO, 0);
	put_le64(out + E_COUNT, bw->members);
	put_le64(out + E_BYTES, bw->bytes);
	put_le64(out + E_HASH, XXH3_64bits_digest(bw->trailers));
	put_le64(out + E_CSUM, XXH3_64bits(out, E_CSUM));
}

static ssize_t read_full(struct bundle_reader *b, void *buf, size_t len)
{
	ssize_t n = blob_src_read_full(b->src, buf, len);

	if (n > 0)
		b->offset += (uint64_t)n;
	return n;
}

static int decode_header(struct bundle_reader *b, const uint8_t *in)
{
	uint64_t stored, computed;
	uint16_t version = get_le16(in + B_VERSION);
	size_t i;

	if (version != BUNDLE_VERSION)
		return bad(&b->err, 0, "bundle header: unsupported version %u (this vfiomig reads version %u)",
			   version, BUNDLE_VERSION);
	stored = get_le64(in + B_CSUM);
	computed = XXH3_64bits(in, B_CSUM);
	if (stored != computed)
		return bad(&b->err, 0, "bundle header: checksum mismatch (stored 0x%016" PRIx64
			   ", computed 0x%016" PRIx64 ")", stored, computed);
	if (get_le16(in + B_SIZE) != BLOB_HEADER_SIZE)
		return bad(&b->err, 0, "bundle header: header size %u (version %u headers are %u bytes)",
			   get_le16(in + B_SIZE), BUNDLE_VERSION, BLOB_HEADER_SIZE);
	b->count = get_le32(in + B_COUNT);
	if (b->count < 1 || b->count > BUNDLE_MAX)
		return bad(&b->err, B_COUNT, "bundle header: member count %" PRIu32 " is out of range 1-%u",
			   b->count, BUNDLE_MAX);
	if (strnlen((const char *)in + B_TOOL, B_TOOL_END - B_TOOL) == B_TOOL_END - B_TOOL)
		return bad(&b->err, B_TOOL, "bundle header: tool at offset %u has no terminating NUL",
			   B_TOOL);
	for (i = B_TOOL_END; i < B_CSUM; i++)
		if (in[i])
			return bad(&b->err, 0, "bundle header: padding byte at offset %zu is 0x%02x (expected 0)",
				   i, in[i]);
	b->time = (int64_t)get_le64(in + B_TIME);
	memcpy(b->tool, in + B_TOOL, B_TOOL_END - B_TOOL);
	return 0;
}

/* The directory: COUNT member headers, each checked as a blob header. */
static int read_directory(struct bundle_reader *b)
{
	uint32_t i;
	ssize_t n;
	int ret;

	for (i = 0; i < b->count; i++) {
		uint64_t at = b->offset;

		n = read_full(b, b->dir[i], BLOB_HEADER_SIZE);
		if (n < 0)
			return (int)n;
		if (n < BLOB_HEADER_SIZE)
			return bad(&b->err, at, "truncated: the stream ends in directory entry %" PRIu32
				   " at offset %" PRIu64 " (%zd of %u bytes)", i, at, n, BLOB_HEADER_SIZE);
		ret = blob_header_decode(b->dir[i], &b->members[i], &b->err);
		if (ret) {
			char why[sizeof(b->err.msg)];

			snprintf(why, sizeof(why), "%s", b->err.msg);
			return bad(&b->err, at + b->err.offset, "directory entry %" PRIu32 " at offset %"
				   PRIu64 ": %s", i, at, why);
		}
	}
	return 0;
}

int bundle_reader_open(struct bundle_reader *b, const struct blob_src *src)
{
	uint8_t hdr[BLOB_HEADER_SIZE];
	size_t got;
	int ret;

	memset(b, 0, sizeof(*b));
	b->src = src;
	ret = blob_read_head(src, hdr, &got, &b->err);
	b->offset = got;
	if (ret)
		return ret;
	if (!memcmp(hdr + B_MAGIC, BLOB_MAGIC, 8)) {
		/* A single blob: its header is its own directory. */
		b->count = 1;
		memcpy(b->dir[0], hdr, BLOB_HEADER_SIZE);
		ret = blob_header_decode(hdr, &b->members[0], &b->err);
		if (ret)
			return ret;
		b->time = b->members[0].time;
		snprintf(b->tool, sizeof(b->tool), "%s", b->members[0].tool);
		return 0;
	}
	if (memcmp(hdr + B_MAGIC, BUNDLE_MAGIC, 8))
		return bad(&b->err, 0, "header: bad magic (not a vfiomig blob)");
	b->bundle = true;
	ret = decode_header(b, hdr);
	if (!ret)
		ret = read_directory(b);
	if (ret)
		return ret;
	b->trailers = XXH3_createState();
	if (!b->trailers)
		return -ENOMEM;
	XXH3_64bits_reset(b->trailers);
	return 0;
}

/* After the last member: the bundle's trailer, then nothing. */
static int read_trailer(struct bundle_reader *b)
{
	uint8_t t[BLOB_TRAILER_SIZE], extra;
	uint64_t at = b->offset, stored, computed, hash;
	ssize_t n;

	n = read_full(b, t, sizeof(t));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return bad(&b->err, at, "truncated: the stream ends after member %" PRIu32
			   ", before the bundle's trailer at offset %" PRIu64, b->count - 1, at);
	if (n < 4 || get_le32(t + E_TAG) != BUNDLE_TAG_TRAILER)
		return bad(&b->err, at, "bundle trailer at offset %" PRIu64 ": bad tag (%" PRIu32
			   " members are done, so the bundle must end here)", at, b->count);
	if (n < BLOB_TRAILER_SIZE)
		return bad(&b->err, at, "truncated: the stream ends in the bundle's trailer at offset %"
			   PRIu64 " (%zd of %u bytes)", at, n, BLOB_TRAILER_SIZE);
	stored = get_le64(t + E_CSUM);
	computed = XXH3_64bits(t, E_CSUM);
	if (stored != computed)
		return bad(&b->err, at, "bundle trailer at offset %" PRIu64 ": checksum mismatch (stored 0x%016"
			   PRIx64 ", computed 0x%016" PRIx64 ")", at, stored, computed);
	if (get_le32(t + E_ZERO))
		return bad(&b->err, at, "bundle trailer at offset %" PRIu64 ": reserved field is 0x%08"
			   PRIx32 " (expected 0)", at, get_le32(t + E_ZERO));
	if (get_le64(t + E_COUNT) != b->count)
		return bad(&b->err, at, "bundle trailer at offset %" PRIu64 ": member count %" PRIu64
			   " but the header says %" PRIu32, at, get_le64(t + E_COUNT), b->count);
	if (get_le64(t + E_BYTES) != b->bytes)
		return bad(&b->err, at, "bundle trailer at offset %" PRIu64 ": stream length %" PRIu64
			   " but the members carry %" PRIu64 " bytes", at, get_le64(t + E_BYTES), b->bytes);
	hash = XXH3_64bits_digest(b->trailers);
	if (get_le64(t + E_HASH) != hash)
		return bad(&b->err, at, "bundle trailer at offset %" PRIu64 ": the members' trailers do not"
			   " match (a member was dropped, repeated or moved)", at);
	n = read_full(b, &extra, 1);
	if (n < 0)
		return (int)n;
	if (n)
		return bad(&b->err, at + BLOB_TRAILER_SIZE, "trailing data after the bundle's trailer, at offset %"
			   PRIu64, at + BLOB_TRAILER_SIZE);
	return 0;
}

/* The member just read to its trailer: count it into the bundle. */
static int finish_member(struct bundle_reader *b)
{
	if (!b->r.done)
		return bad(&b->err, b->r.offset, "member %" PRIu32 " was not read to its trailer",
			   b->next - 1);
	b->offset = b->r.offset;
	b->bytes += b->r.bytes;
	if (b->bundle)
		XXH3_64bits_update(b->trailers, b->r.trailer, BLOB_TRAILER_SIZE);
	blob_reader_close(&b->r);
	b->in_member = false;
	return 0;
}

int bundle_reader_member(struct bundle_reader *b, uint32_t *index)
{
	struct blob_header h;
	uint8_t hdr[BLOB_HEADER_SIZE];
	uint64_t at;
	ssize_t n;
	int ret;

	if (b->done)
		return 0;
	if (b->in_member) {
		ret = finish_member(b);
		if (ret)
			return ret;
	}
	if (b->next == b->count) {
		/* A single blob checked its own end after its trailer. */
		ret = b->bundle ? read_trailer(b) : 0;
		if (!ret)
			b->done = true;
		return ret;
	}
	if (!b->bundle) {
		/* The header was read by bundle_reader_open(). */
		ret = blob_reader_start(&b->r, b->src, b->dir[0], b->offset, false, &h);
	} else {
		at = b->offset;
		n = read_full(b, hdr, sizeof(hdr));
		if (n < 0)
			return (int)n;
		if (n < BLOB_HEADER_SIZE)
			return bad(&b->err, at, "truncated: the stream ends in member %" PRIu32
				   "'s header at offset %" PRIu64 " (%zd of %u bytes)", b->next, at, n,
				   BLOB_HEADER_SIZE);
		if (memcmp(hdr, b->dir[b->next], BLOB_HEADER_SIZE))
			return bad(&b->err, at, "member %" PRIu32 " at offset %" PRIu64
				   ": its header differs from directory entry %" PRIu32, b->next, at, b->next);
		ret = blob_reader_start(&b->r, b->src, hdr, b->offset, true, &h);
	}
	if (ret) {
		b->err = b->r.err;
		blob_reader_close(&b->r);
		return ret;
	}
	b->in_member = true;
	*index = b->next++;
	return 1;
}

int bundle_reader_next(struct bundle_reader *b, const void **data, size_t *len)
{
	int ret;

	if (!b->in_member)
		return 0;
	ret = blob_reader_next(&b->r, data, len);
	if (ret < 0 && ret == -EBADMSG)
		b->err = b->r.err;
	return ret;
}

const struct blob_error *bundle_reader_error(const struct bundle_reader *b)
{
	return &b->err;
}

void bundle_reader_close(struct bundle_reader *b)
{
	if (b->in_member)
		blob_reader_close(&b->r);
	b->in_member = false;
	XXH3_freeState(b->trailers);
	b->trailers = NULL;
}

int blob_identity_diff(const struct blob_header *blob, const struct blob_header *here, char *buf,
		       size_t len)
{
	static const struct {
		const char *label;
		size_t off;
		bool str;
	} fields[] = {
		{ "vendor", offsetof(struct blob_header, vendor), false },
		{ "device", offsetof(struct blob_header, device), false },
		{ "subsystem vendor", offsetof(struct blob_header, subsys_vendor), false },
		{ "subsystem device", offsetof(struct blob_header, subsys_device), false },
		{ "driver", offsetof(struct blob_header, driver), true },
		{ "mdev type", offsetof(struct blob_header, mdev_type), true },
	};
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]) && off < len; i++) {
		const char *a = (const char *)blob + fields[i].off, *b = (const char *)here + fields[i].off;
		uint16_t x, y;

		if (fields[i].str) {
			if (!strcmp(a, b))
				continue;
			off += snprintf(buf + off, len - off, "%s%s '%s' in the blob, '%s' here",
					off ? ", " : "", fields[i].label, a, b);
			continue;
		}
		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		if (x != y)
			off += snprintf(buf + off, len - off, "%s%s 0x%04x in the blob, 0x%04x here",
					off ? ", " : "", fields[i].label, (unsigned)x, (unsigned)y);
	}
	return off > 0;
}

int bundle_match(const struct blob_header *members, int nm, const struct blob_header *targets,
		 int nt, enum bundle_match by, int *target_of, char *why, size_t whylen)
{
	bool used[BUNDLE_MAX] = { false };
	char diff[256];
	int m, t;

	if (nm > BUNDLE_MAX || nt > BUNDLE_MAX) {
		snprintf(why, whylen, "at most %d members and %d devices", BUNDLE_MAX, BUNDLE_MAX);
		return -EINVAL;
	}
	if (by == BUNDLE_BY_POSITION) {
		if (nm != nt) {
			snprintf(why, whylen, "the blob holds %d device state%s and %d device%s given",
				 nm, nm == 1 ? "" : "s", nt, nt == 1 ? " was" : "s were");
			return -EINVAL;
		}
		for (m = 0; m < nm; m++)
			target_of[m] = m;
		return 0;
	}
	for (m = 0; m < nm; m++) {
		for (t = 0; t < nt; t++)
			if (!used[t] && !blob_identity_diff(&members[m], &targets[t], diff, sizeof(diff)))
				break;
		if (t == nt) {
			snprintf(why, whylen, "no device given for member %d (%s, %04x:%04x on %s) that is not taken",
				 m, members[m].dev_name, members[m].vendor, members[m].device,
				 members[m].driver);
			return -EINVAL;
		}
		used[t] = true;
		target_of[m] = t;
	}
	for (t = 0; t < nt; t++)
		if (!used[t]) {
			snprintf(why, whylen, "device %s (%04x:%04x on %s) matches no member left",
				 targets[t].dev_name, targets[t].vendor, targets[t].device, targets[t].driver);
			return -EINVAL;
		}
	return 0;
}
