// SPDX-License-Identifier: GPL-2.0-or-later
/* The data path of save, load and blob pack/unpack: framing on the way out (spliced from pipe to pipe), verification on the way in, one buffer each way. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "stream.h"
#include "vfiomig.h"

int sink_init(struct sink *s, const char *object, bool device, int out, bool raw, const char *verb,
	      uint64_t estimate)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->object = object;
	s->device = device;
	s->out = out;
	s->raw = raw;
	/* Page-aligned: a copy between misaligned pages costs the kernel about twice as much. */
	if (posix_memalign((void **)&s->buf, IO_BUF_ALIGN, IO_BUF_SIZE))
		s->buf = NULL;
	if (!s->buf)
		return vm_error(ENOMEM, "cannot frame the stream of", object, NULL, NULL);
	ret = blob_writer_init(&s->w);
	if (ret) {
		free(s->buf);
		s->buf = NULL;
		return vm_error(ret, "cannot frame the stream of", object, NULL, NULL);
	}
	progress_init(&s->p, verb, object, estimate);
	io_pipe_grow(out);
	return 0;
}

int sink_put(struct sink *s, size_t n)
{
	uint8_t hdr[BLOB_CHUNK_HDR_SIZE];
	int ret = 0;

	/*
	 * The chunk header on its own, then the data: one writev() of both
	 * would copy the data into a pipe 16 bytes off its page alignment,
	 * which costs as much CPU again as the aligned copy (bench/README.md).
	 */
	if (!s->raw) {
		blob_writer_chunk(&s->w, s->buf, n, hdr);
		ret = io_write_all(s->out, hdr, sizeof(hdr));
	}
	if (!ret)
		ret = io_write_all(s->out, s->buf, n);
	if (ret)
		return vm_error(ret, "cannot write the stream of", s->object, NULL,
				"output failed after %llu bytes: %s",
				(unsigned long long)s->bytes, vm_strerror(ret));
	s->bytes += n;
	s->chunks++;
	progress_update(&s->p, s->bytes);
	return 0;
}

/*
 * From a pipe into a pipe (blob pack in a pipeline) a chunk need not be
 * copied twice: tee() duplicates what waits in IN into DUP, whose copy is
 * read to hash it, and splice() moves the original pages on to OUT. One
 * copy instead of read()'s and write()'s two, for chunks of at least
 * SPLICE_MIN bytes; less than that waiting goes the copy path, which fills
 * whole 1 MiB chunks, so that a slow writer does not make tiny chunks.
 */
#define SPLICE_MIN (64u << 10)

static bool is_pipe(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISFIFO(st.st_mode);
}

/* Chunk *N (0: none waiting, take the copy path) from pipe IN to pipe S->out; 0 or the error reported. */
static int splice_chunk(struct sink *s, int in, const int dup[2], size_t *n)
{
	uint8_t hdr[BLOB_CHUNK_HDR_SIZE];
	ssize_t t, m;
	size_t left;
	int avail, ret, err;

	*n = 0;
	if (ioctl(in, FIONREAD, &avail) || avail < (int)SPLICE_MIN)
		return 0;
	do
		t = tee(in, dup[1], avail < (int)IO_BUF_SIZE ? (size_t)avail : IO_BUF_SIZE, 0);
	while (t < 0 && errno == EINTR && !io_interrupted);
	if (t <= 0)
		return 0;
	if (io_read_full(dup[0], s->buf, (size_t)t, &err) != (size_t)t)
		return vm_error(EIO, "cannot frame the stream of", s->object, NULL,
				"reading back %zd bytes duplicated with tee() failed", t);
	blob_writer_chunk(&s->w, s->buf, (size_t)t, hdr);
	ret = io_write_all(s->out, hdr, sizeof(hdr));
	for (left = (size_t)t; !ret && left; left -= (size_t)m) {
		m = splice(in, NULL, s->out, NULL, left, SPLICE_F_MOVE);
		if (m < 0 && errno == EINTR && !io_interrupted)
			m = 0;
		else if (m < 0)
			ret = io_interrupted ? -EINTR : -errno;
		else if (m == 0)
			ret = -EIO; /* the bytes tee() saw are gone: not our pipe alone */
	}
	if (ret)
		return vm_error(ret, "cannot write the stream of", s->object, NULL,
				"output failed after %llu bytes: %s",
				(unsigned long long)s->bytes, vm_strerror(ret));
	s->bytes += (uint64_t)t;
	s->chunks++;
	progress_update(&s->p, s->bytes);
	*n = (size_t)t;
	return 0;
}

int sink_copy(struct sink *s, int in, const char *what, uint64_t *got)
{
	int dup[2] = { -1, -1 }, ret = 0, err;
	size_t spliced, n;

	*got = 0;
	io_pipe_grow(in);
	/* A refused pipe just means the copy path. */
	if (!s->raw && is_pipe(in) && is_pipe(s->out) && !pipe2(dup, O_CLOEXEC))
		(void)fcntl(dup[1], F_SETPIPE_SZ, (int)IO_BUF_SIZE);
	for (;;) {
		if (dup[0] >= 0) {
			ret = splice_chunk(s, in, dup, &spliced);
			if (ret)
				break;
			if (spliced) {
				*got += spliced;
				continue;
			}
		}
		n = io_read_full(in, s->buf, IO_BUF_SIZE, &err);
		/* What came before a failure is framed first, so the count below is what was read. */
		if (n) {
			*got += n;
			ret = sink_put(s, n);
			if (ret)
				break;
		}
		if (err == -EINTR) {
			ret = vm_error(err, "interrupted", s->object, NULL, "reading %s after %llu bytes",
				       what, (unsigned long long)s->bytes);
			break;
		}
		if (err) {
			ret = vm_error(err, s->device ? "cannot read the state of" : "cannot read",
				       s->object, NULL, "%s failed after %llu bytes: %s", what,
				       (unsigned long long)s->bytes, vm_strerror(err));
			break;
		}
		if (n < IO_BUF_SIZE)
			break;
	}
	if (dup[0] >= 0) {
		close(dup[0]);
		close(dup[1]);
	}
	return ret;
}

int sink_trailer(struct sink *s)
{
	int ret;

	progress_done(&s->p);
	if (s->raw)
		return 0;
	blob_writer_trailer(&s->w, s->trailer);
	ret = io_write_all(s->out, s->trailer, sizeof(s->trailer));
	if (ret)
		return vm_error(ret, "cannot write the stream of", s->object, NULL, NULL);
	return 0;
}

void sink_free(struct sink *s)
{
	if (!s->buf)
		return;
	progress_done(&s->p);
	blob_writer_free(&s->w);
	free(s->buf);
	s->buf = NULL;
}

int stream_put_header(int out, const uint8_t hdr[BLOB_HEADER_SIZE], const char *object)
{
	int ret = io_write_all(out, hdr, BLOB_HEADER_SIZE);

	if (ret)
		return vm_error(ret, "cannot write the blob of", object, NULL, NULL);
	return 0;
}

int stream_invalid(const char *src, const struct bundle_reader *b, int ret)
{
	if (ret == -EBADMSG)
		return vm_error(EBADMSG, "invalid blob", src, NULL, "%s", bundle_reader_error(b)->msg);
	return vm_error(ret, "cannot read", src, NULL, NULL);
}

int stream_verify(struct bundle_reader *b, const char *src)
{
	const void *data;
	uint32_t i;
	size_t len;
	int ret;

	while ((ret = bundle_reader_member(b, &i)) > 0) {
		while ((ret = bundle_reader_next(b, &data, &len)) > 0)
			;
		if (ret < 0)
			break;
	}
	return ret ? stream_invalid(src, b, ret) : 0;
}

int stream_write(struct bundle_reader *b, int in, const char *src, int out, const char *object,
		 bool device, const char *verb, uint64_t *bytes, uint64_t *chunks)
{
	struct progress p;
	const void *data;
	uint8_t *buf = NULL;
	size_t len, done;
	int ret, err = 0;

	*bytes = *chunks = 0;
	progress_init(&p, verb, object, 0);
	io_pipe_grow(out);
	/* The input's pipe too, when the reader reads a file descriptor. */
	if (b && b->src->read == io_fd_read)
		io_pipe_grow(*(int *)b->src->ctx);
	else if (!b)
		io_pipe_grow(in);
	if (!b) {
		if (posix_memalign((void **)&buf, IO_BUF_ALIGN, IO_BUF_SIZE))
			buf = NULL;
		if (!buf)
			return vm_error(ENOMEM, "cannot copy the stream into", object, NULL, NULL);
	}
	for (;;) {
		if (!b) {
			/* A failed read still passes on what it got; the failure is reported next. */
			if (err) {
				ret = vm_error(err, "cannot read", src, NULL, NULL);
				break;
			}
			len = io_read_full(in, buf, IO_BUF_SIZE, &err);
			if (!len && !err) {
				ret = 0;
				break;
			}
			if (!len)
				continue;
			data = buf;
		} else {
			ret = bundle_reader_next(b, &data, &len);
			if (ret < 0)
				ret = stream_invalid(src, b, ret);
			if (ret <= 0)
				break;
		}
		ret = io_write_counted(out, data, len, &done);
		*bytes += done;
		if (ret && device) {
			ret = vm_error(ret, "cannot write the state into", object, NULL,
				       "the driver refused the data after %llu bytes: %s",
				       (unsigned long long)*bytes, vm_strerror(ret));
			break;
		}
		if (ret) {
			ret = vm_error(ret, "cannot write", object, NULL, "the write failed after %llu bytes: %s",
				       (unsigned long long)*bytes, vm_strerror(ret));
			break;
		}
		(*chunks)++;
		progress_update(&p, *bytes);
	}
	progress_done(&p);
	free(buf);
	return ret;
}
