// SPDX-License-Identifier: Apache-2.0
/* Held alerts: owned copies, due in order, renamed while held, bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alertq.h"

static struct sw_alert out[8];
static int nout;

static int take(struct sw_alert *a, void *ctx)
{
	(void)ctx;
	if (nout < 8)
		out[nout] = *a;
	/* argv points into the queue's copy: still valid during the callback */
	assert_string_equal(a->process.argv[1], "-c");
	nout++;
	return 0;
}

/* An alert that cannot be decided yet stays first in line; the drain stops there. */
static int wait_one(struct sw_alert *a, void *ctx)
{
	int *calls = ctx;

	(void)a;
	return ++*calls == 1;
}

static void file_alert(struct sw_alert *a, uint64_t ino, const char *path)
{
	static const char *argv[] = {"sh", "-c"};
	char tmp[8] = "sh"; /* a buffer the queue must not keep pointing at */

	memset(a, 0, sizeof(*a));
	a->has_artifact = 1;
	a->artifact.type = SW_ART_FILE;
	a->artifact.dev = 2049;
	a->artifact.ino = ino;
	snprintf(a->artifact.path, sizeof(a->artifact.path), "%s", path);
	a->process.argc = 2;
	a->process.argv[0] = tmp;
	a->process.argv[1] = argv[1];
	(void)argv;
}

static void test_due_order_and_rename(void **state)
{
	struct sw_alertq *q = sw_alertq__new(4);
	struct sw_alert a;

	nout = 0;
	file_alert(&a, 1, "/d/tmp.1");
	assert_int_equal(sw_alertq__push(q, &a, 100), 0);
	file_alert(&a, 2, "/d/other");
	assert_int_equal(sw_alertq__push(q, &a, 200), 0);
	assert_int_equal(sw_alertq__rename(q, 2049, 1, "/d/final"), 1);
	assert_int_equal(sw_alertq__rename(q, 2049, 9, "/d/none"), 0);
	sw_alertq__drain(q, 150, 0, take, NULL);
	assert_int_equal(nout, 1);
	assert_string_equal(out[0].artifact.path, "/d/final");
	assert_int_equal(sw_alertq__len(q), 1);
	sw_alertq__drain(q, 0, 1, take, NULL); /* force */
	assert_int_equal(nout, 2);
	assert_string_equal(out[1].artifact.path, "/d/other");
	assert_int_equal(sw_alertq__len(q), 0);
	sw_alertq__free(q);
}

static void test_undecided_waits_first_in_line(void **state)
{
	struct sw_alertq *q = sw_alertq__new(4);
	struct sw_alert a;
	int calls = 0;

	file_alert(&a, 1, "/w/1");
	assert_int_equal(sw_alertq__push(q, &a, 10), 0);
	file_alert(&a, 2, "/w/2");
	assert_int_equal(sw_alertq__push(q, &a, 10), 0);
	sw_alertq__drain(q, 100, 0, wait_one, &calls); /* the first waits: nothing leaves */
	assert_int_equal(calls, 1);
	assert_int_equal(sw_alertq__len(q), 2);
	sw_alertq__drain(q, 100, 0, wait_one, &calls); /* decided now: both leave, in order */
	assert_int_equal(calls, 3);
	assert_int_equal(sw_alertq__len(q), 0);
	file_alert(&a, 3, "/w/3");
	assert_int_equal(sw_alertq__push(q, &a, 10), 0);
	calls = 0;
	sw_alertq__drain(q, 0, 1, wait_one, &calls); /* force: it leaves undecided */
	assert_int_equal(sw_alertq__len(q), 0);
	sw_alertq__free(q);
}

static void test_bounded(void **state)
{
	struct sw_alertq *q = sw_alertq__new(2);
	struct sw_alert a;

	file_alert(&a, 1, "/x");
	assert_int_equal(sw_alertq__push(q, &a, 1), 0);
	assert_int_equal(sw_alertq__push(q, &a, 1), 0);
	assert_int_equal(sw_alertq__push(q, &a, 1), -ENOSPC);
	sw_alertq__free(q); /* frees what it still holds */
	sw_alertq__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_order_and_rename),
		cmocka_unit_test(test_undecided_waits_first_in_line),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
