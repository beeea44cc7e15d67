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

#include "sink_priv.h"

uint64_t sink_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct sw_sink *sink_new(enum sink_kind kind, enum sw_sink_format fmt)
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
int sink_format(struct sw_sink *s, const struct sw_alert *a, enum sw_sink_format fmt, size_t extra)
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
	s->synced_ms = sink_now_ms();
	return s;
fail:
	err = errno;
	sw_sink__free(s);
	errno = err;
	return NULL;
}

static void file_sync(struct sw_sink *s, int force)
{
	uint64_t now = sink_now_ms();

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

	n = sink_format(s, a, s->fmt, 1);
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
		n = sink_format(s, a, s->fmt, 0);
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
	deadline = sink_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if (s->kind == K_SYSLOG) {
			uint64_t now = sink_now_ms();
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
		if (sink_now_ms() >= deadline)
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
