// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig load`: check a blob, then write its stream into a device in resuming and bring it to stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "dev.h"
#include "io.h"
#include "mig.h"
#include "output.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_load(int argc, char **argv);

enum { OPT_RAW = 256, OPT_FORCE, OPT_THEN };

static const struct option load_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "then", required_argument, NULL, OPT_THEN },
	{ 0 }
};

const struct vm_cmd cmd_load = {
	.name = "load",
	.run = run_load,
	.args = "DEV [-i FILE] [--raw] [--force] [--then stop|running]",
	.summary = "write a saved migration state into a device",
	.help = "Reads a blob from standard input or FILE, checks it, moves the device to\n"
		"resuming, writes the stream and moves the device to stop, where the driver\n"
		"accepts or rejects the data.\n"
		"\n"
		"  -i, --input FILE  read FILE; every checksum is verified before the\n"
		"                    device is touched\n"
		"      --raw         the input is a bare device stream, not a blob\n"
		"      --force       load a blob saved from a different kind of device\n"
		"      --then STATE  leave the device in stop (default) or running\n"
		"\n"
		"From a pipe each chunk is verified before it is written; on a bad or short\n"
		"stream vfiomig stops writing and resets the device.\n",
	.shortopts = "i:",
	.longopts = load_options,
};

struct load_opts {
	const char *input;
	bool raw, force;
	enum mig_state then;
};

static int load_option(int c, const char *arg, void *data)
{
	struct load_opts *o = data;

	switch (c) {
	case 'i':
		o->input = arg;
		return 0;
	case OPT_RAW:
		o->raw = true;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_THEN:
		return dev_parse_then(arg, &o->then);
	default:
		return -EINVAL;
	}
}

static int blob_invalid(const char *src, const struct blob_reader *r, int ret)
{
	if (ret == -EBADMSG)
		return vm_error(EBADMSG, "invalid blob", src, NULL, "%s", r->err.msg);
	return vm_error(ret, "cannot read", src, NULL, NULL);
}

/* Reads the whole blob once to check every checksum; the device is not touched yet. */
static int verify_all(struct blob_reader *r, const char *src)
{
	const void *data;
	size_t len;
	int ret;

	while ((ret = blob_reader_next(r, &data, &len)) > 0)
		;
	return ret ? blob_invalid(src, r, ret) : 0;
}

/* What differs between the blob's source and the target, as "vendor 0x15b3 != 0x8086, ..." */
static int compare_identity(const struct blob_header *src, const struct blob_header *dst,
			    char *buf, size_t len)
{
	size_t off = 0;

#define DIFF_NUM(field, label)                                                         \
	if (src->field != dst->field && off < len)                                     \
		off += snprintf(buf + off, len - off, "%s%s 0x%04x in the blob, 0x%04x here", \
				off ? ", " : "", label, (unsigned)src->field, (unsigned)dst->field)
#define DIFF_STR(field, label)                                                         \
	if (strcmp(src->field, dst->field) && off < len)                               \
		off += snprintf(buf + off, len - off, "%s%s '%s' in the blob, '%s' here",      \
				off ? ", " : "", label, src->field, dst->field)
	DIFF_NUM(vendor, "vendor");
	DIFF_NUM(device, "device");
	DIFF_NUM(subsys_vendor, "subsystem vendor");
	DIFF_NUM(subsys_device, "subsystem device");
	DIFF_STR(driver, "driver");
	DIFF_STR(mdev_type, "mdev type");
#undef DIFF_NUM
#undef DIFF_STR
	return off > 0;
}

/* A failure after the device entered resuming: reset it, and say what it is now. */
static void reset_after_failure(struct vm_dev *d)
{
	enum mig_state s;
	char hint[128];

	if (vfio_device_reset(d->fd)) {
		vm_note("%s could not be reset either; try '%s' or rebinding its driver", d->name,
			dev_reset_hint(d, hint, sizeof(hint)));
		return;
	}
	if (!vfio_mig_get_state(d->fd, &s))
		vm_note("%s was reset and is now in %s; nothing of the blob was kept", d->name,
			mig_state_name(s));
}

struct load_stats {
	uint64_t bytes, chunks;
	double t_start, t_written, t_done;
};

/* Streams the chunks (or the raw input) into the data fd. */
static int write_stream(struct vm_dev *d, struct blob_reader *r, int in_fd, bool raw,
			const char *src, int data_fd, struct load_stats *st)
{
	struct progress p;
	const void *data;
	uint8_t *buf = NULL;
	size_t len;
	ssize_t n;
	int ret;

	progress_init(&p, "loading", d->name, 0);
	if (raw) {
		buf = malloc(IO_BUF_SIZE);
		if (!buf)
			return vm_error(ENOMEM, "cannot load", d->name, NULL, NULL);
	}
	for (;;) {
		if (raw) {
			n = io_read_full(in_fd, buf, IO_BUF_SIZE);
			if (n < 0) {
				ret = vm_error(n, "cannot read", src, NULL, NULL);
				break;
			}
			data = buf;
			len = n;
			ret = n > 0;
		} else {
			ret = blob_reader_next(r, &data, &len);
			if (ret < 0) {
				ret = blob_invalid(src, r, ret);
				break;
			}
		}
		if (ret == 0)
			break;
		ret = io_write_all(data_fd, data, len);
		if (ret) {
			ret = vm_error(ret, "cannot write the state into", d->name, NULL,
				       "the driver refused the data after %llu bytes: %s",
				       (unsigned long long)st->bytes, vm_strerror(ret));
			break;
		}
		st->bytes += len;
		st->chunks++;
		progress_update(&p, st->bytes);
	}
	progress_done(&p);
	free(buf);
	return ret;
}

static int run_load(int argc, char **argv)
{
	struct load_opts o = { .then = MIG_STOP };
	struct blob_header h, mine;
	struct blob_reader r = { 0 };
	struct blob_src src = { io_fd_read, NULL };
	struct load_stats st = { 0 };
	const char *name;
	char diff[512];
	enum mig_state cur, final;
	struct vm_dev d;
	struct stat sb;
	int in_fd = STDIN_FILENO, data_fd = -1, ret;
	int optind = vm_getopt(&cmd_load, argc, argv, load_option, &o);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_load, argc, argv, optind, 1);
	if (ret)
		return ret;
	if (!o.input && isatty(STDIN_FILENO))
		return vm_usage("load: refusing to read a blob from a terminal; redirect standard input or use -i FILE");
	name = o.input ? o.input : "standard input";
	ret = dev_lookup(argv[optind], &d);
	if (ret)
		return ret;
	if (o.input) {
		in_fd = open(o.input, O_RDONLY | O_CLOEXEC);
		if (in_fd < 0)
			return vm_error(errno, "cannot open", o.input, NULL, NULL);
	}
	io_catch_signals();
	src.ctx = &in_fd;

	if (!o.raw) {
		ret = blob_reader_open(&r, &src, &h);
		if (ret) {
			ret = blob_invalid(name, &r, ret);
			goto close_input;
		}
		/* A file can be read twice: check it all before the device is touched. */
		if (!fstat(in_fd, &sb) && S_ISREG(sb.st_mode)) {
			ret = verify_all(&r, name);
			blob_reader_close(&r);
			if (ret)
				goto close_input;
			ret = lseek(in_fd, 0, SEEK_SET) < 0 ? -errno : blob_reader_open(&r, &src, &h);
			if (ret) {
				ret = blob_invalid(name, &r, ret);
				goto close_input;
			}
		}
		dev_identity(&d, &mine);
		if (compare_identity(&h, &mine, diff, sizeof(diff))) {
			if (!o.force) {
				ret = vm_error(EMEDIUMTYPE, "refusing to load", name,
					       "--force loads it anyway, if you know the driver accepts it",
					       "it was saved from %s, a different kind of device than %s: %s",
					       h.dev_name, d.name, diff);
				goto close_reader;
			}
			vm_note("loading a blob from a different kind of device (--force): %s", diff);
		}
	}

	ret = dev_open_mig(&d, &cur);
	if (ret)
		goto close_reader;
	st.t_start = mono_now();
	if (cur != MIG_STOP) {
		ret = dev_set_state(&d, MIG_STOP, NULL);
		if (ret)
			goto close_dev;
	}
	ret = dev_set_state(&d, MIG_RESUMING, &data_fd);
	if (ret)
		goto close_dev;
	if (data_fd < 0) {
		ret = vm_error(EPROTO, "cannot load", d.name, NULL,
			       "the kernel returned no data fd on entering resuming");
		goto reset_dev;
	}
	ret = write_stream(&d, &r, in_fd, o.raw, name, data_fd, &st);
	/* Like QEMU, close the data fd before leaving resuming. */
	close(data_fd);
	st.t_written = mono_now();
	if (ret)
		goto reset_dev;
	ret = dev_set_state(&d, MIG_STOP, NULL);
	if (ret) {
		vm_note("the driver of %s rejected the state it was given", d.name);
		goto reset_dev;
	}
	if (o.then != MIG_STOP) {
		ret = dev_set_state(&d, o.then, NULL);
		if (ret)
			goto close_dev;
	}
	st.t_done = mono_now();
	if (dev_get_state(&d, &final))
		final = o.then;
	out_str("device", "loaded %s:", d.name);
	out_u64("bytes", " %" PRIu64 " bytes", st.bytes);
	out_u64("chunks", " in %" PRIu64 " chunks", st.chunks);
	out_str("file", " from %s", o.input ? o.input : "-");
	out_bool("raw", NULL, o.raw);
	out_dbl("seconds", ", %.3f s", st.t_done - st.t_start);
	out_str("state", "; device left in %s\n", mig_state_name(final));
	dev_note_closes(&d, final);
	goto close_dev;

reset_dev:
	reset_after_failure(&d);
close_dev:
	dev_close(&d);
close_reader:
	blob_reader_close(&r);
close_input:
	if (o.input)
		close(in_fd);
	return ret;
}
