/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The devlink netlink boundary (libmnl): find a VF's eswitch port, read and set its migratable capability. */
#ifndef VFIOMIG_DEVLINK_H
#define VFIOMIG_DEVLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

struct devlink {
	struct mnl_socket *nl;
	uint16_t family;
	unsigned int seq, portid;
	char extack[256];       /* the kernel's message for the last failure, if any */
};

struct devlink_port {
	char bus[32], dev[64];  /* the devlink handle: "pci" "0000:3b:00.0" */
	uint32_t index;
	uint16_t flavour;
	int pf, vf;             /* -1 when the port has none */
	bool external;
	bool has_caps;          /* the kernel reported port-function capabilities */
	uint32_t caps, caps_supported; /* bitfield32 value and selector */
};

/* Port-function capability bits (uAPI 6.2). */
#define DEVLINK_CAP_ROCE       (1u << 0)
#define DEVLINK_CAP_MIGRATABLE (1u << 1)

/* Opens a generic netlink socket and resolves the "devlink" family; -ENOENT if the kernel has none. */
int devlink_open(struct devlink *dl);
void devlink_close(struct devlink *dl);
/*
 * The port of VF number VF (not on an external controller) of the devlink
 * instance BUS/DEV: 0, -ENODEV if the instance has no such port, or -errno
 * (dl->extack may explain).
 */
int devlink_vf_port(struct devlink *dl, const char *bus, const char *dev, int vf,
		    struct devlink_port *port);
/* The eswitch mode of BUS/DEV: 0 legacy, 1 switchdev, -1 when the driver reports none; or -errno. */
int devlink_eswitch_mode(struct devlink *dl, const char *bus, const char *dev, int *mode);
/* Sets or clears the migratable capability of PORT: 0 or -errno (dl->extack explains). */
int devlink_set_migratable(struct devlink *dl, const struct devlink_port *port, bool on);

#endif
