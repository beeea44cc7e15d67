// SPDX-License-Identifier: Apache-2.0
/* The build directories under a pin dir: found by name, sorted, their links counted, other
 * entries left out; a missing pin dir is -ENOENT. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pins.h"

static char root[64];

static void touch(const char *rel)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void test_list(void **state)
{
	struct sw_pins_build b[4];
	char p[256];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/sw-pins-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(sw_pins__list(root, b, 4), 0);
	touch("scope"); /* the scope map: not a build */
	mk("b00000000000000ff");
	mk("b0123456789abcdef");
	mk("bnot-a-build-dir0"); /* 17 characters, not hex */
	mk("b0123");
	touch("b0123456789abcdef/link_sw_fork");
	touch("b0123456789abcdef/link_sw_exit");
	touch("b0123456789abcdef/meta"); /* not a map: its time stays unknown */
	touch("b0123456789abcdef/events");
	assert_int_equal(sw_pins__list(root, b, 4), 2);
	assert_string_equal(b[0].build, "00000000000000ff");
	assert_int_equal(b[0].links, 0);
	assert_string_equal(b[1].build, "0123456789abcdef");
	assert_int_equal(b[1].links, 2);
	assert_int_equal(b[1].alive_real_ns, 0);
	snprintf(p, sizeof(p), "%s/b0123456789abcdef", root);
	assert_string_equal(b[1].dir, p);
	/* More than fit: counted, the first max filled. */
	assert_int_equal(sw_pins__list(root, b, 1), 2);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
	assert_int_equal(sw_pins__list(root, b, 4), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
