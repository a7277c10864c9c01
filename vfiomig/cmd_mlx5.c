// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig mlx5 migratable`: a VF's devlink port-function capability that mlx5 needs before a VF can migrate. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "devlink.h"
#include "output.h"
#include "sysfs.h"
#include "vfiomig.h"

static int run_migratable(int argc, char **argv);

static const struct option migratable_options[] = {
	{ "pf", required_argument, NULL, 'P' },
	{ "vf", required_argument, NULL, 'F' },
	{ 0 }
};

static const struct vm_cmd cmd_mlx5_migratable = {
	.name = "migratable",
	.run = run_migratable,
	.args = "DEV [on|off] | --pf HANDLE --vf N [on|off]",
	.summary = "read or set a VF's devlink 'migratable' capability",
	.help = "mlx5 migrates a VF only if the 'migratable' capability of its eswitch\n"
		"port function is set, and the capability can be changed only while the\n"
		"VF is bound to no driver. DEV is the VF; vfiomig finds its PF (sysfs\n"
		"physfn) and VF number, then the port on the PF's devlink instance\n"
		"(generic netlink, family devlink). The PF's eswitch must be in switchdev\n"
		"mode for VF ports to exist.\n"
		"\n"
		"  --pf HANDLE  the devlink instance: a PCI address or BUS/DEVICE\n"
		"               (pci/0000:3b:00.0, netdevsim/netdevsim1)\n"
		"  --vf N       the VF number on it\n"
		"\n"
		"With on or off, sets the capability; the kernel's own message (extack)\n"
		"is shown when it refuses.\n",
	.longopts = migratable_options,
};

static const struct vm_cmd *const mlx5_subcommands[] = { &cmd_mlx5_migratable, NULL };

const struct vm_cmd cmd_mlx5 = {
	.name = "mlx5",
	.sub = mlx5_subcommands,
	.summary = "the mlx5 layer: devlink capabilities of VFs",
};

struct target {
	char bus[32], dev[64];
	int vf;
	const char *pf_arg;
	const char *vf_arg;
};

static int migratable_option(int c, const char *arg, void *data)
{
	struct target *t = data;

	if (c == 'P')
		t->pf_arg = arg;
	else if (c == 'F')
		t->vf_arg = arg;
	else
		return -EINVAL;
	return 0;
}

/* "pci/0000:3b:00.0", "netdevsim/netdevsim1" or a PCI address. */
static int parse_handle(const char *arg, struct target *t)
{
	const char *slash = strchr(arg, '/');
	char name[64];

	if (slash && slash != arg && slash[1] && (size_t)(slash - arg) < sizeof(t->bus)) {
		snprintf(t->bus, sizeof(t->bus), "%.*s", (int)(slash - arg), arg);
		snprintf(t->dev, sizeof(t->dev), "%s", slash + 1);
		return 0;
	}
	if (dev_canonical(arg, name, sizeof(name)))
		return vm_usage("mlx5 migratable: invalid --pf '%s': use a PCI address or BUS/DEVICE such as pci/0000:3b:00.0",
				arg);
	snprintf(t->bus, sizeof(t->bus), "pci");
	snprintf(t->dev, sizeof(t->dev), "%s", name);
	return 0;
}

/* The PF of the VF D and D's number among its VFs, from sysfs. */
static int find_pf(const struct vm_dev *d, struct target *t)
{
	if (dev_sriov(d, t->dev, sizeof(t->dev), &t->vf))
		return vm_error(ENODEV, "cannot find the PF of", d->name,
				"name the devlink port with --pf HANDLE --vf N",
				"it is not an SR-IOV virtual function (no physfn in sysfs, or no virtfn link of its PF points to it)");
	snprintf(t->bus, sizeof(t->bus), "pci");
	return 0;
}

/* Why the kernel has no migratable capability to show for PORT. */
static const char *unsupported_reason(const struct devlink_port *port)
{
	return port->has_caps ? "the driver reports port-function capabilities, but not migratable"
			      : "the kernel or the driver reports no port-function capabilities (they need Linux 6.2 and a driver such as mlx5_core)";
}

/* No VF port: say whether the instance exists, and if so whether its eswitch explains it. */
static int no_port(struct devlink *dl, const struct target *t, const char *handle)
{
	char hint[256];
	int mode = -1, ret;

	ret = devlink_eswitch_mode(dl, t->bus, t->dev, &mode);
	if (ret == -ENODEV)
		return vm_error(ENODEV, "cannot find devlink instance", handle,
				"'devlink dev show' lists the instances",
				"the kernel has no devlink instance of that name");
	if (mode == 1)
		snprintf(hint, sizeof(hint), "'devlink port show' lists the VF ports of %s (flavour pcivf)",
			 handle);
	else
		snprintf(hint, sizeof(hint),
			 "VF ports exist in switchdev mode: devlink dev eswitch set %s mode switchdev", handle);
	return vm_error(ENODEV, "no eswitch port for", handle, hint,
			"the devlink instance has no port for VF %d%s", t->vf,
			mode == 1 ? " (its eswitch is in switchdev mode)" :
			mode == 0 ? " (its eswitch is in legacy mode)" : "");
}

static int run_migratable(int argc, char **argv)
{
	struct target t = { .vf = -1 };
	struct devlink_port port;
	struct devlink dl;
	struct vm_dev d = { 0 };
	char handle[128], portname[160], hint[256], *end;
	const char *set = NULL;
	bool supported, want_on;
	int ret, want, optind = vm_getopt(&cmd_mlx5_migratable, argc, argv, migratable_option, &t);

	if (optind < 0)
		return optind;
	want = t.pf_arg ? 0 : 1;
	if (argc - optind == want + 1)
		set = argv[argc - 1];
	else if (argc - optind != want)
		return vm_operands(&cmd_mlx5_migratable, argc, argv, optind, want);
	if (set && strcmp(set, "on") && strcmp(set, "off"))
		return vm_usage("mlx5 migratable: invalid value '%s': use on or off", set);
	want_on = set && !strcmp(set, "on");
	if (!t.pf_arg != !t.vf_arg)
		return vm_usage("mlx5 migratable: --pf and --vf go together");
	if (t.pf_arg) {
		ret = parse_handle(t.pf_arg, &t);
		if (ret)
			return ret;
		t.vf = (int)strtol(t.vf_arg, &end, 10);
		if (*end || !*t.vf_arg || t.vf < 0 || t.vf > 65535)
			return vm_usage("mlx5 migratable: invalid --vf '%s': use a VF number 0-65535",
					t.vf_arg);
	} else {
		ret = dev_lookup(argv[optind], &d);
		if (!ret)
			ret = find_pf(&d, &t);
		if (ret)
			return ret;
		/* mlx5 applies the capability when the VF's function is enabled: only an unbound VF takes it. */
		if (set && d.driver[0]) {
			snprintf(hint, sizeof(hint),
				 "unbind it first: echo %s > /sys/bus/pci/devices/%s/driver/unbind, then bind it to mlx5_vfio_pci",
				 d.name, d.name);
			return vm_error(EBUSY, "refusing to change the migratable capability of", d.name, hint,
					"it is bound to %s; the capability can only change while the VF has no driver",
					d.driver);
		}
	}
	snprintf(handle, sizeof(handle), "%s/%s", t.bus, t.dev);

	ret = devlink_open(&dl);
	if (ret == -ENOENT)
		return vm_error(EOPNOTSUPP, "cannot reach devlink for", handle,
				"a kernel with CONFIG_NET_DEVLINK", "the kernel has no devlink family");
	if (ret)
		return vm_error(ret, "cannot reach devlink for", handle, NULL, NULL);
	ret = devlink_vf_port(&dl, t.bus, t.dev, t.vf, &port);
	if (ret == -ENODEV) {
		ret = no_port(&dl, &t, handle);
		goto close_dl;
	}
	if (ret) {
		ret = vm_error(ret, "cannot list the ports of", handle, NULL, "%s%s%s",
			       vm_strerror(ret), dl.extack[0] ? "; the kernel says: " : "", dl.extack);
		goto close_dl;
	}
	/* Errors about the port name it as devlink does: BUS/DEVICE/INDEX. */
	snprintf(portname, sizeof(portname), "%s/%u", handle, port.index);
	out_str("device", NULL, d.name[0] ? d.name : NULL);
	out_str("devlink", "%s", handle);
	out_u64("vf", " VF %" PRIu64, t.vf);
	out_u64("port_index", " port %" PRIu64, port.index);
	supported = port.has_caps && (port.caps_supported & DEVLINK_CAP_MIGRATABLE);
	if (!supported && !set) {
		out_bool("supported", NULL, false);
		out_text("\n");
		ret = vm_error(EOPNOTSUPP, "migratable is not supported for", portname, NULL, "%s",
			       unsupported_reason(&port));
		goto close_dl;
	}
	if (set) {
		/* Asked even when unsupported: the kernel's own refusal is the authoritative one. */
		ret = devlink_set_migratable(&dl, &port, want_on);
		if (ret) {
			out_bool("supported", NULL, supported);
			out_text("\n");
			ret = vm_error(ret, "cannot set migratable for", portname,
				       ret == -EPERM ? "run it as root: changing a devlink port needs CAP_NET_ADMIN" : NULL,
				       "%s%s%s%s%s", vm_strerror(ret),
				       dl.extack[0] ? "; the kernel says: " : "", dl.extack,
				       supported ? "" : "; ", supported ? "" : unsupported_reason(&port));
			goto close_dl;
		}
		ret = devlink_vf_port(&dl, t.bus, t.dev, t.vf, &port);
		if (ret) {
			out_text("\n");
			ret = vm_error(ret, "cannot read back the port of", handle, NULL, NULL);
			goto close_dl;
		}
		supported = port.has_caps && (port.caps_supported & DEVLINK_CAP_MIGRATABLE);
		if (!supported || !(port.caps & DEVLINK_CAP_MIGRATABLE) != !want_on) {
			out_bool("supported", NULL, supported);
			out_text("\n");
			ret = vm_error(EIO, "migratable did not change on", portname, NULL,
				       "the kernel accepted '%s', but the port reads back %s", set,
				       !supported ? "no migratable capability" :
				       port.caps & DEVLINK_CAP_MIGRATABLE ? "on" : "off");
			goto close_dl;
		}
	}
	out_bool("supported", NULL, true);
	out_bool("migratable", NULL, port.caps & DEVLINK_CAP_MIGRATABLE);
	out_text(": migratable %s\n", port.caps & DEVLINK_CAP_MIGRATABLE ? "on" : "off");
close_dl:
	devlink_close(&dl);
	return ret;
}
