// SPDX-License-Identifier: Apache-2.0
/* The control protocol: one line each way, "ok ..." or "err ...", bounded reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ctl.h"

static void test_call(void **state)
{
	char out[256];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "ok 42\n", 6), 6);
	assert_int_equal(sw_ctl__call(sv[0], "status", out, sizeof(out), 1000), 0);
	assert_string_equal(out, "42");
	assert_true(sw_ctl__read_line(sv[1], out, sizeof(out), 1000) > 0);
	assert_string_equal(out, "status");
	assert_int_equal(write(sv[1], "err no such thing\n", 18), 18);
	assert_int_equal(sw_ctl__call(sv[0], "x", out, sizeof(out), 1000), -EREMOTEIO);
	assert_string_equal(out, "no such thing");
	assert_int_equal(write(sv[1], "garbage\n", 8), 8);
	assert_int_equal(sw_ctl__call(sv[0], "x", out, sizeof(out), 1000), -EPROTO);
	assert_int_equal(sw_ctl__call(sv[0], "x", out, sizeof(out), 50), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

static void test_long_line_bounded(void **state)
{
	char big[100], out[16];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(sw_ctl__read_line(sv[0], out, sizeof(out), 1000), 15);
	assert_int_equal(strlen(out), 15);
	close(sv[0]);
	close(sv[1]);
}

static void test_paths_env(void **state)
{
	struct sw_paths p;

	unsetenv("SPRAWL_STATE_DIR");
	unsetenv("SPRAWL_RUN_DIR");
	assert_int_equal(sw_paths__init(&p, NULL, NULL), 0);
	assert_string_equal(p.state_dir, SW_DEFAULT_STATE_DIR);
	assert_string_equal(p.control, SW_DEFAULT_RUN_DIR "/control.sock");
	setenv("SPRAWL_STATE_DIR", "/tmp/s", 1);
	setenv("SPRAWL_RUN_DIR", "/tmp/r", 1);
	assert_int_equal(sw_paths__init(&p, NULL, NULL), 0);
	assert_string_equal(p.key, "/tmp/s/key");
	assert_string_equal(p.control, "/tmp/r/control.sock");
	/* An explicit argument beats the environment. */
	assert_int_equal(sw_paths__init(&p, "/x", NULL), 0);
	assert_string_equal(p.secrets, "/x/secrets.pb");
	unsetenv("SPRAWL_STATE_DIR");
	unsetenv("SPRAWL_RUN_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_long_line_bounded),
		cmocka_unit_test(test_paths_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
