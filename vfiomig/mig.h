/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The migration state machine of the VFIO uAPI, as pure logic: names, flags and paths. */
#ifndef VFIOMIG_MIG_H
#define VFIOMIG_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device states, numbered as in the uAPI. */
enum mig_state {
	MIG_ERROR = 0,
	MIG_STOP = 1,
	MIG_RUNNING = 2,
	MIG_STOP_COPY = 3,
	MIG_RESUMING = 4,
	MIG_RUNNING_P2P = 5,
	MIG_PRE_COPY = 6,
	MIG_PRE_COPY_P2P = 7,
	MIG_NUM_STATES
};

/* VFIO_DEVICE_FEATURE_MIGRATION flags. */
#define MIG_FLAG_STOP_COPY (1ULL << 0)
#define MIG_FLAG_P2P       (1ULL << 1)
#define MIG_FLAG_PRE_COPY  (1ULL << 2)

/* A path never has more steps than there are states. */
#define MIG_PATH_MAX MIG_NUM_STATES

/* "stop-copy" and friends; "unknown" outside the range. */
const char *mig_state_name(unsigned int state);
/* Accepts the names above and the numbers 0..7; 0 or -EINVAL. */
int mig_state_parse(const char *s, enum mig_state *state);
/* "stop-copy,p2p,pre-copy" into BUF; returns BUF. */
const char *mig_flags_str(uint64_t flags, char *buf, size_t len);

/* Whether a device with FLAGS has STATE at all. */
bool mig_state_supported(enum mig_state state, uint64_t flags);
/* PRE_COPY, PRE_COPY_P2P and STOP_COPY: states in which a data_fd reads. */
bool mig_state_saving(enum mig_state state);

/*
 * The arcs the kernel walks from CUR to TARGET for a device with FLAGS.
 * Fills PATH with the states after CUR (the last one is TARGET) and returns
 * the number of steps (0 when CUR == TARGET), or:
 *   -EINVAL  TARGET or CUR is not a state of this device, or TARGET is ERROR
 *   -EPERM   CUR is ERROR: only a reset leaves it
 *   -EDEADLK STOP_COPY -> PRE_COPY or PRE_COPY_P2P: the kernel loops forever
 *            on this request (bug from 6.2): never send it
 */
int mig_path(enum mig_state cur, enum mig_state target, uint64_t flags,
	     enum mig_state path[MIG_PATH_MAX]);

/* Whether the arc FROM -> TO (one step) hands out a new data_fd, and its direction. */
enum mig_fd { MIG_FD_NONE, MIG_FD_READ, MIG_FD_WRITE };
enum mig_fd mig_arc_fd(enum mig_state from, enum mig_state to);

/* One sentence on what a device does in STATE, for --explain. */
const char *mig_state_meaning(enum mig_state state);

#endif
