// SPDX-License-Identifier: GPL-2.0-or-later
/* The word splitter behind the shell and batch mode: pure, so every quoting rule has a unit test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void line_words_free(struct line_words *w)
{
	int i;

	for (i = 0; i < w->argc; i++)
		free(w->argv[i]);
	free(w->argv);
	w->argc = 0;
	w->argv = NULL;
}

static int push_word(struct line_words *w, const char *buf, size_t n)
{
	char **more, *word = strndup(buf, n);

	if (!word)
		return -ENOMEM;
	more = realloc(w->argv, (w->argc + 2) * sizeof(*w->argv));
	if (!more) {
		free(word);
		return -ENOMEM;
	}
	w->argv = more;
	w->argv[w->argc++] = word;
	w->argv[w->argc] = NULL;
	return 0;
}

static int fail(char *why, size_t whylen, const char *msg, size_t pos)
{
	snprintf(why, whylen, "%s at column %zu", msg, pos + 1);
	return -EINVAL;
}

/* A growing word: variables can make a word longer than its line. */
struct buf {
	char *p;
	size_t n, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	char *more;

	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		more = realloc(b->p, b->cap);
		if (!more)
			return -ENOMEM;
		b->p = more;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * Expands the variable that starts at LINE[*I] ('$'); leaves *I on its
 * last character. A '$' that starts no name is kept as it is.
 */
static int expand(const char *line, size_t len, size_t *i, struct buf *b,
		  const struct line_vars *vars, char *why, size_t whylen)
{
	size_t at = *i, j = at + 1, name_at;
	bool braced = j < len && line[j] == '{';
	char name[128];
	const char *val;

	if (braced)
		j++;
	name_at = j;
	while (j < len && name_char(line[j], j == name_at))
		j++;
	if (j == name_at || (braced && (j >= len || line[j] != '}')))
		return braced ? fail(why, whylen, "a bad ${...} variable", at) : put(b, "$", 1);
	if (j - name_at >= sizeof(name))
		return fail(why, whylen, "a variable name too long", at);
	memcpy(name, line + name_at, j - name_at);
	name[j - name_at] = '\0';
	val = vars->lookup(name, vars->ctx);
	if (!val) {
		snprintf(why, whylen, "variable $%s is not set (column %zu)", name, at + 1);
		return -EINVAL;
	}
	*i = braced ? j : j - 1;
	return put(b, val, strlen(val));
}

int line_split(const char *line, size_t len, const struct line_vars *vars,
	       struct line_words *w, char *why, size_t whylen)
{
	struct buf word = { 0 };
	size_t i, quote_at = 0;
	char quote = 0;
	bool in_word = false;
	int ret = 0;

	w->argc = 0;
	w->argv = NULL;
	if (memchr(line, '\0', len))
		return fail(why, whylen, "a NUL byte", (const char *)memchr(line, '\0', len) - line);

	for (i = 0; i < len && !ret; i++) {
		char c = line[i];

		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				ret = put(&word, &c, 1);
			continue;
		}
		if (quote == '"') {
			if (c == '"')
				quote = 0;
			else if (c == '\\' && i + 1 < len && strchr("\"\\$`", line[i + 1]))
				ret = put(&word, &line[++i], 1);
			else if (c == '$' && vars)
				ret = expand(line, len, &i, &word, vars, why, whylen);
			else
				ret = put(&word, &c, 1);
			continue;
		}
		if (blank(c)) {
			if (in_word) {
				ret = push_word(w, word.p ? word.p : "", word.n);
				word.n = 0;
				in_word = false;
			}
			continue;
		}
		if (c == '#' && !in_word)
			break;
		in_word = true;
		if (c == '\'' || c == '"') {
			quote = c;
			quote_at = i;
		} else if (c == '\\') {
			if (i + 1 == len)
				ret = fail(why, whylen, "a backslash with nothing after it", i);
			else
				ret = put(&word, &line[++i], 1);
		} else if (c == '$' && vars) {
			ret = expand(line, len, &i, &word, vars, why, whylen);
		} else {
			ret = put(&word, &c, 1);
		}
	}
	if (!ret && quote)
		ret = fail(why, whylen, quote == '"' ? "an unterminated double quote" :
			   "an unterminated single quote", quote_at);
	if (!ret && in_word)
		ret = push_word(w, word.p ? word.p : "", word.n);
	free(word.p);
	if (ret)
		line_words_free(w);
	return ret;
}

bool line_continues(const char *line, size_t len)
{
	bool in_word = false;
	char quote = 0;
	size_t i;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/*
	 * The same reading as line_split(): a backslash continues the line
	 * only where it would escape the newline, as in sh. Inside single
	 * quotes it is an ordinary character, and in a comment it is text.
	 */
	for (i = 0; i < len; i++) {
		char c = line[i];

		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			continue;
		}
		if (quote == '"') {
			if (c == '"')
				quote = 0;
			else if (c == '\\' && ++i == len)
				return true;
			continue;
		}
		if (blank(c)) {
			in_word = false;
			continue;
		}
		if (c == '#' && !in_word)
			return false;
		in_word = true;
		if (c == '\'' || c == '"')
			quote = c;
		else if (c == '\\' && ++i == len)
			return true;
	}
	return false;
}
