// SPDX-License-Identifier: GPL-2.0-or-later
/* The libpci boundary: one function read without scanning the bus, and its names from pci.ids. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>

#include "pci.h"
#include "vfiomig.h"

/* libpci's error hook must not return; jump back out so a failure is an error code, not exit(). */
static jmp_buf pci_failed;

static void __attribute__((noreturn, format(printf, 1, 2))) on_pci_error(char *msg, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	vm_debug("libpci: %s", buf);
	longjmp(pci_failed, 1);
}

static void __attribute__((format(printf, 1, 2))) on_pci_warning(char *msg, ...)
{
	(void)msg;
}

int pci_identity(const char *name, struct pci_ident *id)
{
	struct pci_access *volatile acc = NULL;
	struct pci_dev *pd;
	unsigned int dom, bus, dev, fn;
	volatile int ret = 0;

	memset(id, 0, sizeof(*id));
	if (sscanf(name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	if (setjmp(pci_failed)) {
		ret = -EIO;
		goto cleanup_acc;
	}
	acc = pci_alloc();
	acc->error = on_pci_error;
	acc->warning = on_pci_warning;
	acc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_init(acc);
	pd = pci_get_dev(acc, dom, bus, dev, fn);
	if (!pd) {
		ret = -ENODEV;
		goto cleanup_acc;
	}
	pci_fill_info(pd, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_SUBSYS);
	id->vendor = pd->vendor_id;
	id->device = pd->device_id;
	id->subsys_vendor = pd->subsys_vendor_id;
	id->subsys_device = pd->subsys_id;
	id->class_code = pd->device_class << 8 | pci_read_byte(pd, PCI_CLASS_PROG);
	id->revision = pci_read_byte(pd, PCI_REVISION_ID);
	pci_lookup_name(acc, id->vendor_name, sizeof(id->vendor_name), PCI_LOOKUP_VENDOR,
			id->vendor);
	pci_lookup_name(acc, id->device_name, sizeof(id->device_name), PCI_LOOKUP_DEVICE,
			id->vendor, id->device);
	pci_lookup_name(acc, id->class_name, sizeof(id->class_name), PCI_LOOKUP_CLASS,
			pd->device_class);
	pci_free_dev(pd);
cleanup_acc:
	if (acc)
		pci_cleanup(acc);
	return ret;
}
