// SPDX-License-Identifier: GPL-2.0-or-later
/* File-descriptor plumbing for the data path: loops over short I/O, signals, atomic output files, progress. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "vfiomig.h"

volatile sig_atomic_t io_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	io_interrupted = 1;
}

void io_catch_signals(void)
{
	/* No SA_RESTART: a read blocked on a device must return so we can leave it in a known state. */
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A reader that goes away is an error to report (EPIPE), not a silent death. */
	signal(SIGPIPE, SIG_IGN);
}

size_t io_read_full(int fd, void *buf, size_t len, int *err)
{
	size_t got = 0;
	ssize_t n;

	*err = 0;
	while (got < len) {
		if (io_interrupted) {
			*err = -EINTR;
			break;
		}
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = -errno;
			break;
		}
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

static int writev_all(int fd, struct iovec *iov, int cnt, size_t *done)
{
	ssize_t n;

	*done = 0;
	while (cnt > 0) {
		if (io_interrupted)
			return -EINTR;
		n = writev(fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		*done += (size_t)n;
		/* Skip what was written: whole vectors, then part of one. */
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

int io_write_all(int fd, const void *buf, size_t len)
{
	size_t done;

	return io_write_counted(fd, buf, len, &done);
}

int io_write_counted(int fd, const void *buf, size_t len, size_t *done)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return writev_all(fd, &iov, 1, done);
}

void io_pipe_grow(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !S_ISFIFO(st.st_mode))
		return;
	if (fcntl(fd, F_GETPIPE_SZ) < (int)IO_PIPE_SIZE)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)IO_PIPE_SIZE);
}

ssize_t io_fd_read(void *ctx, void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		if (io_interrupted)
			return -EINTR;
		n = read(*(int *)ctx, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

int out_file_open(struct out_file *f, const char *path)
{
	struct stat st;

	/* Now, not at the rename after all the work: a directory cannot become the file. */
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path) ||
	    snprintf(f->tmp, sizeof(f->tmp), "%s.XXXXXX", path) >= (int)sizeof(f->tmp))
		return -ENAMETOOLONG;
	/* Same directory as the target, so the final rename cannot cross file systems. */
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	/* mkstemp makes 0600; a finished blob gets the mode a plain creat() would give. */
	mode_t mask = umask(0);

	umask(mask);
	fchmod(f->fd, 0666 & ~mask);
	return 0;
}

int out_file_commit(struct out_file *f)
{
	int ret = 0;

	if (fsync(f->fd) || close(f->fd))
		ret = -errno;
	f->fd = -1;
	if (!ret && rename(f->tmp, f->path))
		ret = -errno;
	if (ret)
		unlink(f->tmp);
	return ret;
}

void out_file_abort(struct out_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	unlink(f->tmp);
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(unit)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

void progress_init(struct progress *p, const char *verb, const char *object, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = !vm_opts.json && isatty(STDERR_FILENO);
	p->verb = verb;
	p->object = object;
	p->total = total;
	p->start = p->last = mono_now();
}

void progress_update(struct progress *p, uint64_t bytes)
{
	char done[32], total[32];
	double now;

	if (!p->on)
		return;
	now = mono_now();
	if (now - p->last < 0.25)
		return;
	p->last = now;
	fmt_size(bytes, done, sizeof(done));
	if (p->total)
		fprintf(stderr, "\r%s %s: %s of ~%s (%.0f%%), %.1f MiB/s\033[K", p->verb, p->object,
			done, fmt_size(p->total, total, sizeof(total)),
			bytes * 100.0 / p->total > 100 ? 100 : bytes * 100.0 / p->total,
			bytes / (now - p->start) / (1 << 20));
	else
		fprintf(stderr, "\r%s %s: %s, %.1f MiB/s\033[K", p->verb, p->object, done,
			bytes / (now - p->start) / (1 << 20));
}

void progress_done(struct progress *p)
{
	/* Only erase a line we drew. */
	if (p->on && p->last > p->start)
		fputs("\r\033[K", stderr);
}
