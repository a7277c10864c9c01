// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig dirty start|report|stop|watch|decode`: DMA dirty logging with the kernel's rules checked first, bitmaps decoded and every driver error explained. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bitmap.h"
#include "dev.h"
#include "io.h"
#include "output.h"
#include "ranges.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

/* The page size asked for when none is given: the smallest REPORT takes, and what QEMU asks on x86. */
#define DEFAULT_PAGE 4096ULL
#define DEFAULT_MAX_EXTENTS 100

static int run_start(int argc, char **argv);
static int run_report(int argc, char **argv);
static int run_stop(int argc, char **argv);
static int run_watch(int argc, char **argv);
static int run_decode(int argc, char **argv);

enum {
	OPT_RANGE = 256,
	OPT_PAGE_SIZE,
	OPT_BITMAP_OUT,
	OPT_COUNT,
	OPT_INTERVAL,
	OPT_IOVA,
	OPT_LENGTH,
	OPT_MAX_EXTENTS,
};

#define RANGE_OPT { "range", required_argument, NULL, OPT_RANGE }
#define PAGE_SIZE_OPT { "page-size", required_argument, NULL, OPT_PAGE_SIZE }
#define MAX_EXTENTS_OPT { "max-extents", required_argument, NULL, OPT_MAX_EXTENTS }

static const struct option start_options[] = { RANGE_OPT, PAGE_SIZE_OPT, { 0 } };

static const struct option report_options[] = {
	RANGE_OPT,
	PAGE_SIZE_OPT,
	{ "bitmap-out", required_argument, NULL, OPT_BITMAP_OUT },
	MAX_EXTENTS_OPT,
	{ 0 }
};

static const struct option watch_options[] = {
	RANGE_OPT,
	PAGE_SIZE_OPT,
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	MAX_EXTENTS_OPT,
	{ 0 }
};

static const struct option decode_options[] = {
	{ "iova", required_argument, NULL, OPT_IOVA },
	PAGE_SIZE_OPT,
	{ "length", required_argument, NULL, OPT_LENGTH },
	MAX_EXTENTS_OPT,
	{ 0 }
};

#define HELP_RANGE \
	"  --range IOVA,LEN     an IOVA range (repeat for more); numbers take K, M, G,\n" \
	"                       T suffixes and 0x hex: --range 0x100000,2M\n"
#define HELP_MAX_EXTENTS \
	"  --max-extents N      list at most N extents (default 100; 0: all)\n"
#define HELP_CLOSE \
	"Closing a VFIO device stops its logging: unless a session holds the device,\n" \
	"logging ends when vfiomig exits. 'vfiomig dirty watch' starts, reports and\n" \
	"stops in one run.\n"

static const struct vm_cmd cmd_dirty_start = {
	.name = "start",
	.run = run_start,
	.args = "DEV --range IOVA,LEN [--range IOVA,LEN ...] [--page-size SIZE]",
	.summary = "start DMA dirty logging on a device",
	.help = "Asks the driver to log the device's DMA writes in the ranges and prints\n"
		"the page size it chose. The ranges are checked against the kernel's rules\n"
		"first (page-aligned, not empty, not overlapping, at most 256, below 2^64).\n"
		"\n"
		HELP_RANGE
		"  --page-size SIZE     the page size to ask for (default 4K), a power of two;\n"
		"                       the driver may choose another\n"
		"\n"
		HELP_CLOSE,
	.longopts = start_options,
};

static const struct vm_cmd cmd_dirty_report = {
	.name = "report",
	.run = run_report,
	.args = "DEV --range IOVA,LEN [--range IOVA,LEN ...] [--page-size SIZE] [--bitmap-out FILE] [--max-extents N]",
	.summary = "read and clear the pages a device dirtied",
	.help = "Reads and clears the log of each range and prints the dirty pages: their\n"
		"count, their ratio, and the dirty extents (runs of dirty pages as IOVA\n"
		"ranges). Logging must be running, started in the process that holds the\n"
		"device. When a report fails the log is lost: treat the ranges as dirty.\n"
		"\n"
		HELP_RANGE
		"  --page-size SIZE     the bitmap's page size (default 4K), a power of two of\n"
		"                       at least 4K; it need not be the one logging uses\n"
		"  --bitmap-out FILE    also write the raw bitmap (one --range only), for\n"
		"                       'vfiomig dirty decode'\n"
		HELP_MAX_EXTENTS,
	.longopts = report_options,
};

static const struct vm_cmd cmd_dirty_stop = {
	.name = "stop",
	.run = run_stop,
	.args = "DEV",
	.summary = "stop DMA dirty logging on a device",
	.help = "Stops the logging 'dirty start' began; a driver that is not logging takes\n"
		"it as a no-op. Closing the device stops logging too.\n",
};

static const struct vm_cmd cmd_dirty_watch = {
	.name = "watch",
	.run = run_watch,
	.args = "DEV --range IOVA,LEN [--range IOVA,LEN ...] [--page-size SIZE] [--count N] [--interval SECONDS] [--max-extents N]",
	.summary = "start logging, report at intervals, then stop",
	.help = "Starts DMA dirty logging, reports right away and then after every\n"
		"interval, and stops logging at the end, holding the device all along:\n"
		"the log as a migration's pre-copy phase reads it. Ctrl-C ends it cleanly.\n"
		"\n"
		HELP_RANGE
		"  --page-size SIZE     the page size to ask for (default 4K); the reports use\n"
		"                       the one the driver chose\n"
		"  --count N            stop after N reports (default 0: until interrupted)\n"
		"  --interval SECONDS   the time between reports (default 1; 0.5 works)\n"
		HELP_MAX_EXTENTS,
	.longopts = watch_options,
};

static const struct vm_cmd cmd_dirty_decode = {
	.name = "decode",
	.run = run_decode,
	.args = "FILE --iova IOVA --page-size SIZE [--length LEN] [--max-extents N]",
	.summary = "decode a saved dirty bitmap offline",
	.help = "Decodes a bitmap written by 'dirty report --bitmap-out', or any\n"
		"DMA_LOGGING_REPORT bitmap (little-endian u64 words, bit i for page i),\n"
		"and prints what report prints. No device is opened. FILE - reads\n"
		"standard input.\n"
		"\n"
		"  --iova IOVA          the IOVA of the first page (bit 0)\n"
		"  --page-size SIZE     the size of a page: a power of two of at least 4K\n"
		"  --length LEN         the range's length (default: every bit of the file)\n"
		HELP_MAX_EXTENTS,
	.longopts = decode_options,
};

static const struct vm_cmd *const dirty_subcommands[] = {
	&cmd_dirty_start, &cmd_dirty_report, &cmd_dirty_stop, &cmd_dirty_watch, &cmd_dirty_decode,
	NULL,
};

const struct vm_cmd cmd_dirty = {
	.name = "dirty",
	.sub = dirty_subcommands,
	.summary = "DMA dirty logging: start, report, stop, watch, decode",
};

/* ---- Options ---- */

struct dirty_opts {
	struct dirty_range *r;
	size_t n, cap;
	uint64_t page_size;
	bool page_size_set;
	const char *bitmap_out;
	uint64_t count;
	double interval;
	uint64_t iova, length;
	bool iova_set, length_set;
	uint64_t max_extents;
};

static int parse_num(const char *opt, const char *arg, uint64_t *v, const char *expected)
{
	unsigned long long x;
	int ret = parse_size(arg, &x);

	if (ret == -ERANGE)
		return vm_usage("%s: invalid %s '%s': it does not fit in 64 bits", vm_cmd_path, opt, arg);
	if (ret)
		return vm_usage("%s: invalid %s '%s': expected %s", vm_cmd_path, opt, arg, expected);
	*v = x;
	return 0;
}

static int parse_seconds(const char *arg, double *v)
{
	char *end = NULL;

	errno = 0;
	if (!isspace((unsigned char)arg[0]))
		*v = strtod(arg, &end);
	/* !(>= 0) also catches NaN; the upper bound catches inf and typing slips. */
	if (!end || end == arg || *end || errno || !(*v >= 0) || *v > 1e6)
		return vm_usage("%s: invalid --interval '%s': expected seconds from 0 to 1000000, such as 1 or 0.5",
				vm_cmd_path, arg);
	return 0;
}

static int add_range(struct dirty_opts *o, const char *arg)
{
	struct dirty_range *r;
	char why[160];

	if (o->n == o->cap) {
		r = reallocarray(o->r, o->cap ? o->cap * 2 : 8, sizeof(*r));
		if (!r)
			return vm_error(ENOMEM, "cannot parse", "--range", NULL, NULL);
		o->r = r;
		o->cap = o->cap ? o->cap * 2 : 8;
	}
	if (range_parse(arg, &o->r[o->n], why, sizeof(why)))
		return vm_usage("%s: invalid --range '%s': %s", vm_cmd_path, arg, why);
	o->n++;
	return 0;
}

static int dirty_option(int c, const char *arg, void *data)
{
	struct dirty_opts *o = data;

	switch (c) {
	case OPT_RANGE:
		return add_range(o, arg);
	case OPT_PAGE_SIZE:
		o->page_size_set = true;
		return parse_num("--page-size", arg, &o->page_size, "a size such as 4K, 2M or 0x1000");
	case OPT_BITMAP_OUT:
		o->bitmap_out = arg;
		return 0;
	case OPT_COUNT:
		return parse_num("--count", arg, &o->count, "a number of reports");
	case OPT_INTERVAL:
		return parse_seconds(arg, &o->interval);
	case OPT_IOVA:
		o->iova_set = true;
		return parse_num("--iova", arg, &o->iova, "an address such as 0x100000 or 4G");
	case OPT_LENGTH:
		o->length_set = true;
		return parse_num("--length", arg, &o->length, "a size such as 1G or 0x40000000");
	case OPT_MAX_EXTENTS:
		return parse_num("--max-extents", arg, &o->max_extents, "a number (0: all)");
	default:
		return -EINVAL;
	}
}

/* Options, then exactly one operand; returns the operand's index or -errno. */
static int parse(const struct vm_cmd *cmd, int argc, char **argv, struct dirty_opts *o)
{
	int ret, optind;

	o->page_size = DEFAULT_PAGE;
	o->interval = 1;
	o->max_extents = DEFAULT_MAX_EXTENTS;
	optind = vm_getopt(cmd, argc, argv, dirty_option, o);
	if (optind < 0)
		return optind;
	ret = vm_operands(cmd, argc, argv, optind, 1);
	return ret ? ret : optind;
}

static int need_ranges(const struct dirty_opts *o, const char *verb)
{
	if (o->n)
		return 0;
	return vm_usage("%s: --range is required: give the IOVA ranges to %s, e.g. --range 0x100000,2M",
			vm_cmd_path, verb);
}

/* Refusals the kernel would make, made before the device is opened: nothing reaches the driver. */
static int check_start(const struct dirty_opts *o)
{
	long page = sysconf(_SC_PAGESIZE);
	char why[320];

	/* The kernel copies the ranges into one page of its own: PAGE_SIZE / 16 of them. */
	if (ranges_check_start(o->r, o->n, o->page_size,
			       (size_t)(page > 0 ? page : 4096) / DIRTY_RANGE_BYTES, why, sizeof(why)))
		return vm_usage("%s: %s", vm_cmd_path, why);
	return 0;
}

static int check_report(const struct dirty_range *r, size_t n, uint64_t page_size)
{
	char why[320];

	if (ranges_check_report(r, n, page_size, why, sizeof(why)))
		return vm_usage("%s: %s", vm_cmd_path, why);
	return 0;
}

/* ---- The device's answers, explained ---- */

/*
 * Whether the device stays open after this command (a session holds it),
 * so that the logging outlives the command. Otherwise closing it stops
 * the logging, and a device this process just opened cannot be logging.
 */
static bool held(const struct vm_dev *d)
{
	return d->owner != NULL;
}

static int explain_unsupported(const struct vm_dev *d, int err)
{
	return vm_error(err, "dirty logging is not supported by", d->name,
			"variant drivers such as mlx5_vfio_pci and pds_vfio_pci log device DMA; with plain vfio-pci, dirty tracking is left to the IOMMU (iommufd) or all memory counts as dirty",
			"driver %s has no DMA logging%s", d->driver[0] ? d->driver : "?",
			strcmp(d->driver, "vfio-pci") ? "" : " (plain vfio-pci tracks no device DMA)");
}

static int explain_start(const struct vm_dev *d, int err, const struct dirty_range *r, size_t n,
			 uint64_t page_size)
{
	uint64_t total = ranges_total(r, n);
	char hint[256], size[32];

	snprintf(hint, sizeof(hint), "'vfiomig dirty stop %s' ends the running log", d->name);
	switch (-err) {
	case ENOTTY:
		return explain_unsupported(d, err);
	case EINVAL:
		if (held(d))
			return vm_error(err, "cannot start dirty logging on", d->name, hint,
					"the driver refused: logging is probably running already (mlx5_vfio_pci and pds_vfio_pci answer a second START with EINVAL), or it cannot use these ranges or this page size");
		return vm_error(err, "cannot start dirty logging on", d->name, NULL,
				"the driver refused these ranges or page size %" PRIu64 " (logging cannot be running already: this process just opened the device)",
				page_size);
	case EBUSY:
		return vm_error(err, "cannot start dirty logging on", d->name, hint,
				"logging is running already: the driver refuses a second START");
	case EOPNOTSUPP:
		return vm_error(err, "cannot start dirty logging on", d->name,
				"log less: smaller ranges, or fewer so that no gaps are merged in (QEMU uses at most 3 ranges for this)",
				"the driver cannot track these ranges: they total %s, 2^%u bytes rounded up to a power of two as mlx5_vfio_pci counts, and drivers bound the span they track (mlx5_vfio_pci: between its firmware's minimum and maximum, at most about 2^42 bytes, merging ranges past its maximum count, gaps included)",
				fmt_size(total, size, sizeof(size)), log2_roundup(total));
	case E2BIG:
		return vm_error(err, "cannot start dirty logging on", d->name, "log fewer ranges",
				"%zu ranges are more than this kernel takes", n);
	case ENOMEM:
		return vm_error(err, "cannot start dirty logging on", d->name,
				"ask for larger pages with --page-size, or log less",
				"the driver could not allocate its log for %s at page size %" PRIu64,
				fmt_size(total, size, sizeof(size)), page_size);
	default:
		return vm_error(err, "cannot start dirty logging on", d->name, NULL,
				"DMA_LOGGING_START failed: %s", vm_strerror(err));
	}
}

static int explain_report(const struct vm_dev *d, int err, const struct dirty_range *r)
{
	char hint[512];
	struct utsname u;
	int has;

	switch (-err) {
	case ENOTTY:
		return explain_unsupported(d, err);
	case EOPNOTSUPP:
		/* The core's bitmap code lives under CONFIG_IOMMUFD_DRIVER; without it the stub answers EOPNOTSUPP. */
		has = proc_kernel_has_symbol("iova_bitmap_for_each");
		if (uname(&u))
			snprintf(u.release, sizeof(u.release), "?");
		if (has == 0)
			return vm_error(err, "cannot read the dirty log of", d->name,
					"boot a kernel built with CONFIG_IOMMUFD_DRIVER=y: CONFIG_IOMMUFD selects it (with the Intel or AMD IOMMU driver), and so do CONFIG_MLX5_VFIO_PCI and CONFIG_PDS_VFIO_PCI; Debian's stock 6.12 kernels have none of them",
					"this kernel (%s) was built without CONFIG_IOMMUFD_DRIVER, so the VFIO core has no dirty-bitmap code and DMA_LOGGING_REPORT fails with EOPNOTSUPP for every driver; START and STOP still work",
					u.release);
		return vm_error(err, "cannot read the dirty log of", d->name,
				"treat the range as dirty",
				"the driver cannot report 0x%" PRIx64 ",0x%" PRIx64 "%s",
				r->iova, r->length,
				has < 0 ? " (or the kernel lacks CONFIG_IOMMUFD_DRIVER: /proc/kallsyms could not tell)" : "");
	case EINVAL:
		if (held(d)) {
			snprintf(hint, sizeof(hint), "start it with 'vfiomig dirty start %s --range ...'", d->name);
			return vm_error(err, "cannot read the dirty log of", d->name, hint,
					"logging is not running (not started, or stopped), or the driver refused this range or page size");
		}
		snprintf(hint, sizeof(hint),
			 "'vfiomig dirty watch %s --range ...' starts, reports and stops in one run; a session ('vfiomig open %s') holds the device for later commands",
			 d->name, d->name);
		return vm_error(err, "cannot read the dirty log of", d->name, hint,
				"logging is not running: closing a VFIO device stops its logging, so a device this process just opened has none");
	case EIO:
		return vm_error(err, "cannot read the dirty log of", d->name,
				"treat all memory in the ranges as dirty, then stop and start logging again",
				"the driver lost the log (EIO: its tracker failed)");
	default:
		return vm_error(err, "cannot read the dirty log of", d->name,
				"treat all memory in the ranges as dirty, then stop and start logging again",
				"DMA_LOGGING_REPORT failed: %s; after any failed report the log counts as lost",
				vm_strerror(err));
	}
}

/* ---- Bitmaps and what they say ---- */

/* One bitmap per range, sized as the kernel writes them. */
struct bitmaps {
	size_t n;
	unsigned char **bm;
	size_t *len;
	uint64_t *pages;
};

static void bitmaps_free(struct bitmaps *b, bool owned)
{
	size_t i;

	for (i = 0; owned && b->bm && i < b->n; i++)
		free(b->bm[i]);
	free(b->bm);
	free(b->len);
	free(b->pages);
	memset(b, 0, sizeof(*b));
}

/* OBJECT names what the bitmaps are for (a device, a file) in the message when memory runs out. */
static int bitmaps_alloc(struct bitmaps *b, const struct dirty_range *r, size_t n, uint64_t page_size,
			 bool buffers, const char *object)
{
	uint64_t bytes = 0;
	char size[32];
	size_t i;

	b->n = n;
	b->bm = calloc(n, sizeof(*b->bm));
	b->len = calloc(n, sizeof(*b->len));
	b->pages = calloc(n, sizeof(*b->pages));
	if (!b->bm || !b->len || !b->pages)
		goto free_all;
	for (i = 0; i < n; i++) {
		b->pages[i] = range_pages(&r[i], page_size);
		b->len[i] = bitmap_bytes(b->pages[i]);
		bytes += b->len[i];
	}
	for (i = 0; buffers && i < n; i++) {
		/* The kernel only sets bits: the buffer starts zeroed, and is zeroed again per report. */
		b->bm[i] = calloc(1, b->len[i]);
		if (!b->bm[i])
			goto free_all;
	}
	return 0;
free_all:
	bitmaps_free(b, buffers);
	return vm_error(ENOMEM, "cannot allocate the dirty bitmaps of", object,
			"report fewer or smaller ranges at a time, or use a larger --page-size",
			"%zu range%s at pages of %" PRIu64 " bytes need %s of bitmap", n,
			n == 1 ? "" : "s", page_size,
			bytes ? fmt_size(bytes, size, sizeof(size)) : "more memory than is free");
}

/*
 * REPORT of every range: reads and clears the log. *NREAD gets the number
 * of ranges read before a failure: their logs are cleared in the driver,
 * so what they said must still reach the user.
 */
static int report_all(const struct vm_dev *d, const struct dirty_range *r, uint64_t page_size,
		      struct bitmaps *b, size_t *nread)
{
	size_t i;
	int ret;

	for (i = 0; i < b->n; i++) {
		*nread = i;
		memset(b->bm[i], 0, b->len[i]);
		ret = vfio_dma_logging_report(d->fd, &r[i], page_size, b->bm[i]);
		if (ret)
			return explain_report(d, ret, &r[i]);
	}
	*nread = b->n;
	return 0;
}

static void print_extent(uint64_t iova, uint64_t pages, uint64_t page_size)
{
	uint64_t len = pages * page_size;

	out_obj_open(NULL);
	out_u64("iova", "  0x%" PRIx64, iova);
	out_text("-0x%" PRIx64, iova + (len - 1));
	out_u64("length", NULL, len);
	out_u64("pages", "  %" PRIu64, pages);
	out_text(pages == 1 ? " page\n" : " pages\n");
	out_obj_close();
}

/*
 * Each range with its counts, the totals, then the extents, at most
 * MAX_EXTENTS of them (0: all). Extents never cross a range's edge.
 */
static void print_dirty(const struct dirty_range *r, uint64_t page_size, const struct bitmaps *b,
			uint64_t max_extents)
{
	uint64_t pages = 0, dirty = 0, runs = 0, shown = 0, first, count, bytes;
	struct bitmap_stats st;
	struct bitmap_iter it;
	char size[32];
	double ratio;
	size_t i;

	out_arr_open("ranges");
	for (i = 0; i < b->n; i++) {
		bitmap_stats(b->bm[i], b->len[i], b->pages[i], &st);
		out_obj_open(NULL);
		out_u64("iova", "range        0x%" PRIx64, r[i].iova);
		out_text("-0x%" PRIx64, r[i].iova + (r[i].length - 1));
		out_u64("length", NULL, r[i].length);
		out_u64("pages", ": %" PRIu64 " pages", b->pages[i]);
		out_u64("dirty_pages", ", %" PRIu64 " dirty", st.dirty);
		out_u64("extent_count", " in %" PRIu64, st.runs);
		out_text(st.runs == 1 ? " extent\n" : " extents\n");
		out_obj_close();
		pages += b->pages[i];
		dirty += st.dirty;
		runs += st.runs;
	}
	out_arr_close();

	out_u64("dirty_pages", "dirty        %" PRIu64, dirty);
	out_u64("pages", " of %" PRIu64 " pages", pages);
	ratio = pages ? (double)dirty / (double)pages : 0;
	out_dbl("dirty_ratio", NULL, ratio);
	out_text(" (%.3g%%)", ratio * 100);
	bytes = dirty > UINT64_MAX / page_size ? UINT64_MAX : dirty * page_size;
	out_u64("dirty_bytes", NULL, bytes);
	out_text(", %s\n", fmt_size(bytes, size, sizeof(size)));
	out_u64("extent_count", "extents      %" PRIu64 "\n", runs);

	out_arr_open("extents");
	for (i = 0; i < b->n && (!max_extents || shown < max_extents); i++) {
		bitmap_iter_init(&it, b->bm[i], b->len[i], b->pages[i]);
		while ((!max_extents || shown < max_extents) && bitmap_next_run(&it, &first, &count)) {
			print_extent(r[i].iova + first * page_size, count, page_size);
			shown++;
		}
	}
	out_arr_close();
	out_bool("extents_truncated", NULL, shown < runs);
	if (shown < runs)
		out_text("  ... and %" PRIu64 " more (--max-extents 0 lists them all)\n", runs - shown);
}

/* "range 2" or "ranges 2 to 4", counting from 1 as the command line does. */
static const char *span_name(size_t from, size_t to, char *buf, size_t len)
{
	if (from == to)
		snprintf(buf, len, "range %zu", from);
	else
		snprintf(buf, len, "ranges %zu to %zu", from, to);
	return buf;
}

/* A range as "0x200000-0x20ffff", text only. */
static void print_range(const char *key, const char *label, const struct dirty_range *r)
{
	out_obj_open(key);
	out_u64("iova", label, r->iova);
	out_text("-0x%" PRIx64, r->iova + (r->length - 1));
	out_u64("length", NULL, r->length);
	out_obj_close();
}

/*
 * After a REPORT failed on range NREAD: the ranges before it were read and
 * cleared, so their pages are printed (nothing else holds them any more);
 * the failed range's log is lost, and the ranges after it were not read.
 */
static void print_partial(const struct vm_dev *d, const struct dirty_range *r, size_t n,
			  uint64_t page_size, const struct bitmaps *b, size_t nread,
			  uint64_t max_extents)
{
	struct bitmaps part = *b;
	char first[64];
	size_t i;

	part.n = nread;
	print_dirty(r, page_size, &part, max_extents);
	print_range("lost_range", "lost         0x%" PRIx64, &r[nread]);
	out_text(": the failed report lost its log, count all of it dirty\n");
	out_arr_open("unread_ranges");
	for (i = nread + 1; i < n; i++) {
		print_range(NULL, "not read     0x%" PRIx64, &r[i]);
		out_text("\n");
	}
	out_arr_close();
	if (nread)
		vm_note("%s of %s %s read and cleared before range %zu failed: the dirty pages above are all that is left of %s log",
			span_name(1, nread, first, sizeof(first)), d->name, nread == 1 ? "was" : "were",
			nread + 1, nread == 1 ? "its" : "their");
	if (nread + 1 < n)
		vm_note("%s %s not read: a later report may still find %s log, unless the driver's tracker failed",
			span_name(nread + 2, n, first, sizeof(first)), n - nread == 2 ? "was" : "were",
			n - nread == 2 ? "its" : "their");
}

/* START succeeded; a page size that is no power of two is a driver bug we must not divide by. */
static int check_chosen(const struct vm_dev *d, uint64_t chosen)
{
	int ret, sret;

	if (is_pow2(chosen))
		return 0;
	sret = vfio_dma_logging_stop(d->fd);
	if (sret)
		return vm_error(EPROTO, "cannot start dirty logging on", d->name,
				held(d) ? "'vfiomig close' ends the session, and the logging with it" : NULL,
				"the driver chose page size %" PRIu64 ", which is not a power of two; stopping the logging again failed too (%s)%s",
				chosen, vm_strerror(sret),
				held(d) ? ": it may still be logging" : ", and closing the device stops it");
	ret = vm_error(EPROTO, "cannot start dirty logging on", d->name, NULL,
		       "the driver chose page size %" PRIu64 ", which is not a power of two; logging was stopped again",
		       chosen);
	return ret;
}

/* What START asked for and what the driver chose. */
static void print_started(const struct vm_dev *d, const struct dirty_range *r, size_t n,
			  uint64_t asked, uint64_t chosen)
{
	char size[32];
	size_t i;

	out_str("device", "device       %s\n", d->name);
	out_u64("page_size", "page size    %" PRIu64, chosen);
	out_u64("requested_page_size", chosen == asked ? NULL : " (%" PRIu64 " was asked for)", asked);
	out_text("\n");
	out_u64("length", NULL, ranges_total(r, n));
	out_text("ranges       %zu, %s\n", n, fmt_size(ranges_total(r, n), size, sizeof(size)));
	out_arr_open("ranges");
	for (i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_u64("iova", "  0x%" PRIx64, r[i].iova);
		out_text("-0x%" PRIx64, r[i].iova + (r[i].length - 1));
		out_u64("length", NULL, r[i].length);
		out_u64("pages", "  %" PRIu64 " pages\n", range_pages(&r[i], chosen));
		out_obj_close();
	}
	out_arr_close();
}

/* ---- The commands ---- */

static int run_start(int argc, char **argv)
{
	struct dirty_opts o = { 0 };
	uint64_t chosen;
	struct vm_dev d;
	int ret, optind = parse(&cmd_dirty_start, argc, argv, &o);

	ret = optind < 0 ? optind : need_ranges(&o, "log");
	if (!ret)
		ret = check_start(&o);
	if (!ret)
		ret = dev_get(argv[optind], &d);
	if (ret)
		goto free_opts;
	chosen = o.page_size;
	ret = vfio_dma_logging_start(d.fd, o.r, (uint32_t)o.n, &chosen);
	if (ret) {
		ret = explain_start(&d, ret, o.r, o.n, o.page_size);
		goto close_dev;
	}
	ret = check_chosen(&d, chosen);
	if (ret)
		goto close_dev;
	print_started(&d, o.r, o.n, o.page_size, chosen);
	if (!held(&d))
		vm_note("dirty logging on %s stops when vfiomig exits, because closing a VFIO device stops its logging; 'vfiomig dirty watch' starts, reports and stops in one run, and a session ('vfiomig open %s') holds the device for later commands",
			d.name, d.name);
close_dev:
	dev_close(&d);
free_opts:
	free(o.r);
	return ret;
}

static int write_bitmap(const char *path, const void *buf, size_t len)
{
	struct out_file f = { .fd = -1 };
	int ret = out_file_open(&f, path);

	if (ret)
		return vm_error(ret, "cannot create", path, NULL, NULL);
	ret = io_write_all(f.fd, buf, len);
	if (!ret)
		ret = out_file_commit(&f);
	if (ret) {
		out_file_abort(&f);
		return vm_error(ret, "cannot write", path, NULL, NULL);
	}
	return 0;
}

static int run_report(int argc, char **argv)
{
	struct dirty_opts o = { 0 };
	struct bitmaps b = { 0 };
	struct vm_dev d;
	size_t nread;
	int ret, optind = parse(&cmd_dirty_report, argc, argv, &o);

	ret = optind < 0 ? optind : need_ranges(&o, "report");
	if (!ret && o.bitmap_out && o.n > 1)
		ret = vm_usage("%s: --bitmap-out takes one --range: a bitmap file describes one IOVA range",
			       vm_cmd_path);
	if (!ret)
		ret = check_report(o.r, o.n, o.page_size);
	if (!ret)
		ret = dev_get(argv[optind], &d);
	if (ret)
		goto free_opts;
	ret = bitmaps_alloc(&b, o.r, o.n, o.page_size, true, d.name);
	if (ret)
		goto close_dev;
	ret = report_all(&d, o.r, o.page_size, &b, &nread);
	/* One range: the error says all there is. */
	if (ret && o.n == 1)
		goto free_bitmaps;
	out_str("device", "device       %s\n", d.name);
	out_u64("page_size", "page size    %" PRIu64 "\n", o.page_size);
	if (ret) {
		print_partial(&d, o.r, o.n, o.page_size, &b, nread, o.max_extents);
		goto free_bitmaps;
	}
	if (o.bitmap_out) {
		/* Written before printing: the log is cleared, this file is all that is left of it. */
		ret = write_bitmap(o.bitmap_out, b.bm[0], b.len[0]);
		if (!ret) {
			out_str("bitmap_file", "bitmap       %s", o.bitmap_out);
			out_u64("bitmap_bytes", " (%" PRIu64 " bytes)\n", b.len[0]);
		}
	}
	print_dirty(o.r, o.page_size, &b, o.max_extents);
free_bitmaps:
	bitmaps_free(&b, true);
close_dev:
	dev_close(&d);
free_opts:
	free(o.r);
	return ret;
}

static int run_stop(int argc, char **argv)
{
	struct vm_dev d;
	int ret, optind = vm_getopt(&cmd_dirty_stop, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_dirty_stop, argc, argv, optind, 1);
	if (!ret)
		ret = dev_get(argv[optind], &d);
	if (ret)
		return ret;
	ret = vfio_dma_logging_stop(d.fd);
	if (ret == -ENOTTY)
		ret = explain_unsupported(&d, ret);
	else if (ret)
		ret = vm_error(ret, "cannot stop dirty logging on", d.name, NULL, NULL);
	if (!ret) {
		out_str("device", "%s: dirty logging stopped\n", d.name);
		out_bool("stopped", NULL, true);
		if (!held(&d))
			vm_note("no session holds %s, so it had no logging to stop: logging ends when the process that started it closes the device",
				d.name);
	}
	dev_close(&d);
	return ret;
}

/*
 * Sleeps SECS unless interrupted. SIGINT, SIGTERM and SIGIO (a session
 * holder's client going away) are let in only inside ppoll(), so none can
 * land between the check of the flag and the sleep and be lost.
 */
static void pause_for(double secs)
{
	double end = mono_now() + secs, left;
	sigset_t block, orig;
	struct timespec ts;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGIO);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!io_interrupted && (left = end - mono_now()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		ppoll(NULL, 0, &ts, &orig);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
}

/*
 * The page size of the reports: the driver's choice when the ranges are
 * aligned to it, else the one asked for; the reports read the same log
 * either way, the kernel spreads each logged page over the bitmap's.
 */
static uint64_t report_page(const struct dirty_opts *o, uint64_t chosen)
{
	if (!ranges_check_report(o->r, o->n, chosen, NULL, 0))
		return chosen;
	return o->page_size > DIRTY_REPORT_MIN_PAGE ? o->page_size : DIRTY_REPORT_MIN_PAGE;
}

static int run_watch(int argc, char **argv)
{
	struct dirty_opts o = { 0 };
	struct bitmaps b = { 0 };
	uint64_t chosen, rpage, round = 0;
	struct vm_dev d;
	size_t nread;
	char why[320];
	double t0;
	int ret, sret, optind = parse(&cmd_dirty_watch, argc, argv, &o);

	ret = optind < 0 ? optind : need_ranges(&o, "watch");
	if (!ret)
		ret = check_start(&o);
	/* The reports take pages of at least 4 KiB: refuse now what they would refuse later. */
	if (!ret && ranges_check_report(o.r, o.n, o.page_size > DIRTY_REPORT_MIN_PAGE ?
					o.page_size : DIRTY_REPORT_MIN_PAGE, why, sizeof(why)))
		ret = vm_usage("%s: the reports need pages of at least 4 KiB: %s", vm_cmd_path, why);
	if (!ret)
		ret = dev_get(argv[optind], &d);
	if (ret)
		goto free_opts;
	/* A session's holder runs the command: the caller's Ctrl-C never reaches it. */
	if (held(&d) && !o.count) {
		ret = vm_usage("%s: in a session, watch needs --count N: the session's holder runs it, and Ctrl-C does not reach the holder",
			       vm_cmd_path);
		goto close_dev;
	}
	io_catch_signals();

	chosen = o.page_size;
	ret = vfio_dma_logging_start(d.fd, o.r, (uint32_t)o.n, &chosen);
	if (ret) {
		ret = explain_start(&d, ret, o.r, o.n, o.page_size);
		goto close_dev;
	}
	ret = check_chosen(&d, chosen);
	if (ret)
		goto close_dev;
	t0 = mono_now();
	print_started(&d, o.r, o.n, o.page_size, chosen);
	rpage = report_page(&o, chosen);
	out_u64("report_page_size", rpage == chosen ? NULL : "reports use pages of %" PRIu64 "\n", rpage);
	ret = bitmaps_alloc(&b, o.r, o.n, rpage, true, d.name);
	if (ret)
		goto stop_log;

	out_arr_open("reports");
	while (!o.count || round < o.count) {
		if (round)
			pause_for(o.interval);
		if (io_interrupted)
			break;
		ret = report_all(&d, o.r, rpage, &b, &nread);
		if (ret) {
			if (o.n > 1) {
				out_obj_open(NULL);
				out_u64("round", "report %" PRIu64, round + 1);
				out_dbl("seconds", " at %.3f s (failed)\n", mono_now() - t0);
				print_partial(&d, o.r, o.n, rpage, &b, nread, o.max_extents);
				out_obj_close();
			}
			break;
		}
		out_obj_open(NULL);
		out_u64("round", "report %" PRIu64, ++round);
		out_dbl("seconds", " at %.3f s\n", mono_now() - t0);
		print_dirty(o.r, rpage, &b, o.max_extents);
		out_obj_close();
		/*
		 * Each report as it comes when a pipe reads us; a reader that went
		 * away ends the watch (main() reports the write error).
		 */
		if (fflush(out_stream()) || ferror(out_stream()))
			break;
	}
	out_arr_close();
	bitmaps_free(&b, true);

stop_log:
	sret = vfio_dma_logging_stop(d.fd);
	if (sret && !ret)
		ret = vm_error(sret, "cannot stop dirty logging on", d.name, NULL, NULL);
	else if (sret)
		vm_note("stopping the logging failed too: %s; closing the device stops it",
			vm_strerror(sret));
	out_bool("stopped", sret ? NULL : "dirty logging stopped\n", !sret);
	if (!ret && io_interrupted && o.count && round < o.count)
		ret = vm_error(EINTR, "interrupted", d.name, NULL,
			       "after %" PRIu64 " of %" PRIu64 " reports; dirty logging was stopped",
			       round, o.count);
close_dev:
	dev_close(&d);
free_opts:
	free(o.r);
	return ret;
}

/* A bitmap file's bytes: mapped when it is a regular file, read otherwise. */
struct bitmap_file {
	unsigned char *buf;
	size_t len;
	bool mapped;
};

static void bitmap_file_free(struct bitmap_file *f)
{
	if (f->mapped)
		munmap(f->buf, f->len);
	else
		free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* Reads a pipe (or any file without a size) to its end, up to the largest bitmap a report makes. */
static int read_stream(int fd, const char *path, struct bitmap_file *f)
{
	size_t cap = 1 << 16;
	unsigned char *p;
	int err;

	for (;;) {
		p = realloc(f->buf, cap);
		if (!p)
			return vm_error(ENOMEM, "cannot read", path, NULL, NULL);
		f->buf = p;
		f->len += io_read_full(fd, f->buf + f->len, cap - f->len, &err);
		if (err)
			return vm_error(err, "cannot read", path, NULL, NULL);
		if (f->len < cap)
			return 0;
		/* One byte past the limit tells a file of exactly the limit from a larger one. */
		if (cap > DIRTY_BITMAP_MAX)
			return vm_error(EFBIG, "cannot decode", path, NULL,
					"the file is larger than vfiomig's limit for a bitmap (%llu bytes)",
					DIRTY_BITMAP_MAX);
		cap = cap * 2 > DIRTY_BITMAP_MAX + 1 ? DIRTY_BITMAP_MAX + 1 : cap * 2;
	}
}

/*
 * The whole of FILE ("-": standard input). A regular file is mapped, not
 * read: reading 32 MiB into fresh memory costs a page fault per page,
 * several times what decoding it does.
 */
static int bitmap_file_open(const char *path, struct bitmap_file *f)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	struct stat st;
	void *p;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	if (fd < 0)
		return vm_error(errno, "cannot open", path, NULL, NULL);
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > DIRTY_BITMAP_MAX) {
			ret = vm_error(EFBIG, "cannot decode", path, NULL,
				       "the file is larger than vfiomig's limit for a bitmap (%llu bytes)",
				       DIRTY_BITMAP_MAX);
			goto close_fd;
		}
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			f->buf = p;
			f->len = (size_t)st.st_size;
			f->mapped = true;
			goto close_fd;
		}
	}
	ret = read_stream(fd, path, f);
	if (ret)
		bitmap_file_free(f);
close_fd:
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

static int run_decode(int argc, char **argv)
{
	struct dirty_opts o = { 0 };
	struct bitmaps b = { 0 };
	struct bitmap_file f;
	struct dirty_range r;
	const char *path;
	uint64_t bits;
	size_t len;
	int ret, optind = parse(&cmd_dirty_decode, argc, argv, &o);

	if (optind < 0)
		return optind;
	path = argv[optind];
	if (!o.iova_set || !o.page_size_set)
		return vm_usage("%s: --iova and --page-size are required: they say which IOVA each bit stands for",
				vm_cmd_path);
	/* The page size first (a one-page range at 0 can fail on nothing else): the length is counted in pages. */
	r = (struct dirty_range){ 0, o.page_size };
	ret = check_report(&r, 1, o.page_size);
	if (ret)
		return ret;
	r.iova = o.iova;
	ret = bitmap_file_open(path, &f);
	if (ret)
		return ret;
	len = f.len;
	bits = (uint64_t)len * 8;
	if (!len) {
		ret = vm_error(EBADMSG, "cannot decode", path, NULL, "the file is empty");
		goto free_file;
	}
	if (o.length_set) {
		r.length = o.length;
	} else if (bits > (UINT64_MAX - o.iova) / o.page_size) {
		ret = vm_usage("%s: %zu bytes of bitmap (%" PRIu64 " pages of %" PRIu64 ") from IOVA 0x%" PRIx64 " reach past 2^64; give --length",
			       vm_cmd_path, len, bits, o.page_size, o.iova);
		goto free_file;
	} else {
		r.length = bits * o.page_size;
	}
	ret = check_report(&r, 1, o.page_size);
	if (ret)
		goto free_file;
	ret = bitmaps_alloc(&b, &r, 1, o.page_size, false, path);
	if (ret)
		goto free_file;
	if (b.pages[0] > bits) {
		ret = vm_error(EBADMSG, "cannot decode", path, "give the --length the bitmap was reported with",
			       "the file holds %zu bytes (%" PRIu64 " pages), the range needs %" PRIu64 " bytes (%" PRIu64 " pages)",
			       len, bits, b.len[0], b.pages[0]);
		goto free_bitmaps;
	}
	if (len > b.len[0])
		vm_note("%s has %zu bytes past the range's bitmap (%zu bytes); they were not decoded", path,
			len - b.len[0], b.len[0]);
	b.bm[0] = f.buf;
	b.len[0] = len;
	out_str("file", "file         %s\n", path);
	out_u64("page_size", "page size    %" PRIu64 "\n", o.page_size);
	print_dirty(&r, o.page_size, &b, o.max_extents);
free_bitmaps:
	bitmaps_free(&b, false);
free_file:
	bitmap_file_free(&f);
	free(o.r);
	return ret;
}
