// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig help`: usage of every command from the command table, for people and for bash completion. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfiomig.h"

static int run_help(int argc, char **argv);

static const struct option help_options[] = {
	{ "commands", no_argument, NULL, 'c' },
	{ 0 }
};

const struct vm_cmd cmd_help = {
	.longopts = help_options,
	.name = "help",
	.run = run_help,
	.args = "[COMMAND [SUBCOMMAND]] | --commands",
	.summary = "explain a command",
	.help = "  --commands   list every command with its options, one per line\n"
		"               (the bash completion reads this)\n",
};

extern const struct vm_cmd cmd_blob, cmd_info, cmd_load, cmd_reset, cmd_save, cmd_state;
extern const struct vm_cmd cmd_pm, cmd_precopy_info;
extern const struct vm_cmd cmd_dirty;
extern const struct vm_cmd cmd_open, cmd_close, cmd_sessions, cmd_batch, cmd_shell;
extern const struct vm_cmd cmd_mlx5, cmd_list, cmd_doctor;

const struct vm_cmd *const vm_commands[] = {
	&cmd_list, &cmd_info, &cmd_doctor, &cmd_state, &cmd_save, &cmd_load, &cmd_blob, &cmd_reset,
	&cmd_precopy_info, &cmd_pm, &cmd_dirty,
	&cmd_mlx5,
	&cmd_open, &cmd_close, &cmd_sessions, &cmd_shell, &cmd_batch,
	&cmd_help, NULL,
};

/* "state set<TAB>--explain --dry-run" per line: the machine-readable command list. */
static void list_commands(const char *prefix, const struct vm_cmd *const *table)
{
	const struct option *o;
	const char *s;
	char path[64];

	for (; *table; table++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? " " : "", (*table)->name);
		if ((*table)->sub) {
			list_commands(path, (*table)->sub);
			continue;
		}
		printf("%s\t", path);
		for (o = (*table)->longopts; o && o->name; o++)
			printf("%s--%s%s", o == (*table)->longopts ? "" : " ", o->name,
			       o->has_arg == required_argument ? "=" : "");
		for (s = (*table)->shortopts; s && *s; s++)
			if (*s != ':')
				printf(" -%c%s", *s, s[1] == ':' ? "=" : "");
		printf("\t%s\n", (*table)->args ? (*table)->args : "");
	}
}

static int help_option(int c, const char *arg, void *data)
{
	(void)arg;
	if (c != 'c')
		return -EINVAL;
	*(bool *)data = true;
	return 0;
}

static int run_help(int argc, char **argv)
{
	const struct vm_cmd *const *table = vm_commands;
	const struct vm_cmd *cmd = NULL;
	char path[64] = "";
	int i;

	bool commands = false;
	int optind = vm_getopt(&cmd_help, argc, argv, help_option, &commands);

	if (optind < 0)
		return optind;
	if (commands) {
		if (optind < argc)
			return vm_usage("help: --commands takes no command");
		list_commands("", vm_commands);
		return 0;
	}
	if (optind == argc) {
		vm_main_help(stdout);
		return 0;
	}
	for (i = optind; i < argc; i++) {
		if (!table)
			return vm_usage("help: '%s' has no subcommand '%s'", path, argv[i]);
		cmd = vm_cmd_find(table, argv[i]);
		if (!cmd)
			return vm_usage("help: unknown command '%s%s%s'; 'vfiomig help' lists them",
					path, *path ? " " : "", argv[i]);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s", *path ? " " : "",
			 cmd->name);
		table = cmd->sub;
	}
	vm_cmd_help(stdout, path, cmd);
	return 0;
}
