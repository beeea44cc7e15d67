// SPDX-License-Identifier: Apache-2.0
/* File-writing steps: whole writes, directory sync. */
#include <errno.h>
#include <fcntl.h>
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

#include "fileio.h"

static void test_write_all_and_sync(void **state)
{
	char dir[] = "/tmp/sw-test-fileio.XXXXXX", path[64], buf[100000], back[100000];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sw_fileio__write_all(fd, buf, sizeof(buf)), 0);
	close(fd);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, back, sizeof(back)), sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	close(fd);
	assert_int_equal(sw_fileio__fsync_dir_of(path), 0);
	assert_int_equal(sw_fileio__fsync_dir_of("/nonexistent-dir/f"), -ENOENT);
	/* A write to a closed descriptor is an error, not a loop. */
	assert_int_equal(sw_fileio__write_all(fd, buf, 10), -EBADF);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_all_and_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
