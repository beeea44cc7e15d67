// SPDX-License-Identifier: Apache-2.0
/* Outside text becomes one harmless JSON string: valid UTF-8 kept, invalid bytes U+FFFD,
 * controls escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static char *esc(const char *in, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	sw_json__str(f, in, n);
	fclose(f);
	return out;
}

#define assert_esc(in, want)                                                                       \
	do {                                                                                       \
		char *o_ = esc((in), sizeof(in) - 1);                                              \
		assert_string_equal(o_, (want));                                                   \
		free(o_);                                                                          \
	} while (0)

static void test_ascii_and_controls(void **state)
{
	assert_esc("a\"b\\c\nd\x1b[31m/\0z\x7f\t\r\b\f",
		   "\"a\\\"b\\\\c\\nd\\u001b[31m/\\u0000z\\u007f\\t\\r\\b\\f\"");
	assert_esc("", "\"\"");
}

/* A UTF-8 path (the trace dump's complaint): every valid sequence is kept byte for byte. */
static void test_utf8_kept(void **state)
{
	assert_esc("/home/zoë/проект/日本語/🔑.env", "\"/home/zoë/проект/日本語/🔑.env\"");
	assert_esc("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
		   "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
}

/* Each byte that does not start a valid sequence is one U+FFFD; what follows it is read
 * afresh, so a valid character after a broken one survives. */
static void test_invalid_bytes(void **state)
{
	assert_esc("a\xff"
		   "b",
		   "\"a\\ufffdb\"");
	assert_esc("\x80", "\"\\ufffd\"");
	/* overlong '/' (C0 AF), a surrogate (ED A0 80), above U+10FFFF (F4 90 80 80) */
	assert_esc("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	assert_esc("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	assert_esc("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* a sequence cut by the end of the span, and one cut by an ASCII byte */
	assert_esc("x\xe6\x97", "\"x\\ufffd\\ufffd\"");
	assert_esc("\xe6\x97"
		   "a\xe6\x97\xa5",
		   "\"\\ufffd\\ufffda日\"");
}

static void test_js_separators(void **state)
{
	assert_esc("a\xe2\x80\xa8"
		   "b\xe2\x80\xa9",
		   "\"a\\u2028b\\u2029\"");
}

static void test_utf8_seq(void **state)
{
	uint32_t cp = 0;

	assert_int_equal(sw_json__utf8_seq((const unsigned char *)"\xf0\x9f\x94\x91", 4, &cp), 4);
	assert_int_equal(cp, 0x1f511);
	assert_int_equal(sw_json__utf8_seq((const unsigned char *)"\xf0\x9f\x94\x91", 3, &cp), 0);
	assert_int_equal(sw_json__utf8_seq((const unsigned char *)"\xc1\xbf", 2, &cp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_and_controls), cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_invalid_bytes),	   cmocka_unit_test(test_js_separators),
		cmocka_unit_test(test_utf8_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
