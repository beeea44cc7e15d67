// SPDX-License-Identifier: Apache-2.0
/* /proc walks: exe, cmdline, fd paths, writable files, and a pipe's reader. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "procfs.h"

static void test_self(void **state)
{
	char self[4096], *exe, *cmd, *path;
	ssize_t n;
	size_t len;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	exe = sw_procfs__exe(getpid());
	assert_string_equal(exe, self);
	free(exe);
	cmd = sw_procfs__cmdline(getpid(), &len);
	assert_true(len > 0);
	assert_non_null(strstr(cmd, "test_procfs"));
	free(cmd);
	path = sw_procfs__fd_path(getpid(), 0); /* stdin: not a path, or a path */
	free(path);
	assert_null(sw_procfs__fd_path(getpid(), 999));
	exe = sw_procfs__exe(99999999);
	assert_string_equal(exe, "");
	free(exe);
}

static void test_pipe_reader(void **state)
{
	struct stat st;
	int p[2], go[2];
	pid_t child;
	char c;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	if (child == 0) {
		close(p[1]);
		close(go[0]);
		assert_int_equal(write(go[1], "r", 1), 1);
		/* Holds the read end until killed, or until the parent is gone (a failed
		 * assertion must not leave this child behind). */
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	close(go[1]);
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(fstat(p[1], &st), 0);
	assert_int_equal(sw_procfs__pipe_reader(st.st_ino, getpid()), child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(p[1]);
	close(go[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_pipe_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
