// SPDX-License-Identifier: Apache-2.0
/* See proctab.h. Chained hash tables; both are bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctab.h"

#define PROC_BUCKETS	16384
#define SESSION_BUCKETS 1024

struct sw_proctab {
	size_t nprocs, nsessions;
	struct sw_proc *procs[PROC_BUCKETS];
	struct sw_session *sessions[SESSION_BUCKETS];
	struct {
		uint32_t tgid;
		int agent;
		char *exe;
	} recent[SW_PROCTAB_RECENT];
	size_t recent_next;
};

struct sw_proctab *sw_proctab__new(void)
{
	return calloc(1, sizeof(struct sw_proctab));
}

static void proc_free(struct sw_proc *p)
{
	free(p->cgroup);
	free(p->exe);
	free(p->args);
	free(p);
}

static void session_free(struct sw_session *s)
{
	free(s->home);
	free(s->root_exe);
	free(s);
}

void sw_proctab__free(struct sw_proctab *pt)
{
	struct sw_proc *p, *pn;
	struct sw_session *s, *sn;
	size_t i;

	if (!pt)
		return;
	for (i = 0; i < PROC_BUCKETS; i++)
		for (p = pt->procs[i]; p; p = pn) {
			pn = p->next;
			proc_free(p);
		}
	for (i = 0; i < SESSION_BUCKETS; i++)
		for (s = pt->sessions[i]; s; s = sn) {
			sn = s->next;
			session_free(s);
		}
	for (i = 0; i < SW_PROCTAB_RECENT; i++)
		free(pt->recent[i].exe);
	free(pt);
}

static struct sw_session **session_slot(const struct sw_proctab *pt, uint64_t id)
{
	struct sw_session *const *pp = &pt->sessions[(id ^ (id >> 32)) % SESSION_BUCKETS];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return (struct sw_session **)pp;
}

/* Drops the oldest ended session to keep the table bounded. */
static void evict_ended_session(struct sw_proctab *pt)
{
	struct sw_session **pp, **oldest = NULL;
	size_t i;

	for (i = 0; i < SESSION_BUCKETS; i++)
		for (pp = &pt->sessions[i]; *pp; pp = &(*pp)->next)
			if ((*pp)->ended && (!oldest || (*pp)->started_us < (*oldest)->started_us))
				oldest = pp;
	if (oldest) {
		struct sw_session *s = *oldest;
		*oldest = s->next;
		session_free(s);
		pt->nsessions--;
	}
}

struct sw_session *sw_proctab__session(struct sw_proctab *pt, uint64_t id, uint32_t root_pid)
{
	struct sw_session **pp = session_slot(pt, id), *s;

	if (*pp)
		return *pp;
	if (pt->nsessions >= SW_SESSIONS_MAX)
		evict_ended_session(pt);
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	s->root_pid = root_pid;
	/* Named by the root's exec, or by what /proc said of it (a proc record). */
	s->root_exe = strdup("");
	if (!s->root_exe) {
		free(s);
		return NULL;
	}
	pp = session_slot(pt, id);
	*pp = s;
	pt->nsessions++;
	return s;
}

const struct sw_session *sw_proctab__find_session(const struct sw_proctab *pt, uint64_t id)
{
	return *session_slot(pt, id);
}

int sw_proctab__set_agent(struct sw_proctab *pt, uint64_t id, const char *agent)
{
	struct sw_session *s = *session_slot(pt, id);

	if (!s)
		return -ENOENT;
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	return 0;
}

int sw_proctab__set_home(struct sw_proctab *pt, uint64_t id, const char *home, size_t len)
{
	struct sw_session *s = *session_slot(pt, id);
	char *h;

	if (!s)
		return -ENOENT;
	/* Only an absolute path can be a home a file path is compared with. */
	if (!len || home[0] != '/')
		return -EINVAL;
	h = strndup(home, len);
	if (!h)
		return -ENOMEM;
	/* "/home/u/" and "/home/u" are the same home. */
	while (strlen(h) > 1 && h[strlen(h) - 1] == '/')
		h[strlen(h) - 1] = 0;
	free(s->home);
	s->home = h;
	return 0;
}

const char *sw_proctab__home(const struct sw_proctab *pt, uint64_t id)
{
	const struct sw_session *s = sw_proctab__find_session(pt, id);

	/* HOME from the root's exec; without one (a watched process, a cut environment) the
	 * rules fall back to any /root/ or /home/NAME/. */
	return s ? s->home : NULL;
}

static struct sw_proc **proc_slot(const struct sw_proctab *pt, uint32_t tgid)
{
	struct sw_proc *const *pp = &pt->procs[tgid % PROC_BUCKETS];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->next;
	return (struct sw_proc **)pp;
}

const struct sw_proc *sw_proctab__find(const struct sw_proctab *pt, uint32_t tgid)
{
	return *proc_slot(pt, tgid);
}

static void attach_session(struct sw_proctab *pt, struct sw_proc *p, uint64_t session)
{
	struct sw_session *s;

	p->session_id = session;
	if (!session)
		return;
	s = sw_proctab__session(pt, session, p->tgid);
	if (s) {
		s->nprocs++;
		s->ended = 0;
		/* The root's exe is what it runs now: sprawlctl run execs the agent. */
		if (s->root_pid == p->tgid && p->exe[0] && strcmp(s->root_exe, p->exe)) {
			char *e = strdup(p->exe);
			if (e) {
				free(s->root_exe);
				s->root_exe = e;
			}
		}
	}
}

static void detach_session(struct sw_proctab *pt, struct sw_proc *p)
{
	struct sw_session *s = p->session_id ? *session_slot(pt, p->session_id) : NULL;

	if (s && s->nprocs && --s->nprocs == 0)
		s->ended = 1;
}

static struct sw_proc *proc_new(struct sw_proctab *pt, uint32_t tgid)
{
	struct sw_proc *p, **pp;

	if (pt->nprocs >= SW_PROCTAB_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	pp = proc_slot(pt, tgid);
	p->next = NULL;
	*pp = p;
	pt->nprocs++;
	return p;
}

int sw_proctab__fork(struct sw_proctab *pt, uint32_t parent, uint32_t child, uint64_t session,
		     uint32_t uid, const char *comm)
{
	const struct sw_proc *pp = sw_proctab__find(pt, parent);
	struct sw_proc *c;

	sw_proctab__exit(pt, child); /* a stale entry of a reused pid */
	c = proc_new(pt, child);
	if (!c)
		return -errno;
	c->ppid = parent;
	c->uid = uid;
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	c->exe = strdup(pp && pp->exe ? pp->exe : "");
	/* A child starts in its parent's cgroup. */
	c->cgroup = strdup(pp && pp->cgroup ? pp->cgroup : "");
	c->args = malloc(pp && pp->args_len ? pp->args_len : 1);
	if (!c->exe || !c->args || !c->cgroup) {
		sw_proctab__exit(pt, child);
		return -ENOMEM;
	}
	if (pp && pp->args_len) {
		memcpy(c->args, pp->args, pp->args_len);
		c->args_len = pp->args_len;
	}
	/* fork keeps the image: a child the agent forks without exec runs the agent's code. */
	c->agent = pp && pp->agent;
	attach_session(pt, c, session);
	return 0;
}

int sw_proctab__exec(struct sw_proctab *pt, uint32_t tgid, uint32_t ppid, uint32_t uid,
		     uint64_t session, const char *comm, const char *exe, size_t exe_len,
		     const char *args, size_t args_len)
{
	struct sw_proc *p = *proc_slot(pt, tgid);
	char *e, *a;

	e = strndup(exe, exe_len);
	a = malloc(args_len ? args_len : 1);
	if (!e || !a) {
		free(e);
		free(a);
		return -ENOMEM;
	}
	memcpy(a, args, args_len);
	if (!p) {
		p = proc_new(pt, tgid);
		if (!p) {
			free(e);
			free(a);
			return -errno;
		}
	} else {
		detach_session(pt, p);
		free(p->exe);
		free(p->args);
	}
	p->exe = e;
	p->args = a;
	p->args_len = args_len;
	p->agent = 0; /* a new image: an agent only if its own exec matches */
	p->ppid = ppid;
	p->uid = uid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	attach_session(pt, p, session);
	return 0;
}

void sw_proctab__exit(struct sw_proctab *pt, uint32_t tgid)
{
	struct sw_proc **pp = proc_slot(pt, tgid), *p = *pp;

	if (!p)
		return;
	*pp = p->next;
	detach_session(pt, p);
	free(pt->recent[pt->recent_next].exe);
	pt->recent[pt->recent_next].tgid = p->tgid;
	pt->recent[pt->recent_next].agent = p->agent;
	pt->recent[pt->recent_next].exe = p->exe; /* moved, not copied */
	p->exe = NULL;
	pt->recent_next = (pt->recent_next + 1) % SW_PROCTAB_RECENT;
	proc_free(p);
	pt->nprocs--;
}

const char *sw_proctab__exe(const struct sw_proctab *pt, uint32_t tgid)
{
	const struct sw_proc *p = sw_proctab__find(pt, tgid);
	size_t i, j;

	if (p)
		return p->exe;
	/* Newest first: a reused pid's latest life wins. */
	for (i = 0; i < SW_PROCTAB_RECENT; i++) {
		j = (pt->recent_next + SW_PROCTAB_RECENT - 1 - i) % SW_PROCTAB_RECENT;
		if (pt->recent[j].exe && pt->recent[j].tgid == tgid)
			return pt->recent[j].exe;
	}
	return NULL;
}

int sw_proctab__mark_agent(struct sw_proctab *pt, uint32_t tgid)
{
	struct sw_proc *p = *proc_slot(pt, tgid);

	if (!p)
		return -ENOENT;
	p->agent = 1;
	return 0;
}

int sw_proctab__is_agent(const struct sw_proctab *pt, uint32_t tgid)
{
	const struct sw_proc *p = sw_proctab__find(pt, tgid);
	size_t i, j;

	if (p)
		return p->agent;
	for (i = 0; i < SW_PROCTAB_RECENT; i++) {
		j = (pt->recent_next + SW_PROCTAB_RECENT - 1 - i) % SW_PROCTAB_RECENT;
		if (pt->recent[j].exe && pt->recent[j].tgid == tgid)
			return pt->recent[j].agent;
	}
	return 0;
}

const struct sw_proc *sw_proctab__get(struct sw_proctab *pt, uint32_t tgid, uint32_t ppid,
				      uint32_t uid, uint64_t session, const char *comm)
{
	struct sw_proc *p = *proc_slot(pt, tgid);

	if (p)
		return p;
	/* A process in the scope whose exec we never saw and of which no proc record told:
	 * known by its record header only. */
	p = proc_new(pt, tgid);
	if (!p)
		return NULL;
	p->ppid = ppid;
	p->uid = uid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->exe = strdup("");
	p->cgroup = strdup("");
	p->args = malloc(1);
	if (!p->exe || !p->args || !p->cgroup) {
		sw_proctab__exit(pt, tgid);
		return NULL;
	}
	attach_session(pt, p, session);
	return p;
}

void sw_proctab__each_session(const struct sw_proctab *pt,
			      void (*fn)(const struct sw_session *s, void *ctx), void *ctx)
{
	const struct sw_session *s;
	size_t i;

	for (i = 0; i < SESSION_BUCKETS; i++)
		for (s = pt->sessions[i]; s; s = s->next)
			fn(s, ctx);
}

void sw_proctab__each_proc(const struct sw_proctab *pt,
			   void (*fn)(const struct sw_proc *p, void *ctx), void *ctx)
{
	const struct sw_proc *p;
	size_t i;

	for (i = 0; i < PROC_BUCKETS; i++)
		for (p = pt->procs[i]; p; p = p->next)
			fn(p, ctx);
}

size_t sw_proctab__count(const struct sw_proctab *pt)
{
	return pt->nprocs;
}

int sw_proctab__set_cgroup(struct sw_proctab *pt, uint32_t tgid, const char *cg, size_t len)
{
	struct sw_proc *p = *proc_slot(pt, tgid);
	char *c;

	if (!p)
		return -ENOENT;
	c = strndup(cg, len);
	if (!c)
		return -ENOMEM;
	free(p->cgroup);
	p->cgroup = c;
	return 0;
}

size_t sw_proctab__agents(const struct sw_proctab *pt, uint64_t session, uint32_t *out, size_t max)
{
	const struct sw_session *s = sw_proctab__find_session(pt, session);
	const struct sw_proc *p;
	size_t i, n = 0;

	if (s && n < max)
		out[n++] = s->root_pid;
	for (i = 0; i < PROC_BUCKETS && n < max; i++)
		for (p = pt->procs[i]; p && n < max; p = p->next)
			if (p->agent && p->session_id == session && (!s || p->tgid != s->root_pid))
				out[n++] = p->tgid;
	return n;
}
