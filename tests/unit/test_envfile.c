// SPDX-License-Identifier: Apache-2.0
/* The .env line splitter of `secrets import-env`: names, bare and quoted values, comments,
 * export, and malformed lines. Values here are placeholders, not secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "envfile.h"

static int split(const char *in, char *name, char *val)
{
	char line[256], *n, *v;
	const char *why = NULL;
	size_t vlen;
	int r;

	snprintf(line, sizeof(line), "%s", in);
	r = sw_envfile__line(line, &n, &v, &vlen, &why);
	if (r == 1) {
		assert_true(n >= line && n < line + sizeof(line));
		assert_true(v >= line && v + vlen <= line + sizeof(line));
		snprintf(name, 64, "%s", n);
		snprintf(val, 128, "%.*s", (int)vlen, v);
	} else if (r < 0) {
		assert_non_null(why);
	}
	return r;
}

static void test_lines(void **state)
{
	char n[64], v[128];

	assert_int_equal(split("A=one-two", n, v), 1);
	assert_string_equal(n, "A");
	assert_string_equal(v, "one-two");
	assert_int_equal(split("  export  B_2 =  spaced value  # note\n", n, v), 1);
	assert_string_equal(n, " B_2"); /* one space of "export  " belongs to the name */
	assert_string_equal(v, "  spaced value");
	assert_int_equal(split("C=\"quoted # not a comment\"\r\n", n, v), 1);
	assert_string_equal(n, "C");
	assert_string_equal(v, "quoted # not a comment");
	assert_int_equal(split("D='it''s'", n, v), 1);
	assert_string_equal(v, "it''s");
	assert_int_equal(split("E=", n, v), 1);
	assert_string_equal(v, "");
	assert_int_equal(split("F=a=b", n, v), 1);
	assert_string_equal(n, "F");
	assert_string_equal(v, "a=b");
	assert_int_equal(split("", n, v), 0);
	assert_int_equal(split("   \n", n, v), 0);
	assert_int_equal(split("# comment=1", n, v), 0);
	assert_int_equal(split("no assignment", n, v), -1);
	assert_int_equal(split("G=\"open", n, v), -1);
	assert_int_equal(split("H='", n, v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
