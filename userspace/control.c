// SPDX-License-Identifier: Apache-2.0
/* The daemon's control socket: status, sessions (sprawlctl run), watch, reload, and the alert
 * stream behind `sprawlctl alerts --follow`.
 *
 * Anyone may connect (sprawlctl run and status are for every user), so nothing here may wait
 * on a client: every connection is non-blocking with its own input and output buffer, a
 * deadline for its request line, for idleness and for output that does not move; one non-root
 * uid holds at most CTL_PER_UID connections and CTL_ROOT_RESERVED slots are root's alone.
 * What changes or discloses anything (watch, reload, other users' sessions, secret names,
 * places) is root's, by SO_PEERCRED. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drop(struct daemon *d, struct client *c)
{
	if (c->fd > 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->out);
	memset(c, 0, sizeof(*c));
}

/* What epoll watches: output while some waits, input while no answer is pending (a client
 * gets its answer before its next request is read). A follower is watched for input too, to
 * see it hang up. */
static void rearm(struct daemon *d, struct client *c)
{
	struct epoll_event ev = {.data.u64 = 100 + (uint64_t)(c - d->clients)};

	ev.events = c->eof ? 0 : EPOLLRDHUP;
	if (c->olen)
		ev.events |= EPOLLOUT;
	if (!c->eof && (!c->olen || c->follow))
		ev.events |= EPOLLIN;
	if (ev.events != c->events && !epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->events = ev.events;
}

/* Sends what it can of the pending output; -1 when the client is gone (dropped). */
static int flush(struct daemon *d, struct client *c)
{
	ssize_t n;

	while (c->olen) {
		n = send(c->fd, c->out, c->olen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			drop(d, c);
			return -1;
		}
		c->olen -= (size_t)n;
		memmove(c->out, c->out + n, c->olen);
		c->active_ms = mono_ms();
	}
	rearm(d, c);
	return 0;
}

/* Queues bytes for the client, bounded: past limit it is dropped (-1). */
static int queue(struct daemon *d, struct client *c, const char *p, size_t len, size_t limit)
{
	size_t cap;
	char *o;

	if (c->olen + len > limit) {
		drop(d, c);
		d->ctl_dropped++;
		return -1;
	}
	if (c->olen + len > c->ocap) {
		cap = c->ocap ? c->ocap : 4096;
		while (cap < c->olen + len)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o) {
			drop(d, c);
			return -1;
		}
		c->out = o;
		c->ocap = cap;
	}
	if (!c->olen)
		c->active_ms = mono_ms(); /* the send deadline runs from here */
	memcpy(c->out + c->olen, p, len);
	c->olen += len;
	return 0;
}

static void reply(struct daemon *d, struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply(struct daemon *d, struct client *c, const char *fmt, ...)
{
	char line[SW_CTL_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	queue(d, c, line, (size_t)n, SW_CTL_STATUS_MAX);
}

void control__alert(const struct sw_alert *a, void *ctx)
{
	static char json[64 * 1024];
	struct daemon *d = ctx;
	int i, n = -1;

	for (i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &d->clients[i];

		if (c->fd <= 0 || !c->follow)
			continue;
		/* A user follows the alerts of their own processes and sessions only. */
		if (c->uid != 0 &&
		    !((a->has_process && a->process.uid == c->uid) ||
		      (a->has_session && control__session_visible(d, a->session.id, c->uid))))
			continue;
		if (n < 0) {
			n = sw_alert__json(a, json, sizeof(json) - 1);
			if (n <= 0 || n >= (int)sizeof(json) - 1)
				return;
			json[n++] = '\n';
		}
		/* A follower that cannot keep up is dropped rather than stalling detection. */
		if (!queue(d, c, json, (size_t)n, CTL_FOLLOW_BUF))
			flush(d, c);
	}
}

static void count_live(const struct sw_session *s, void *ctx)
{
	if (!s->ended)
		(*(size_t *)ctx)++;
}

uint64_t new_session_id(struct daemon *d)
{
	return ++d->next_session;
}

static void own(struct daemon *d, uint64_t id, uid_t uid)
{
	d->ctl_owned[d->ctl_owned_next].session = id;
	d->ctl_owned[d->ctl_owned_next].uid = uid;
	d->ctl_owned_next = (d->ctl_owned_next + 1) % CTL_OWNED_MAX;
}

static void do_status(struct daemon *d, struct client *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		reply(d, c, "err out of memory");
		return;
	}
	fputs("ok ", f);
	control__status_json(d, f, c->uid);
	fputc('\n', f);
	/* Bounded by what sprawlctl reads: beyond it, an error rather than cut JSON. */
	if (fclose(f) || len > SW_CTL_STATUS_MAX)
		reply(d, c, "err the status is larger than %d bytes", SW_CTL_STATUS_MAX);
	else
		queue(d, c, out, len, SW_CTL_STATUS_MAX);
	free(out);
}

static void do_session(struct daemon *d, struct client *c, uint32_t pid, const char *agent)
{
	struct sw_scope sc;
	uint64_t id;
	int e;

	if (sw_kernel__scope_get(d->k, pid, &sc) == 1) {
		reply(d, c, "ok %llu", (unsigned long long)sc.session_id);
		return;
	}
	id = new_session_id(d);
	e = sw_kernel__scope_add(d->k, pid, id, pid);
	if (e) {
		reply(d, c, "err cannot add pid %u to the scope: %s", pid, strerror(-e));
		return;
	}
	own(d, id, c->uid);
	daemon_session(d, id, pid, agent);
	reply(d, c, "ok %llu", (unsigned long long)id);
}

static void handle_request(struct daemon *d, struct client *c, const char *line, size_t len)
{
	struct sw_pipeline_stats st;
	struct sw_ctl_req r;
	char err[160];
	size_t live = 0;
	int e;

	if (sw_ctl__parse(line, len, &r, err, sizeof(err))) {
		reply(d, c, "err %s", err);
		return;
	}
	switch (r.verb) {
	case SW_CTL_SUMMARY:
		sw_pipeline__stats(d->pl, &st);
		sw_proctab__each_session(sw_pipeline__proctab(d->pl), count_live, &live);
		reply(d, c,
		      "ok pid=%d uptime_s=%lld secrets=%zu sessions=%zu processes=%zu records=%llu "
		      "alerts=%llu ringbuf_full=%llu truncated=%llu",
		      getpid(), (long long)(time(NULL) - d->started),
		      sw_pipeline__secrets(d->pl)->n, live,
		      sw_proctab__count(sw_pipeline__proctab(d->pl)),
		      (unsigned long long)st.records, (unsigned long long)st.alerts,
		      (unsigned long long)d->loss_seen.ringbuf_full,
		      (unsigned long long)d->loss_seen.truncated);
		break;
	case SW_CTL_STATUS:
		do_status(d, c);
		break;
	case SW_CTL_SESSION:
		/* The caller's own pid becomes a session root before it execs the agent. */
		do_session(d, c, (uint32_t)c->pid, r.agent);
		break;
	case SW_CTL_WATCH:
		if (c->uid != 0) {
			reply(d, c, "err watching another process needs root");
			break;
		}
		if (kill(r.pid, 0)) {
			reply(d, c, "err no such process: %d", r.pid);
			break;
		}
		do_session(d, c, (uint32_t)r.pid, "watched");
		break;
	case SW_CTL_RELOAD:
		if (c->uid != 0) {
			reply(d, c, "err reloading needs root");
			break;
		}
		e = reload_secrets(d, 1);
		if (e < 0)
			reply(d, c, "err reloading the secret set: %s", strerror(-e));
		else if (e > 0) /* built off the loop: in force at index generation e */
			reply(d, c, "ok pending %d", e);
		else
			reply(d, c, "ok %zu", sw_pipeline__secrets(d->pl)->n);
		break;
	case SW_CTL_INDEX:
		reply(d, c, "ok %llu %llu", (unsigned long long)sw_pipeline__index_gen(d->pl),
		      (unsigned long long)daemon_index__pending(d));
		break;
	case SW_CTL_FOLLOW:
		/* Root follows every alert; another user those of their own processes. */
		c->follow = 1;
		reply(d, c, "ok");
		break;
	}
}

void control__accept(struct daemon *d)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, i, free_slot, used = 0, same = 0, n;

	/* Several per wakeup: the listening socket is level-triggered and non-blocking. */
	for (n = 0; n < 16; n++) {
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
			close(fd);
			continue;
		}
		free_slot = -1;
		used = same = 0;
		for (i = 0; i < CLIENTS_MAX; i++) {
			if (d->clients[i].fd <= 0) {
				if (free_slot < 0)
					free_slot = i;
				continue;
			}
			used++;
			if (d->clients[i].uid == cred.uid)
				same++;
		}
		if (free_slot < 0 || (cred.uid != 0 && (same >= CTL_PER_UID ||
							used >= CLIENTS_MAX - CTL_ROOT_RESERVED))) {
			/* Said once, without waiting: a full socket buffer just loses it. */
			send(fd, "err too many connections\n", 25, MSG_NOSIGNAL | MSG_DONTWAIT);
			d->ctl_refused++;
			close(fd);
			continue;
		}
		d->clients[free_slot] = (struct client){.fd = fd,
							.uid = cred.uid,
							.pid = cred.pid,
							.events = ev.events,
							.line_ms = mono_ms()};
		d->clients[free_slot].active_ms = d->clients[free_slot].line_ms;
		ev.data.u64 = 100 + (uint64_t)free_slot;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			d->clients[free_slot].fd = 0;
		}
	}
}

/* Serves the requests buffered so far, one at a time: the next is taken once the answer to
 * the last has gone, so a client that never reads gets one answer and nothing more. */
static void serve(struct daemon *d, struct client *c)
{
	char line[SW_CTL_LINE_MAX];
	int n;

	while (c->fd > 0 && !c->follow && !c->olen) {
		n = sw_ctl__next_line(c->in, &c->inlen, line, sizeof(line));
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			reply(d, c, "err request longer than %d bytes", SW_CTL_LINE_MAX - 1);
			if (c->fd > 0 && !flush(d, c))
				drop(d, c);
			return;
		}
		c->active_ms = mono_ms();
		c->line_ms = c->inlen ? c->active_ms : 0;
		handle_request(d, c, line, (size_t)n);
		if (c->fd > 0)
			flush(d, c);
	}
	/* It hung up after asking: closed once its answers went. */
	if (c->fd > 0 && c->eof && !c->olen)
		drop(d, c);
}

static void readable(struct daemon *d, struct client *c)
{
	ssize_t r;

	if (c->eof || c->inlen == sizeof(c->in))
		return;
	r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r == 0 && (c->olen || c->inlen) && !c->follow) {
		c->eof = 1;
		rearm(d, c);
		serve(d, c);
		return;
	}
	if (r <= 0) {
		drop(d, c);
		return;
	}
	if (c->follow) /* a stream takes no more requests: what it sends is discarded */
		return;
	if (!c->inlen)
		c->line_ms = mono_ms();
	c->inlen += (size_t)r;
	serve(d, c);
}

void control__event(struct daemon *d, struct client *c, uint32_t events)
{
	if (events & EPOLLOUT) {
		if (flush(d, c))
			return;
		serve(d, c);
	}
	if (c->fd > 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		readable(d, c);
}

void control__tick(struct daemon *d)
{
	uint64_t now = mono_ms();
	int i;

	for (i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &d->clients[i];

		if (c->fd <= 0)
			continue;
		/* A line dripped byte by byte, output nobody takes, a connection kept for
		 * nothing: each is closed at its deadline. */
		if ((c->line_ms && !c->follow && now - c->line_ms > CTL_LINE_MS) ||
		    (c->olen && now - c->active_ms > CTL_SEND_MS) ||
		    (!c->olen && !c->follow && !c->inlen && now - c->active_ms > CTL_IDLE_MS)) {
			drop(d, c);
			d->ctl_dropped++;
		}
	}
}

void control__close_all(struct daemon *d)
{
	int i;

	for (i = 0; i < CLIENTS_MAX; i++)
		if (d->clients[i].fd > 0)
			drop(d, &d->clients[i]);
}
