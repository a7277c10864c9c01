// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig save`: walk a device to stop-copy, read its state to the end and write it as a checked blob. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "dev.h"
#include "io.h"
#include "mig.h"
#include "output.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_save(int argc, char **argv);

enum { OPT_RAW = 256, OPT_THEN };

static const struct option save_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "then", required_argument, NULL, OPT_THEN },
	{ 0 }
};

const struct vm_cmd cmd_save = {
	.name = "save",
	.run = run_save,
	.args = "DEV [-o FILE] [--raw] [--then stop|running]",
	.summary = "read a device's migration state into a blob",
	.help = "Moves the device to stop-copy, reads its state to the end of the stream\n"
		"and writes a vfiomig blob (header with the source's identity, checksummed\n"
		"chunks, trailer) to standard output or FILE.\n"
		"\n"
		"  -o, --output FILE  write FILE; it appears only once complete\n"
		"      --raw          write the bare device stream, without framing\n"
		"      --then STATE   leave the device in stop (default) or running\n"
		"\n"
		"Bytes, throughput and downtime go to stderr (or stdout with -o).\n",
	.shortopts = "o:",
	.longopts = save_options,
};

struct save_opts {
	const char *output;
	bool raw;
	enum mig_state then;
};

static int save_option(int c, const char *arg, void *data)
{
	struct save_opts *o = data;

	switch (c) {
	case 'o':
		o->output = arg;
		return 0;
	case OPT_RAW:
		o->raw = true;
		return 0;
	case OPT_THEN:
		return dev_parse_then(arg, &o->then);
	default:
		return -EINVAL;
	}
}

struct save_stats {
	uint64_t bytes, chunks;
	double t_start, t_stopped, t_read, t_done;
};

/* Copies the data fd to OUT until the end of the stream, framing it unless raw. */
static int copy_stream(struct vm_dev *d, int data_fd, int out, bool raw, uint64_t estimate,
		       struct save_stats *st)
{
	uint8_t hdr[BLOB_CHUNK_HDR_SIZE];
	struct blob_writer w;
	struct progress p;
	struct iovec iov[2];
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	buf = malloc(IO_BUF_SIZE);
	if (!buf)
		return vm_error(ENOMEM, "cannot save", d->name, NULL, NULL);
	ret = blob_writer_init(&w);
	if (ret) {
		ret = vm_error(ret, "cannot save", d->name, NULL, NULL);
		goto free_buf;
	}
	progress_init(&p, "saving", d->name, estimate);
	for (;;) {
		n = io_read_full(data_fd, buf, IO_BUF_SIZE);
		if (n < 0) {
			ret = vm_error(n, "cannot read the state of", d->name, NULL,
				       "the data fd failed after %llu bytes: %s",
				       (unsigned long long)st->bytes, vm_strerror(n));
			break;
		}
		if (n == 0)
			break;
		st->bytes += n;
		st->chunks++;
		iov[1] = (struct iovec){ buf, n };
		if (raw) {
			ret = io_writev_all(out, &iov[1], 1);
		} else {
			blob_writer_chunk(&w, buf, n, hdr);
			iov[0] = (struct iovec){ hdr, sizeof(hdr) };
			ret = io_writev_all(out, iov, 2);
		}
		if (ret) {
			ret = vm_error(ret, "cannot write the state of", d->name, NULL,
				       "output failed after %llu bytes: %s",
				       (unsigned long long)st->bytes, vm_strerror(ret));
			break;
		}
		progress_update(&p, st->bytes);
	}
	progress_done(&p);
	if (!ret && !raw) {
		uint8_t trailer[BLOB_TRAILER_SIZE];

		blob_writer_trailer(&w, trailer);
		ret = io_write_all(out, trailer, sizeof(trailer));
		if (ret)
			ret = vm_error(ret, "cannot write the state of", d->name, NULL, NULL);
	}
	blob_writer_free(&w);
free_buf:
	free(buf);
	return ret;
}

/* After a failed save, the device goes back where it was, and we say where it is. */
static void recover(struct vm_dev *d, enum mig_state orig)
{
	enum mig_state s;
	char hint[128];

	if (!dev_set_state(d, orig, NULL) && !dev_get_state(d, &s)) {
		vm_note("%s was returned to %s", d->name, mig_state_name(s));
		return;
	}
	vm_note("%s may be left mid-migration; '%s' returns it to running", d->name,
		dev_reset_hint(d, hint, sizeof(hint)));
}

static void report(const struct vm_dev *d, const struct save_opts *o,
		   const struct save_stats *st, enum mig_state final)
{
	double secs = st->t_read - st->t_stopped;
	char size[32];

	out_str("device", "saved %s:", d->name);
	out_u64("bytes", " %" PRIu64 " bytes", st->bytes);
	out_text(" (%s)", fmt_size(st->bytes, size, sizeof(size)));
	out_u64("chunks", " in %" PRIu64 " chunks", st->chunks);
	out_bool("raw", NULL, o->raw);
	out_str("file", " to %s", o->output ? o->output : "-");
	out_dbl("seconds", ", %.3f s", secs);
	out_dbl("throughput_bps", NULL, secs > 0 ? st->bytes / secs : 0);
	out_text(", %.1f MiB/s\n", secs > 0 ? st->bytes / secs / (1 << 20) : 0);
	out_obj_open("downtime_us");
	out_u64("enter", "downtime: enter stop-copy %" PRIu64 " us", (st->t_stopped - st->t_start) * 1e6);
	out_u64("read", ", read %" PRIu64 " us", (st->t_read - st->t_stopped) * 1e6);
	out_u64("leave", ", leave %" PRIu64 " us", (st->t_done - st->t_read) * 1e6);
	out_u64("total", " (total %" PRIu64 " us)", (st->t_done - st->t_start) * 1e6);
	out_obj_close();
	out_str("state", "; device left in %s\n", mig_state_name(final));
}

static int run_save(int argc, char **argv)
{
	struct save_opts o = { .then = MIG_STOP };
	struct out_file of = { .fd = -1 };
	struct save_stats st = { 0 };
	struct blob_header h;
	uint8_t hdr[BLOB_HEADER_SIZE];
	enum mig_state cur, final;
	uint64_t estimate = 0;
	struct vm_dev d;
	int ret, out_fd = STDOUT_FILENO, data_fd = -1;
	bool held_stream;
	int optind = vm_getopt(&cmd_save, argc, argv, save_option, &o);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_save, argc, argv, optind, 1);
	if (ret)
		return ret;
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
	/* A session that entered stop-copy holds the stream: read it from there. */
	held_stream = cur == MIG_STOP_COPY && d.data_fd >= 0;
	if (!held_stream && (mig_state_saving(cur) || cur == MIG_RESUMING)) {
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

	st.t_start = mono_now();
	if (held_stream) {
		data_fd = d.data_fd;
		d.data_fd = -1;
	} else {
		ret = dev_set_state(&d, MIG_STOP_COPY, &data_fd);
	}
	st.t_stopped = mono_now();
	if (ret)
		goto recover_dev;
	if (data_fd < 0) {
		ret = vm_error(EPROTO, "cannot save", d.name, NULL,
			       "the kernel returned no data fd on entering stop-copy");
		goto recover_dev;
	}
	ret = copy_stream(&d, data_fd, out_fd, o.raw, estimate, &st);
	st.t_read = mono_now();
	close(data_fd);
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
			goto close_dev;
		}
	}
	if (dev_get_state(&d, &final))
		final = o.then;
	report(&d, &o, &st, final);
	dev_note_closes(&d, final);
	goto close_dev;

recover_dev:
	recover(&d, cur);
abort_file:
	if (o.output)
		out_file_abort(&of);
	else if (!o.raw)
		vm_note("the blob on standard output is incomplete and will fail verification");
close_dev:
	dev_close(&d);
	return ret;
}
