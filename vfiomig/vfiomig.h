/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every command shares: global options, the command table and error reporting. */
#ifndef VFIOMIG_H
#define VFIOMIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VFIOMIG_PROG "vfiomig"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The exit statuses, documented in vfiomig(8) EXIT STATUS. */
enum vm_exit {
	VM_EXIT_OK = 0,
	VM_EXIT_FAILURE = 1,     /* the operation failed at run time */
	VM_EXIT_USAGE = 2,       /* bad command line, address, state name or absent device */
	VM_EXIT_UNSUPPORTED = 3, /* the kernel or the driver lacks the feature */
	VM_EXIT_BADDATA = 4,     /* a blob is corrupt, truncated or foreign */
	VM_EXIT_TIMEOUT = 5,     /* a wait ran out of time (ETIMEDOUT): pm enter --wakeup --wait=N */
	VM_EXIT_WARN = 6,        /* doctor: the worst check is a warning */
};

enum vm_open_mode { VM_OPEN_AUTO, VM_OPEN_IOMMUFD, VM_OPEN_LEGACY };

struct vm_opts {
	bool json;
	bool pretty;
	int verbose;
	enum vm_open_mode open_mode;
};

/* Set once by main() from the global options; read everywhere. */
extern struct vm_opts vm_opts;

/*
 * One row of a command table. A row either runs (run != NULL) or has a
 * table of subcommands (sub != NULL).
 * The same rows drive dispatch, help, completion and the consistency tests.
 */
struct vm_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const struct vm_cmd *const *sub;   /* NULL-terminated */
	const char *args;                  /* synopsis after the name */
	const char *summary;               /* one line for the command list */
	const char *help;                  /* options and details, may be NULL */
	const char *shortopts;             /* getopt short options, may be NULL */
	const struct option *longopts;     /* ended by a zero row, may be NULL */
};

/* The top-level table, NULL-terminated; each row lives in its command's file. */
extern const struct vm_cmd *const vm_commands[];
/* "state set" while that command runs, for messages. */
extern const char *vm_cmd_path;

/*
 * Runs a whole command line (argv[0] is the program) with BASE's global
 * options (NULL: none) plus its own, and returns its exit status.
 */
int vm_run_argv(int argc, char **argv, const struct vm_opts *base);
/* Runs one command line (argv[0] is the command); 0 or -errno. */
int vm_dispatch(int argc, char **argv);
/* Usage and help of a command, as `vfiomig help PATH` prints them. */
void vm_cmd_help(FILE *f, const char *path, const struct vm_cmd *cmd);
/* The top-level usage: global options and every command. */
void vm_main_help(FILE *f);
const struct vm_cmd *vm_cmd_find(const struct vm_cmd *const *table, const char *name);

/*
 * Errors. Each failure is reported once, by the code that knows the object,
 * as "vfiomig: WHAT 'OBJECT': REASON" and an optional hint line; in JSON mode
 * as one JSON object on stderr. The functions return -|err| so that callers
 * can write "return vm_error(...)". The first report decides the exit status.
 * REASON_FMT NULL means strerror(err).
 */
int vm_error(int err, const char *what, const char *object, const char *hint,
	     const char *reason_fmt, ...) __attribute__((format(printf, 5, 6)));
/* "vfiomig: FILE:LINE: MESSAGE", for batch files; decides no exit status. */
void vm_error_at(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Overrides the exit status the reports call for (a batch takes its first failure's). */
void vm_set_status(enum vm_exit status);
/* A usage error: exit status 2. Returns -EINVAL. */
int vm_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A note for people (stderr in text mode, "notes" array in JSON mode). */
void vm_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A debug line, printed only with -v. */
void vm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit status the reports so far call for, given a command's return. */
enum vm_exit vm_exit_status(int ret);
/* Forget earlier reports (the shell and batch mode run many commands). */
void vm_error_reset(void);
/* The errno of the first report (EINVAL for usage errors), 0 if none; for `expect fail`. */
int vm_first_errno(void);
/* Sets it, for a command a session holder ran for us. */
void vm_set_first_errno(int err);

/* Parse a command's options with its row's tables; returns optind or -EINVAL. */
int vm_getopt(const struct vm_cmd *cmd, int argc, char **argv,
	      int (*opt)(int c, const char *arg, void *data), void *data);
/* The option callback of a command that has none. */
int vm_no_options(int c, const char *arg, void *data);
/* Exactly WANT operands after OPTIND, or a usage error quoting the synopsis. */
int vm_operands(const struct vm_cmd *cmd, int argc, char **argv, int optind, int want);
/*
 * Refuses abbreviated or unknown long options and values given to options
 * that take none; CTX prefixes the message. STOP_AT_OPERAND: options end at
 * the first operand (the global options before the command).
 */
int vm_check_options(const char *ctx, const struct option *opts, const char *shorts,
		     int argc, char **argv, bool stop_at_operand);
/* strerror(), lower case like the rest of our messages. */
const char *vm_strerror(int err);

#endif
