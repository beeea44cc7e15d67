// SPDX-License-Identifier: Apache-2.0
/* See pipeline.h. The dispatcher: per record, validate, update the process table, match the
 * artifact's byte stream, decide "first time here" in the registry, and hand alerts to
 * delivery. Streams, naming, alert building, learning, redaction, delivery and policy are
 * modules of their own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertbuild.h"
#include "delivery.h"
#include "event.h"
#include "learn.h"
#include "matcher.h"
#include "naming.h"
#include "pipeline.h"
#include "redact.h"
#include "rescan.h"
#include "rulesrec.h"
#include "streams.h"

#define MATCHES_MAX  256  /* matches handled per scan; more are counted as a gap */
#define REQUESTS_MAX 8192 /* requests one record may raise; more are counted */
#define READERS_MAX  4096 /* pipe readers remembered */
#define GAPS	     8

/* Losses the pipeline sees itself, reported with the next tick. */
enum gap {
	GAP_MATCHES,
	GAP_ARGS,
	GAP_ENV,
	GAP_READBACK_FAILED,
	GAP_READBACK_CUT,
	GAP_COPY,
	GAP_LEARN,
	GAP_ALERTS,
	GAP__COUNT
};
static const char *const gap_names[GAP__COUNT] = {
	"matches_dropped",    "exec_args_truncated", "exec_env_truncated", "readback_failed",
	"readback_truncated", "copy_unread",	     "learn_dropped",	   "alerts_dropped",
};

/* The matches of one scan: local to it, so nothing a later record does can disturb them. */
struct hits {
	struct sw_pipeline *p;
	struct sw_match m[MATCHES_MAX];
	uint8_t learned[MATCHES_MAX]; /* found by a detector in this record */
	size_t n;
	size_t first_new; /* secrets from this index on were learned in this record */
	int redact;
};

struct sw_pipeline {
	const struct sw_key *key;
	struct sw_registry *reg;
	struct sw_proctab *pt;
	struct sw_secretset *set;
	struct sw_matcher *m;
	struct sw_streams *streams;
	struct sw_rescan *rescan;
	struct sw_delivery *dl;
	const struct sw_rules *rules; /* in force: borrowed or own */
	struct sw_rules *own_rules;
	int rules_fixed; /* borrowed: rules records are ignored */
	struct sw_policy policy;
	struct sw_learn learn;
	int learned_dirty;
	char host[256];
	struct sw_pipeline_stats st;
	struct sw_alert alert; /* scratch: too big for the stack */
	/* Time: the wall clock at kernel time tick_ktime, from the latest tick. */
	uint64_t tick_ktime, tick_real_ns, now_us, tick_seq;
	uint64_t rec_us; /* the current record's time */
	uint64_t gaps[GAP__COUNT];
	/* Outputs of the current record. */
	struct sw_redact red;
	const struct sw_redaction *recorded; /* replay */
	size_t nrecorded;
	struct sw_request *req;
	size_t nreq;
	/* Pipe readers the source named: (kernel dev, ino) -> reader, and the tick it answered. */
	struct reader {
		uint64_t dev, ino, tick, asked;
		uint32_t tgid;
		char *exe;
	} readers[READERS_MAX];
	size_t readers_next;
	int force;
};

static uint64_t rec_time(const struct sw_pipeline *p, uint64_t ktime)
{
	if (!p->tick_real_ns)
		return ktime / 1000;
	return (p->tick_real_ns + (ktime - p->tick_ktime)) / 1000;
}

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
	return p->dl ? sw_delivery__set_policy(p->dl, &p->policy) : 0;
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
	snprintf(p->host, sizeof(p->host), "%s", o->host ? o->host : "unknown");
	if (o->rules) {
		p->rules = o->rules;
		p->rules_fixed = 1;
		set_rules(p, NULL);
	} else {
		struct sw_rules *r = sw_rules__load_embedded(&err);

		if (!r)
			goto fail;
		set_rules(p, r);
	}
	p->pt = sw_proctab__new();
	p->set = sw_secretset__new();
	p->m = p->set ? sw_matcher__new(o->key, NULL, 0) : NULL;
	p->streams = sw_streams__new();
	p->rescan = sw_rescan__new();
	p->dl = sw_delivery__new(&p->policy);
	p->req = calloc(REQUESTS_MAX, sizeof(*p->req));
	if (!p->pt || !p->set || !p->m || !p->streams || !p->rescan || !p->dl || !p->req)
		goto fail;
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
		p->req[i].path = NULL;
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
	for (i = 0; i < READERS_MAX; i++)
		free(p->readers[i].exe);
	sw_delivery__free(p->dl);
	sw_rescan__free(p->rescan);
	sw_streams__free(p->streams);
	sw_matcher__free(p->m);
	sw_secretset__free(p->set);
	sw_proctab__free(p->pt);
	sw_rules__free(p->own_rules);
	free(p);
}

int sw_pipeline__set_secrets(struct sw_pipeline *p, struct sw_secretset *set)
{
	struct sw_matcher *m = sw_matcher__new(p->key, set->secrets, set->n);

	if (!m) {
		int e = -errno;
		sw_secretset__free(set);
		return e;
	}
	sw_matcher__free(p->m);
	sw_secretset__free(p->set);
	p->m = m;
	p->set = set;
	sw_learn__reset(&p->learn, set);
	return 0;
}

/* ---- requests ---- */

static struct sw_request *request(struct sw_pipeline *p, enum sw_request_kind kind,
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

static void readback_file(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	void **c = ctx;
	struct sw_pipeline *p = c[0];
	struct sw_request *r = request(p, SW_REQ_READBACK, c[1], path, strlen(path));

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
static void rescan_add(struct sw_pipeline *p, const struct sw_hdr *h, uint64_t dev, uint64_t ino,
		       uint32_t gen, const char *path)
{
	struct sw_request *r;

	if (sw_rescan__add(p->rescan, h->tgid, dev, ino, gen, path))
		return;
	r = request(p, SW_REQ_WATCH_CLOSE, h, path, strlen(path));
	if (r) {
		r->dev = dev;
		r->ino = ino;
	}
}

/* ---- matching ---- */

static int collect(const struct sw_match *m, void *ctx)
{
	struct hits *h = ctx;
	struct sw_pipeline *p = h->p;

	if (h->n >= MATCHES_MAX) {
		p->gaps[GAP_MATCHES]++;
		return 0;
	}
	h->learned[h->n] = m->secret >= h->first_new;
	h->m[h->n++] = *m;
	if (h->redact)
		sw_redact__match(&p->red, m, p->set->secrets[m->secret].id,
				 m->variant | (h->learned[h->n - 1] ? SW_REDACT_DISCOVERED : 0));
	return 0;
}

/* Replay: a match the live run recorded joins the matcher's. */
static void recorded(const uint8_t *id, const struct sw_match *m, int discovered, void *ctx)
{
	struct hits *h = ctx;
	const struct sw_secret *s = sw_secretset__find_id(h->p->set, id);

	if (!s) {
		h->p->st.replay_unknown++;
		return;
	}
	if (h->n >= MATCHES_MAX)
		return;
	h->m[h->n] = *m;
	h->m[h->n].secret = s - h->p->set->secrets;
	h->learned[h->n++] = discovered;
}

/* Learns what the detectors find in data (the new secrets join the matcher first, so where
 * they were found is their first sighting), then matches data at stream offset start of
 * stream st, keeping the spans out of the trace. base: data's offset in the record. whole:
 * nothing continues these bytes (an argv string), so no tail of them is unsettled. */
static void scan(struct sw_pipeline *p, struct hits *h, struct sw_stream *st, const void *data,
		 size_t len, size_t base, int whole)
{
	uint64_t start = sw_stream__offset(st);

	h->first_new = p->set->n;
	if (sw_learn__scan(&p->learn, p->rules, p->set, data, len, p->rec_us / 1000000)) {
		struct sw_matcher *m = sw_matcher__new(p->key, p->set->secrets, p->set->n);

		if (m) {
			sw_matcher__free(p->m);
			p->m = m;
			p->learned_dirty = 1;
		} else {
			h->first_new = p->set->n;
		}
	}
	sw_redact__scope(&p->red, base, start, len);
	h->redact = 1;
	sw_matcher__scan(p->m, st, data, len, collect, h);
	h->redact = 0;
	/* The tail that may begin a secret the next write completes. */
	if (!whole)
		sw_redact__unsettled(&p->red, sw_stream__unsettled(st, p->m));
	sw_redact__recorded(&p->red, p->recorded, p->nrecorded, recorded, h);
}

/* ---- alerts ---- */

/* A secret's own origin, and the places the policy allows it, are not spread. */
static int known_place(const struct sw_pipeline *p, const struct sw_secret *s,
		       const struct sw_artifact *art)
{
	if (art->type != SW_ART_FILE)
		return 0;
	if (s->origin_ino && s->origin_dev == art->dev && s->origin_ino == art->ino)
		return 1;
	return art->path[0] && sw_rules__allowlisted(p->rules, s->name, art->path);
}

static const struct sw_proc *proc_of(struct sw_pipeline *p, const struct sw_hdr *h)
{
	return sw_proctab__get(p->pt, h->tgid, h->ppid, h->uid, h->session_id, h->comm);
}

static void process_of(struct sw_pipeline *p, struct sw_alert *a, const struct sw_hdr *h)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, h->tgid);
	const char *exe;

	sw_alertbuild__process(a, h, pr, p->m);
	/* Exited already (a read-back at its exit): the table remembers its exe a while. */
	if (!pr && (exe = sw_proctab__exe(p->pt, h->tgid)))
		snprintf(a->process.exe, sizeof(a->process.exe), "%s", exe);
}

/* Each match a first sighting in its place becomes an alert. A pipe's place is its reader,
 * known for sure only once it has read: key NULL, decided as the alert leaves delivery. */
static void spread(struct sw_pipeline *p, const struct hits *h, const struct sw_hdr *hdr,
		   const struct sw_artifact *art, const char *key)
{
	struct sw_alert *a = &p->alert;
	uint64_t t = rec_time(p, hdr->ktime);
	const struct sw_secret *s;
	int64_t count;
	size_t i;

	for (i = 0; i < h->n; i++) {
		s = &p->set->secrets[h->m[i].secret];
		p->st.matches++;
		if (known_place(p, s, art))
			continue;
		count = key ? sw_registry__see(p->reg, s->id, key, t) : 0;
		if (key && count != 1)
			continue;
		sw_alertbuild__base(
			a, h->learned[i] ? SW_ALERT_SECRET_DISCOVERED : SW_ALERT_SECRET_SPREAD, t,
			p->host, &p->policy);
		if (h->learned[i])
			snprintf(a->message, sizeof(a->message),
				 "detector %s found a secret nobody registered; it is tracked as "
				 "%s from now on",
				 s->detector, s->name);
		sw_alertbuild__secret(a, s);
		snprintf(a->variant, sizeof(a->variant), "%s", sw_variant__name(h->m[i].variant));
		a->has_artifact = 1;
		a->artifact = *art;
		process_of(p, a, hdr);
		sw_alertbuild__session(a, p->pt, hdr->session_id);
		if (s->origin[0]) {
			a->has_origin = 1;
			snprintf(a->origin_path, sizeof(a->origin_path), "%s", s->origin);
		}
		a->count = count;
		a->first_seen = count == 1;
		sw_alertbuild__place(a, p->rules, &p->policy);
		sw_delivery__push(p->dl, a);
	}
}

static struct reader *reader_find(struct sw_pipeline *p, uint64_t dev, uint64_t ino)
{
	size_t i, j;

	for (i = 0; i < READERS_MAX; i++) { /* newest first */
		j = (p->readers_next + READERS_MAX - 1 - i) % READERS_MAX;
		if (p->readers[j].ino == ino && p->readers[j].dev == dev)
			return &p->readers[j];
	}
	return NULL;
}

static struct reader *reader_new(struct sw_pipeline *p, uint64_t dev, uint64_t ino)
{
	struct reader *r = &p->readers[p->readers_next];

	p->readers_next = (p->readers_next + 1) % READERS_MAX;
	free(r->exe);
	memset(r, 0, sizeof(*r));
	r->dev = dev;
	r->ino = ino;
	return r;
}

/* A held alert leaves. A pipe alert is decided now, by its reader: asked of the source at this
 * tick (its answer is the next record), then the registry decides "first time here". */
static int decide(struct sw_alert *a, void *ctx)
{
	struct sw_pipeline *p = ctx;
	struct sw_artifact *art = &a->artifact;
	char key[SW_ARTIFACT_KEY_MAX];
	uint64_t now = p->tick_seq + 1; /* 0 in a reader entry means never */
	struct reader *r;

	if (art->type != SW_ART_PIPE || a->count)
		return 0;
	r = reader_find(p, art->dev, art->ino);
	if (!p->force && !(r && r->tick == now)) {
		struct sw_hdr h = {.pid = a->process.pid, .tgid = a->process.pid};
		struct sw_request *q;

		if (r && r->asked == now)
			return 1; /* the answer is on its way */
		r = reader_new(p, art->dev, art->ino);
		r->asked = now;
		q = request(p, SW_REQ_READER, &h, NULL, 0);
		if (q) {
			q->dev = art->dev;
			q->ino = art->ino;
		}
		return 1;
	}
	art->reader_pid = r && r->tick && r->tgid != a->process.pid ? r->tgid : 0;
	snprintf(art->reader_exe, sizeof(art->reader_exe), "%s",
		 art->reader_pid && r->exe ? r->exe : "");
	art->dev = 0;
	art->ino = 0;
	sw_artifact__key(art, key, sizeof(key));
	a->count = sw_registry__see(p->reg, a->secret_key, key, a->time_us);
	if (a->count != 1) {
		a->kind = SW_ALERT__COUNT; /* seen here before: no alert */
		return 0;
	}
	a->first_seen = 1;
	sw_alertbuild__place(a, p->rules, &p->policy);
	return 0;
}

/* ---- records ---- */

/* A copy without a user buffer (copy_file_range, sendfile, splice, tee): what the destination
 * received is the source's bytes, read back from the source file. */
static void copy_readback(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	struct sw_request *r;

	if (d->src_kind != SW_AK_FILE || !ev->src_path_len || d->src_pos < 0) {
		p->gaps[GAP_COPY]++;
		return;
	}
	r = request(p, SW_REQ_READBACK, ev->hdr, ev->src_path, ev->src_path_len);
	if (!r)
		return;
	r->copy = *d;
	r->dev = sw_naming__user_dev(d->src_dev);
	r->ino = d->src_ino;
	r->offset = d->src_pos;
	r->length =
		d->total < p->policy.readback_max_bytes ? d->total : p->policy.readback_max_bytes;
	p->st.readbacks++;
	if (d->total > p->policy.readback_max_bytes)
		p->gaps[GAP_READBACK_CUT]++;
}

static int on_data(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	uint16_t fl = ev->hdr->flags;
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_stream_ent *se;
	struct sw_stream_id sid;
	struct sw_artifact *a;
	struct hits *h;

	p->st.data_bytes += ev->bytes_len;
	if (d->art_kind < SW_AK_FILE || d->art_kind > SW_AK_TTY)
		return 0;
	sw_naming__stream_id(ev, &sid);
	if ((fl & SW_F_RESCAN) && (fl & SW_F_FIRST))
		sw_streams__drop(p->streams, &sid); /* a read-back starts from nothing */
	se = sw_streams__get(p->streams, &sid);
	if (!se)
		return -ENOMEM;
	/* Only the first chunk of a syscall names the artifact; a path the kernel cut keeps its
	 * last part, and says so. */
	if (ev->path_len && d->art_kind != SW_AK_SOCKET) {
		if (fl & SW_F_PATH_TRUNC) {
			char cut[SW_PATH_LEN + 8];
			int n = snprintf(cut, sizeof(cut), "...%.*s", (int)ev->path_len, ev->path);

			sw_stream_ent__set_path(se, cut, n);
		} else {
			sw_stream_ent__set_path(se, ev->path, ev->path_len);
		}
	}
	if ((fl & SW_F_READBACK) && (fl & SW_F_READ_ERR) && !(fl & SW_F_GONE))
		p->gaps[GAP_READBACK_FAILED]++;
	if ((fl & SW_F_READBACK) && (fl & SW_F_TRUNCATED))
		p->gaps[GAP_READBACK_CUT]++;
	if (fl & SW_F_COPY) {
		copy_readback(p, ev);
		return 0;
	}
	/* A write at an explicit position may land out of order: read the file back later. */
	if (d->art_kind == SW_AK_FILE && d->file_pos >= 0 && se->path && !(fl & SW_F_READBACK))
		rescan_add(p, ev->hdr, sw_naming__user_dev(d->dev), d->ino, d->gen, se->path);
	h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->p = p;
	h->n = 0;
	h->redact = 0;
	scan(p, h, se->s, ev->bytes, ev->bytes_len, (const char *)ev->bytes - (const char *)ev->hdr,
	     0);
	/* Bytes are missing after these (cut or unreadable): what follows does not continue
	 * them. */
	if (fl & (SW_F_TRUNCATED | SW_F_READ_ERR))
		sw_stream__reset(se->s);
	if (h->n) {
		a = malloc(sizeof(*a));
		if (a) {
			sw_naming__data(ev, se->path, a);
			if (a->type == SW_ART_FILE && !se->path && !(fl & SW_F_READBACK)) {
				struct sw_request *r = request(p, SW_REQ_NAME_FD, ev->hdr, NULL, 0);

				if (r) {
					r->fd = d->fd;
					r->dev = a->dev;
					r->ino = a->ino;
				}
			}
			sw_artifact__key(a, key, sizeof(key));
			/* A read-back may come after its writer exited: it is not brought back. */
			if (!(fl & SW_F_READBACK))
				proc_of(p, ev->hdr);
			spread(p, h, ev->hdr, a, a->type == SW_ART_PIPE ? NULL : key);
			free(a);
		}
	}
	free(h);
	if ((fl & SW_F_RESCAN) && (fl & SW_F_LAST))
		sw_streams__drop(p->streams, &sid);
	return 0;
}

/* An environment variable is inherited by every child: the place is the variable as the
 * session's agent hands it down (name + the agent's exe), not each program that inherits it,
 * or one token in an agent's environment would alert once per tool it runs. */
static void env_place(struct sw_pipeline *p, const struct sw_event *ev, const struct sw_artifact *a,
		      char *key, size_t size)
{
	const struct sw_session *s = sw_proctab__find_session(p->pt, ev->hdr->session_id);
	struct sw_artifact k;

	memset(&k, 0, sizeof(k));
	k.type = SW_ART_EXEC_ENV;
	snprintf(k.name, sizeof(k.name), "%s", a->name);
	snprintf(k.path, sizeof(k.path), "%s", s && s->root_exe ? s->root_exe : a->path);
	sw_artifact__key(&k, key, size);
}

/* Whether a span of the record that matched a tracked secret (found now, or recorded with a
 * replayed record) overlaps [off, off + len). */
static int span_holds_secret(const struct sw_pipeline *p, size_t off, size_t len)
{
	static const uint8_t zero[8];
	size_t i;

	for (i = 0; i < p->red.n; i++)
		if (memcmp(p->red.span[i].secret_id, zero, 8) && p->red.span[i].offset < off + len &&
		    p->red.span[i].offset + p->red.span[i].length > off)
			return 1;
	for (i = 0; i < p->nrecorded; i++)
		if (memcmp(p->recorded[i].secret_id, zero, 8) && p->recorded[i].offset < off + len &&
		    p->recorded[i].offset + p->recorded[i].length > off)
			return 1;
	return 0;
}

/* argv and the environment of an exec are artifacts of their own: each element is scanned as a
 * fresh stream. The matches are kept per element (elem[i]) and spread once the process table
 * holds the new image with its secret-bearing argv elements shown as "[redacted]". */
static void exec_scan(struct sw_pipeline *p, const struct sw_event *ev, int env, struct hits *h,
		      uint32_t *elem)
{
	const char *s = env ? ev->env : ev->args, *end = s + (env ? ev->env_len : ev->args_len);
	struct sw_stream *st;
	uint32_t index = 0;
	size_t len, before;

	if (ev->hdr->flags & (env ? SW_F_ENV_TRUNC : SW_F_ARGS_TRUNC))
		p->gaps[env ? GAP_ENV : GAP_ARGS]++;
	for (; s < end && index < 65536; s += len + 1, index++) {
		len = strnlen(s, end - s);
		if (len < SW_SECRET_MIN || !(st = sw_stream__new()))
			continue;
		before = h->n;
		scan(p, h, st, s, len, s - (const char *)ev->hdr, 1);
		sw_stream__free(st);
		while (before < h->n)
			elem[before++] = index | (env ? 0x80000000u : 0);
	}
}

static void exec_spread(struct sw_pipeline *p, const struct sw_event *ev, const struct hits *h,
			const uint32_t *elem)
{
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_artifact *a = malloc(sizeof(*a));
	struct hits *one = malloc(sizeof(*one));
	size_t i;

	for (i = 0; a && one && i < h->n; i++) {
		int env = (elem[i] & 0x80000000u) != 0;
		uint32_t index = elem[i] & 0x7fffffffu;
		const char *s = env ? ev->env : ev->args, *end = s + (env ? ev->env_len : ev->args_len);
		uint32_t k;

		for (k = 0; k < index && s < end; k++)
			s += strnlen(s, end - s) + 1;
		memset(a, 0, sizeof(*a));
		a->type = env ? SW_ART_EXEC_ENV : SW_ART_EXEC_ARG;
		snprintf(a->path, sizeof(a->path), "%.*s", (int)ev->filename_len, ev->filename);
		if (env) {
			size_t len = strnlen(s, end - s);
			const char *eq = memchr(s, '=', len);

			snprintf(a->name, sizeof(a->name), "%.*s", eq ? (int)(eq - s) : 0, s);
			env_place(p, ev, a, key, sizeof(key));
		} else {
			a->index = index;
			sw_artifact__key(a, key, sizeof(key));
		}
		one->n = 1;
		one->m[0] = h->m[i];
		one->learned[0] = h->learned[i];
		spread(p, one, ev->hdr, a, key);
	}
	free(one);
	free(a);
}

/* The new image's argv for the process table: an element that holds a tracked secret is shown
 * as "[redacted]", in live alerts and replayed ones alike. */
static int exec_proc(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const struct sw_hdr *hd = ev->hdr;
	const char *s = ev->args, *end = ev->args + ev->args_len;
	char *clean = malloc(ev->args_len + 16 * SW_ARGV_MAX + 1), *o = clean;
	size_t len;
	int e;

	if (!clean)
		return -ENOMEM;
	for (; s < end; s += len + 1) {
		len = strnlen(s, end - s);
		if (span_holds_secret(p, s - (const char *)hd, len) &&
		    (size_t)(o - clean) + 11 <= ev->args_len + 16 * SW_ARGV_MAX) {
			memcpy(o, "[redacted]", 11);
			o += 11;
		} else {
			memcpy(o, s, len);
			o[len] = 0;
			o += len + (s + len < end);
		}
	}
	e = sw_proctab__exec(p->pt, hd->tgid, hd->ppid, hd->uid, hd->session_id, comm, ev->filename,
			     ev->filename_len, clean, o - clean);
	free(clean);
	return e;
}

/* A session opened a secret's origin: the agent read the secret (exposure), once per secret
 * and session. */
static void on_open(struct sw_pipeline *p, const struct sw_event *ev)
{
	uint64_t dev = sw_naming__user_dev(ev->open->dev), t = rec_time(p, ev->hdr->ktime);
	struct sw_alert *a = &p->alert;
	char key[96];
	size_t i;

	for (i = 0; i < p->set->n; i++) {
		const struct sw_secret *s = &p->set->secrets[i];

		if (s->origin_dev != dev || s->origin_ino != ev->open->ino)
			continue;
		snprintf(key, sizeof(key), "exposure:%llu",
			 (unsigned long long)ev->hdr->session_id);
		if (sw_registry__see(p->reg, s->id, key, t) != 1)
			continue;
		sw_alertbuild__base(a, SW_ALERT_SECRET_EXPOSURE, t, p->host, &p->policy);
		proc_of(p, ev->hdr);
		process_of(p, a, ev->hdr);
		sw_alertbuild__session(a, p->pt, ev->hdr->session_id);
		sw_alertbuild__secret(a, s);
		snprintf(a->variant, sizeof(a->variant), "raw");
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		a->artifact.dev = dev;
		a->artifact.ino = ev->open->ino;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)ev->path_len,
			 ev->path);
		a->has_origin = 1;
		snprintf(a->origin_path, sizeof(a->origin_path), "%s", s->origin);
		a->first_seen = 1;
		a->count = 1;
		snprintf(a->message, sizeof(a->message),
			 "an agent session opened the file this secret was imported from");
		sw_delivery__emit(p->dl, a);
	}
}

/* A file (dev in stat's encoding, ino) now has this name: held alerts and the stream's display
 * path follow (the source tells, SW_EV_RENAMED, after a rename or link it checked). */
static void on_renamed(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct sw_stream_id sid = {.kind = SW_AK_FILE};
	struct sw_stream_ent *se;
	char path[SW_PATH_LEN + 1];

	snprintf(path, sizeof(path), "%.*s", (int)ev->path_len, ev->path);
	sw_delivery__rename(p->dl, ev->renamed->dev, ev->renamed->ino, path);
	sid.a = sw_naming__kernel_dev(ev->renamed->dev);
	sid.b = ev->renamed->ino;
	se = sw_streams__find(p->streams, &sid);
	if (se)
		sw_stream_ent__set_path(se, path, strlen(path));
}

static const char *channel_name(uint32_t c)
{
	switch (c) {
	case SW_CH_IO_URING:
		return "io_uring";
	case SW_CH_MMAP_SHARED:
		return "mmap_shared";
	case SW_CH_PROCESS_VM_WRITEV:
		return "process_vm_writev";
	default:
		return "unknown";
	}
}

/* A channel the syscall hooks cannot see into: say so (once per session, channel and file),
 * and read the file back at its close and its writer's exit. */
static void on_channel(struct sw_pipeline *p, const struct sw_event *ev)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	const struct sw_channel_rec *c = ev->channel;
	uint64_t t = rec_time(p, ev->hdr->ktime);
	struct sw_alert *a = &p->alert;
	char key[SW_PATH_LEN + 128];

	snprintf(key, sizeof(key), "channel:%s:%llu:%llu:%llu:%u", channel_name(c->channel),
		 (unsigned long long)ev->hdr->session_id, (unsigned long long)c->dev,
		 (unsigned long long)c->ino, c->gen);
	if (c->ino && ev->path_len) {
		char path[SW_PATH_LEN + 1];

		snprintf(path, sizeof(path), "%.*s", (int)ev->path_len, ev->path);
		rescan_add(p, ev->hdr, sw_naming__user_dev(c->dev), c->ino, c->gen, path);
		/* io_uring names the session's writable files one by one (open before and after
		 * its setup): read back, not alerted each; the setup itself alerted. */
		if (c->channel == SW_CH_IO_URING)
			return;
	}
	if (sw_registry__see(p->reg, no_secret, key, t) != 1)
		return;
	sw_alertbuild__base(a, SW_ALERT_UNMONITORED_CHANNEL, t, p->host, &p->policy);
	proc_of(p, ev->hdr);
	process_of(p, a, ev->hdr);
	sw_alertbuild__session(a, p->pt, ev->hdr->session_id);
	snprintf(a->channel, sizeof(a->channel), "%s", channel_name(c->channel));
	if (c->ino) {
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		a->artifact.dev = sw_naming__user_dev(c->dev);
		a->artifact.ino = c->ino;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)ev->path_len,
			 ev->path);
	}
	a->first_seen = 1;
	a->count = 1;
	snprintf(a->message, sizeof(a->message),
		 "%s bypasses the syscalls sprawlwatch sees; files it touched are read back when "
		 "the process exits",
		 a->channel);
	sw_delivery__emit(p->dl, a);
}

/* A session process closed a file of the read-back set after writing it: read it back now (and
 * again at its writer's exit: a mapping may outlive the descriptor). */
static void on_closed(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, ev->hdr->tgid);
	struct sw_hdr h;
	void *c[2] = {p, &h};

	if (!pr || !pr->session_id)
		return; /* only a session process's close says anything of its writes */
	h = *ev->hdr;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	sw_rescan__peek_file(p->rescan, ev->closed->dev, ev->closed->ino, readback_file, c);
}

/* The process is gone: read back what it may have written where write() did not show it. */
static void on_exit_rec(struct sw_pipeline *p, const struct sw_event *ev)
{
	void *c[2] = {p, (void *)ev->hdr};

	sw_rescan__take(p->rescan, ev->hdr->tgid, readback_file, c);
	sw_proctab__exit(p->pt, ev->hdr->tgid);
}

/* ---- sessions and processes ---- */

/* The agent rule an exec matches, or NULL. */
static const char *agent_label(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const char *argv[64], *s = ev->args, *end = ev->args + ev->args_len, *label = NULL;
	char exe[SW_PATH_LEN + 1];
	int argc = 0;

	while (s < end && argc < 64) {
		argv[argc++] = s;
		s += strnlen(s, end - s) + 1;
	}
	if (ev->args_len && ev->args[ev->args_len - 1] != 0)
		return NULL; /* cut argv: the last string has no end */
	snprintf(exe, sizeof(exe), "%.*s", (int)ev->filename_len, ev->filename);
	return sw_rules__agent_match(p->rules, exe, comm, argv, argc, &label) == 1 ? label : NULL;
}

static struct sw_session *session(struct sw_pipeline *p, uint64_t id, uint32_t root, uint64_t t)
{
	struct sw_session *s = sw_proctab__session(p->pt, id, root);

	if (s && !s->started_us)
		s->started_us = t;
	return s;
}

static int on_exec(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const struct sw_hdr *h = ev->hdr;
	uint32_t elem[MATCHES_MAX];
	const char *label;
	struct hits *hs;
	int e;

	if (h->flags & SW_F_CANDIDATE) {
		/* An interpreter outside any session: when its script is an agent's, ask for it
		 * to be adopted; the answer (a session record) makes it a session root. */
		label = agent_label(p, ev, comm);
		if (!label)
			return 0;
		e = sw_proctab__exec(p->pt, h->tgid, h->ppid, h->uid, 0, comm, ev->filename,
				     ev->filename_len, ev->args, ev->args_len);
		struct sw_request *r = request(p, SW_REQ_ADOPT, h, NULL, 0);
		if (r)
			snprintf(r->label, sizeof(r->label), "%s", label);
		return e;
	}
	if (h->flags & SW_F_NEW_SESSION) {
		/* The kernel started a session for an agent binary: give it the rule's label. */
		struct sw_session *s = session(p, h->session_id, h->tgid, rec_time(p, h->ktime));

		label = agent_label(p, ev, comm);
		if (s && label)
			snprintf(s->agent, sizeof(s->agent), "%s", label);
	}
	hs = malloc(sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	hs->p = p;
	hs->n = 0;
	hs->redact = 0;
	exec_scan(p, ev, 0, hs, elem);
	exec_scan(p, ev, 1, hs, elem);
	e = exec_proc(p, ev, comm);
	exec_spread(p, ev, hs, elem);
	free(hs);
	return e;
}

/* A session the daemon started or adopted (id 0: an adoption that failed). */
static int on_session(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_hdr *h = ev->hdr;
	const struct sw_proc *pr = sw_proctab__find(p->pt, h->tgid);
	struct sw_session *s;

	if (!h->session_id) {
		if (pr && !pr->session_id)
			sw_proctab__exit(p->pt, h->tgid);
		return 0;
	}
	s = session(p, h->session_id, h->tgid, rec_time(p, h->ktime));
	if (!s)
		return -ENOMEM;
	if (ev->session->agent[0])
		snprintf(s->agent, sizeof(s->agent), "%.*s", (int)sizeof(ev->session->agent) - 1,
			 ev->session->agent);
	/* An adopted interpreter: it joins the session it now roots. */
	if (pr && !pr->session_id)
		return sw_proctab__exec(p->pt, pr->tgid, pr->ppid, pr->uid, h->session_id, pr->comm,
					pr->exe, strlen(pr->exe), pr->args, pr->args_len);
	return 0;
}

/* What /proc said of a process whose exec the pipeline never saw. Its argv is not a place we
 * saw a secret land (the exec went unseen), but what holds one stays out of the trace. */
static int on_proc(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const struct sw_hdr *h = ev->hdr;
	const char *s = ev->args, *end = ev->args + ev->args_len;
	struct hits *hs = malloc(sizeof(*hs));
	struct sw_stream *st;
	size_t len;

	for (; hs && s < end; s += len + 1) {
		len = strnlen(s, end - s);
		if (len < SW_SECRET_MIN || !(st = sw_stream__new()))
			continue;
		hs->p = p;
		hs->n = 0;
		hs->first_new = p->set->n;
		sw_redact__scope(&p->red, s - (const char *)ev->hdr, 0, len);
		hs->redact = 1;
		sw_matcher__scan(p->m, st, s, len, collect, hs);
		sw_stream__free(st);
	}
	free(hs);

	if (h->session_id)
		session(p, h->session_id, h->tgid, rec_time(p, h->ktime));
	return sw_proctab__exec(p->pt, h->tgid, h->ppid, h->uid, h->session_id, comm, ev->path,
				ev->path_len, ev->args, ev->args_len);
}

/* The source's answer to a reader request; held pipe alerts can now leave. */
static void on_reader(struct sw_pipeline *p, const struct sw_event *ev)
{
	uint64_t now = p->tick_seq + 1;
	struct reader *r = reader_find(p, ev->reader->dev, ev->reader->ino);
	const char *known;

	if (!r || r->asked != now)
		r = reader_new(p, ev->reader->dev, ev->reader->ino);
	r->tick = now;
	r->tgid = ev->hdr->tgid;
	/* The process table knows a reader that exited; else what the source found. */
	known = r->tgid ? sw_proctab__exe(p->pt, r->tgid) : NULL;
	r->exe = known && known[0] ? strdup(known) : strndup(ev->path, ev->path_len);
	sw_delivery__release(p->dl, p->now_us, 0, decide, p);
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

	gap_alert(p, rec_time(p, ev->hdr->ktime), what, n, 6);
}

/* Time passes: held alerts come due, flood control summarises, the pipeline's own losses are
 * reported. */
static void restart(struct sw_pipeline *p);

static void on_tick(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct sw_ratelimit_summary sum[32];
	struct sw_alert *a = &p->alert;
	size_t n, i, j;

	/* A daemon's first tick: in a replay of several runs, what the previous daemon did at its
	 * stop happens here, and what it knew is forgotten, as a new daemon knows nothing. */
	if ((ev->hdr->flags & SW_F_FIRST) && p->st.records > 1)
		restart(p);
	p->tick_ktime = ev->hdr->ktime;
	p->tick_real_ns = ev->tick->realtime_ns;
	p->now_us = rec_time(p, ev->hdr->ktime);
	p->tick_seq++;
	p->gaps[GAP_LEARN] = p->learn.dropped - p->st.learn_dropped;
	p->st.learn_dropped = p->learn.dropped;
	p->gaps[GAP_ALERTS] = sw_delivery__dropped(p->dl) - p->st.alerts_dropped;
	p->st.alerts_dropped = sw_delivery__dropped(p->dl);
	gap_alert(p, p->now_us, gap_names, p->gaps, GAP__COUNT);
	memset(p->gaps, 0, sizeof(p->gaps));
	sw_delivery__release(p->dl, p->now_us, 0, decide, p);
	n = sw_delivery__summaries(p->dl, p->now_us, sum, 32);
	for (i = 0; i < n; i++) {
		sw_alertbuild__base(a, SW_ALERT_RATE_LIMITED, p->now_us, p->host, &p->policy);
		for (j = 0; j < p->set->n; j++)
			if (!memcmp(p->set->secrets[j].id, sum[i].secret_id, SW_SECRET_ID_BYTES))
				sw_alertbuild__secret(a, &p->set->secrets[j]);
		if (sum[i].session_id)
			sw_alertbuild__session(a, p->pt, sum[i].session_id);
		a->count = sum[i].suppressed;
		snprintf(a->message, sizeof(a->message), "%llu alert(s) held back by flood control",
			 (unsigned long long)sum[i].suppressed);
		sw_delivery__emit(p->dl, a);
	}
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
		return on_exec(p, ev, comm);
	case SW_EV_EXIT:
		on_exit_rec(p, ev);
		return 0;
	case SW_EV_DATA:
		return on_data(p, ev);
	case SW_EV_OPEN:
		on_open(p, ev);
		return 0;
	case SW_EV_RENAME:
		/* The source checks what the new name turned out to be (SW_EV_RENAMED). */
		return 0;
	case SW_EV_RENAMED:
		on_renamed(p, ev);
		return 0;
	case SW_EV_CHANNEL:
		on_channel(p, ev);
		return 0;
	case SW_EV_SESSION:
		return on_session(p, ev);
	case SW_EV_READER:
		on_reader(p, ev);
		return 0;
	case SW_EV_LOSS:
		on_loss(p, ev);
		return 0;
	case SW_EV_TICK:
		on_tick(p, ev);
		return 0;
	case SW_EV_PROC:
		return on_proc(p, ev, comm);
	case SW_EV_CLOSED:
		on_closed(p, ev);
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
	e = sw_pipeline__record(p, rec, size);
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
	void *c[2] = {p, &h};

	/* As if the process exited now: named from what the process table knows of it. */
	h.pid = h.tgid = pr->tgid;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	sw_rescan__take(p->rescan, pr->tgid, readback_file, c);
}

static void forget(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	(void)dev, (void)ino, (void)gen, (void)path, (void)ctx;
}

void sw_pipeline__stop(struct sw_pipeline *p)
{
	requests_reset(p);
	sw_redact__reset(&p->red);
	sw_proctab__each_proc(p->pt, stop_one, p);
	/* Files of processes the table no longer knows cannot be attributed: dropped. */
	sw_rescan__take_all(p->rescan, forget, NULL);
}

void sw_pipeline__finish(struct sw_pipeline *p)
{
	requests_reset(p);
	p->force = 1;
	sw_delivery__release(p->dl, UINT64_MAX, 1, decide, p);
	p->force = 0;
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
	p->pt = pt;
	p->streams = streams;
	p->rescan = rescan;
	for (i = 0; i < READERS_MAX; i++) {
		free(p->readers[i].exe);
		memset(&p->readers[i], 0, sizeof(p->readers[i]));
	}
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

size_t sw_pipeline__origins(const struct sw_pipeline *p, struct sw_inode_key *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->set->n && n < max; i++) {
		const struct sw_secret *s = &p->set->secrets[i];

		if (!s->origin_ino)
			continue;
		out[n].dev = sw_naming__kernel_dev(s->origin_dev);
		out[n].ino = s->origin_ino;
		n++;
	}
	return n;
}
