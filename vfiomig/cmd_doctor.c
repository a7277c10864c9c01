// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig doctor`: walk the chain a migration depends on, each link with a verdict and a remedy, without disturbing the device. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dev.h"
#include "devlink.h"
#include "kinfo.h"
#include "mig.h"
#include "output.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_doctor(int argc, char **argv);

static const struct option doctor_options[] = {
	{ "probe", no_argument, NULL, 'P' },
	{ 0 }
};

const struct vm_cmd cmd_doctor = {
	.name = "doctor",
	.run = run_doctor,
	.args = "DEV [--probe]",
	.summary = "check why a device would not migrate, link by link",
	.help = "Checks, each with ok, warn or fail and a remedy: the binding to a VFIO\n"
		"driver, a migration-capable driver, the IOMMU group, who holds the\n"
		"device, the kernel's version and config (dirty tracking, cdev), the\n"
		"migration state VFIO's debugfs shows, and for mlx5 VFs the devlink\n"
		"eswitch mode and 'migratable' capability. It reads sysfs, debugfs and\n"
		"netlink; the device is opened only with --probe and only if it is free\n"
		"(opening a vfio-pci device resets it).\n"
		"\n"
		"  --probe   also open a free device and ask its driver\n"
		"\n"
		"Exit status: 0 all ok, 6 a warning, 1 a failure.\n",
	.longopts = doctor_options,
};

enum verdict { V_OK, V_WARN, V_FAIL };

static const char *const verdict_names[] = { "ok", "warn", "fail" };

/* Drivers known to implement VFIO migration ops. */
static const char *const migration_drivers[] = {
	"mlx5_vfio_pci", "hisi_acc_vfio_pci", "pds_vfio_pci", "virtio_vfio_pci",
	"qat_vfio_pci", "xe_vfio_pci", "nvgrace_gpu_vfio_pci", "vfiomig_test", NULL,
};

struct doctor {
	enum verdict worst;
	bool probe;
};

static void check(struct doctor *doc, const char *name, enum verdict v, const char *remedy,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void check(struct doctor *doc, const char *name, enum verdict v, const char *remedy,
		  const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (v > doc->worst)
		doc->worst = v;
	out_obj_open(NULL);
	out_str("check", NULL, name);
	out_str("verdict", "  %-5s", verdict_names[v]);
	out_text("%-14s ", name);
	out_str("detail", "%s\n", detail);
	if (remedy)
		out_str("remedy", "        remedy: %s\n", remedy);
	else
		out_null("remedy", NULL);
	out_obj_close();
}

static bool known_migration_driver(const char *driver)
{
	const char *const *p;

	for (p = migration_drivers; *p; p++)
		if (!strcmp(*p, driver))
			return true;
	return false;
}

static void check_binding(struct doctor *doc, const struct vm_dev *d)
{
	char remedy[512];

	snprintf(remedy, sizeof(remedy),
		 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe (after unbinding it), or a migration-capable variant driver",
		 d->name, d->name);
	if (dev_is_vfio(d))
		check(doc, "binding", V_OK, NULL, "bound to %s, a VFIO driver", d->driver);
	else if (d->driver[0])
		check(doc, "binding", V_FAIL, remedy, "bound to %s, not to a VFIO driver", d->driver);
	else
		check(doc, "binding", V_FAIL, remedy, "not bound to any driver");

	if (!dev_is_vfio(d))
		return;
	if (d->mdev)
		check(doc, "driver", V_OK, NULL,
		      "%s is an mdev driver: whether it migrates shows in its migration flags", d->driver);
	else if (known_migration_driver(d->driver))
		check(doc, "driver", V_OK, NULL, "%s implements VFIO migration", d->driver);
	else if (!strcmp(d->driver, "vfio-pci"))
		check(doc, "driver", V_FAIL,
		      "bind the device's migration-capable variant driver (mlx5_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci, virtio_vfio_pci, qat_vfio_pci, xe_vfio_pci, ...)",
		      "plain vfio-pci has no migration support");
	else
		check(doc, "driver", V_WARN, "vfiomig doctor --probe asks the driver",
		      "%s is a VFIO driver vfiomig does not know: migration support unknown", d->driver);
}

struct group_ctx {
	const char *self;
	char bad[512];
	size_t off;
	int members;
};

static int group_member(const char *name, void *data)
{
	struct group_ctx *g = data;
	char dir[PATH_MAX], drv[64];

	g->members++;
	if (!strcmp(name, g->self))
		return 0;
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", name);
	/* A group is viable when every member is unbound or bound to a VFIO or stub driver. */
	if (sysfs_link_name(dir, "driver", drv, sizeof(drv)) || strstr(drv, "vfio") ||
	    !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport"))
		return 0;
	if (g->off < sizeof(g->bad))
		g->off += snprintf(g->bad + g->off, sizeof(g->bad) - g->off, "%s%s (%s)",
				   g->off ? ", " : "", name, drv);
	return 0;
}

static void check_group(struct doctor *doc, const struct vm_dev *d)
{
	struct group_ctx g = { d->name, "", 0, 0 };
	char dir[64], remedy[160];

	if (d->group < 0) {
		check(doc, "iommu_group", V_FAIL,
		      "enable the IOMMU: intel_iommu=on or amd_iommu=on on the kernel command line",
		      "the device has no IOMMU group");
		return;
	}
	if (d->mdev) {
		check(doc, "iommu_group", V_OK, NULL, "group %d, the mdev's own", d->group);
		return;
	}
	snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%d/devices", d->group);
	sysfs_each(dir, group_member, &g);
	snprintf(remedy, sizeof(remedy), "bind every device of group %d to vfio-pci or unbind it",
		 d->group);
	if (g.off)
		check(doc, "iommu_group", V_FAIL, remedy, "group %d is not viable: it also holds %s",
		      d->group, g.bad);
	else
		check(doc, "iommu_group", V_OK, NULL, "group %d is viable (%d member%s)", d->group,
		      g.members, g.members == 1 ? "" : "s");
}

static int check_holder(struct doctor *doc, const struct vm_dev *d)
{
	struct holder h[4];
	int n = dev_holders(d, h, 4);

	if (n > 0)
		check(doc, "holder", V_OK, NULL,
		      "held by pid %d (%s): doctor reads and does not open it", (int)h[0].pid, h[0].comm);
	else
		check(doc, "holder", V_OK, NULL, "free: nobody holds it");
	return n;
}

static void check_kernel(struct doctor *doc)
{
	const char *rel = kinfo_release();
	char dirty = kinfo_config("IOMMUFD_DRIVER"), cdev = kinfo_config("VFIO_DEVICE_CDEV");
	char iommufd = kinfo_config("IOMMUFD");

	if (!kinfo_at_least(5, 18))
		check(doc, "kernel", V_FAIL, "a kernel from 5.18 on",
		      "%s has no VFIO migration uAPI v2 (5.18)", rel);
	else if (!kinfo_at_least(6, 2))
		check(doc, "kernel", V_WARN, "a kernel from 6.2 on for pre-copy",
		      "%s: migration and DMA logging, but no pre-copy or MIG_DATA_SIZE (6.2)", rel);
	else
		check(doc, "kernel", V_OK, NULL, "%s: migration, pre-copy, DMA logging%s", rel,
		      kinfo_at_least(6, 6) ? ", VFIO cdev uAPI" : "");

	/* From 6.8 the dirty bitmap code lives in iommufd and is built only with IOMMUFD_DRIVER. */
	if (!kinfo_at_least(6, 8))
		check(doc, "dirty_tracking", V_OK, NULL, "DMA logging reports are built in before 6.8");
	else if (dirty == 'y')
		check(doc, "dirty_tracking", V_OK, NULL, "CONFIG_IOMMUFD_DRIVER=y: DMA logging reports work");
	else if (dirty == 'n')
		check(doc, "dirty_tracking", V_WARN,
		      "a kernel with CONFIG_IOMMUFD_DRIVER (selected by CONFIG_IOMMUFD); until then QEMU cannot use device dirty tracking",
		      "CONFIG_IOMMUFD_DRIVER is not set: DMA_LOGGING_REPORT fails with EOPNOTSUPP for every driver");
	else
		check(doc, "dirty_tracking", V_WARN, "install /boot/config-RELEASE",
		      "the kernel config is not readable: cannot tell whether DMA logging reports work");

	/* kinfo_config() answers 'n' for an option that is not set: only y and m mean built. */
	if (cdev == 'y' && (iommufd == 'y' || iommufd == 'm'))
		check(doc, "cdev", V_OK, NULL,
		      "VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV=y) and iommufd (CONFIG_IOMMUFD=%c) are built (%s)",
		      iommufd, kinfo_config_source());
	else if (cdev)
		check(doc, "cdev", V_OK, NULL, "no VFIO device cdevs: devices open through their group");
}

static void check_state(struct doctor *doc, const struct vm_dev *d, bool held)
{
	enum mig_state s;
	char hint[128];

	if (kinfo_debugfs_state(d->name, &s))
		return;
	snprintf(hint, sizeof(hint), "vfiomig reset %s, when its holder allows", d->name);
	if (s == MIG_ERROR)
		check(doc, "state", held ? V_WARN : V_FAIL, hint, "the device is in error (VFIO debugfs)");
	else
		check(doc, "state", V_OK, NULL, "%s (VFIO debugfs)", mig_state_name(s));
}

static void check_mlx5(struct doctor *doc, const struct vm_dev *d)
{
	char pf[64], pfdir[PATH_MAX], pfdrv[64] = "", handle[96], remedy[384];
	struct devlink_port port;
	struct devlink dl;
	int vf, mode, ret;

	if (dev_sriov(d, pf, sizeof(pf), &vf))
		return;
	snprintf(pfdir, sizeof(pfdir), "/sys/bus/pci/devices/%s", pf);
	sysfs_link_name(pfdir, "driver", pfdrv, sizeof(pfdrv));
	if (strcmp(d->driver, "mlx5_vfio_pci") && strcmp(pfdrv, "mlx5_core"))
		return;
	snprintf(handle, sizeof(handle), "pci/%s", pf);
	if (devlink_open(&dl)) {
		check(doc, "mlx5_devlink", V_WARN, "a kernel with CONFIG_NET_DEVLINK",
		      "devlink is not reachable: cannot check the VF's migratable capability");
		return;
	}
	ret = devlink_eswitch_mode(&dl, "pci", pf, &mode);
	snprintf(remedy, sizeof(remedy), "devlink dev eswitch set %s mode switchdev", handle);
	if (ret)
		check(doc, "mlx5_eswitch", V_FAIL, remedy, "the eswitch mode of %s is not readable: %s",
		      handle, vm_strerror(ret));
	else if (mode < 0)
		/* The driver answered without a mode attribute: nothing says it is legacy. */
		check(doc, "mlx5_eswitch", V_WARN, remedy,
		      "the eswitch mode of %s is unknown: devlink reports no mode for it", handle);
	else if (mode != 1)
		check(doc, "mlx5_eswitch", V_FAIL, remedy,
		      "the eswitch of %s is in legacy mode: VF ports and their capabilities do not exist",
		      handle);
	else
		check(doc, "mlx5_eswitch", V_OK, NULL, "the eswitch of %s is in switchdev mode", handle);
	ret = devlink_vf_port(&dl, "pci", pf, vf, &port);
	snprintf(remedy, sizeof(remedy),
		 "unbind VF %s, run 'vfiomig mlx5 migratable %s on', then bind it to mlx5_vfio_pci",
		 d->name, d->name);
	if (ret)
		check(doc, "mlx5_migratable", V_FAIL, NULL, "no devlink port for VF %d of %s", vf, handle);
	else if (!port.has_caps || !(port.caps_supported & DEVLINK_CAP_MIGRATABLE))
		check(doc, "mlx5_migratable", V_FAIL, "a kernel from 6.2 on and current mlx5 firmware",
		      "port %u of %s reports no migratable capability", port.index, handle);
	else if (!(port.caps & DEVLINK_CAP_MIGRATABLE))
		check(doc, "mlx5_migratable", V_FAIL, remedy, "VF %d (port %u) is not migratable", vf,
		      port.index);
	else
		check(doc, "mlx5_migratable", V_OK, NULL, "VF %d (port %u of %s) is migratable", vf,
		      port.index, handle);
	devlink_close(&dl);
}

static void check_probe(struct doctor *doc, struct vm_dev *d)
{
	char flags[64];
	enum mig_state s;
	int ret = dev_open(d);

	if (ret) {
		vm_error_reset();
		check(doc, "probe", V_FAIL, "see 'vfiomig info' for the reason", "the device did not open");
		return;
	}
	ret = vfio_mig_flags(d->fd, &d->mig_flags);
	if (ret == -ENOTTY)
		check(doc, "probe", V_FAIL, "a migration-capable driver",
		      "the driver answers no migration feature (ENOTTY)");
	else if (ret)
		check(doc, "probe", V_FAIL, NULL, "VFIO_DEVICE_FEATURE_MIGRATION: %s", vm_strerror(ret));
	else if (vfio_mig_get_state(d->fd, &s))
		check(doc, "probe", V_WARN, NULL, "flags %s, but the state is not readable",
		      mig_flags_str(d->mig_flags, flags, sizeof(flags)));
	else
		check(doc, "probe", s == MIG_ERROR ? V_FAIL : V_OK, NULL, "flags %s, state %s",
		      mig_flags_str(d->mig_flags, flags, sizeof(flags)), mig_state_name(s));
	dev_close(d);
}

static int doctor_option(int c, const char *arg, void *data)
{
	(void)arg;
	if (c != 'P')
		return -EINVAL;
	((struct doctor *)data)->probe = true;
	return 0;
}

static int run_doctor(int argc, char **argv)
{
	struct doctor doc = { V_OK, false };
	struct vm_dev d;
	int ret, held, optind = vm_getopt(&cmd_doctor, argc, argv, doctor_option, &doc);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_doctor, argc, argv, optind, 1);
	if (!ret)
		ret = dev_lookup(argv[optind], &d);
	if (ret)
		return ret;
	out_str("device", "doctor %s\n", d.name);
	out_arr_open("checks");
	check_binding(&doc, &d);
	check_group(&doc, &d);
	held = check_holder(&doc, &d);
	check_kernel(&doc);
	check_state(&doc, &d, held > 0);
	check_mlx5(&doc, &d);
	if (doc.probe && !held && dev_is_vfio(&d))
		check_probe(&doc, &d);
	out_arr_close();
	out_str("verdict", "verdict %s\n", verdict_names[doc.worst]);
	if (doc.worst == V_OK)
		return 0;
	/* The exit status is the worst verdict's: 6 for a warning, 1 for a failure. */
	vm_set_status(doc.worst == V_WARN ? VM_EXIT_WARN : VM_EXIT_FAILURE);
	return -EIO;
}
