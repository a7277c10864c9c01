// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig reset`: VFIO_DEVICE_RESET, the one way out of the error state. */
#include <errno.h>
#include <stdio.h>

#include "dev.h"
#include "mig.h"
#include "output.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_reset(int argc, char **argv);

const struct vm_cmd cmd_reset = {
	.name = "reset",
	.run = run_reset,
	.args = "DEV",
	.summary = "reset a device and print its migration state",
	.help = "Issues VFIO_DEVICE_RESET. A device in error leaves it only this way;\n"
		"afterwards its migration state is running.\n",
};

static int run_reset(int argc, char **argv)
{
	enum mig_state s;
	struct vm_dev d;
	int ret;

	int optind = vm_getopt(&cmd_reset, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_reset, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_get(argv[optind], &d);
	if (ret)
		return ret;
	ret = vfio_device_reset(d.fd);
	if (ret) {
		ret = vm_error(ret, "cannot reset", d.name,
			       ret == -EINVAL || ret == -ENOTTY ? "the device offers no reset method (no FLR, PM or bus reset)" : NULL,
			       NULL);
		goto close_dev;
	}
	out_str("device", "%s: reset", d.name);
	/* Devices without migration have no state to show; that is not a failure here. */
	if (!vfio_mig_get_state(d.fd, &s))
		out_str("state", "; state %s", mig_state_name(s));
	out_text("\n");
close_dev:
	dev_close(&d);
	return ret;
}
