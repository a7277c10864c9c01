// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the multi-device phase planner: the barrier holds in every plan, for every mix of states and flags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "phases.h"

#define SC MIG_FLAG_STOP_COPY
#define P2P MIG_FLAG_P2P
#define PRE MIG_FLAG_PRE_COPY

/* Replays PLAN and checks what the barrier promises, independently of the planner. */
static void check_plan(const struct phase_dev *devs, int n, const struct phase_plan *plan)
{
	enum mig_state at[PHASES_MAX_DEVS];
	int k, s = 0, i, j, lvl_before[PHASES_MAX_DEVS];

	for (i = 0; i < n; i++)
		at[i] = devs[i].cur;
	for (k = 0; k < plan->nphases; k++) {
		int seen[PHASES_MAX_DEVS] = { 0 };

		for (i = 0; i < n; i++)
			lvl_before[i] = phase_level(at[i]);
		for (; s < plan->phase_end[k]; s++) {
			const struct phase_step *st = &plan->steps[s];

			assert_int_equal(st->from, at[st->dev]);
			assert_int_equal(seen[st->dev]++, 0); /* one arc per device per phase */
			for (j = 0; j < n; j++) {
				if (j == st->dev)
					continue;
				/* Nobody stops while a peer stood at a DMA-initiating level. */
				if (phase_level(st->to) == 2 && lvl_before[st->dev] < 2)
					assert_int_not_equal(lvl_before[j], 0);
				if (phase_level(st->to) == 0 && lvl_before[st->dev] > 0)
					assert_int_not_equal(lvl_before[j], 2);
			}
			at[st->dev] = st->to;
		}
	}
	assert_int_equal(s, plan->nsteps);
	for (i = 0; i < n; i++)
		assert_int_equal(at[i], devs[i].target);
}

static void test_two_devices_down_and_up(void **state)
{
	struct phase_dev down[2] = { { MIG_RUNNING, MIG_STOP_COPY, SC | P2P },
				     { MIG_RUNNING, MIG_STOP_COPY, SC | P2P } };
	struct phase_dev up[2] = { { MIG_STOP, MIG_RUNNING, SC | P2P },
				   { MIG_STOP, MIG_RUNNING, SC | P2P } };
	struct phase_plan plan;
	char why[160];

	(void)state;
	assert_int_equal(phase_plan(down, 2, true, &plan, why, sizeof(why)), 0);
	check_plan(down, 2, &plan);
	/* running-p2p for both, then stop for both, then stop-copy for both. */
	assert_int_equal(plan.nphases, 3);
	assert_int_equal(plan.steps[0].to, MIG_RUNNING_P2P);
	assert_int_equal(plan.steps[1].to, MIG_RUNNING_P2P);
	assert_int_equal(plan.steps[2].to, MIG_STOP);
	assert_int_equal(plan.steps[3].to, MIG_STOP);
	assert_int_equal(phase_plan(up, 2, true, &plan, why, sizeof(why)), 0);
	check_plan(up, 2, &plan);
	assert_int_equal(plan.nphases, 2);
	assert_int_equal(plan.steps[0].to, MIG_RUNNING_P2P);
	assert_int_equal(plan.steps[2].to, MIG_RUNNING);
}

static void test_without_p2p(void **state)
{
	struct phase_dev devs[2] = { { MIG_RUNNING, MIG_STOP, SC },
				     { MIG_RUNNING, MIG_STOP, SC } };
	struct phase_dev mixed[2] = { { MIG_RUNNING, MIG_STOP, SC | P2P },
				      { MIG_RUNNING, MIG_STOP, SC } };
	struct phase_plan plan;
	char why[160] = "";

	(void)state;
	/* Two devices that cannot quiesce: whichever stops first may still be DMAed into. */
	assert_int_equal(phase_plan(devs, 2, true, &plan, why, sizeof(why)), -EAGAIN);
	assert_non_null(strstr(why, "device 1 would go from running to stop"));
	assert_non_null(strstr(why, "no P2P"));
	/* One without P2P may stop once every peer is quiesced, and before they stop. */
	assert_int_equal(phase_plan(mixed, 2, true, &plan, why, sizeof(why)), 0);
	check_plan(mixed, 2, &plan);
	assert_int_equal(plan.nphases, 3);
	assert_int_equal(plan.steps[1].dev, 1);
	assert_int_equal(plan.steps[1].to, MIG_STOP);
	/* Without the barrier the plan exists; nothing is promised about peers. */
	assert_int_equal(phase_plan(devs, 2, false, &plan, why, sizeof(why)), 0);
	/* A single device needs no barrier, P2P or not. */
	assert_int_equal(phase_plan(devs + 1, 1, true, &plan, why, sizeof(why)), 0);
	check_plan(devs + 1, 1, &plan);
}

static void test_refusals(void **state)
{
	struct phase_dev devs[2] = { { MIG_RUNNING, MIG_STOP, SC | P2P },
				     { MIG_STOP_COPY, MIG_PRE_COPY, SC | P2P | PRE } };
	struct phase_plan plan;
	char why[160] = "";

	(void)state;
	assert_int_equal(phase_plan(devs, 2, true, &plan, why, sizeof(why)), -EDEADLK);
	assert_non_null(strstr(why, "device 2"));
	assert_int_equal(phase_plan(devs, 0, true, &plan, why, sizeof(why)), -E2BIG);
}

/* Every pair of (cur, target) for three devices with full flags, and mixes of flag sets. */
static void test_exhaustive(void **state)
{
	static const uint64_t flagsets[] = { SC | P2P, SC | P2P | PRE };
	struct phase_plan plan;
	char why[160];
	int a, b, c, t, f, ret, plans = 0;

	(void)state;
	for (f = 0; f < 2; f++)
		for (a = MIG_STOP; a < MIG_NUM_STATES; a++)
			for (b = MIG_STOP; b < MIG_NUM_STATES; b++)
				for (c = MIG_STOP; c < MIG_NUM_STATES; c++)
					for (t = MIG_STOP; t < MIG_NUM_STATES; t++) {
						struct phase_dev devs[3] = {
							{ a, t, flagsets[f] }, { b, t, flagsets[f] },
							{ c, t, flagsets[f] } };

						ret = phase_plan(devs, 3, true, &plan, why, sizeof(why));
						if (ret == -EINVAL || ret == -EDEADLK)
							continue; /* a state the flags lack, or the refused arc */
						assert_int_equal(ret, 0);
						check_plan(devs, 3, &plan);
						plans++;
					}
	assert_true(plans > 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_devices_down_and_up),
		cmocka_unit_test(test_without_p2p),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_exhaustive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
