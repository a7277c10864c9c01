// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig shell`: a readline prompt over the same dispatcher, holding its devices while it runs. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "dev.h"
#include "line.h"
#include "mig.h"
#include "output.h"
#include "session.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_shell(int argc, char **argv);

const struct vm_cmd cmd_shell = {
	.name = "shell",
	.run = run_shell,
	.args = "[DEV]",
	.summary = "an interactive prompt that holds its devices",
	.help = "Reads commands with readline (history in ~/.vfiomig_history, Tab\n"
		"completes commands, options, states, device addresses and file names)\n"
		"and runs them like command lines, without the word 'vfiomig'. Devices\n"
		"stay open until the shell ends, so a state set lasts. With DEV, the\n"
		"prompt shows that device and its migration state. A line for a device\n"
		"a session holds runs in the session, as from the command line. 'exit',\n"
		"'quit' or Ctrl-D leave; 'help' lists the commands.\n",
};

#define HISTORY_FILE ".vfiomig_history"
#define HISTORY_MAX 1000

/* ---- completion ---- */

static char **matches;
static int nmatches;

static void add_match(const char *s, const char *prefix)
{
	char **more;

	if (strncmp(s, prefix, strlen(prefix)))
		return;
	more = realloc(matches, (nmatches + 1) * sizeof(*matches));
	if (!more)
		return;
	matches = more;
	matches[nmatches] = strdup(s);
	if (matches[nmatches])
		nmatches++;
}

static void clear_matches(void)
{
	int i;

	for (i = 0; i < nmatches; i++)
		free(matches[i]);
	free(matches);
	matches = NULL;
	nmatches = 0;
}

/* readline calls this until it returns NULL; the list is built beforehand. */
static char *next_match(const char *text, int state)
{
	static int i;

	(void)text;
	if (!state)
		i = 0;
	return i < nmatches ? strdup(matches[i++]) : NULL;
}

struct dev_scan {
	const char *bus, *prefix;
};

static int add_vfio_device(const char *name, void *data)
{
	struct dev_scan *s = data;
	char dir[PATH_MAX], drv[64];

	snprintf(dir, sizeof(dir), "/sys/bus/%s/devices/%s", s->bus, name);
	if (!strcmp(s->bus, "mdev") || sysfs_exists(dir, "vfio-dev") ||
	    (!sysfs_link_name(dir, "driver", drv, sizeof(drv)) && strstr(drv, "vfio")))
		add_match(name, s->prefix);
	return 0;
}

static void add_devices(const char *prefix)
{
	struct dev_scan pci = { "pci", prefix }, mdev = { "mdev", prefix };

	sysfs_each("/sys/bus/pci/devices", add_vfio_device, &pci);
	sysfs_each("/sys/bus/mdev/devices", add_vfio_device, &mdev);
}

static void add_options(const struct vm_cmd *cmd, const char *prefix)
{
	const struct option *o;
	char buf[64];

	for (o = cmd->longopts; o && o->name; o++) {
		snprintf(buf, sizeof(buf), "--%s", o->name);
		add_match(buf, prefix);
	}
}

static const char *const value_is_file[] = { "-o", "--output", "-i", "--input", "--bitmap-out", NULL };

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Completes the word at START..END of rl_line_buffer from the words before it. */
static char **complete(const char *text, int start, int end)
{
	const struct vm_cmd *const *table = vm_commands;
	const struct vm_cmd *cmd = NULL, *c;
	struct line_words w = { 0 };
	char why[64];
	int i, operands = 0;

	(void)end;
	clear_matches();
	rl_attempted_completion_over = 1;
	/* The words before the one being completed; an unfinished quote just completes nothing. */
	if (line_split(rl_line_buffer, start, NULL, &w, why, sizeof(why)))
		return NULL;
	for (i = 0; i < w.argc && table; i++) {
		c = vm_cmd_find(table, w.argv[i]);
		if (!c)
			break;
		cmd = c;
		table = c->sub;
	}
	/* "help state s<Tab>" completes like "state s<Tab>". */
	if (cmd && !strcmp(cmd->name, "help") && i == 1 && text[0] != '-') {
		for (cmd = NULL, table = vm_commands; i < w.argc && table; i++) {
			c = vm_cmd_find(table, w.argv[i]);
			if (!c)
				break;
			cmd = c;
			table = c->sub;
		}
		if (cmd && !cmd->sub) {
			line_words_free(&w);
			return NULL;
		}
	}
	if (!cmd || cmd->sub) {
		const struct vm_cmd *const *t = cmd ? cmd->sub : vm_commands;

		for (; *t; t++)
			add_match((*t)->name, text);
		if (!cmd) {
			add_match("exit", text);
			add_match("quit", text);
		}
	} else if (text[0] == '-') {
		add_options(cmd, text);
	} else if (w.argc > 0 && in_list(w.argv[w.argc - 1], value_is_file)) {
		rl_attempted_completion_over = 0; /* readline's own file names */
	} else if (w.argc > 0 && !strcmp(w.argv[w.argc - 1], "--then")) {
		add_match("stop", text);
		add_match("running", text);
	} else {
		for (; i < w.argc; i++)
			if (w.argv[i][0] != '-')
				operands++;
		if (!strcmp(cmd->name, "set") && operands == 1) {
			for (i = 1; i < MIG_NUM_STATES; i++)
				add_match(mig_state_name(i), text);
		} else if (cmd->args && !strncmp(cmd->args, "FILE", 4)) {
			rl_attempted_completion_over = 0;
		} else if (operands == 0) {
			add_devices(text);
		}
	}
	line_words_free(&w);
	return nmatches ? rl_completion_matches(text, next_match) : NULL;
}

/* ---- the loop ---- */

/* Ctrl-C at the prompt abandons the line, as in bash; readline redraws the prompt. */
static void on_interrupt(int sig)
{
	(void)sig;
	write(STDOUT_FILENO, "\n", 1);
	rl_on_new_line();
	rl_replace_line("", 0);
	rl_redisplay();
}

/* The prompt names DEV and its state, read from the shell's own fd or from the session that holds DEV. */
static void prompt_for(const char *dev, char *buf, size_t len)
{
	struct vm_dev *d = dev[0] ? dev_held_find(dev) : NULL;
	struct session_info info;
	enum mig_state s;
	int state = -1;

	if (!dev[0]) {
		snprintf(buf, len, "vfiomig> ");
		return;
	}
	if (d && !vfio_mig_get_state(d->fd, &s))
		state = s;
	else if (!d && !session_find(dev, &info))
		state = info.state;
	if (state < 0)
		snprintf(buf, len, "vfiomig %s> ", dev);
	else
		snprintf(buf, len, "vfiomig %s [%s]> ", dev, mig_state_name(state));
}

static int run_shell(int argc, char **argv)
{
	struct vm_opts base = vm_opts;
	char prompt[128], history[PATH_MAX] = "", why[160], *line, **args, dev[64] = "";
	const char *home = getenv("HOME");
	struct session_info info;
	struct line_words w;
	struct vm_dev d;
	int ret, i, optind = vm_getopt(&cmd_shell, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	if (argc - optind > 1)
		return vm_operands(&cmd_shell, argc, argv, optind, 1);
	dev_hold_opens(true);
	if (optind < argc) {
		ret = dev_lookup(argv[optind], &d);
		if (ret)
			goto release;
		snprintf(dev, sizeof(dev), "%s", d.name);
		/* A session holds it: the shell's lines go there, the shell opens nothing. */
		if (session_find(dev, &info)) {
			ret = dev_open(&d);
			if (ret)
				goto release;
			dev_close(&d);
		}
	}
	if (home && *home)
		snprintf(history, sizeof(history), "%s/" HISTORY_FILE, home);
	rl_readline_name = "vfiomig";
	rl_attempted_completion_function = complete;
	/* ':' and '=' are parts of addresses and options here, not word breaks. */
	rl_completer_word_break_characters = " \t";
	using_history();
	stifle_history(HISTORY_MAX);
	if (history[0])
		read_history(history);

	for (;;) {
		/* Commands (save, pm --wait) install their own handler; the prompt has this one. */
		signal(SIGINT, on_interrupt);
		prompt_for(dev, prompt, sizeof(prompt));
		line = readline(prompt);
		if (!line)
			break;
		if (line_split(line, strlen(line), NULL, &w, why, sizeof(why))) {
			fprintf(stderr, VFIOMIG_PROG ": %s\n", why);
			free(line);
			continue;
		}
		if (w.argc)
			add_history(line);
		free(line);
		if (w.argc && (!strcmp(w.argv[0], "exit") || !strcmp(w.argv[0], "quit"))) {
			line_words_free(&w);
			break;
		}
		if (w.argc) {
			args = calloc(w.argc + 2, sizeof(*args));
			if (args) {
				args[0] = "vfiomig";
				for (i = 0; i < w.argc; i++)
					args[i + 1] = w.argv[i];
				vm_run_argv(w.argc + 1, args, &base);
				free(args);
			}
		}
		line_words_free(&w);
	}
	if (history[0])
		write_history(history);
	clear_matches();
	ret = 0;
release:
	dev_release_all();
	dev_hold_opens(false);
	vm_opts = base;
	return ret;
}
