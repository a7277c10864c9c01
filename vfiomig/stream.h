/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The data path shared by save, load and blob pack/unpack: a stream framed into blob chunks, and verified chunks written out. */
#ifndef VFIOMIG_STREAM_H
#define VFIOMIG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "io.h"

/*
 * Where a stream goes: OUT, as blob chunks unless raw. One sink frames
 * one blob (or one bundle member); pre-copy and stop-copy fill the same.
 * Errors name OBJECT, the device (or input) the stream is of.
 */
struct sink {
	const char *object;
	bool device;              /* OBJECT is a device, whose stream is its state */
	int out;
	bool raw;
	struct blob_writer w;
	struct progress p;
	uint8_t *buf;             /* IO_BUF_SIZE: fill it, then sink_put() */
	uint64_t bytes, chunks;
	uint8_t trailer[BLOB_TRAILER_SIZE]; /* as written, for a bundle's trailer */
};

/*
 * DEVICE: OBJECT is a device (its data fd is read), not a file or a pipe.
 * VERB ("saving") and ESTIMATE (0: unknown) are for the progress line.
 */
int sink_init(struct sink *s, const char *object, bool device, int out, bool raw, const char *verb,
	      uint64_t estimate);
/* Writes the first N bytes of S->buf as the next chunk. */
int sink_put(struct sink *s, size_t n);
/*
 * Copies IN to the sink until its end; WHAT names IN in messages ("the
 * data fd", "standard input"). *GOT counts the bytes copied.
 */
int sink_copy(struct sink *s, int in, const char *what, uint64_t *got);
/* The blob's trailer (nothing for a raw sink). */
int sink_trailer(struct sink *s);
void sink_free(struct sink *s);

/* Writes a blob or bundle header: 0, or the error reported against OBJECT. */
int stream_put_header(int out, const uint8_t hdr[BLOB_HEADER_SIZE], const char *object);

/*
 * Reports a reader's failure on SRC ("invalid blob 'FILE': chunk 3 at
 * offset ...", or the source's errno) and returns it.
 */
int stream_invalid(const char *src, const struct bundle_reader *b, int ret);

/* Reads the rest of a blob or bundle to check every checksum; nothing is written. */
int stream_verify(struct bundle_reader *b, const char *src);

/*
 * Writes the current member's chunks of B (or, with B NULL, the raw bytes
 * of IN) into OUT until the member's trailer (or IN's end). SRC names the
 * input and OBJECT the output in messages; DEVICE says OBJECT is a device
 * (OUT its data fd); VERB is for the progress line. *BYTES counts what OUT
 * took, a partial write included, and *CHUNKS the whole chunks.
 */
int stream_write(struct bundle_reader *b, int in, const char *src, int out, const char *object,
		 bool device, const char *verb, uint64_t *bytes, uint64_t *chunks);

#endif
