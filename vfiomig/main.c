// SPDX-License-Identifier: GPL-2.0-or-later
/* vfiomig's entry point: global options, one command, and the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "session.h"
#include "vfiomig.h"

struct vm_opts vm_opts;

enum { OPT_IOMMUFD = 256, OPT_LEGACY };

static const struct option global_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "iommufd", no_argument, NULL, OPT_IOMMUFD },
	{ "legacy", no_argument, NULL, OPT_LEGACY },
	{ "batch", required_argument, NULL, 'b' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int vm_run_argv(int argc, char **argv, const struct vm_opts *base)
{
	char *batch[] = { "batch", NULL, NULL };
	const char *batch_file = NULL;
	int c, ret, status;
	struct out_saved *outer;

	/* The shell, batch mode and session holders run many command lines. */
	if (base)
		vm_opts = *base;
	else
		memset(&vm_opts, 0, sizeof(vm_opts));
	vm_error_reset();
	opterr = 0;
	optind = 0;
	if (vm_check_options("", global_options, "jpvVhb:", argc, argv, true))
		return VM_EXIT_USAGE;
	/* '+': global options end at the command; the command parses the rest. */
	while ((c = getopt_long(argc, argv, "+jpvVhb:", global_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			vm_opts.json = true;
			break;
		case 'p':
			vm_opts.json = vm_opts.pretty = true;
			break;
		case 'v':
			vm_opts.verbose++;
			break;
		case OPT_IOMMUFD:
		case OPT_LEGACY:
			if (vm_opts.open_mode != VM_OPEN_AUTO)
				return vm_usage("--iommufd and --legacy exclude each other"), VM_EXIT_USAGE;
			vm_opts.open_mode = c == OPT_IOMMUFD ? VM_OPEN_IOMMUFD : VM_OPEN_LEGACY;
			break;
		case 'b':
			batch_file = optarg;
			break;
		case 'V':
			printf("vfiomig %s\n", VFIOMIG_VERSION);
			return VM_EXIT_OK;
		case 'h':
			vm_main_help(stdout);
			return VM_EXIT_OK;
		default:
			/* Long options were checked above: only a short one gets here. */
			vm_usage("unknown option '-%c'; 'vfiomig --help' lists them", optopt);
			return VM_EXIT_USAGE;
		}
	}
	if (batch_file) {
		/* -b FILE is `batch FILE`, as in ip -batch. */
		if (optind < argc)
			return vm_usage("-b FILE runs a batch file; it takes no command ('%s')", argv[optind]),
			       VM_EXIT_USAGE;
		batch[1] = (char *)batch_file;
		out_begin(stdout);
		ret = vm_dispatch(2, batch);
		if (out_end() && ret >= 0)
			ret = vm_error(EIO, "cannot write output", NULL, NULL, NULL);
		return vm_exit_status(ret);
	}
	if (optind >= argc) {
		if (vm_opts.json)
			vm_usage("no command given; 'vfiomig help' lists them");
		else
			vm_main_help(stderr);
		return VM_EXIT_USAGE;
	}

	outer = out_suspend();
	out_begin(stdout);
	/*
	 * A device held by a session: the holder runs the command, on our
	 * stdio. Inside our document, so that a note on a stale session
	 * removed on the way is part of the output of the command run here.
	 */
	if (session_forward(argc, argv, optind, &status)) {
		out_end();
		out_resume(outer);
		return status;
	}
	ret = vm_dispatch(argc - optind, argv + optind);
	if (out_end() && ret >= 0)
		ret = vm_error(EIO, "cannot write output", NULL, NULL, NULL);
	out_resume(outer);
	return vm_exit_status(ret);
}

/*
 * Started with stdin, stdout or stderr closed (by a daemon, or `<&-`), the
 * first files we open would take their numbers, and a session holder,
 * which points 0-2 at /dev/null, would close a device fd doing so.
 */
static void ensure_stdio(void)
{
	int fd;

	do
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd <= STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

int main(int argc, char **argv)
{
	ensure_stdio();
	return vm_run_argv(argc, argv, NULL);
}
