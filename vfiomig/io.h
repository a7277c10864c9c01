/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The data path's plumbing: full reads and writes, interruption, output files, progress and sizes. */
#ifndef VFIOMIG_IO_H
#define VFIOMIG_IO_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The size of one read from a data fd, and of the chunks vfiomig writes (QEMU reads 1 MiB too). */
#define IO_BUF_SIZE (1u << 20)
/* Its alignment: a page, so that the kernel's copies to and from pipe pages stay aligned. */
#define IO_BUF_ALIGN 4096

/* Set by SIGINT/SIGTERM once io_catch_signals() ran; blocking reads then fail with EINTR. */
extern volatile sig_atomic_t io_interrupted;
void io_catch_signals(void);

/*
 * Reads until LEN bytes, the end or a failure, and returns the count: what
 * was read before a failure counts too. *ERR is 0, or the failure's -errno
 * (-EINTR once interrupted). A count short of LEN with *ERR 0 is the end.
 */
size_t io_read_full(int fd, void *buf, size_t len, int *err);
int io_write_all(int fd, const void *buf, size_t len);
/* io_write_all() that tells in *DONE how much was written, a failure or not. */
int io_write_counted(int fd, const void *buf, size_t len, size_t *done);

/*
 * What io_pipe_grow() makes a pipe hold: a quarter of the default's wake-ups
 * (which cost most in VMs: 3 to 5 times the throughput under QEMU TCG), yet
 * small enough that the data stays in the CPU's cache between writer and
 * reader (a 1 MiB pipe lost 20% on the host). bench/README.md has numbers.
 */
#define IO_PIPE_SIZE (256u << 10)

/*
 * Makes a pipe at FD hold IO_PIPE_SIZE bytes, where the system allows it;
 * anything but a pipe, a pipe already as large, or a refusal, is left as it
 * was.
 */
void io_pipe_grow(int fd);

/* A blob_src read callback over the fd pointed to by CTX. */
ssize_t io_fd_read(void *ctx, void *buf, size_t len);

/* An output file that appears under its name only when complete. */
struct out_file {
	int fd;
	char tmp[PATH_MAX];
	char path[PATH_MAX];
};
int out_file_open(struct out_file *f, const char *path);
int out_file_commit(struct out_file *f);   /* fsync + rename */
void out_file_abort(struct out_file *f);   /* unlink the temporary */

/* A progress line on a terminal's stderr, redrawn at most four times a second. */
struct progress {
	bool on;
	const char *verb, *object;
	uint64_t total;        /* an estimate, 0 if unknown */
	double start, last;
};
void progress_init(struct progress *p, const char *verb, const char *object, uint64_t total);
void progress_update(struct progress *p, uint64_t bytes);
void progress_done(struct progress *p);

/* "1.5 MiB" */
const char *fmt_size(uint64_t bytes, char *buf, size_t len);
/* Monotonic seconds. */
double mono_now(void);

#endif
