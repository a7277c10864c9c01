/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Several devices moved together: phases behind the P2P quiesce barrier, each arc timed, a failure rolled back. */
#ifndef VFIOMIG_DEVSET_H
#define VFIOMIG_DEVSET_H

#include <stdbool.h>

#include "dev.h"
#include "phases.h"

struct devset {
	int n;
	struct vm_dev dev[PHASES_MAX_DEVS];
	enum mig_state start[PHASES_MAX_DEVS]; /* where each stood when opened */
	/* Of the last devset_run(): each step's duration, and how many steps succeeded. */
	double step_us[PHASES_MAX_STEPS];
	int done;
};

/*
 * Looks up and opens the N devices named by ARGS for migration, refusing
 * one named twice (a usage error). On failure the devices opened so far
 * are closed again.
 */
int devset_open(struct devset *s, char *const *args, int n);
void devset_close(struct devset *s);

/*
 * Plans moving device I to TARGET[I] for every I, in phases: with BARRIER,
 * no device stops while a peer may still initiate DMA, and none runs
 * again while a peer is stopped. A refusal is reported: -EAGAIN when the
 * barrier cannot hold because a device has no P2P state (the remedy is
 * --no-p2p-barrier), or mig_path()'s errors naming the device.
 */
int devset_plan(struct devset *s, const enum mig_state *target, bool barrier,
		struct phase_plan *plan);

/*
 * Runs PLAN one arc at a time, phase after phase, timing each arc. Stops
 * at the first failure, which dev_set_state() reports with where that
 * device is; the other devices are where the finished steps left them.
 */
int devset_run(struct devset *s, const struct phase_plan *plan);

/*
 * After a failure: moves every device back to TARGET[I] (by phases, with
 * the barrier when the devices allow it), and says where each one is and,
 * for one that did not get there, how to recover it. 0 when all are back.
 */
int devset_return(struct devset *s, const enum mig_state *target);

/*
 * PLAN as the array KEY ("plan", "phases"): per phase its steps (device,
 * from, to) and, with TIMED, each step's duration and the phase's.
 * EXPLAIN adds what the devices do in each phase.
 */
void devset_print_phases(const struct devset *s, const struct phase_plan *plan, const char *key,
			 bool timed, bool explain);
/*
 * The end of a set's report after a save or load: the barrier, the phases
 * of PLAN, then those of THEN_PLAN that took the devices to THEN, or each
 * device's state when that move failed (THEN_RET).
 */
void devset_print_outcome(struct devset *s, bool barrier, const struct phase_plan *plan,
			  const struct phase_plan *then_plan, int then_ret, enum mig_state then);
/* Each device and the state it reads now, as the "states" array. */
void devset_print_states(struct devset *s);

/* The same target for every device. */
void devset_targets(const struct devset *s, enum mig_state target, enum mig_state *out);

#endif
