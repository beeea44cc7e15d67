// SPDX-License-Identifier: Apache-2.0
/* See fileio.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

#define EINTR_RETRIES 100

int sw_fileio__write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	int tries = 0;
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR && ++tries < EINTR_RETRIES)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		tries = 0;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int sw_fileio__fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int sw_fileio__replace(int fd, const char *tmp, const char *path, int err)
{
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return sw_fileio__fsync_dir_of(path);
}
