// SPDX-License-Identifier: Apache-2.0
/* See ctl.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

int sw_ctl__listen(const char *path)
{
	struct sockaddr_un a;
	int fd, e;

	e = fill_addr(&a, path);
	if (e)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* Anyone may ask for status or start a watched session; privileged requests are
	 * checked per connection with SO_PEERCRED. */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || chmod(path, 0666) || listen(fd, 64)) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int sw_ctl__connect(const char *path)
{
	struct sockaddr_un a;
	int fd, e;

	e = fill_addr(&a, path);
	if (e)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int sw_ctl__read_line(int fd, char *out, size_t size, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t n = 0;
	ssize_t r;
	char c;

	if (size == 0)
		return -EINVAL;
	/* Byte at a time: answers are short and this never reads past the line. */
	while (n < size - 1) {
		if (timeout_ms >= 0) {
			r = poll(&pfd, 1, timeout_ms);
			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
		}
		r = read(fd, &c, 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		if (c == '\n')
			break;
		out[n++] = c;
	}
	out[n] = 0;
	return n;
}

int sw_ctl__call(int fd, const char *request, char *out, size_t size, int timeout_ms)
{
	char line[SW_CTL_LINE_MAX];
	size_t len;
	int n;

	len = snprintf(line, sizeof(line), "%s\n", request);
	if (len >= sizeof(line))
		return -E2BIG;
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	n = sw_ctl__read_line(fd, out, size, timeout_ms);
	if (n < 0)
		return n;
	if (!strncmp(out, "ok", 2) && (out[2] == 0 || out[2] == ' ')) {
		memmove(out, out + (out[2] ? 3 : 2), strlen(out + (out[2] ? 3 : 2)) + 1);
		return 0;
	}
	if (!strncmp(out, "err ", 4)) {
		memmove(out, out + 4, strlen(out + 4) + 1);
		return -EREMOTEIO;
	}
	snprintf(out, size, "unexpected answer from the daemon");
	return -EPROTO;
}
