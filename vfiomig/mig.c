/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VFIO migration state machine as pure logic: state names, feature flags and the paths the kernel walks. */
#include "mig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Indexed by enum mig_state; these are the words users type and JSON carries. */
static const char *const state_names[MIG_NUM_STATES] = {
	[MIG_ERROR] = "error",
	[MIG_STOP] = "stop",
	[MIG_RUNNING] = "running",
	[MIG_STOP_COPY] = "stop-copy",
	[MIG_RESUMING] = "resuming",
	[MIG_RUNNING_P2P] = "running-p2p",
	[MIG_PRE_COPY] = "pre-copy",
	[MIG_PRE_COPY_P2P] = "pre-copy-p2p",
};

static const char *const state_meanings[MIG_NUM_STATES] = {
	[MIG_ERROR] = "failed and unable to return to any valid state; only a device reset, "
		      "which leaves it running, gets it out",
	[MIG_STOP] = "stopped: no DMA, no interrupts, no change to its internal or external "
		     "state, while still answering config space and MSI-X accesses",
	[MIG_RUNNING] = "fully operational: it may DMA, raise interrupts, answer MMIO and "
			"advance its internal state",
	[MIG_STOP_COPY] = "stopped as in stop, while its complete internal state streams out "
			  "through the data fd until end of file",
	[MIG_RESUMING] = "stopped, loading the internal state written to the data fd from a "
			 "compatible source device",
	[MIG_RUNNING_P2P] = "running, but initiating no new peer-to-peer DMA (no DMA at all if "
			    "it cannot tell peer-to-peer apart); it still answers transactions from peers",
	[MIG_PRE_COPY] = "running normally while an early copy of its internal state, and "
			 "changes to it, stream out through the data fd",
	[MIG_PRE_COPY_P2P] = "pre-copy, but quiesced as in running-p2p: initiating no new "
			     "peer-to-peer DMA while the data fd keeps streaming",
};

/* The VFIO_DEVICE_FEATURE_MIGRATION flags a device must report to have each state. */
static const uint64_t state_needs[MIG_NUM_STATES] = {
	[MIG_ERROR] = 0, /* exists on every device, but is never a target */
	[MIG_STOP] = MIG_FLAG_STOP_COPY,
	[MIG_RUNNING] = MIG_FLAG_STOP_COPY,
	[MIG_STOP_COPY] = MIG_FLAG_STOP_COPY,
	[MIG_RESUMING] = MIG_FLAG_STOP_COPY,
	[MIG_RUNNING_P2P] = MIG_FLAG_STOP_COPY | MIG_FLAG_P2P,
	[MIG_PRE_COPY] = MIG_FLAG_STOP_COPY | MIG_FLAG_PRE_COPY,
	[MIG_PRE_COPY_P2P] = MIG_FLAG_STOP_COPY | MIG_FLAG_P2P | MIG_FLAG_PRE_COPY,
};

/*
 * The next step the kernel takes from a state (row) towards a target
 * (column) on a device with every optional state, as documented in
 * UAPI.md; NO_STEP marks the refused STOP_COPY -> PRE_COPY* requests.
 * Devices lacking a state reuse this table: see next_step().
 */
#define NO_STEP MIG_NUM_STATES
#define ST MIG_STOP
#define RU MIG_RUNNING
#define SC MIG_STOP_COPY
#define RE MIG_RESUMING
#define RP MIG_RUNNING_P2P
#define PC MIG_PRE_COPY
#define PP MIG_PRE_COPY_P2P
static const unsigned char step_table[MIG_NUM_STATES][MIG_NUM_STATES] = {
	/* target:          ERROR    STOP RUN SC RES RP2P PC PCP */
	[MIG_STOP]         = { NO_STEP, ST, RP, SC, RE, RP, RP, RP },
	[MIG_RUNNING]      = { NO_STEP, RP, RU, RP, RP, RP, PC, RP },
	[MIG_STOP_COPY]    = { NO_STEP, ST, ST, SC, ST, ST, NO_STEP, NO_STEP },
	[MIG_RESUMING]     = { NO_STEP, ST, ST, ST, RE, ST, ST, ST },
	[MIG_RUNNING_P2P]  = { NO_STEP, ST, RU, ST, ST, RP, RU, PP },
	[MIG_PRE_COPY]     = { NO_STEP, RU, RU, PP, RU, RU, PC, PP },
	[MIG_PRE_COPY_P2P] = { NO_STEP, RP, RP, SC, RP, RP, PC, PP },
	/* Leaving ERROR takes a reset, never a step: the row stays NO_STEP. */
	[MIG_ERROR]        = { NO_STEP, NO_STEP, NO_STEP, NO_STEP,
			       NO_STEP, NO_STEP, NO_STEP, NO_STEP },
};
#undef ST
#undef RU
#undef SC
#undef RE
#undef RP
#undef PC
#undef PP

const char *mig_state_name(unsigned int state)
{
	return state < MIG_NUM_STATES ? state_names[state] : "unknown";
}

int mig_state_parse(const char *s, enum mig_state *state)
{
	unsigned int i;

	if (!s)
		return -EINVAL;
	/* One digit: 0..7 have no other spelling, so "07", "+1" and "1 " stay errors. */
	if (s[0] >= '0' && s[0] <= '0' + MIG_NUM_STATES - 1 && s[1] == '\0') {
		*state = (enum mig_state)(s[0] - '0');
		return 0;
	}
	for (i = 0; i < MIG_NUM_STATES; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*state = (enum mig_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *mig_flags_str(uint64_t flags, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } known[] = {
		{ MIG_FLAG_STOP_COPY, "stop-copy" },
		{ MIG_FLAG_P2P, "p2p" },
		{ MIG_FLAG_PRE_COPY, "pre-copy" },
	};
	uint64_t rest = flags;
	size_t used = 0, i;
	int n;

	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (flags == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!(flags & known[i].bit))
			continue;
		rest &= ~known[i].bit;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", known[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return buf; /* truncated, but still terminated */
		used += (size_t)n;
	}
	/* Bits a newer kernel may define stay visible instead of being dropped. */
	if (rest)
		snprintf(buf + used, len - used, "%s0x%llx", used ? "," : "",
			 (unsigned long long)rest);
	return buf;
}

bool mig_state_supported(enum mig_state state, uint64_t flags)
{
	if ((unsigned int)state >= MIG_NUM_STATES || state == MIG_ERROR)
		return false;
	return (flags & state_needs[state]) == state_needs[state];
}

bool mig_state_saving(enum mig_state state)
{
	return state == MIG_STOP_COPY || state == MIG_PRE_COPY || state == MIG_PRE_COPY_P2P;
}

/*
 * One step from CUR towards TARGET. When the full-featured table names a
 * state this device lacks, the kernel does not fail: it looks up the step
 * from that missing state to the same target, and repeats until it lands on
 * a state the device has. Returns the state, or NO_STEP.
 */
static unsigned int next_step(unsigned int cur, unsigned int target, uint64_t flags)
{
	unsigned int next = step_table[cur][target];
	unsigned int hops;

	/* Bounded: a table mistake must end in an error, not in the kernel's old endless loop. */
	for (hops = 0; next != NO_STEP && hops < MIG_NUM_STATES; hops++) {
		if (mig_state_supported((enum mig_state)next, flags))
			return next;
		next = step_table[next][target];
	}
	return NO_STEP;
}

int mig_path(enum mig_state cur, enum mig_state target, uint64_t flags,
	     enum mig_state path[MIG_PATH_MAX])
{
	unsigned int at = (unsigned int)cur, to = (unsigned int)target;
	unsigned int next;
	int n = 0;

	if (at >= MIG_NUM_STATES || to >= MIG_NUM_STATES)
		return -EINVAL;
	if (at == MIG_ERROR)
		return -EPERM;
	if (to == MIG_ERROR || !mig_state_supported(cur, flags))
		return -EINVAL;
	/*
	 * Checked before the target's support so that it holds for every flag
	 * combination: kernels with the bug spin with the state mutex held, and
	 * a device's flags as we read them are not a promise about its driver.
	 */
	if (at == MIG_STOP_COPY && (to == MIG_PRE_COPY || to == MIG_PRE_COPY_P2P))
		return -EDEADLK;
	if (!mig_state_supported(target, flags))
		return -EINVAL;

	while (at != to) {
		if (n == MIG_PATH_MAX)
			return -ELOOP; /* the table is wrong; the unit tests rule this out */
		next = next_step(at, to, flags);
		if (next == NO_STEP)
			return -EINVAL;
		path[n++] = (enum mig_state)next;
		at = next;
	}
	return n;
}

enum mig_fd mig_arc_fd(enum mig_state from, enum mig_state to)
{
	/* Only arcs that start a session hand out a fd; moves inside the saving group keep it. */
	if ((from == MIG_RUNNING && to == MIG_PRE_COPY) ||
	    (from == MIG_RUNNING_P2P && to == MIG_PRE_COPY_P2P) ||
	    (from == MIG_STOP && to == MIG_STOP_COPY))
		return MIG_FD_READ;
	if (from == MIG_STOP && to == MIG_RESUMING)
		return MIG_FD_WRITE;
	return MIG_FD_NONE;
}

const char *mig_state_meaning(enum mig_state state)
{
	if ((unsigned int)state >= MIG_NUM_STATES)
		return "not a state of the VFIO migration uAPI";
	return state_meanings[state];
}
