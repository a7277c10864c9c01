// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig open|close|sessions`: hold devices across invocations, end that, and list who holds what. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "mig.h"
#include "output.h"
#include "session.h"
#include "sysfs.h"
#include "vfiomig.h"

static int run_open(int argc, char **argv);
static int run_close(int argc, char **argv);
static int run_sessions(int argc, char **argv);

const struct vm_cmd cmd_open = {
	.name = "open",
	.run = run_open,
	.args = "DEV [DEV...]",
	.summary = "hold devices open across vfiomig invocations",
	.help = "Starts a holder process that keeps each DEV open, with its migration data\n"
		"fd, dirty logging and low power, and runs every later vfiomig command for\n"
		"them on the caller's own standard input, output and error. Closing a VFIO\n"
		"device returns it to running, so without a session a state set lasts\n"
		"only as long as one command. Several devices make one holder with a\n"
		"socket each, so that a command naming several of them runs in it. The\n"
		"sockets live in $VFIOMIG_RUNTIME_DIR, /run/vfiomig (root) or\n"
		"$XDG_RUNTIME_DIR/vfiomig (mode 0700); only their owner or root may use\n"
		"them. Opened in a shell or a batch that holds a device already, the\n"
		"device moves to the holder with its state.\n",
};

const struct vm_cmd cmd_close = {
	.name = "close",
	.run = run_close,
	.args = "DEV",
	.summary = "end the session holding a device",
	.help = "Ends the holder started by 'vfiomig open', which releases every device it\n"
		"holds (they are named). The devices are closed: their drivers return\n"
		"them to running, and the next open resets them.\n",
};

const struct vm_cmd cmd_sessions = {
	.name = "sessions",
	.run = run_sessions,
	.summary = "list the devices held by sessions",
	.help = "Lists each session: device, holder pid, owner, start time and the\n"
		"device's migration state. Stale sockets of dead holders are removed.\n",
};

static void show_since(int64_t since)
{
	char when[32];
	time_t t = since;
	struct tm tm;

	if (localtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		out_str("since", " since %s", when);
	out_s64("since_epoch", NULL, since);
}

/* Refuses to open a session for a device that has one already. */
static int check_free(const struct vm_dev *d)
{
	struct session_info info;
	int ret = session_find(d->name, &info);

	if (!ret)
		return vm_error(EBUSY, "cannot open a session for", d->name, "'vfiomig close' ends it",
				"it is already open: held by pid %d (uid %u)", (int)info.pid,
				(unsigned)info.uid);
	if (ret == -EACCES || ret == -EPERM)
		return vm_error(EBUSY, "cannot open a session for", d->name, NULL,
				"another user's session holds it");
	return 0;
}

static int run_open(int argc, char **argv)
{
	struct vm_dev d[SESSION_MAX_DEVS];
	char path[PATH_MAX];
	struct vm_dev *h;
	int n, i, j, ret = 0, opened = 0, optind;
	bool held[SESSION_MAX_DEVS], hold;
	pid_t pid;

	optind = vm_getopt(&cmd_open, argc, argv, vm_no_options, NULL);
	if (optind < 0)
		return optind;
	n = argc - optind;
	if (n < 1)
		return vm_operands(&cmd_open, argc, argv, optind, 1);
	if (n > SESSION_MAX_DEVS)
		return vm_usage("open: %d devices: a session holds at most %d", n, SESSION_MAX_DEVS);
	for (i = 0; i < n && !ret; i++) {
		ret = dev_lookup(argv[optind + i], &d[i]);
		for (j = 0; j < i && !ret; j++)
			if (!strcmp(d[i].name, d[j].name))
				ret = vm_usage("open: '%s' names %s, which '%s' named already",
					       argv[optind + i], d[i].name, argv[optind + j]);
	}
	for (i = 0; i < n && !ret; i++)
		ret = check_free(&d[i]);
	if (ret)
		return ret;

	/* A shell or batch holds what it opens: this open is for the holder alone. */
	hold = dev_hold_opens(false);
	for (i = 0; i < n && !ret; i++) {
		held[i] = dev_held_find(d[i].name) != NULL;
		ret = dev_open(&d[i]);
		opened += !ret;
	}
	if (!ret)
		ret = session_start(d, n, &pid);
	if (!ret) {
		for (i = 0; i < n; i++) {
			session_path(d[i].name, path, sizeof(path));
			out_text("%s: session opened, held by pid %d (%s)\n", d[i].name, (int)pid, path);
		}
		out_str("device", NULL, d[0].name);
		out_s64("pid", NULL, pid);
		session_path(d[0].name, path, sizeof(path));
		out_str("socket", NULL, path);
		out_arr_open("devices");
		for (i = 0; i < n; i++) {
			out_obj_open(NULL);
			out_str("device", NULL, d[i].name);
			session_path(d[i].name, path, sizeof(path));
			out_str("socket", NULL, path);
			out_obj_close();
		}
		out_arr_close();
		vm_note("later vfiomig commands for %s%s run in the session; 'vfiomig close %s' ends it",
			d[0].name, n > 1 ? " and the other devices" : "", d[0].name);
	}
	for (i = 0; i < opened; i++)
		dev_close(&d[i]);
	/* The holder has the devices this process held, with their state: hold them no more. */
	for (i = 0; i < opened && !ret; i++) {
		h = held[i] ? dev_held_find(d[i].name) : NULL;
		if (h) {
			dev_close(h);
			vm_note("%s moved to the session with its state; this process holds it no more",
				d[i].name);
		}
	}
	dev_hold_opens(hold);
	return ret;
}

static int run_close(int argc, char **argv)
{
	struct vm_dev d, *h;
	int ret, i, others = 0, optind = vm_getopt(&cmd_close, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_close, argc, argv, optind, 1);
	if (!ret)
		ret = dev_lookup(argv[optind], &d);
	if (ret)
		return ret;
	/* Forwarding brought us into the holder if there is a session. */
	if (!session_in_holder() || !dev_held_find(d.name))
		return vm_error(ENOENT, "no session for", d.name, "'vfiomig sessions' lists them",
				"nothing holds it");
	session_end();
	out_str("device", "%s: session closed", d.name);
	out_s64("pid", " (pid %" PRId64 ")", getpid());
	out_arr_open("released");
	for (i = 0; (h = dev_held_nth(i)); i++) {
		out_str(NULL, NULL, h->name);
		if (strcmp(h->name, d.name))
			out_text("%s %s", others++ ? "," : "; it also released", h->name);
	}
	out_arr_close();
	out_text("\n");
	vm_note("%s%s closed now: %s driver%s return%s %s to running, and the next open resets %s",
		d.name, others ? " and the devices of its session are" : " is",
		others ? "their" : "its", others ? "s" : "", others ? "" : "s",
		others ? "them" : "it", others ? "them" : "it");
	return 0;
}

struct list_ctx {
	const char *dir;
	int count;
};

static int list_one(const char *file, void *data)
{
	struct list_ctx *c = data;
	struct session_info info;
	char path[PATH_MAX];
	size_t n = strlen(file);
	struct passwd *pw;
	int ret;

	if (n < 6 || strcmp(file + n - 5, ".sock"))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", c->dir, file);
	ret = session_query(path, &info);
	if (ret == -ECONNREFUSED) {
		unlink(path);
		vm_note("removed the stale session socket %s (its holder is gone)", path);
		return 0;
	}
	out_obj_open(NULL);
	if (ret) {
		out_str("socket", "%s", path);
		out_str("error", ": %s\n", vm_strerror(ret));
		out_obj_close();
		return 0;
	}
	c->count++;
	out_str("device", "%s", info.device);
	out_s64("pid", " pid %" PRId64, info.pid);
	pw = getpwuid(info.uid);
	out_u64("uid", NULL, info.uid);
	if (pw)
		out_str("owner", " owner %s", pw->pw_name);
	else
		out_u64(NULL, " owner %" PRIu64, info.uid);
	show_since(info.since);
	out_str("state", " state %s\n", info.state >= 0 ? mig_state_name(info.state) : NULL);
	out_obj_close();
	return 0;
}

static int run_sessions(int argc, char **argv)
{
	char dir[PATH_MAX];
	struct list_ctx c = { dir, 0 };
	int ret, optind = vm_getopt(&cmd_sessions, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_sessions, argc, argv, optind, 0);
	if (!ret)
		ret = session_dir(dir, sizeof(dir));
	if (ret)
		return ret;
	out_arr_open("sessions");
	ret = sysfs_each(dir, list_one, &c);
	out_arr_close();
	if (ret == -ENOENT)
		ret = 0;
	if (!ret && !c.count)
		out_text("no sessions\n");
	return ret < 0 ? vm_error(ret, "cannot list sessions in", dir, NULL, NULL) : 0;
}
