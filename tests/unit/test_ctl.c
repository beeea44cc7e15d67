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

static int parse(const char *line, struct sw_ctl_req *r)
{
	char err[160];

	return sw_ctl__parse(line, strlen(line), r, err, sizeof(err));
}

static void test_parse(void **state)
{
	struct sw_ctl_req r;
	char err[160], big[SW_CTL_AGENT_MAX + 16];

	assert_int_equal(parse("status", &r), 0);
	assert_int_equal(r.verb, SW_CTL_STATUS);
	assert_int_equal(parse("summary", &r), 0);
	assert_int_equal(r.verb, SW_CTL_SUMMARY);
	assert_int_equal(parse("reload", &r), 0);
	assert_int_equal(r.verb, SW_CTL_RELOAD);
	assert_int_equal(parse("follow", &r), 0);
	assert_int_equal(r.verb, SW_CTL_FOLLOW);
	assert_int_equal(parse("session", &r), 0);
	assert_int_equal(r.verb, SW_CTL_SESSION);
	assert_string_equal(r.agent, "");
	assert_int_equal(parse("session claude", &r), 0);
	assert_string_equal(r.agent, "claude");
	assert_int_equal(parse("watch 4242", &r), 0);
	assert_int_equal(r.verb, SW_CTL_WATCH);
	assert_int_equal(r.pid, 4242);
	/* Refused: unknown verbs, prefixes, arguments where none belong, bad pids and labels,
	 * bytes that are not printable ASCII. The message never echoes the request. */
	assert_int_equal(parse("statusx", &r), -EINVAL);
	assert_int_equal(parse("stat", &r), -EINVAL);
	assert_int_equal(parse("", &r), -EINVAL);
	assert_int_equal(parse("reload now", &r), -EINVAL);
	assert_int_equal(parse("status ", &r), -EINVAL);
	assert_int_equal(parse("watch", &r), -EINVAL);
	assert_int_equal(parse("watch ", &r), -EINVAL);
	assert_int_equal(parse("watch 0", &r), -EINVAL);
	assert_int_equal(parse("watch -1", &r), -EINVAL);
	assert_int_equal(parse("watch 12x", &r), -EINVAL);
	assert_int_equal(parse("watch 2147483648", &r), -EINVAL);
	assert_int_equal(parse("watch 99999999999999999999", &r), -EINVAL);
	assert_int_equal(parse("watch 2147483647", &r), 0);
	assert_int_equal(parse("session a b", &r), -EINVAL);
	assert_int_equal(parse("session ", &r), -EINVAL);
	memset(big, 'a', sizeof(big));
	memcpy(big, "session ", 8);
	big[8 + SW_CTL_AGENT_MAX - 1] = 0; /* 63 characters: the longest label */
	assert_int_equal(parse(big, &r), 0);
	assert_int_equal(strlen(r.agent), SW_CTL_AGENT_MAX - 1);
	big[8 + SW_CTL_AGENT_MAX - 1] = 'a';
	big[8 + SW_CTL_AGENT_MAX] = 0;
	assert_int_equal(parse(big, &r), -EINVAL);
	assert_int_equal(sw_ctl__parse("status\0", 7, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse("session cl\x01aude", &r), -EINVAL);
	assert_int_equal(parse("session cl\xc3\xa9", &r), -EINVAL);
	assert_int_equal(parse("status\t", &r), -EINVAL);
	assert_null(strstr(err, "status"));
}

static void test_next_line(void **state)
{
	char buf[32], line[16];
	size_t len;

	len = 0;
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), -EAGAIN);
	memcpy(buf, "stat", 4);
	len = 4;
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), -EAGAIN);
	assert_int_equal(len, 4);
	memcpy(buf + 4, "us\r\nsumm", 8);
	len = 12;
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), 6);
	assert_string_equal(line, "status");
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "summ", 4);
	memcpy(buf + 4, "ary\n\n", 5);
	len = 9;
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), 7);
	assert_string_equal(line, "summary");
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), 0);
	assert_string_equal(line, "");
	assert_int_equal(len, 0);
	/* 16 bytes and no newline cannot fit a 16-byte line buffer: the client is dropped. */
	memset(buf, 'a', 16);
	len = 16;
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), -EMSGSIZE);
	/* 16 bytes before the newline: too long as well, even with the newline in. */
	buf[16] = '\n';
	len = 17;
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), -EMSGSIZE);
	buf[15] = '\n';
	assert_int_equal(sw_ctl__next_line(buf, &len, line, sizeof(line)), 15);
	assert_int_equal(len, 1);
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
		cmocka_unit_test(test_call),	  cmocka_unit_test(test_long_line_bounded),
		cmocka_unit_test(test_parse),	  cmocka_unit_test(test_next_line),
		cmocka_unit_test(test_paths_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
