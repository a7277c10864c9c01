// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig open|close|sessions`: hold a device across invocations, end that, and list who holds what. */
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
	.args = "DEV",
	.summary = "hold a device open across vfiomig invocations",
	.help = "Starts a holder process that keeps DEV open, with its migration data fd,\n"
		"dirty logging and low power, and runs every later vfiomig command for DEV\n"
		"on the caller's own standard input, output and error. Closing a VFIO\n"
		"device returns it to running, so without a session a state set lasts\n"
		"only as long as one command. The socket lives in $VFIOMIG_RUNTIME_DIR,\n"
		"/run/vfiomig (root) or $XDG_RUNTIME_DIR/vfiomig; only its owner or root\n"
		"may use it.\n",
};

const struct vm_cmd cmd_close = {
	.name = "close",
	.run = run_close,
	.args = "DEV",
	.summary = "end the session holding a device",
	.help = "Ends the holder started by 'vfiomig open'. The device is closed: its\n"
		"driver returns it to running, and the next open resets it.\n",
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

static int run_open(int argc, char **argv)
{
	struct session_info info;
	char path[PATH_MAX];
	struct vm_dev d;
	pid_t pid;
	int ret, optind = vm_getopt(&cmd_open, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_open, argc, argv, optind, 1);
	if (!ret)
		ret = dev_lookup(argv[optind], &d);
	if (ret)
		return ret;
	ret = session_path(d.name, path, sizeof(path));
	if (ret)
		return vm_error(ret, "cannot name the session socket of", d.name, NULL, NULL);
	ret = session_query(path, &info);
	if (!ret)
		return vm_error(EBUSY, "cannot open a session for", d.name, "'vfiomig close' ends it",
				"it is already open: held by pid %d (uid %u)", (int)info.pid,
				(unsigned)info.uid);
	if (ret == -ECONNREFUSED) {
		unlink(path);
		vm_note("removed the stale session of %s (its holder is gone)", d.name);
	} else if (ret == -EACCES || ret == -EPERM) {
		return vm_error(EBUSY, "cannot open a session for", d.name, NULL,
				"another user's session holds it");
	}
	ret = dev_open(&d);
	if (ret)
		return ret;
	ret = session_start(&d, &pid);
	if (!ret) {
		out_str("device", "%s: session opened", d.name);
		out_s64("pid", ", held by pid %" PRId64, pid);
		out_str("socket", " (%s)\n", path);
		vm_note("later vfiomig commands for %s run in the session; 'vfiomig close %s' ends it",
			d.name, d.name);
	}
	dev_close(&d);
	return ret;
}

static int run_close(int argc, char **argv)
{
	struct vm_dev d;
	int ret, optind = vm_getopt(&cmd_close, argc, argv, vm_no_options, NULL);

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
	out_s64("pid", " (pid %" PRId64 ")\n", getpid());
	vm_note("%s is closed now: its driver returns it to running, and the next open resets it",
		d.name);
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
