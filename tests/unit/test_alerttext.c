// SPDX-License-Identifier: Apache-2.0
/* An alert line for a person: the fields in order, colours only when asked, and nothing an
 * attacker put in a path can reach the terminal as a control sequence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alerttext.h"

static const char spread[] =
	"{\"time\":\"2026-11-29T18:00:00.123456Z\",\"kind\":\"secret_spread\",\"severity\":"
	"\"high\","
	"\"host\":\"dev1\",\"secret\":{\"id\":\"9f2c41d07ab35e11\",\"name\":\"OPENAI_KEY\","
	"\"variant\":\"base64\"},\"artifact\":{\"type\":\"socket\",\"proto\":\"tcp\",\"peer\":"
	"\"10.0.0.1:443\"},\"process\":{\"pid\":4242,\"ppid\":1,\"uid\":0,\"comm\":\"curl\","
	"\"exe\":\"/usr/bin/curl\",\"argv\":[\"curl\"]},\"session\":{\"id\":7,\"agent\":\"claude\","
	"\"root_pid\":4000,\"root_exe\":\"/usr/bin/claude\"},\"first_seen\":true,\"count\":1}";

static void test_plain_line(void **state)
{
	char out[1024];
	int n = sw_alerttext__format(spread, sizeof(spread) - 1, 0, out, sizeof(out));

	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "2026-11-29 18:00:00Z high     secret_spread OPENAI_KEY (base64)  "
				 "tcp 10.0.0.1:443  by curl[4242]  session 7 agent claude");
	assert_null(strchr(out, '\033'));
}

static void test_colour(void **state)
{
	char out[1024];

	assert_true(sw_alerttext__format(spread, sizeof(spread) - 1, 1, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\033[31mhigh"));
	assert_non_null(strstr(out, "\033[0m"));
}

/* A file named with ESC sequences, a newline and a C1 CSI (U+009B) shows them as '?'. */
static void test_hostile_path(void **state)
{
	static const char a[] =
		"{\"time\":\"2026-11-29T18:00:00.000001Z\",\"kind\":\"secret_spread\","
		"\"severity\":\"medium\",\"secret\":{\"name\":\"K\",\"variant\":\"raw\"},"
		"\"artifact\":{\"type\":\"file\",\"path\":\"/tmp/\\u001b[2Jx\\ny\\u009bz/зд\"},"
		"\"process\":{\"pid\":1,\"comm\":\"sh\"},\"session\":{\"id\":2,\"agent\":\"run\"}}";
	char out[1024];

	assert_true(sw_alerttext__format(a, sizeof(a) - 1, 0, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "file /tmp/?[2Jx?y?z/зд  by sh[1]  session 2 agent run"));
	assert_null(strchr(out, '\033'));
	assert_null(strchr(out, '\n'));
}

/* A git object names its kind, id and repository; a gzip file says it was inflated. */
static void test_git_and_gzip(void **state)
{
	static const char g[] =
		"{\"time\":\"2026-11-29T18:00:00.000001Z\",\"kind\":\"secret_spread\","
		"\"severity\":\"medium\",\"secret\":{\"name\":\"K\",\"variant\":\"raw\"},"
		"\"artifact\":{\"type\":\"file\",\"path\":\"/w/p/.git/objects/ab/cdef\","
		"\"inflated\":\"zlib\",\"git\":{\"repo\":\"/w/p\",\"object\":"
		"\"abcdef0123456789abcdef0123456789abcdef01\",\"kind\":\"blob\"}},"
		"\"process\":{\"pid\":1,\"comm\":\"git\"},\"session\":{\"id\":2,\"agent\":\"run\"}"
		"}";
	static const char z[] =
		"{\"time\":\"2026-11-29T18:00:00.000001Z\",\"kind\":\"secret_spread\","
		"\"severity\":\"medium\",\"secret\":{\"name\":\"K\",\"variant\":\"raw\"},"
		"\"artifact\":{\"type\":\"file\",\"path\":\"/w/b.tgz\",\"inflated\":\"gzip\"},"
		"\"process\":{\"pid\":1,\"comm\":\"gzip\"},\"session\":{\"id\":2,\"agent\":\"run\"}"
		"}";
	char out[1024];

	(void)state;
	assert_true(sw_alerttext__format(g, sizeof(g) - 1, 0, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "git blob abcdef012345 in /w/p  by git[1]"));
	assert_true(sw_alerttext__format(z, sizeof(z) - 1, 0, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "file /w/b.tgz (gzip)  by gzip[1]"));
}

static void test_gap_and_cut(void **state)
{
	static const char g[] =
		"{\"time\":\"2026-11-29T18:00:00.000001Z\",\"kind\":\"coverage_gap\","
		"\"severity\":\"high\",\"message\":\"ring buffer full\"}";
	char out[16];
	char big[256];
	int n;

	assert_true(sw_alerttext__format(g, sizeof(g) - 1, 0, big, sizeof(big)) > 0);
	assert_string_equal(big, "2026-11-29 18:00:00Z high     coverage_gap  ring buffer full");
	n = sw_alerttext__format(g, sizeof(g) - 1, 0, out, sizeof(out));
	assert_int_equal(n, (int)strlen(big));
	assert_int_equal(strlen(out), sizeof(out) - 1);
}

static void test_not_an_alert(void **state)
{
	char out[64];

	assert_int_equal(sw_alerttext__format("{\"class_uid\":2004}", 18, 0, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(sw_alerttext__format("not json", 8, 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(sw_alerttext__clean("a\033b\xff", 4, out, sizeof(out)), 4);
	assert_string_equal(out, "a?b?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_line),   cmocka_unit_test(test_colour),
		cmocka_unit_test(test_hostile_path), cmocka_unit_test(test_git_and_gzip),
		cmocka_unit_test(test_gap_and_cut),  cmocka_unit_test(test_not_an_alert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
