// SPDX-License-Identifier: Apache-2.0
/* See metrics.h. */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

#define TAG_LISTEN UINT64_MAX

struct client {
	int fd;
	uint64_t deadline_ms;
	char req[SW_METRICS_REQUEST_MAX];
	size_t rlen;
	char *out; /* the whole answer, head and body */
	size_t olen, ooff;
	int draining; /* answered: reading what is left until the peer closes */
};

struct sw_metrics {
	int epfd, lfd, port;
	sw_metrics_render_fn render;
	void *ctx;
	struct client c[SW_METRICS_CLIENTS_MAX];
	struct sw_metrics_stats st;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "HOST:PORT", "[V6]:PORT" → host and port strings. */
static int split(const char *hp, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon;
	size_t hl;

	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = end - hp - 1;
		hp++;
		colon = end + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return -EINVAL;
		hl = colon - hp;
	}
	if (!hl || hl >= hsize || !colon[1] || strlen(colon + 1) >= psize ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	memcpy(host, hp, hl);
	host[hl] = 0;
	strcpy(port, colon + 1);
	return 0;
}

struct sw_metrics *sw_metrics__new(const char *hostport, sw_metrics_render_fn render, void *ctx)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8];
	struct sw_metrics *m;
	int one = 1, e;

	if (!hostport || !render || split(hostport, host, sizeof(host), port, sizeof(port))) {
		errno = EINVAL;
		return NULL;
	}
	/* The address is the operator's; resolving it once at start may block briefly, which is
	 * before the loop runs (and on SIGHUP, a deliberate act). */
	if (getaddrinfo(host, port, &hints, &ai) || !ai) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return NULL;
	}
	m->render = render;
	m->ctx = ctx;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->epfd < 0 || m->lfd < 0 ||
	    setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->lfd, ai->ai_addr, ai->ai_addrlen) || listen(m->lfd, 16) ||
	    getsockname(m->lfd, (struct sockaddr *)&ss, &sl) ||
	    epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->lfd, &ev)) {
		e = errno;
		freeaddrinfo(ai);
		if (m->lfd >= 0)
			close(m->lfd);
		if (m->epfd >= 0)
			close(m->epfd);
		free(m);
		errno = e;
		return NULL;
	}
	freeaddrinfo(ai);
	m->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return m;
}

static void drop(struct sw_metrics *m, struct client *c)
{
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

void sw_metrics__free(struct sw_metrics *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < SW_METRICS_CLIENTS_MAX; i++)
		if (m->c[i].fd > 0)
			drop(m, &m->c[i]);
	close(m->lfd);
	close(m->epfd);
	free(m);
}

int sw_metrics__fd(const struct sw_metrics *m)
{
	return m->epfd;
}

int sw_metrics__port(const struct sw_metrics *m)
{
	return m->port;
}

void sw_metrics__stats(const struct sw_metrics *m, struct sw_metrics_stats *out)
{
	*out = m->st;
}

static void accept_all(struct sw_metrics *m, uint64_t now)
{
	int fd, i, k;

	/* Bounded: at most as many as there are slots, and a few to refuse, per call. */
	for (k = 0; k < SW_METRICS_CLIENTS_MAX + 4; k++) {
		struct epoll_event ev = {.events = EPOLLIN};

		fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < SW_METRICS_CLIENTS_MAX && m->c[i].fd > 0; i++)
			;
		if (i == SW_METRICS_CLIENTS_MAX) {
			/* Full: the client that has waited longest makes room, so that idle
			 * connections cannot keep a scraper out. */
			int old = 0, j;

			for (j = 1; j < SW_METRICS_CLIENTS_MAX; j++)
				if (m->c[j].deadline_ms < m->c[old].deadline_ms)
					old = j;
			m->st.dropped++;
			drop(m, &m->c[old]);
			i = old;
		}
		ev.data.u64 = i;
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			continue;
		}
		m->c[i].fd = fd;
		m->c[i].deadline_ms = now + SW_METRICS_DEADLINE_MS;
	}
}

static void answer(struct sw_metrics *m, struct client *c, int code, const char *reason,
		   const char *body, size_t blen)
{
	char head[256];
	int h = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, reason,
			 code == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
			 blen);
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = c - m->c};

	c->out = malloc(h + blen);
	if (!c->out) {
		drop(m, c);
		return;
	}
	memcpy(c->out, head, h);
	memcpy(c->out + h, body, blen);
	c->olen = h + blen;
	c->ooff = 0;
	epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A whole request is in: answer it. */
static void handle(struct sw_metrics *m, struct client *c)
{
	char *body = NULL, *path;
	size_t blen = 0;
	FILE *f;

	if (strncmp(c->req, "GET ", 4) && strncmp(c->req, "HEAD ", 5)) {
		m->st.bad_requests++;
		answer(m, c, 405, "Method Not Allowed", "GET /metrics\n", 13);
		return;
	}
	path = strchr(c->req, ' ') + 1;
	if (strncmp(path, "/metrics", 8) || (path[8] != ' ' && path[8] != '?')) {
		m->st.bad_requests++;
		answer(m, c, 404, "Not Found", "try /metrics\n", 13);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f) {
		drop(m, c);
		return;
	}
	m->render(f, m->ctx);
	if (fclose(f) || blen > SW_METRICS_BODY_MAX) {
		free(body);
		answer(m, c, 500, "Internal Server Error", "render failed\n", 14);
		return;
	}
	m->st.scrapes++;
	if (!strncmp(c->req, "HEAD ", 5))
		blen = 0;
	answer(m, c, 200, "OK", body, blen);
	free(body);
}

static void readable(struct sw_metrics *m, struct client *c)
{
	char scratch[4096];
	ssize_t n;
	int k;

	if (c->draining) {
		/* Unread input at close would reset the connection before the peer reads the
		 * answer; a bounded drain until it closes (or the deadline). */
		for (k = 0; k < 16; k++) {
			n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0) {
				drop(m, c);
				return;
			}
		}
		return;
	}
	if (c->out) { /* writing: nothing more is read */
		n = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			drop(m, c);
			return;
		}
		c->ooff += n;
		if (c->ooff == c->olen) { /* Connection: close, once the peer has it all */
			struct epoll_event ev = {.events = EPOLLIN, .data.u64 = c - m->c};

			shutdown(c->fd, SHUT_WR);
			c->draining = 1;
			epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
		return;
	}
	n = recv(c->fd, c->req + c->rlen, sizeof(c->req) - 1 - c->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		drop(m, c);
		return;
	}
	c->rlen += n;
	c->req[c->rlen] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
		handle(m, c);
		if (c->fd > 0 && c->out)
			readable(m, c); /* most answers fit the socket buffer at once */
		return;
	}
	if (c->rlen == sizeof(c->req) - 1) {
		m->st.bad_requests++;
		answer(m, c, 431, "Request Header Fields Too Large", "", 0);
	}
}

void sw_metrics__serve(struct sw_metrics *m, uint64_t now_ms)
{
	struct epoll_event evs[SW_METRICS_CLIENTS_MAX + 1];
	int n, i;

	if (!now_ms)
		now_ms = mono_ms();
	n = epoll_wait(m->epfd, evs, SW_METRICS_CLIENTS_MAX + 1, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 == TAG_LISTEN)
			accept_all(m, now_ms);
		else if (evs[i].data.u64 < SW_METRICS_CLIENTS_MAX && m->c[evs[i].data.u64].fd > 0)
			readable(m, &m->c[evs[i].data.u64]);
	}
	for (i = 0; i < SW_METRICS_CLIENTS_MAX; i++)
		if (m->c[i].fd > 0 && now_ms > m->c[i].deadline_ms) {
			if (!m->c[i].draining)
				m->st.dropped++;
			drop(m, &m->c[i]);
		}
}

void sw_metrics__family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void sw_metrics__sample(FILE *f, const char *name, double value, ...)
{
	const char *k, *v;
	va_list ap;
	int first = 1;

	fputs(name, f);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *))) {
		fprintf(f, "%s%s=\"", first ? "{" : ",", k);
		label_value(f, v);
		fputc('"', f);
		first = 0;
	}
	va_end(ap);
	if (!first)
		fputc('}', f);
	if (value > -1e15 && value < 1e15 && value == (double)(long long)value)
		fprintf(f, " %.0f\n", value);
	else
		fprintf(f, " %.9g\n", value);
}
