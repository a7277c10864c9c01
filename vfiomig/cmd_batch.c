// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig batch`: scripted scenarios, one command per line, with expectations, in one process that holds its devices. */
#include <errno.h>
#include <fcntl.h>
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
		"  expect text FILE TEXT     FILE holds TEXT (and a newline or not), as a sysfs\n"
		"                            or debugfs attribute reads\n"
		"  sleep SECONDS             wait\n"
		"  echo TEXT                 print TEXT\n"
		"  write FILE TEXT           write TEXT and a newline to FILE, which must be\n"
		"                            under /sys: a sysfs or debugfs knob, such as a\n"
		"                            test driver's fault injection\n"
		"\n"
		"  --force   go on after a failure (the exit status is still the first\n"
		"            failure's)\n"
		"\n"
		"The first failure stops the batch with FILE:LINE: and the reason.\n"
		"With -j the batch prints one JSON array: for each line run, its line\n"
		"number, its text, its exit status and its output.\n"
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
	int line_status;            /* the failure status of the current statement, 0 if none */
	char line_error[512];       /* and its message */
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
	b->line_status = status;
	snprintf(b->line_error, sizeof(b->line_error), "%s", msg);
	return !b->force;
}

/* The JSON record of a line: its number, its text (and words) and its exit status. */
static cJSON *result_item(int lineno, const char *text, const struct line_words *w, int status)
{
	cJSON *item = cJSON_CreateObject(), *words;
	int i;

	cJSON_AddNumberToObject(item, "line", lineno);
	cJSON_AddStringToObject(item, "command", text);
	words = cJSON_AddArrayToObject(item, "words");
	for (i = 0; i < w->argc; i++)
		cJSON_AddItemToArray(words, cJSON_CreateString(w->argv[i]));
	cJSON_AddNumberToObject(item, "status", status);
	return item;
}

/*
 * Runs WORDS as a vfiomig command line. In JSON mode its stdout and stderr
 * are captured so that the batch prints one document; in text mode they
 * pass through. Returns the command's exit status.
 */
static int run_line(struct batch *b, struct line_words *w, int lineno, const char *text,
		    cJSON *results)
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
	item = result_item(lineno, text, w, status);
	for (i = 0; i < 2; i++) {
		int fd = i ? err_fd : out_fd;
		off_t len = lseek(fd, 0, SEEK_END);
		char *buf = len > 0 ? malloc(len + 1) : NULL;
		cJSON *parsed;

		if (buf && pread(fd, buf, len, 0) == len) {
			buf[len] = '\0';
			parsed = cJSON_Parse(buf);
			/* Errors are one JSON object per line: keep the first. */
			cJSON_AddItemToObject(item, i ? "error" : "output",
					      parsed ? parsed : cJSON_CreateString(buf));
		} else {
			cJSON_AddItemToObject(item, i ? "error" : "output", cJSON_CreateNull());
		}
		free(buf);
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
	/* Its -j must not outlive it: an echo after this would print nothing. */
	vm_opts = b->opts;
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

/*
 * `expect text FILE TEXT...`: FILE holds the words of TEXT joined by
 * blanks, and a newline or not, as a sysfs or debugfs attribute reads
 * (a device's power/runtime_status, a test driver's knob).
 */
static int file_holds(const struct line_words *w, char *why, size_t len)
{
	char want[4096], got[4096];
	size_t off = 0;
	ssize_t n;
	int fd, i;

	for (i = 3; i < w->argc && off < sizeof(want); i++)
		off += snprintf(want + off, sizeof(want) - off, "%s%s", i > 3 ? " " : "", w->argv[i]);
	if (w->argc == 3)
		want[0] = '\0';
	fd = open(w->argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "cannot open '%s': %s", w->argv[2], vm_strerror(errno));
		return -1;
	}
	n = read(fd, got, sizeof(got) - 1);
	if (n < 0)
		snprintf(why, len, "cannot read '%s': %s", w->argv[2], vm_strerror(errno));
	close(fd);
	if (n < 0)
		return -1;
	got[n] = '\0';
	if (n > 0 && got[n - 1] == '\n')
		got[n - 1] = '\0';
	if (!strcmp(got, want))
		return 0;
	snprintf(why, len, "'%s' holds '%.200s', not '%.200s'", w->argv[2], got, want);
	return -1;
}

static int errno_by_name(const char *name)
{
	int e;

	for (e = 1; e < 200; e++)
		if (strerrorname_np(e) && !strcmp(strerrorname_np(e), name))
			return e;
	return 0;
}

/*
 * `write FILE TEXT`: what `echo TEXT > FILE` does in a shell, so that a
 * scenario can arm a driver's fault injection itself. Only under /sys
 * (sysfs, debugfs): a scenario sent to a customer sets kernel knobs with
 * it, and cannot overwrite their files. Returns true when the batch stops.
 */
static bool write_knob(struct batch *b, const struct line_words *w, int lineno)
{
	char real[PATH_MAX], text[4096];
	size_t off = 0;
	ssize_t n;
	int fd, i, err;

	if (w->argc < 3)
		return failed(b, lineno, VM_EXIT_USAGE, "write takes a file under /sys and the text to write");
	if (!realpath(w->argv[1], real))
		return failed(b, lineno, VM_EXIT_FAILURE, "write: cannot find '%s': %s", w->argv[1],
			      vm_strerror(errno));
	if (strncmp(real, "/sys/", 5))
		return failed(b, lineno, VM_EXIT_USAGE,
			      "write: '%s' is not under /sys: write sets sysfs and debugfs knobs, not files",
			      w->argv[1]);
	for (i = 2; i < w->argc && off < sizeof(text); i++)
		off += snprintf(text + off, sizeof(text) - off, "%s%s", w->argv[i],
				i + 1 < w->argc ? " " : "\n");
	if (off >= sizeof(text))
		return failed(b, lineno, VM_EXIT_USAGE, "write: the text is longer than %zu bytes",
			      sizeof(text) - 1);
	fd = open(real, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return failed(b, lineno, VM_EXIT_FAILURE, "write: cannot open '%s': %s", w->argv[1],
			      vm_strerror(errno));
	/* One write(): a sysfs or debugfs knob takes its value in one piece. */
	n = write(fd, text, off);
	err = errno;
	close(fd);
	if (n != (ssize_t)off)
		return failed(b, lineno, VM_EXIT_FAILURE, "write: '%s' refused '%.*s': %s", w->argv[1],
			      (int)off - 1, text, n < 0 ? vm_strerror(err) : "a short write");
	return false;
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
		/* A progress mark: whoever watches the output sees it now, not at the end. */
		fflush(out_stream());
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
	if (!strcmp(s, "write"))
		return write_knob(b, w, lineno) ? -1 : 1;
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
	if (w->argc >= 3 && !strcmp(w->argv[1], "text")) {
		if (file_holds(w, why, sizeof(why)))
			return failed(b, lineno, VM_EXIT_FAILURE, "expect text: %s", why) ? -1 : 1;
		return 1;
	}
	if (w->argc == 4 && !strcmp(w->argv[1], "same")) {
		if (files_same(w->argv[2], w->argv[3], why, sizeof(why)))
			return failed(b, lineno, VM_EXIT_FAILURE, "expect same: %s", why) ? -1 : 1;
		return 1;
	}
	return failed(b, lineno, VM_EXIT_USAGE,
		      "unknown expectation; use expect state [DEV] STATE, expect fail ERRNO, expect exit N, expect same FILE FILE or expect text FILE TEXT") ? -1 : 1;
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

/* The record of a scenario statement (or of a line that did not parse): echo's text is its output. */
static void statement_item(struct batch *b, int lineno, const char *text,
			   const struct line_words *w, cJSON *results)
{
	char out[4096];
	size_t off = 0;
	cJSON *item, *e;
	int i;

	if (!results)
		return;
	item = result_item(lineno, text, w, b->line_status);
	if (w->argc && !strcmp(w->argv[0], "echo")) {
		for (i = 1; i < w->argc && off < sizeof(out); i++)
			off += snprintf(out + off, sizeof(out) - off, "%s%s", w->argv[i],
					i + 1 < w->argc ? " " : "\n");
		cJSON_AddStringToObject(item, "output", w->argc > 1 ? out : "\n");
	} else {
		cJSON_AddNullToObject(item, "output");
	}
	if (b->line_status) {
		char where[PATH_MAX];

		snprintf(where, sizeof(where), "%s:%d", b->file, lineno);
		e = cJSON_AddObjectToObject(cJSON_AddObjectToObject(item, "error"), "error");
		cJSON_AddStringToObject(e, "what", "batch");
		cJSON_AddStringToObject(e, "object", where);
		cJSON_AddStringToObject(e, "reason", b->line_error);
	} else {
		cJSON_AddNullToObject(item, "error");
	}
	cJSON_AddItemToArray(results, item);
}

/* The line as written, without the blanks around it, for the JSON record. */
static char *trim(char *s, size_t len)
{
	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	s[len] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The JSON array of the records, as a document of its own (its root is an array). */
static int print_results(cJSON *results)
{
	char *s = vm_opts.pretty ? cJSON_Print(results) : cJSON_PrintUnformatted(results);
	int ret = 0;

	if (!s)
		ret = -ENOMEM;
	else if (fprintf(out_stream(), "%s\n", s) < 0 || fflush(out_stream()))
		ret = -errno;
	free(s);
	cJSON_Delete(results);
	return ret;
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
	char *line = NULL, *stmt = NULL, *text, why[160];
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
		text = trim(stmt, slen);
		slen = 0;
		b.line_status = 0;
		if (ret) {
			stop = failed(&b, first, VM_EXIT_USAGE, "%s", why);
			statement_item(&b, first, text, &w, results);
			continue;
		}
		if (w.argc && !strcmp(w.argv[0], "vfiomig")) {
			free(w.argv[0]);
			memmove(w.argv, w.argv + 1, w.argc-- * sizeof(*w.argv));
		}
		if (w.argc) {
			/* A statement prints with the batch's options, not the last command's. */
			vm_opts = b.opts;
			ret = statement(&b, &w, first);
			if (ret)
				statement_item(&b, first, text, &w, results);
			if (ret < 0) {
				stop = 1;
			} else if (ret == 0) {
				int status = run_line(&b, &w, first, text, results);

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
		ret = print_results(results);
		if (ret && !b.first_failure)
			return vm_error(ret, "cannot write output", NULL, NULL, NULL);
	}
	if (b.first_failure) {
		/* The status of the first failure is the batch's. */
		vm_set_status(b.first_failure);
		return -EIO;
	}
	return 0;
}
