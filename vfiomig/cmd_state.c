// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig state get|set`: read a device's migration state, or move it and explain the path. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "devset.h"
#include "io.h"
#include "mig.h"
#include "mlx5.h"
#include "output.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_get(int argc, char **argv);
static int run_set(int argc, char **argv);
static int run_size(int argc, char **argv);

static const struct vm_cmd cmd_state_get = {
	.name = "get",
	.run = run_get,
	.args = "DEV",
	.summary = "print the migration state of a device",
	.help = "Prints the state name (stop, running, stop-copy, resuming, running-p2p,\n"
		"pre-copy, pre-copy-p2p or error) and, with -j, its number too.\n"
		"Opening a vfio-pci device resets it: do not use it on a device a VM uses.\n",
};

enum { OPT_EXPLAIN = 256, OPT_DRY_RUN, OPT_NO_BARRIER };

static const struct option set_options[] = {
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "no-p2p-barrier", no_argument, NULL, OPT_NO_BARRIER },
	{ 0 }
};

static const struct vm_cmd cmd_state_set = {
	.name = "set",
	.run = run_set,
	.args = "DEV [DEV...] STATE [--explain] [--dry-run] [--no-p2p-barrier]",
	.summary = "move devices to a migration state",
	.help = "STATE is stop, running, stop-copy, resuming, running-p2p, pre-copy,\n"
		"pre-copy-p2p, or a number 1-7. The kernel walks the shortest path of\n"
		"arcs the driver implements; vfiomig computes the same path first.\n"
		"\n"
		"With several devices, they move in phases, one arc each per phase: all\n"
		"stop initiating DMA (running-p2p, pre-copy-p2p) before any stops, and\n"
		"all answer their peers again before any runs, so no device's state\n"
		"changes after it was frozen. A failure returns every device to where\n"
		"it started.\n"
		"\n"
		"  --explain         print each arc of the path (each phase) and what the\n"
		"                    device does there\n"
		"  --dry-run         print the path without changing the state (opening a\n"
		"                    vfio-pci device still resets it)\n"
		"  --no-p2p-barrier  move several devices even when one has no P2P state,\n"
		"                    stopping it while its peers may still write into it\n"
		"\n"
		"The device is closed when vfiomig exits, and most drivers then return it\n"
		"to running. stop-copy -> pre-copy and stop-copy -> pre-copy-p2p are\n"
		"refused: kernels from 6.2 loop forever on them.\n",
	.longopts = set_options,
};

static const struct vm_cmd cmd_state_size = {
	.name = "size",
	.run = run_size,
	.args = "DEV",
	.summary = "print how much a stop-copy would read (MIG_DATA_SIZE)",
	.help = "Prints the driver's estimate of the bytes a stop-copy from the current\n"
		"state would still read (VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, Linux 6.2):\n"
		"the whole state from running or stop, what is left while a saving\n"
		"session holds the data fd. It moves nothing.\n",
};

static const struct vm_cmd *const state_subcommands[] = {
	&cmd_state_get, &cmd_state_set, &cmd_state_size, NULL,
};

const struct vm_cmd cmd_state = {
	.name = "state",
	.sub = state_subcommands,
	.summary = "read or change the migration state of a device",
};

static int run_get(int argc, char **argv)
{
	struct vm_dev d;
	enum mig_state s;
	int ret, optind = vm_getopt(&cmd_state_get, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_state_get, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_get(argv[optind], &d);
	if (ret)
		return ret;
	ret = dev_get_state(&d, &s);
	if (!ret) {
		out_str("device", NULL, d.name);
		out_str("state", "%s\n", mig_state_name(s));
		out_u64("state_num", NULL, s);
		if (s == MIG_ERROR)
			vm_note("%s is in error: only 'vfiomig reset %s' leaves it", d.name, d.name);
	}
	dev_close(&d);
	return ret;
}

struct set_opts {
	bool explain, dry_run, no_barrier;
};

static int set_option(int c, const char *arg, void *data)
{
	struct set_opts *o = data;

	(void)arg;
	if (c == OPT_EXPLAIN)
		o->explain = true;
	else if (c == OPT_DRY_RUN)
		o->dry_run = true;
	else if (c == OPT_NO_BARRIER)
		o->no_barrier = true;
	else
		return -EINVAL;
	return 0;
}

static void print_path(const struct vm_dev *d, enum mig_state cur, enum mig_state target,
		       const enum mig_state *path, int n, bool explain)
{
	char flags[64];
	enum mig_state from = cur;
	const char *note;
	int i;

	out_str("device", NULL, d->name);
	out_str("from", NULL, mig_state_name(cur));
	out_str("to", NULL, mig_state_name(target));
	out_str("flags", NULL, mig_flags_str(d->mig_flags, flags, sizeof(flags)));
	out_arr_open("path");
	for (i = 0; i < n; i++)
		out_str(NULL, NULL, mig_state_name(path[i]));
	out_arr_close();
	if (!explain)
		return;

	out_text("%s: %s -> %s in %d step%s (migration flags: %s)\n", d->name,
		 mig_state_name(cur), mig_state_name(target), n, n == 1 ? "" : "s", flags);
	out_arr_open("steps");
	for (i = 0; i < n; i++) {
		enum mig_fd fd = mig_arc_fd(from, path[i]);

		out_obj_open(NULL);
		out_str("from", "  %-12s", mig_state_name(from));
		out_str("to", " -> %-13s", mig_state_name(path[i]));
		out_str("meaning", " %s", mig_state_meaning(path[i]));
		out_str("data_fd", fd == MIG_FD_READ ? "; the kernel hands out a new data fd to read the state from" :
			fd == MIG_FD_WRITE ? "; the kernel hands out a new data fd to write the state into" : "",
			fd == MIG_FD_READ ? "read" : fd == MIG_FD_WRITE ? "write" : NULL);
		/* What this device's driver does on the arc, where the table knows it. */
		note = drv_arc_note(d->driver, from, path[i]);
		out_str("driver_note", note ? "\n                               %s" : NULL, note);
		out_text("\n");
		out_obj_close();
		from = path[i];
	}
	out_arr_close();
}

/* Several devices: phases behind the barrier, every arc timed, a failure rolled back. */
static int set_many(char **devs, int n, enum mig_state target, const struct set_opts *o)
{
	enum mig_state want[PHASES_MAX_DEVS];
	struct phase_plan plan;
	struct devset s;
	char flags[64];
	int i, ret;

	ret = devset_open(&s, devs, n);
	if (ret)
		return ret;
	devset_targets(&s, target, want);
	ret = devset_plan(&s, want, !o->no_barrier, &plan);
	if (ret)
		goto close_set;
	out_arr_open("devices");
	for (i = 0; i < s.n; i++) {
		out_obj_open(NULL);
		out_str("device", NULL, s.dev[i].name);
		out_str("from", NULL, mig_state_name(s.start[i]));
		out_str("flags", NULL, mig_flags_str(s.dev[i].mig_flags, flags, sizeof(flags)));
		out_obj_close();
	}
	out_arr_close();
	out_str("to", NULL, mig_state_name(target));
	out_bool("barrier", NULL, !o->no_barrier);
	if (o->explain || o->dry_run) {
		out_text("%d devices to %s in %d phase%s%s:\n", s.n, mig_state_name(target),
			 plan.nphases, plan.nphases == 1 ? "" : "s",
			 o->no_barrier ? " (no P2P barrier)" : ", behind the P2P barrier");
		devset_print_phases(&s, &plan, "plan", false, o->explain);
	}
	if (o->dry_run) {
		out_bool("dry_run", NULL, true);
		goto close_set;
	}
	ret = devset_run(&s, &plan);
	if (ret) {
		vm_note("phase %d of %d failed; returning every device to where it started",
			phase_of(&plan, s.done) + 1, plan.nphases);
		devset_return(&s, s.start);
	} else {
		if (o->explain)
			out_text("done:\n");
		devset_print_phases(&s, &plan, "phases", true, false);
	}
	devset_print_states(&s);
	for (i = 0; !ret && i < s.n; i++)
		dev_note_closes(&s.dev[i], target);
close_set:
	devset_close(&s);
	return ret;
}

static int run_set(int argc, char **argv)
{
	enum mig_state target, cur, path[MIG_PATH_MAX];
	struct set_opts o = { 0 };
	struct vm_dev d;
	const char *state;
	int ret, n, optind = vm_getopt(&cmd_state_set, argc, argv, set_option, &o);

	if (optind < 0)
		return optind;
	if (argc - optind < 2)
		return vm_operands(&cmd_state_set, argc, argv, optind, 2);
	state = argv[argc - 1];
	if (mig_state_parse(state, &target))
		return vm_usage("invalid state '%s': use stop, running, stop-copy, resuming, running-p2p, pre-copy, pre-copy-p2p or 1-7",
				state);
	if (target == MIG_ERROR)
		return vm_usage("invalid state '%s': error cannot be requested; a device enters it when a transition fails",
				state);
	if (argc - optind > 2)
		return set_many(argv + optind, argc - optind - 1, target, &o);
	if (o.no_barrier)
		vm_note("--no-p2p-barrier has no effect on one device");
	ret = dev_lookup(argv[optind], &d);
	if (!ret)
		ret = dev_open_mig(&d, &cur);
	if (ret)
		return ret;

	/* The refusals come from dev_set_state() with their reasons; a dry run asks the same. */
	n = mig_path(cur, target, d.mig_flags, path);
	if (n >= 0)
		print_path(&d, cur, target, path, n, o.explain || o.dry_run);
	if (o.dry_run) {
		out_bool("dry_run", NULL, true);
		ret = n >= 0 ? 0 : dev_set_state(&d, target, NULL);
		goto close_dev;
	}
	ret = dev_set_state(&d, target, NULL);
	if (ret)
		goto close_dev;
	ret = dev_get_state(&d, &cur);
	if (ret)
		goto close_dev;
	out_str("state", "%s\n", mig_state_name(cur));
	dev_note_closes(&d, cur);
close_dev:
	dev_close(&d);
	return ret;
}

static int run_size(int argc, char **argv)
{
	struct vm_dev d;
	enum mig_state s;
	uint64_t size;
	char human[32];
	int ret, optind = vm_getopt(&cmd_state_size, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_state_size, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_lookup(argv[optind], &d);
	if (!ret)
		ret = dev_open_mig(&d, &s);
	if (ret)
		return ret;
	ret = vfio_mig_data_size(d.fd, &size);
	/* The device has migration (dev_open_mig said so): ENOTTY is the kernel's. */
	if (ret == -ENOTTY)
		ret = vm_error(ret, "cannot read the stop-copy size of", d.name, NULL,
			       "the kernel has no VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (it came with Linux 6.2)");
	else if (ret)
		ret = vm_error(ret, "cannot read the stop-copy size of", d.name, NULL,
			       "MIG_DATA_SIZE: %s", vm_strerror(ret));
	if (!ret) {
		out_str("device", NULL, d.name);
		out_str("state", NULL, mig_state_name(s));
		out_u64("stop_copy_size", "%" PRIu64 " bytes", size);
		out_text(" (%s)\n", fmt_size(size, human, sizeof(human)));
	}
	dev_close(&d);
	return ret;
}
