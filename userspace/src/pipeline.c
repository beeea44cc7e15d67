// SPDX-License-Identifier: Apache-2.0
/* See pipeline.h. Per record: validate, update the process table, reassemble the artifact's
 * byte stream, match, decide "first time here" in the registry, emit alerts. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "agentcred.h"
#include "agentproc.h"
#include "alert.h"
#include "alertq.h"
#include "artifact.h"
#include "covered.h"
#include "event.h"
#include "matcher.h"
#include "fileio.h"
#include "pipeline.h"
#include "procfs.h"
#include "ratelimit.h"
#include "rescan.h"
#include "rules.h"
#include "detect.h"

#define STREAM_BUCKETS	4096
#define STREAMS_MAX	8192 /* artifact streams with carry-over state kept at once */
#define SINKS_MAX	16
#define MATCHES_MAX	256	    /* matches handled per scanned chunk; more are counted */
#define HELD_MAX	1024	    /* file alerts held back for a rename at once */
#define COPY_READ_MAX	(8u << 20)  /* bytes of a copy's source read back and scanned */
#define RESCAN_READ_MAX (64u << 20) /* bytes of a file read back at its writer's exit */
#define READ_CHUNK	(1u << 20)
#define READERS_MAX	4096  /* replay: recorded pipe readers remembered */
#define ADOPTED_MAX	1024  /* replay: recorded sessions remembered for adoption */
#define RED_DISCOVERED	0x100 /* redaction variant flag: a detector learned it here */
#define LEARNED_MAX	10000 /* secrets detectors may add; more are counted, not tracked */

/* What a data record continues: files by device and inode, pipes by device and inode,
 * sockets by process, fd and inode, ttys by device. Binary, hashed without formatting: this
 * is looked up for every record. */
struct stream_id {
	uint32_t kind; /* enum sw_art_kind */
	uint32_t tgid; /* sockets */
	uint64_t a, b;
};

struct stream_ent {
	struct stream_id key;
	char *path;
	struct sw_stream *s;
	uint64_t used;
	struct stream_ent *next;
};

struct sw_pipeline {
	const struct sw_key *key;
	struct sw_registry *reg;
	struct sw_proctab *pt;
	struct sw_secretset *set;
	struct sw_matcher *m;
	struct sw_sink *sinks[SINKS_MAX];
	size_t nsinks;
	char host[256];
	struct stream_ent *streams[STREAM_BUCKETS];
	size_t nstreams;
	uint64_t tick;
	struct sw_pipeline_stats st;
	struct sw_alert alert; /* scratch: too big for the stack */
	struct sw_match matches[MATCHES_MAX];
	size_t nmatches;
	uint64_t dropped_matches;
	const struct sw_rules *rules;
	struct sw_ratelimit *rl;
	struct sw_alertq *q;
	struct sw_rescan *rescan;
	struct sw_covered *covered; /* shared mappings awaiting their read-back */
	struct sw_agentcred *cred;  /* credentials agents made for themselves */
	int readback_fd;	    /* the file a close event handed over, or -1 */
	uint64_t hold_us;
	int live;
	int (*pipe_reader)(void *ctx, uint64_t kdev, uint64_t ino, uint32_t *tgid);
	void *pipe_reader_ctx;
	uint64_t (*adopt)(void *ctx, uint32_t tgid);
	uint8_t *readbuf; /* READ_CHUNK bytes, wiped after each use */
	/* What the trace log needs of the record being processed: the spans of it that hold
	 * (or may hold) a tracked secret. Only data and exec records have spans. */
	struct sw_redaction red[MATCHES_MAX + 8];
	size_t nred;
	int red_on;
	size_t red_base;    /* offset in the record of the bytes being scanned */
	uint64_t red_start; /* their stream offset */
	size_t red_len;
	uint8_t mflags[MATCHES_MAX]; /* per match: found by a detector in this record */
	/* Replay: the matches the live run recorded with this record. */
	const struct sw_redaction *inject;
	size_t ninject;
	/* Replay: recorded pipe readers and adopted sessions. */
	struct {
		uint64_t dev, ino;
		uint32_t tgid;
	} readers[READERS_MAX];
	size_t readers_next;
	struct {
		uint32_t tgid;
		uint64_t id;
	} adopted[ADOPTED_MAX];
	size_t adopted_next;
	void (*emit_record)(void *ctx, const void *rec, size_t len);
	void (*watch_close)(void *ctx, const char *path);
	size_t learned;	  /* secrets detectors added to the set */
	size_t first_new; /* index of the first secret learned in this record */
	int set_dirty;	  /* learned secrets not yet handed to the daemon */
};

static uint64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static uint64_t id_hash(const struct stream_id *k)
{
	uint64_t h = (k->a ^ ((uint64_t)k->kind << 56) ^ ((uint64_t)k->tgid << 24)) *
		     0x9e3779b97f4a7c15ULL;

	h ^= (k->b + (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

struct sw_pipeline *sw_pipeline__new(const struct sw_pipeline_opts *o)
{
	struct sw_pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* A held-back burst is summarised 10 s after it started, then at most every 10 s. */
	struct sw_ratelimit_config rc = {.burst = 20, .per_minute = 60, .summary_interval_s = 10};

	p->key = o->key;
	p->reg = o->registry;
	p->rules = o->rules;
	p->hold_us = o->hold_ms * 1000ULL;
	p->live = o->live;
	p->pipe_reader = o->pipe_reader;
	p->pipe_reader_ctx = o->pipe_reader_ctx;
	p->adopt = o->adopt;
	p->emit_record = o->emit_record;
	p->watch_close = o->watch_close;
	if (o->rules) {
		rc.burst = sw_rules__policy(o->rules)->flood_burst;
		rc.per_minute = sw_rules__policy(o->rules)->flood_per_minute;
	}
	p->pt = sw_proctab__new(o->live);
	p->set = sw_secretset__new();
	p->m = p->set ? sw_matcher__new(o->key, NULL, 0) : NULL;
	p->rl = sw_ratelimit__new(&rc);
	p->q = sw_alertq__new(HELD_MAX);
	p->rescan = sw_rescan__new();
	p->covered = sw_covered__new();
	p->cred = sw_agentcred__new();
	p->readback_fd = -1;
	p->readbuf = malloc(READ_CHUNK);
	if (!p->pt || !p->set || !p->m || !p->rl || !p->q || !p->rescan || !p->covered ||
	    !p->cred || !p->readbuf) {
		sw_pipeline__free(p);
		errno = ENOMEM;
		return NULL;
	}
	if (o->host)
		snprintf(p->host, sizeof(p->host), "%s", o->host);
	else if (gethostname(p->host, sizeof(p->host) - 1))
		snprintf(p->host, sizeof(p->host), "unknown");
	return p;
}

static void stream_free(struct stream_ent *e)
{
	sw_stream__free(e->s);
	free(e->path);
	free(e);
}

void sw_pipeline__free(struct sw_pipeline *p)
{
	struct stream_ent *e, *n;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < STREAM_BUCKETS; i++)
		for (e = p->streams[i]; e; e = n) {
			n = e->next;
			stream_free(e);
		}
	sw_matcher__free(p->m);
	sw_secretset__free(p->set);
	sw_proctab__free(p->pt);
	sw_ratelimit__free(p->rl);
	sw_alertq__free(p->q);
	sw_rescan__free(p->rescan);
	sw_covered__free(p->covered);
	sw_agentcred__free(p->cred);
	free(p->readbuf);
	free(p);
}

int sw_pipeline__add_sink(struct sw_pipeline *p, struct sw_sink *s)
{
	if (p->nsinks >= SINKS_MAX)
		return -ENOSPC;
	p->sinks[p->nsinks++] = s;
	return 0;
}

int sw_pipeline__set_secrets(struct sw_pipeline *p, struct sw_secretset *set)
{
	struct sw_matcher *m;

	m = sw_matcher__new(p->key, set->secrets, set->n);
	if (!m) {
		int e = -errno;
		sw_secretset__free(set);
		return e;
	}
	sw_matcher__free(p->m);
	sw_secretset__free(p->set);
	p->m = m;
	p->set = set;
	p->first_new = set->n;
	p->learned = 0;
	for (size_t i = 0; i < set->n; i++)
		p->learned += set->secrets[i].learned != 0;
	return 0;
}

const struct sw_secretset *sw_pipeline__secrets(const struct sw_pipeline *p)
{
	return p->set;
}

struct sw_proctab *sw_pipeline__proctab(struct sw_pipeline *p)
{
	return p->pt;
}

void sw_pipeline__stats(const struct sw_pipeline *p, struct sw_pipeline_stats *out)
{
	*out = p->st;
	out->streams = p->nstreams;
	out->suppressed = sw_ratelimit__suppressed_total(p->rl);
}

static void emit(const struct sw_alert *a, void *ctx)
{
	struct sw_pipeline *p = ctx;
	size_t i;

	for (i = 0; i < p->nsinks; i++)
		sw_sink__emit(p->sinks[i], a);
	p->st.alerts++;
}

static void find_pipe_reader(struct sw_pipeline *p, uint32_t writer, uint64_t kdev, uint64_t ino,
			     struct sw_artifact *a);
static void place_severity(struct sw_pipeline *p, struct sw_alert *a);

/* An alert leaves the held queue (or skips it). A pipe alert is decided only now: its reader
 * names it (artifact.dev/ino hold the pipe's kernel dev and inode until then). */
static void released(struct sw_alert *a, void *ctx)
{
	struct sw_pipeline *p = ctx;
	char key[SW_ARTIFACT_KEY_MAX];
	int64_t count;

	if (a->kind == SW_ALERT_SECRET_SPREAD && a->artifact.type == SW_ART_PIPE && !a->count) {
		find_pipe_reader(p, a->process.pid, a->artifact.dev, a->artifact.ino, &a->artifact);
		a->artifact.dev = 0;
		a->artifact.ino = 0;
		sw_artifact__key(&a->artifact, key, sizeof(key));
		count = sw_registry__see(p->reg, a->secret_key, key, now_us());
		if (count != 1)
			return;
		a->count = count;
		a->first_seen = 1;
		place_severity(p, a);
	}
	emit(a, p);
}

/* The alert's secret: its name and id (hex for the world, binary for flood control). */
static void set_secret(struct sw_alert *a, const struct sw_secret *s)
{
	_Static_assert(sizeof(a->secret_key) == SW_SECRET_ID_BYTES, "secret id size");
	a->has_secret = 1;
	sw_secret__id_hex(s, a->secret_id);
	memcpy(a->secret_key, s->id, SW_SECRET_ID_BYTES);
	snprintf(a->secret_name, sizeof(a->secret_name), "%s", s->name);
}

/* Flood control per (secret, session), then either out now or held for a rename. */
static void deliver(struct sw_pipeline *p, struct sw_alert *a)
{
	if (a->has_secret && a->has_session &&
	    !sw_ratelimit__allow(p->rl, a->secret_key, a->session.id, a->time_us))
		return;
	if (p->hold_us && a->has_artifact &&
	    (a->artifact.type == SW_ART_FILE || a->artifact.type == SW_ART_PIPE) &&
	    !sw_alertq__push(p->q, a, a->time_us + p->hold_us))
		return;
	released(a, p);
}

static void evict_lru_stream(struct sw_pipeline *p)
{
	struct stream_ent **pp, **old = NULL, *e;
	size_t i;

	for (i = 0; i < STREAM_BUCKETS; i++)
		for (pp = &p->streams[i]; *pp; pp = &(*pp)->next)
			if (!old || (*pp)->used < (*old)->used)
				old = pp;
	if (!old)
		return;
	e = *old;
	*old = e->next;
	stream_free(e);
	p->nstreams--;
}

static struct stream_ent *stream_get(struct sw_pipeline *p, const struct stream_id *key)
{
	struct stream_ent **pp = &p->streams[id_hash(key) % STREAM_BUCKETS], *e;

	for (; *pp; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->key, key, sizeof(*key))) {
			(*pp)->used = ++p->tick;
			return *pp;
		}
	if (p->nstreams >= STREAMS_MAX) {
		evict_lru_stream(p);
		pp = &p->streams[id_hash(key) % STREAM_BUCKETS];
		while (*pp)
			pp = &(*pp)->next;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *key;
	e->s = sw_stream__new();
	if (!e->s) {
		stream_free(e);
		return NULL;
	}
	e->used = ++p->tick;
	*pp = e;
	p->nstreams++;
	return e;
}

static int any_match(const struct sw_match *m, void *ctx)
{
	(void)m;
	(void)ctx;
	return 1;
}

/* Does s hold a tracked secret in any form? Used to keep argv out of alerts when it carries
 * one: the monitor must never spread what it tracks. */
static int holds_secret(const struct sw_pipeline *p, const char *s, size_t len)
{
	struct sw_stream *st;
	int r;

	if (len < SW_SECRET_MIN)
		return 0;
	st = sw_stream__new();
	if (!st)
		return 1; /* cannot tell: redact */
	r = sw_matcher__scan(p->m, st, s, len, any_match, NULL);
	sw_stream__free(st);
	return r != 0;
}

static void fill_process(const struct sw_pipeline *p, struct sw_alert *a, const struct sw_event *ev,
			 const struct sw_proc *pr)
{
	const char *s, *end;
	uint32_t n = 0;

	a->has_process = 1;
	a->process.pid = ev->hdr->tgid;
	a->process.ppid = ev->hdr->ppid;
	a->process.uid = ev->hdr->uid;
	memcpy(a->process.comm, ev->hdr->comm, sizeof(a->process.comm));
	a->process.comm[sizeof(a->process.comm) - 1] = 0;
	a->process.exe[0] = 0;
	a->process.argc = 0;
	if (!pr)
		return;
	snprintf(a->process.exe, sizeof(a->process.exe), "%s", pr->exe);
	s = pr->args;
	end = pr->args + pr->args_len;
	while (s < end && n < SW_ARGV_MAX) {
		size_t len = strnlen(s, end - s);

		a->process.argv[n++] = holds_secret(p, s, len) ? "[redacted]" : s;
		s += len + 1;
	}
	a->process.argc = n;
}

static void fill_session(struct sw_pipeline *p, struct sw_alert *a, uint64_t id)
{
	const struct sw_session *s = sw_proctab__find_session(p->pt, id);

	a->has_session = 1;
	a->session.id = id;
	a->session.agent[0] = 0;
	a->session.root_pid = 0;
	a->session.root_exe[0] = 0;
	if (!s)
		return;
	snprintf(a->session.agent, sizeof(a->session.agent), "%s", s->agent);
	a->session.root_pid = s->root_pid;
	snprintf(a->session.root_exe, sizeof(a->session.root_exe), "%s", s->root_exe);
}

static void add_red(struct sw_pipeline *p, size_t off, size_t len, const uint8_t *id,
		    uint32_t variant)
{
	struct sw_redaction *r;

	if (p->nred >= sizeof(p->red) / sizeof(p->red[0])) {
		/* Out of room: cover everything from here to the end of the scanned bytes. */
		r = &p->red[p->nred - 1];
		memset(r->secret_id, 0, sizeof(r->secret_id));
		if (off < r->offset)
			r->offset = off;
		r->length = p->red_base + p->red_len - r->offset;
		r->variant = 0;
		return;
	}
	r = &p->red[p->nred++];
	r->offset = off;
	r->length = len;
	if (id)
		memcpy(r->secret_id, id, sizeof(r->secret_id));
	else
		memset(r->secret_id, 0, sizeof(r->secret_id));
	r->variant = variant;
}

/* Replay: the matches recorded with the scanned bytes join the matcher's. */
static void inject_matches(struct sw_pipeline *p)
{
	static const uint8_t zero[SW_SECRET_ID_BYTES];
	const struct sw_secret *s;
	size_t i;

	for (i = 0; i < p->ninject && p->nmatches < MATCHES_MAX; i++) {
		const struct sw_redaction *r = &p->inject[i];

		if (!memcmp(r->secret_id, zero, sizeof(zero)) || r->offset < p->red_base ||
		    r->offset >= p->red_base + p->red_len)
			continue;
		s = sw_secretset__find_id(p->set, r->secret_id);
		if (!s) {
			p->st.replay_unknown++;
			continue;
		}
		p->mflags[p->nmatches] = (r->variant & RED_DISCOVERED) != 0;
		p->matches[p->nmatches].secret = s - p->set->secrets;
		p->matches[p->nmatches].variant = r->variant & 0xff;
		p->matches[p->nmatches].len = r->length;
		p->matches[p->nmatches].offset = p->red_start + (r->offset - p->red_base);
		p->nmatches++;
	}
}

static int collect(const struct sw_match *m, void *ctx)
{
	struct sw_pipeline *p = ctx;

	if (p->nmatches >= MATCHES_MAX) {
		p->dropped_matches++;
		return 0;
	}
	p->mflags[p->nmatches] = m->secret >= p->first_new;
	p->matches[p->nmatches++] = *m;
	if (p->red_on) {
		/* The part of the match inside the scanned bytes; a part in an earlier record
		 * was redacted there as unsettled. */
		uint64_t s = m->offset > p->red_start ? m->offset : p->red_start;
		uint64_t e = m->offset + m->len, end = p->red_start + p->red_len;

		if (e > end)
			e = end;
		if (e > s)
			add_red(p, p->red_base + (s - p->red_start), e - s,
				p->set->secrets[m->secret].id,
				m->variant | (p->mflags[p->nmatches - 1] ? RED_DISCOVERED : 0));
	}
	return 0;
}

/* Severity by place: the policy's table by artifact type, with two places of their own: an
 * agent's transcript, and a pipe into the agent itself (the tool output it reads into its
 * context, and so into the next prompt). */
static void place_severity(struct sw_pipeline *p, struct sw_alert *a)
{
	const struct sw_artifact *art = &a->artifact;
	const char *label = NULL,
		   *home = a->has_session ? sw_proctab__home(p->pt, a->session.id) : NULL;
	unsigned int place = art->type;

	if (art->type == SW_ART_FILE && p->rules &&
	    sw_rules__transcript(p->rules, art->path, home, &label)) {
		place = SW_PLACE_TRANSCRIPT;
		snprintf(a->message, sizeof(a->message), "the %s agent's transcript", label);
	} else if (art->type == SW_ART_FILE && p->rules &&
		   sw_rules__tool_output(p->rules, art->path, home, &label)) {
		place = SW_PLACE_AGENT_PIPE;
		snprintf(a->message, sizeof(a->message),
			 "tool output the %s agent reads back: now in its context and next prompt",
			 label);
	} else if (art->type == SW_ART_PIPE && a->has_session &&
		   sw_agentproc__is_agent(p->pt, a->session.id, art->reader_pid)) {
		place = SW_PLACE_AGENT_PIPE;
		snprintf(a->message, sizeof(a->message),
			 "tool output piped into the agent: now in its context and next prompt");
	} else if (art->type == SW_ART_TTY && a->has_session &&
		   sw_agentproc__is_agent(p->pt, a->session.id, art->reader_pid)) {
		place = SW_PLACE_AGENT_PIPE;
		snprintf(a->message, sizeof(a->message),
			 "tool output through a terminal the agent reads: now in its context and "
			 "next prompt");
	}
	if (p->rules)
		a->severity = sw_rules__severity(p->rules, place);
	else
		a->severity = sw_alert__default_severity(
			a->kind, place < SW_ART__COUNT ? place : SW_ART_PIPE);
}

/* A secret's own origin, and the places the policy allows it, are not spread. */
static int known_place(const struct sw_pipeline *p, const struct sw_secret *s,
		       const struct sw_artifact *art)
{
	if (art->type != SW_ART_FILE)
		return 0;
	if (s->origin_ino && s->origin_dev == art->dev && s->origin_ino == art->ino)
		return 1;
	return p->rules && art->path[0] && sw_rules__allowlisted(p->rules, s->name, art->path);
}

/* A detector's find in a file where the session's agent keeps a credential it made for
 * itself: the agent's own, not news. (It is learned all the same: elsewhere it alerts.) */
static int agent_credential(struct sw_pipeline *p, const struct sw_event *ev,
			    const struct sw_artifact *art)
{
	return art->type == SW_ART_FILE && p->rules &&
	       sw_rules__credentials(p->rules, art->path,
				     sw_proctab__home(p->pt, ev->hdr->session_id), NULL);
}

static void spread(struct sw_pipeline *p, const struct sw_event *ev, const struct sw_proc *pr,
		   const struct sw_artifact *art, const char *key)
{
	struct sw_alert *a = &p->alert;
	const struct sw_secret *s;
	int64_t count;
	size_t i;

	for (i = 0; i < p->nmatches; i++) {
		s = &p->set->secrets[p->matches[i].secret];
		p->st.matches++;
		if (known_place(p, s, art) || (p->mflags[i] && agent_credential(p, ev, art)) ||
		    (s->learned && sw_agentcred__has(p->cred, s->id)))
			continue;
		/* A pipe's identity is its reader, known for sure only once the reader has
		 * read: the decision waits in the held queue (count 0 = undecided). */
		count = key ? sw_registry__see(p->reg, s->id, key, now_us()) : 0;
		if (key && count != 1)
			continue;
		memset(a, 0, sizeof(*a));
		a->time_us = now_us();
		/* Where a detector first found an unregistered secret, the alert says so. */
		a->kind = p->mflags[i] ? SW_ALERT_SECRET_DISCOVERED : SW_ALERT_SECRET_SPREAD;
		snprintf(a->host, sizeof(a->host), "%s", p->host);
		if (a->kind == SW_ALERT_SECRET_DISCOVERED)
			snprintf(
				a->message, sizeof(a->message),
				"detector %s found a secret nobody registered; it is tracked as %s "
				"from now on",
				s->detector, s->name);
		set_secret(a, s);
		snprintf(a->variant, sizeof(a->variant), "%s",
			 sw_variant__name(p->matches[i].variant));
		a->has_artifact = 1;
		a->artifact = *art;
		fill_process(p, a, ev, pr);
		fill_session(p, a, ev->hdr->session_id);
		a->first_seen = 1;
		a->count = count;
		if (s->origin[0]) {
			a->has_origin = 1;
			snprintf(a->origin_path, sizeof(a->origin_path), "%s", s->origin);
		}
		a->first_seen = count == 1;
		place_severity(p, a);
		if (a->kind == SW_ALERT_SECRET_DISCOVERED)
			a->severity = sw_alert__default_severity(a->kind, art->type);
		deliver(p, a);
	}
	p->nmatches = 0;
}

/* The kernel's dev_t is major:minor in 12:20 bits; users know stat's encoding. */
static uint64_t user_dev(uint64_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

static uint64_t kernel_dev(uint64_t udev)
{
	return ((uint64_t)major(udev) << 20) | minor(udev);
}

/* Reads [off, off + len) of path (which must still be dev/ino) through the matcher into
 * stream st. A short read is fine: the file may have shrunk. Returns 0 or a negative errno. */
static int scan_file(struct sw_pipeline *p, const char *path, uint64_t dev, uint64_t ino,
		     uint64_t off, uint64_t len, struct sw_stream *st)
{
	struct stat sb;
	ssize_t n;
	int fd, e = 0;

	/* The file a close event handed over is this very file, whatever its name is now. */
	if (p->readback_fd >= 0)
		fd = fcntl(p->readback_fd, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_dev != dev || sb.st_ino != ino) {
		close(fd);
		return -ESTALE;
	}
	while (len > 0) {
		n = pread(fd, p->readbuf, len < READ_CHUNK ? len : READ_CHUNK, off);
		if (n < 0) {
			e = -errno;
			break;
		}
		if (n == 0)
			break;
		sw_matcher__scan(p->m, st, p->readbuf, n, collect, p);
		off += n;
		len -= n;
	}
	sodium_memzero(p->readbuf, READ_CHUNK);
	close(fd);
	return e;
}

/* A copy without a user buffer: what the destination received is the source's bytes, read
 * back from the source file. */
static void scan_copy_source(struct sw_pipeline *p, const struct sw_event *ev, struct sw_stream *st)
{
	const struct sw_data_rec *d = ev->data;
	char path[SW_PATH_LEN + 1];
	uint64_t len = d->total;

	/* Replay: the source may have changed since; copies are not read back. */
	if (!p->live) {
		p->st.replay_unread++;
		return;
	}
	if (d->src_kind != SW_AK_FILE || !ev->src_path_len || d->src_pos < 0) {
		p->st.copies_unread++;
		return;
	}
	if (len > COPY_READ_MAX)
		len = COPY_READ_MAX;
	snprintf(path, sizeof(path), "%.*s", (int)ev->src_path_len, ev->src_path);
	if (scan_file(p, path, user_dev(d->src_dev), d->src_ino, d->src_pos, len, st))
		p->st.copies_unread++;
}

/* Finds the process reading a pipe: the session process the kernel saw read it last (it may
 * have exited since), else whoever holds its read end now, from /proc, bounded. */
/* Replay: the newest recorded reader of the pipe. */
static uint32_t replay_reader(const struct sw_pipeline *p, uint64_t kdev, uint64_t ino)
{
	size_t i, j;

	for (i = 0; i < READERS_MAX; i++) {
		j = (p->readers_next + READERS_MAX - 1 - i) % READERS_MAX;
		if (p->readers[j].tgid && p->readers[j].dev == kdev && p->readers[j].ino == ino)
			return p->readers[j].tgid;
	}
	return 0;
}

static void find_pipe_reader(struct sw_pipeline *p, uint32_t writer, uint64_t kdev, uint64_t ino,
			     struct sw_artifact *a)
{
	const char *known;
	uint32_t pid = 0;
	char *exe;

	if (!p->pipe_reader || !p->pipe_reader(p->pipe_reader_ctx, kdev, ino, &pid) ||
	    pid == writer)
		pid = p->live ? sw_procfs__pipe_reader(ino, writer) : replay_reader(p, kdev, ino);
	if (pid && p->emit_record) {
		struct sw_reader_rec r = {.hdr = {.type = SW_EV_READER, .size = sizeof(r)}};

		r.hdr.pid = r.hdr.tgid = pid;
		r.dev = kdev;
		r.ino = ino;
		p->emit_record(p->pipe_reader_ctx, &r, sizeof(r));
	}
	a->reader_pid = pid;
	a->reader_exe[0] = 0;
	if (!pid)
		return;
	known = sw_proctab__exe(p->pt, pid);
	if (known && known[0]) {
		snprintf(a->reader_exe, sizeof(a->reader_exe), "%s", known);
		return;
	}
	exe = sw_procfs__exe(pid);
	if (exe)
		snprintf(a->reader_exe, sizeof(a->reader_exe), "%s", exe);
	free(exe);
}

/* A pseudo-terminal whose master side an agent process of the writer's session holds: the
 * agent reads what a tool writes there (a tool run on a pty). Live from /proc, recorded as a
 * reader record (dev = the terminal's rdev, ino 0: no pipe has inode 0); a replay takes the
 * record. Sets a->reader_pid (not part of a tty artifact's JSON). */
static void find_tty_reader(struct sw_pipeline *p, const struct sw_event *ev, uint64_t rdev,
			    struct sw_artifact *a)
{
	uint32_t pids[16], pid = 0, index;
	size_t n, i;
	char *end;

	if (strncmp(a->path, "/dev/pts/", 9) || !a->path[9])
		return;
	index = strtoul(a->path + 9, &end, 10);
	if (*end)
		return;
	if (!p->live) {
		a->reader_pid = replay_reader(p, rdev, 0);
		return;
	}
	n = sw_procfs__pty_masters(index, ev->hdr->tgid, pids, 16);
	for (i = 0; i < n && !pid; i++)
		if (sw_agentproc__is_agent(p->pt, ev->hdr->session_id, pids[i]))
			pid = pids[i];
	if (pid && p->emit_record) {
		struct sw_reader_rec r = {.hdr = {.type = SW_EV_READER, .size = sizeof(r)}};

		r.hdr.pid = r.hdr.tgid = pid;
		r.dev = rdev;
		p->emit_record(p->pipe_reader_ctx, &r, sizeof(r));
	}
	a->reader_pid = pid;
}

static void name_socket(const struct sw_data_rec *d, const struct sw_event *ev,
			struct sw_artifact *a)
{
	char ip[INET6_ADDRSTRLEN];

	a->type = SW_ART_SOCKET;
	if (d->family == AF_UNIX) {
		snprintf(a->proto, sizeof(a->proto), "unix");
		snprintf(a->peer, sizeof(a->peer), "%.*s", (int)ev->path_len, ev->path);
		return;
	}
	snprintf(a->proto, sizeof(a->proto), "%s",
		 d->protocol == IPPROTO_UDP   ? "udp"
		 : d->protocol == IPPROTO_TCP ? "tcp"
					      : "ip");
	if (d->family == AF_INET6) {
		inet_ntop(AF_INET6, d->addr, ip, sizeof(ip));
		snprintf(a->peer, sizeof(a->peer), "[%s]:%u", ip, d->port);
	} else {
		inet_ntop(AF_INET, d->addr, ip, sizeof(ip));
		snprintf(a->peer, sizeof(a->peer), "%s:%u", ip, d->port);
	}
}

static void stream_key(const struct sw_data_rec *d, const struct sw_event *ev, struct stream_id *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = d->art_kind;
	switch (d->art_kind) {
	case SW_AK_FILE:
	case SW_AK_PIPE:
		k->a = d->dev;
		k->b = d->ino;
		break;
	case SW_AK_SOCKET:
		k->tgid = ev->hdr->tgid;
		k->a = (uint32_t)d->fd;
		k->b = d->ino;
		break;
	default:
		k->a = d->rdev;
		break;
	}
}

struct learn_ctx {
	struct sw_pipeline *p;
	const uint8_t *data;
	int changed;
};

/* A detector hit: fingerprint the value at once (the copy is wiped by the fingerprinting) and
 * track it, unless it is tracked already. */
static int learn_hit(const struct sw_detect_hit *h, void *ctx)
{
	struct learn_ctx *c = ctx;
	struct sw_pipeline *p = c->p;
	uint8_t value[SW_SECRET_MAX];
	char id[2 * SW_SECRET_ID_BYTES + 1];
	struct sw_secret s;

	if (h->len < SW_SECRET_MIN || h->len > SW_SECRET_MAX)
		return 0;
	if (p->learned >= LEARNED_MAX) {
		p->st.learn_dropped++;
		return 0;
	}
	memset(&s, 0, sizeof(s));
	memcpy(value, c->data + h->offset, h->len);
	if (sw_fingerprint__secret(p->key, value, h->len, &s))
		return 0;
	if (sw_secretset__find_id(p->set, s.id) || sw_agentcred__has(p->cred, s.id)) {
		sw_secret__clear(&s);
		return 0;
	}
	sw_secret__id_hex(&s, id);
	snprintf(s.name, sizeof(s.name), "%s-%.8s", h->rule->id, id);
	snprintf(s.detector, sizeof(s.detector), "%s", h->rule->id);
	s.learned = 1;
	s.created = now_us() / 1000000;
	if (sw_secretset__put(p->set, &s)) {
		sw_secret__clear(&s);
		return 0;
	}
	p->learned++;
	c->changed = 1;
	return 0;
}

/* Runs the detectors over bytes a session wrote; newly learned secrets are in the matcher
 * before the bytes are matched, so the place they were found is their first sighting. */
static void discover(struct sw_pipeline *p, const void *data, size_t len)
{
	struct learn_ctx c = {.p = p, .data = data};
	struct sw_matcher *m;

	p->first_new = p->set->n;
	if (!p->rules || !len)
		return;
	sw_detect__scan(p->rules, data, len, learn_hit, &c);
	if (!c.changed)
		return;
	m = sw_matcher__new(p->key, p->set->secrets, p->set->n);
	if (!m) {
		p->first_new = p->set->n;
		return;
	}
	sw_matcher__free(p->m);
	p->m = m;
	p->set_dirty = 1;
}

/* Remembers a file to read back, and asks to hear of its closes. */
static void rescan_add(struct sw_pipeline *p, uint32_t tgid, uint64_t dev, uint64_t ino,
		       uint32_t gen, const char *path)
{
	if (sw_rescan__add(p->rescan, tgid, dev, ino, gen, path) || !p->watch_close)
		return;
	p->watch_close(p->pipe_reader_ctx, path);
	/* Closed before we could ask to hear of it: this is the close. */
	if (p->live && !sw_procfs__has_open(tgid, dev, ino))
		sw_pipeline__closed(p, tgid, dev, ino, -1);
}

static int on_data(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	char key[SW_ARTIFACT_KEY_MAX];
	struct stream_id skey;
	const struct sw_proc *pr;
	struct stream_ent *se;
	struct sw_artifact *a;

	p->st.data_bytes += ev->bytes_len;
	if (d->art_kind < SW_AK_FILE || d->art_kind > SW_AK_TTY)
		return 0;
	stream_key(d, ev, &skey);
	se = stream_get(p, &skey);
	if (!se)
		return -ENOMEM;
	/* Only the first chunk of a syscall names the artifact; later chunks reuse it. */
	if (ev->path_len && d->art_kind != SW_AK_SOCKET) {
		char *np = strndup(ev->path, ev->path_len);
		if (np) {
			free(se->path);
			se->path = np;
		}
	}
	p->nmatches = 0;
	if (ev->hdr->flags & SW_F_COPY) {
		p->first_new = p->set->n;
		scan_copy_source(p, ev, se->s);
	} else {
		uint64_t unsettled;

		discover(p, ev->bytes, ev->bytes_len);
		p->red_on = 1;
		p->red_base = (const char *)ev->bytes - (const char *)ev->hdr;
		p->red_start = sw_stream__offset(se->s);
		p->red_len = ev->bytes_len;
		sw_matcher__scan(p->m, se->s, ev->bytes, ev->bytes_len, collect, p);
		/* The tail that may begin a secret the next write completes. */
		unsettled = sw_stream__unsettled(se->s, p->m);
		if (unsettled < p->red_start)
			unsettled = p->red_start;
		if (unsettled < p->red_start + p->red_len)
			add_red(p, p->red_base + (unsettled - p->red_start),
				p->red_start + p->red_len - unsettled, NULL, 0);
		p->red_on = 0;
		inject_matches(p);
	}
	/* A write at an explicit position may land out of order: read the file back at exit. */
	if (d->art_kind == SW_AK_FILE && d->file_pos >= 0 && se->path)
		rescan_add(p, ev->hdr->tgid, user_dev(d->dev), d->ino, d->gen, se->path);
	if (!p->nmatches)
		return 0;
	/* Naming the artifact fully costs (a /proc scan for pipes): only on a match. */
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	switch (d->art_kind) {
	case SW_AK_FILE:
		a->type = SW_ART_FILE;
		/* The kernel's dev_t is major:minor in 12:20 bits; users know stat's encoding. */
		a->dev = user_dev(d->dev);
		a->ino = d->ino;
		a->gen = d->gen;
		if (!se->path && p->live)
			se->path = sw_procfs__fd_path(ev->hdr->tgid, d->fd);
		if (se->path)
			snprintf(a->path, sizeof(a->path), "%s", se->path);
		break;
	case SW_AK_PIPE:
		a->type = SW_ART_PIPE;
		if (!p->hold_us)
			find_pipe_reader(p, ev->hdr->tgid, d->dev, d->ino, a);
		a->dev = d->dev;
		a->ino = d->ino;
		break;
	case SW_AK_TTY:
		a->type = SW_ART_TTY;
		if (se->path)
			snprintf(a->path, sizeof(a->path), "%s", se->path);
		find_tty_reader(p, ev, d->rdev, a);
		break;
	default:
		name_socket(d, ev, a);
		break;
	}
	sw_artifact__key(a, key, sizeof(key));
	pr = sw_proctab__get(p->pt, ev->hdr->tgid, ev->hdr->ppid, ev->hdr->uid, ev->hdr->session_id,
			     ev->hdr->comm);
	spread(p, ev, pr, a, a->type == SW_ART_PIPE && p->hold_us ? NULL : key);
	free(a);
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

/* argv and the environment of an exec are artifacts of their own: each element is scanned as
 * a fresh stream. */
static void on_exec_strings(struct sw_pipeline *p, const struct sw_event *ev, int env)
{
	const char *s = env ? ev->env : ev->args, *end = s + (env ? ev->env_len : ev->args_len);
	char key[SW_ARTIFACT_KEY_MAX];
	const struct sw_proc *pr = NULL;
	struct sw_artifact *a = NULL;
	struct sw_stream *st;
	uint32_t index = 0;
	size_t len;

	for (; s < end && index < 65536; s += len + 1, index++) {
		len = strnlen(s, end - s);
		if (len < SW_SECRET_MIN)
			continue;
		st = sw_stream__new();
		if (!st)
			return;
		p->nmatches = 0;
		/* An agent's own credential for its tools is no discovery. */
		if (!env || !sw_agentcred__env(p->cred, p->rules, p->pt, p->key, ev, s, len))
			discover(p, s, len);
		p->red_on = 1;
		p->red_base = s - (const char *)ev->hdr;
		p->red_start = 0;
		p->red_len = len;
		sw_matcher__scan(p->m, st, s, len, collect, p);
		p->red_on = 0;
		inject_matches(p);
		sw_stream__free(st);
		if (!p->nmatches)
			continue;
		if (!a) {
			a = calloc(1, sizeof(*a));
			if (!a)
				return;
			pr = sw_proctab__find(p->pt, ev->hdr->tgid);
		}
		memset(a, 0, sizeof(*a));
		a->type = env ? SW_ART_EXEC_ENV : SW_ART_EXEC_ARG;
		snprintf(a->path, sizeof(a->path), "%.*s", (int)ev->filename_len, ev->filename);
		if (env) {
			const char *eq = memchr(s, '=', len);
			snprintf(a->name, sizeof(a->name), "%.*s", eq ? (int)(eq - s) : 0, s);
		} else {
			a->index = index;
		}
		sw_artifact__key(a, key, sizeof(key));
		if (env)
			env_place(p, ev, a, key, sizeof(key));
		spread(p, ev, pr, a, key);
	}
	free(a);
}

static void channel_alert(struct sw_pipeline *p, const struct sw_event *ev, uint64_t session,
			  uint32_t channel, uint64_t dev, uint64_t ino, uint32_t gen,
			  const char *path, size_t path_len, int failed);

struct rescan_ctx {
	struct sw_pipeline *p;
	const struct sw_event *ev;
	const struct sw_proc *pr;
};

/* Reads a file back and alerts the secrets in it; returns 0 when it was read whole (in replay:
 * taken as read), else a negative errno. */
static int rescan_file(struct rescan_ctx *c, uint64_t dev, uint64_t ino, uint32_t gen,
		       const char *path)
{
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_artifact *a;
	struct sw_stream *st;
	int e = -ENOMEM;

	if (!c->p->live) {
		/* The trace does not say how the live read-back went: taken as whole. */
		c->p->st.replay_unread++;
		return 0;
	}
	st = sw_stream__new();
	a = calloc(1, sizeof(*a));
	if (!st || !a)
		goto out;
	c->p->nmatches = 0;
	e = scan_file(c->p, path, dev, ino, 0, RESCAN_READ_MAX, st);
	if (c->p->nmatches && c->ev) {
		a->type = SW_ART_FILE;
		a->dev = dev;
		a->ino = ino;
		a->gen = gen;
		snprintf(a->path, sizeof(a->path), "%s", path);
		sw_artifact__key(a, key, sizeof(key));
		spread(c->p, c->ev, c->pr, a, key);
	}
	c->p->nmatches = 0;
out:
	sw_stream__free(st);
	free(a);
	return e;
}

static void rescan_one(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	struct rescan_ctx *c = ctx;

	sw_covered__result(c->p->covered, dev, ino, gen, rescan_file(c, dev, ino, gen, path));
}

/* A covered channel whose file's latest read-back failed (or never happened) when its process
 * exited: one more read-back now, and only if that fails too, an unmonitored channel. */
static void covered_failed(const struct sw_covered_ent *e, void *ctx)
{
	struct rescan_ctx *c = ctx;
	int r = rescan_file(c, e->dev, e->ino, e->gen, e->path);

	if (r)
		channel_alert(c->p, c->ev, e->session, e->channel, e->dev, e->ino, e->gen, e->path,
			      strlen(e->path), r);
}

void sw_pipeline__closed(struct sw_pipeline *p, uint32_t pid, uint64_t dev, uint64_t ino, int fd)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, pid);
	struct sw_hdr h = {.type = SW_EV_EXIT};
	struct sw_event ev = {.hdr = &h};
	struct rescan_ctx c = {.p = p, .ev = &ev, .pr = pr};

	/* Only a session process's close says anything about its session's writes. */
	if (!pr || !pr->session_id)
		return;
	h.pid = h.tgid = pid;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	p->readback_fd = fd;
	sw_rescan__peek_file(p->rescan, dev, ino, rescan_one, &c);
	p->readback_fd = -1;
	/* pid let go of the file (no descriptor, no mapping): what it wrote through its mapping
	 * is all in what was just read back; a later failure (SQLite removes its -shm file on the
	 * last close) loses nothing. */
	if (p->live && !sw_procfs__has_open(pid, dev, ino) &&
	    !sw_procfs__has_mapping(pid, dev, ino))
		sw_covered__settle(p->covered, pid, dev, ino);
}

/* The process is gone: read back what it may have written where write() did not show it. */
static void on_exit_rec(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct rescan_ctx c = {.p = p, .ev = ev};

	c.pr = sw_proctab__find(p->pt, ev->hdr->tgid);
	sw_rescan__take(p->rescan, ev->hdr->tgid, rescan_one, &c);
	sw_covered__take(p->covered, ev->hdr->tgid, covered_failed, &c);
	sw_proctab__exit(p->pt, ev->hdr->tgid);
}

static void rescan_live(const struct sw_proc *pr, void *ctx)
{
	struct sw_pipeline *p = ctx;
	struct sw_hdr h = {.type = SW_EV_EXIT};
	struct sw_event ev = {.hdr = &h};
	struct rescan_ctx c = {.p = p, .ev = &ev, .pr = pr};

	/* As if the process exited now: named from what the process table knows of it. */
	h.pid = h.tgid = pr->tgid;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	sw_rescan__take(p->rescan, pr->tgid, rescan_one, &c);
	sw_covered__take(p->covered, pr->tgid, covered_failed, &c);
}

static void forget(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx)
{
	(void)dev, (void)ino, (void)gen, (void)path, (void)ctx;
}

void sw_pipeline__rescan_all(struct sw_pipeline *p)
{
	sw_proctab__each_proc(p->pt, rescan_live, p);
	/* Files of processes the table no longer knows cannot be attributed: dropped. */
	sw_rescan__take_all(p->rescan, forget, NULL);
}

static void base_alert(struct sw_pipeline *p, struct sw_alert *a, enum sw_alert_kind kind,
		       const struct sw_event *ev)
{
	memset(a, 0, sizeof(*a));
	a->time_us = now_us();
	a->kind = kind;
	snprintf(a->host, sizeof(a->host), "%s", p->host);
	fill_process(p, a, ev,
		     sw_proctab__get(p->pt, ev->hdr->tgid, ev->hdr->ppid, ev->hdr->uid,
				     ev->hdr->session_id, ev->hdr->comm));
	fill_session(p, a, ev->hdr->session_id);
	a->severity = sw_alert__default_severity(kind, SW_ART_FILE);
}

/* A session opened a secret's origin: the agent read the secret (exposure), once per secret
 * and session. */
static void on_open(struct sw_pipeline *p, const struct sw_event *ev)
{
	uint64_t dev = user_dev(ev->open->dev);
	struct sw_alert *a = &p->alert;
	char key[96];
	size_t i;

	for (i = 0; i < p->set->n; i++) {
		const struct sw_secret *s = &p->set->secrets[i];

		if (s->origin_dev != dev || s->origin_ino != ev->open->ino)
			continue;
		snprintf(key, sizeof(key), "exposure:%llu",
			 (unsigned long long)ev->hdr->session_id);
		if (sw_registry__see(p->reg, s->id, key, now_us()) != 1)
			continue;
		base_alert(p, a, SW_ALERT_SECRET_EXPOSURE, ev);
		set_secret(a, s);
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
		emit(a, p);
	}
}

/* rename or link: the file keeps its identity (dev, ino) under a new name; held alerts and
 * the stream's display path follow it. */
static void renamed(struct sw_pipeline *p, uint64_t dev, uint64_t ino, const char *path);

static void on_rename(struct sw_pipeline *p, const struct sw_event *ev)
{
	char path[2 * SW_PATH_LEN + 2];
	struct stat sb;

	if (ev->path_len)
		snprintf(path, sizeof(path), "%.*s/%.*s", (int)ev->path_len, ev->path,
			 (int)ev->src_path_len, ev->src_path);
	else
		snprintf(path, sizeof(path), "%.*s", (int)ev->src_path_len, ev->src_path);
	/* Replay: what the name turned out to be was recorded (SW_EV_RENAMED). */
	if (!p->live || lstat(path, &sb) || !S_ISREG(sb.st_mode))
		return;
	if (p->emit_record) {
		struct {
			struct sw_renamed_rec r;
			char path[SW_PATH_LEN];
		} rr = {.r = {.hdr = *ev->hdr}};
		size_t len = strnlen(path, SW_PATH_LEN);

		rr.r.hdr.type = SW_EV_RENAMED;
		rr.r.hdr.size = sizeof(rr.r) + len;
		rr.r.dev = sb.st_dev;
		rr.r.ino = sb.st_ino;
		rr.r.path_len = len;
		memcpy(rr.path, path, len);
		p->emit_record(p->pipe_reader_ctx, &rr, rr.r.hdr.size);
	}
	renamed(p, sb.st_dev, sb.st_ino, path);
}

/* A file (dev, ino) now has this name: held alerts and the stream's display path follow. */
static void renamed(struct sw_pipeline *p, uint64_t dev, uint64_t ino, const char *path)
{
	struct stream_id skey = {.kind = SW_AK_FILE};
	struct stream_ent *se;

	sw_alertq__rename(p->q, dev, ino, path);
	skey.a = kernel_dev(dev);
	skey.b = ino;
	se = stream_get(p, &skey);
	if (se) {
		char *np = strdup(path);
		if (np) {
			free(se->path);
			se->path = np;
		}
	}
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

/* An unmonitored_channel alert, once per session, channel and file (dev in stat's encoding;
 * ino 0: no file). failed: the error of the read-back that should have covered it, or 0. */
static void channel_alert(struct sw_pipeline *p, const struct sw_event *ev, uint64_t session,
			  uint32_t channel, uint64_t dev, uint64_t ino, uint32_t gen,
			  const char *path, size_t path_len, int failed)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	struct sw_alert *a = &p->alert;
	char key[SW_PATH_LEN + 128];

	snprintf(key, sizeof(key), "channel:%s:%llu:%llu:%llu:%u", channel_name(channel),
		 (unsigned long long)session, (unsigned long long)kernel_dev(dev),
		 (unsigned long long)ino, gen);
	if (sw_registry__see(p->reg, no_secret, key, now_us()) != 1)
		return;
	base_alert(p, a, SW_ALERT_UNMONITORED_CHANNEL, ev);
	snprintf(a->channel, sizeof(a->channel), "%s", channel_name(channel));
	if (ino) {
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		a->artifact.dev = dev;
		a->artifact.ino = ino;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)path_len, path);
	}
	a->first_seen = 1;
	a->count = 1;
	if (failed == -ENOENT)
		snprintf(a->message, sizeof(a->message),
			 "%s bypasses the syscalls sprawlwatch sees, and the file was gone before "
			 "it could be read back",
			 a->channel);
	else if (failed == -ESTALE)
		snprintf(a->message, sizeof(a->message),
			 "%s bypasses the syscalls sprawlwatch sees, and the file was replaced "
			 "before it could be read back",
			 a->channel);
	else if (failed < 0)
		snprintf(a->message, sizeof(a->message),
			 "%s bypasses the syscalls sprawlwatch sees, and reading the file back "
			 "failed: %s",
			 a->channel, strerror(-failed));
	else
		snprintf(
			a->message, sizeof(a->message),
			"%s bypasses the syscalls sprawlwatch sees; files it touched are read back "
			"when the process exits",
			a->channel);
	emit(a, p);
}

/* A channel the syscall hooks cannot see into. A shared mapping of a file is covered by
 * reading the file back at close and exit: reported only if that fails (see covered.h).
 * Anything else is reported now (once per session, channel and file); its files are read
 * back too. */
static void on_channel(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_channel_rec *c = ev->channel;

	if (c->ino && ev->path_len) {
		char path[SW_PATH_LEN + 1];

		snprintf(path, sizeof(path), "%.*s", (int)ev->path_len, ev->path);
		if (c->channel == SW_CH_MMAP_SHARED &&
		    !sw_covered__add(p->covered, ev->hdr->session_id, ev->hdr->tgid, c->channel,
				     user_dev(c->dev), c->ino, c->gen, path)) {
			rescan_add(p, ev->hdr->tgid, user_dev(c->dev), c->ino, c->gen, path);
			return;
		}
		rescan_add(p, ev->hdr->tgid, user_dev(c->dev), c->ino, c->gen, path);
		/* io_uring names the session's writable files one by one (open before and after
		 * its setup): read back, not alerted each; the setup itself alerted. */
		if (c->channel == SW_CH_IO_URING)
			return;
	}
	channel_alert(p, ev, ev->hdr->session_id, c->channel, user_dev(c->dev), c->ino, c->gen,
		      ev->path, ev->path_len, 0);
}

void sw_pipeline__flush(struct sw_pipeline *p, uint64_t now, int force)
{
	struct sw_ratelimit_summary sum[32];
	struct sw_alert *a = &p->alert;
	size_t n, i, j;

	sw_alertq__drain(p->q, now, force, released, p);
	n = sw_ratelimit__summaries(p->rl, now, sum, 32);
	for (i = 0; i < n; i++) {
		memset(a, 0, sizeof(*a));
		a->time_us = now;
		a->kind = SW_ALERT_RATE_LIMITED;
		a->severity = sw_alert__default_severity(SW_ALERT_RATE_LIMITED, SW_ART_FILE);
		snprintf(a->host, sizeof(a->host), "%s", p->host);
		for (j = 0; j < p->set->n; j++)
			if (!memcmp(p->set->secrets[j].id, sum[i].secret_id, SW_SECRET_ID_BYTES))
				set_secret(a, &p->set->secrets[j]);
		if (sum[i].session_id)
			fill_session(p, a, sum[i].session_id);
		a->count = sum[i].suppressed;
		snprintf(a->message, sizeof(a->message), "%llu alert(s) held back by flood control",
			 (unsigned long long)sum[i].suppressed);
		emit(a, p);
	}
}

int sw_pipeline__learned(struct sw_pipeline *p, struct sw_secretset *into)
{
	size_t i, j;
	int e, added = 0;

	if (!p->set_dirty)
		return 0;
	for (i = 0; i < p->set->n; i++) {
		const struct sw_secret *s = &p->set->secrets[i];
		struct sw_secret copy;

		if (!s->learned || sw_secretset__find_id(into, s->id))
			continue;
		copy = *s;
		copy.patterns = malloc(s->npatterns * sizeof(*s->patterns));
		if (!copy.patterns)
			return -ENOMEM;
		for (j = 0; j < s->npatterns; j++)
			copy.patterns[j] = s->patterns[j];
		e = sw_secretset__put(into, &copy);
		if (e) {
			free(copy.patterns);
			return e;
		}
		added++;
	}
	p->set_dirty = 0;
	return added;
}

size_t sw_pipeline__origins(const struct sw_pipeline *p, struct sw_inode_key *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->set->n && n < max; i++) {
		const struct sw_secret *s = &p->set->secrets[i];

		if (!s->origin_ino)
			continue;
		out[n].dev = kernel_dev(s->origin_dev);
		out[n].ino = s->origin_ino;
		n++;
	}
	return n;
}

/* An interpreter outside any session: adopt it when its script is an agent's. */
static int on_candidate(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const char *label = sw_agentproc__label(p->rules, ev, comm);
	uint64_t id;
	int e;

	if (!label)
		return 0;
	if (p->adopt) {
		id = p->adopt(p->pipe_reader_ctx, ev->hdr->tgid);
	} else {
		/* Replay: the live run recorded the session it started for this process. */
		size_t i;

		for (i = 0, id = 0; i < ADOPTED_MAX && !id; i++)
			if (p->adopted[i].tgid == ev->hdr->tgid)
				id = p->adopted[i].id;
	}
	if (!id)
		return p->adopt ? -ENOSPC : 0;
	sw_pipeline__session(p, id, ev->hdr->tgid, label);
	e = sw_proctab__exec(p->pt, ev->hdr->tgid, ev->hdr->ppid, ev->hdr->uid, id, comm,
			     ev->filename, ev->filename_len, ev->args, ev->args_len);
	sw_agentproc__exec(p->pt, p->rules, ev, comm, id);
	return e;
}

/* A session the daemon started: in replay, also remembered for the interpreter exec it
 * adopted. */
static int on_session(struct sw_pipeline *p, const struct sw_event *ev)
{
	char agent[sizeof(ev->session->agent)];

	memcpy(agent, ev->session->agent, sizeof(agent) - 1);
	agent[sizeof(agent) - 1] = 0;
	p->adopted[p->adopted_next].tgid = ev->hdr->tgid;
	p->adopted[p->adopted_next].id = ev->hdr->session_id;
	p->adopted_next = (p->adopted_next + 1) % ADOPTED_MAX;
	return sw_pipeline__session(p, ev->hdr->session_id, ev->hdr->tgid, agent);
}

const struct sw_redaction *sw_pipeline__redactions(const struct sw_pipeline *p, size_t *n)
{
	*n = p->nred;
	return p->red;
}

int sw_pipeline__replay(struct sw_pipeline *p, const void *rec, size_t size,
			const struct sw_redaction *red, size_t nred)
{
	int e;

	p->inject = red;
	p->ninject = nred;
	e = sw_pipeline__record(p, rec, size);
	p->inject = NULL;
	p->ninject = 0;
	return e;
}

int sw_pipeline__session(struct sw_pipeline *p, uint64_t id, uint32_t root_pid, const char *agent)
{
	struct sw_session *s = sw_proctab__session(p->pt, id, root_pid);

	if (!s)
		return -ENOMEM;
	if (agent)
		snprintf(s->agent, sizeof(s->agent), "%s", agent);
	return 0;
}

int sw_pipeline__record(struct sw_pipeline *p, const void *rec, size_t size)
{
	struct sw_event ev;
	char comm[SW_COMM_LEN + 1];
	int e;

	p->st.records++;
	p->first_new = p->set->n;
	p->nred = 0;
	if (sw_event__decode(rec, size, &ev)) {
		p->st.bad_records++;
		return -EBADMSG;
	}
	memcpy(comm, ev.hdr->comm, SW_COMM_LEN);
	comm[SW_COMM_LEN] = 0;
	switch (ev.hdr->type) {
	case SW_EV_FORK:
		return sw_proctab__fork(p->pt, ev.fork->parent_tgid, ev.fork->child_tgid,
					ev.hdr->session_id, ev.hdr->uid, comm);
	case SW_EV_EXEC:
		if (ev.hdr->flags & SW_F_CANDIDATE)
			return on_candidate(p, &ev, comm);
		e = sw_proctab__exec(p->pt, ev.hdr->tgid, ev.hdr->ppid, ev.hdr->uid,
				     ev.hdr->session_id, comm, ev.filename, ev.filename_len,
				     ev.args, ev.args_len);
		/* Agent processes, the session's home and label (a new session's too). */
		sw_agentproc__exec(p->pt, p->rules, &ev, comm, ev.hdr->session_id);
		on_exec_strings(p, &ev, 0);
		on_exec_strings(p, &ev, 1);
		return e;
	case SW_EV_EXIT:
		on_exit_rec(p, &ev);
		return 0;
	case SW_EV_DATA:
		return on_data(p, &ev);
	case SW_EV_OPEN:
		on_open(p, &ev);
		return 0;
	case SW_EV_RENAME:
		on_rename(p, &ev);
		return 0;
	case SW_EV_CHANNEL:
		on_channel(p, &ev);
		return 0;
	case SW_EV_SESSION:
		return on_session(p, &ev);
	case SW_EV_READER:
		p->readers[p->readers_next].dev = ev.reader->dev;
		p->readers[p->readers_next].ino = ev.reader->ino;
		p->readers[p->readers_next].tgid = ev.hdr->tgid;
		p->readers_next = (p->readers_next + 1) % READERS_MAX;
		return 0;
	case SW_EV_LOSS:
		return sw_pipeline__loss(p, &ev.loss->loss);
	case SW_EV_RENAMED: {
		char path[SW_PATH_LEN + 1];

		snprintf(path, sizeof(path), "%.*s", (int)ev.path_len, ev.path);
		renamed(p, ev.renamed->dev, ev.renamed->ino, path);
		return 0;
	}
	default:
		return 0;
	}
}

int sw_pipeline__loss(struct sw_pipeline *p, const struct sw_loss *d)
{
	struct sw_alert *a = &p->alert;
	const struct {
		const char *what;
		uint64_t n;
	} kinds[] = {
		{"ringbuf_full", d->ringbuf_full}, {"truncated", d->truncated},
		{"read_error", d->read_errors},	   {"path_truncated", d->path_truncated},
		{"scope_full", d->scope_full},	   {"copy_unread", d->copies_unread},
	};
	size_t i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!kinds[i].n)
			continue;
		snprintf(a->gaps[a->ngaps].what, sizeof(a->gaps[0].what), "%s", kinds[i].what);
		a->gaps[a->ngaps].count = kinds[i].n;
		a->ngaps++;
	}
	if (p->dropped_matches) {
		snprintf(a->gaps[a->ngaps].what, sizeof(a->gaps[0].what), "matches_dropped");
		a->gaps[a->ngaps].count = p->dropped_matches;
		a->ngaps++;
		p->dropped_matches = 0;
	}
	if (!a->ngaps)
		return 0;
	a->time_us = now_us();
	a->kind = SW_ALERT_COVERAGE_GAP;
	a->severity = sw_alert__default_severity(SW_ALERT_COVERAGE_GAP, SW_ART_FILE);
	snprintf(a->host, sizeof(a->host), "%s", p->host);
	snprintf(a->message, sizeof(a->message),
		 "events were lost or cut short; the counts say how many since the last report");
	emit(a, p);
	return 0;
}
