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

static const struct {
	const char *name;
	enum sw_ctl_verb verb;
	int args; /* 0 none, 1 optional label, 2 required pid */
} verbs[] = {
	{"status", SW_CTL_STATUS, 0},	{"summary", SW_CTL_SUMMARY, 0},
	{"session", SW_CTL_SESSION, 1}, {"watch", SW_CTL_WATCH, 2},
	{"reload", SW_CTL_RELOAD, 0},	{"follow", SW_CTL_FOLLOW, 0},
	{"index", SW_CTL_INDEX, 0},
};

int sw_ctl__parse(const char *line, size_t len, struct sw_ctl_req *req, char *err, size_t errsz)
{
	size_t i, vlen, alen;
	const char *arg;
	long v;

	memset(req, 0, sizeof(*req));
	if (!line || len >= SW_CTL_LINE_MAX) {
		snprintf(err, errsz, "request too long");
		return -EINVAL;
	}
	/* Printable ASCII only: the label lands in alerts, status and the trace log. */
	for (i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e) {
			snprintf(err, errsz, "request with a byte that is not printable ASCII");
			return -EINVAL;
		}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	arg = vlen < len ? line + vlen + 1 : NULL;
	alen = arg ? len - vlen - 1 : 0;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == vlen && !memcmp(verbs[i].name, line, vlen))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0])) {
		snprintf(err, errsz,
			 "unknown request (expected status, summary, session, watch, reload, "
			 "index, follow)");
		return -EINVAL;
	}
	req->verb = verbs[i].verb;
	switch (verbs[i].args) {
	case 0:
		if (arg) {
			snprintf(err, errsz, "'%s' takes no argument", verbs[i].name);
			return -EINVAL;
		}
		return 0;
	case 1:
		if (!arg)
			return 0;
		if (alen == 0 || alen >= SW_CTL_AGENT_MAX || memchr(arg, ' ', alen)) {
			snprintf(err, errsz, "an agent label is 1 to %d characters, no spaces",
				 SW_CTL_AGENT_MAX - 1);
			return -EINVAL;
		}
		memcpy(req->agent, arg, alen);
		req->agent[alen] = 0;
		return 0;
	default:
		v = 0;
		for (i = 0; i < alen && arg[i] >= '0' && arg[i] <= '9' && v <= 0x7fffffff; i++)
			v = v * 10 + (arg[i] - '0');
		if (!arg || alen == 0 || i != alen || v <= 0 || v > 0x7fffffff) {
			snprintf(err, errsz, "'watch' takes one process id");
			return -EINVAL;
		}
		req->pid = (int)v;
		return 0;
	}
}

int sw_ctl__next_line(char *buf, size_t *len, char *line, size_t size)
{
	char *nl;
	size_t n;

	if (!buf || !len || !line || size == 0)
		return -EINVAL;
	nl = memchr(buf, '\n', *len);
	if (!nl)
		return *len >= size ? -EMSGSIZE : -EAGAIN;
	n = (size_t)(nl - buf);
	if (n >= size)
		return -EMSGSIZE;
	memcpy(line, buf, n);
	if (n && line[n - 1] == '\r')
		n--;
	line[n] = 0;
	*len -= (size_t)(nl - buf) + 1;
	memmove(buf, nl + 1, *len);
	return (int)n;
}
