// SPDX-License-Identifier: GPL-2.0-or-later
/* Finding and opening VFIO devices and changing their migration state, with every failure explained. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "dev.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

#define MAX_HOLDERS 4

static void dev_init(struct vm_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->group = -1;
	d->fd = d->group_fd = d->container_fd = d->iommufd = d->data_fd = -1;
	d->wake.fd = -1;
	d->wake.woke_after = -1;
}

/* Fills what sysfs knows about the device at D->sysfs. */
static void dev_facts(struct vm_dev *d)
{
	char grp[32];

	if (sysfs_link_name(d->sysfs, "driver", d->driver, sizeof(d->driver)))
		d->driver[0] = '\0';
	if (!sysfs_link_name(d->sysfs, "iommu_group", grp, sizeof(grp)))
		d->group = atoi(grp);
	if (sysfs_find_entry(d->sysfs, "vfio-dev", "vfio", d->cdev, sizeof(d->cdev)))
		d->cdev[0] = '\0';
}

/* Resolves a /sys path (or a link into /sys/devices) to a PCI function or an mdev. */
static int lookup_sysfs(const char *arg, const char *path, struct vm_dev *d)
{
	struct vm_addr a;
	char real[PATH_MAX], subsys[32], why[128];
	const char *base;

	if (!realpath(path, real))
		return vm_usage("no such device '%s': %s", arg, vm_strerror(errno));
	base = strrchr(real, '/') + 1;
	if (sysfs_link_name(real, "subsystem", subsys, sizeof(subsys)) ||
	    (strcmp(subsys, "pci") && strcmp(subsys, "mdev")) ||
	    addr_parse(base, &a, why, sizeof(why)) ||
	    (a.kind != ADDR_PCI && a.kind != ADDR_MDEV))
		return vm_usage("not a PCI function or mdev '%s': %s is not a device vfiomig can drive",
				arg, real);
	d->mdev = !strcmp(subsys, "mdev");
	snprintf(d->name, sizeof(d->name), "%s", base);
	snprintf(d->sysfs, sizeof(d->sysfs), "%s", real);
	return 0;
}

int dev_lookup(const char *arg, struct vm_dev *d)
{
	char why[128], path[PATH_MAX];
	struct vm_addr a;
	int ret;

	dev_init(d);
	if (addr_parse(arg, &a, why, sizeof(why)))
		return vm_usage("invalid device address '%s': %s", arg, why);

	switch (a.kind) {
	case ADDR_PCI:
	case ADDR_MDEV:
		addr_name(&a, d->name, sizeof(d->name));
		snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s",
			 a.kind == ADDR_PCI ? "pci" : "mdev", d->name);
		if (access(path, F_OK))
			return vm_usage("no such device '%s': %s does not exist%s", arg, path,
					a.kind == ADDR_PCI ? " ('lspci -D' lists PCI functions)" :
					" ('ls /sys/bus/mdev/devices' lists mdevs)");
		ret = lookup_sysfs(arg, path, d);
		break;
	case ADDR_SYSFS:
		ret = lookup_sysfs(arg, a.path, d);
		break;
	case ADDR_CDEV:
		if (access(a.path, F_OK))
			return vm_usage("no such device '%s': %s", arg, vm_strerror(errno));
		snprintf(path, sizeof(path), "/sys/class/vfio-dev/vfio%u/device", a.cdev);
		ret = lookup_sysfs(arg, path, d);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	dev_facts(d);
	return 0;
}

bool dev_is_vfio(const struct vm_dev *d)
{
	if (!d->driver[0])
		return false;
	/* mdev drivers exist only for VFIO; PCI drivers show a vfio-dev entry or their name. */
	return d->mdev || d->cdev[0] || strstr(d->driver, "vfio");
}

/*
 * Appends "pid 1234 (qemu-system-x86) through PATH" for whoever has PATH
 * open and is not listed yet; returns how many it added.
 */
static int add_holders(const char *path, struct holder *seen, int *nseen, char *buf, size_t len,
		       size_t *off)
{
	struct holder h[MAX_HOLDERS];
	int n = proc_holders(path, h, MAX_HOLDERS), added = 0, i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < *nseen && seen[j].pid != h[i].pid; j++)
			;
		if (j < *nseen || *nseen == 2 * MAX_HOLDERS || *off >= len)
			continue;
		seen[(*nseen)++] = h[i];
		*off += snprintf(buf + *off, len - *off, "%s pid %d (%s) through %s",
				 *nseen > 1 ? "," : "", (int)h[i].pid, h[i].comm, path);
		added++;
	}
	return added;
}

/*
 * "in use by pid 1234 (qemu-system-x86) through /dev/vfio/12": whoever has
 * the device's group node or its cdev open, since a holder of either keeps
 * every other user out (the group node by open(), a bound cdev by
 * BIND_IOMMUFD). Returns the number of holders found.
 */
static int describe_holders(const struct vm_dev *d, char *buf, size_t len)
{
	struct holder seen[2 * MAX_HOLDERS];
	char path[64];
	int nseen = 0, n = 0;
	size_t off = snprintf(buf, len, "in use by");

	if (d->group >= 0) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", d->group);
		n += add_holders(path, seen, &nseen, buf, len, &off);
	}
	if (d->cdev[0]) {
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
		n += add_holders(path, seen, &nseen, buf, len, &off);
	}
	if (!n)
		snprintf(buf, len, "in use by another process (none visible in /proc%s)",
			 geteuid() ? "; run as root to see all" : "");
	return n;
}

static int explain_busy(struct vm_dev *d)
{
	char reason[512];

	describe_holders(d, reason, sizeof(reason));
	return vm_error(EBUSY, "cannot open", d->name,
			"a VFIO device has one user at a time: stop that process first", "%s", reason);
}

/*
 * Drivers that leave a group viable: VFIO's own, and the kernel drivers
 * that declare they do no DMA of their own (pci-stub, PCIe port services).
 */
static bool driver_keeps_viable(const char *dir, const char *drv)
{
	char vfio[32];

	return !drv[0] || strstr(drv, "vfio") || !strcmp(drv, "pci-stub") ||
	       !strcmp(drv, "pcieport") ||
	       !sysfs_find_entry(dir, "vfio-dev", "vfio", vfio, sizeof(vfio));
}

struct group_scan {
	const char *self;
	int group;
	char *buf;
	size_t len, off;
	char *blockers;
	size_t blen, boff;
	int nblockers;
};

static int list_group_member(const char *name, void *data)
{
	struct group_scan *s = data;
	char dir[PATH_MAX], drv[64];

	if (!strcmp(name, s->self))
		return 0;
	snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%d/devices/%s", s->group, name);
	if (sysfs_link_name(dir, "driver", drv, sizeof(drv)))
		drv[0] = '\0';
	if (s->off < s->len)
		s->off += snprintf(s->buf + s->off, s->len - s->off, "%s%s (%s)",
				   s->off ? ", " : "", name, drv[0] ? drv : "no driver");
	if (!driver_keeps_viable(dir, drv)) {
		if (s->boff < s->blen)
			s->boff += snprintf(s->blockers + s->boff, s->blen - s->boff,
					    "%secho %s > /sys/bus/pci/drivers/%s/unbind",
					    s->boff ? "; " : "", name, drv);
		s->nblockers++;
	}
	return 0;
}

/* Lists the other devices of D's group with their drivers; the count of those whose driver owns DMA. */
static int scan_group(const struct vm_dev *d, struct group_scan *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", d->group);
	sysfs_each(path, list_group_member, s);
	return s->nblockers;
}

/*
 * A group is viable when no device in it is bound to a kernel driver that
 * does DMA: VFIO cannot isolate one device of a group from the others.
 * ERR is what the kernel answered (EPERM from BIND_IOMMUFD, or a synthetic
 * EBUSY for GROUP_GET_STATUS without the VIABLE flag).
 */
static int explain_not_viable(struct vm_dev *d, int err)
{
	char members[512] = "", blockers[512] = "", hint[768];
	struct group_scan scan = { d->name, d->group, members, sizeof(members), 0,
				   blockers, sizeof(blockers), 0, 0 };

	scan_group(d, &scan);
	if (blockers[0])
		snprintf(hint, sizeof(hint),
			 "bind every device of group %d to vfio-pci, or unbind the ones with other drivers: %s",
			 d->group, blockers);
	else
		snprintf(hint, sizeof(hint),
			 "bind every device of group %d to vfio-pci, or unbind it from its driver", d->group);
	return vm_error(err, "cannot open", d->name, hint,
			"IOMMU group %d is not viable: it also holds %s", d->group,
			members[0] ? members : "devices bound to other drivers");
}

static int explain_open_errno(struct vm_dev *d, int err, const char *path)
{
	char hint[256];

	switch (-err) {
	case EBUSY:
		return explain_busy(d);
	case EACCES:
	case EPERM:
		snprintf(hint, sizeof(hint), "run as root, or give your user access to %s", path);
		return vm_error(err, "cannot open", d->name, hint, "permission denied on %s", path);
	case ENOENT:
		return vm_error(err, "cannot open", d->name,
				"load the VFIO modules: modprobe vfio-pci", "%s does not exist", path);
	default:
		return vm_error(err, "cannot open", d->name, NULL, "%s: %s", path, vm_strerror(err));
	}
}

static int open_legacy(struct vm_dev *d)
{
	char path[64];
	bool viable;
	int ret;

	if (d->group < 0)
		return vm_error(ENODEV, "cannot open", d->name,
				"enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line)",
				"the device has no IOMMU group");
	ret = vfio_container_open(&d->container_fd);
	if (ret == -EOPNOTSUPP)
		return vm_error(ret, "cannot open", d->name, "modprobe vfio_iommu_type1",
				"the VFIO container offers no type1v2 IOMMU");
	if (ret)
		return explain_open_errno(d, ret, "/dev/vfio/vfio");

	/* EBUSY here: another process has the group node open, or a cdev user has the device bound. */
	snprintf(path, sizeof(path), "/dev/vfio/%d", d->group);
	ret = vfio_group_open(d->group, &d->group_fd);
	if (ret)
		return explain_open_errno(d, ret, path);
	ret = vfio_group_viable(d->group_fd, &viable);
	if (ret)
		return vm_error(ret, "cannot query IOMMU group of", d->name, NULL, NULL);
	if (!viable)
		return explain_not_viable(d, -EBUSY);
	ret = vfio_group_attach(d->group_fd, d->container_fd);
	if (ret)
		return vm_error(ret, "cannot attach IOMMU group of", d->name, NULL,
				"group %d: %s", d->group, vm_strerror(ret));
	ret = vfio_group_device(d->group_fd, d->name, &d->fd);
	if (ret == -EBUSY)
		return explain_busy(d);
	if (ret)
		return vm_error(ret, "cannot open", d->name, NULL, "VFIO_GROUP_GET_DEVICE_FD: %s",
				vm_strerror(ret));
	return 0;
}

/*
 * BIND_IOMMUFD is where the cdev path finds out that the device is taken:
 * opening the cdev itself succeeds for any number of processes.
 */
static int explain_bind(struct vm_dev *d, int err)
{
	char reason[512], hint[256];
	struct group_scan scan = { d->name, d->group, NULL, 0, 0, NULL, 0, 0, 0 };

	switch (-err) {
	case EBUSY:
		/* A process has the group node open (the legacy way). */
		return explain_busy(d);
	case EINVAL:
		/* Another cdev user has it bound (the cdev way has no shared opens); else a refusal of ours. */
		if (describe_holders(d, reason, sizeof(reason)) > 0)
			return explain_busy(d);
		break;
	case EPERM:
		/* A kernel driver owns DMA for the group; or the IOMMU cannot isolate interrupts. */
		if (d->group >= 0 && scan_group(d, &scan) > 0)
			return explain_not_viable(d, err);
		snprintf(hint, sizeof(hint), "try --legacy; check that the IOMMU remaps interrupts (dmesg | grep -i remapping)");
		return vm_error(err, "cannot open", d->name, hint,
				"the kernel refused to bind it to iommufd (VFIO_DEVICE_BIND_IOMMUFD: EPERM) although no other device of its IOMMU group has a kernel driver: the IOMMU may lack interrupt remapping");
	}
	return vm_error(err, "cannot open", d->name, NULL, "VFIO_DEVICE_BIND_IOMMUFD: %s",
			vm_strerror(err));
}

static int open_cdev(struct vm_dev *d)
{
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
	ret = vfio_cdev_open(path, &d->fd);
	if (ret)
		return explain_open_errno(d, ret, path);
	ret = vfio_iommufd_open(&d->iommufd);
	if (ret)
		return explain_open_errno(d, ret, "/dev/iommu");
	ret = vfio_cdev_bind(d->fd, d->iommufd);
	if (ret)
		return explain_bind(d, ret);
	ret = vfio_cdev_attach_ioas(d->fd, d->iommufd);
	if (ret)
		return vm_error(ret, "cannot open", d->name, NULL,
				"attaching it to an empty IOMMU address space (IOMMU_IOAS_ALLOC, VFIO_DEVICE_ATTACH_IOMMUFD_PT): %s",
				vm_strerror(ret));
	d->via_cdev = true;
	return 0;
}

#define MAX_HELD 16

static struct vm_dev held[MAX_HELD];
static int nheld;
static bool hold_new;

struct vm_dev *dev_held_find(const char *name)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (!strcmp(held[i].name, name))
			return &held[i];
	return NULL;
}

struct vm_dev *dev_held_nth(int n)
{
	return n >= 0 && n < nheld ? &held[n] : NULL;
}

int dev_hold(struct vm_dev *d)
{
	if (d->owner || dev_held_find(d->name))
		return 0;
	if (nheld == MAX_HELD)
		return vm_error(EMFILE, "cannot hold", d->name, "close another device first",
				"this process already holds %d devices", MAX_HELD);
	held[nheld] = *d;
	held[nheld].owner = NULL;
	d->owner = &held[nheld++];
	return 0;
}

bool dev_hold_opens(bool on)
{
	bool was = hold_new;

	hold_new = on;
	return was;
}

void dev_release_all(void)
{
	while (nheld > 0)
		dev_close(&held[--nheld]);
}

/* Takes the fds of the held device H for one command. */
static void borrow(struct vm_dev *d, struct vm_dev *h)
{
	d->fd = h->fd;
	d->group_fd = h->group_fd;
	d->container_fd = h->container_fd;
	d->iommufd = h->iommufd;
	d->via_cdev = h->via_cdev;
	d->data_fd = h->data_fd;
	d->owner = h;
}

int dev_open(struct vm_dev *d)
{
	char hint[512];
	bool cdev_ok = d->cdev[0] && !access("/dev/iommu", F_OK);
	struct vm_dev *h = dev_held_find(d->name);
	int ret;

	if (h) {
		borrow(d, h);
		return 0;
	}

	if (!dev_is_vfio(d)) {
		const char *p = "/sys/bus/pci/devices";

		if (d->driver[0])
			snprintf(hint, sizeof(hint),
				 "bind it to vfio-pci: echo vfio-pci > %s/%s/driver_override; echo %s > %s/%s/driver/unbind; echo %s > /sys/bus/pci/drivers_probe",
				 p, d->name, d->name, p, d->name, d->name);
		else
			snprintf(hint, sizeof(hint),
				 "bind it to vfio-pci: echo vfio-pci > %s/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe",
				 p, d->name, d->name);
		if (d->driver[0])
			return vm_error(ENODEV, "cannot open", d->name, d->mdev ? NULL : hint,
					"bound to %s, not to a VFIO driver", d->driver);
		return vm_error(ENODEV, "cannot open", d->name, d->mdev ? NULL : hint,
				"not bound to any driver");
	}
	switch (vm_opts.open_mode) {
	case VM_OPEN_IOMMUFD:
		if (!d->cdev[0])
			return vm_error(EOPNOTSUPP, "cannot open", d->name,
					"use --legacy, or a kernel with CONFIG_VFIO_DEVICE_CDEV",
					"the kernel made no VFIO cdev for it");
		if (access("/dev/iommu", F_OK))
			return vm_error(EOPNOTSUPP, "cannot open", d->name,
					"use --legacy, or load iommufd (CONFIG_IOMMUFD)",
					"/dev/iommu does not exist");
		ret = open_cdev(d);
		break;
	case VM_OPEN_LEGACY:
		ret = open_legacy(d);
		break;
	default:
		ret = cdev_ok ? open_cdev(d) : open_legacy(d);
	}
	vm_debug("open %s through %s: %s", d->name, d->via_cdev ? "cdev+iommufd" : "group+container",
		 ret ? "failed" : "ok");
	if (ret)
		dev_close(d);
	else if (hold_new)
		ret = dev_hold(d);
	return ret;
}

void dev_close(struct vm_dev *d)
{
	int *fds[] = { &d->data_fd, &d->fd, &d->iommufd, &d->group_fd, &d->container_fd, &d->wake.fd };
	size_t i;

	if (d->owner) {
		/* Only the data fd can have changed hands during the command. */
		d->owner->data_fd = d->data_fd;
		d->owner->mig_flags = d->mig_flags;
		for (i = 0; i < ARRAY_SIZE(fds); i++)
			*fds[i] = -1;
		d->owner = NULL;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	/* A held device itself: this process holds it no more (its session took it over). */
	if (d >= held && d < held + nheld) {
		memmove(d, d + 1, (held + nheld - d - 1) * sizeof(*d));
		nheld--;
	}
}

int dev_holders(const struct vm_dev *d, struct holder *h, int max)
{
	char path[64];
	int n = 0, ret;

	if (d->group >= 0) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", d->group);
		ret = proc_holders(path, h, max);
		n = ret > 0 ? ret : 0;
	}
	if (d->cdev[0] && n < max) {
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
		ret = proc_holders(path, h + n, max - n);
		n += ret > 0 ? ret : 0;
	}
	return n;
}

int dev_sriov(const struct vm_dev *d, char *pf, size_t len, int *vf)
{
	char dir[PATH_MAX], link[32], name[64];
	int i;

	if (d->mdev || sysfs_link_name(d->sysfs, "physfn", pf, len))
		return -ENODEV;
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", pf);
	for (i = 0; i < 65536; i++) {
		snprintf(link, sizeof(link), "virtfn%d", i);
		if (sysfs_link_name(dir, link, name, sizeof(name)))
			break;
		if (!strcmp(name, d->name)) {
			*vf = i;
			return 0;
		}
	}
	return -ENODEV;
}

int dev_canonical(const char *arg, char *name, size_t len)
{
	char why[128], path[PATH_MAX], real[PATH_MAX];
	struct vm_addr a;

	if (addr_parse(arg, &a, why, sizeof(why)))
		return -EINVAL;
	if (a.kind == ADDR_PCI || a.kind == ADDR_MDEV) {
		addr_name(&a, name, len);
		return 0;
	}
	if (a.kind == ADDR_CDEV)
		snprintf(path, sizeof(path), "/sys/class/vfio-dev/vfio%u/device", a.cdev);
	else
		snprintf(path, sizeof(path), "%s", a.path);
	if (!realpath(path, real))
		return -errno;
	if (strlen(strrchr(real, '/') + 1) >= len)
		return -ENAMETOOLONG;
	strcpy(name, strrchr(real, '/') + 1);
	return 0;
}

int dev_get(const char *arg, struct vm_dev *d)
{
	int ret = dev_lookup(arg, d);

	return ret ? ret : dev_open(d);
}

int dev_mig_init(struct vm_dev *d)
{
	int ret = vfio_mig_flags(d->fd, &d->mig_flags);

	if (ret == -ENOTTY)
		return vm_error(ret, "migration is not supported by", d->name,
				"migration needs a variant driver (mlx5_vfio_pci, hisi_acc_vfio_pci, ...) or an mdev driver that implements it",
				"driver %s has no migration support", d->driver);
	if (ret)
		return vm_error(ret, "cannot read migration flags of", d->name, NULL, NULL);
	return 0;
}

int dev_open_mig(struct vm_dev *d, enum mig_state *state)
{
	int ret = dev_open(d);

	if (ret)
		return ret;
	ret = dev_mig_init(d);
	if (!ret)
		ret = dev_get_state(d, state);
	if (ret)
		dev_close(d);
	return ret;
}

int dev_get_state(struct vm_dev *d, enum mig_state *state)
{
	int ret = vfio_mig_get_state(d->fd, state);

	if (ret == -ENOTTY)
		return vm_error(ret, "migration is not supported by", d->name, NULL,
				"driver %s has no migration support", d->driver);
	if (ret)
		return vm_error(ret, "cannot read migration state of", d->name, NULL, NULL);
	return 0;
}

const char *dev_reset_hint(const struct vm_dev *d, char *buf, size_t len)
{
	snprintf(buf, len, "vfiomig reset %s", d->name);
	return buf;
}

/* Refusals that need no ioctl, worded for people. */
static int refuse_path(struct vm_dev *d, int err, enum mig_state cur, enum mig_state target)
{
	char flags[64], hint[160];

	mig_flags_str(d->mig_flags, flags, sizeof(flags));
	switch (-err) {
	case EDEADLK:
		snprintf(hint, sizeof(hint), "go through running first: vfiomig state set %s running, then %s",
			 d->name, mig_state_name(target));
		return vm_error(EINVAL, "refusing to move", d->name, hint,
				"%s -> %s makes kernels from 6.2 on loop forever with the state lock held (fixed in 2026 and in stable kernels); vfiomig never sends it",
				mig_state_name(cur), mig_state_name(target));
	case EPERM:
		return vm_error(EINVAL, "refusing to move", d->name,
				dev_reset_hint(d, hint, sizeof(hint)),
				"the device is in error; only a reset leaves it");
	default:
		if (target == MIG_ERROR)
			return vm_error(EINVAL, "refusing to move", d->name, NULL,
					"error cannot be requested; the device enters it by itself when a transition fails");
		return vm_error(EOPNOTSUPP, "refusing to move", d->name, NULL,
				"the device has no %s state (its migration flags: %s)",
				mig_state_name(target), flags);
	}
}

int dev_check_path(struct vm_dev *d, enum mig_state cur, enum mig_state target)
{
	enum mig_state path[MIG_PATH_MAX];
	int n = mig_path(cur, target, d->mig_flags, path);

	return n < 0 ? refuse_path(d, n, cur, target) : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* "running -> running-p2p -> stop", the walk from CUR through the N states of PATH. */
static void path_str(enum mig_state cur, const enum mig_state *path, int n, char *buf, size_t len)
{
	size_t off = snprintf(buf, len, "%s", mig_state_name(cur));
	int i;

	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, " -> %s", mig_state_name(path[i]));
}

int dev_set_state(struct vm_dev *d, enum mig_state target, int *data_fd)
{
	enum mig_state path[MIG_PATH_MAX], cur, after;
	char hint[256], walk[160];
	int fd = -1, ret, n, i;
	double t0;

	if (data_fd)
		*data_fd = -1;
	ret = dev_get_state(d, &cur);
	if (ret)
		return ret;
	n = mig_path(cur, target, d->mig_flags, path);
	if (n < 0)
		return refuse_path(d, n, cur, target);
	if (n == 0)
		return 0;

	t0 = now_ms();
	ret = vfio_mig_set_state(d->fd, target, &fd);
	vm_debug("SET %s -> %s: %s (%.3f ms)", mig_state_name(cur), mig_state_name(target),
		 ret ? vm_strerror(ret) : "ok", now_ms() - t0);
	if (!ret) {
		/* The kernel has ended the old stream when the device left its group. */
		if (d->data_fd >= 0 && (fd >= 0 || !(mig_state_saving(target) || target == MIG_RESUMING))) {
			close(d->data_fd);
			d->data_fd = -1;
		}
		if (data_fd)
			*data_fd = fd;
		else if (fd >= 0)
			d->data_fd = fd;
		return 0;
	}

	/* A failed SET echoes the request: only a GET tells where the device is. */
	if (vfio_mig_get_state(d->fd, &after))
		return vm_error(ret, "cannot move", d->name, dev_reset_hint(d, hint, sizeof(hint)),
				"%s -> %s failed: %s; its state could not be read back either",
				mig_state_name(cur), mig_state_name(target), vm_strerror(ret));
	if (after == MIG_ERROR)
		return vm_error(ret, "cannot move", d->name, dev_reset_hint(d, hint, sizeof(hint)),
				"%s -> %s failed: %s; the device is now in error",
				mig_state_name(cur), mig_state_name(target), vm_strerror(ret));
	for (i = 0; i < n && path[i] != after; i++)
		;
	snprintf(hint, sizeof(hint), "vfiomig state set %s %s returns it; vfiomig reset %s if that fails too",
		 d->name, mig_state_name(cur), d->name);
	if (after == cur)
		return vm_error(ret, "cannot move", d->name, hint,
				"%s -> %s failed at the first step (%s -> %s): %s; the device stayed in %s",
				mig_state_name(cur), mig_state_name(target), mig_state_name(cur),
				mig_state_name(path[0]), vm_strerror(ret), mig_state_name(cur));
	if (i < n)
		return vm_error(ret, "cannot move", d->name, hint,
				"%s -> %s failed after %d of %d steps: %s; the device is now in %s",
				mig_state_name(cur), mig_state_name(target), i + 1, n,
				vm_strerror(ret), mig_state_name(after));
	/* Not a state the kernel's walk passes through: the driver went its own way. */
	path_str(cur, path, n, walk, sizeof(walk));
	return vm_error(ret, "cannot move", d->name, hint,
			"%s -> %s failed: %s; the device ended in %s, off the predicted path (%s)",
			mig_state_name(cur), mig_state_name(target), vm_strerror(ret),
			mig_state_name(after), walk);
}

static void id_u16(const char *dir, const char *attr, uint16_t *v)
{
	unsigned long x;

	if (!sysfs_read_ulong(dir, attr, &x))
		*v = (uint16_t)x;
}

int dev_identity(const struct vm_dev *d, struct blob_header *h)
{
	char dir[PATH_MAX], *slash;
	unsigned long cls;
	struct utsname u;

	memset(h, 0, sizeof(*h));
	h->version = BLOB_VERSION;
	snprintf(dir, sizeof(dir), "%s", d->sysfs);
	if (d->mdev) {
		sysfs_link_name(d->sysfs, "mdev_type", h->mdev_type, sizeof(h->mdev_type));
		/* An mdev's IDs are its parent's, when the parent is a PCI function. */
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	id_u16(dir, "vendor", &h->vendor);
	id_u16(dir, "device", &h->device);
	id_u16(dir, "subsystem_vendor", &h->subsys_vendor);
	id_u16(dir, "subsystem_device", &h->subsys_device);
	if (!sysfs_read_ulong(dir, "class", &cls))
		h->class_code = (uint32_t)cls;
	h->mig_flags = d->mig_flags;
	h->time = time(NULL);
	snprintf(h->dev_name, sizeof(h->dev_name), "%s", d->name);
	snprintf(h->driver, sizeof(h->driver), "%s", d->driver);
	if (!uname(&u))
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	snprintf(h->tool, sizeof(h->tool), "vfiomig %s", VFIOMIG_VERSION);
	return 0;
}

int dev_parse_then(const char *arg, enum mig_state *then)
{
	if (!strcmp(arg, "stop"))
		*then = MIG_STOP;
	else if (!strcmp(arg, "running"))
		*then = MIG_RUNNING;
	else
		return vm_usage("%s: invalid --then '%s': use stop or running", vm_cmd_path, arg);
	return 0;
}

void dev_note_closes(const struct vm_dev *d, enum mig_state state)
{
	if (state == MIG_RUNNING || d->owner)
		return;
	vm_note("%s stays in %s only while vfiomig holds it open: on exit the device is closed and its driver normally returns it to running (upstream mtty keeps its state); 'vfiomig open %s' holds it across commands",
		d->name, mig_state_name(state), d->name);
}
