// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig blob inspect`: what a blob holds and whether every byte of it checks out, without a device. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "io.h"
#include "mig.h"
#include "output.h"
#include "vfiomig.h"

static int run_inspect(int argc, char **argv);

static const struct vm_cmd cmd_blob_inspect = {
	.name = "inspect",
	.run = run_inspect,
	.args = "FILE",
	.summary = "show a blob's header and verify its checksums",
	.help = "Prints the header (source device, IDs, driver, migration flags, kernel,\n"
		"tool, time), the chunk count and sizes, and a verdict. A corrupt or\n"
		"truncated blob names the part and the field and exits with status 4.\n"
		"FILE '-' reads standard input.\n",
};

static const struct vm_cmd *const blob_subcommands[] = { &cmd_blob_inspect, NULL };

const struct vm_cmd cmd_blob = {
	.name = "blob",
	.sub = blob_subcommands,
	.summary = "work with saved blobs, offline",
};

static void show_header(const struct blob_header *h)
{
	char flags[64], when[32];
	time_t t = h->time;
	struct tm tm;

	out_u64("version", "format       vfiomig blob version %" PRIu64 "\n", h->version);
	out_str("source", "source       %s", h->dev_name);
	out_str("driver", " (driver %s)\n", h->driver);
	out_hex("vendor_id", "ids          %04" PRIx64, h->vendor);
	out_hex("device_id", ":%04" PRIx64, h->device);
	out_hex("subsystem_vendor_id", " subsystem %04" PRIx64, h->subsys_vendor);
	out_hex("subsystem_device_id", ":%04" PRIx64, h->subsys_device);
	out_hex("class_code", " class %06" PRIx64 "\n", h->class_code);
	if (h->mdev_type[0])
		out_str("mdev_type", "mdev type    %s\n", h->mdev_type);
	out_str("migration_flags", "migration    %s\n", mig_flags_str(h->mig_flags, flags, sizeof(flags)));
	out_str("kernel", "kernel       %s\n", h->kernel);
	out_str("tool", "tool         %s\n", h->tool);
	if (gmtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		out_str("saved", "saved        %s\n", when);
	out_s64("time", NULL, h->time);
}

static int run_inspect(int argc, char **argv)
{
	struct blob_src src = { io_fd_read, NULL };
	struct blob_reader r = { 0 };
	struct blob_header h;
	const void *data;
	const char *path;
	size_t len;
	int fd = STDIN_FILENO, ret;

	int optind = vm_getopt(&cmd_blob_inspect, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_blob_inspect, argc, argv, optind, 1);
	if (ret)
		return ret;
	path = argv[optind];
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return vm_error(errno, "cannot open", path, NULL, NULL);
	}
	src.ctx = &fd;
	out_str("file", "blob         %s\n", path);
	ret = blob_reader_open(&r, &src, &h);
	if (!ret) {
		show_header(&h);
		while ((ret = blob_reader_next(&r, &data, &len)) > 0)
			;
	}
	out_u64("chunks", "chunks       %" PRIu64, r.chunks);
	out_u64("largest_chunk", " (largest %" PRIu64 " bytes)\n", r.max_chunk);
	out_u64("stream_bytes", "stream       %" PRIu64 " bytes\n", r.bytes);
	if (ret == 0) {
		out_bool("valid", NULL, true);
		out_str("verdict", "verdict      %s\n", "ok");
	} else {
		out_bool("valid", NULL, false);
		out_str("verdict", "verdict      %s", ret == -EBADMSG ? r.err.msg : vm_strerror(ret));
		out_u64("error_offset", " (offset %" PRIu64 ")\n", r.err.offset);
		ret = ret == -EBADMSG ? vm_error(EBADMSG, "invalid blob", path, NULL, "%s", r.err.msg)
				      : vm_error(ret, "cannot read", path, NULL, NULL);
	}
	blob_reader_close(&r);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
