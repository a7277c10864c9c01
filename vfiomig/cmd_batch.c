// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig batch`: scripted scenarios, one command per line, with expectations, in one process that holds its devices. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "dev.h"
#include "line.h"
#include "mig.h"
#include "output.h"
#include "vfiomig.h"

static int run_batch(int argc, char **argv);

static const struct option batch_options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ 0 }
};

const struct vm_cmd cmd_batch = {
	.name = "batch",
	.run = run_batch,
	.args = "FILE [--force]",
	.summary = "run a scenario file, one command per line",
	.help = "Runs each line of FILE ('-' for standard input) as a vfiomig command, in\n"
		"one process that holds every device it opens until the end, so states,\n"
		"data fds, dirty logging and low power carry from line to line. Lines\n"
		"may use quotes, backslash escapes, '#' comments and a trailing '\\' to\n"
		"continue; $NAME and ${NAME} are taken from the environment (an unset one\n"
		"stops the batch), so one scenario serves any device. Besides commands,\n"
		"a scenario may say:\n"
		"\n"
		"  expect state [DEV] STATE  the device (default: the last one named) is in STATE\n"
		"  expect fail ERRNO-NAME    the next command fails with that errno (EINVAL, ENOTTY)\n"
		"  expect exit N             the next command exits with N\n"
		"  expect same FILE FILE     the two files are byte for byte the same\n"
		"  sleep SECONDS             wait\n"
		"  echo TEXT                 print TEXT\n"
		"\n"
		"  --force   go on after a failure (the exit status is still the first\n"
		"            failure's)\n"
		"\n"
		"The first failure stops the batch with FILE:LINE: and the reason.\n"
		"'vfiomig -b FILE' is the same as 'vfiomig batch FILE'.\n",
	.longopts = batch_options,
};

enum expect_kind { EXPECT_NONE, EXPECT_EXIT, EXPECT_FAIL };

struct batch {
	const char *file;
	struct vm_opts opts;        /* the batch's global options, for every line */
	bool force;
	int first_failure;          /* exit status of the first failure, 0 if none */
	char last_dev[64];          /* the device the last command named */
	enum expect_kind expect;
	int expect_value;           /* exit status or errno */
	char expect_text[32];
	int expect_line;
};

static int batch_option(int c, const char *arg, void *data)
{
	(void)arg;
	if (c != 'f')
		return -EINVAL;
	((struct batch *)data)->force = true;
	return 0;
}

/* Records a failure at LINE; returns true when the batch must stop. */
static bool failed(struct batch *b, int line, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool failed(struct batch *b, int line, int status, const char *fmt, ...)
{
	char msg[512], where[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(where, sizeof(where), "%s:%d", b->file, line);
	vm_opts = b->opts;
	vm_error_at(where, "%s", msg);
	if (!b->first_failure)
		b->first_failure = status;
	return !b->force;
}

/*
 * Runs WORDS as a vfiomig command line. In JSON mode its stdout and stderr
 * are captured so that the batch prints one document; in text mode they
 * pass through. Returns the command's exit status.
 */
static int run_line(struct batch *b, struct line_words *w, int lineno, cJSON *results)
{
	char **argv = calloc(w->argc + 2, sizeof(*argv));
	int out_fd = -1, err_fd = -1, saved_out = -1, saved_err = -1, status, i;
	cJSON *item;

	if (!argv)
		return VM_EXIT_FAILURE;
	argv[0] = "vfiomig";
	for (i = 0; i < w->argc; i++)
		argv[i + 1] = w->argv[i];
	if (results) {
		out_fd = memfd_create("vfiomig-batch-out", MFD_CLOEXEC);
		err_fd = memfd_create("vfiomig-batch-err", MFD_CLOEXEC);
		fflush(stdout);
		fflush(stderr);
		saved_out = dup(STDOUT_FILENO);
		saved_err = dup(STDERR_FILENO);
		dup2(out_fd, STDOUT_FILENO);
		dup2(err_fd, STDERR_FILENO);
	}
	status = vm_run_argv(w->argc + 1, argv, &b->opts);
	free(argv);
	if (!results)
		return status;

	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	item = cJSON_CreateObject();
	cJSON_AddNumberToObject(item, "line", lineno);
	{
		cJSON *cmd = cJSON_AddArrayToObject(item, "command");

		for (i = 0; i < w->argc; i++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(w->argv[i]));
	}
	cJSON_AddNumberToObject(item, "status", status);
	for (i = 0; i < 2; i++) {
		int fd = i ? err_fd : out_fd;
		off_t len = lseek(fd, 0, SEEK_END);
		char *text = len > 0 ? malloc(len + 1) : NULL;
		cJSON *parsed;

		if (text && pread(fd, text, len, 0) == len) {
			text[len] = '\0';
			parsed = cJSON_Parse(text);
			/* Errors are one JSON object per line: keep the first. */
			cJSON_AddItemToObject(item, i ? "error" : "output",
					      parsed ? parsed : cJSON_CreateString(text));
		} else {
			cJSON_AddItemToObject(item, i ? "error" : "output", cJSON_CreateNull());
		}
		free(text);
		close(fd);
	}
	cJSON_AddItemToArray(results, item);
	return status;
}

/* The device a command line names, remembered for `expect state STATE`. */
static void note_device(struct batch *b, const struct line_words *w)
{
	char name[64];
	int i;

	for (i = 1; i < w->argc; i++)
		if (w->argv[i][0] != '-' && !dev_canonical(w->argv[i], name, sizeof(name))) {
			snprintf(b->last_dev, sizeof(b->last_dev), "%s", name);
			return;
		}
}

/* The migration state of DEV, through `state get` so that sessions answer too. */
static int device_state(struct batch *b, const char *dev, char *state, size_t len)
{
	char *argv[] = { "vfiomig", "-j", "state", "get", (char *)dev, NULL };
	struct vm_opts quiet = b->opts;
	int fd = memfd_create("vfiomig-state", MFD_CLOEXEC), saved, status;
	char buf[512] = "";
	cJSON *doc, *s;

	if (fd < 0)
		return -errno;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	status = vm_run_argv(5, argv, &quiet);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	if (pread(fd, buf, sizeof(buf) - 1, 0) < 0)
		buf[0] = '\0';
	close(fd);
	if (status)
		return -EIO;
	doc = cJSON_Parse(buf);
	s = cJSON_GetObjectItem(doc, "state");
	if (cJSON_IsString(s))
		snprintf(state, len, "%s", s->valuestring);
	cJSON_Delete(doc);
	return cJSON_IsString(s) ? 0 : -EIO;
}

static int files_same(const char *a, const char *b, char *why, size_t len)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	long long off = 0;
	int ca, cb, ret = 0;

	if (!fa || !fb) {
		snprintf(why, len, "cannot open '%s': %s", !fa ? a : b, vm_strerror(errno));
		ret = -1;
		goto close_files;
	}
	do {
		ca = getc(fa);
		cb = getc(fb);
		if (ca != cb) {
			snprintf(why, len, "'%s' and '%s' differ at byte %lld%s", a, b, off,
				 ca == EOF || cb == EOF ? " (one is shorter)" : "");
			ret = -1;
			break;
		}
		off++;
	} while (ca != EOF);
close_files:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return ret;
}

static int errno_by_name(const char *name)
{
	int e;

	for (e = 1; e < 200; e++)
		if (strerrorname_np(e) && !strcmp(strerrorname_np(e), name))
			return e;
	return 0;
}

/* A scenario statement; returns 1 if WORDS was one (0 otherwise), or -1 to stop. */
static int statement(struct batch *b, struct line_words *w, int lineno)
{
	const char *s = w->argv[0];
	char state[32] = "", why[512];
	struct timespec ts;
	double secs;
	char *end;
	int i;

	if (!strcmp(s, "echo")) {
		for (i = 1; i < w->argc; i++)
			out_text("%s%s", w->argv[i], i + 1 < w->argc ? " " : "");
		out_text("\n");
		return 1;
	}
	if (!strcmp(s, "sleep")) {
		secs = w->argc == 2 ? strtod(w->argv[1], &end) : -1;
		if (w->argc != 2 || *end || secs < 0 || secs > 3600)
			return failed(b, lineno, VM_EXIT_USAGE, "sleep takes seconds, 0 to 3600") ? -1 : 1;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		return 1;
	}
	if (strcmp(s, "expect"))
		return 0;

	if (w->argc >= 3 && !strcmp(w->argv[1], "state") && w->argc <= 4) {
		const char *dev = w->argc == 4 ? w->argv[2] : b->last_dev;
		const char *want = w->argv[w->argc - 1];
		enum mig_state st;

		if (mig_state_parse(want, &st))
			return failed(b, lineno, VM_EXIT_USAGE, "expect state: invalid state '%s'", want) ? -1 : 1;
		if (!dev[0])
			return failed(b, lineno, VM_EXIT_USAGE, "expect state: no device named yet; say 'expect state DEV %s'", want) ? -1 : 1;
		if (device_state(b, dev, state, sizeof(state)))
			return failed(b, lineno, VM_EXIT_FAILURE, "expect state: cannot read the state of '%s'", dev) ? -1 : 1;
		if (strcmp(state, mig_state_name(st)))
			return failed(b, lineno, VM_EXIT_FAILURE, "expected '%s' in %s, but it is in %s", dev,
				      mig_state_name(st), state) ? -1 : 1;
		return 1;
	}
	if (w->argc == 3 && !strcmp(w->argv[1], "exit")) {
		b->expect = EXPECT_EXIT;
		b->expect_value = (int)strtol(w->argv[2], &end, 10);
		if (*end || b->expect_value < 0 || b->expect_value > 255)
			return failed(b, lineno, VM_EXIT_USAGE, "expect exit takes a status 0-255") ? -1 : 1;
		b->expect_line = lineno;
		return 1;
	}
	if (w->argc == 3 && !strcmp(w->argv[1], "fail")) {
		b->expect = EXPECT_FAIL;
		b->expect_value = errno_by_name(w->argv[2]);
		if (!b->expect_value)
			return failed(b, lineno, VM_EXIT_USAGE, "expect fail: unknown errno name '%s' (EINVAL, ENOTTY, ...)",
				      w->argv[2]) ? -1 : 1;
		snprintf(b->expect_text, sizeof(b->expect_text), "%s", w->argv[2]);
		b->expect_line = lineno;
		return 1;
	}
	if (w->argc == 4 && !strcmp(w->argv[1], "same")) {
		if (files_same(w->argv[2], w->argv[3], why, sizeof(why)))
			return failed(b, lineno, VM_EXIT_FAILURE, "expect same: %s", why) ? -1 : 1;
		return 1;
	}
	return failed(b, lineno, VM_EXIT_USAGE,
		      "unknown expectation; use expect state [DEV] STATE, expect fail ERRNO, expect exit N or expect same FILE FILE") ? -1 : 1;
}

/* Checks a command's outcome against a pending expectation; true to stop. */
static bool judge(struct batch *b, int lineno, int status, int errnum)
{
	enum expect_kind kind = b->expect;

	b->expect = EXPECT_NONE;
	switch (kind) {
	case EXPECT_EXIT:
		if (status == b->expect_value)
			return false;
		return failed(b, lineno, status ? status : VM_EXIT_FAILURE,
			      "expected exit status %d (line %d), got %d", b->expect_value,
			      b->expect_line, status);
	case EXPECT_FAIL:
		if (status && errnum == b->expect_value)
			return false;
		if (!status)
			return failed(b, lineno, VM_EXIT_FAILURE, "expected a failure with %s (line %d), but the command succeeded",
				      b->expect_text, b->expect_line);
		return failed(b, lineno, status, "expected a failure with %s (line %d), got %s",
			      b->expect_text, b->expect_line,
			      errnum && strerrorname_np(errnum) ? strerrorname_np(errnum) : "no errno");
	default:
		if (!status)
			return false;
		return failed(b, lineno, status, "command failed with exit status %d", status);
	}
}

static const char *env_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

static int run_batch(int argc, char **argv)
{
	const struct line_vars env = { env_lookup, NULL };
	struct batch b = { .opts = vm_opts };
	struct line_words w = { 0 };
	char *line = NULL, *stmt = NULL, why[160];
	size_t cap = 0, slen = 0;
	int lineno = 0, first = 0, ret, stop = 0;
	cJSON *results = NULL;
	ssize_t n;
	FILE *in;
	int optind = vm_getopt(&cmd_batch, argc, argv, batch_option, &b);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_batch, argc, argv, optind, 1);
	if (ret)
		return ret;
	b.file = argv[optind];
	in = strcmp(b.file, "-") ? fopen(b.file, "r") : stdin;
	if (!in)
		return vm_error(errno, "cannot open", b.file, NULL, NULL);
	if (b.opts.json)
		results = cJSON_CreateArray();
	/* Every device the scenario opens stays open until it ends. */
	dev_hold_opens(true);

	while (!stop && (n = getline(&line, &cap, in)) >= 0) {
		char *more;

		lineno++;
		if (!slen)
			first = lineno;
		more = realloc(stmt, slen + n + 1);
		if (!more) {
			ret = vm_error(ENOMEM, "cannot read", b.file, NULL, NULL);
			break;
		}
		stmt = more;
		memcpy(stmt + slen, line, n);
		slen += n;
		stmt[slen] = '\0';
		if (line_continues(stmt, slen)) {
			/* Drop the backslash and the newline, as a shell does. */
			while (slen && (stmt[slen - 1] == '\n' || stmt[slen - 1] == '\r'))
				slen--;
			slen--;
			continue;
		}
		ret = line_split(stmt, slen, &env, &w, why, sizeof(why));
		slen = 0;
		if (ret) {
			stop = failed(&b, first, VM_EXIT_USAGE, "%s", why);
			continue;
		}
		if (w.argc && !strcmp(w.argv[0], "vfiomig")) {
			free(w.argv[0]);
			memmove(w.argv, w.argv + 1, w.argc-- * sizeof(*w.argv));
		}
		if (w.argc) {
			ret = statement(&b, &w, first);
			if (ret < 0) {
				stop = 1;
			} else if (ret == 0) {
				int status = run_line(&b, &w, first, results);

				stop = judge(&b, first, status, vm_first_errno());
				note_device(&b, &w);
			}
		}
		line_words_free(&w);
	}
	if (slen && !stop)
		failed(&b, first, VM_EXIT_USAGE, "the file ends inside a continued line");
	if (b.expect != EXPECT_NONE && !stop)
		failed(&b, b.expect_line, VM_EXIT_FAILURE, "an expectation with no command after it");
	free(line);
	free(stmt);
	if (in != stdin)
		fclose(in);
	dev_release_all();
	dev_hold_opens(false);
	vm_opts = b.opts;
	if (results) {
		out_str("batch", NULL, b.file);
		out_json("results", results);
	}
	out_s64("status", NULL, b.first_failure);
	if (b.first_failure) {
		/* The status of the first failure is the batch's. */
		vm_set_status(b.first_failure);
		return -EIO;
	}
	return 0;
}
