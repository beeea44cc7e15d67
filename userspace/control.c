// SPDX-License-Identifier: Apache-2.0
/* The daemon's control socket: status, sessions (sprawlctl run), watch, reload, and the alert
 * stream behind `sprawlctl alerts --follow`. Requests that change what is watched check the
 * peer's credentials (SO_PEERCRED). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "json.h"

static void json_str(FILE *f, const char *s)
{
	sw_json__str(f, s, strlen(s));
}

void control__deliver(const char *json, size_t len, void *ctx)
{
	struct daemon *d = ctx;
	int i;

	for (i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &d->clients[i];

		if (c->fd <= 0 || !c->follow)
			continue;
		/* A follower that cannot keep up is dropped rather than stalling detection. */
		if (send(c->fd, json, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len ||
		    send(c->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = 0;
		}
	}
}

struct status_ctx {
	FILE *b;
	const struct sw_proctab *pt;
	const struct sw_session *s;
	int first, pfirst;
};

static void status_proc(const struct sw_proc *p, void *ctx)
{
	struct status_ctx *c = ctx;

	if (p->session_id != c->s->id)
		return;
	fprintf(c->b, "%s{\"pid\":%u,\"ppid\":%u,\"comm\":", c->pfirst ? "" : ",", p->tgid,
		p->ppid);
	json_str(c->b, p->comm);
	fprintf(c->b, ",\"exe\":");
	json_str(c->b, p->exe);
	fprintf(c->b, "}");
	c->pfirst = 0;
}

static void status_session(const struct sw_session *s, void *ctx)
{
	struct status_ctx *c = ctx;

	fprintf(c->b, "%s{\"id\":%llu,\"agent\":", c->first ? "" : ",", (unsigned long long)s->id);
	json_str(c->b, s->agent);
	fprintf(c->b, ",\"root_pid\":%u,\"root_exe\":", s->root_pid);
	json_str(c->b, s->root_exe);
	fprintf(c->b, ",\"live\":%s,\"processes\":[", s->ended ? "false" : "true");
	c->s = s;
	c->pfirst = 1;
	sw_proctab__each_proc(c->pt, status_proc, c);
	fprintf(c->b, "]}");
	c->first = 0;
}

struct places_ctx {
	FILE *b;
	const struct sw_secretset *set;
	int first;
};

static void status_place(const uint8_t sid[SW_SECRET_ID_BYTES], const char *key,
			 const struct sw_registry_entry *e, void *ctx)
{
	struct places_ctx *c = ctx;
	const struct sw_secret *s = sw_secretset__find_id(c->set, sid);
	char id[2 * SW_SECRET_ID_BYTES + 1];
	int i;

	for (i = 0; i < SW_SECRET_ID_BYTES; i++)
		snprintf(id + 2 * i, 3, "%02x", sid[i]);
	fprintf(c->b, "%s{\"secret\":{\"id\":\"%s\",\"name\":", c->first ? "" : ",", id);
	json_str(c->b, s ? s->name : "");
	fprintf(c->b, "},\"place\":");
	json_str(c->b, key);
	fprintf(c->b, ",\"count\":%llu,\"first_seen_us\":%lld,\"last_seen_us\":%lld}",
		(unsigned long long)e->count, (long long)e->first_seen, (long long)e->last_seen);
	c->first = 0;
}

static void status_json(struct daemon *d, FILE *b)
{
	struct places_ctx pc = {.b = b, .set = sw_pipeline__secrets(d->pl), .first = 1};

	struct sw_pipeline_stats st;
	struct status_ctx c = {.b = b, .pt = sw_pipeline__proctab(d->pl), .first = 1};

	sw_pipeline__stats(d->pl, &st);
	fprintf(b,
		"{\"pid\":%d,\"uptime_s\":%lld,\"secrets\":%zu,\"registry\":%zu,"
		"\"records\":%llu,\"bad_records\":%llu,\"data_bytes\":%llu,\"matches\":%llu,"
		"\"alerts\":%llu,\"streams\":%llu,\"processes\":%zu,\"index_gen\":%llu,"
		"\"loop_stall_max_us\":%llu,",
		getpid(), (long long)(time(NULL) - d->started), sw_pipeline__secrets(d->pl)->n,
		sw_registry__size(d->reg), (unsigned long long)st.records,
		(unsigned long long)st.bad_records, (unsigned long long)st.data_bytes,
		(unsigned long long)st.matches, (unsigned long long)st.alerts,
		(unsigned long long)st.streams, sw_proctab__count(c.pt),
		(unsigned long long)sw_pipeline__index_gen(d->pl),
		(unsigned long long)d->stall_max_us);
	fprintf(b,
		"\"loss\":{\"ringbuf_full\":%llu,\"truncated\":%llu,\"read_errors\":%llu,"
		"\"path_truncated\":%llu,\"scope_full\":%llu,\"spilled\":%llu,"
		"\"spills_read\":%llu,\"spill_bytes\":%llu,\"spills_failed\":%llu},"
		"\"sessions\":[",
		(unsigned long long)d->loss_seen.ringbuf_full,
		(unsigned long long)d->loss_seen.truncated,
		(unsigned long long)d->loss_seen.read_errors,
		(unsigned long long)d->loss_seen.path_truncated,
		(unsigned long long)d->loss_seen.scope_full,
		(unsigned long long)d->loss_seen.spilled, (unsigned long long)d->spills_read,
		(unsigned long long)d->spill_bytes, (unsigned long long)d->spills_failed);
	sw_proctab__each_session(c.pt, status_session, &c);
	/* The places each secret was seen, most recent first, with how often: repeat
	 * sightings do not alert, they count here. */
	fprintf(b,
		"],\"suppressed\":%llu,\"exec_args_truncated\":%llu,\"exec_env_truncated\":%llu,",
		(unsigned long long)st.suppressed, (unsigned long long)st.exec_args_truncated,
		(unsigned long long)st.exec_env_truncated);
	if (d->trace) {
		struct sw_tracelog_stats ts;

		sw_tracelog_writer__stats(d->trace, &ts);
		fprintf(b,
			"\"trace\":{\"events\":%llu,\"blocks\":%llu,\"bytes_raw\":%llu,"
			"\"bytes_compressed\":%llu,\"events_dropped\":%llu,\"errors\":%llu},",
			(unsigned long long)ts.events, (unsigned long long)ts.blocks,
			(unsigned long long)ts.bytes_raw, (unsigned long long)ts.bytes_compressed,
			(unsigned long long)ts.events_dropped, (unsigned long long)d->trace_errors);
	}
	fprintf(b, "\"places\":[");
	sw_registry__recent(d->reg, 200, status_place, &pc);
	fprintf(b, "]}");
}

/* --- control requests --- */

static void reply(struct client *c, const char *fmt, ...)
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
	send(c->fd, line, n, MSG_NOSIGNAL);
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

static void handle_request(struct daemon *d, struct client *c, char *line)
{
	char *arg = strchr(line, ' ');
	struct sw_scope sc;
	uint64_t id;
	long pid;
	int e;

	if (arg)
		*arg++ = 0;
	if (!strcmp(line, "summary")) {
		struct sw_pipeline_stats st;
		size_t live = 0;

		sw_pipeline__stats(d->pl, &st);
		sw_proctab__each_session(sw_pipeline__proctab(d->pl), count_live, &live);
		reply(c,
		      "ok pid=%d uptime_s=%lld secrets=%zu sessions=%zu processes=%zu records=%llu "
		      "alerts=%llu ringbuf_full=%llu truncated=%llu",
		      getpid(), (long long)(time(NULL) - d->started),
		      sw_pipeline__secrets(d->pl)->n, live,
		      sw_proctab__count(sw_pipeline__proctab(d->pl)),
		      (unsigned long long)st.records, (unsigned long long)st.alerts,
		      (unsigned long long)d->loss_seen.ringbuf_full,
		      (unsigned long long)d->loss_seen.truncated);
	} else if (!strcmp(line, "status")) {
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		if (!f) {
			reply(c, "err out of memory");
			return;
		}
		status_json(d, f);
		/* Bounded by what sprawlctl reads: beyond it, an error rather than cut JSON. */
		if (fclose(f) || len + 4 > SW_CTL_STATUS_MAX) {
			reply(c, "err the status is larger than %d bytes", SW_CTL_STATUS_MAX);
		} else {
			send(c->fd, "ok ", 3, MSG_NOSIGNAL);
			send(c->fd, out, len, MSG_NOSIGNAL);
			send(c->fd, "\n", 1, MSG_NOSIGNAL);
		}
		free(out);
	} else if (!strcmp(line, "session")) {
		/* The caller's own pid becomes a session root before it execs the agent. */
		if (sw_kernel__scope_get(d->k, c->pid, &sc) == 1) {
			reply(c, "ok %llu", (unsigned long long)sc.session_id);
			return;
		}
		id = new_session_id(d);
		e = sw_kernel__scope_add(d->k, c->pid, id, c->pid);
		if (e) {
			reply(c, "err cannot add pid %d to the scope: %s", c->pid, strerror(-e));
			return;
		}
		daemon_session(d, id, c->pid, arg && *arg ? arg : "");
		reply(c, "ok %llu", (unsigned long long)id);
	} else if (!strcmp(line, "watch")) {
		if (c->uid != 0) {
			reply(c, "err watching another process needs root");
			return;
		}
		pid = arg ? strtol(arg, NULL, 10) : 0;
		if (pid <= 0 || kill(pid, 0)) {
			reply(c, "err no such process: %s", arg ? arg : "");
			return;
		}
		if (sw_kernel__scope_get(d->k, pid, &sc) == 1) {
			reply(c, "ok %llu", (unsigned long long)sc.session_id);
			return;
		}
		id = new_session_id(d);
		e = sw_kernel__scope_add(d->k, pid, id, pid);
		if (e) {
			reply(c, "err cannot add pid %ld to the scope: %s", pid, strerror(-e));
			return;
		}
		daemon_session(d, id, pid, "watched");
		reply(c, "ok %llu", (unsigned long long)id);
	} else if (!strcmp(line, "reload")) {
		if (c->uid != 0) {
			reply(c, "err reloading needs root");
			return;
		}
		e = reload_secrets(d, 1);
		if (e < 0)
			reply(c, "err reloading the secret set: %s", strerror(-e));
		else if (e > 0) /* built off the loop: in force at index generation e */
			reply(c, "ok pending %d", e);
		else
			reply(c, "ok %zu", sw_pipeline__secrets(d->pl)->n);
	} else if (!strcmp(line, "index")) {
		/* The secret index generation in force, and the newest asked for. */
		reply(c, "ok %llu %llu", (unsigned long long)sw_pipeline__index_gen(d->pl),
		      (unsigned long long)daemon_index__pending(d));
	} else if (!strcmp(line, "follow")) {
		if (c->uid != 0) {
			reply(c, "err following alerts needs root");
			return;
		}
		c->follow = 1;
		reply(c, "ok");
	} else {
		reply(c,
		      "err unknown request '%s' (expected status, summary, session, watch, reload, "
		      "index, follow)",
		      line);
	}
}

void control__accept(struct daemon *d)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, i;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CLIENTS_MAX && d->clients[i].fd > 0; i++)
		;
	if (i == CLIENTS_MAX || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(fd);
		return;
	}
	d->clients[i] = (struct client){.fd = fd, .uid = cred.uid, .pid = cred.pid};
	ev.data.u64 = 100 + i;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		d->clients[i].fd = 0;
	}
}

void control__readable(struct daemon *d, struct client *c)
{
	char line[SW_CTL_LINE_MAX];
	int n;

	/* Requests are single short lines; a client that sends nothing useful within 1 s is
	 * dropped so it cannot wedge the loop. */
	n = sw_ctl__read_line(c->fd, line, sizeof(line), 1000);
	if (n <= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = 0;
		return;
	}
	handle_request(d, c, line);
}

/* --- lifecycle --- */

void control__close_all(struct daemon *d)
{
	int i;

	for (i = 0; i < CLIENTS_MAX; i++)
		if (d->clients[i].fd > 0)
			close(d->clients[i].fd);
}
