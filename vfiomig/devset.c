// SPDX-License-Identifier: GPL-2.0-or-later
/* Moving a set of devices in phases, so that no device is frozen while a peer can still write into it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devset.h"
#include "io.h"
#include "output.h"
#include "vfiomig.h"

int devset_open(struct devset *s, char *const *args, int n)
{
	int i, j, ret = 0;

	memset(s, 0, sizeof(*s));
	if (n > PHASES_MAX_DEVS)
		return vm_usage("%s: at most %d devices at once, not %d", vm_cmd_path, PHASES_MAX_DEVS, n);
	for (i = 0; i < n && !ret; i++) {
		ret = dev_lookup(args[i], &s->dev[i]);
		for (j = 0; !ret && j < i; j++)
			if (!strcmp(s->dev[i].name, s->dev[j].name))
				ret = vm_usage("%s: device %s is named twice ('%s' and '%s')", vm_cmd_path,
					       s->dev[i].name, args[j], args[i]);
	}
	for (i = 0; i < n && !ret; i++) {
		ret = dev_open_mig(&s->dev[i], &s->start[i]);
		if (!ret)
			s->n = i + 1;
	}
	if (ret)
		devset_close(s);
	return ret;
}

void devset_close(struct devset *s)
{
	while (s->n > 0)
		dev_close(&s->dev[--s->n]);
}

void devset_targets(const struct devset *s, enum mig_state target, enum mig_state *out)
{
	for (int i = 0; i < s->n; i++)
		out[i] = target;
}

int devset_plan(struct devset *s, const enum mig_state *target, bool barrier,
		struct phase_plan *plan)
{
	struct phase_dev pd[PHASES_MAX_DEVS];
	char why[256], flags[64];
	int i, ret;

	for (i = 0; i < s->n; i++) {
		ret = dev_get_state(&s->dev[i], &pd[i].cur);
		if (!ret)
			ret = dev_check_path(&s->dev[i], pd[i].cur, target[i]);
		if (ret)
			return ret;
		pd[i].target = target[i];
		pd[i].flags = s->dev[i].mig_flags;
	}
	ret = phase_plan(pd, s->n, barrier, plan, why, sizeof(why));
	if (ret == -EAGAIN) {
		/* The planner names the device by its position. */
		for (i = 0; i < s->n && (s->dev[i].mig_flags & MIG_FLAG_P2P); i++)
			;
		return vm_error(EOPNOTSUPP, "cannot move together", i < s->n ? s->dev[i].name : "the devices",
				"--no-p2p-barrier moves them anyway, if no device can write into another",
				"%s has no P2P states (migration flags %s), so it cannot stop initiating DMA before a peer stops: %s",
				i < s->n ? s->dev[i].name : "a device",
				i < s->n ? mig_flags_str(s->dev[i].mig_flags, flags, sizeof(flags)) : "?", why);
	}
	if (ret)
		return vm_error(-ret, "cannot plan the move of", s->dev[0].name, NULL, "%s", why);
	return 0;
}

int devset_run(struct devset *s, const struct phase_plan *plan)
{
	int k, ret;
	double t;

	s->done = 0;
	for (k = 0; k < plan->nsteps; k++) {
		const struct phase_step *st = &plan->steps[k];

		if (io_interrupted)
			return vm_error(EINTR, "interrupted", s->dev[st->dev].name, NULL,
					"before %s -> %s, after %d of %d steps", mig_state_name(st->from),
					mig_state_name(st->to), k, plan->nsteps);
		t = mono_now();
		ret = dev_set_state(&s->dev[st->dev], st->to, NULL);
		s->step_us[k] = (mono_now() - t) * 1e6;
		if (ret)
			return ret;
		s->done = k + 1;
	}
	return 0;
}

int devset_return(struct devset *s, const enum mig_state *target)
{
	struct phase_plan plan;
	struct devset sub;
	enum mig_state cur, want[PHASES_MAX_DEVS];
	int map[PHASES_MAX_DEVS], i, m = 0, ret, failed = 0;
	char hint[128];

	/*
	 * A device in error is left out: only a reset leaves error, and a
	 * reset would lose what the user may want to look at.
	 */
	for (i = 0; i < s->n; i++) {
		if (dev_get_state(&s->dev[i], &cur) || cur == MIG_ERROR)
			continue;
		map[m] = i;
		want[m++] = target[i];
	}
	/* The planner works on a set: borrow the devices without copying their fds' ownership. */
	sub.n = m;
	for (i = 0; i < m; i++)
		sub.dev[i] = s->dev[map[i]];
	ret = devset_plan(&sub, want, true, &plan);
	if (ret == -EOPNOTSUPP)
		ret = devset_plan(&sub, want, false, &plan);
	if (!ret)
		ret = devset_run(&sub, &plan);
	/* dev_set_state() may have taken or ended data fds: give the state back. */
	for (i = 0; i < m; i++)
		s->dev[map[i]] = sub.dev[i];

	for (i = 0; i < s->n; i++) {
		struct vm_dev *d = &s->dev[i];

		if (dev_get_state(d, &cur)) {
			vm_note("%s: its state cannot be read; '%s' returns it to running", d->name,
				dev_reset_hint(d, hint, sizeof(hint)));
			failed++;
		} else if (cur != target[i]) {
			vm_note("%s is in %s, not back in %s; '%s' returns it to running", d->name,
				mig_state_name(cur), mig_state_name(target[i]),
				dev_reset_hint(d, hint, sizeof(hint)));
			failed++;
		} else {
			vm_note("%s was returned to %s", d->name, mig_state_name(cur));
		}
	}
	return failed ? -EIO : ret;
}

/* What the devices do once a phase is over, from where its arcs lead. */
static const char *phase_meaning(const struct phase_plan *plan, int first, int end)
{
	int k, lvl = phase_level(plan->steps[first].to);

	for (k = first; k < end; k++)
		if (phase_level(plan->steps[k].to) != lvl || phase_level(plan->steps[k].from) == lvl)
			return NULL;
	switch (lvl) {
	case 1:
		return phase_level(plan->steps[first].from) == 0 ?
			       "quiesce: these devices stop initiating DMA, but still answer their peers" :
			       "wake: these devices answer their peers again, still initiating no DMA";
	case 2:
		return "stop: no device initiates DMA any more, so these can freeze";
	default:
		return "run: no peer is stopped any more, so these may initiate DMA again";
	}
}

void devset_print_phases(const struct devset *s, const struct phase_plan *plan, const char *key,
			 bool timed, bool explain)
{
	const char *why;
	int p, k, first = 0;
	double sum;

	out_arr_open(key);
	for (p = 0; p < plan->nphases; p++) {
		int end = plan->phase_end[p];

		for (sum = 0, k = first; k < end && timed; k++)
			sum += s->step_us[k];
		out_obj_open(NULL);
		out_u64("phase", "phase %" PRIu64, (uint64_t)p + 1);
		if (timed)
			out_u64("us", " (%" PRIu64 " us)", (uint64_t)sum);
		why = explain ? phase_meaning(plan, first, end) : NULL;
		out_str("meaning", ": %s", why);
		out_text("\n");
		out_arr_open("steps");
		for (k = first; k < end; k++) {
			const struct phase_step *st = &plan->steps[k];

			out_obj_open(NULL);
			out_str("device", "  %-14s", s->dev[st->dev].name);
			out_str("from", " %-12s", mig_state_name(st->from));
			out_str("to", " -> %-13s", mig_state_name(st->to));
			if (timed)
				out_u64("us", " %" PRIu64 " us", (uint64_t)s->step_us[k]);
			if (explain && !why)
				out_str("meaning", " %s", mig_state_meaning(st->to));
			out_text("\n");
			out_obj_close();
		}
		out_arr_close();
		out_obj_close();
		first = end;
	}
	out_arr_close();
}

void devset_print_states(struct devset *s)
{
	enum mig_state st;
	int i;

	out_arr_open("states");
	for (i = 0; i < s->n; i++) {
		out_obj_open(NULL);
		out_str("device", "%s", s->dev[i].name);
		if (dev_get_state(&s->dev[i], &st))
			out_null("state", ": unknown\n");
		else
			out_str("state", ": %s\n", mig_state_name(st));
		out_obj_close();
	}
	out_arr_close();
}

void devset_print_outcome(struct devset *s, bool barrier, const struct phase_plan *plan,
			  const struct phase_plan *then_plan, int then_ret, enum mig_state then)
{
	int i;

	out_bool("barrier", NULL, barrier);
	devset_print_phases(s, plan, "phases", true, false);
	if (then_ret) {
		devset_print_states(s);
		return;
	}
	devset_print_phases(s, then_plan, "then_phases", true, false);
	for (i = 0; i < s->n; i++)
		dev_note_closes(&s->dev[i], then);
}
