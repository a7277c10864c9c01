// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig blob pack` and `blob unpack`: a raw device stream into a checked blob and back, through save's and load's data path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "blob.h"
#include "dev.h"
#include "ident.h"
#include "io.h"
#include "kinfo.h"
#include "output.h"
#include "stream.h"
#include "vfiomig.h"

static int run_pack(int argc, char **argv);
static int run_unpack(int argc, char **argv);

enum {
	OPT_SOURCE = 256, OPT_NAME, OPT_IDS, OPT_CLASS, OPT_DRIVER, OPT_MDEV_TYPE, OPT_MIG_FLAGS,
	OPT_KERNEL, OPT_MEMBER,
};

static const struct option pack_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ids", required_argument, NULL, OPT_IDS },
	{ "class", required_argument, NULL, OPT_CLASS },
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "mdev-type", required_argument, NULL, OPT_MDEV_TYPE },
	{ "migration-flags", required_argument, NULL, OPT_MIG_FLAGS },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ 0 }
};

const struct vm_cmd cmd_blob_pack = {
	.name = "pack",
	.run = run_pack,
	.args = "[FILE] [-o FILE] [--source DEV] [--name NAME] [--ids VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE]] [--class CLASS] [--driver DRIVER] [--mdev-type TYPE] [--migration-flags FLAGS] [--kernel RELEASE]",
	.summary = "wrap a raw device stream into a checked blob",
	.help = "Reads a bare device stream (what 'save --raw' writes, or a stream that\n"
		"QEMU or a driver test captured) from FILE or standard input, and writes\n"
		"it as a vfiomig blob, chunked and checksummed as save writes it, to\n"
		"standard output or -o FILE. FILE '-' is standard input.\n"
		"\n"
		"The header names the source device. Nothing is known about a bare\n"
		"stream, so the identity comes from the options: --source takes it from\n"
		"a device on this host (IDs, class, driver, mdev type, name, this kernel;\n"
		"its migration flags from VFIO's debugfs when the kernel has it), without\n"
		"opening the device; the other options set or override one field each.\n"
		"Fields not given stay empty (IDs 0), and 'load' then refuses the blob\n"
		"without --force.\n"
		"\n"
		"  -o, --output FILE          write FILE; it appears only once complete\n"
		"      --source DEV           the identity of DEV, a device on this host\n"
		"      --name NAME            the source's address or UUID as recorded\n"
		"      --ids VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE]\n"
		"                             PCI IDs in hex, as lspci -n prints them\n"
		"      --class CLASS          the 24-bit PCI class in hex (020000)\n"
		"      --driver DRIVER        the source's driver (mlx5_vfio_pci)\n"
		"      --mdev-type TYPE       the source's mdev type (mtty-2)\n"
		"      --migration-flags FLAGS\n"
		"                             stop-copy,p2p,pre-copy (as blob inspect prints\n"
		"                             them), none, or a number\n"
		"      --kernel RELEASE       the source's kernel release (uname -r)\n"
		"\n"
		"Bytes, chunks and throughput go to stderr (or stdout with -o).\n",
	.shortopts = "o:",
	.longopts = pack_options,
};

static const struct option unpack_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "member", required_argument, NULL, OPT_MEMBER },
	{ 0 }
};

const struct vm_cmd cmd_blob_unpack = {
	.name = "unpack",
	.run = run_unpack,
	.args = "[FILE] [-o FILE] [--member N]",
	.summary = "verify a blob and write its raw device stream",
	.help = "Reads a blob (or a bundle) from FILE or standard input, verifies every\n"
		"chunk as load does, and writes the bare device stream to standard output\n"
		"or -o FILE: what 'save --raw' would have written, for 'load --raw' or a\n"
		"tool that reads a driver's own stream. FILE '-' is standard input.\n"
		"\n"
		"  -o, --output FILE  write FILE; it appears only once the whole input\n"
		"                     checked out, trailer and end included\n"
		"      --member N     the member to write, from 0, of a bundle of several\n"
		"                     devices' states (needed then; blob inspect lists\n"
		"                     them); the other members are verified too\n"
		"\n"
		"Each chunk is verified before it is written. A corrupt or truncated\n"
		"input exits with status 4: with -o nothing appears under FILE; on\n"
		"standard output the chunks before the fault are already written, and a\n"
		"note says how many bytes, so a consumer must check the exit status.\n"
		"Bytes, chunks and throughput go to stderr (or stdout with -o).\n",
	.shortopts = "o:",
	.longopts = unpack_options,
};

/* Which identity fields the options set: they override what --source found. */
enum {
	SET_NAME = 1 << 0, SET_IDS = 1 << 1, SET_SUBSYS = 1 << 2, SET_CLASS = 1 << 3,
	SET_DRIVER = 1 << 4, SET_MDEV_TYPE = 1 << 5, SET_FLAGS = 1 << 6, SET_KERNEL = 1 << 7,
};

struct pack_opts {
	const char *output;
	const char *source;
	struct blob_header h;   /* the fields the options gave */
	unsigned int set;       /* SET_*: which */
};

static int bad_value(const char *opt, const char *arg, const char *why)
{
	return vm_usage("blob pack: invalid %s '%s': %s", opt, arg, why);
}

/* A string field: FIELD of SIZE bytes, marked SET. */
static int str_option(struct pack_opts *o, const char *opt, const char *arg, char *field, size_t size,
		      unsigned int set)
{
	char why[200];

	if (ident_parse_str(arg, field, size, why, sizeof(why)))
		return bad_value(opt, arg, why);
	o->set |= set;
	return 0;
}

static int colons(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == ':';
	return n;
}

static int pack_option(int c, const char *arg, void *data)
{
	struct pack_opts *o = data;
	struct blob_header *h = &o->h;
	char why[200];

	switch (c) {
	case 'o':
		/* "-o -" is standard output, as the tools that take -o FILE have it. */
		o->output = strcmp(arg, "-") ? arg : NULL;
		return 0;
	case OPT_SOURCE:
		o->source = arg;
		return 0;
	case OPT_NAME:
		return str_option(o, "--name", arg, h->dev_name, sizeof(h->dev_name), SET_NAME);
	case OPT_DRIVER:
		return str_option(o, "--driver", arg, h->driver, sizeof(h->driver), SET_DRIVER);
	case OPT_MDEV_TYPE:
		return str_option(o, "--mdev-type", arg, h->mdev_type, sizeof(h->mdev_type), SET_MDEV_TYPE);
	case OPT_KERNEL:
		return str_option(o, "--kernel", arg, h->kernel, sizeof(h->kernel), SET_KERNEL);
	case OPT_IDS:
		if (ident_parse_ids(arg, h, why, sizeof(why)))
			return bad_value("--ids", arg, why);
		o->set |= SET_IDS;
		/* Four fields: the subsystem IDs were given too. */
		if (colons(arg) == 3)
			o->set |= SET_SUBSYS;
		return 0;
	case OPT_CLASS:
		if (ident_parse_class(arg, &h->class_code, why, sizeof(why)))
			return bad_value("--class", arg, why);
		o->set |= SET_CLASS;
		return 0;
	case OPT_MIG_FLAGS:
		if (ident_parse_mig_flags(arg, &h->mig_flags, why, sizeof(why)))
			return bad_value("--migration-flags", arg, why);
		o->set |= SET_FLAGS;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The header: --source's device first, then each field an option set, over it. */
static int pack_identity(const struct pack_opts *o, struct blob_header *h)
{
	const struct blob_header *g = &o->h;
	struct vm_dev d;
	uint64_t flags;
	int ret;

	memset(h, 0, sizeof(*h));
	if (o->source) {
		ret = dev_lookup(o->source, &d);
		if (ret)
			return ret;
		/* Its identity as sysfs tells it: opening a vfio-pci device would reset it. */
		dev_identity(&d, h);
		if (!kinfo_debugfs_features(d.name, &flags))
			h->mig_flags = flags;
	}
	if (o->set & SET_NAME)
		memcpy(h->dev_name, g->dev_name, sizeof(h->dev_name));
	if (o->set & SET_DRIVER)
		memcpy(h->driver, g->driver, sizeof(h->driver));
	if (o->set & SET_MDEV_TYPE)
		memcpy(h->mdev_type, g->mdev_type, sizeof(h->mdev_type));
	if (o->set & SET_KERNEL)
		memcpy(h->kernel, g->kernel, sizeof(h->kernel));
	if (o->set & SET_IDS) {
		h->vendor = g->vendor;
		h->device = g->device;
	}
	if (o->set & SET_SUBSYS) {
		h->subsys_vendor = g->subsys_vendor;
		h->subsys_device = g->subsys_device;
	}
	if (o->set & SET_CLASS)
		h->class_code = g->class_code;
	if (o->set & SET_FLAGS)
		h->mig_flags = g->mig_flags;
	h->version = BLOB_VERSION;
	h->time = time(NULL);
	snprintf(h->tool, sizeof(h->tool), "vfiomig %s", VFIOMIG_VERSION);
	return 0;
}

/* Standard input, or FILE: refused from a terminal, which holds no stream. */
static int open_input(const char *path, const char *cmd, int *fd)
{
	*fd = STDIN_FILENO;
	if (path && strcmp(path, "-")) {
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return vm_error(errno, "cannot open", path, NULL, NULL);
		return 0;
	}
	if (isatty(STDIN_FILENO))
		return vm_usage("%s: refusing to read a stream from a terminal; redirect standard input or give FILE",
				cmd);
	return 0;
}

static void report_rate(uint64_t bytes, double secs)
{
	out_dbl("seconds", ", %.3f s", secs);
	out_dbl("throughput_bps", NULL, secs > 0 ? bytes / secs : 0);
	out_text(", %.1f MiB/s\n", secs > 0 ? bytes / secs / (1 << 20) : 0);
}

static int run_pack(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	struct out_file of = { .fd = -1 };
	struct blob_header h;
	struct sink s = { 0 };
	uint8_t hdr[BLOB_HEADER_SIZE];
	const char *in_name, *out_name;
	int in_fd = -1, out_fd = STDOUT_FILENO, ret, optind;
	uint64_t got;
	double t0;

	optind = vm_getopt(&cmd_blob_pack, argc, argv, pack_option, &o);
	if (optind < 0)
		return optind;
	if (argc - optind > 1)
		return vm_operands(&cmd_blob_pack, argc, argv, optind, 1);
	in_name = optind < argc && strcmp(argv[optind], "-") ? argv[optind] : "standard input";
	if (!o.output && isatty(STDOUT_FILENO))
		return vm_usage("blob pack: refusing to write binary data to a terminal; redirect standard output or use -o FILE");
	ret = pack_identity(&o, &h);
	if (ret)
		return ret;
	ret = open_input(optind < argc ? argv[optind] : NULL, "blob pack", &in_fd);
	if (ret)
		return ret;
	/* With the blob on stdout, the report goes to stderr. */
	if (!o.output)
		out_begin(stderr);
	io_catch_signals();
	out_name = o.output ? o.output : "standard output";
	if (o.output) {
		ret = out_file_open(&of, o.output);
		if (ret) {
			ret = vm_error(ret, "cannot create", o.output, NULL, NULL);
			goto close_input;
		}
		out_fd = of.fd;
	}

	t0 = mono_now();
	blob_header_encode(&h, hdr);
	ret = stream_put_header(out_fd, hdr, out_name);
	if (!ret)
		ret = sink_init(&s, in_name, false, out_fd, false, "packing", 0);
	if (!ret)
		ret = sink_copy(&s, in_fd, in_name, &got);
	if (!ret)
		ret = sink_trailer(&s);
	if (!ret && o.output) {
		ret = out_file_commit(&of);
		if (ret)
			ret = vm_error(ret, "cannot write", o.output, NULL, NULL);
	}
	if (ret) {
		if (o.output)
			out_file_abort(&of);
		else
			vm_note("the blob on standard output is incomplete and will fail verification");
		goto free_sink;
	}
	out_str("input", "packed %s", in_name);
	out_str("source", h.dev_name[0] ? " (source %s)" : NULL, h.dev_name[0] ? h.dev_name : NULL);
	out_u64("bytes", ": %" PRIu64 " bytes", s.bytes);
	out_u64("chunks", " in %" PRIu64 " chunks", s.chunks);
	out_str("file", " to %s", o.output ? o.output : "-");
	report_rate(s.bytes, mono_now() - t0);

free_sink:
	sink_free(&s);
close_input:
	if (in_fd != STDIN_FILENO)
		close(in_fd);
	return ret;
}

struct unpack_opts {
	const char *output;
	long member;            /* -1: not given */
};

static int unpack_option(int c, const char *arg, void *data)
{
	struct unpack_opts *o = data;
	char *end;

	switch (c) {
	case 'o':
		/* "-o -" is standard output, as the tools that take -o FILE have it. */
		o->output = strcmp(arg, "-") ? arg : NULL;
		return 0;
	case OPT_MEMBER:
		errno = 0;
		o->member = strtol(arg, &end, 10);
		if (errno || end == arg || *end || o->member < 0 || o->member >= BUNDLE_MAX ||
		    (arg[0] == '0' && arg[1]))
			return vm_usage("blob unpack: invalid --member '%s': give a member number from 0 to %d",
					arg, BUNDLE_MAX - 1);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Reads the members of B up to their end, writing MEMBER's stream to OUT; the rest are verified only. */
static int unpack_members(struct bundle_reader *b, uint32_t member, const char *src, int out,
			  const char *out_name, uint64_t *bytes, uint64_t *chunks)
{
	const void *data;
	uint32_t idx;
	size_t len;
	int ret;

	while ((ret = bundle_reader_member(b, &idx)) > 0) {
		if (idx == member) {
			/* stream_write() reports its own failures. */
			ret = stream_write(b, -1, src, out, out_name, false, "unpacking", bytes, chunks);
			if (ret)
				return ret;
			continue;
		}
		while ((ret = bundle_reader_next(b, &data, &len)) > 0)
			;
		if (ret < 0)
			break;
	}
	return ret ? stream_invalid(src, b, ret) : 0;
}

static int run_unpack(int argc, char **argv)
{
	struct unpack_opts o = { NULL, -1 };
	struct blob_src src = { io_fd_read, NULL };
	struct out_file of = { .fd = -1 };
	struct bundle_reader b = { 0 };
	const char *in_name, *out_name, *src_name;
	uint64_t bytes = 0, chunks = 0;
	uint32_t member;
	int in_fd = -1, out_fd = STDOUT_FILENO, ret, optind;
	double t0;

	optind = vm_getopt(&cmd_blob_unpack, argc, argv, unpack_option, &o);
	if (optind < 0)
		return optind;
	if (argc - optind > 1)
		return vm_operands(&cmd_blob_unpack, argc, argv, optind, 1);
	in_name = optind < argc && strcmp(argv[optind], "-") ? argv[optind] : "standard input";
	if (!o.output && isatty(STDOUT_FILENO))
		return vm_usage("blob unpack: refusing to write binary data to a terminal; redirect standard output or use -o FILE");
	ret = open_input(optind < argc ? argv[optind] : NULL, "blob unpack", &in_fd);
	if (ret)
		return ret;
	if (!o.output)
		out_begin(stderr);
	io_catch_signals();
	src.ctx = &in_fd;

	t0 = mono_now();
	ret = bundle_reader_open(&b, &src);
	if (ret) {
		ret = stream_invalid(in_name, &b, ret);
		goto close_input;
	}
	if (o.member < 0 && b.count > 1) {
		ret = vm_usage("blob unpack: %s is a bundle of %" PRIu32 " devices' states: choose one with --member N, from 0 to %" PRIu32 " ('vfiomig blob inspect' lists them)",
			       in_name, b.count, b.count - 1);
		goto close_input;
	}
	if (o.member >= (long)b.count) {
		ret = vm_usage("blob unpack: --member %ld: %s holds %" PRIu32 " device state%s (members 0 to %" PRIu32 ")",
			       o.member, in_name, b.count, b.count == 1 ? "" : "s", b.count - 1);
		goto close_input;
	}
	member = o.member < 0 ? 0 : (uint32_t)o.member;
	out_name = o.output ? o.output : "standard output";
	if (o.output) {
		ret = out_file_open(&of, o.output);
		if (ret) {
			ret = vm_error(ret, "cannot create", o.output, NULL, NULL);
			goto close_input;
		}
		out_fd = of.fd;
	}
	ret = unpack_members(&b, member, in_name, out_fd, out_name, &bytes, &chunks);
	if (!ret && o.output) {
		ret = out_file_commit(&of);
		if (ret)
			ret = vm_error(ret, "cannot write", o.output, NULL, NULL);
	}
	if (ret) {
		if (o.output)
			out_file_abort(&of);
		else if (bytes)
			vm_note("standard output got %" PRIu64 " bytes of verified chunks before the fault: the stream there is incomplete",
				bytes);
		goto close_input;
	}
	out_str("file", "unpacked %s", in_name);
	out_u64("member", b.bundle ? " member %" PRIu64 : NULL, member);
	out_u64("member_count", NULL, b.count);
	src_name = b.members[member].dev_name;
	out_str("source", src_name[0] ? " (saved from %s)" : NULL, src_name[0] ? src_name : NULL);
	out_u64("bytes", ": %" PRIu64 " bytes", bytes);
	out_u64("chunks", " in %" PRIu64 " chunks", chunks);
	out_str("output", " to %s", o.output ? o.output : "-");
	report_rate(bytes, mono_now() - t0);

close_input:
	bundle_reader_close(&b);
	if (in_fd != STDIN_FILENO)
		close(in_fd);
	return ret;
}
