// SPDX-License-Identifier: Apache-2.0
/* A channel covered by read-back is reported only when its file's latest read-back failed or
 * never happened, at its process's exit; bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "covered.h"

static int seen, last_result;
static uint64_t last_ino;

static void note(const struct sw_covered_ent *e, void *ctx)
{
	(void)ctx;
	seen++;
	last_ino = e->ino;
	last_result = e->result;
	assert_string_equal(e->path, e->ino == 10 ? "/t/a-shm" : "/t/b");
}

static void test_read_back(void **state)
{
	struct sw_covered *c = sw_covered__new();

	assert_non_null(c);
	assert_int_equal(sw_covered__add(c, 7, 100, 2, 1, 10, 0, "/t/a-shm"), 0);
	assert_int_equal(sw_covered__add(c, 7, 100, 2, 1, 10, 0, "/t/a-shm"), 0); /* once */
	assert_int_equal(sw_covered__add(c, 7, 100, 2, 1, 11, 0, "/t/b"), 0);
	assert_int_equal(sw_covered__count(c), 2);
	/* Read back whole at close; the other file not at all. */
	sw_covered__result(c, 1, 10, 0, 0);
	seen = 0;
	sw_covered__take(c, 999, note, NULL); /* another process */
	assert_int_equal(seen, 0);
	sw_covered__take(c, 100, note, NULL);
	assert_int_equal(seen, 1);
	assert_int_equal(last_ino, 11);
	assert_int_equal(last_result, 0);
	assert_int_equal(sw_covered__count(c), 0);
	/* The latest read-back counts: whole at close, gone at exit. */
	assert_int_equal(sw_covered__add(c, 7, 101, 2, 1, 10, 0, "/t/a-shm"), 0);
	sw_covered__result(c, 1, 10, 0, 0);
	sw_covered__result(c, 1, 10, 0, -ENOENT);
	seen = 0;
	sw_covered__take(c, 101, note, NULL);
	assert_int_equal(seen, 1);
	assert_int_equal(last_result, -ENOENT);
	/* Read back whole after the process let go of it: final, a later failure (the file
	 * removed) does not count. Settling another process's entry, or a failed one, does not. */
	assert_int_equal(sw_covered__add(c, 7, 103, 2, 1, 10, 0, "/t/a-shm"), 0);
	assert_int_equal(sw_covered__add(c, 7, 104, 2, 1, 10, 0, "/t/a-shm"), 0);
	sw_covered__result(c, 1, 10, 0, 0);
	sw_covered__settle(c, 103, 1, 10);
	sw_covered__result(c, 1, 10, 0, -ENOENT);
	seen = 0;
	sw_covered__take(c, 103, note, NULL);
	assert_int_equal(seen, 0);
	sw_covered__settle(c, 104, 1, 10); /* its latest read-back failed: not settled */
	sw_covered__take(c, 104, note, NULL);
	assert_int_equal(seen, 1);
	assert_int_equal(last_result, -ENOENT);
	/* A different generation is another file. */
	assert_int_equal(sw_covered__add(c, 7, 102, 2, 1, 10, 5, "/t/a-shm"), 0);
	sw_covered__result(c, 1, 10, 4, 0);
	seen = 0;
	sw_covered__take(c, 102, note, NULL);
	assert_int_equal(seen, 1);
	sw_covered__free(c);
}

static void test_bounded(void **state)
{
	struct sw_covered *c = sw_covered__new();
	uint32_t i;

	for (i = 0; i < SW_COVERED_MAX; i++)
		assert_int_equal(sw_covered__add(c, 1, i, 2, 1, 100 + i, 0, "/t/b"), 0);
	assert_int_equal(sw_covered__add(c, 1, 0, 2, 1, 1, 0, "/t/b"), -ENOSPC);
	sw_covered__free(c); /* frees the remembered entries */
	sw_covered__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
