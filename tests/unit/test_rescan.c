// SPDX-License-Identifier: Apache-2.0
/* Files to read back at a process's exit: per process, no duplicates, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rescan.h"

static int seen;
static uint64_t last_ino;

static void count(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	(void)dev;
	(void)gen;
	(void)path;
	(void)ctx;
	seen++;
	last_ino = ino;
}

static void test_per_process(void **state)
{
	struct sw_rescan *r = sw_rescan__new();

	assert_int_equal(sw_rescan__add(r, 10, 1, 100, 0, "/a"), 0);
	assert_int_equal(sw_rescan__add(r, 10, 1, 100, 0, "/a"), 1); /* once */
	assert_int_equal(sw_rescan__add(r, 10, 1, 101, 0, "/b"), 0);
	assert_int_equal(sw_rescan__add(r, 11, 1, 102, 0, "/c"), 0);
	seen = 0;
	sw_rescan__take(r, 10, count, NULL);
	assert_int_equal(seen, 2);
	seen = 0;
	sw_rescan__take(r, 10, count, NULL);
	assert_int_equal(seen, 0); /* taken means forgotten */
	sw_rescan__take_all(r, count, NULL);
	assert_int_equal(seen, 1);
	assert_int_equal(last_ino, 102);
	sw_rescan__free(r);
}

static void test_bounded_oldest_first(void **state)
{
	struct sw_rescan *r = sw_rescan__new();
	uint64_t i;

	for (i = 0; i < SW_RESCAN_MAX + 5; i++)
		assert_int_equal(sw_rescan__add(r, 1, 1, i, 0, "/f"), 0);
	assert_int_equal(sw_rescan__dropped(r), 5);
	seen = 0;
	sw_rescan__take(r, 1, count, NULL);
	assert_int_equal(seen, SW_RESCAN_MAX);
	sw_rescan__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_process),
		cmocka_unit_test(test_bounded_oldest_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
