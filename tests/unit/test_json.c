// SPDX-License-Identifier: Apache-2.0
/* Outside text becomes one harmless JSON string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static void test_escapes(void **state)
{
	static const char in[] = "a\"b\\c\nd\x1b[31m\xff/\0z";
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	sw_json__str(f, in, sizeof(in) - 1);
	fclose(f);
	assert_string_equal(out, "\"a\\\"b\\\\c\\u000ad\\u001b[31m\\u00ff/\\u0000z\"");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
