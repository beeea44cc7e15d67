// SPDX-License-Identifier: Apache-2.0
/* See pipeline.h. The dispatcher: per record, validate and hand it to its handler
 * (pipeline_scan.c, pipeline_places.c); keep time; collect the record's outputs. Streams,
 * naming, alert building, learning, redaction, delivery and policy are modules of their own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"

static const char *const gap_names[GAP__COUNT] = {
	"matches_dropped",   "readback_failed",	      "readback_truncated",   "copy_unread",
	"learn_dropped",     "alerts_dropped",	      "chunks_lost",	      "guard_failed",
	"inflate_max_bytes", "inflate_ratio",	      "inflate_error",	      "delta_unresolved",
	"inflate_streams",   "exec_args_past_256KiB", "exec_env_past_256KiB",
};
_Static_assert(SW_ARGS_LEN == 256u << 10 && SW_ENV_LEN == 256u << 10,
	       "the gap names say the exec bounds");

static void flood_summaries(struct sw_pipeline *p, uint64_t due);

static int set_rules(struct sw_pipeline *p, struct sw_rules *own)
{
	const struct sw_rules *r = own ? own : p->rules;

	p->policy = *sw_rules__policy(r);
	p->learn.max = p->policy.learned_max;
	if (own) {
		sw_rules__free(p->own_rules);
		p->own_rules = own;
		p->rules = own;
	}
	if (!p->dl)
		return 0;
	flood_summaries(p, UINT64_MAX); /* the old limiter's, before it goes */
	return sw_delivery__set_policy(p->dl, &p->policy);
}

struct sw_pipeline *sw_pipeline__new(const struct sw_pipeline_opts *o)
{
	struct sw_pipeline *p = calloc(1, sizeof(*p));
	struct sw_rules_error err;

	if (!p)
		return NULL;
	p->key = o->key;
	p->reg = o->registry;
	p->learn.key = o->key;
	p->recorded_finds = o->recorded_finds;
	snprintf(p->host, sizeof(p->host), "%s", o->host ? o->host : "unknown");
	if (o->rules) {
		p->rules = o->rules;
		p->rules_fixed = 1;
		set_rules(p, NULL);
	} else if (o->start_rules) {
		p->rules = o->start_rules;
		set_rules(p, NULL);
	} else {
		struct sw_rules *r = sw_rules__load_embedded(&err);

		if (!r)
			goto fail;
		set_rules(p, r);
	}
	p->pt = sw_proctab__new();
	p->set = sw_secretset__new();
	p->m = p->set ? sw_matcher__new_reserve(o->key, NULL, 0, PL_INDEX_RESERVE) : NULL;
	p->streams = sw_streams__new();
	p->rescan = sw_rescan__new();
	p->dl = sw_delivery__new(&p->policy);
	p->sum = sw_summary__new();
	p->covered = sw_covered__new();
	p->cred = sw_agentcred__new();
	p->origins = sw_origins__new();
	p->learn.cred = p->cred;
	p->req = calloc(REQUESTS_MAX, sizeof(*p->req));
	if (!p->pt || !p->set || !p->m || !p->streams || !p->rescan || !p->dl || !p->req ||
	    !p->sum || !p->covered || !p->cred || !p->origins)
		goto fail;
	sw_delivery__set_summary(p->dl, p->sum);
	return p;
fail:
	sw_pipeline__free(p);
	errno = ENOMEM;
	return NULL;
}

static void requests_reset(struct sw_pipeline *p)
{
	size_t i;

	for (i = 0; i < p->nreq; i++) {
		free(p->req[i].path);
		free(p->req[i].dst_path);
		p->req[i].path = NULL;
		p->req[i].dst_path = NULL;
	}
	p->nreq = 0;
}

void sw_pipeline__free(struct sw_pipeline *p)
{
	size_t i;

	if (!p)
		return;
	if (p->req)
		requests_reset(p);
	free(p->req);
	pl_names_free(p);
	for (i = 0; i < READERS_MAX; i++)
		free(p->readers[i].exe);
	sw_delivery__free(p->dl);
	sw_summary__free(p->sum);
	sw_covered__free(p->covered);
	sw_agentcred__free(p->cred);
	sw_origins__free(p->origins);
	for (i = 0; i < p->nretry; i++)
		free(p->retry[i].path);
	sw_rescan__free(p->rescan);
	sw_streams__free(p->streams);
	sw_matcher__free(p->m);
	sw_secretset__free(p->set);
	sw_matcher__free(p->staged_m);
	sw_secretset__free(p->staged_set);
	sw_matcher__free(p->retired_m);
	sw_secretset__free(p->retired_set);
	sw_proctab__free(p->pt);
	sw_rules__free(p->own_rules);
	pl_git_reset(p);
	free(p);
}

/* ---- requests ---- */

struct sw_request *pl_request(struct sw_pipeline *p, enum sw_request_kind kind,
			      const struct sw_hdr *h, const char *path, size_t path_len)
{
	struct sw_request *r;

	if (p->nreq >= REQUESTS_MAX) {
		p->st.requests_dropped++;
		return NULL;
	}
	r = &p->req[p->nreq];
	memset(r, 0, sizeof(*r));
	if (path && !(r->path = strndup(path, path_len))) {
		p->st.requests_dropped++;
		return NULL;
	}
	r->kind = kind;
	r->hdr = *h;
	p->nreq++;
	return r;
}

void pl_readback_file(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	void **c = ctx;
	struct sw_pipeline *p = c[0];
	struct sw_request *r = pl_request(p, SW_REQ_READBACK, c[1], path, strlen(path));

	if (!r)
		return;
	r->dev = dev;
	r->ino = ino;
	r->gen = gen;
	r->length = p->policy.readback_max_bytes;
	r->rescan = 1;
	p->st.readbacks++;
}

/* Remembers a file to read back at its writer's close or exit, and asks to hear of closes. */
void pl_rescan_add(struct sw_pipeline *p, const struct sw_hdr *h, uint64_t dev, uint64_t ino,
		   uint32_t gen, const char *path)
{
	struct sw_request *r;

	if (sw_rescan__add(p->rescan, h->tgid, dev, ino, gen, path))
		return;
	r = pl_request(p, SW_REQ_WATCH_CLOSE, h, path, strlen(path));
	if (r) {
		r->dev = dev;
		r->ino = ino;
	}
}

/* ---- time, loss ---- */

static void gap_alert(struct sw_pipeline *p, uint64_t t, const char *const *what, const uint64_t *n,
		      size_t count)
{
	struct sw_alert *a = &p->alert;
	size_t i;

	sw_alertbuild__base(a, SW_ALERT_COVERAGE_GAP, t, p->host, &p->policy);
	for (i = 0; i < count && a->ngaps < sizeof(a->gaps) / sizeof(a->gaps[0]); i++) {
		if (!n[i])
			continue;
		snprintf(a->gaps[a->ngaps].what, sizeof(a->gaps[0].what), "%s", what[i]);
		a->gaps[a->ngaps++].count = n[i];
	}
	if (!a->ngaps)
		return;
	snprintf(a->message, sizeof(a->message),
		 "events were lost or cut short; the counts say how many since the last report");
	sw_delivery__emit(p->dl, a);
}

static void on_loss(struct sw_pipeline *p, const struct sw_event *ev)
{
	static const char *const what[] = {"ringbuf_full",   "truncated",  "read_error",
					   "path_truncated", "scope_full", "copy_unread"};
	const struct sw_loss *d = &ev->loss->loss;
	const uint64_t n[] = {d->ringbuf_full,	 d->truncated,	d->read_errors,
			      d->path_truncated, d->scope_full, d->copies_unread};

	if (ev->hdr->flags & SW_F_DOWN) {
		pl_on_down(p, ev);
		return;
	}
	gap_alert(p, rec_time(p, ev->hdr->ktime), what, n, 6);
}

/* Time passes: held alerts come due, flood control summarises, the pipeline's own losses are
 * reported. */
static void restart(struct sw_pipeline *p);
static void stop_all(struct sw_pipeline *p);

/* Sessions that ended by then (their held alerts have left), summarised. */
static void session_summaries(struct sw_pipeline *p, uint64_t ended_by)
{
	while (sw_summary__next(p->sum, ended_by, p->now_us, &p->alert))
		sw_delivery__emit(p->dl, &p->alert);
}

/* What flood control held back, told (due summaries; all of them with UINT64_MAX). */
static void flood_summaries(struct sw_pipeline *p, uint64_t due)
{
	struct sw_ratelimit_summary sum[32];
	struct sw_alert *a = &p->alert;
	size_t n, i, j;

	do {
		n = sw_delivery__summaries(p->dl, due, sum, 32);
		for (i = 0; i < n; i++) {
			sw_alertbuild__base(a, SW_ALERT_RATE_LIMITED, p->now_us, p->host,
					    &p->policy);
			for (j = 0; j < p->set->n; j++)
				if (!memcmp(p->set->secrets[j].id, sum[i].secret_id,
					    SW_SECRET_ID_BYTES))
					sw_alertbuild__secret(a, &p->set->secrets[j]);
			if (sum[i].session_id)
				sw_alertbuild__session(a, p->pt, sum[i].session_id);
			a->count = sum[i].suppressed;
			snprintf(a->message, sizeof(a->message),
				 "%llu alert(s) held back by flood control",
				 (unsigned long long)sum[i].suppressed);
			sw_delivery__emit(p->dl, a);
		}
	} while (n == 32);
}

static void on_tick(struct sw_pipeline *p, const struct sw_event *ev)
{
	/* A daemon's first tick: in a replay of several runs, what the previous daemon did at its
	 * stop happens here, and what it knew is forgotten, as a new daemon knows nothing. */
	if ((ev->hdr->flags & SW_F_FIRST) && p->st.records > 1)
		restart(p);
	if (ev->hdr->flags & SW_F_INDEX)
		pl_take_index(p, ev->hdr->session_id);
	/* A daemon's first tick opens the window of what ran while none did; its first timer tick
	 * closes it (an index switching at its start is no tick of the timer). */
	if ((ev->hdr->flags & SW_F_FIRST) || !(ev->hdr->flags & SW_F_INDEX)) {
		p->boot.open = !!(ev->hdr->flags & SW_F_FIRST);
		if (p->boot.open)
			p->boot.n = p->boot.more = 0;
	}
	p->tick_ktime = ev->hdr->ktime;
	p->tick_real_ns = ev->tick->realtime_ns;
	p->now_us = rec_time(p, ev->hdr->ktime);
	p->tick_seq++;
	p->gaps[GAP_LEARN] = p->learn.dropped - p->st.learn_dropped;
	p->st.learn_dropped = p->learn.dropped;
	p->gaps[GAP_ALERTS] = sw_delivery__dropped(p->dl) - p->st.alerts_dropped;
	p->st.alerts_dropped = sw_delivery__dropped(p->dl);
	gap_alert(p, p->now_us, gap_names, p->gaps, GAP__COUNT);
	pl_retry_tick(p);
	/* A daemon's last tick: its stop, as a record, so that a replay does it at the same
	 * point (the read-backs it asks for follow it in the trace). */
	if (ev->hdr->flags & SW_F_LAST)
		stop_all(p);
	memset(p->gaps, 0, sizeof(p->gaps));
	pl_tls_flush(p, p->now_us, 0);
	pl_tls_watch_due(p, p->tick_ktime, 0);
	sw_delivery__release(p->dl, p->now_us, 0, pl_decide, p);
	pl_tls_infer_due(p);
	flood_summaries(p, p->now_us);
	session_summaries(p, p->now_us > p->policy.hold_ms * 1000ull
				     ? p->now_us - p->policy.hold_ms * 1000ull
				     : 0);
}

static int on_rules(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct sw_rules_error err;
	struct sw_rules *r;

	if (p->rules_fixed)
		return 0;
	r = sw_rulesrec__load(ev, "", &err);
	if (!r)
		return -EINVAL; /* counted as a bad record; the rules in force stay */
	/* The detectors compiled now, at a daemon's start, not at its first write. */
	if (!p->recorded_finds)
		sw_rules__detect_index(r);
	return set_rules(p, r);
}

/* ---- the dispatcher ---- */

static int dispatch(struct sw_pipeline *p, const struct sw_event *ev)
{
	char comm[SW_COMM_LEN + 1];

	memcpy(comm, ev->hdr->comm, SW_COMM_LEN);
	comm[SW_COMM_LEN] = 0;
	switch (ev->hdr->type) {
	case SW_EV_FORK:
		return sw_proctab__fork(p->pt, ev->fork->parent_tgid, ev->fork->child_tgid,
					ev->hdr->session_id, ev->hdr->uid, comm);
	case SW_EV_EXEC:
		return pl_on_exec(p, ev, comm);
	case SW_EV_EXIT:
		pl_on_exit_rec(p, ev);
		return 0;
	case SW_EV_DATA:
		return pl_on_data(p, ev);
	case SW_EV_OPEN:
		pl_on_open(p, ev);
		return 0;
	case SW_EV_RENAME:
		/* The source checks what the new name turned out to be (SW_EV_RENAMED). */
		return 0;
	case SW_EV_RENAMED:
		pl_on_renamed(p, ev);
		return 0;
	case SW_EV_CHANNEL:
		pl_on_channel(p, ev);
		return 0;
	case SW_EV_SESSION:
		return pl_on_session(p, ev);
	case SW_EV_READER:
		pl_on_reader(p, ev);
		return 0;
	case SW_EV_LOSS:
		on_loss(p, ev);
		return 0;
	case SW_EV_TICK:
		on_tick(p, ev);
		return 0;
	case SW_EV_PROC:
		return pl_on_proc(p, ev, comm);
	case SW_EV_CLOSED:
		pl_on_closed(p, ev);
		return 0;
	case SW_EV_GUARDED:
		pl_tls_guarded(p, ev);
		return 0;
	case SW_EV_RULES:
		return on_rules(p, ev);
	default:
		return 0;
	}
}

int sw_pipeline__record(struct sw_pipeline *p, const void *rec, size_t size)
{
	struct sw_event ev;
	int e;

	p->st.records++;
	sw_redact__reset(&p->red);
	requests_reset(p);
	if (sw_event__decode(rec, size, &ev)) {
		p->st.bad_records++;
		return -EBADMSG;
	}
	p->rec_us = rec_time(p, ev.hdr->ktime);
	/* A tick's session_id is no session (an index tick carries its generation there). */
	if (p->boot.open && ev.hdr->session_id && ev.hdr->type != SW_EV_TICK)
		pl_boot_note(p, ev.hdr->session_id);
	pl_names(p, &ev, rec, size);
	e = dispatch(p, &ev);
	if (e == -EINVAL)
		p->st.bad_records++;
	return e;
}

int sw_pipeline__replay(struct sw_pipeline *p, const void *rec, size_t size,
			const struct sw_redaction *red, size_t nred)
{
	int e;

	p->recorded = red;
	p->nrecorded = nred;
	p->replaying = 1;
	e = sw_pipeline__record(p, rec, size);
	p->replaying = 0;
	p->recorded = NULL;
	p->nrecorded = 0;
	return e;
}

void sw_pipeline__drain_alerts(struct sw_pipeline *p,
			       void (*fn)(const struct sw_alert *a, void *ctx), void *ctx)
{
	sw_delivery__drain(p->dl, fn, ctx);
}

const struct sw_request *sw_pipeline__requests(const struct sw_pipeline *p, size_t *n)
{
	*n = p->nreq;
	return p->req;
}

const struct sw_redaction *sw_pipeline__redactions(const struct sw_pipeline *p, size_t *n)
{
	*n = p->red.n;
	return p->red.span;
}

static void stop_one(const struct sw_proc *pr, void *ctx)
{
	struct sw_pipeline *p = ctx;
	struct sw_hdr h = {.type = SW_EV_EXIT};

	/* As if the process exited now: named from what the process table knows of it. */
	h.pid = h.tgid = pr->tgid;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	h.ktime = p->tick_ktime;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	pl_release_files(p, &h);
}

static void forget(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	(void)dev, (void)ino, (void)gen, (void)path, (void)ctx;
}

/* Every live process's files read back (requests), as if each exited now. */
static void stop_all(struct sw_pipeline *p)
{
	sw_proctab__each_proc(p->pt, stop_one, p);
	/* Files of processes the table no longer knows cannot be attributed: dropped. */
	sw_rescan__take_all(p->rescan, forget, NULL);
}

void sw_pipeline__stop(struct sw_pipeline *p)
{
	requests_reset(p);
	sw_redact__reset(&p->red);
	stop_all(p);
}

void sw_pipeline__finish(struct sw_pipeline *p)
{
	requests_reset(p);
	pl_retry_flush(p);
	p->force = 1;
	pl_tls_flush(p, UINT64_MAX, 1);
	pl_tls_watch_due(p, UINT64_MAX, 1);
	sw_delivery__release(p->dl, UINT64_MAX, 1, pl_decide, p);
	pl_tls_infer_due(p);
	p->force = 0;
	flood_summaries(p, UINT64_MAX);
	session_summaries(p, UINT64_MAX);
}

static void restart(struct sw_pipeline *p)
{
	struct sw_proctab *pt = sw_proctab__new();
	struct sw_streams *streams = sw_streams__new();
	struct sw_rescan *rescan = sw_rescan__new();
	size_t i;

	sw_pipeline__stop(p);
	sw_pipeline__finish(p);
	if (!pt || !streams || !rescan) {
		sw_proctab__free(pt);
		sw_streams__free(streams);
		sw_rescan__free(rescan);
		return;
	}
	sw_proctab__free(p->pt);
	sw_streams__free(p->streams);
	sw_rescan__free(p->rescan);
	sw_covered__free(p->covered);
	p->covered = sw_covered__new();
	for (i = 0; i < p->nretry; i++)
		free(p->retry[i].path);
	p->nretry = 0;
	p->pt = pt;
	p->streams = streams;
	p->rescan = rescan;
	for (i = 0; i < READERS_MAX; i++) {
		free(p->readers[i].exe);
		memset(&p->readers[i], 0, sizeof(p->readers[i]));
	}
	pl_git_reset(p);
	/* (a new daemon saw no ClientHello yet) */
	memset(p->watch, 0, sizeof(p->watch));
	memset(p->plain, 0, sizeof(p->plain));
	p->watch_next = p->plain_next = 0;
	sw_delivery__set_policy(p->dl, &p->policy); /* flood control starts over */
}

/* ---- queries ---- */

int sw_pipeline__knows(const struct sw_pipeline *p, uint32_t tgid)
{
	return sw_proctab__find(p->pt, tgid) != NULL;
}

const struct sw_secretset *sw_pipeline__secrets(const struct sw_pipeline *p)
{
	return p->set;
}

const struct sw_rules *sw_pipeline__rules(const struct sw_pipeline *p)
{
	return p->rules;
}

const struct sw_proctab *sw_pipeline__proctab(const struct sw_pipeline *p)
{
	return p->pt;
}

void sw_pipeline__stats(const struct sw_pipeline *p, struct sw_pipeline_stats *out)
{
	*out = p->st;
	out->streams = sw_streams__count(p->streams);
	out->suppressed = sw_delivery__suppressed(p->dl);
	out->alerts = sw_delivery__emitted(p->dl);
	out->learn_dropped = p->learn.dropped;
}

int sw_pipeline__learned(struct sw_pipeline *p, struct sw_secretset *into)
{
	int n;

	if (!p->learned_dirty)
		return 0;
	n = sw_learn__export(p->set, into);
	if (n >= 0)
		p->learned_dirty = 0;
	return n;
}

int sw_pipeline__origins_moved(struct sw_pipeline *p)
{
	int moved = p->origins_moved;

	p->origins_moved = 0;
	return moved;
}

void sw_pipeline__origin_paths(const struct sw_pipeline *p,
			       void (*fn)(const char *path, uint64_t dev, uint64_t ino, void *ctx),
			       void *ctx)
{
	sw_origins__each(p->origins, p->set, fn, ctx);
}

int sw_pipeline__origin_file(const struct sw_pipeline *p, uint64_t dev, uint64_t ino)
{
	return sw_origins__of_file(p->origins, dev, ino) != NULL;
}

void sw_pipeline__kept_origins(const struct sw_pipeline *p,
			       void (*fn)(const char *name, uint64_t dev, uint64_t ino, void *ctx),
			       void *ctx)
{
	sw_origins__each_kept(p->origins, fn, ctx);
}

struct keys_out {
	struct sw_inode_key *out;
	size_t n, max;
};

static void key_out(const char *name, uint64_t dev, uint64_t ino, void *ctx)
{
	struct keys_out *k = ctx;

	(void)name;
	if (k->n < k->max)
		k->out[k->n++] =
			(struct sw_inode_key){.dev = sw_naming__kernel_dev(dev), .ino = ino};
}

size_t sw_pipeline__origins(const struct sw_pipeline *p, struct sw_inode_key *out, size_t max)
{
	struct keys_out k = {.out = out, .max = max};
	const struct sw_secret *s, *last = NULL;
	size_t i;

	sw_origins__each_kept(p->origins, key_out, &k);
	for (i = 0; i < p->set->n; i++) {
		s = &p->set->secrets[i];
		if (!s->origin_ino || (last && s->origin_dev == last->origin_dev &&
				       s->origin_ino == last->origin_ino))
			continue; /* (one .env's secrets: one file) */
		key_out(NULL, s->origin_dev, s->origin_ino, &k);
		last = s;
	}
	return k.n;
}
