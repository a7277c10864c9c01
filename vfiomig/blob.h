/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vfiomig blob format: a device's migration stream framed with identity and checksums. */
#ifndef VFIOMIG_BLOB_H
#define VFIOMIG_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xxhash.h>

/*
 * Layout, all integers little-endian (see vfiomig(8), BLOB FORMAT):
 *
 *   header  512 bytes  magic "VFIOMIG\x1a", version, identity of the source,
 *                      XXH3-64 of the first 504 bytes in the last 8
 *   chunk   16 bytes   tag "CHNK", le32 length (1..BLOB_CHUNK_MAX),
 *                      le64 XXH3-64 of the data seeded with the chunk index
 *           + data     length bytes of the device stream
 *   ...                as many chunks as the stream needs (zero or more)
 *   trailer 40 bytes   tag "TRLR", le32 0, le64 chunk count, le64 stream
 *                      length, le64 stream hash (XXH3-64 over the chunks'
 *                      hashes, each as le64), le64 XXH3-64 of the first 32
 *   end of file        nothing may follow the trailer
 *
 * Seeding each chunk's hash with its index catches reordered, repeated or
 * dropped chunks; the trailer catches truncation at a chunk boundary.
 */
#define BLOB_MAGIC        "VFIOMIG\x1a"
#define BLOB_VERSION      1
#define BLOB_HEADER_SIZE  512
#define BLOB_CHUNK_HDR_SIZE 16
#define BLOB_TRAILER_SIZE 40
#define BLOB_CHUNK_MAX    (16u << 20)
#define BLOB_TAG_CHUNK    0x4b4e4843u /* "CHNK" */
#define BLOB_TAG_TRAILER  0x524c5254u /* "TRLR" */

/* Identity of the source device, as written into the header. */
struct blob_header {
	uint16_t version;
	uint32_t flags;                /* reserved, 0 */
	uint16_t vendor, device;       /* PCI IDs; for an mdev, its parent's */
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code;           /* 24-bit PCI class */
	uint64_t mig_flags;            /* VFIO_MIGRATION_* of the source */
	int64_t time;                  /* seconds since the epoch, when saved */
	char dev_name[64];             /* "0000:3b:00.2" or an mdev UUID */
	char driver[64];               /* "mlx5_vfio_pci", "mtty", ... */
	char mdev_type[64];            /* "mtty-2", empty for PCI functions */
	char kernel[96];               /* uname -r of the source */
	char tool[32];                 /* vfiomig version that wrote it */
};

/* Why decoding stopped: a sentence naming the part, the field and the offset. */
struct blob_error {
	uint64_t offset;               /* byte offset in the blob of the bad part */
	char msg[256];
};

/* Encoding. */
void blob_header_encode(const struct blob_header *h, uint8_t out[BLOB_HEADER_SIZE]);

struct blob_writer {
	uint64_t chunks;
	uint64_t bytes;
	XXH3_state_t *stream;          /* hash over the chunk hashes */
};
int blob_writer_init(struct blob_writer *w);          /* 0 or -ENOMEM */
void blob_writer_free(struct blob_writer *w);
/* Header for a chunk of LEN (1..BLOB_CHUNK_MAX) bytes of DATA; counts it. */
void blob_writer_chunk(struct blob_writer *w, const void *data, size_t len,
		       uint8_t out[BLOB_CHUNK_HDR_SIZE]);
void blob_writer_trailer(struct blob_writer *w, uint8_t out[BLOB_TRAILER_SIZE]);

/* Decoding, over any byte source. */
struct blob_src {
	/* Up to LEN bytes into BUF: count, 0 at the end, or -errno. */
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	void *ctx;
};

/* SRC's reads until LEN bytes or its end: the count, short only at the end, or -errno. */
ssize_t blob_src_read_full(const struct blob_src *src, void *buf, size_t len);

struct blob_reader {
	const struct blob_src *src;
	uint64_t offset;               /* bytes consumed so far (of the bundle, for a member) */
	uint64_t chunks;
	uint64_t bytes;
	uint64_t max_chunk;            /* largest chunk seen */
	XXH3_state_t *stream;
	uint8_t *buf;                  /* BLOB_CHUNK_MAX bytes, owned */
	bool done;                     /* trailer seen and verified */
	bool member;                   /* inside a bundle: more may follow the trailer */
	uint8_t trailer[BLOB_TRAILER_SIZE]; /* as read, once done */
	struct blob_error err;
};

/*
 * Reads and checks the header. Returns 0, -EBADMSG (not a blob, corrupt,
 * truncated or an unknown version: R->err says which), -ENOMEM, or the
 * source's -errno.
 */
int blob_reader_open(struct blob_reader *r, const struct blob_src *src,
		     struct blob_header *h);
/*
 * The first BLOB_HEADER_SIZE bytes of SRC into HDR, a blob's or a bundle's
 * (the same size, the magic first): 0, -EBADMSG for a short source, or the
 * source's -errno. *GOT is the count read.
 */
int blob_read_head(const struct blob_src *src, uint8_t hdr[BLOB_HEADER_SIZE], size_t *got,
		   struct blob_error *err);
/*
 * blob_reader_open() on a header already read (HDR, the bytes of SRC before
 * OFFSET). MEMBER: the blob is a bundle's member, so the trailer is not the
 * end of the source, and R->trailer keeps it for the bundle's checksum.
 */
int blob_reader_start(struct blob_reader *r, const struct blob_src *src,
		      const uint8_t hdr[BLOB_HEADER_SIZE], uint64_t offset, bool member,
		      struct blob_header *h);
/*
 * The next chunk's verified data in *DATA (valid until the next call):
 * returns 1 with *LEN bytes, 0 once the trailer is verified and the source
 * is at its end, -EBADMSG with R->err set, or the source's -errno.
 */
int blob_reader_next(struct blob_reader *r, const void **data, size_t *len);
void blob_reader_close(struct blob_reader *r);

/* Decodes a header from memory (used by blob_reader_open); 0 or -EBADMSG. */
int blob_header_decode(const uint8_t in[BLOB_HEADER_SIZE], struct blob_header *h,
		       struct blob_error *err);

/*
 * Bundles: the states of several devices saved together (`vfiomig save DEV
 * DEV...`), after one quiesce barrier. Layout, little-endian:
 *
 *   header     512 bytes  magic "VFIOBND\x1a", le16 version 1, le16 header
 *                         size 512, le32 member count (1..BUNDLE_MAX), le64
 *                         time, tool[32], zeros, XXH3-64 of the first 504
 *                         bytes in the last 8
 *   directory  count x 512 bytes: each member's blob header, in order
 *   members    count blobs, each as `vfiomig save` of one device writes it,
 *              its header byte for byte its directory entry
 *   trailer    40 bytes   tag "BEND", le32 0, le64 member count, le64 total
 *                         stream bytes, le64 XXH3-64 over the members' 40-byte
 *                         trailers in order, le64 XXH3-64 of the first 32
 *
 * The directory names every member before any stream, so that a load from
 * a pipe, which cannot be read twice, maps members to devices and moves
 * them together before it writes the first byte. The trailer's hash over
 * the member trailers catches a member dropped, repeated or moved.
 */
#define BUNDLE_MAGIC       "VFIOBND\x1a"
#define BUNDLE_VERSION     1
#define BUNDLE_MAX         16
#define BUNDLE_TAG_TRAILER 0x444e4542u /* "BEND" */

void bundle_header_encode(uint32_t count, int64_t time, const char *tool,
			  uint8_t out[BLOB_HEADER_SIZE]);

struct bundle_writer {
	uint32_t members;
	uint64_t bytes;
	XXH3_state_t *trailers;
};
int bundle_writer_init(struct bundle_writer *w);      /* 0 or -ENOMEM */
void bundle_writer_free(struct bundle_writer *w);
/* Counts a member whose blob writer W has written its trailer TRAILER. */
void bundle_writer_member(struct bundle_writer *bw, const struct blob_writer *w,
			  const uint8_t trailer[BLOB_TRAILER_SIZE]);
void bundle_writer_trailer(struct bundle_writer *bw, uint8_t out[BLOB_TRAILER_SIZE]);

/*
 * One reader for blobs and bundles: a blob reads as a bundle of one member
 * (B->bundle false). Members come in order through bundle_reader_member(),
 * each one's chunks through bundle_reader_next().
 */
struct bundle_reader {
	const struct blob_src *src;
	bool bundle;                   /* a bundle, not a single blob */
	uint32_t count;                /* members */
	uint32_t next;                 /* members opened so far */
	int64_t time;                  /* the bundle's, or the blob's */
	char tool[32];
	struct blob_header members[BUNDLE_MAX];
	uint8_t dir[BUNDLE_MAX][BLOB_HEADER_SIZE];
	uint64_t offset;               /* bytes consumed before the current member */
	uint64_t bytes;                /* stream bytes of the members done */
	XXH3_state_t *trailers;
	struct blob_reader r;          /* the current member */
	bool in_member, done;
	struct blob_error err;
};
/*
 * Reads the header (and a bundle's directory): 0, -EBADMSG with B->err set,
 * -ENOMEM, or the source's -errno.
 */
int bundle_reader_open(struct bundle_reader *b, const struct blob_src *src);
/*
 * Finishes the current member (which must be read to its trailer) and
 * opens the next: 1 with its index in *INDEX, 0 once the last member is
 * done and the bundle's trailer and end are verified, -EBADMSG, -ENOMEM
 * or the source's -errno.
 */
int bundle_reader_member(struct bundle_reader *b, uint32_t *index);
/* The current member's next chunk, as blob_reader_next(): 1, 0 at its trailer, or -errno. */
int bundle_reader_next(struct bundle_reader *b, const void **data, size_t *len);
/*
 * What differs between two devices' identities (IDs, driver, mdev type),
 * as "vendor 0x15b3 in the blob, 0x1234 here, ..." in BUF: 0 when nothing.
 * Migration flags and class are not compared: a driver decides what it
 * accepts, and --force is for when it does.
 */
int blob_identity_diff(const struct blob_header *blob, const struct blob_header *here, char *buf,
		       size_t len);

/* How `load` pairs a bundle's members with the devices given. */
enum bundle_match { BUNDLE_BY_POSITION, BUNDLE_BY_IDENTITY };
/*
 * Pairs the NM members with the NT targets: TARGET_OF[m] is member m's
 * target. By position, member i goes to target i and the counts must be
 * equal; by identity, each member goes to the first unused target of its
 * identity, and every member and every target must find a partner.
 * Returns 0, or -EINVAL with WHY naming what is left unpaired.
 */
int bundle_match(const struct blob_header *members, int nm, const struct blob_header *targets,
		 int nt, enum bundle_match by, int *target_of, char *why, size_t whylen);

/* The current member's reader (counts, largest chunk) and the first error's offset and text. */
const struct blob_error *bundle_reader_error(const struct bundle_reader *b);
void bundle_reader_close(struct bundle_reader *b);

#endif
