// SPDX-License-Identifier: GPL-2.0-or-later
/* The output layer: text printed as it comes, or one JSON document printed at the end. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "output.h"
#include "vfiomig.h"

#define OUT_DEPTH 16

static FILE *stream;
static cJSON *stack[OUT_DEPTH];
static int depth = -1;           /* -1: no JSON document open */
static cJSON *notes;

struct out_saved {
	FILE *stream;
	cJSON *stack[OUT_DEPTH];
	int depth;
	cJSON *notes;
};

struct out_saved *out_suspend(void)
{
	struct out_saved *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->stream = stream;
	memcpy(s->stack, stack, sizeof(stack));
	s->depth = depth;
	s->notes = notes;
	depth = -1;
	notes = NULL;
	stack[0] = NULL;
	return s;
}

void out_resume(struct out_saved *s)
{
	if (!s)
		return;
	stream = s->stream;
	memcpy(stack, s->stack, sizeof(stack));
	depth = s->depth;
	notes = s->notes;
	free(s);
}

FILE *out_stream(void)
{
	return stream ? stream : stdout;
}

void out_begin(FILE *f)
{
	stream = f;
	if (!vm_opts.json)
		return;
	cJSON_Delete(depth >= 0 ? stack[0] : NULL);
	stack[0] = cJSON_CreateObject();
	depth = 0;
}

/* Adds ITEM under KEY to the innermost container; arrays ignore the key. */
static void add(const char *key, cJSON *item)
{
	cJSON *top;

	if (depth < 0 || !item) {
		cJSON_Delete(item);
		return;
	}
	top = stack[depth];
	if (cJSON_IsArray(top))
		cJSON_AddItemToArray(top, item);
	else if (key)
		cJSON_AddItemToObject(top, key, item);
	else
		cJSON_Delete(item);
}

static void push(const char *key, cJSON *item)
{
	if (depth < 0)
		return;
	if (depth + 1 >= OUT_DEPTH) {
		cJSON_Delete(item);
		return;
	}
	add(key, item);
	stack[++depth] = item;
}

static void pop(void)
{
	if (depth > 0)
		depth--;
}

void out_obj_open(const char *key)
{
	if (vm_opts.json)
		push(key, cJSON_CreateObject());
}

void out_obj_close(void)
{
	if (vm_opts.json)
		pop();
}

void out_arr_open(const char *key)
{
	if (vm_opts.json)
		push(key, cJSON_CreateArray());
}

void out_arr_close(void)
{
	if (vm_opts.json)
		pop();
}

/* Text formats are the caller's: we only pass one argument through. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void out_str(const char *key, const char *fmt, const char *val)
{
	if (vm_opts.json)
		add(key, val ? cJSON_CreateString(val) : cJSON_CreateNull());
	else if (fmt)
		fprintf(out_stream(), fmt, val ? val : "-");
}

void out_u64(const char *key, const char *fmt, uint64_t val)
{
	char raw[24];

	if (vm_opts.json) {
		/* cJSON numbers are doubles: print the digits ourselves so they stay exact. */
		snprintf(raw, sizeof(raw), "%" PRIu64, val);
		add(key, cJSON_CreateRaw(raw));
	} else if (fmt) {
		fprintf(out_stream(), fmt, val);
	}
}

void out_s64(const char *key, const char *fmt, int64_t val)
{
	char raw[24];

	if (vm_opts.json) {
		snprintf(raw, sizeof(raw), "%" PRId64, val);
		add(key, cJSON_CreateRaw(raw));
	} else if (fmt) {
		fprintf(out_stream(), fmt, val);
	}
}

void out_hex(const char *key, const char *fmt, uint64_t val)
{
	char s[24];

	if (vm_opts.json) {
		snprintf(s, sizeof(s), "0x%" PRIx64, val);
		add(key, cJSON_CreateString(s));
	} else if (fmt) {
		fprintf(out_stream(), fmt, val);
	}
}

void out_dbl(const char *key, const char *fmt, double val)
{
	if (vm_opts.json)
		add(key, cJSON_CreateNumber(val));
	else if (fmt)
		fprintf(out_stream(), fmt, val);
}

void out_bool(const char *key, const char *fmt, bool val)
{
	if (vm_opts.json)
		add(key, cJSON_CreateBool(val));
	else if (fmt)
		fprintf(out_stream(), fmt, val ? "yes" : "no");
}

void out_null(const char *key, const char *fmt)
{
	if (vm_opts.json)
		add(key, cJSON_CreateNull());
	else if (fmt)
		fputs(fmt, out_stream());
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (vm_opts.json)
		return;
	va_start(ap, fmt);
	vfprintf(out_stream(), fmt, ap);
	va_end(ap);
}

#pragma GCC diagnostic pop

void out_json(const char *key, void *item)
{
	if (vm_opts.json)
		add(key, item);
	else
		cJSON_Delete(item);
}

void out_note(const char *msg)
{
	if (!notes)
		notes = cJSON_CreateArray();
	cJSON_AddItemToArray(notes, cJSON_CreateString(msg));
}

int out_end(void)
{
	cJSON *root;
	char *s;
	int ret = 0;

	if (!vm_opts.json) {
		if (fflush(out_stream()))
			ret = -errno;
		return ret;
	}
	if (depth < 0) {
		/* A command that failed before it began still shows its notes. */
		if (!notes)
			return 0;
		stack[0] = cJSON_CreateObject();
	}
	root = stack[0];
	depth = -1;
	if (notes) {
		cJSON_AddItemToObject(root, "notes", notes);
		notes = NULL;
	}
	/* An empty document means the command failed before it said anything. */
	if (root->child) {
		s = vm_opts.pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
		if (!s)
			ret = -ENOMEM;
		else if (fprintf(out_stream(), "%s\n", s) < 0 || fflush(out_stream()))
			ret = -errno;
		free(s);
	}
	cJSON_Delete(root);
	stack[0] = NULL;
	return ret;
}
