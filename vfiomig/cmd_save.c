// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig save`: walk a device to stop-copy, read its state to the end and write it as a checked blob. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "blob.h"
#include "dev.h"
#include "io.h"
#include "mig.h"
#include "output.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_save(int argc, char **argv);

enum { OPT_RAW = 256, OPT_THEN, OPT_PRECOPY, OPT_PRECOPY_ROUNDS, OPT_PRECOPY_UNTIL, OPT_PRECOPY_STEP };

static const struct option save_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "precopy", no_argument, NULL, OPT_PRECOPY },
	{ "precopy-rounds", required_argument, NULL, OPT_PRECOPY_ROUNDS },
	{ "precopy-until-bytes", required_argument, NULL, OPT_PRECOPY_UNTIL },
	{ "precopy-step", no_argument, NULL, OPT_PRECOPY_STEP },
	{ 0 }
};

/* Enough for a device that keeps dirtying to show whether it converges. */
#define PRECOPY_ROUNDS 10
#define PRECOPY_ROUNDS_MAX 100000
/* How long one round waits in all for data the driver owes but has not made ready (ENOMSG). */
#define PRECOPY_WAIT_MS 2000

const struct vm_cmd cmd_save = {
	.name = "save",
	.run = run_save,
	.args = "DEV [-o FILE] [--raw] [--then stop|running] [--precopy [--precopy-rounds N] [--precopy-until-bytes N] [--precopy-step]]",
	.summary = "read a device's migration state into a blob",
	.help = "Moves the device to stop-copy, reads its state to the end of the stream\n"
		"and writes a vfiomig blob (header with the source's identity, checksummed\n"
		"chunks, trailer) to standard output or FILE.\n"
		"\n"
		"  -o, --output FILE          write FILE; it appears only once complete\n"
		"      --raw                  write the bare device stream, without framing\n"
		"      --then STATE           leave the device in stop (default) or running\n"
		"      --precopy              first read rounds in pre-copy, while the device\n"
		"                             runs; only the stop-copy part is downtime\n"
		"      --precopy-rounds N     at most N pre-copy rounds (default 10)\n"
		"      --precopy-until-bytes N\n"
		"                             end pre-copy once the initial bytes are read and\n"
		"                             at most N dirty bytes are owed (default 0; K, M, G)\n"
		"      --precopy-step         after each round, wait for a line on standard\n"
		"                             input before going on; its end goes on to\n"
		"                             stop-copy\n"
		"\n"
		"Bytes, throughput, pre-copy rounds and downtime go to stderr (or stdout\n"
		"with -o). A device without pre-copy (any on Linux 6.1) fails --precopy\n"
		"with exit status 3 before it is moved.\n",
	.shortopts = "o:",
	.longopts = save_options,
};

struct save_opts {
	const char *output;
	bool raw;
	enum mig_state then;
	bool precopy, step;
	const char *precopy_only; /* a pre-copy option given without --precopy */
	unsigned int rounds;
	uint64_t until_bytes;
};

/* N: a decimal count from 1 to PRECOPY_ROUNDS_MAX. */
static int parse_rounds(const char *arg, unsigned int *val)
{
	unsigned long v = 0;
	const char *p;

	for (p = arg; *p >= '0' && *p <= '9' && v <= PRECOPY_ROUNDS_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == arg || *p || v < 1 || v > PRECOPY_ROUNDS_MAX)
		return vm_usage("%s: invalid --precopy-rounds '%s': use a count from 1 to %d",
				vm_cmd_path, arg, PRECOPY_ROUNDS_MAX);
	*val = (unsigned int)v;
	return 0;
}

static int save_option(int c, const char *arg, void *data)
{
	struct save_opts *o = data;
	unsigned long long v;

	switch (c) {
	case 'o':
		o->output = arg;
		return 0;
	case OPT_RAW:
		o->raw = true;
		return 0;
	case OPT_THEN:
		return dev_parse_then(arg, &o->then);
	case OPT_PRECOPY:
		o->precopy = true;
		return 0;
	case OPT_PRECOPY_ROUNDS:
		o->precopy_only = "--precopy-rounds";
		return parse_rounds(arg, &o->rounds);
	case OPT_PRECOPY_UNTIL:
		o->precopy_only = "--precopy-until-bytes";
		if (parse_size(arg, &v))
			return vm_usage("%s: invalid --precopy-until-bytes '%s': use a byte count such as 0, 65536, 0x10000 or 64K",
					vm_cmd_path, arg);
		o->until_bytes = v;
		return 0;
	case OPT_PRECOPY_STEP:
		o->precopy_only = "--precopy-step";
		o->step = true;
		return 0;
	default:
		return -EINVAL;
	}
}

struct save_stats {
	double t_start, t_stopped, t_read, t_done;
	double precopy_secs;      /* reading in pre-copy rounds */
	uint64_t stop_copy_bytes;
};

/* Where the stream goes: OUT, framed as blob chunks unless raw; pre-copy and stop-copy fill one blob. */
struct sink {
	const struct vm_dev *d;
	int out;
	bool raw;
	struct blob_writer w;
	struct progress p;
	uint8_t *buf;             /* IO_BUF_SIZE */
	uint64_t bytes, chunks;
};

static int sink_init(struct sink *s, const struct vm_dev *d, int out, bool raw, uint64_t estimate)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->d = d;
	s->out = out;
	s->raw = raw;
	s->buf = malloc(IO_BUF_SIZE);
	if (!s->buf)
		return vm_error(ENOMEM, "cannot save", d->name, NULL, NULL);
	ret = blob_writer_init(&s->w);
	if (ret) {
		free(s->buf);
		s->buf = NULL;
		return vm_error(ret, "cannot save", d->name, NULL, NULL);
	}
	progress_init(&s->p, "saving", d->name, estimate);
	return 0;
}

/* Writes the first N bytes of the buffer as the next chunk. */
static int sink_put(struct sink *s, size_t n)
{
	uint8_t hdr[BLOB_CHUNK_HDR_SIZE];
	struct iovec iov[2];
	int ret;

	s->bytes += n;
	s->chunks++;
	iov[1] = (struct iovec){ s->buf, n };
	if (s->raw) {
		ret = io_writev_all(s->out, &iov[1], 1);
	} else {
		blob_writer_chunk(&s->w, s->buf, n, hdr);
		iov[0] = (struct iovec){ hdr, sizeof(hdr) };
		ret = io_writev_all(s->out, iov, 2);
	}
	if (ret)
		return vm_error(ret, "cannot write the state of", s->d->name, NULL,
				"output failed after %llu bytes: %s",
				(unsigned long long)s->bytes, vm_strerror(ret));
	progress_update(&s->p, s->bytes);
	return 0;
}

static int sink_trailer(struct sink *s)
{
	uint8_t trailer[BLOB_TRAILER_SIZE];
	int ret;

	progress_done(&s->p);
	if (s->raw)
		return 0;
	blob_writer_trailer(&s->w, trailer);
	ret = io_write_all(s->out, trailer, sizeof(trailer));
	if (ret)
		return vm_error(ret, "cannot write the state of", s->d->name, NULL, NULL);
	return 0;
}

static void sink_free(struct sink *s)
{
	if (!s->buf)
		return;
	progress_done(&s->p);
	blob_writer_free(&s->w);
	free(s->buf);
	s->buf = NULL;
}

/* Copies the data fd to the sink until the end of the stream (stop-copy). */
static int read_to_end(struct sink *s, int data_fd, uint64_t *got)
{
	ssize_t n;
	int ret;

	*got = 0;
	for (;;) {
		n = io_read_full(data_fd, s->buf, IO_BUF_SIZE);
		if (n == -EINTR)
			return vm_error(n, "interrupted", s->d->name, NULL,
					"reading its state in stop-copy, after %llu bytes",
					(unsigned long long)s->bytes);
		if (n < 0)
			return vm_error(n, "cannot read the state of", s->d->name, NULL,
					"the data fd failed after %llu bytes: %s",
					(unsigned long long)s->bytes, vm_strerror(n));
		if (n == 0)
			return 0;
		*got += n;
		ret = sink_put(s, n);
		if (ret)
			return ret;
	}
}

/* How pre-copy ended. */
enum precopy_end { PC_CONVERGED, PC_ROUNDS, PC_STEP, PC_NO_SIZES };

struct precopy_stats {
	unsigned int rounds;
	uint64_t bytes;
	bool sizes_known;
	struct vm_precopy_info left; /* owed when pre-copy ended */
	enum precopy_end end;
};

/* The sizes the driver says are owed; unknown (not an error) when it has no such ioctl. */
static int precopy_sizes(const struct vm_dev *d, struct vm_precopy_info *info, bool *known)
{
	int ret = vfio_precopy_info(d->data_fd, info);

	*known = !ret;
	if (ret == -ENOTTY)
		return 0;
	if (ret)
		return vm_error(ret, "cannot read the pre-copy sizes of", d->name, NULL,
				"VFIO_MIG_GET_PRECOPY_INFO: %s", vm_strerror(ret));
	return 0;
}

/*
 * One round: reads what the device owes now, at most BUDGET bytes. In
 * pre-copy nothing is the end of the stream: ENOMSG says nothing is ready,
 * and upstream mtty returns 0 for the same. When the driver still owes
 * bytes after an ENOMSG, it is preparing them: poll for a while.
 */
static int precopy_round(struct sink *s, const struct vm_dev *d, uint64_t budget,
			 unsigned int round, uint64_t *got)
{
	struct pollfd pfd = { .fd = d->data_fd, .events = POLLIN };
	double deadline = mono_now() + PRECOPY_WAIT_MS / 1e3, left;
	struct vm_precopy_info info;
	size_t want;
	ssize_t n;
	int ret;

	*got = 0;
	while (*got < budget) {
		if (io_interrupted)
			return vm_error(EINTR, "interrupted", d->name, NULL,
					"reading its state in pre-copy round %u", round);
		want = budget - *got < IO_BUF_SIZE ? (size_t)(budget - *got) : IO_BUF_SIZE;
		n = read(d->data_fd, s->buf, want);
		if (n > 0) {
			*got += n;
			ret = sink_put(s, n);
			if (ret)
				return ret;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != ENOMSG)
			return vm_error(errno, "cannot read the state of", d->name, NULL,
					"the data fd failed in pre-copy round %u after %llu bytes: %s",
					round, (unsigned long long)s->bytes, vm_strerror(errno));
		if (vfio_precopy_info(d->data_fd, &info) ||
		    !(info.initial_bytes || info.dirty_bytes))
			break;
		left = deadline - mono_now();
		if (left <= 0)
			break;
		ret = poll(&pfd, 1, (int)(left * 1e3) + 1);
		if (ret < 0 && errno != EINTR)
			return vm_error(errno, "cannot wait for the state of", d->name, NULL, NULL);
		if (ret == 0) {
			vm_debug("pre-copy round %u: %llu bytes owed, none ready within %d ms", round,
				 (unsigned long long)(info.initial_bytes + info.dirty_bytes), PRECOPY_WAIT_MS);
			break;
		}
	}
	return 0;
}

/* --precopy-step, after each round: waits for a line on standard input; 1 for a line, 0 at its end. */
static int step_wait(const struct vm_dev *d, unsigned int done)
{
	ssize_t n;
	char c;

	if (isatty(STDIN_FILENO))
		vm_note("pre-copy round %u done: Enter goes on (another round, or stop-copy once pre-copy is done), Ctrl-D goes to stop-copy",
			done);
	/* A script watching our report decides on the round lines: they must be out. */
	fflush(out_stream());
	for (;;) {
		if (io_interrupted)
			return vm_error(EINTR, "interrupted", d->name, NULL,
					"waiting for standard input (--precopy-step) after pre-copy round %u",
					done);
		n = read(STDIN_FILENO, &c, 1);
		/* A signal and the end of input can come together: the signal wins. */
		if (io_interrupted)
			continue;
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return vm_error(errno, "cannot read standard input for", d->name, NULL,
					"--precopy-step: %s", vm_strerror(errno));
		if (n == 1 && c == '\n')
			return 1;
	}
}

static void precopy_report(const struct save_opts *o, const struct precopy_stats *pc)
{
	out_u64("bytes", "pre-copy: %" PRIu64 " bytes", pc->bytes);
	out_text(" in %u round%s; ", pc->rounds, pc->rounds == 1 ? "" : "s");
	switch (pc->end) {
	case PC_CONVERGED:
		out_str("end", "converged: the initial bytes are read", "converged");
		break;
	case PC_ROUNDS:
		out_str("end", "the rounds are spent", "rounds");
		break;
	case PC_STEP:
		out_str("end", "standard input ended (--precopy-step)", "step");
		break;
	case PC_NO_SIZES:
		out_str("end", "the driver reports no pre-copy sizes (VFIO_MIG_GET_PRECOPY_INFO: ENOTTY), so one round only",
			"no_sizes");
		break;
	}
	if (pc->sizes_known) {
		out_u64("initial_bytes", "; owed to stop-copy: initial %" PRIu64, pc->left.initial_bytes);
		out_u64("dirty_bytes", ", dirty %" PRIu64, pc->left.dirty_bytes);
	} else {
		out_null("initial_bytes", NULL);
		out_null("dirty_bytes", NULL);
	}
	out_u64("until_bytes", " (until %" PRIu64 ")\n", o->until_bytes);
	out_u64("max_rounds", NULL, o->rounds);
}

/*
 * Reads pre-copy rounds from D's data fd while the device runs, until the
 * initial bytes are read and at most --precopy-until-bytes dirty bytes are
 * owed, or the rounds are spent. Each round reads what was owed at its
 * start, so a device that keeps dirtying cannot hold a round forever.
 */
static int precopy(struct vm_dev *d, const struct save_opts *o, struct sink *s,
		   struct precopy_stats *pc, double *secs)
{
	struct vm_precopy_info info;
	uint64_t got;
	bool stepped_out = false;
	double t;
	int ret = 0;

	out_obj_open("precopy");
	out_arr_open("rounds");
	for (;;) {
		if (o->step && pc->rounds > 0) {
			ret = step_wait(d, pc->rounds);
			if (ret < 0)
				break;
			stepped_out = ret == 0;
			ret = 0;
		}
		ret = precopy_sizes(d, &info, &pc->sizes_known);
		if (ret)
			break;
		if (pc->sizes_known)
			pc->left = info;
		if (stepped_out) {
			pc->end = PC_STEP;
			break;
		}
		if (pc->sizes_known && !info.initial_bytes && info.dirty_bytes <= o->until_bytes) {
			pc->end = PC_CONVERGED;
			break;
		}
		if (pc->rounds == o->rounds) {
			pc->end = PC_ROUNDS;
			break;
		}
		if (!pc->sizes_known && pc->rounds) {
			pc->end = PC_NO_SIZES;
			break;
		}
		t = mono_now();
		ret = precopy_round(s, d, pc->sizes_known ? info.initial_bytes + info.dirty_bytes :
				    UINT64_MAX, pc->rounds + 1, &got);
		t = mono_now() - t;
		*secs += t;
		if (ret)
			break;
		pc->rounds++;
		pc->bytes += got;
		out_obj_open(NULL);
		out_u64("round", "pre-copy round %" PRIu64 ":", pc->rounds);
		out_u64("bytes", " %" PRIu64 " bytes", got);
		out_dbl("seconds", " in %.3f s", t);
		if (pc->sizes_known) {
			out_u64("initial_bytes", " (owed at its start: initial %" PRIu64, info.initial_bytes);
			out_u64("dirty_bytes", ", dirty %" PRIu64 ")", info.dirty_bytes);
		} else {
			out_null("initial_bytes", NULL);
			out_null("dirty_bytes", NULL);
		}
		out_text("\n");
		out_obj_close();
	}
	out_arr_close();
	if (!ret)
		precopy_report(o, pc);
	out_obj_close();
	return ret;
}

/* Where a failed save returns the device: where it was, or next to it outside the saving group. */
static enum mig_state recover_target(enum mig_state orig)
{
	switch (orig) {
	case MIG_PRE_COPY:
		return MIG_RUNNING;
	case MIG_PRE_COPY_P2P:
		return MIG_RUNNING_P2P;
	case MIG_STOP_COPY:
		return MIG_STOP;
	default:
		return orig;
	}
}

/* After a failed save, the device goes back where it was, and we say where it is. */
static void recover(struct vm_dev *d, enum mig_state orig)
{
	enum mig_state s;
	char hint[128];

	if (!dev_set_state(d, recover_target(orig), NULL) && !dev_get_state(d, &s)) {
		vm_note("%s was returned to %s", d->name, mig_state_name(s));
		return;
	}
	vm_note("%s may be left mid-migration; '%s' returns it to running", d->name,
		dev_reset_hint(d, hint, sizeof(hint)));
}

static void report(const struct vm_dev *d, const struct save_opts *o, const struct sink *s,
		   const struct save_stats *st, enum mig_state final)
{
	/* Time spent reading, pre-copy included; the downtime below is stop-copy alone. */
	double secs = st->t_read - st->t_stopped + st->precopy_secs;
	char size[32];

	out_str("device", "saved %s:", d->name);
	out_u64("bytes", " %" PRIu64 " bytes", s->bytes);
	out_text(" (%s)", fmt_size(s->bytes, size, sizeof(size)));
	out_u64("chunks", " in %" PRIu64 " chunks", s->chunks);
	out_bool("raw", NULL, o->raw);
	out_str("file", " to %s", o->output ? o->output : "-");
	out_dbl("seconds", ", %.3f s", secs);
	out_dbl("throughput_bps", NULL, secs > 0 ? s->bytes / secs : 0);
	out_text(", %.1f MiB/s\n", secs > 0 ? s->bytes / secs / (1 << 20) : 0);
	out_obj_open("downtime_us");
	out_u64("enter", "downtime: enter stop-copy %" PRIu64 " us", (st->t_stopped - st->t_start) * 1e6);
	out_u64("read", ", read %" PRIu64 " us", (st->t_read - st->t_stopped) * 1e6);
	out_u64("leave", ", leave %" PRIu64 " us", (st->t_done - st->t_read) * 1e6);
	out_u64("total", " (total %" PRIu64 " us)", (st->t_done - st->t_start) * 1e6);
	out_obj_close();
	out_u64("stop_copy_bytes", o->precopy ? "; stop-copy read %" PRIu64 " bytes" : NULL,
		st->stop_copy_bytes);
	out_str("state", "; device left in %s\n", mig_state_name(final));
}

/*
 * Checks, before the device is touched, that pre-copy can start from CUR:
 * a device without the pre-copy flag (every device on 6.1) is refused, and
 * so is a stopped one, since pre-copy copies a device while it runs.
 */
static int precopy_check(const struct vm_dev *d, enum mig_state cur)
{
	char flags[64], hint[160];

	if (!(d->mig_flags & MIG_FLAG_PRE_COPY))
		return vm_error(EOPNOTSUPP, "pre-copy is not supported by", d->name,
				"save without --precopy: stop-copy alone moves the whole state",
				"its migration flags are %s (pre-copy needs Linux 6.2 and a driver that offers it)",
				mig_flags_str(d->mig_flags, flags, sizeof(flags)));
	switch (cur) {
	case MIG_RUNNING:
	case MIG_RUNNING_P2P:
	case MIG_PRE_COPY:
	case MIG_PRE_COPY_P2P:
		return 0;
	default:
		snprintf(hint, sizeof(hint),
			 "'vfiomig state set %s running' first (the device then runs), or save without --precopy",
			 d->name);
		return vm_error(EINVAL, "cannot pre-copy", d->name, hint,
				"pre-copy reads the state of a running device, and it is in %s",
				mig_state_name(cur));
	}
}

static int run_save(int argc, char **argv)
{
	struct save_opts o = { .then = MIG_STOP, .rounds = PRECOPY_ROUNDS };
	struct out_file of = { .fd = -1 };
	struct save_stats st = { 0 };
	struct precopy_stats pc = { 0 };
	struct blob_header h;
	struct sink s = { 0 };
	uint8_t hdr[BLOB_HEADER_SIZE];
	enum mig_state cur, final;
	uint64_t estimate = 0;
	struct vm_dev d;
	int ret, out_fd = STDOUT_FILENO;
	bool held_stream;
	int optind = vm_getopt(&cmd_save, argc, argv, save_option, &o);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_save, argc, argv, optind, 1);
	if (ret)
		return ret;
	if (o.precopy_only && !o.precopy)
		return vm_usage("save: %s needs --precopy", o.precopy_only);
	if (!o.output && isatty(STDOUT_FILENO))
		return vm_usage("save: refusing to write binary data to a terminal; redirect standard output or use -o FILE");
	/* With the blob on stdout, the report goes to stderr. */
	if (!o.output)
		out_begin(stderr);
	io_catch_signals();

	ret = dev_lookup(argv[optind], &d);
	if (!ret)
		ret = dev_open_mig(&d, &cur);
	if (ret)
		return ret;
	if (o.precopy) {
		ret = precopy_check(&d, cur);
		if (ret)
			goto close_dev;
	}
	/* A session that entered pre-copy or stop-copy holds the stream: read it from there. */
	held_stream = mig_state_saving(cur) && d.data_fd >= 0;
	if (!held_stream && o.precopy && (cur == MIG_PRE_COPY || cur == MIG_PRE_COPY_P2P)) {
		/* Its stream went with the process that entered pre-copy: start a new one. */
		vm_note("%s was in %s, left by an earlier process; moving it back to %s first", d.name,
			mig_state_name(cur), mig_state_name(recover_target(cur)));
		ret = dev_set_state(&d, recover_target(cur), NULL);
		if (ret)
			goto close_dev;
		cur = recover_target(cur);
	} else if (!held_stream && (mig_state_saving(cur) || cur == MIG_RESUMING)) {
		/* A data fd belongs to the process that got it: start over from stop. */
		vm_note("%s was in %s, left by an earlier process; moving it to stop first", d.name,
			mig_state_name(cur));
		ret = dev_set_state(&d, MIG_STOP, NULL);
		if (ret)
			goto close_dev;
		cur = MIG_STOP;
	}
	if (o.output) {
		ret = out_file_open(&of, o.output);
		if (ret) {
			ret = vm_error(ret, "cannot create", o.output, NULL, NULL);
			goto close_dev;
		}
		out_fd = of.fd;
	}
	if (vfio_mig_data_size(d.fd, &estimate))
		estimate = 0;
	if (!o.raw) {
		dev_identity(&d, &h);
		blob_header_encode(&h, hdr);
		ret = io_write_all(out_fd, hdr, sizeof(hdr));
		if (ret) {
			ret = vm_error(ret, "cannot write", o.output ? o.output : "standard output",
				       NULL, NULL);
			goto abort_file;
		}
	}
	ret = sink_init(&s, &d, out_fd, o.raw, estimate);
	if (ret)
		goto abort_file;

	if (o.precopy) {
		if (!held_stream) {
			ret = dev_set_state(&d, cur == MIG_RUNNING_P2P ? MIG_PRE_COPY_P2P : MIG_PRE_COPY,
					    NULL);
			if (ret)
				goto recover_dev;
			if (d.data_fd < 0) {
				ret = vm_error(EPROTO, "cannot save", d.name, NULL,
					       "the kernel returned no data fd on entering pre-copy");
				goto recover_dev;
			}
		}
		ret = precopy(&d, &o, &s, &pc, &st.precopy_secs);
		if (ret)
			goto recover_dev;
	}

	/* The downtime starts here: the device stops. */
	st.t_start = mono_now();
	ret = dev_set_state(&d, MIG_STOP_COPY, NULL);
	st.t_stopped = mono_now();
	if (ret)
		goto recover_dev;
	if (d.data_fd < 0) {
		ret = vm_error(EPROTO, "cannot save", d.name, NULL,
			       "the kernel returned no data fd on entering stop-copy");
		goto recover_dev;
	}
	ret = read_to_end(&s, d.data_fd, &st.stop_copy_bytes);
	if (!ret)
		ret = sink_trailer(&s);
	st.t_read = mono_now();
	/* The stream is read: close it before the device leaves stop-copy, as QEMU does. */
	close(d.data_fd);
	d.data_fd = -1;
	if (ret)
		goto recover_dev;
	ret = dev_set_state(&d, o.then, NULL);
	st.t_done = mono_now();
	if (ret)
		goto abort_file;
	if (o.output) {
		ret = out_file_commit(&of);
		if (ret) {
			ret = vm_error(ret, "cannot write", o.output, NULL, NULL);
			goto free_sink;
		}
	}
	if (dev_get_state(&d, &final))
		final = o.then;
	report(&d, &o, &s, &st, final);
	dev_note_closes(&d, final);
	goto free_sink;

recover_dev:
	recover(&d, cur);
abort_file:
	if (o.output)
		out_file_abort(&of);
	else if (!o.raw)
		vm_note("the blob on standard output is incomplete and will fail verification");
free_sink:
	sink_free(&s);
close_dev:
	dev_close(&d);
	return ret;
}
