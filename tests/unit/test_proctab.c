// SPDX-License-Identifier: Apache-2.0
/* The process table follows forks, execs and exits, and counts a session's live processes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proctab.h"

static void test_fork_exec_exit(void **state)
{
	struct sw_proctab *pt = sw_proctab__new();
	const struct sw_session *s;
	const struct sw_proc *p;

	assert_non_null(pt);
	assert_non_null(sw_proctab__session(pt, 7, 100));
	assert_int_equal(sw_proctab__set_agent(pt, 7, "claude"), 0);
	assert_int_equal(sw_proctab__exec(pt, 100, 1, 1000, 7, "claude", "/usr/bin/claude", 15,
					  "claude\0-p\0", 10),
			 0);
	assert_int_equal(sw_proctab__fork(pt, 100, 101, 7, 1000, "claude"), 0);
	p = sw_proctab__find(pt, 101);
	assert_non_null(p);
	assert_string_equal(p->exe, "/usr/bin/claude"); /* inherited until exec */
	assert_int_equal(p->ppid, 100);
	assert_int_equal(sw_proctab__exec(pt, 101, 100, 1000, 7, "bash", "/usr/bin/bash", 13,
					  "bash\0-c\0ls\0", 11),
			 0);
	p = sw_proctab__find(pt, 101);
	assert_string_equal(p->exe, "/usr/bin/bash");
	assert_int_equal(p->args_len, 11);
	s = sw_proctab__find_session(pt, 7);
	assert_int_equal(s->nprocs, 2);
	assert_string_equal(s->agent, "claude");
	sw_proctab__exit(pt, 101);
	assert_null(sw_proctab__find(pt, 101));
	assert_int_equal(s->nprocs, 1);
	assert_false(s->ended);
	sw_proctab__exit(pt, 100);
	assert_true(s->ended);
	assert_int_equal(sw_proctab__count(pt), 0);
	sw_proctab__free(pt);
}

static void test_pid_reuse(void **state)
{
	struct sw_proctab *pt = sw_proctab__new();

	assert_int_equal(sw_proctab__fork(pt, 1, 50, 3, 0, "a"), 0);
	/* The exit was missed and the pid comes back in another session. */
	assert_int_equal(sw_proctab__fork(pt, 1, 50, 4, 0, "b"), 0);
	assert_int_equal(sw_proctab__count(pt), 1);
	assert_int_equal(sw_proctab__find(pt, 50)->session_id, 4);
	assert_int_equal(sw_proctab__find_session(pt, 3)->nprocs, 0);
	sw_proctab__free(pt);
}

static void test_unknown_learned(void **state)
{
	struct sw_proctab *pt = sw_proctab__new();
	const struct sw_proc *p = sw_proctab__get(pt, 900, 1, 0, 9, "python3");

	assert_non_null(p);
	assert_string_equal(p->comm, "python3");
	assert_string_equal(p->exe, "");
	assert_ptr_equal(sw_proctab__get(pt, 900, 1, 0, 9, "python3"), p);
	sw_proctab__free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_exec_exit),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_unknown_learned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
