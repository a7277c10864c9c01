// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig save`: walk a device to stop-copy, read its state to the end and write it as a checked blob. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "blob.h"
#include "dev.h"
#include "devset.h"
#include "io.h"
#include "mig.h"
#include "output.h"
#include "stream.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_save(int argc, char **argv);

enum {
	OPT_RAW = 256, OPT_THEN, OPT_PRECOPY, OPT_PRECOPY_ROUNDS, OPT_PRECOPY_UNTIL, OPT_PRECOPY_STEP,
	OPT_NO_BARRIER,
};

static const struct option save_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "precopy", no_argument, NULL, OPT_PRECOPY },
	{ "precopy-rounds", required_argument, NULL, OPT_PRECOPY_ROUNDS },
	{ "precopy-until-bytes", required_argument, NULL, OPT_PRECOPY_UNTIL },
	{ "precopy-step", no_argument, NULL, OPT_PRECOPY_STEP },
	{ "no-p2p-barrier", no_argument, NULL, OPT_NO_BARRIER },
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
	.args = "DEV [DEV...] [-o FILE] [--raw] [--then stop|running] [--no-p2p-barrier] [--precopy [--precopy-rounds N] [--precopy-until-bytes N] [--precopy-step]]",
	.summary = "read devices' migration state into a blob",
	.help = "Moves the device to stop-copy, reads its state to the end of the stream\n"
		"and writes a vfiomig blob (header with the source's identity, checksummed\n"
		"chunks, trailer) to standard output or FILE.\n"
		"\n"
		"Several devices are stopped together, behind the P2P barrier of 'state\n"
		"set', before any state is read, and go into one bundle: a directory of\n"
		"their identities, then each device's blob in the order given.\n"
		"\n"
		"  -o, --output FILE          write FILE; it appears only once complete\n"
		"      --raw                  write the bare device stream, without framing\n"
		"      --then STATE           leave the device in stop (default) or running\n"
		"      --no-p2p-barrier       stop several devices even if one has no P2P state\n"
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
	bool precopy, step, no_barrier;
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
		/* "-o -" is standard output, as the tools that take -o FILE have it. */
		o->output = strcmp(arg, "-") ? arg : NULL;
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
	case OPT_NO_BARRIER:
		o->no_barrier = true;
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

/*
 * Several devices into one bundle: all reach stop-copy behind the P2P
 * barrier before any stream is read, so no device's state changes after
 * it was frozen; then each stream is read whole, in the order given.
 */
static int save_many(char **devs, int n, const struct save_opts *o)
{
	enum mig_state want[PHASES_MAX_DEVS], final;
	struct out_file of = { .fd = -1 };
	struct phase_plan stop_plan, then_plan;
	struct bundle_writer bw = { 0 };
	uint64_t bytes[PHASES_MAX_DEVS] = { 0 }, chunks[PHASES_MAX_DEVS] = { 0 }, got, total = 0;
	uint8_t hdr[BLOB_HEADER_SIZE], dir[PHASES_MAX_DEVS][BLOB_HEADER_SIZE];
	uint8_t trailer[BLOB_TRAILER_SIZE];
	double t_start, t_stopped, t_read, t_done;
	struct blob_header h;
	struct devset s;
	struct sink sk;
	char size[32];
	int i, ret, then_ret, out_fd = STDOUT_FILENO;
	bool held = true, stale = false;

	if (o->raw)
		return vm_usage("save: --raw holds one device's stream; several devices are saved as a bundle, without --raw");
	if (o->precopy)
		return vm_usage("save: --precopy reads one device at a time; save the devices without it, or one by one");
	ret = devset_open(&s, devs, n);
	if (ret)
		return ret;
	/* A session that moved them all to stop-copy holds their streams: read them from there. */
	for (i = 0; i < s.n; i++)
		held &= s.start[i] == MIG_STOP_COPY && s.dev[i].data_fd >= 0;
	for (i = 0; i < s.n && !held; i++) {
		bool left = mig_state_saving(s.start[i]) || s.start[i] == MIG_RESUMING;

		/* A data fd belongs to the process that got it: such a device starts over from stop. */
		want[i] = left ? MIG_STOP : s.start[i];
		if (left)
			vm_note("%s was in %s, left by an earlier process; moving it to stop first",
				s.dev[i].name, mig_state_name(s.start[i]));
		stale |= left;
	}
	if (stale) {
		ret = devset_plan(&s, want, !o->no_barrier, &stop_plan);
		if (!ret)
			ret = devset_run(&s, &stop_plan);
		if (ret)
			goto close_set;
	}
	devset_targets(&s, MIG_STOP_COPY, want);
	ret = devset_plan(&s, want, !o->no_barrier, &stop_plan);
	if (!ret) {
		devset_targets(&s, o->then, want);
		/* Checked now, from where the devices will be: nothing moves before both plans hold. */
		for (i = 0; i < s.n && !ret; i++)
			ret = dev_check_path(&s.dev[i], MIG_STOP_COPY, o->then);
	}
	if (ret)
		goto close_set;
	if (o->output) {
		ret = out_file_open(&of, o->output);
		if (ret) {
			ret = vm_error(ret, "cannot create", o->output, NULL, NULL);
			goto close_set;
		}
		out_fd = of.fd;
	}
	ret = bundle_writer_init(&bw);
	if (ret) {
		ret = vm_error(ret, "cannot save", s.dev[0].name, NULL, NULL);
		goto abort_file;
	}
	bundle_header_encode((uint32_t)s.n, time(NULL), "vfiomig " VFIOMIG_VERSION, hdr);
	ret = stream_put_header(out_fd, hdr, s.dev[0].name);
	/* Encoded once: each member's header must be its directory entry, byte for byte. */
	for (i = 0; i < s.n && !ret; i++) {
		dev_identity(&s.dev[i], &h);
		blob_header_encode(&h, dir[i]);
		ret = stream_put_header(out_fd, dir[i], s.dev[i].name);
	}
	if (ret)
		goto abort_file;

	/* The downtime starts here: the first device stops initiating DMA. */
	t_start = mono_now();
	ret = devset_run(&s, &stop_plan);
	t_stopped = mono_now();
	if (ret)
		goto recover_set;
	for (i = 0; i < s.n; i++) {
		struct vm_dev *d = &s.dev[i];

		if (d->data_fd < 0) {
			ret = vm_error(EPROTO, "cannot save", d->name, NULL,
				       "the kernel returned no data fd on entering stop-copy");
			goto recover_set;
		}
		ret = stream_put_header(out_fd, dir[i], d->name);
		if (!ret)
			ret = sink_init(&sk, d->name, true, out_fd, false, "saving", 0);
		if (ret)
			goto recover_set;
		ret = sink_copy(&sk, d->data_fd, "the data fd", &got);
		if (!ret)
			ret = sink_trailer(&sk);
		if (!ret)
			bundle_writer_member(&bw, &sk.w, sk.trailer);
		bytes[i] = sk.bytes;
		chunks[i] = sk.chunks;
		total += sk.bytes;
		sink_free(&sk);
		/* Read whole: close it before the device leaves stop-copy, as QEMU does. */
		close(d->data_fd);
		d->data_fd = -1;
		if (ret)
			goto recover_set;
	}
	bundle_writer_trailer(&bw, trailer);
	ret = io_write_all(out_fd, trailer, sizeof(trailer));
	if (ret) {
		ret = vm_error(ret, "cannot write", o->output ? o->output : "standard output", NULL, NULL);
		goto recover_set;
	}
	t_read = mono_now();

	/* The bundle is whole from here: devices that miss --then's state do not spoil it. */
	then_ret = devset_plan(&s, want, !o->no_barrier, &then_plan);
	if (!then_ret)
		then_ret = devset_run(&s, &then_plan);
	t_done = mono_now();
	if (o->output) {
		ret = out_file_commit(&of);
		if (ret) {
			ret = vm_error(ret, "cannot write", o->output, NULL, NULL);
			goto free_writer;
		}
	}

	out_arr_open("devices");
	for (i = 0; i < s.n; i++) {
		out_obj_open(NULL);
		out_str("device", "saved %s:", s.dev[i].name);
		out_u64("bytes", " %" PRIu64 " bytes", bytes[i]);
		out_text(" (%s)", fmt_size(bytes[i], size, sizeof(size)));
		out_u64("chunks", " in %" PRIu64 " chunks", chunks[i]);
		if (dev_get_state(&s.dev[i], &final))
			out_null("state", "; device left in unknown\n");
		else
			out_str("state", "; device left in %s\n", mig_state_name(final));
		out_obj_close();
	}
	out_arr_close();
	out_u64("members", "bundle of %" PRIu64 " devices:", (uint64_t)s.n);
	out_u64("bytes", " %" PRIu64 " bytes", total);
	out_str("file", " to %s", o->output ? o->output : "-");
	out_dbl("seconds", ", %.3f s", t_read - t_stopped);
	out_dbl("throughput_bps", NULL, t_read > t_stopped ? total / (t_read - t_stopped) : 0);
	out_text(", %.1f MiB/s\n", t_read > t_stopped ? total / (t_read - t_stopped) / (1 << 20) : 0);
	out_obj_open("downtime_us");
	out_u64("enter", "downtime: enter stop-copy %" PRIu64 " us", (t_stopped - t_start) * 1e6);
	out_u64("read", ", read %" PRIu64 " us", (t_read - t_stopped) * 1e6);
	out_u64("leave", ", leave %" PRIu64 " us", (t_done - t_read) * 1e6);
	out_u64("total", " (total %" PRIu64 " us)\n", (t_done - t_start) * 1e6);
	out_obj_close();
	if (then_ret)
		vm_note("the bundle is complete in %s; only moving the devices to %s failed",
			o->output ? o->output : "standard output", mig_state_name(o->then));
	devset_print_outcome(&s, !o->no_barrier, &stop_plan, &then_plan, then_ret, o->then);
	ret = then_ret;
	goto free_writer;

recover_set:
	vm_note("returning every device to where it started");
	devset_return(&s, s.start);
abort_file:
	if (o->output)
		out_file_abort(&of);
	else
		vm_note("the bundle on standard output is incomplete and will fail verification");
free_writer:
	bundle_writer_free(&bw);
close_set:
	devset_close(&s);
	return ret;
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
	int ret, then_ret, out_fd = STDOUT_FILENO;
	bool held_stream;
	int optind = vm_getopt(&cmd_save, argc, argv, save_option, &o);

	if (optind < 0)
		return optind;
	if (argc - optind < 1)
		return vm_operands(&cmd_save, argc, argv, optind, 1);
	if (o.precopy_only && !o.precopy)
		return vm_usage("save: %s needs --precopy", o.precopy_only);
	if (!o.output && isatty(STDOUT_FILENO))
		return vm_usage("save: refusing to write binary data to a terminal; redirect standard output or use -o FILE");
	/* With the blob on stdout, the report goes to stderr. */
	if (!o.output)
		out_begin(stderr);
	io_catch_signals();
	if (argc - optind > 1)
		return save_many(argv + optind, argc - optind, &o);
	if (o.no_barrier)
		vm_note("--no-p2p-barrier has no effect on one device");

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
	ret = sink_init(&s, d.name, true, out_fd, o.raw, "saving", estimate);
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
	ret = sink_copy(&s, d.data_fd, "the data fd", &st.stop_copy_bytes);
	if (!ret)
		ret = sink_trailer(&s);
	st.t_read = mono_now();
	/* The stream is read: close it before the device leaves stop-copy, as QEMU does. */
	close(d.data_fd);
	d.data_fd = -1;
	if (ret)
		goto recover_dev;
	/* The blob is whole from here: a device that misses --then's state does not spoil it. */
	then_ret = dev_set_state(&d, o.then, NULL);
	st.t_done = mono_now();
	if (o.output) {
		ret = out_file_commit(&of);
		if (ret) {
			ret = vm_error(ret, "cannot write", o.output, NULL, NULL);
			goto free_sink;
		}
	}
	ret = dev_get_state(&d, &final);
	report(&d, &o, &s, &st, ret ? MIG_NUM_STATES : final); /* "unknown" */
	if (then_ret)
		vm_note("the blob of %s is complete in %s; only moving the device to %s failed",
			d.name, o.output ? o.output : "standard output", mig_state_name(o.then));
	else if (!ret)
		dev_note_closes(&d, final);
	ret = then_ret ? then_ret : ret;
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
