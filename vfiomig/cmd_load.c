// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig load`: check a blob or bundle, then write each stream into a device in resuming and bring it to stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "dev.h"
#include "devset.h"
#include "io.h"
#include "mig.h"
#include "output.h"
#include "stream.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_load(int argc, char **argv);

enum { OPT_RAW = 256, OPT_FORCE, OPT_THEN, OPT_BY, OPT_MAP, OPT_NO_BARRIER };

static const struct option load_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "by", required_argument, NULL, OPT_BY },
	{ "map", required_argument, NULL, OPT_MAP },
	{ "no-p2p-barrier", no_argument, NULL, OPT_NO_BARRIER },
	{ 0 }
};

const struct vm_cmd cmd_load = {
	.name = "load",
	.run = run_load,
	.args = "[DEV...] [-i FILE] [--raw] [--force] [--then stop|running] [--by position|identity] [--map SRC=DST]... [--no-p2p-barrier]",
	.summary = "write saved migration states into devices",
	.help = "Reads a blob or a bundle from standard input or FILE, checks it, moves the\n"
		"devices to resuming, writes each stream and moves them to stop, where\n"
		"each driver accepts or rejects its data.\n"
		"\n"
		"  -i, --input FILE    read FILE; every checksum is verified before any\n"
		"                      device is touched\n"
		"      --raw           the input is a bare device stream, not a blob\n"
		"      --force         load a state saved from a different kind of device\n"
		"      --then STATE    leave the devices in stop (default) or running\n"
		"      --by HOW        pair a bundle's members with the devices given by\n"
		"                      position (default) or by identity (IDs and driver)\n"
		"      --map SRC=DST   load the member saved from SRC into DST; repeat it\n"
		"                      for each member wanted, without DEV operands\n"
		"      --no-p2p-barrier  move several devices even if one has no P2P state\n"
		"\n"
		"Several devices move together, behind the P2P barrier of 'state set'.\n"
		"From a pipe each chunk is verified before it is written; on a bad or short\n"
		"stream vfiomig stops writing and resets the devices it was loading.\n",
	.shortopts = "i:",
	.longopts = load_options,
};

struct load_map {
	const char *src, *dst;
};

struct load_opts {
	const char *input;
	bool raw, force, no_barrier, by_given;
	enum mig_state then;
	enum bundle_match by;
	int nmaps;
	struct load_map maps[BUNDLE_MAX];
};

static int load_option(int c, const char *arg, void *data)
{
	struct load_opts *o = data;
	const char *eq;

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
	case OPT_NO_BARRIER:
		o->no_barrier = true;
		return 0;
	case OPT_BY:
		o->by_given = true;
		if (!strcmp(arg, "position"))
			o->by = BUNDLE_BY_POSITION;
		else if (!strcmp(arg, "identity"))
			o->by = BUNDLE_BY_IDENTITY;
		else
			return vm_usage("load: invalid --by '%s': use position or identity", arg);
		return 0;
	case OPT_MAP:
		eq = strchr(arg, '=');
		if (!eq || eq == arg || !eq[1])
			return vm_usage("load: invalid --map '%s': use SRC=DST, SRC the device a member was saved from, DST a device here",
					arg);
		if (o->nmaps == BUNDLE_MAX)
			return vm_usage("load: at most %d --map options", BUNDLE_MAX);
		o->maps[o->nmaps].src = arg;
		o->maps[o->nmaps++].dst = eq + 1;
		return 0;
	default:
		return -EINVAL;
	}
}

/* A failure after the device entered resuming: reset it, and say what it is now. */
static void reset_after_failure(struct vm_dev *d)
{
	enum mig_state s;
	char hint[128];
	int ret = vfio_device_reset(d->fd);

	if (ret) {
		if (vfio_mig_get_state(d->fd, &s))
			vm_note("%s could not be reset (%s) and its state cannot be read; rebind its driver to recover it",
				d->name, vm_strerror(ret));
		else
			vm_note("%s could not be reset (%s) and is in %s; '%s' may return it to running once the driver recovers, or rebind its driver",
				d->name, vm_strerror(ret), mig_state_name(s),
				dev_reset_hint(d, hint, sizeof(hint)));
		return;
	}
	if (vfio_mig_get_state(d->fd, &s))
		vm_note("%s was reset, but its state cannot be read; nothing of the blob was kept",
			d->name);
	else
		vm_note("%s was reset and is now in %s; nothing of the blob was kept", d->name,
			mig_state_name(s));
}

/* The identity of D against a member's: refused unless --force, which is noted. */
static int check_identity(const struct blob_header *h, const struct vm_dev *d, const char *src,
			  bool force)
{
	struct blob_header mine;
	char diff[512];

	dev_identity(d, &mine);
	if (!blob_identity_diff(h, &mine, diff, sizeof(diff)))
		return 0;
	if (!force)
		return vm_error(EMEDIUMTYPE, "refusing to load", src,
				"--force loads it anyway, if you know the driver accepts it",
				"it was saved from %s, a different kind of device than %s: %s",
				h->dev_name, d->name, diff);
	vm_note("loading a blob from a different kind of device (--force): %s", diff);
	return 0;
}

/* Opens FILE (or takes standard input) and the reader; a file is verified whole first. */
static int open_input(const struct load_opts *o, int *fd, struct blob_src *src,
		      struct bundle_reader *b, const char *name)
{
	struct stat sb;
	int ret;

	*fd = STDIN_FILENO;
	if (o->input) {
		*fd = open(o->input, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return vm_error(errno, "cannot open", o->input, NULL, NULL);
	}
	src->read = io_fd_read;
	src->ctx = fd;
	if (o->raw)
		return 0;
	ret = bundle_reader_open(b, src);
	if (ret)
		return stream_invalid(name, b, ret);
	/* A file can be read twice: check it all before any device is touched. */
	if (!fstat(*fd, &sb) && S_ISREG(sb.st_mode)) {
		ret = stream_verify(b, name);
		bundle_reader_close(b);
		if (ret)
			return ret;
		if (lseek(*fd, 0, SEEK_SET) < 0)
			return vm_error(errno, "cannot read", name, NULL, NULL);
		ret = bundle_reader_open(b, src);
		if (ret)
			return stream_invalid(name, b, ret);
	}
	return 0;
}

/* One device, from a blob, a bundle of one, or a raw stream: the path and report of old. */
static int load_one(const char *arg, const struct load_opts *o, int in_fd, struct bundle_reader *b,
		    const char *name)
{
	enum mig_state cur, final;
	struct vm_dev d;
	uint64_t bytes = 0, chunks = 0;
	uint32_t idx;
	double t_start, t_done;
	int ret, data_fd = -1;

	ret = dev_lookup(arg, &d);
	if (ret)
		return ret;
	if (!o->raw) {
		ret = check_identity(&b->members[0], &d, name, o->force);
		if (ret)
			return ret;
	}
	ret = dev_open_mig(&d, &cur);
	if (ret)
		return ret;
	t_start = mono_now();
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
	ret = o->raw ? 1 : bundle_reader_member(b, &idx);
	if (ret < 0)
		ret = stream_invalid(name, b, ret);
	else
		ret = stream_write(o->raw ? NULL : b, in_fd, name, data_fd, d.name, true, "loading",
				   &bytes, &chunks);
	/* The end of the input is checked too: a blob with more after it is not what was saved. */
	if (!ret && !o->raw) {
		ret = bundle_reader_member(b, &idx);
		ret = ret < 0 ? stream_invalid(name, b, ret) : 0;
	}
	/* Like QEMU, close the data fd before leaving resuming. */
	close(data_fd);
	if (ret)
		goto reset_dev;
	ret = dev_set_state(&d, MIG_STOP, NULL);
	if (ret) {
		vm_note("the driver of %s rejected the state it was given", d.name);
		goto reset_dev;
	}
	if (o->then != MIG_STOP) {
		ret = dev_set_state(&d, o->then, NULL);
		if (ret)
			goto close_dev;
	}
	t_done = mono_now();
	if (dev_get_state(&d, &final))
		final = MIG_NUM_STATES; /* "unknown" */
	out_str("device", "loaded %s:", d.name);
	out_u64("bytes", " %" PRIu64 " bytes", bytes);
	out_u64("chunks", " in %" PRIu64 " chunks", chunks);
	out_str("file", " from %s", o->input ? o->input : "-");
	out_bool("raw", NULL, o->raw);
	out_dbl("seconds", ", %.3f s", t_done - t_start);
	out_str("state", "; device left in %s\n", mig_state_name(final));
	dev_note_closes(&d, final);
	goto close_dev;

reset_dev:
	reset_after_failure(&d);
close_dev:
	dev_close(&d);
	return ret;
}

/*
 * The member each target gets: from --map (the targets are the DSTs; a
 * member that no SRC names is read and checked but loaded nowhere), or
 * by bundle_match(). TARGET_OF[m] is -1 for a member loaded nowhere.
 */
static int pair(const struct load_opts *o, const struct bundle_reader *b, char **args, int nargs,
		char **targets, int *nt, int *target_of)
{
	struct blob_header ids[BUNDLE_MAX];
	struct vm_dev d;
	char why[256], name[80];
	uint32_t m;
	int i, ret;

	if (!o->nmaps) {
		for (i = 0; i < nargs; i++) {
			ret = dev_lookup(args[i], &d);
			if (ret)
				return ret;
			dev_identity(&d, &ids[i]);
			targets[i] = args[i];
		}
		*nt = nargs;
		ret = bundle_match(b->members, (int)b->count, ids, nargs, o->by, target_of, why,
				   sizeof(why));
		if (ret)
			return vm_usage("load: cannot pair the blob's members with the devices: %s%s", why,
					o->by == BUNDLE_BY_POSITION ? " (--by identity or --map pairs them otherwise)" : "");
		return 0;
	}
	for (m = 0; m < b->count; m++)
		target_of[m] = -1;
	for (i = 0; i < o->nmaps; i++) {
		const char *src = o->maps[i].src;
		size_t len = strchr(src, '=') - src;

		/* SRC as saved ("0000:01:00.0", a UUID), or a PCI address without its domain. */
		for (m = 0; m < b->count; m++) {
			snprintf(name, sizeof(name), "0000:%.*s", (int)len, src);
			if ((strlen(b->members[m].dev_name) == len &&
			     !strncmp(b->members[m].dev_name, src, len)) ||
			    !strcmp(b->members[m].dev_name, name))
				break;
		}
		if (m == b->count)
			return vm_usage("load: --map '%s': the blob holds no state saved from '%.*s'",
					src, (int)len, src);
		if (target_of[m] >= 0)
			return vm_usage("load: --map '%s': the state of %s is mapped twice", src,
					b->members[m].dev_name);
		target_of[m] = i;
		targets[i] = (char *)o->maps[i].dst;
	}
	*nt = o->nmaps;
	return 0;
}

/* Several devices, from a bundle: they enter resuming together, then each gets its member's stream. */
static int load_many(const struct load_opts *o, char **args, int nargs, struct bundle_reader *b,
		     const char *name)
{
	enum mig_state want[PHASES_MAX_DEVS], final;
	int member_of[PHASES_MAX_DEVS], target_of[BUNDLE_MAX], i, nt = 0, ret, then_ret;
	uint64_t bytes[PHASES_MAX_DEVS] = { 0 }, chunks[PHASES_MAX_DEVS] = { 0 }, total = 0;
	char *targets[BUNDLE_MAX];
	struct phase_plan plan, then_plan;
	struct devset s;
	double t_start, t_written, t_done;
	uint32_t m, idx;
	bool resuming = false;

	ret = pair(o, b, args, nargs, targets, &nt, target_of);
	if (ret)
		return ret;
	/* Every pair is checked before any device is opened (which resets a vfio-pci one). */
	for (m = 0; m < b->count; m++) {
		struct vm_dev d;

		if (target_of[m] < 0)
			continue;
		member_of[target_of[m]] = (int)m;
		ret = dev_lookup(targets[target_of[m]], &d);
		if (!ret)
			ret = check_identity(&b->members[m], &d, name, o->force);
		if (ret)
			return ret;
	}
	ret = devset_open(&s, targets, nt);
	if (ret)
		return ret;
	/* Both plans hold before anything moves. */
	devset_targets(&s, MIG_STOP, want);
	ret = devset_plan(&s, want, !o->no_barrier, &plan);
	for (i = 0; i < s.n && !ret; i++)
		ret = dev_check_path(&s.dev[i], MIG_STOP, o->then);
	if (ret)
		goto close_set;

	t_start = mono_now();
	ret = devset_run(&s, &plan);
	if (ret) {
		vm_note("returning every device to where it started");
		devset_return(&s, s.start);
		goto close_set;
	}
	resuming = true;
	for (i = 0; i < s.n && !ret; i++)
		ret = dev_set_state(&s.dev[i], MIG_RESUMING, NULL);
	for (i = 0; i < s.n && !ret; i++)
		if (s.dev[i].data_fd < 0)
			ret = vm_error(EPROTO, "cannot load", s.dev[i].name, NULL,
				       "the kernel returned no data fd on entering resuming");
	/* The members come in the order they were saved; each goes where it was paired. */
	while (!ret) {
		const void *data;
		size_t len;
		int t;

		ret = bundle_reader_member(b, &idx);
		if (ret <= 0) {
			ret = ret < 0 ? stream_invalid(name, b, ret) : 0;
			break;
		}
		t = target_of[idx];
		if (t >= 0) {
			ret = stream_write(b, -1, name, s.dev[t].data_fd, s.dev[t].name, true, "loading",
					   &bytes[t], &chunks[t]);
			total += bytes[t];
			continue;
		}
		vm_note("skipping the state of %s: no --map names it", b->members[idx].dev_name);
		while ((ret = bundle_reader_next(b, &data, &len)) > 0)
			;
		if (ret < 0)
			ret = stream_invalid(name, b, ret);
	}
	t_written = mono_now();
	/* Like QEMU, close the data fds before leaving resuming. */
	for (i = 0; i < s.n; i++) {
		if (s.dev[i].data_fd >= 0)
			close(s.dev[i].data_fd);
		s.dev[i].data_fd = -1;
	}
	for (i = 0; i < s.n && !ret; i++) {
		ret = dev_set_state(&s.dev[i], MIG_STOP, NULL);
		if (ret)
			vm_note("the driver of %s rejected the state it was given", s.dev[i].name);
	}
	if (ret)
		goto reset_set;
	resuming = false;

	devset_targets(&s, o->then, want);
	then_ret = devset_plan(&s, want, !o->no_barrier, &then_plan);
	if (!then_ret)
		then_ret = devset_run(&s, &then_plan);
	t_done = mono_now();

	out_arr_open("devices");
	for (i = 0; i < s.n; i++) {
		out_obj_open(NULL);
		out_str("device", "loaded %s", s.dev[i].name);
		out_str("source", " (saved from %s):", b->members[member_of[i]].dev_name);
		out_u64("bytes", " %" PRIu64 " bytes", bytes[i]);
		out_u64("chunks", " in %" PRIu64 " chunks", chunks[i]);
		if (dev_get_state(&s.dev[i], &final))
			out_null("state", "; device left in unknown\n");
		else
			out_str("state", "; device left in %s\n", mig_state_name(final));
		out_obj_close();
	}
	out_arr_close();
	out_u64("members", "bundle of %" PRIu64 " devices", (uint64_t)b->count);
	out_str("file", " from %s:", o->input ? o->input : "-");
	out_u64("bytes", " %" PRIu64 " bytes loaded", total);
	out_dbl("seconds", ", %.3f s", t_done - t_start);
	out_dbl("write_seconds", NULL, t_written - t_start);
	out_text("\n");
	devset_print_outcome(&s, !o->no_barrier, &plan, &then_plan, then_ret, o->then);
	ret = then_ret;
	goto close_set;

reset_set:
	/* A device in or past resuming holds part of the bundle at best: none is left like that. */
	for (i = 0; i < s.n && resuming; i++)
		reset_after_failure(&s.dev[i]);
close_set:
	devset_close(&s);
	return ret;
}

static int run_load(int argc, char **argv)
{
	struct load_opts o = { .then = MIG_STOP };
	struct bundle_reader b = { 0 };
	struct blob_src src;
	const char *name;
	struct vm_dev d;
	int in_fd = -1, ret, nargs, i;
	int optind = vm_getopt(&cmd_load, argc, argv, load_option, &o);

	if (optind < 0)
		return optind;
	nargs = argc - optind;
	if (o.nmaps && nargs)
		return vm_usage("load: give the devices either as operands or through --map, not both");
	if (!o.nmaps && !nargs)
		return vm_operands(&cmd_load, argc, argv, optind, 1);
	if (o.nmaps && o.by_given)
		return vm_usage("load: --by and --map both pair members with devices: use one");
	if (o.raw && (nargs > 1 || o.nmaps || o.by_given))
		return vm_usage("load: --raw is one device's bare stream: give one device, without --map or --by");
	if (!o.input && isatty(STDIN_FILENO))
		return vm_usage("load: refusing to read a blob from a terminal; redirect standard input or use -i FILE");
	name = o.input ? o.input : "standard input";
	/* A mistyped device is a usage error before a byte of the input is read. */
	for (i = 0; i < nargs + o.nmaps; i++) {
		ret = dev_lookup(i < nargs ? argv[optind + i] : o.maps[i - nargs].dst, &d);
		if (ret)
			return ret;
	}
	io_catch_signals();

	ret = open_input(&o, &in_fd, &src, &b, name);
	if (ret)
		goto close_input;
	if (o.raw || (nargs == 1 && b.count == 1 && !o.nmaps))
		ret = load_one(argv[optind], &o, in_fd, &b, name);
	else
		ret = load_many(&o, argv + optind, nargs, &b, name);
close_input:
	bundle_reader_close(&b);
	if (o.input && in_fd >= 0)
		close(in_fd);
	return ret;
}
