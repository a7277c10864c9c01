// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the shell's and batch mode's word splitter: quotes, escapes, continuation, comments, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line.h"

/* Splits S and checks the words against the NULL-terminated list that follows. */
static void expect_words(const char *s, ...)
{
	struct line_words w;
	char why[128] = "";
	const char *want;
	va_list ap;
	int i = 0;

	assert_int_equal(line_split(s, strlen(s), NULL, &w, why, sizeof(why)), 0);
	va_start(ap, s);
	while ((want = va_arg(ap, const char *))) {
		assert_true(i < w.argc);
		assert_string_equal(w.argv[i], want);
		i++;
	}
	va_end(ap);
	assert_int_equal(w.argc, i);
	assert_null(w.argv ? w.argv[w.argc] : NULL);
	line_words_free(&w);
}

static void expect_error(const char *s, size_t len, const char *reason)
{
	struct line_words w;
	char why[128] = "";

	assert_int_equal(line_split(s, len, NULL, &w, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, reason));
	assert_int_equal(w.argc, 0);
	assert_null(w.argv);
}

static void test_plain(void **state)
{
	(void)state;
	expect_words("state set 0000:3b:00.2 stop-copy", "state", "set", "0000:3b:00.2", "stop-copy", NULL);
	expect_words("  \tinfo\t  3b:00.2  \r\n", "info", "3b:00.2", NULL);
	expect_words("", NULL);
	expect_words("   \t ", NULL);
}

static void test_quotes(void **state)
{
	(void)state;
	expect_words("echo 'a b  c'", "echo", "a b  c", NULL);
	expect_words("echo \"a 'b' c\"", "echo", "a 'b' c", NULL);
	expect_words("echo 'a \"b\" \\n'", "echo", "a \"b\" \\n", NULL);
	expect_words("echo \"x\\\"y\\\\z\\$w\\`v\\q\"", "echo", "x\"y\\z$w`v\\q", NULL);
	expect_words("save -o 'my file'.blob", "save", "-o", "my file.blob", NULL);
	expect_words("a''b \"\" ''", "ab", "", "", NULL);
	expect_words("'#not a comment'", "#not a comment", NULL);
}

static void test_escapes(void **state)
{
	(void)state;
	expect_words("a\\ b c", "a b", "c", NULL);
	expect_words("\\#x \\'y\\'", "#x", "'y'", NULL);
	expect_words("a\\\\", "a\\", NULL);
}

static void test_comments(void **state)
{
	(void)state;
	expect_words("# a whole comment line", NULL);
	expect_words("state get A # trailing comment", "state", "get", "A", NULL);
	expect_words("echo a#b", "echo", "a#b", NULL);
	expect_words("   #", NULL);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("echo 'open", 10, "unterminated single quote at column 6");
	expect_error("echo \"open", 10, "unterminated double quote at column 6");
	expect_error("echo a\\", 7, "backslash with nothing after it");
	expect_error("echo a\0b", 8, "NUL byte at column 7");
	expect_error("\0", 1, "NUL byte at column 1");
}

static void test_continuation(void **state)
{
	(void)state;
	assert_true(line_continues("save A \\", 8));
	assert_true(line_continues("save A \\\n", 9));
	assert_true(line_continues("save A \\\r\n", 10));
	assert_false(line_continues("save A \\\\", 9));
	assert_true(line_continues("save A \\\\\\", 10));
	assert_false(line_continues("save A", 6));
	assert_false(line_continues("", 0));
	assert_true(line_continues("\\", 1));
}

static bool cont(const char *s)
{
	return line_continues(s, strlen(s));
}

/* A backslash continues a line only where sh would let it escape the newline. */
static void test_continuation_context(void **state)
{
	(void)state;
	/* In a comment it is text: the next line is a command of its own. */
	assert_false(cont("# see the next line \\\n"));
	assert_false(cont("state get A # trailing \\"));
	assert_false(cont("   #\\"));
	/* A '#' inside a word starts no comment, so the backslash still escapes. */
	assert_true(cont("echo a#b \\"));
	/* Inside single quotes it is literal (the quote is then unterminated). */
	assert_false(cont("echo 'abc\\"));
	assert_false(cont("echo 'a \\' \\\\"));
	assert_true(cont("echo 'a \\' \\"));
	/* Inside double quotes it escapes the newline, as in sh. */
	assert_true(cont("echo \"abc\\"));
	assert_false(cont("echo \"a\\\\"));
	/* An escaped quote opens nothing; an escaped '#' starts no comment. */
	assert_true(cont("echo \\' \\"));
	assert_true(cont("echo \\#x \\"));
}

static const char *fake_env(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "DEV"))
		return "0000:3b:00.2";
	if (!strcmp(name, "LONG"))
		return "a-value-much-longer-than-the-line-that-names-it";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

static void expect_vars(const char *s, const char *w0, const char *w1)
{
	const struct line_vars vars = { fake_env, NULL };
	struct line_words w;
	char why[128] = "";

	assert_int_equal(line_split(s, strlen(s), &vars, &w, why, sizeof(why)), 0);
	assert_int_equal(w.argc, w1 ? 2 : 1);
	assert_string_equal(w.argv[0], w0);
	if (w1)
		assert_string_equal(w.argv[1], w1);
	line_words_free(&w);
}

static void test_variables(void **state)
{
	const struct line_vars vars = { fake_env, NULL };
	struct line_words w;
	char why[128];

	(void)state;
	expect_vars("get $DEV", "get", "0000:3b:00.2");
	expect_vars("get ${DEV}.x", "get", "0000:3b:00.2.x");
	expect_vars("x$LONG", "xa-value-much-longer-than-the-line-that-names-it", NULL);
	expect_vars("\"[$DEV]\" '$DEV'", "[0000:3b:00.2]", "$DEV");
	expect_vars("\\$DEV \"\\$DEV\"", "$DEV", "$DEV");
	expect_vars("a$EMPTY b", "a", "b");
	expect_vars("cost $", "cost", "$");
	expect_vars("$5x", "$5x", NULL);
	assert_int_equal(line_split("get $NOPE", 9, &vars, &w, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "variable $NOPE is not set (column 5)"));
	assert_int_equal(line_split("get ${DEV", 9, &vars, &w, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "bad ${...} variable"));
	/* Without a lookup, '$' is an ordinary character. */
	expect_words("get $DEV", "get", "$DEV", NULL);
}

static void test_long_line(void **state)
{
	size_t len = 1 << 20, i;
	struct line_words w;
	char why[64], *s = malloc(len);

	(void)state;
	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = i % 100 == 99 ? ' ' : 'x';
	assert_int_equal(line_split(s, len, NULL, &w, why, sizeof(why)), 0);
	assert_int_equal(w.argc, (int)((len + 99) / 100));
	assert_int_equal(strlen(w.argv[0]), 99);
	line_words_free(&w);
	/* One word as long as the line. */
	memset(s, 'y', len);
	assert_int_equal(line_split(s, len, NULL, &w, why, sizeof(why)), 0);
	assert_int_equal(w.argc, 1);
	assert_int_equal(strlen(w.argv[0]), len);
	line_words_free(&w);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_continuation_context),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
