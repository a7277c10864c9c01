// SPDX-License-Identifier: GPL-2.0-or-later
/* Errors, notes and debug lines for people (text) and programs (JSON), and the exit status they imply. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "output.h"
#include "vfiomig.h"

static enum vm_exit first_status = VM_EXIT_OK;
static int first_errno;

static enum vm_exit status_of(int err)
{
	switch (err) {
	case ENOTTY:
	case EOPNOTSUPP:
		return VM_EXIT_UNSUPPORTED;
	case EBADMSG:
	case EMEDIUMTYPE:
		return VM_EXIT_BADDATA;
	case ETIMEDOUT:
		return VM_EXIT_TIMEOUT;
	default:
		return VM_EXIT_FAILURE;
	}
}

static void record(enum vm_exit status, int err)
{
	if (first_status == VM_EXIT_OK) {
		first_status = status;
		first_errno = err;
	}
}

int vm_first_errno(void)
{
	return first_errno;
}

void vm_set_first_errno(int err)
{
	first_errno = err;
}

/* strerror() starts with a capital; our messages are lower case throughout. */
static void lower_reason(char *buf, size_t len, int err)
{
	snprintf(buf, len, "%s", strerror(err));
	buf[0] = (char)tolower((unsigned char)buf[0]);
}

const char *vm_strerror(int err)
{
	static char buf[128];

	lower_reason(buf, sizeof(buf), abs(err));
	return buf;
}

/* A newline or escape typed into an address must not forge or garble a message line. */
static void defang(char *s)
{
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			*s = '?';
}

static void emit_json(const char *what, const char *object, const char *reason,
		      int err, const char *hint)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(root, "error");
	char *s;

	cJSON_AddStringToObject(e, "what", what);
	if (object)
		cJSON_AddStringToObject(e, "object", object);
	cJSON_AddStringToObject(e, "reason", reason);
	if (err) {
		cJSON_AddNumberToObject(e, "errno", err);
		if (strerrorname_np(err))
			cJSON_AddStringToObject(e, "errno_name", strerrorname_np(err));
	}
	if (hint)
		cJSON_AddStringToObject(e, "hint", hint);
	s = cJSON_PrintUnformatted(root);
	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
	cJSON_Delete(root);
}

int vm_error(int err, const char *what, const char *object, const char *hint,
	     const char *reason_fmt, ...)
{
	char reason[1024], obj[256];
	va_list ap;

	err = abs(err);
	if (reason_fmt) {
		va_start(ap, reason_fmt);
		vsnprintf(reason, sizeof(reason), reason_fmt, ap);
		va_end(ap);
	} else {
		lower_reason(reason, sizeof(reason), err);
	}
	record(status_of(err), err);
	defang(reason);
	if (object) {
		snprintf(obj, sizeof(obj), "%s", object);
		defang(obj);
		object = obj;
	}

	if (vm_opts.json) {
		emit_json(what, object, reason, err, hint);
	} else {
		if (object)
			fprintf(stderr, VFIOMIG_PROG ": %s '%s': %s\n", what, object, reason);
		else
			fprintf(stderr, VFIOMIG_PROG ": %s: %s\n", what, reason);
		if (hint)
			fprintf(stderr, VFIOMIG_PROG ": hint: %s\n", hint);
	}
	return err ? -err : -EIO;
}

void vm_error_at(const char *where, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	defang(msg);
	if (vm_opts.json)
		emit_json("batch", where, msg, 0, NULL);
	else
		fprintf(stderr, VFIOMIG_PROG ": %s: %s\n", where, msg);
}

void vm_set_status(enum vm_exit status)
{
	first_status = status;
}

int vm_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	defang(msg);
	record(VM_EXIT_USAGE, EINVAL);
	if (vm_opts.json)
		emit_json("usage", NULL, msg, 0, "see 'vfiomig help'");
	else
		fprintf(stderr, VFIOMIG_PROG ": %s\n", msg);
	return -EINVAL;
}

void vm_note(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vm_opts.json)
		out_note(msg);
	else
		fprintf(stderr, VFIOMIG_PROG ": note: %s\n", msg);
}

void vm_debug(const char *fmt, ...)
{
	va_list ap;

	if (!vm_opts.verbose)
		return;
	fputs(VFIOMIG_PROG ": debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

enum vm_exit vm_exit_status(int ret)
{
	if (ret >= 0)
		return VM_EXIT_OK;
	if (first_status != VM_EXIT_OK)
		return first_status;
	return status_of(-ret);
}

void vm_error_reset(void)
{
	first_status = VM_EXIT_OK;
	first_errno = 0;
}
