// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiomig_test's devlink instance: VF-flavoured ports whose 'migratable' capability works as mlx5's does. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/version.h>

#include "vmt.h"

#if IS_ENABLED(CONFIG_NET_DEVLINK)
#include <net/devlink.h>

/*
 * Two VF ports per device, numbered like mlx5's VF representors (0x8001 up)
 * so that a tool mixing up the port index and the VF number finds nothing.
 */
#define VMT_DL_PORTS		2
#define VMT_DL_PORT_BASE	0x8001

/*
 * Port functions got their own ops table, with migratable in it, in 6.4.
 * 6.2 and 6.3 had migratable in devlink_ops; this driver does not bother
 * with them: there, as on 6.1, its ports have no port-function
 * capabilities at all, which is itself a case tools must handle.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define VMT_DL_CAPS		1
#else
#define VMT_DL_CAPS		0
#endif

struct vmt_dl_port {
	struct devlink_port port;
	u16 vf;
	bool migratable;
};

/* The devlink instance's private data; everything in it is under the devlink instance lock. */
struct vmt_dl {
	struct vmt_device *vd;
	int fail_errno;			/* > 0: the next migratable set fails */
	struct vmt_dl_port ports[VMT_DL_PORTS];
};

static int vmt_dl_eswitch_mode_get(struct devlink *devlink, u16 *mode)
{
	/* VF ports exist in switchdev mode only; say so, as mlx5 would. */
	*mode = DEVLINK_ESWITCH_MODE_SWITCHDEV;
	return 0;
}

static const struct devlink_ops vmt_dl_ops = {
	.eswitch_mode_get	= vmt_dl_eswitch_mode_get,
};

#if VMT_DL_CAPS
static int vmt_dl_migratable_get(struct devlink_port *port, bool *on,
				 struct netlink_ext_ack *extack)
{
	*on = container_of(port, struct vmt_dl_port, port)->migratable;
	return 0;
}

static int vmt_dl_migratable_set(struct devlink_port *port, bool on,
				 struct netlink_ext_ack *extack)
{
	struct vmt_dl *dl = devlink_priv(port->devlink);
	int err = dl->fail_errno;

	if (err) {
		/* Once, like the driver's other injected failures. */
		dl->fail_errno = 0;
		NL_SET_ERR_MSG_MOD(extack, "migratable refused: devlink_fail was armed in debugfs");
		return -err;
	}
	container_of(port, struct vmt_dl_port, port)->migratable = on;
	return 0;
}

static const struct devlink_port_ops vmt_dl_port_ops = {
	.port_fn_migratable_get	= vmt_dl_migratable_get,
	.port_fn_migratable_set	= vmt_dl_migratable_set,
};
#endif

bool vmt_devlink_has_caps(void)
{
	return VMT_DL_CAPS;
}

/*
 * Registered from probe and unregistered from remove, in an order both 6.1
 * (devlink_register takes no lock there) and 6.12 (it takes the instance
 * lock) accept.  The ports carry no netdev, so the kernel would complain an
 * hour later that their type was never set; lab runs are far shorter.
 */
int vmt_devlink_add(struct vmt_device *vd)
{
	struct devlink *devlink;
	struct vmt_dl *dl;
	int i, ret = 0;

	devlink = devlink_alloc(&vmt_dl_ops, sizeof(*dl), &vd->core.pdev->dev);
	if (!devlink)
		return -ENOMEM;
	dl = devlink_priv(devlink);
	dl->vd = vd;

	devl_lock(devlink);
	for (i = 0; i < VMT_DL_PORTS; i++) {
		struct vmt_dl_port *p = &dl->ports[i];

		p->vf = i;
		devlink_port_attrs_pci_vf_set(&p->port, 0, 0, p->vf, false);
#if VMT_DL_CAPS
		ret = devl_port_register_with_ops(devlink, &p->port,
						  VMT_DL_PORT_BASE + i,
						  &vmt_dl_port_ops);
#else
		ret = devl_port_register(devlink, &p->port, VMT_DL_PORT_BASE + i);
#endif
		if (ret)
			break;
	}
	if (ret) {
		while (--i >= 0)
			devl_port_unregister(&dl->ports[i].port);
		devl_unlock(devlink);
		devlink_free(devlink);
		return ret;
	}
	devl_unlock(devlink);
	devlink_register(devlink);
	vd->devlink = devlink;
	return 0;
}

void vmt_devlink_remove(struct vmt_device *vd)
{
	struct devlink *devlink = vd->devlink;
	struct vmt_dl *dl;
	int i;

	if (!devlink)
		return;
	dl = devlink_priv(devlink);
	devlink_unregister(devlink);
	devl_lock(devlink);
	for (i = 0; i < VMT_DL_PORTS; i++)
		devl_port_unregister(&dl->ports[i].port);
	devl_unlock(devlink);
	devlink_free(devlink);
	vd->devlink = NULL;
}

void vmt_devlink_show(struct vmt_device *vd, struct seq_file *m)
{
	struct vmt_dl *dl;
	int i;

	if (!vd->devlink)
		return;
	dl = devlink_priv(vd->devlink);
	devl_lock(vd->devlink);
	for (i = 0; i < VMT_DL_PORTS; i++)
		seq_printf(m, "%u %u %s\n", dl->ports[i].vf, VMT_DL_PORT_BASE + i,
			   !VMT_DL_CAPS ? "unsupported" :
			   dl->ports[i].migratable ? "on" : "off");
	devl_unlock(vd->devlink);
}

void vmt_devlink_show_fail(struct vmt_device *vd, struct seq_file *m)
{
	struct vmt_dl *dl;
	int err = 0;

	if (vd->devlink) {
		dl = devlink_priv(vd->devlink);
		devl_lock(vd->devlink);
		err = dl->fail_errno;
		devl_unlock(vd->devlink);
	}
	if (err)
		seq_printf(m, "%d\n", err);
	else
		seq_puts(m, "off\n");
}

int vmt_devlink_set_fail(struct vmt_device *vd, int err)
{
	struct vmt_dl *dl;

	if (!vd->devlink)
		return -ENODEV;
	dl = devlink_priv(vd->devlink);
	devl_lock(vd->devlink);
	dl->fail_errno = err;
	devl_unlock(vd->devlink);
	return 0;
}

#else /* !CONFIG_NET_DEVLINK: no instance, and the debugfs files say so */

bool vmt_devlink_has_caps(void)
{
	return false;
}

int vmt_devlink_add(struct vmt_device *vd)
{
	return 0;
}

void vmt_devlink_remove(struct vmt_device *vd)
{
}

void vmt_devlink_show(struct vmt_device *vd, struct seq_file *m)
{
}

void vmt_devlink_show_fail(struct vmt_device *vd, struct seq_file *m)
{
	seq_puts(m, "off\n");
}

int vmt_devlink_set_fail(struct vmt_device *vd, int err)
{
	return -ENODEV;
}

#endif
