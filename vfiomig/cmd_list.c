// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig list`: every device bound to a VFIO driver, who holds it, and what it can migrate, without disturbing it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "dev.h"
#include "kinfo.h"
#include "mig.h"
#include "output.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

#define MAX_SHOWN_HOLDERS 4

static int run_list(int argc, char **argv);

static const struct option list_options[] = {
	{ "probe", no_argument, NULL, 'P' },
	{ 0 }
};

const struct vm_cmd cmd_list = {
	.name = "list",
	.run = run_list,
	.summary = "list the devices bound to VFIO drivers",
	.help = "Lists PCI functions bound to a VFIO driver (vfio-pci or a variant) and\n"
		"mdevs: address, driver, IOMMU group, the process holding it, and its\n"
		"migration flags and state from VFIO's debugfs where the kernel has it\n"
		"(about 6.10 on). Nothing is opened unless asked:\n"
		"\n"
		"  --probe   open the devices nobody holds to read their migration flags\n"
		"            and state (opening a vfio-pci device resets it)\n",
	.longopts = list_options,
};

struct list_ctx {
	bool probe, mdev;
	int count;
};

static int list_option(int c, const char *arg, void *data)
{
	(void)arg;
	if (c != 'P')
		return -EINVAL;
	((struct list_ctx *)data)->probe = true;
	return 0;
}

static void show_migration(struct vm_dev *d, bool held, bool probe)
{
	enum mig_state s;
	uint64_t flags;
	char buf[64];
	bool have_flags = false, have_state = false, none = false;
	const char *source = NULL, *shown = NULL;
	int ret;

	if (!kinfo_debugfs_features(d->name, &flags)) {
		have_flags = true;
		source = "debugfs";
	}
	if (!kinfo_debugfs_state(d->name, &s)) {
		have_state = true;
		source = "debugfs";
	}
	if (!have_flags && probe && !held && !dev_open(d)) {
		/* A probe: this open resets a vfio-pci function, which is why it is asked for. */
		ret = vfio_mig_flags(d->fd, &flags);
		if (!ret) {
			have_flags = true;
			have_state = !vfio_mig_get_state(d->fd, &s);
		}
		/* Only the driver's own ENOTTY says "no migration"; anything else leaves it unknown. */
		none = ret == -ENOTTY;
		source = "probe";
		dev_close(d);
	}
	/*
	 * Some kernels' debugfs has the state but no features file (6.12): the
	 * flags are then unknown, not absent.
	 */
	if (have_flags)
		shown = mig_flags_str(flags, buf, sizeof(buf));
	else if (none)
		shown = "none";
	out_obj_open("migration");
	out_str("flags", "  %-22s", shown);
	out_str("state", " %-12s", have_state ? mig_state_name(s) : NULL);
	out_str("source", NULL, source);
	out_obj_close();
}

static int list_one(const char *name, void *data)
{
	struct list_ctx *c = data;
	struct holder h[MAX_SHOWN_HOLDERS];
	char path[PATH_MAX], who[64] = "-";
	struct vm_dev d;
	int n, i;

	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s", c->mdev ? "mdev" : "pci", name);
	if (dev_lookup(path, &d) || !dev_is_vfio(&d))
		return 0;
	c->count++;
	n = dev_holders(&d, h, MAX_SHOWN_HOLDERS);
	if (n > 0)
		snprintf(who, sizeof(who), "%d (%s)", (int)h[0].pid, h[0].comm);

	out_obj_open(NULL);
	out_str("device", "%-36s", d.name);
	out_str("kind", NULL, d.mdev ? "mdev" : "pci");
	out_str("driver", " %-16s", d.driver);
	if (d.group >= 0)
		out_s64("iommu_group", " %5" PRId64, d.group);
	else
		out_null("iommu_group", "     -");
	out_arr_open("holders");
	for (i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_s64("pid", NULL, h[i].pid);
		out_str("comm", NULL, h[i].comm);
		out_obj_close();
	}
	out_arr_close();
	out_text("  %-20s", who);
	show_migration(&d, n > 0, c->probe);
	out_text("\n");
	out_obj_close();
	return 0;
}

static int run_list(int argc, char **argv)
{
	struct list_ctx c = { 0 };
	int ret, optind = vm_getopt(&cmd_list, argc, argv, list_option, &c);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_list, argc, argv, optind, 0);
	if (ret)
		return ret;
	out_text("%-36s %-16s %5s  %-20s  %-22s %s\n", "DEVICE", "DRIVER", "GROUP", "HOLDER",
		 "MIGRATION", "STATE");
	out_arr_open("devices");
	sysfs_each("/sys/bus/pci/devices", list_one, &c);
	c.mdev = true;
	sysfs_each("/sys/bus/mdev/devices", list_one, &c);
	out_arr_close();
	if (!c.count)
		vm_note("no device is bound to a VFIO driver");
	return 0;
}
