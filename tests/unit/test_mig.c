/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for mig.c, checking every path request against an oracle written here from UAPI.md rather than from mig.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mig.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

#define F_SC  MIG_FLAG_STOP_COPY
#define F_P2P MIG_FLAG_P2P
#define F_PRE MIG_FLAG_PRE_COPY
#define F_ALL (F_SC | F_P2P | F_PRE)

/* The four flag combinations a migration driver can report (STOP_COPY is mandatory). */
static const uint64_t flag_sets[] = {
	F_SC,
	F_SC | F_P2P,
	F_SC | F_PRE,
	F_SC | F_P2P | F_PRE,
};

/* Written out separately from mig.c so that a typo there cannot hide here. */
static const char *const names[MIG_NUM_STATES] = {
	"error", "stop", "running", "stop-copy",
	"resuming", "running-p2p", "pre-copy", "pre-copy-p2p",
};

/* ---- The oracle: facts from UAPI.md, "The migration state machine" ---- */

/* "-" and "invalid" in the document's table. */
#define SAME (-1)
#define INVALID (-2)

/* Rows and columns in the order the document prints them. */
static const enum mig_state doc_rows[] = {
	MIG_STOP, MIG_RUNNING, MIG_PRE_COPY, MIG_PRE_COPY_P2P,
	MIG_STOP_COPY, MIG_RESUMING, MIG_RUNNING_P2P,
};
static const enum mig_state doc_cols[] = {
	MIG_STOP, MIG_RUNNING, MIG_STOP_COPY, MIG_RESUMING,
	MIG_RUNNING_P2P, MIG_PRE_COPY, MIG_PRE_COPY_P2P,
};
static const int doc_next[LEN(doc_rows)][LEN(doc_cols)] = {
	/*                 STOP              RUNNING           STOP_COPY         RESUMING          RUNNING_P2P       PRE_COPY          PRE_COPY_P2P */
	/* STOP */        { SAME,             MIG_RUNNING_P2P,  MIG_STOP_COPY,    MIG_RESUMING,     MIG_RUNNING_P2P,  MIG_RUNNING_P2P,  MIG_RUNNING_P2P },
	/* RUNNING */     { MIG_RUNNING_P2P,  SAME,             MIG_RUNNING_P2P,  MIG_RUNNING_P2P,  MIG_RUNNING_P2P,  MIG_PRE_COPY,     MIG_RUNNING_P2P },
	/* PRE_COPY */    { MIG_RUNNING,      MIG_RUNNING,      MIG_PRE_COPY_P2P, MIG_RUNNING,      MIG_RUNNING,      SAME,             MIG_PRE_COPY_P2P },
	/* PRE_COPY_P2P */{ MIG_RUNNING_P2P,  MIG_RUNNING_P2P,  MIG_STOP_COPY,    MIG_RUNNING_P2P,  MIG_RUNNING_P2P,  MIG_PRE_COPY,     SAME },
	/* STOP_COPY */   { MIG_STOP,         MIG_STOP,         SAME,             MIG_STOP,         MIG_STOP,         INVALID,          INVALID },
	/* RESUMING */    { MIG_STOP,         MIG_STOP,         MIG_STOP,         SAME,             MIG_STOP,         MIG_STOP,         MIG_STOP },
	/* RUNNING_P2P */ { MIG_STOP,         MIG_RUNNING,      MIG_STOP,         MIG_STOP,         SAME,             MIG_RUNNING,      MIG_PRE_COPY_P2P },
};

/*
 * The arcs drivers implement, with the flags each needs (all of NEED, none
 * of UNLESS). UAPI.md lists PRE_COPY -> STOP_COPY under "with PRE_COPY";
 * the kernel (vfio_mig_get_next_state's comment and table) requires it only
 * without P2P: with P2P the device must quiesce through PRE_COPY_P2P first.
 */
static const struct arc {
	enum mig_state from, to;
	uint64_t need, unless;
} arcs[] = {
	{ MIG_RESUMING, MIG_STOP, F_SC, 0 },
	{ MIG_STOP, MIG_RESUMING, F_SC, 0 },
	{ MIG_STOP, MIG_STOP_COPY, F_SC, 0 },
	{ MIG_STOP_COPY, MIG_STOP, F_SC, 0 },

	{ MIG_RUNNING, MIG_RUNNING_P2P, F_SC | F_P2P, 0 },
	{ MIG_RUNNING_P2P, MIG_RUNNING, F_SC | F_P2P, 0 },
	{ MIG_RUNNING_P2P, MIG_STOP, F_SC | F_P2P, 0 },
	{ MIG_STOP, MIG_RUNNING_P2P, F_SC | F_P2P, 0 },

	{ MIG_RUNNING, MIG_STOP, F_SC, F_P2P },
	{ MIG_STOP, MIG_RUNNING, F_SC, F_P2P },

	{ MIG_RUNNING, MIG_PRE_COPY, F_SC | F_PRE, 0 },
	{ MIG_PRE_COPY, MIG_RUNNING, F_SC | F_PRE, 0 },
	{ MIG_PRE_COPY, MIG_STOP_COPY, F_SC | F_PRE, F_P2P },

	{ MIG_PRE_COPY, MIG_PRE_COPY_P2P, F_ALL, 0 },
	{ MIG_PRE_COPY_P2P, MIG_PRE_COPY, F_ALL, 0 },
	{ MIG_PRE_COPY_P2P, MIG_RUNNING_P2P, F_ALL, 0 },
	{ MIG_PRE_COPY_P2P, MIG_STOP_COPY, F_ALL, 0 },
	{ MIG_RUNNING_P2P, MIG_PRE_COPY_P2P, F_ALL, 0 },
};

static bool oracle_has(int s, uint64_t flags)
{
	switch (s) {
	case MIG_STOP:
	case MIG_RUNNING:
	case MIG_STOP_COPY:
	case MIG_RESUMING:
		return flags & F_SC;
	case MIG_RUNNING_P2P:
		return (flags & F_SC) && (flags & F_P2P);
	case MIG_PRE_COPY:
		return (flags & F_SC) && (flags & F_PRE);
	case MIG_PRE_COPY_P2P:
		return (flags & F_SC) && (flags & F_P2P) && (flags & F_PRE);
	default:
		return false;
	}
}

static bool oracle_saving(int s)
{
	return s == MIG_PRE_COPY || s == MIG_PRE_COPY_P2P || s == MIG_STOP_COPY;
}

static bool oracle_arc(int from, int to, uint64_t flags)
{
	size_t i;

	for (i = 0; i < LEN(arcs); i++)
		if ((int)arcs[i].from == from && (int)arcs[i].to == to &&
		    (flags & arcs[i].need) == arcs[i].need && !(flags & arcs[i].unless))
			return true;
	return false;
}

/*
 * Breadth-first search over the arcs: the length of the shortest path whose
 * interior avoids the saving group, unless both ends are in it. -1 if none.
 */
static int oracle_distance(int cur, int target, uint64_t flags)
{
	bool saving_ends = oracle_saving(cur) && oracle_saving(target);
	int dist[MIG_NUM_STATES], queue[MIG_NUM_STATES];
	int head = 0, tail = 0, u, v;

	for (v = 0; v < MIG_NUM_STATES; v++)
		dist[v] = -1;
	dist[cur] = 0;
	queue[tail++] = cur;
	while (head < tail) {
		u = queue[head++];
		if (u == target)
			break;
		if (u != cur && oracle_saving(u) && !saving_ends)
			continue; /* may end here, may not pass through */
		for (v = 0; v < MIG_NUM_STATES; v++) {
			if (dist[v] < 0 && oracle_has(v, flags) && oracle_arc(u, v, flags)) {
				dist[v] = dist[u] + 1;
				queue[tail++] = v;
			}
		}
	}
	return dist[target];
}

/* What mig_path must return for requests that are refused, 0 for the others. */
static int oracle_error(int cur, int target, uint64_t flags)
{
	if (cur == MIG_ERROR)
		return -EPERM;
	if (target == MIG_ERROR || !oracle_has(cur, flags))
		return -EINVAL;
	if (cur == MIG_STOP_COPY && (target == MIG_PRE_COPY || target == MIG_PRE_COPY_P2P))
		return -EDEADLK;
	if (!oracle_has(target, flags))
		return -EINVAL;
	return 0;
}

/* ---- Helpers ---- */

#define POISON ((enum mig_state)0x5a5a)

static void poison(enum mig_state path[MIG_PATH_MAX])
{
	int i;

	for (i = 0; i < MIG_PATH_MAX; i++)
		path[i] = POISON;
}

static const char *path_str(int cur, const enum mig_state *path, int n, char *buf, size_t len)
{
	size_t used;
	int i;

	used = (size_t)snprintf(buf, len, "%s", mig_state_name((unsigned int)cur));
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, " -> %s",
					 mig_state_name(path[i]));
	return buf;
}

static const char *flags_name(uint64_t flags)
{
	static char buf[64];

	return mig_flags_str(flags, buf, sizeof(buf));
}

/* Checks one request against the oracle; on failure names the request and the path. */
static void check_request(int cur, int target, uint64_t flags)
{
	enum mig_state path[MIG_PATH_MAX];
	bool saving_ends = oracle_saving(cur) && oracle_saving(target);
	int want = oracle_error(cur, target, flags);
	char buf[256];
	int n, i, from, dist;

	poison(path);
	n = mig_path((enum mig_state)cur, (enum mig_state)target, flags, path);
	if (want < 0) {
		if (n != want)
			fail_msg("%s -> %s with {%s}: got %d, want %d", names[cur], names[target],
				 flags_name(flags), n, want);
		for (i = 0; i < MIG_PATH_MAX; i++)
			if (path[i] != POISON)
				fail_msg("%s -> %s with {%s}: refused but wrote path[%d]",
					 names[cur], names[target], flags_name(flags), i);
		return;
	}
	if (n < 0 || n > MIG_PATH_MAX)
		fail_msg("%s -> %s with {%s}: got %d, want a path", names[cur], names[target],
			 flags_name(flags), n);
	path_str(cur, path, n, buf, sizeof(buf));

	dist = oracle_distance(cur, target, flags);
	if (dist < 0)
		fail_msg("oracle: no path %s -> %s with {%s}", names[cur], names[target],
			 flags_name(flags));
	if (n != dist)
		fail_msg("{%s} %s: %d steps, shortest is %d", flags_name(flags), buf, n, dist);
	if (n > 0 && (int)path[n - 1] != target)
		fail_msg("{%s} %s: does not end at %s", flags_name(flags), buf, names[target]);
	for (i = 0, from = cur; i < n; from = (int)path[i], i++) {
		if (!oracle_arc(from, (int)path[i], flags))
			fail_msg("{%s} %s: step %d is no arc of this device", flags_name(flags),
				 buf, i + 1);
		if (i < n - 1 && oracle_saving((int)path[i]) && !saving_ends)
			fail_msg("{%s} %s: passes through saving state %s", flags_name(flags),
				 buf, names[path[i]]);
	}
	for (i = n; i < MIG_PATH_MAX; i++)
		if (path[i] != POISON)
			fail_msg("{%s} %s: wrote path[%d] beyond the %d steps", flags_name(flags),
				 buf, i, n);
}

/* ---- Paths ---- */

/* (b) and (c): every current and target under one flag set. */
static void check_every_request(uint64_t flags)
{
	int cur, target;

	for (cur = 0; cur < MIG_NUM_STATES; cur++)
		for (target = 0; target < MIG_NUM_STATES; target++)
			check_request(cur, target, flags);
}

static void test_paths_stop_copy(void **state)
{
	(void)state;
	check_every_request(F_SC);
}

static void test_paths_stop_copy_p2p(void **state)
{
	(void)state;
	check_every_request(F_SC | F_P2P);
}

static void test_paths_stop_copy_pre_copy(void **state)
{
	(void)state;
	check_every_request(F_SC | F_PRE);
}

static void test_paths_all_flags(void **state)
{
	(void)state;
	check_every_request(F_ALL);
}

/* (a) With every optional state, the first step is the document's table entry. */
static void test_paths_first_step_is_doc_table(void **state)
{
	enum mig_state path[MIG_PATH_MAX];
	size_t r, c;
	int n;

	(void)state;
	for (r = 0; r < LEN(doc_rows); r++) {
		for (c = 0; c < LEN(doc_cols); c++) {
			n = mig_path(doc_rows[r], doc_cols[c], F_ALL, path);
			if (doc_next[r][c] == SAME) {
				assert_int_equal(doc_rows[r], doc_cols[c]);
				assert_int_equal(n, 0);
			} else if (doc_next[r][c] == INVALID) {
				assert_int_equal(n, -EDEADLK);
			} else {
				if (n < 1 || (int)path[0] != doc_next[r][c])
					fail_msg("%s -> %s: first step %s (ret %d), table says %s",
						 names[doc_rows[r]], names[doc_cols[c]],
						 n > 0 ? names[path[0]] : "none", n,
						 names[doc_next[r][c]]);
			}
		}
	}
}

/* The document's table itself agrees with its arcs (a check on the oracle's data). */
static void test_oracle_table_steps_are_arcs(void **state)
{
	size_t r, c;

	(void)state;
	for (r = 0; r < LEN(doc_rows); r++)
		for (c = 0; c < LEN(doc_cols); c++)
			if (doc_next[r][c] >= 0)
				assert_true(oracle_arc(doc_rows[r], doc_next[r][c], F_ALL));
}

static void expect_path(enum mig_state cur, enum mig_state target, uint64_t flags,
			const enum mig_state *want, int nwant)
{
	enum mig_state path[MIG_PATH_MAX];
	char got[256], exp[256];
	int n;

	n = mig_path(cur, target, flags, path);
	if (n != nwant || (nwant > 0 && memcmp(path, want, sizeof(*want) * (size_t)nwant) != 0))
		fail_msg("{%s}: got %s (ret %d), want %s", flags_name(flags),
			 path_str(cur, path, n > 0 ? n : 0, got, sizeof(got)), n,
			 path_str(cur, want, nwant, exp, sizeof(exp)));
}

#define EXPECT_PATH(cur, target, flags, ...) do { \
	static const enum mig_state want_[] = { __VA_ARGS__ }; \
	expect_path(cur, target, flags, want_, (int)LEN(want_)); \
} while (0)

/* Whole paths worth reading: the longest ones, and the skips over missing states. */
static void test_paths_examples(void **state)
{
	(void)state;
	EXPECT_PATH(MIG_PRE_COPY, MIG_RESUMING, F_ALL,
		    MIG_RUNNING, MIG_RUNNING_P2P, MIG_STOP, MIG_RESUMING);
	EXPECT_PATH(MIG_RESUMING, MIG_PRE_COPY, F_ALL,
		    MIG_STOP, MIG_RUNNING_P2P, MIG_RUNNING, MIG_PRE_COPY);
	EXPECT_PATH(MIG_PRE_COPY, MIG_STOP_COPY, F_ALL, MIG_PRE_COPY_P2P, MIG_STOP_COPY);
	EXPECT_PATH(MIG_RUNNING, MIG_STOP_COPY, F_ALL,
		    MIG_RUNNING_P2P, MIG_STOP, MIG_STOP_COPY);
	/* No P2P: RUNNING_P2P is skipped, RUNNING and STOP are adjacent. */
	EXPECT_PATH(MIG_RUNNING, MIG_STOP, F_SC, MIG_STOP);
	EXPECT_PATH(MIG_RUNNING, MIG_STOP_COPY, F_SC, MIG_STOP, MIG_STOP_COPY);
	EXPECT_PATH(MIG_RESUMING, MIG_RUNNING, F_SC, MIG_STOP, MIG_RUNNING);
	/* PRE_COPY without P2P: PRE_COPY_P2P is skipped, straight to STOP_COPY. */
	EXPECT_PATH(MIG_PRE_COPY, MIG_STOP_COPY, F_SC | F_PRE, MIG_STOP_COPY);
	EXPECT_PATH(MIG_STOP, MIG_PRE_COPY, F_SC | F_PRE, MIG_RUNNING, MIG_PRE_COPY);
	EXPECT_PATH(MIG_PRE_COPY, MIG_STOP, F_SC | F_PRE, MIG_RUNNING, MIG_STOP);
	/* Nothing to do is zero steps, not an error. */
	expect_path(MIG_RUNNING, MIG_RUNNING, F_SC, NULL, 0);
}

static void test_paths_refused(void **state)
{
	enum mig_state path[MIG_PATH_MAX];
	size_t f;

	(void)state;
	for (f = 0; f < LEN(flag_sets); f++) {
		assert_int_equal(mig_path(MIG_STOP_COPY, MIG_PRE_COPY, flag_sets[f], path), -EDEADLK);
		assert_int_equal(mig_path(MIG_STOP_COPY, MIG_PRE_COPY_P2P, flag_sets[f], path),
				 -EDEADLK);
		assert_int_equal(mig_path(MIG_ERROR, MIG_RUNNING, flag_sets[f], path), -EPERM);
		assert_int_equal(mig_path(MIG_ERROR, MIG_ERROR, flag_sets[f], path), -EPERM);
		assert_int_equal(mig_path(MIG_RUNNING, MIG_ERROR, flag_sets[f], path), -EINVAL);
		assert_int_equal(mig_path(MIG_RUNNING, (enum mig_state)8, flag_sets[f], path), -EINVAL);
		assert_int_equal(mig_path((enum mig_state)8, MIG_RUNNING, flag_sets[f], path), -EINVAL);
		assert_int_equal(mig_path(MIG_RUNNING, (enum mig_state)-1, flag_sets[f], path), -EINVAL);
	}
	/* Optional states the device lacks, as target or as where it claims to be. */
	assert_int_equal(mig_path(MIG_RUNNING, MIG_RUNNING_P2P, F_SC | F_PRE, path), -EINVAL);
	assert_int_equal(mig_path(MIG_RUNNING, MIG_PRE_COPY, F_SC | F_P2P, path), -EINVAL);
	assert_int_equal(mig_path(MIG_RUNNING, MIG_PRE_COPY_P2P, F_SC | F_PRE, path), -EINVAL);
	assert_int_equal(mig_path(MIG_PRE_COPY, MIG_RUNNING, F_SC, path), -EINVAL);
	/* No STOP_COPY flag: not a migration device, nothing is a state of it. */
	assert_int_equal(mig_path(MIG_RUNNING, MIG_STOP, 0, path), -EINVAL);
	assert_int_equal(mig_path(MIG_RUNNING, MIG_STOP, F_P2P | F_PRE, path), -EINVAL);
	/* Flags from a newer kernel do not take states away. */
	assert_int_equal(mig_path(MIG_RUNNING, MIG_STOP, F_ALL | (1ULL << 40), path), 2);
}

/* ---- States, names, flags ---- */

static void test_state_names(void **state)
{
	enum mig_state s;
	char num[4];
	unsigned int i;

	(void)state;
	for (i = 0; i < MIG_NUM_STATES; i++) {
		assert_string_equal(mig_state_name(i), names[i]);
		s = (enum mig_state)99;
		assert_int_equal(mig_state_parse(names[i], &s), 0);
		assert_int_equal(s, i);
		snprintf(num, sizeof(num), "%u", i);
		s = (enum mig_state)99;
		assert_int_equal(mig_state_parse(num, &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(MIG_STOP_COPY, 3);
	assert_int_equal(MIG_PRE_COPY_P2P, 7);
	assert_string_equal(mig_state_name(MIG_NUM_STATES), "unknown");
	assert_string_equal(mig_state_name(~0U), "unknown");
}

static void test_state_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "RUNNING", "Running", "run", "stop_copy", "stopcopy", "stop-copy ",
		" stop", "running\n", "running-p2p-", "p2p", "8", "9", "10", "-1", "+1",
		"01", "00", "1x", "0x1", "1.0", "unknown",
	};
	enum mig_state s = MIG_RUNNING;
	size_t i;

	(void)state;
	for (i = 0; i < LEN(bad); i++) {
		if (mig_state_parse(bad[i], &s) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(s, MIG_RUNNING); /* untouched on error */
	}
	assert_int_equal(mig_state_parse(NULL, &s), -EINVAL);
}

static void test_flags_str(void **state)
{
	char buf[64], tiny[6];

	(void)state;
	assert_string_equal(mig_flags_str(0, buf, sizeof(buf)), "none");
	assert_string_equal(mig_flags_str(F_SC, buf, sizeof(buf)), "stop-copy");
	assert_string_equal(mig_flags_str(F_SC | F_P2P, buf, sizeof(buf)), "stop-copy,p2p");
	assert_string_equal(mig_flags_str(F_SC | F_PRE, buf, sizeof(buf)), "stop-copy,pre-copy");
	assert_string_equal(mig_flags_str(F_ALL, buf, sizeof(buf)), "stop-copy,p2p,pre-copy");
	assert_string_equal(mig_flags_str(F_P2P, buf, sizeof(buf)), "p2p");
	assert_string_equal(mig_flags_str(F_SC | (1ULL << 3), buf, sizeof(buf)), "stop-copy,0x8");
	assert_string_equal(mig_flags_str(1ULL << 63, buf, sizeof(buf)), "0x8000000000000000");
	assert_ptr_equal(mig_flags_str(F_ALL, buf, sizeof(buf)), buf);
	/* Truncation keeps the string terminated. */
	assert_string_equal(mig_flags_str(F_ALL, tiny, sizeof(tiny)), "stop-");
	assert_ptr_equal(mig_flags_str(F_ALL, buf, 0), buf);
}

static void test_state_supported(void **state)
{
	size_t f;
	int s;

	(void)state;
	for (f = 0; f < LEN(flag_sets); f++)
		for (s = 0; s < MIG_NUM_STATES; s++)
			if (mig_state_supported((enum mig_state)s, flag_sets[f]) !=
			    oracle_has(s, flag_sets[f]))
				fail_msg("%s with {%s}", names[s], flags_name(flag_sets[f]));
	for (s = 0; s < MIG_NUM_STATES; s++) {
		assert_false(mig_state_supported((enum mig_state)s, 0));
		assert_false(mig_state_supported((enum mig_state)s, F_P2P | F_PRE));
	}
	assert_false(mig_state_supported(MIG_ERROR, ~0ULL));
	assert_false(mig_state_supported((enum mig_state)8, ~0ULL));
	assert_true(mig_state_supported(MIG_PRE_COPY_P2P, ~0ULL));
}

static void test_state_saving(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < MIG_NUM_STATES; s++)
		assert_int_equal(mig_state_saving((enum mig_state)s), oracle_saving(s));
	assert_false(mig_state_saving((enum mig_state)8));
}

static void test_arc_fd(void **state)
{
	enum mig_fd want;
	int from, to;

	(void)state;
	for (from = 0; from < MIG_NUM_STATES; from++) {
		for (to = 0; to < MIG_NUM_STATES; to++) {
			want = MIG_FD_NONE;
			if ((from == MIG_RUNNING && to == MIG_PRE_COPY) ||
			    (from == MIG_RUNNING_P2P && to == MIG_PRE_COPY_P2P) ||
			    (from == MIG_STOP && to == MIG_STOP_COPY))
				want = MIG_FD_READ;
			else if (from == MIG_STOP && to == MIG_RESUMING)
				want = MIG_FD_WRITE;
			if (mig_arc_fd((enum mig_state)from, (enum mig_state)to) != want)
				fail_msg("%s -> %s", names[from], names[to]);
		}
	}
	/* Moving inside the saving group keeps the session's fd. */
	assert_int_equal(mig_arc_fd(MIG_PRE_COPY_P2P, MIG_STOP_COPY), MIG_FD_NONE);
	assert_int_equal(mig_arc_fd(MIG_PRE_COPY, MIG_PRE_COPY_P2P), MIG_FD_NONE);
}

static void test_state_meaning(void **state)
{
	int s, t;

	(void)state;
	for (s = 0; s < MIG_NUM_STATES; s++) {
		const char *m = mig_state_meaning((enum mig_state)s);

		assert_non_null(m);
		assert_true(strlen(m) > 20);
		assert_true(m[strlen(m) - 1] != '.');
		for (t = 0; t < s; t++)
			assert_string_not_equal(m, mig_state_meaning((enum mig_state)t));
	}
	assert_non_null(strstr(mig_state_meaning(MIG_RUNNING_P2P), "peer-to-peer"));
	assert_non_null(strstr(mig_state_meaning(MIG_ERROR), "reset"));
	assert_non_null(mig_state_meaning((enum mig_state)8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_stop_copy),
		cmocka_unit_test(test_paths_stop_copy_p2p),
		cmocka_unit_test(test_paths_stop_copy_pre_copy),
		cmocka_unit_test(test_paths_all_flags),
		cmocka_unit_test(test_paths_first_step_is_doc_table),
		cmocka_unit_test(test_oracle_table_steps_are_arcs),
		cmocka_unit_test(test_paths_examples),
		cmocka_unit_test(test_paths_refused),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_parse_rejects),
		cmocka_unit_test(test_flags_str),
		cmocka_unit_test(test_state_supported),
		cmocka_unit_test(test_state_saving),
		cmocka_unit_test(test_arc_fd),
		cmocka_unit_test(test_state_meaning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
