// SPDX-License-Identifier: Apache-2.0
/* Alert sinks: JSON-lines file, RFC 5424 syslog, hook command, callback.
 *
 * The daemon's event loop calls emit for every alert, so no sink may stall it: the syslog sink
 * connects and sends non-blocking from a bounded queue and drops (counted) when the collector
 * cannot keep up; hooks run asynchronously under a deadline and a concurrency bound. Nothing
 * here prints: every failure ends up in struct sw_sink_stats. */
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

enum sink_kind { K_FILE, K_SYSLOG, K_HOOK, K_CALLBACK, K_ALERT_FN };

/* One syslog message. Stream transports get the octet-counting prefix at send time: whether
 * a unix socket is a stream or datagram one is only known once connected. */
struct frame {
	struct frame *next;
	size_t len; /* message bytes */
	size_t off; /* bytes of prefix + message already sent on this connection */
	char data[];
};

struct hook_run {
	pid_t pid;
	int fd; /* write end of the hook's stdin, -1 once all is written */
	char *buf;
	size_t len, off;
	uint64_t deadline_ms;
	int killed;
};

enum { SL_IDLE, SL_CONNECTING, SL_CONNECTED };

#define SYSLOG_BACKOFF_MIN_MS	  100
#define SYSLOG_BACKOFF_MAX_MS	  30000
#define SYSLOG_CONNECT_TIMEOUT_MS 5000
#define FILE_SYNC_INTERVAL_MS	  1000

struct sw_sink {
	enum sink_kind kind;
	enum sw_sink_format fmt;
	struct sw_sink_stats st;
	char *buf; /* formatting buffer, grown on demand up to SW_SINK_ALERT_MAX */
	size_t cap;

	/* file */
	char *path;
	int fd;
	int is_stdout;
	int unsynced;
	uint64_t synced_ms;

	/* syslog */
	struct sockaddr_storage addr;
	socklen_t alen;
	int stype;
	int sock;
	int state;
	int facility;
	uint64_t next_try_ms, connect_start_ms;
	uint32_t backoff_ms;
	struct frame *qhead, *qtail;
	size_t qbytes;

	/* hook */
	char **argv;
	int timeout_ms;
	struct hook_run hooks[SW_SINK_HOOKS_MAX];

	/* callback */
	void (*fn)(const char *json, size_t len, void *ctx);
	void (*alert_fn)(const struct sw_alert *a, void *ctx);
	void *ctx;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sw_sink *sink_new(enum sink_kind kind, enum sw_sink_format fmt)
{
	struct sw_sink *s = calloc(1, sizeof(*s));
	int i;

	if (!s)
		return NULL;
	s->kind = kind;
	s->fmt = fmt;
	s->fd = -1;
	s->sock = -1;
	for (i = 0; i < SW_SINK_HOOKS_MAX; i++) {
		s->hooks[i].pid = -1;
		s->hooks[i].fd = -1;
	}
	return s;
}

/* Formats a into s->buf with `extra` spare bytes after the text; returns the text length. */
static int format(struct sw_sink *s, const struct sw_alert *a, enum sw_sink_format fmt,
		  size_t extra)
{
	int (*enc)(const struct sw_alert *, char *, size_t) =
		fmt == SW_FMT_OCSF ? sw_alert__ocsf : sw_alert__json;
	int n;

	for (;;) {
		n = enc(a, s->buf, s->cap);
		if (n < 0)
			return n;
		if ((size_t)n + 1 + extra <= s->cap)
			return n;
		if ((size_t)n + 1 + extra > SW_SINK_ALERT_MAX)
			return -EMSGSIZE;
		{
			size_t want = (size_t)n + 1 + extra + 1024;
			char *nb = realloc(s->buf, want);

			if (!nb)
				return -ENOMEM;
			s->buf = nb;
			s->cap = want;
		}
	}
}

/* ---- file ---- */

static int file_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

struct sw_sink *sw_sink__file(const char *path, enum sw_sink_format fmt)
{
	struct sw_sink *s;
	int err;

	if (!path || !*path) {
		errno = EINVAL;
		return NULL;
	}
	s = sink_new(K_FILE, fmt);
	if (!s)
		return NULL;
	s->path = strdup(path);
	if (!s->path)
		goto fail;
	if (!strcmp(path, "-")) {
		/* One write() per line: as line-buffered as stdout gets, without stdio. */
		s->fd = STDOUT_FILENO;
		s->is_stdout = 1;
	} else {
		s->fd = file_open(path);
		if (s->fd < 0)
			goto fail;
	}
	s->synced_ms = now_ms();
	return s;
fail:
	err = errno;
	sw_sink__free(s);
	errno = err;
	return NULL;
}

static void file_sync(struct sw_sink *s, int force)
{
	uint64_t now = now_ms();

	if (s->is_stdout || s->fd < 0 || !s->unsynced)
		return;
	if (!force && now - s->synced_ms < FILE_SYNC_INTERVAL_MS)
		return;
	if (fdatasync(s->fd))
		s->st.failed++;
	s->unsynced = 0;
	s->synced_ms = now;
}

static int file_emit(struct sw_sink *s, const struct sw_alert *a)
{
	int n, ret;

	n = format(s, a, s->fmt, 1);
	if (n < 0) {
		s->st.failed++;
		return n;
	}
	s->buf[n] = '\n';
	ret = sw_fileio__write_all(s->fd, s->buf, (size_t)n + 1);
	s->buf[n] = '\0';
	if (ret) {
		s->st.failed++;
		return ret;
	}
	s->st.sent++;
	s->unsynced = 1;
	file_sync(s, 0);
	return 0;
}

static int file_reopen(struct sw_sink *s)
{
	int fd;

	if (s->is_stdout)
		return 0;
	fd = file_open(s->path);
	if (fd < 0)
		return -errno;
	file_sync(s, 1);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	return 0;
}

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
	s->next_try_ms = now_ms() + s->backoff_ms;
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

	if (now_ms() < s->next_try_ms)
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
		s->connect_start_ms = now_ms();
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
		if (now_ms() - s->connect_start_ms > SYSLOG_CONNECT_TIMEOUT_MS)
			sl_disconnect(s);
		return;
	}
	if (getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		sl_disconnect(s);
		return;
	}
	sl_connected(s);
}

static void sl_drain(struct sw_sink *s)
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

static void sl_progress(struct sw_sink *s, int wait_ms)
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

static int syslog_emit(struct sw_sink *s, const struct sw_alert *a)
{
	char ts[SW_ALERT_TIME_LEN], host[256], head[512];
	size_t hl, total;
	struct frame *f;
	int n;

	n = format(s, a, s->fmt, 0);
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

/* ---- hook ---- */

struct sw_sink *sw_sink__hook(char *const argv[], int timeout_ms)
{
	struct sw_sink *s;
	size_t n = 0, i;

	if (!argv || !argv[0] || timeout_ms <= 0) {
		errno = EINVAL;
		return NULL;
	}
	while (argv[n] && n < 256)
		n++;
	if (argv[n]) {
		errno = E2BIG;
		return NULL;
	}
	s = sink_new(K_HOOK, SW_FMT_JSON);
	if (!s)
		return NULL;
	s->timeout_ms = timeout_ms;
	s->argv = calloc(n + 1, sizeof(char *));
	if (!s->argv)
		goto fail;
	for (i = 0; i < n; i++) {
		s->argv[i] = strdup(argv[i]);
		if (!s->argv[i])
			goto fail;
	}
	return s;
fail:
	sw_sink__free(s);
	errno = ENOMEM;
	return NULL;
}

/* write() that cannot raise SIGPIPE in the daemon: the hook may exit without reading. */
static ssize_t write_nosigpipe(int fd, const char *p, size_t len)
{
	sigset_t pipe_set, old, pending;
	int was_pending, err;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, p, len);
	err = errno;
	if (n < 0 && err == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

static void hook_feed(struct hook_run *h)
{
	while (h->fd >= 0 && h->off < h->len) {
		ssize_t n = write_nosigpipe(h->fd, h->buf + h->off, h->len - h->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break; /* EPIPE: the hook does not read its stdin; its exit status decides
				*/
		h->off += (size_t)n;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

static void hook_clear(struct hook_run *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	memset(h, 0, sizeof(*h));
	h->pid = -1;
	h->fd = -1;
}

static int hooks_poll(struct sw_sink *s)
{
	uint64_t now = now_ms();
	int i, running = 0;

	for (i = 0; i < SW_SINK_HOOKS_MAX; i++) {
		struct hook_run *h = &s->hooks[i];
		int status;
		pid_t r;

		if (h->pid <= 0)
			continue;
		hook_feed(h);
		r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid || (r < 0 && errno == ECHILD)) {
			if (h->killed)
				s->st.timeouts++;
			else if (r == h->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
				s->st.sent++;
			else
				s->st.failed++;
			hook_clear(h);
			continue;
		}
		if (!h->killed && now >= h->deadline_ms) {
			/* The whole process group: a hook script's own children go too. */
			kill(-h->pid, SIGKILL);
			kill(h->pid, SIGKILL);
			h->killed = 1;
			if (h->fd >= 0) {
				close(h->fd);
				h->fd = -1;
			}
		}
		running++;
	}
	return running;
}

static int hook_spawn(struct sw_sink *s, struct hook_run *h, const char *json, size_t len)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int fds[2], ret;
	pid_t pid;

	h->buf = malloc(len + 1);
	if (!h->buf)
		return -ENOMEM;
	memcpy(h->buf, json, len);
	h->buf[len] = '\n';
	h->len = len + 1;
	h->off = 0;
	if (pipe2(fds, O_CLOEXEC)) {
		ret = -errno;
		goto fail;
	}
	/* posix_spawnp rather than fork + execvp: the daemon is multi-threaded, and spawn does
	 * no unsafe work between fork and exec. Same PATH search, same argv, no shell. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	ret = posix_spawnp(&pid, s->argv[0], &fa, &at, s->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[0]);
	if (ret) {
		close(fds[1]);
		ret = -ret;
		goto fail;
	}
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	h->pid = pid;
	h->fd = fds[1];
	h->killed = 0;
	h->deadline_ms = now_ms() + (uint64_t)s->timeout_ms;
	hook_feed(h);
	return 0;
fail:
	free(h->buf);
	h->buf = NULL;
	return ret;
}

static int hook_emit(struct sw_sink *s, const struct sw_alert *a)
{
	struct hook_run *slot = NULL;
	int i, n, ret;

	hooks_poll(s);
	for (i = 0; i < SW_SINK_HOOKS_MAX && !slot; i++)
		if (s->hooks[i].pid <= 0)
			slot = &s->hooks[i];
	if (!slot) {
		s->st.dropped++;
		return -EBUSY;
	}
	n = format(s, a, SW_FMT_JSON, 0);
	if (n < 0) {
		s->st.failed++;
		return n;
	}
	ret = hook_spawn(s, slot, s->buf, (size_t)n);
	if (ret) {
		s->st.failed++;
		return ret;
	}
	return 0;
}

/* ---- callback ---- */

struct sw_sink *sw_sink__callback(void (*fn)(const char *json, size_t len, void *ctx), void *ctx,
				  enum sw_sink_format fmt)
{
	struct sw_sink *s;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	s = sink_new(K_CALLBACK, fmt);
	if (!s)
		return NULL;
	s->fn = fn;
	s->ctx = ctx;
	return s;
}

struct sw_sink *sw_sink__alert_fn(void (*fn)(const struct sw_alert *a, void *ctx), void *ctx)
{
	struct sw_sink *s;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	s = sink_new(K_ALERT_FN, SW_FMT_JSON);
	if (!s)
		return NULL;
	s->alert_fn = fn;
	s->ctx = ctx;
	return s;
}

/* ---- common ---- */

int sw_sink__emit(struct sw_sink *s, const struct sw_alert *a)
{
	int n;

	if (!s || !a)
		return -EINVAL;
	switch (s->kind) {
	case K_FILE:
		return file_emit(s, a);
	case K_SYSLOG:
		return syslog_emit(s, a);
	case K_HOOK:
		return hook_emit(s, a);
	case K_CALLBACK:
		n = format(s, a, s->fmt, 0);
		if (n < 0) {
			s->st.failed++;
			return n;
		}
		s->fn(s->buf, (size_t)n, s->ctx);
		s->st.sent++;
		return 0;
	case K_ALERT_FN:
		s->alert_fn(a, s->ctx);
		s->st.sent++;
		return 0;
	}
	return -EINVAL;
}

int sw_sink__reopen(struct sw_sink *s)
{
	if (!s)
		return -EINVAL;
	return s->kind == K_FILE ? file_reopen(s) : 0;
}

void sw_sink__poll(struct sw_sink *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case K_FILE:
		file_sync(s, 0);
		break;
	case K_SYSLOG:
		sl_progress(s, 0);
		break;
	case K_HOOK:
		hooks_poll(s);
		break;
	default:
		break;
	}
}

static int pending(struct sw_sink *s)
{
	if (s->kind == K_SYSLOG)
		return s->qhead != NULL;
	if (s->kind == K_HOOK)
		return hooks_poll(s) > 0;
	return 0;
}

int sw_sink__flush(struct sw_sink *s, int timeout_ms)
{
	uint64_t deadline;

	if (!s)
		return -EINVAL;
	if (s->kind == K_FILE) {
		file_sync(s, 1);
		return 0;
	}
	deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if (s->kind == K_SYSLOG) {
			uint64_t now = now_ms();
			int wait = deadline > now ? (int)(deadline - now) : 0;

			/* Waiting out a backoff is fine here: the caller asked to wait. */
			if (s->state == SL_IDLE && s->qhead && s->next_try_ms > now &&
			    s->next_try_ms <= deadline)
				s->next_try_ms = now;
			sl_progress(s, wait > 10 ? 10 : wait);
			if (s->state == SL_CONNECTED && s->qhead) {
				struct pollfd p = {.fd = s->sock, .events = POLLOUT};

				poll(&p, 1, wait > 10 ? 10 : wait);
			}
		}
		if (!pending(s))
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		if (s->kind == K_HOOK || s->state != SL_CONNECTED) {
			struct timespec ts = {0, 5 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
}

void sw_sink__stats(const struct sw_sink *s, struct sw_sink_stats *out)
{
	if (!out)
		return;
	if (!s) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = s->st;
}

void sw_sink__free(struct sw_sink *s)
{
	struct frame *f, *next;
	int i;

	if (!s)
		return;
	switch (s->kind) {
	case K_FILE:
		file_sync(s, 1);
		if (s->fd >= 0 && !s->is_stdout)
			close(s->fd);
		break;
	case K_SYSLOG:
		if (s->state == SL_CONNECTED)
			sl_drain(s);
		if (s->sock >= 0)
			close(s->sock);
		for (f = s->qhead; f; f = next) {
			next = f->next;
			free(f);
		}
		break;
	case K_HOOK:
		for (i = 0; i < SW_SINK_HOOKS_MAX; i++) {
			struct hook_run *h = &s->hooks[i];

			if (h->pid > 0) {
				kill(-h->pid, SIGKILL);
				kill(h->pid, SIGKILL);
				while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
					;
			}
			hook_clear(h);
		}
		if (s->argv) {
			for (i = 0; s->argv[i]; i++)
				free(s->argv[i]);
			free(s->argv);
		}
		break;
	default:
		break;
	}
	free(s->path);
	free(s->buf);
	free(s);
}
