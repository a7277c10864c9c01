/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Splitting a command line into words, as the shell and batch files write them: quotes, escapes, comments. */
#ifndef VFIOMIG_LINE_H
#define VFIOMIG_LINE_H

#include <stdbool.h>
#include <stddef.h>

struct line_words {
	int argc;
	char **argv;            /* argc words and a NULL, owned */
};

/* Where $NAME and ${NAME} come from (the environment, in batch files). */
struct line_vars {
	const char *(*lookup)(const char *name, void *ctx); /* NULL: not set */
	void *ctx;
};

/*
 * Splits LINE (LEN bytes) into words: blanks separate words; '...' keeps
 * everything literally; "..." keeps everything but \" \\ \$ \` escapes and
 * variables; a backslash outside quotes escapes the next character; '#'
 * at the start of a word starts a comment that runs to the end. With VARS,
 * $NAME and ${NAME} outside single quotes are replaced by their values,
 * and an unset one is an error (a scenario must not run half-configured).
 * Returns 0 (possibly with no words), -EINVAL with a reason in WHY (a NUL
 * byte, an unterminated quote, a trailing backslash, an unset variable),
 * or -ENOMEM.
 */
int line_split(const char *line, size_t len, const struct line_vars *vars,
	       struct line_words *w, char *why, size_t whylen);
void line_words_free(struct line_words *w);

/*
 * Whether LINE ends in a backslash that escapes its newline, so the next
 * line continues it: as in sh, not inside single quotes or a comment.
 */
bool line_continues(const char *line, size_t len);

#endif
