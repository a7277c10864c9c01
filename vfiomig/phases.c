// SPDX-License-Identifier: GPL-2.0-or-later
/* The P2P quiesce barrier as a planner: pure, so every combination of devices and flags can be tested. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "phases.h"

int phase_level(enum mig_state s)
{
	switch (s) {
	case MIG_RUNNING:
	case MIG_PRE_COPY:
		return 0;
	case MIG_RUNNING_P2P:
	case MIG_PRE_COPY_P2P:
		return 1;
	default:
		return 2;
	}
}

/* Whether device I may take the arc to NEXT while the devices stand at AT. */
static bool allowed(const enum mig_state *at, int n, int i, enum mig_state next)
{
	int j, lvl = phase_level(next);

	for (j = 0; j < n; j++) {
		if (j == i)
			continue;
		/* Stopping while a peer may still DMA into us would let our state change after it was read. */
		if (lvl == 2 && phase_level(at[i]) < 2 && phase_level(at[j]) == 0)
			return false;
		/* Running again while a peer is stopped would DMA into a device whose state is final. */
		if (lvl == 0 && phase_level(at[i]) > 0 && phase_level(at[j]) == 2)
			return false;
	}
	return true;
}

int phase_plan(const struct phase_dev *devs, int n, bool barrier, struct phase_plan *plan,
	       char *why, size_t whylen)
{
	enum mig_state path[PHASES_MAX_DEVS][MIG_PATH_MAX], at[PHASES_MAX_DEVS];
	int len[PHASES_MAX_DEVS], pos[PHASES_MAX_DEVS] = { 0 };
	int i, left = 0, moved, ret;

	memset(plan, 0, sizeof(*plan));
	if (n < 1 || n > PHASES_MAX_DEVS) {
		snprintf(why, whylen, "between 1 and %d devices", PHASES_MAX_DEVS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		ret = mig_path(devs[i].cur, devs[i].target, devs[i].flags, path[i]);
		if (ret < 0) {
			snprintf(why, whylen, "device %d: %s -> %s", i + 1, mig_state_name(devs[i].cur),
				 mig_state_name(devs[i].target));
			return ret;
		}
		len[i] = ret;
		left += ret;
		at[i] = devs[i].cur;
	}
	while (left) {
		enum mig_state next_at[PHASES_MAX_DEVS];

		memcpy(next_at, at, sizeof(at));
		moved = 0;
		/* Every device judged against where all stood when the phase began. */
		for (i = 0; i < n; i++) {
			if (pos[i] == len[i])
				continue;
			if (barrier && !allowed(at, n, i, path[i][pos[i]]))
				continue;
			plan->steps[plan->nsteps++] = (struct phase_step){ i, at[i], path[i][pos[i]] };
			next_at[i] = path[i][pos[i]++];
			moved++;
		}
		if (!moved) {
			for (i = 0; i < n && (pos[i] == len[i] || phase_level(path[i][pos[i]]) != 2); i++)
				;
			snprintf(why, whylen,
				 "device %d would go from %s to %s while a peer may still initiate DMA: it has no P2P state",
				 i < n ? i + 1 : 0, i < n ? mig_state_name(at[i]) : "?",
				 i < n ? mig_state_name(path[i][pos[i]]) : "?");
			return -EAGAIN;
		}
		memcpy(at, next_at, sizeof(at));
		left -= moved;
		plan->phase_end[plan->nphases++] = plan->nsteps;
	}
	return 0;
}

int phase_of(const struct phase_plan *plan, int k)
{
	int p = 0;

	while (p < plan->nphases - 1 && k >= plan->phase_end[p])
		p++;
	return p;
}
