// SPDX-License-Identifier: GPL-2.0-or-later
/* The dispatcher: one command line to its table row, option parsing and help, for argv, shell and batch alike. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "vfiomig.h"

const char *vm_cmd_path = "";

const struct vm_cmd *vm_cmd_find(const struct vm_cmd *const *table, const char *name)
{
	/* Exact keywords only: a prefix that works today breaks scripts when a command is added. */
	for (; *table; table++)
		if (!strcmp((*table)->name, name))
			return *table;
	return NULL;
}

static void list_table(FILE *f, const char *prefix, const struct vm_cmd *const *table)
{
	char path[64];

	for (; *table; table++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? " " : "", (*table)->name);
		if ((*table)->sub)
			list_table(f, path, (*table)->sub);
		else
			fprintf(f, "  %-14s %s\n", path, (*table)->summary);
	}
}

void vm_cmd_help(FILE *f, const char *path, const struct vm_cmd *cmd)
{
	if (cmd->sub) {
		fprintf(f, "Usage: vfiomig [OPTIONS] %s COMMAND ...\n\n%s\n\nCommands:\n", path,
			cmd->summary);
		list_table(f, path, cmd->sub);
		return;
	}
	fprintf(f, "Usage: vfiomig [OPTIONS] %s%s%s\n\n%s\n", path, cmd->args ? " " : "",
		cmd->args ? cmd->args : "", cmd->summary);
	if (cmd->help)
		fprintf(f, "\n%s", cmd->help);
}

void vm_main_help(FILE *f)
{
	fputs("Usage: vfiomig [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Query and drive VFIO device live migration.\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json      print JSON\n"
	      "  -p, --pretty    print indented JSON (implies --json)\n"
	      "  -v, --verbose   trace how devices are opened, VFIO feature ioctls and\n"
	      "                  state changes (with their durations) on stderr\n"
	      "      --iommufd   open devices through /dev/vfio/devices and /dev/iommu\n"
	      "      --legacy    open devices through their IOMMU group and a container\n"
	      "  -b, --batch FILE\n"
	      "                  run the command lines of FILE ('-': standard input),\n"
	      "                  as 'vfiomig batch FILE'\n"
	      "  -V, --version   print the version\n"
	      "  -h, --help      print this help\n"
	      "\n"
	      "Commands:\n", f);
	list_table(f, "", vm_commands);
	fputs("\nDEV is a PCI address (0000:3b:00.2 or 3b:00.2), an mdev UUID, a sysfs\n"
	      "device path or a VFIO cdev (/dev/vfio/devices/vfioN).\n"
	      "'vfiomig help COMMAND' explains a command; see also vfiomig(8).\n", f);
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int vm_dispatch(int argc, char **argv)
{
	const struct vm_cmd *const *table = vm_commands;
	const struct vm_cmd *cmd = NULL;
	static char path[64];

	path[0] = '\0';
	for (;;) {
		if (argc < 1) {
			if (!cmd)
				return vm_usage("no command given; 'vfiomig help' lists them");
			return vm_usage("'%s' needs a subcommand; 'vfiomig help %s' lists them", path,
					path);
		}
		cmd = vm_cmd_find(table, argv[0]);
		if (!cmd) {
			if (path[0])
				return vm_usage("unknown command '%s %s'; 'vfiomig help %s' lists them",
						path, argv[0], path);
			return vm_usage("unknown command '%s'; 'vfiomig help' lists them", argv[0]);
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s",
			 path[0] ? " " : "", cmd->name);
		if (!cmd->sub)
			break;
		if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			vm_cmd_help(stdout, path, cmd);
			return 0;
		}
		table = cmd->sub;
		argc--;
		argv++;
	}
	vm_cmd_path = path;
	if (wants_help(argc, argv)) {
		vm_cmd_help(stdout, path, cmd);
		return 0;
	}
	return cmd->run(argc, argv);
}

static const struct option *long_option(const struct option *opts, const char *name, size_t len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

int vm_check_options(const char *ctx, const struct option *opts, const char *shorts,
		     int argc, char **argv, bool stop_at_operand)
{
	const struct option *o;
	const char *eq, *s;
	int i;

	/*
	 * getopt_long() takes unambiguous prefixes ("--ex" for "--explain");
	 * a script relying on one breaks when an option is added. Long
	 * options must be spelled out, so check them before getopt sees them.
	 */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] != '-' || !argv[i][1]) {
			if (stop_at_operand)
				break;
			continue;
		}
		if (argv[i][1] != '-') {
			/* A short option with a separate value: skip the value. */
			s = shorts ? strchr(shorts, argv[i][1]) : NULL;
			if (s && s[1] == ':' && !argv[i][2])
				i++;
			continue;
		}
		eq = strchr(argv[i], '=');
		o = long_option(opts, argv[i] + 2, eq ? (size_t)(eq - argv[i] - 2) : strlen(argv[i] + 2));
		if (!o)
			return vm_usage("%sunknown option '%.*s'", ctx,
					eq ? (int)(eq - argv[i]) : (int)strlen(argv[i]), argv[i]);
		if (eq && o->has_arg == no_argument)
			return vm_usage("%soption '--%s' takes no value", ctx, o->name);
		if (!eq && o->has_arg == required_argument)
			i++;
	}
	return 0;
}

int vm_getopt(const struct vm_cmd *cmd, int argc, char **argv,
	      int (*opt)(int c, const char *arg, void *data), void *data)
{
	static const struct option none[] = { { 0 } };
	const struct option *longopts = cmd->longopts ? cmd->longopts : none;
	char shorts[64], ctx[80];
	int c, ret;

	snprintf(ctx, sizeof(ctx), "%s: ", vm_cmd_path);
	ret = vm_check_options(ctx, longopts, cmd->shortopts, argc, argv, false);
	if (ret)
		return ret;
	/* A leading ':' makes getopt report a missing value apart from an unknown option. */
	snprintf(shorts, sizeof(shorts), ":%s", cmd->shortopts ? cmd->shortopts : "");
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		if (c == '?')
			return vm_usage("%sunknown option '-%c'", ctx, optopt);
		if (c == ':')
			return vm_usage("%soption '%s' needs a value", ctx, argv[optind - 1]);
		ret = opt(c, optarg, data);
		if (ret < 0)
			return ret;
	}
	return optind;
}

int vm_no_options(int c, const char *arg, void *data)
{
	(void)c, (void)arg, (void)data;
	return -EINVAL;
}

int vm_operands(const struct vm_cmd *cmd, int argc, char **argv, int optind, int want)
{
	const char *what = cmd->args && !strncmp(cmd->args, "FILE", 4) ? "file" : "device";

	if (argc - optind < want)
		return vm_usage("%s: missing %s; usage: vfiomig %s %s", vm_cmd_path,
				argc == optind ? what : "argument", vm_cmd_path, cmd->args);
	if (argc - optind > want)
		return vm_usage("%s: unexpected argument '%s'; usage: vfiomig %s %s", vm_cmd_path,
				argv[optind + want], vm_cmd_path, cmd->args);
	return 0;
}
