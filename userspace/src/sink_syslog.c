// SPDX-License-Identifier: Apache-2.0
/* The RFC 5424 syslog sink: non-blocking connect with backoff, a bounded queue of frames,
 * octet counting on streams. Never stalls the caller: what cannot be sent in time is dropped
 * and counted. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fileio.h"
#include "sink.h"

extern char **environ;

#include "sink_priv.h"

/* ---- syslog ---- */

static int parse_syslog_addr(struct sw_sink *s, const char *addr)
{
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
		size_t n = strlen(addr + 5);

		if (!n || n >= sizeof(un->sun_path))
			return -EINVAL;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, addr + 5, n + 1);
		s->alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		s->stype = SOCK_STREAM;
		return 0;
	}
	if (!strncmp(addr, "tcp:", 4)) {
		struct addrinfo hints = {0}, *res = NULL;
		char host[256];
		const char *h = addr + 4, *port, *end;
		size_t hl;
		int rc;

		if (*h == '[') {
			end = strchr(h, ']');
			if (!end || end[1] != ':')
				return -EINVAL;
			h++;
			hl = (size_t)(end - h);
			port = end + 2;
		} else {
			end = strrchr(h, ':');
			if (!end)
				return -EINVAL;
			hl = (size_t)(end - h);
			port = end + 1;
		}
		if (!hl || hl >= sizeof(host) || !*port)
			return -EINVAL;
		memcpy(host, h, hl);
		host[hl] = '\0';
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, port, &hints, &res);
		if (rc || !res) {
			if (res)
				freeaddrinfo(res);
			return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		}
		if (res->ai_addrlen > sizeof(s->addr)) {
			freeaddrinfo(res);
			return -EINVAL;
		}
		memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
		s->alen = res->ai_addrlen;
		s->stype = SOCK_STREAM;
		freeaddrinfo(res);
		return 0;
	}
	return -EINVAL;
}

struct sw_sink *sw_sink__syslog(const char *addr, enum sw_sink_format fmt)
{
	struct sw_sink *s;
	int ret;

	if (!addr) {
		errno = EINVAL;
		return NULL;
	}
	s = sink_new(K_SYSLOG, fmt);
	if (!s)
		return NULL;
	s->facility = 10; /* authpriv: security messages, readable by root only by default */
	ret = parse_syslog_addr(s, addr);
	if (ret) {
		sw_sink__free(s);
		errno = -ret;
		return NULL;
	}
	s->backoff_ms = SYSLOG_BACKOFF_MIN_MS;
	return s;
}

int sw_sink__syslog_facility(struct sw_sink *s, int facility)
{
	if (!s || s->kind != K_SYSLOG || facility < 0 || facility > 23)
		return -EINVAL;
	s->facility = facility;
	return 0;
}

static void sl_disconnect(struct sw_sink *s)
{
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
	s->state = SL_IDLE;
	s->next_try_ms = sink_now_ms() + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > SYSLOG_BACKOFF_MAX_MS ? SYSLOG_BACKOFF_MAX_MS
								  : s->backoff_ms * 2;
	/* A frame cut by the broken connection is sent again whole on the next one. */
	if (s->qhead)
		s->qhead->off = 0;
}

static void sl_connected(struct sw_sink *s)
{
	s->state = SL_CONNECTED;
	s->backoff_ms = SYSLOG_BACKOFF_MIN_MS;
	s->st.connects++;
}

static void sl_try_connect(struct sw_sink *s)
{
	int fd;

	if (sink_now_ms() < s->next_try_ms)
		return;
	fd = socket(s->addr.ss_family, s->stype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		sl_disconnect(s);
		return;
	}
	s->sock = fd;
	if (!connect(fd, (struct sockaddr *)&s->addr, s->alen)) {
		sl_connected(s);
		return;
	}
	if (errno == EINPROGRESS) {
		s->state = SL_CONNECTING;
		s->connect_start_ms = sink_now_ms();
		return;
	}
	if (errno == EPROTOTYPE && s->addr.ss_family == AF_UNIX && s->stype == SOCK_STREAM) {
		/* A datagram socket such as /dev/log: switch and retry at once. */
		close(fd);
		s->sock = -1;
		s->stype = SOCK_DGRAM;
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			s->sock = fd;
			if (!connect(fd, (struct sockaddr *)&s->addr, s->alen)) {
				sl_connected(s);
				return;
			}
		}
	}
	sl_disconnect(s);
}

static void sl_check_connecting(struct sw_sink *s, int wait_ms)
{
	struct pollfd p = {.fd = s->sock, .events = POLLOUT};
	int err = 0;
	socklen_t el = sizeof(err);

	if (poll(&p, 1, wait_ms) <= 0) {
		if (sink_now_ms() - s->connect_start_ms > SYSLOG_CONNECT_TIMEOUT_MS)
			sl_disconnect(s);
		return;
	}
	if (getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		sl_disconnect(s);
		return;
	}
	sl_connected(s);
}

void sl_drain(struct sw_sink *s)
{
	int budget = 4096; /* frames per call: bounded work per emit */

	while (s->qhead && s->state == SL_CONNECTED && budget-- > 0) {
		struct frame *f = s->qhead;
		char prefix[24];
		size_t plen = 0, total;
		struct iovec iov[2];
		struct msghdr mh = {.msg_iov = iov};
		ssize_t n;

		if (s->stype == SOCK_STREAM)
			plen = (size_t)snprintf(prefix, sizeof(prefix), "%zu ", f->len);
		total = plen + f->len;
		if (f->off < plen) {
			iov[0].iov_base = prefix + f->off;
			iov[0].iov_len = plen - f->off;
			iov[1].iov_base = f->data;
			iov[1].iov_len = f->len;
			mh.msg_iovlen = 2;
		} else {
			iov[0].iov_base = f->data + (f->off - plen);
			iov[0].iov_len = total - f->off;
			mh.msg_iovlen = 1;
		}
		n = sendmsg(s->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				return;
			s->st.failed++;
			sl_disconnect(s);
			return;
		}
		if (s->stype == SOCK_DGRAM)
			f->off = total;
		else
			f->off += (size_t)n;
		if (f->off < total)
			return;
		s->qhead = f->next;
		if (!s->qhead)
			s->qtail = NULL;
		s->qbytes -= f->len;
		free(f);
		s->st.sent++;
	}
}

void sl_progress(struct sw_sink *s, int wait_ms)
{
	if (s->state == SL_IDLE && s->qhead)
		sl_try_connect(s);
	if (s->state == SL_CONNECTING)
		sl_check_connecting(s, wait_ms);
	if (s->state == SL_CONNECTED) {
		/* A peer that closed shows up as readable EOF: notice it before sending into it. */
		struct pollfd p = {.fd = s->sock, .events = POLLIN};
		char c;

		if (s->stype == SOCK_STREAM && poll(&p, 1, 0) > 0 &&
		    (p.revents & (POLLHUP | POLLERR) ||
		     ((p.revents & POLLIN) &&
		      recv(s->sock, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0))) {
			sl_disconnect(s);
			return;
		}
		sl_drain(s);
	}
}

static int syslog_sev(unsigned int sev)
{
	/* RFC 5424 severities: 2 critical, 3 error, 4 warning, 5 notice, 6 informational. */
	switch (sev) {
	case SW_SEV_CRITICAL:
		return 2;
	case SW_SEV_HIGH:
		return 3;
	case SW_SEV_MEDIUM:
		return 4;
	case SW_SEV_LOW:
		return 5;
	default:
		return 6;
	}
}

/* HOSTNAME is PRINTUSASCII (33..126), at most 255, "-" when unknown. */
static void sl_hostname(const char *in, size_t max, char out[256])
{
	size_t i, n = 0;

	for (i = 0; i < max && in[i] && n < 255; i++) {
		unsigned char c = (unsigned char)in[i];

		out[n++] = (c >= 33 && c <= 126) ? (char)c : '_';
	}
	if (!n)
		out[n++] = '-';
	out[n] = '\0';
}

int syslog_emit(struct sw_sink *s, const struct sw_alert *a)
{
	char ts[SW_ALERT_TIME_LEN], host[256], head[512];
	size_t hl, total;
	struct frame *f;
	int n;

	n = sink_format(s, a, s->fmt, 0);
	if (n < 0) {
		s->st.failed++;
		return n;
	}
	sw_alert__format_time(a->time_us, ts);
	sl_hostname(a->host, sizeof(a->host), host);
	/* <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG. No
	 * structured data: the alert itself is the (JSON) message. */
	hl = (size_t)snprintf(head, sizeof(head), "<%d>1 %s %s sprawlwatch %d %s - ",
			      s->facility * 8 + syslog_sev(a->severity), ts, host, (int)getpid(),
			      sw_alert__kind_name(a->kind));
	if (hl >= sizeof(head)) {
		s->st.failed++;
		return -EMSGSIZE;
	}
	total = hl + (size_t)n;
	if (s->qbytes + total > SW_SINK_QUEUE_MAX) {
		s->st.dropped++;
		sl_progress(s, 0);
		return -ENOBUFS;
	}
	f = malloc(sizeof(*f) + total);
	if (!f) {
		s->st.dropped++;
		return -ENOMEM;
	}
	f->next = NULL;
	f->len = total;
	f->off = 0;
	memcpy(f->data, head, hl);
	memcpy(f->data + hl, s->buf, (size_t)n);
	if (s->qtail)
		s->qtail->next = f;
	else
		s->qhead = f;
	s->qtail = f;
	s->qbytes += total;
	sl_progress(s, 0);
	return 0;
}
