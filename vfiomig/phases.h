/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Moving several devices together: phases separated by barriers, so no device is stopped while a peer still initiates DMA. */
#ifndef VFIOMIG_PHASES_H
#define VFIOMIG_PHASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mig.h"

#define PHASES_MAX_DEVS 16
#define PHASES_MAX_STEPS (PHASES_MAX_DEVS * MIG_PATH_MAX)

struct phase_dev {
	enum mig_state cur, target;
	uint64_t flags;
};

struct phase_step {
	int dev;                        /* index into the devices */
	enum mig_state from, to;        /* one arc */
};

struct phase_plan {
	int nsteps, nphases;
	struct phase_step steps[PHASES_MAX_STEPS];
	int phase_end[PHASES_MAX_STEPS]; /* steps[phase_end[k-1]..phase_end[k]) form phase k */
};

/*
 * How quiet a device is: 0 it may initiate DMA (running, pre-copy), 1 it
 * answers peers but initiates nothing (running-p2p, pre-copy-p2p), 2 it is
 * stopped (stop, stop-copy, resuming).
 */
int phase_level(enum mig_state s);

/*
 * Plans the arcs that take each of the N devices from its cur to its
 * target, grouped in phases. Within a phase each device takes at most one
 * arc; with BARRIER, a device enters a stopped state only once every other
 * device is at least quiesced, and resumes running only once no device is
 * stopped: all reach running-p2p before any stops, and on the way back all
 * reach running-p2p before any runs. Returns 0, or -EINVAL/-EPERM/-EDEADLK
 * from mig_path() with WHY naming the device, or -EAGAIN when the barrier
 * cannot hold (a device without P2P would stop while a peer runs).
 */
int phase_plan(const struct phase_dev *devs, int n, bool barrier, struct phase_plan *plan,
	       char *why, size_t whylen);

/* The phase (from 0) that step K of PLAN belongs to. */
int phase_of(const struct phase_plan *plan, int k);

#endif
