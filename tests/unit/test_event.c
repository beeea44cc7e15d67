// SPDX-License-Identifier: Apache-2.0
/* Kernel records are validated before anything trusts a length in them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"

static union {
	struct sw_data_rec d;
	char raw[sizeof(struct sw_data_rec) + 64];
} buf;

static size_t make_data(const char *path, const char *data)
{
	size_t pl = strlen(path), dl = strlen(data);

	memset(&buf, 0, sizeof(buf));
	buf.d.hdr.type = SW_EV_DATA;
	buf.d.hdr.size = sizeof(buf.d) + pl + dl;
	buf.d.path_len = pl;
	buf.d.data_len = dl;
	memcpy(buf.raw + sizeof(buf.d), path, pl);
	memcpy(buf.raw + sizeof(buf.d) + pl, data, dl);
	return buf.d.hdr.size;
}

static void test_data_ok(void **state)
{
	struct sw_event ev;
	size_t n = make_data("/tmp/x", "hello");

	assert_int_equal(sw_event__decode(&buf, n, &ev), 0);
	assert_int_equal(ev.path_len, 6);
	assert_memory_equal(ev.path, "/tmp/x", 6);
	assert_int_equal(ev.bytes_len, 5);
	assert_memory_equal(ev.bytes, "hello", 5);
}

static void test_data_lengths_beyond_record(void **state)
{
	struct sw_event ev;
	size_t n = make_data("/tmp/x", "hello");

	buf.d.data_len = 6; /* one byte past the record */
	assert_int_equal(sw_event__decode(&buf, n, &ev), -EBADMSG);
	make_data("/tmp/x", "hello");
	buf.d.path_len = 0xffffffff; /* overflow attempt */
	assert_int_equal(sw_event__decode(&buf, n, &ev), -EBADMSG);
	make_data("/tmp/x", "hello");
	buf.d.hdr.size = n + 1; /* header claims more than was received */
	assert_int_equal(sw_event__decode(&buf, n, &ev), -EBADMSG);
}

static void test_short_and_unknown(void **state)
{
	struct sw_event ev;

	make_data("", "");
	assert_int_equal(sw_event__decode(&buf, 10, &ev), -EBADMSG);
	buf.d.hdr.type = 99;
	assert_int_equal(sw_event__decode(&buf, sizeof(buf.d), &ev), -EBADMSG);
	buf.d.hdr.type = SW_EV_EXEC;
	buf.d.hdr.size = sizeof(struct sw_exec_rec) - 1;
	assert_int_equal(sw_event__decode(&buf, sizeof(buf.d), &ev), -EBADMSG);
}

static void test_exec_tail(void **state)
{
	struct sw_exec_rec *e = (struct sw_exec_rec *)&buf;
	struct sw_event ev;
	char *t = (char *)(e + 1);

	memset(&buf, 0, sizeof(buf));
	e->hdr.type = SW_EV_EXEC;
	memcpy(t, "/bin/shsh\0-c\0A=1", 16);
	e->filename_len = 7;
	e->args_len = 6;
	e->env_len = 3;
	e->hdr.size = sizeof(*e) + 16;
	assert_int_equal(sw_event__decode(&buf, e->hdr.size, &ev), 0);
	assert_memory_equal(ev.filename, "/bin/sh", 7);
	assert_memory_equal(ev.args, "sh\0-c\0", 6);
	assert_memory_equal(ev.env, "A=1", 3);
	e->env_len = 40; /* past the record */
	assert_int_equal(sw_event__decode(&buf, e->hdr.size, &ev), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_ok),
		cmocka_unit_test(test_data_lengths_beyond_record),
		cmocka_unit_test(test_short_and_unknown),
		cmocka_unit_test(test_exec_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
