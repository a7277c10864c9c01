// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig precopy-info`: the pre-copy sizes of a device whose pre-copy stream this process (or session) holds. */
#include <errno.h>
#include <stdio.h>

#include "dev.h"
#include "mig.h"
#include "output.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_precopy_info(int argc, char **argv);

const struct vm_cmd cmd_precopy_info = {
	.name = "precopy-info",
	.run = run_precopy_info,
	.args = "DEV",
	.summary = "print the bytes a device in pre-copy still owes",
	.help = "Prints initial_bytes (of the first pass, not read yet) and dirty_bytes\n"
		"(changed since they were read) from VFIO_MIG_GET_PRECOPY_INFO. It enters\n"
		"nothing: the sizes exist only in pre-copy and pre-copy-p2p, on the data fd\n"
		"of the process that entered them, so DEV must be held by a session\n"
		"('vfiomig open DEV; vfiomig state set DEV pre-copy'). 'save --precopy'\n"
		"reports them for each round.\n",
};

static int run_precopy_info(int argc, char **argv)
{
	struct vm_precopy_info info;
	char flags[64], hint[320];
	enum mig_state s;
	struct vm_dev d;
	int ret, optind = vm_getopt(&cmd_precopy_info, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_precopy_info, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_lookup(argv[optind], &d);
	if (!ret)
		ret = dev_open_mig(&d, &s);
	if (ret)
		return ret;
	if (!(d.mig_flags & MIG_FLAG_PRE_COPY)) {
		ret = vm_error(EOPNOTSUPP, "pre-copy is not supported by", d.name, NULL,
			       "its migration flags are %s (pre-copy needs Linux 6.2 and a driver that offers it)",
			       mig_flags_str(d.mig_flags, flags, sizeof(flags)));
		goto close_dev;
	}
	out_str("device", NULL, d.name);
	out_str("state", NULL, mig_state_name(s));
	snprintf(hint, sizeof(hint),
		 "'vfiomig open %s', then 'vfiomig state set %s pre-copy' and precopy-info; or 'vfiomig save %s --precopy'",
		 d.name, d.name, d.name);
	if (s != MIG_PRE_COPY && s != MIG_PRE_COPY_P2P) {
		ret = vm_error(EINVAL, "no pre-copy info for", d.name, hint,
			       "it is in %s: pre-copy sizes exist only in pre-copy and pre-copy-p2p",
			       mig_state_name(s));
		goto close_dev;
	}
	if (d.data_fd < 0) {
		ret = vm_error(EBADF, "no pre-copy info for", d.name, hint,
			       "it is in %s, but the sizes are read through the data fd of the process that entered it, and that fd is not ours",
			       mig_state_name(s));
		goto close_dev;
	}
	ret = vfio_precopy_info(d.data_fd, &info);
	if (ret) {
		ret = vm_error(ret, "cannot read the pre-copy sizes of", d.name, NULL,
			       "VFIO_MIG_GET_PRECOPY_INFO: %s", vm_strerror(ret));
		goto close_dev;
	}
	out_u64("initial_bytes", "initial_bytes %" PRIu64 "\n", info.initial_bytes);
	out_u64("dirty_bytes", "dirty_bytes   %" PRIu64 "\n", info.dirty_bytes);
	out_u64("flags", NULL, info.flags);
close_dev:
	dev_close(&d);
	return ret;
}
