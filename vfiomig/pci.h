/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI identity through libpci: IDs and the names pci.ids gives them. */
#ifndef VFIOMIG_PCI_H
#define VFIOMIG_PCI_H

#include <stddef.h>
#include <stdint.h>

struct pci_ident {
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;    /* base class, subclass, programming interface */
	uint8_t revision;
	char vendor_name[128];
	char device_name[128];
	char class_name[128];
};

/* Identity of the PCI function NAME ("0000:3b:00.2"); 0, -ENODEV or -EIO (libpci failed). */
int pci_identity(const char *name, struct pci_ident *id);

#endif
