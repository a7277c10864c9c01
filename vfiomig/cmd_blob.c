// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig blob inspect`: what a blob holds and whether every byte of it checks out, without a device; the blob command table. */
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
#include "mlx5.h"
#include "output.h"
#include "vfiomig.h"

static int run_inspect(int argc, char **argv);

static const struct option inspect_options[] = {
	{ "records", required_argument, NULL, 'r' },
	{ 0 }
};

static const struct vm_cmd cmd_blob_inspect = {
	.name = "inspect",
	.run = run_inspect,
	.args = "FILE [--records auto|mlx5|none]",
	.longopts = inspect_options,
	.summary = "show a blob's header and verify its checksums",
	.help = "Prints the header (source device, IDs, driver, migration flags, kernel,\n"
		"tool, time), the chunk count and sizes, and a verdict. A corrupt or\n"
		"truncated blob names the part and the field and exits with status 4.\n"
		"FILE '-' reads standard input.\n"
		"\n"
		"  --records FORMAT  decode the driver's records inside the stream:\n"
		"                    mlx5 (mlx5_vfio_pci's: size, mandatory or optional,\n"
		"                    FW_DATA or STOP_COPY_SIZE and its value), none, or\n"
		"                    auto (default: mlx5 when the blob comes from\n"
		"                    mlx5_vfio_pci). A malformed record exits with 4.\n",
};

/* In cmd_pack.c: the raw stream into a blob and back. */
extern const struct vm_cmd cmd_blob_pack, cmd_blob_unpack;

static const struct vm_cmd *const blob_subcommands[] = {
	&cmd_blob_inspect, &cmd_blob_pack, &cmd_blob_unpack, NULL
};

const struct vm_cmd cmd_blob = {
	.name = "blob",
	.sub = blob_subcommands,
	.summary = "work with saved blobs, offline",
};

/* The most records listed one by one; the counts cover them all. */
#define RECORDS_LISTED 1000

static int records_option(int c, const char *arg, void *data)
{
	int *mode = data;

	if (c != 'r')
		return -EINVAL;
	if (!strcmp(arg, "auto"))
		*mode = -1;
	else if (!strcmp(arg, "mlx5"))
		*mode = 1;
	else if (!strcmp(arg, "none"))
		*mode = 0;
	else
		return vm_usage("blob inspect: invalid --records '%s': use auto, mlx5 or none", arg);
	return 0;
}

static void show_record(const struct mlx5_record *r, void *ctx)
{
	uint64_t *listed = ctx;

	if ((*listed)++ >= RECORDS_LISTED)
		return;
	out_obj_open(NULL);
	out_u64("offset", NULL, r->offset);
	out_u64("size", NULL, r->size);
	out_str("flags", NULL, r->flags & MLX5_REC_FLAG_OPTIONAL ? "optional" : "mandatory");
	out_str("tag", NULL, mlx5_tag_name(r->tag));
	if (r->tag == MLX5_REC_TAG_STOP_COPY_SIZE)
		out_u64("stop_copy_size", NULL, r->stop_copy_size);
	out_obj_close();
}

static void show_records(const struct mlx5_decoder *m, int ret)
{
	out_u64("records", "mlx5 records %" PRIu64, m->records);
	out_u64("fw_data", " (FW_DATA %" PRIu64, m->fw_data);
	out_u64("fw_data_bytes", ": %" PRIu64 " bytes", m->fw_bytes);
	out_u64("stop_copy_size_records", ", STOP_COPY_SIZE %" PRIu64, m->stop_copy_records);
	if (m->stop_copy_records)
		out_u64("stop_copy_size", ": last %" PRIu64 " bytes", m->last_stop_copy_size);
	out_text(")\n");
	out_bool("valid", NULL, !ret);
	if (ret)
		out_str("error", "mlx5 verdict %s\n", m->why);
}

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

/* One member's (or a blob's) chunks: counted, checked, and their driver records decoded. */
static int inspect_stream(struct bundle_reader *b, const struct blob_header *h, int records,
			  struct mlx5_decoder *m, int *mret)
{
	uint64_t listed = 0;
	const void *data;
	size_t len;
	int ret;

	if (records < 0)
		records = !strcmp(h->driver, "mlx5_vfio_pci");
	mlx5_decoder_init(m);
	if (records) {
		out_obj_open("mlx5");
		out_arr_open("list");
	}
	while ((ret = bundle_reader_next(b, &data, &len)) > 0)
		if (records && !*mret)
			*mret = mlx5_decoder_feed(m, data, len, show_record, &listed);
	if (records) {
		out_arr_close();
		if (!*mret && !ret)
			*mret = mlx5_decoder_finish(m);
		show_records(m, *mret);
		out_obj_close();
	}
	out_u64("chunks", "chunks       %" PRIu64, b->r.chunks);
	out_u64("largest_chunk", " (largest %" PRIu64 " bytes)\n", b->r.max_chunk);
	out_u64("stream_bytes", "stream       %" PRIu64 " bytes\n", b->r.bytes);
	return ret;
}

static void show_bundle(const struct bundle_reader *b)
{
	char when[32];
	time_t t = b->time;
	struct tm tm;

	out_str("format", "format       vfiomig %s", "bundle");
	out_u64("version", " version %" PRIu64 "\n", BUNDLE_VERSION);
	out_u64("member_count", "members      %" PRIu64 "\n", b->count);
	out_str("tool", "tool         %s\n", b->tool);
	if (gmtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		out_str("saved", "saved        %s\n", when);
	out_s64("time", NULL, b->time);
}

static int run_inspect(int argc, char **argv)
{
	struct blob_src src = { io_fd_read, NULL };
	struct bundle_reader b = { 0 };
	struct mlx5_decoder m;
	const struct blob_error *err;
	const char *path;
	uint32_t idx;
	int fd = STDIN_FILENO, ret, mret = 0, records = -1;
	bool in_members = false;
	int optind = vm_getopt(&cmd_blob_inspect, argc, argv, records_option, &records);

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
	mlx5_decoder_init(&m);
	ret = bundle_reader_open(&b, &src);
	if (!ret && b.bundle) {
		show_bundle(&b);
		out_arr_open("members");
		in_members = true;
	}
	/* Malformed records end their decoding, not the check of every checksum. */
	while (!ret && (ret = bundle_reader_member(&b, &idx)) > 0) {
		if (b.bundle) {
			out_obj_open(NULL);
			out_u64("member", "\nmember %" PRIu64 "\n", idx);
		}
		show_header(&b.members[idx]);
		ret = inspect_stream(&b, &b.members[idx], records, &m, &mret);
		if (b.bundle)
			out_obj_close();
	}
	if (in_members)
		out_arr_close();
	if (!b.bundle && ret < 0 && !b.in_member) {
		/* A blob that failed before its first chunk: no counts to show yet. */
		out_u64("chunks", "chunks       %" PRIu64, 0);
		out_u64("largest_chunk", " (largest %" PRIu64 " bytes)\n", 0);
		out_u64("stream_bytes", "stream       %" PRIu64 " bytes\n", 0);
	}
	if (b.bundle)
		out_u64("stream_bytes_total", "\nstreams      %" PRIu64 " bytes in all\n", b.bytes);
	err = bundle_reader_error(&b);
	if (ret == 0) {
		out_bool("valid", NULL, true);
		out_str("verdict", "verdict      %s\n", "ok");
		if (mret)
			ret = vm_error(EBADMSG, "malformed mlx5 records in", path, NULL, "%s", m.why);
	} else {
		out_bool("valid", NULL, false);
		out_str("verdict", "verdict      %s", ret == -EBADMSG ? err->msg : vm_strerror(ret));
		out_u64("error_offset", " (offset %" PRIu64 ")\n", err->offset);
		ret = ret == -EBADMSG ? vm_error(EBADMSG, "invalid blob", path, NULL, "%s", err->msg)
				      : vm_error(ret, "cannot read", path, NULL, NULL);
	}
	bundle_reader_close(&b);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
