// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig info`: who a device is, how it is bound, and which VFIO features its driver offers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev.h"
#include "mig.h"
#include "output.h"
#include "kinfo.h"
#include "pci.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_info(int argc, char **argv);

static const struct option info_options[] = {
	{ "no-open", no_argument, NULL, 'n' },
	{ 0 }
};

const struct vm_cmd cmd_info = {
	.name = "info",
	.run = run_info,
	.args = "DEV [--no-open]",
	.longopts = info_options,
	.summary = "show a device's identity, binding and VFIO features",
	.help = "Shows the PCI identity (libpci), the driver, the IOMMU group, the\n"
		"migration flags and state, the stop-copy size estimate, and for every\n"
		"device feature whether the driver supports it (VFIO_DEVICE_FEATURE_PROBE),\n"
		"and from sysfs and debugfs alone: the SR-IOV PF and VF number, the process\n"
		"holding the device, its runtime power state, the migration state VFIO's\n"
		"debugfs shows, the kernel release and the config that matters.\n"
		"\n"
		"  --no-open   read only what needs no open: opening a vfio-pci device\n"
		"              resets it. A device another process holds is never opened.\n",
};

/* The features info probes, with the directions that make sense for each. */
static const struct {
	const char *key;
	uint32_t feature;
	uint32_t dirs;
} features[] = {
	{ "migration", VFIO_DEVICE_FEATURE_MIGRATION, VFIO_FEAT_GET },
	{ "mig_device_state", VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, VFIO_FEAT_GET | VFIO_FEAT_SET },
	{ "mig_data_size", VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, VFIO_FEAT_GET },
	{ "low_power_entry", VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, VFIO_FEAT_SET },
	{ "low_power_entry_with_wakeup", VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, VFIO_FEAT_SET },
	{ "low_power_exit", VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, VFIO_FEAT_SET },
	{ "dma_logging_start", VFIO_DEVICE_FEATURE_DMA_LOGGING_START, VFIO_FEAT_SET },
	{ "dma_logging_stop", VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, VFIO_FEAT_SET },
	{ "dma_logging_report", VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, VFIO_FEAT_GET },
};

static const char *probe_verdict(int ret)
{
	switch (-ret) {
	case 0:
		return "supported";
	case ENOTTY:
		return "not supported by the kernel or the driver";
	case EINVAL:
		return "not supported in this direction";
	default:
		return vm_strerror(ret);
	}
}

static void show_features(const struct vm_dev *d)
{
	size_t i;
	int ret;

	out_text("features:\n");
	out_obj_open("features");
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		out_obj_open(features[i].key);
		out_text("  %-28s", features[i].key);
		if (features[i].dirs & VFIO_FEAT_GET) {
			ret = vfio_feature_probe(d->fd, features[i].feature, VFIO_FEAT_GET);
			out_bool("get", NULL, !ret);
			out_str("get_detail", " get: %s", probe_verdict(ret));
		}
		if (features[i].dirs & VFIO_FEAT_SET) {
			ret = vfio_feature_probe(d->fd, features[i].feature, VFIO_FEAT_SET);
			out_bool("set", NULL, !ret);
			out_str("set_detail", " set: %s", probe_verdict(ret));
		}
		out_text("\n");
		out_obj_close();
	}
	out_obj_close();
}

static void show_identity(const struct vm_dev *d)
{
	struct blob_header h;
	struct pci_ident id;
	char cls[16];

	out_str("device", "%s", d->name);
	out_str("kind", NULL, d->mdev ? "mdev" : "pci");
	if (d->mdev) {
		dev_identity(d, &h);
		out_str("mdev_type", " mdev type %s", h.mdev_type[0] ? h.mdev_type : "unknown");
		out_text("\n");
		return;
	}
	if (pci_identity(d->name, &id)) {
		out_text(" (libpci could not read it)\n");
		return;
	}
	out_str("class", " %s", id.class_name);
	out_str("vendor", ": %s", id.vendor_name);
	out_str("device_name", " %s", id.device_name);
	out_hex("vendor_id", " [%04" PRIx64, id.vendor);
	out_hex("device_id", ":%04" PRIx64 "]", id.device);
	out_hex("subsystem_vendor_id", " subsystem [%04" PRIx64, id.subsys_vendor);
	out_hex("subsystem_device_id", ":%04" PRIx64 "]", id.subsys_device);
	snprintf(cls, sizeof(cls), "0x%06x", id.class_code);
	out_str("class_code", NULL, cls);
	out_hex("revision", " (rev %02" PRIx64 ")\n", id.revision);
}

static void show_migration(struct vm_dev *d)
{
	char flags[64];
	enum mig_state s;
	uint64_t size;
	int ret;

	out_obj_open("migration");
	ret = vfio_mig_flags(d->fd, &d->mig_flags);
	out_bool("supported", NULL, !ret);
	if (ret) {
		out_str("reason", "migration: %s\n",
			ret == -ENOTTY ? "not supported by this driver" : vm_strerror(ret));
		out_obj_close();
		return;
	}
	out_str("flags", "migration: %s", mig_flags_str(d->mig_flags, flags, sizeof(flags)));
	if (!vfio_mig_get_state(d->fd, &s))
		out_str("state", "  state %s", mig_state_name(s));
	ret = vfio_mig_data_size(d->fd, &size);
	if (!ret)
		out_u64("stop_copy_size", "  stop-copy size ~%" PRIu64 " bytes", size);
	else
		out_null("stop_copy_size", "  stop-copy size unknown (MIG_DATA_SIZE needs kernel 6.2 and driver support)");
	out_text("\n");
	out_obj_close();
}

/* The kernel options a migration depends on: how devices open, dirty reports, the debugfs view. */
static const char *const core_config[] = {
	"VFIO_DEVICE_CDEV", "IOMMUFD", "IOMMUFD_DRIVER", "VFIO_DEBUGFS",
};

/* The migration-capable variant drivers, as doctor knows them. */
static const char *const variant_config[] = {
	"MLX5_VFIO_PCI", "HISI_ACC_VFIO_PCI", "PDS_VFIO_PCI", "VIRTIO_VFIO_PCI",
	"QAT_VFIO_PCI", "XE_VFIO_PCI", "NVGRACE_GPU_VFIO_PCI",
};

/* NAME=y|m|n for each option, in the JSON object already open and on the text line. */
static void show_config(const char *const *names, size_t count)
{
	char buf[4];
	size_t i;

	for (i = 0; i < count; i++) {
		char v = kinfo_config(names[i]);

		snprintf(buf, sizeof(buf), "%c", v ? v : '?');
		out_text(" %s=%s", names[i], buf);
		out_str(names[i], NULL, v ? buf : NULL);
	}
}

/* What needs no device fd: SR-IOV, holders, power, VFIO debugfs, the kernel. */
static int show_context(const struct vm_dev *d)
{
	struct holder h[4];
	char pf[64], buf[64];
	enum mig_state s;
	int vf, n, i;

	if (!dev_sriov(d, pf, sizeof(pf), &vf)) {
		out_obj_open("sriov");
		out_s64("vf", "sriov: VF %" PRId64, vf);
		out_str("pf", " of PF %s\n", pf);
		out_obj_close();
	}
	n = dev_holders(d, h, 4);
	out_arr_open("holders");
	for (i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_s64("pid", i ? ", pid %" PRId64 : "holder: pid %" PRId64, h[i].pid);
		out_str("comm", " (%s)", h[i].comm);
		out_obj_close();
	}
	out_arr_close();
	if (n > 0)
		out_text("\n");
	else
		out_text("holder: none\n");
	out_obj_open("power");
	if (!sysfs_read(d->sysfs, "power/runtime_status", buf, sizeof(buf)))
		out_str("runtime_status", "power: runtime %s", buf);
	if (!sysfs_read(d->sysfs, "power_state", buf, sizeof(buf)))
		out_str("power_state", ", %s", buf);
	out_obj_close();
	out_text("\n");
	if (!kinfo_debugfs_state(d->name, &s))
		out_str("debugfs_state", "debugfs migration state: %s\n", mig_state_name(s));
	out_obj_open("kernel");
	out_str("release", "kernel: %s", kinfo_release());
	out_str("config_source", " (config %s)", kinfo_config_source());
	out_obj_open("config");
	show_config(core_config, ARRAY_SIZE(core_config));
	out_text("\nvariant drivers:");
	show_config(variant_config, ARRAY_SIZE(variant_config));
	out_obj_close();
	out_obj_close();
	out_text("\n");
	return n;
}

static int info_option(int c, const char *arg, void *data)
{
	(void)arg;
	if (c != 'n')
		return -EINVAL;
	*(bool *)data = true;
	return 0;
}

static int run_info(int argc, char **argv)
{
	struct vfio_device_info info;
	struct vm_dev d;
	bool no_open = false;
	int ret, held;

	int optind = vm_getopt(&cmd_info, argc, argv, info_option, &no_open);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_info, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_lookup(argv[optind], &d);
	if (ret)
		return ret;
	show_identity(&d);
	out_str("driver", "driver %s", d.driver[0] ? d.driver : NULL);
	if (d.group >= 0)
		out_u64("iommu_group", "  iommu group %" PRIu64, d.group);
	else
		out_null("iommu_group", "  iommu group none");
	out_str("cdev", "  cdev %s\n", d.cdev[0] ? d.cdev : NULL);
	held = show_context(&d);
	/* A device in use is never opened: the open would fail, or reset it under its user. */
	if (held > 0 || no_open || !dev_is_vfio(&d)) {
		out_bool("opened", NULL, false);
		if (held > 0)
			vm_note("%s is held by another process: not opened, so no feature table", d.name);
		else if (dev_is_vfio(&d))
			vm_note("not opened (--no-open): no feature table");
		else
			vm_note("%s is not bound to a VFIO driver: nothing to open", d.name);
		return 0;
	}
	out_bool("opened", NULL, true);
	ret = dev_open(&d);
	if (ret)
		return ret;
	out_str("access", "access %s", d.via_cdev ? "cdev+iommufd" : "group+container");
	if (!vfio_device_info(d.fd, &info)) {
		out_bool("reset", "  reset %s", info.flags & VFIO_DEVICE_FLAGS_RESET);
		out_u64("regions", "  regions %" PRIu64, info.num_regions);
		out_u64("irqs", "  irqs %" PRIu64, info.num_irqs);
	}
	out_text("\n");
	show_migration(&d);
	show_features(&d);
	dev_close(&d);
	return 0;
}
