/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sessions: a holder process keeps a device open and runs other invocations' commands on their own stdio. */
#ifndef VFIOMIG_SESSION_H
#define VFIOMIG_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dev.h"

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
 * If a command line (global options end at CMD) names a device that has a
 * session, sends it to the holder with our stdin, stdout, stderr and
 * working directory, waits, and returns true with the command's exit
 * status in *STATUS. Returns false when the command is to run here.
 */
bool session_forward(int argc, char **argv, int cmd, int *status);

/*
 * Asks the holder at PATH about itself: 0, -ECONNREFUSED or -ENOENT for a
 * stale or absent socket, -EPERM when the holder refuses us, -EACCES when
 * the socket does, or another -errno.
 */
int session_query(const char *path, struct session_info *info);

/* Starts a holder for the open device D, in a new process; 0 or -errno (reported). */
int session_start(struct vm_dev *d, pid_t *pid);

/* True inside a holder, while it runs a forwarded command. */
bool session_in_holder(void);
/* Ends the holder after the current command (the `close` command). */
void session_end(void);

#endif
