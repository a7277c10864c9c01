/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One output layer for text and JSON, so that command handlers never branch on the mode. */
#ifndef VFIOMIG_OUTPUT_H
#define VFIOMIG_OUTPUT_H

#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A command's output is one JSON object (the document) or text.
 * Every out_* call names a JSON key and a printf format for text; a NULL
 * format prints nothing in text mode, a NULL key adds nothing to JSON
 * (inside an array, the key is ignored). 64-bit integers stay exact in JSON.
 *
 *	out_str("state", "state %s\n", "running");
 *	-> text "state running\n", JSON {"state":"running"}
 */
void out_begin(FILE *stream);   /* start a document on STREAM (stdout or stderr) */
/*
 * A command run by another (batch, shell, a session holder) has its own
 * document: out_suspend() puts the current one aside, out_resume() brings
 * it back after the inner command's out_end().
 */
struct out_saved;
struct out_saved *out_suspend(void);
void out_resume(struct out_saved *s);
int out_end(void);              /* print the JSON document; 0 or -errno */
FILE *out_stream(void);

void out_obj_open(const char *key);
void out_obj_close(void);
void out_arr_open(const char *key);
void out_arr_close(void);

void out_str(const char *key, const char *fmt, const char *val);
void out_u64(const char *key, const char *fmt, uint64_t val);
void out_s64(const char *key, const char *fmt, int64_t val);
void out_hex(const char *key, const char *fmt, uint64_t val); /* JSON: "0x..." string */
void out_dbl(const char *key, const char *fmt, double val);
void out_bool(const char *key, const char *fmt, bool val);
void out_null(const char *key, const char *fmt);
/* Text only. */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* JSON only: adds the cJSON ITEM (taken over) under KEY; text mode drops it. */
void out_json(const char *key, void *item);
/* JSON only: a note for people, collected into the document's "notes" array. */
void out_note(const char *msg);

#endif
