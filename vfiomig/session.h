/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sessions: a holder process keeps a set of devices open and runs other invocations' commands on their own stdio. */
#ifndef VFIOMIG_SESSION_H
#define VFIOMIG_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dev.h"

/* The most devices one holder holds (as many as a process can hold, dev_hold()). */
#define SESSION_MAX_DEVS 16

/* What a holder says about itself. */
struct session_info {
	pid_t pid;
	uid_t uid;
	int64_t since;          /* seconds since the epoch */
	int state;              /* migration state, -1 if the device has none */
	char device[64];
};

/* The directory of session sockets: $VFIOMIG_RUNTIME_DIR, /run/vfiomig for root, else $XDG_RUNTIME_DIR/vfiomig. */
int session_dir(char *buf, size_t len);
/* The socket of the session for device NAME. */
int session_path(const char *name, char *buf, size_t len);

/*
 * If a command line (global options end at CMD) names devices that have
 * a session, sends it to their holder with our stdin, stdout, stderr and
 * working directory, waits, and returns true with the command's exit
 * status in *STATUS. Devices held by different holders, or some by a
 * holder and others by none, are refused (true, with the status of that
 * error): a command runs in one process. Returns false when the command
 * is to run here. `open`, `sessions`, `help`, `blob`, `shell` and `batch`
 * always run here (the shell and batch forward each line).
 */
bool session_forward(int argc, char **argv, int cmd, int *status);

/*
 * Asks the holder at PATH about itself: 0, -ECONNREFUSED or -ENOENT for a
 * stale or absent socket, -EPERM when the holder refuses us, -EACCES when
 * the socket does, or another -errno.
 */
int session_query(const char *path, struct session_info *info);

/*
 * The session holding device NAME: 0 and its INFO, -ENOENT when there is
 * none (a stale socket is removed, with a note), or session_query()'s errors.
 */
int session_find(const char *name, struct session_info *info);

/*
 * Starts one holder for the N open devices DEVS, with a socket per device,
 * in a new process that is not our child; 0 or -errno (reported). The
 * holder takes its own copies of their fds: the caller closes its own,
 * and releases them if it held them (dev_hold()).
 */
int session_start(struct vm_dev *devs, int n, pid_t *pid);

/* True inside a holder, while it runs a forwarded command. */
bool session_in_holder(void);
/* Ends the holder after the current command (the `close` command). */
void session_end(void);

#endif
