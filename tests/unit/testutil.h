/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the fingerprint/matcher/secretset unit tests: a seeded PRNG and generators
 * of secret-like values. Every secret is generated at run time, none is written in the tree. */
#ifndef SW_TESTUTIL_H
#define SW_TESTUTIL_H

#include <stdint.h>
#include <string.h>

#include "encode.h"
#include "fingerprint.h"

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline size_t rng_range(struct rng *r, size_t lo, size_t hi) /* inclusive */
{
	return lo + (size_t)(rng_next(r) % (hi - lo + 1));
}

static inline void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	uint64_t x;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		x = rng_next(r);
		memcpy(p + i, &x, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)rng_next(r);
}

enum gen_kind { GEN_BYTES, GEN_BASE62, GEN_HEX, GEN_PREFIXED, GEN__COUNT };

/* Fills v with a secret-like value of length len: random bytes, base62, hex, or a vendor-style
 * prefix followed by base62. */
static inline void gen_secret(struct rng *r, enum gen_kind kind, uint8_t *v, size_t len)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static const char hx[] = "0123456789abcdef";
	static const char *const prefixes[] = {"sk-", "ghp_", "xoxb-", "AKIA", "glpat-", "tok_"};
	size_t i = 0, pl;
	const char *pf;

	switch (kind) {
	case GEN_BYTES:
		rng_fill(r, v, len);
		return;
	case GEN_HEX:
		for (i = 0; i < len; i++)
			v[i] = (uint8_t)hx[rng_next(r) % 16];
		return;
	case GEN_PREFIXED:
		pf = prefixes[rng_next(r) % (sizeof(prefixes) / sizeof(prefixes[0]))];
		pl = strlen(pf);
		if (pl < len) {
			memcpy(v, pf, pl);
			i = pl;
		}
		/* fall through */
	default:
		for (; i < len; i++)
			v[i] = (uint8_t)b62[rng_next(r) % 62];
		return;
	}
}

/* Fixed, seed-derived key for deterministic tests. */
static inline void test_key(struct sw_key *k, uint64_t seed)
{
	struct rng r = {seed};

	memset(k, 0, sizeof(*k));
	rng_fill(&r, k->bytes, sizeof(k->bytes));
	sw_key__derive(k);
}

/* The encoded form of variant index vi (0 raw, 1-3 base64 aligned 0-2, 4-6 base64url aligned
 * 0-2, 7 hex, 8 HEX, 9 percent, 10 json) as the fingerprint module expands it. */
#define N_FORMS 11
static inline size_t form_text(const uint8_t *v, size_t n, int vi, char *out)
{
	if (vi == 0) {
		memcpy(out, v, n);
		return n;
	}
	if (vi <= 3)
		return sw_encode__base64_stable(v, n, (unsigned int)(vi - 1), 0, out);
	if (vi <= 6)
		return sw_encode__base64_stable(v, n, (unsigned int)(vi - 4), 1, out);
	if (vi == 7)
		return sw_encode__hex(v, n, 0, out);
	if (vi == 8)
		return sw_encode__hex(v, n, 1, out);
	if (vi == 9)
		return sw_encode__percent(v, n, out);
	return sw_encode__json(v, n, out);
}

static inline enum sw_variant form_variant(int vi)
{
	static const enum sw_variant map[N_FORMS] = {
		SW_VAR_RAW,	  SW_VAR_BASE64,    SW_VAR_BASE64,    SW_VAR_BASE64,
		SW_VAR_BASE64URL, SW_VAR_BASE64URL, SW_VAR_BASE64URL, SW_VAR_HEX,
		SW_VAR_HEX_UPPER, SW_VAR_PERCENT,   SW_VAR_JSON,
	};
	return map[vi];
}

#endif

/* ---- The pipeline test harness (test_pipeline_*.c): include pipeline.h and cmocka first. ----
 * Records are built as the kernel and the source build them, fed one by one; alerts are taken
 * after every record like the source does (unless autodrain is off), each kept as the struct
 * and its JSON. The harness can record what it fed (redacted like the trace log) to replay it
 * into a second pipeline. */
#ifdef SW_PIPELINE_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "learn.h"
#include "naming.h"
#include "rulesrec.h"

#define TP_KT0	   1000000000ull	  /* ktime of the first tick: 1 s after boot */
#define TP_RT0	   1764460800000000000ull /* its wall clock: 2025-11-30T00:00:00Z */
#define TP_MS	   1000000ull		  /* one millisecond in ns */
#define TP_SESSION 7
#define TP_ROOT	   100		      /* the agent, /usr/bin/claude, session root */
#define TP_PID	   101		      /* a tool it runs, python3 tool.py */
#define TP_KDEV	   ((8ull << 20) | 1) /* 8:1 in the kernel's encoding */
#define TP_UDEV	   2049ull	      /* 8:1 as stat says it */
#define TP_ALERTS  160
#define TP_SECRETS 4
#define TP_LOG_MAX 256

struct tp_alert {
	struct sw_alert a; /* process.argv dangles: use the JSON */
	char json[16384];
};

struct tp_logged {
	uint8_t *rec;
	size_t size;
	struct sw_redaction *red;
	size_t nred;
};

struct tp_secret {
	char name[64];
	uint8_t v[128];
	size_t len;
	char origin[128];
	uint64_t origin_dev, origin_ino; /* stat's encoding */
	uint8_t id[SW_SECRET_ID_BYTES];
};

struct tp {
	char dir[64];
	struct sw_key key;
	struct sw_registry *reg;
	struct sw_pipeline *p;
	struct tp_secret sec[TP_SECRETS];
	size_t nsec;
	uint64_t kt;	  /* ktime of the next record */
	uint64_t session; /* session of the next record's header */
	int autodrain, recording;
	struct tp_alert *got;
	size_t n;
	const struct sw_request *req; /* the last record's requests */
	size_t nreq;
	struct tp_logged log[TP_LOG_MAX];
	size_t nlog;
	int finished;	   /* the test ended the live run: a replay ends the same way */
	char kept[8][512]; /* paths of requests kept past their record */
	size_t nkept;
};

/* One record being built. */
static union {
	struct sw_hdr h;
	struct sw_fork_rec fork;
	struct sw_exec_rec exec;
	struct sw_exit_rec exit;
	struct sw_data_rec d;
	struct sw_open_rec open;
	struct sw_renamed_rec renamed;
	struct sw_channel_rec ch;
	struct sw_session_rec sess;
	struct sw_reader_rec reader;
	struct sw_loss_rec loss;
	struct sw_tick_rec tick;
	struct sw_proc_rec proc;
	struct sw_closed_rec closed;
	struct sw_guarded_rec guarded;
	struct sw_rules_rec rules;
	uint8_t raw[sizeof(struct sw_rules_rec) + SW_RULES_REC_MAX];
} tp_rec;

static inline void tp_collect(const struct sw_alert *a, void *ctx)
{
	struct tp *f = ctx;

	if (f->n < TP_ALERTS) {
		f->got[f->n].a = *a;
		assert_true(sw_alert__json(a, f->got[f->n].json, sizeof(f->got[0].json)) <
			    (int)sizeof(f->got[0].json));
	}
	f->n++;
}

static inline void tp_drain(struct tp *f)
{
	sw_pipeline__drain_alerts(f->p, tp_collect, f);
}

/* Builds the set from f->sec and hands it to the pipeline (values are copied: fingerprinting
 * wipes its input). */
static inline void tp_load_secrets(struct tp *f)
{
	struct sw_secretset *set = sw_secretset__new();
	size_t i;

	assert_non_null(set);
	for (i = 0; i < f->nsec; i++) {
		struct tp_secret *t = &f->sec[i];
		struct sw_secret s;
		uint8_t v[128];

		memset(&s, 0, sizeof(s));
		memcpy(v, t->v, t->len);
		snprintf(s.name, sizeof(s.name), "%s", t->name);
		assert_int_equal(sw_fingerprint__secret(&f->key, v, t->len, &s), 0);
		assert_int_equal(sw_secret__set_origin(&s, t->origin), 0);
		s.origin_dev = t->origin_dev;
		s.origin_ino = t->origin_ino;
		memcpy(t->id, s.id, sizeof(t->id));
		assert_int_equal(sw_secretset__put(set, &s), 0);
	}
	assert_int_equal(sw_pipeline__set_secrets(f->p, set), 0);
}

/* The embedded rules, loaded and their detectors compiled once per test binary: compiling
 * them (Hyperscan) was most of every pipeline test's time. Reachable until exit, so no leak. */
static inline const struct sw_rules *tp_embedded_rules(void)
{
	static struct sw_rules *r;
	struct sw_rules_error err;

	if (!r) {
		r = sw_rules__load_embedded(&err);
		assert_non_null(r);
		sw_rules__detect_index(r);
	}
	return r;
}

/* A pipeline with two generated base62 secrets, UNIT_KEY and OTHER_KEY; the same key and
 * values for every fixture (a replay pipeline matches the live one). rules NULL: embedded
 * until a rules record replaces them. */
static inline struct tp *tp_new(const struct sw_rules *rules)
{
	struct tp *f = calloc(1, sizeof(*f));
	struct sw_pipeline_opts o = {.host = "unit", .rules = rules};
	struct rng r = {42};
	char path[128];
	int corrupt = 0;

	assert_non_null(f);
	f->got = calloc(TP_ALERTS, sizeof(*f->got));
	assert_non_null(f->got);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-test-pipeline.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	test_key(&f->key, 7);
	snprintf(path, sizeof(path), "%s/registry.pb", f->dir);
	f->reg = sw_registry__open(path, f->key.id, &corrupt);
	assert_non_null(f->reg);
	o.key = &f->key;
	o.registry = f->reg;
	if (!rules)
		o.start_rules = tp_embedded_rules();
	f->p = sw_pipeline__new(&o);
	assert_non_null(f->p);
	f->nsec = 2;
	snprintf(f->sec[0].name, sizeof(f->sec[0].name), "UNIT_KEY");
	f->sec[0].len = 40;
	gen_secret(&r, GEN_BASE62, f->sec[0].v, 40);
	snprintf(f->sec[1].name, sizeof(f->sec[1].name), "OTHER_KEY");
	f->sec[1].len = 40;
	gen_secret(&r, GEN_BASE62, f->sec[1].v, 40);
	tp_load_secrets(f);
	f->kt = TP_KT0;
	f->session = TP_SESSION;
	f->autodrain = 1;
	return f;
}

static inline void tp_free(struct tp *f)
{
	char cmd[128];
	size_t i;

	for (i = 0; i < f->nlog; i++) {
		free(f->log[i].rec);
		free(f->log[i].red);
	}
	sw_pipeline__free(f->p);
	sw_registry__free(f->reg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	sodium_memzero(f->sec, sizeof(f->sec));
	free(f->got);
	free(f);
}

/* The next records happen ms after the first tick. */
static inline void tp_at(struct tp *f, uint64_t ms)
{
	f->kt = TP_KT0 + ms * TP_MS;
}

/* The record time (µs since the epoch) of ms after the first tick, with the first tick's
 * mapping. */
static inline uint64_t tp_us(uint64_t ms)
{
	return TP_RT0 / 1000 + ms * 1000;
}

static inline const char *tp_comm(uint32_t pid)
{
	return pid == TP_ROOT ? "claude" : pid == TP_PID ? "python3" : "tool";
}

static inline void *tp_start(struct tp *f, uint16_t type, uint32_t pid, size_t fixed)
{
	memset(&tp_rec, 0, fixed);
	tp_rec.h.type = type;
	tp_rec.h.size = fixed;
	tp_rec.h.ktime = f->kt;
	tp_rec.h.pid = tp_rec.h.tgid = pid;
	tp_rec.h.ppid = pid == TP_ROOT ? 1 : TP_ROOT;
	tp_rec.h.uid = 1000;
	tp_rec.h.session_id = pid ? f->session : 0;
	snprintf(tp_rec.h.comm, sizeof(tp_rec.h.comm), "%s", tp_comm(pid));
	return &tp_rec;
}

/* Appends len bytes to the record's tail. */
static inline void tp_tail(const void *p, size_t len)
{
	assert_true(tp_rec.h.size + len <= sizeof(tp_rec));
	if (len) /* (p may be NULL for an empty tail: memcpy's arguments must not be) */
		memcpy(tp_rec.raw + tp_rec.h.size, p, len);
	tp_rec.h.size += len;
}

/* Copies rec redacted as the trace log keeps it (spans replaced by filler), with its spans. */
static inline void tp_log(struct tp *f, const void *rec, size_t size)
{
	const struct sw_redaction *red;
	struct tp_logged *l;
	size_t i;

	assert_true(f->nlog < TP_LOG_MAX);
	l = &f->log[f->nlog++];
	red = sw_pipeline__redactions(f->p, &l->nred);
	l->rec = malloc(size);
	l->red = malloc((l->nred + 1) * sizeof(*red));
	assert_non_null(l->rec);
	assert_non_null(l->red);
	memcpy(l->rec, rec, size);
	memcpy(l->red, red, l->nred * sizeof(*red));
	l->size = size;
	for (i = 0; i < l->nred; i++) {
		assert_true(red[i].offset + red[i].length <= size);
		memset(l->rec + red[i].offset, SW_TRACELOG_FILLER, red[i].length);
	}
}

/* Feeds the record built; returns what the pipeline said. */
static inline int tp_feed_rc(struct tp *f)
{
	int rc = sw_pipeline__record(f->p, &tp_rec, tp_rec.h.size);

	if (f->recording)
		tp_log(f, &tp_rec, tp_rec.h.size);
	f->req = sw_pipeline__requests(f->p, &f->nreq);
	if (f->autodrain)
		tp_drain(f);
	return rc;
}

static inline void tp_feed(struct tp *f)
{
	assert_int_equal(tp_feed_rc(f), 0);
}

/* Request i of the last record, kept past the next record (its path copied). */
static inline struct sw_request tp_keep(struct tp *f, size_t i)
{
	struct sw_request q;

	assert_true(i < f->nreq);
	q = f->req[i];
	if (q.path) {
		char *k = f->kept[f->nkept++ % 8];

		snprintf(k, sizeof(f->kept[0]), "%s", q.path);
		q.path = k;
	}
	return q;
}

/* ---- record builders: each starts the record in tp_rec and returns it ---- */

static inline struct sw_tick_rec *tp_tick(struct tp *f, uint64_t ms)
{
	struct sw_tick_rec *t;

	tp_at(f, ms);
	t = tp_start(f, SW_EV_TICK, 0, sizeof(*t));
	t->realtime_ns = TP_RT0 + ms * TP_MS;
	return t;
}

static inline struct sw_fork_rec *tp_fork(struct tp *f, uint32_t parent, uint32_t child)
{
	struct sw_fork_rec *r = tp_start(f, SW_EV_FORK, child, sizeof(*r));

	r->hdr.ppid = parent;
	r->parent_tgid = parent;
	r->child_tgid = child;
	return r;
}

/* argv and env: NUL-separated, len bytes each (a final NUL included). */
static inline struct sw_exec_rec *tp_exec(struct tp *f, uint32_t pid, const char *exe,
					  const void *args, size_t args_len, const void *env,
					  size_t env_len)
{
	struct sw_exec_rec *r = tp_start(f, SW_EV_EXEC, pid, sizeof(*r));

	r->filename_len = strlen(exe);
	r->args_len = args_len;
	r->env_len = env_len;
	tp_tail(exe, r->filename_len);
	tp_tail(args, args_len);
	tp_tail(env, env_len);
	return r;
}

static inline struct sw_exit_rec *tp_exit(struct tp *f, uint32_t pid)
{
	return tp_start(f, SW_EV_EXIT, pid, sizeof(struct sw_exit_rec));
}

/* One chunk (first and last) of a write of data by pid to an artifact of kind (dev TP_KDEV,
 * ino), naming it path (NULL: none). */
static inline struct sw_data_rec *tp_data(struct tp *f, uint32_t pid, uint16_t kind, uint64_t ino,
					  const char *path, const void *data, size_t len)
{
	struct sw_data_rec *d = tp_start(f, SW_EV_DATA, pid, sizeof(*d));

	d->hdr.flags = SW_F_FIRST | SW_F_LAST;
	d->syscall_nr = 1;
	d->fd = 3;
	d->total = len;
	d->file_pos = -1;
	d->art_kind = kind;
	d->dev = TP_KDEV;
	d->ino = ino;
	d->gen = 1;
	d->path_len = path ? strlen(path) : 0;
	d->data_len = len;
	if (path)
		tp_tail(path, d->path_len);
	tp_tail(data, len);
	return d;
}

static inline struct sw_data_rec *tp_file(struct tp *f, uint32_t pid, uint64_t ino,
					  const char *path, const void *data, size_t len)
{
	return tp_data(f, pid, SW_AK_FILE, ino, path, data, len);
}

/* A copy without a user buffer (copy_file_range): src_ino from src_pos, total bytes, into
 * the file ino at path. */
static inline struct sw_data_rec *tp_copy(struct tp *f, uint32_t pid, uint64_t ino,
					  const char *path, uint64_t src_ino, const char *src_path,
					  int64_t src_pos, uint64_t total)
{
	struct sw_data_rec *d = tp_data(f, pid, SW_AK_FILE, ino, path, NULL, 0);

	d->hdr.flags |= SW_F_COPY;
	d->syscall_nr = 326;
	d->total = total;
	d->src_dev = TP_KDEV;
	d->src_ino = src_ino;
	d->src_pos = src_pos;
	d->src_kind = SW_AK_FILE;
	d->src_path_len = strlen(src_path);
	tp_tail(src_path, d->src_path_len);
	return d;
}

/* What the source feeds for a read-back request q (source.c answer_readback): chunk of data at
 * offset of the bytes read back, flags beyond SW_F_READBACK (and SW_F_RESCAN) given. */
static inline struct sw_data_rec *tp_readback(struct tp *f, const struct sw_request *q,
					      uint64_t offset, const void *data, size_t len,
					      uint16_t flags)
{
	struct sw_data_rec *d = tp_start(f, SW_EV_DATA, 0, sizeof(*d));

	if (q->rescan) {
		d->hdr = q->hdr;
		d->art_kind = SW_AK_FILE;
		d->dev = sw_naming__kernel_dev(q->dev);
		d->ino = q->ino;
		d->gen = q->gen;
		d->fd = -1;
	} else {
		*d = q->copy;
		d->path_len = d->src_path_len = 0;
	}
	d->hdr.type = SW_EV_DATA;
	d->hdr.ktime = f->kt;
	d->hdr.flags = flags | SW_F_READBACK | (q->rescan ? SW_F_RESCAN : 0);
	d->hdr.size = sizeof(*d);
	d->file_pos = -1;
	d->total = q->length;
	d->offset = offset;
	d->data_len = len;
	d->path_len = 0;
	/* A whole-file read-back names the file in its first chunk. */
	if (q->rescan && (flags & SW_F_FIRST) && q->path) {
		d->path_len = strlen(q->path);
		tp_tail(q->path, d->path_len);
	}
	tp_tail(data, len);
	return d;
}

static inline struct sw_open_rec *tp_open(struct tp *f, uint32_t pid, uint64_t kdev, uint64_t ino,
					  const char *path)
{
	struct sw_open_rec *r = tp_start(f, SW_EV_OPEN, pid, sizeof(*r));

	r->dev = kdev;
	r->ino = ino;
	r->origin = 1; /* (as the kernel says of a file its origins map holds) */
	r->path_len = strlen(path);
	tp_tail(path, r->path_len);
	return r;
}

/* A name given (rename, link, mkdir, mknod, symlink by nr): dir may be "" (an absolute name),
 * target NULL but for a symlink. */
static inline struct sw_rename_rec *tp_name(struct tp *f, uint32_t pid, uint32_t nr,
					    const char *dir, const char *name, const char *target)
{
	struct sw_rename_rec *r = tp_start(f, SW_EV_RENAME, pid, sizeof(*r));

	r->syscall_nr = nr;
	r->dir_len = strlen(dir);
	r->name_len = strlen(name);
	r->target_len = target ? strlen(target) : 0;
	tp_tail(dir, r->dir_len);
	tp_tail(name, r->name_len);
	if (target)
		tp_tail(target, r->target_len);
	return r;
}

static inline struct sw_renamed_rec *tp_renamed(struct tp *f, uint32_t pid, uint64_t udev,
						uint64_t ino, const char *path)
{
	struct sw_renamed_rec *r = tp_start(f, SW_EV_RENAMED, pid, sizeof(*r));

	r->dev = udev;
	r->ino = ino;
	r->path_len = strlen(path);
	tp_tail(path, r->path_len);
	return r;
}

static inline struct sw_channel_rec *tp_channel(struct tp *f, uint32_t pid, uint32_t channel,
						uint64_t ino, const char *path)
{
	struct sw_channel_rec *r = tp_start(f, SW_EV_CHANNEL, pid, sizeof(*r));

	r->channel = channel;
	r->dev = ino ? TP_KDEV : 0;
	r->ino = ino;
	r->gen = ino ? 1 : 0;
	r->path_len = path ? strlen(path) : 0;
	if (path)
		tp_tail(path, r->path_len);
	return r;
}

/* TP_PID maps file ino (path) shared and writable, then exits: the exit's requests, fed. */
static inline size_t tp_mapped_exit(struct tp *f, uint64_t ino, const char *path)
{
	tp_channel(f, TP_PID, SW_CH_MMAP_SHARED, ino, path);
	tp_feed(f);
	tp_exit(f, TP_PID);
	tp_feed(f);
	return f->nreq;
}

static inline struct sw_session_rec *tp_session(struct tp *f, uint32_t root, uint64_t id,
						const char *agent)
{
	struct sw_session_rec *r = tp_start(f, SW_EV_SESSION, root, sizeof(*r));

	r->hdr.session_id = id;
	snprintf(r->agent, sizeof(r->agent), "%s", agent);
	return r;
}

/* The source's answer to a reader request: reader (0: none found) of pipe (TP_KDEV, ino). */
static inline struct sw_reader_rec *tp_reader(struct tp *f, uint32_t reader, uint64_t ino,
					      const char *exe)
{
	struct sw_reader_rec *r = tp_start(f, SW_EV_READER, 0, sizeof(*r));

	memset(&r->hdr, 0, sizeof(r->hdr));
	r->hdr.type = SW_EV_READER;
	r->hdr.size = sizeof(*r);
	r->hdr.ktime = f->kt;
	r->hdr.pid = r->hdr.tgid = reader;
	r->dev = TP_KDEV;
	r->ino = ino;
	r->exe_len = exe ? strlen(exe) : 0;
	if (exe)
		tp_tail(exe, r->exe_len);
	return r;
}

static inline struct sw_loss_rec *tp_loss(struct tp *f, const struct sw_loss *l)
{
	struct sw_loss_rec *r = tp_start(f, SW_EV_LOSS, 0, sizeof(*r));

	r->loss = *l;
	return r;
}

static inline struct sw_proc_rec *tp_proc(struct tp *f, uint32_t pid, const char *exe,
					  const void *args, size_t args_len)
{
	struct sw_proc_rec *r = tp_start(f, SW_EV_PROC, pid, sizeof(*r));

	r->exe_len = strlen(exe);
	r->args_len = args_len;
	tp_tail(exe, r->exe_len);
	tp_tail(args, args_len);
	return r;
}

static inline struct sw_closed_rec *tp_closed(struct tp *f, uint32_t pid, uint64_t udev,
					      uint64_t ino)
{
	struct sw_closed_rec *r = tp_start(f, SW_EV_CLOSED, pid, sizeof(*r));

	r->dev = udev;
	r->ino = ino;
	return r;
}

/* A rules record: the embedded rule files, policy.yaml replaced by policy (NULL: kept). */
static inline struct sw_rules_rec *tp_rules(struct tp *f, const char *policy)
{
	struct sw_embedded_file files[8];
	size_t i;
	long n;

	for (i = 0; sw_embedded_rules[i].name && i < 7; i++) {
		files[i] = sw_embedded_rules[i];
		if (policy && !strcmp(files[i].name, "policy.yaml")) {
			files[i].data = (const unsigned char *)policy;
			files[i].len = strlen(policy);
		}
	}
	files[i].name = NULL;
	n = sw_rulesrec__pack(files, &tp_rec, sizeof(tp_rec));
	assert_true(n > 0);
	tp_rec.h.ktime = f->kt;
	return &tp_rec.rules;
}

/* The standard world: the first tick; session TP_SESSION rooted at /usr/bin/claude (pid
 * TP_ROOT, from /proc); it forks TP_PID, which execs python3 tool.py. Nothing alerts. */
static inline void tp_world(struct tp *f)
{
	static const char root_args[] = "claude";
	static const char args[] = "python3\0tool.py";
	static const char env[] = "HOME=/home/u";

	tp_tick(f, 0);
	tp_feed(f);
	tp_session(f, TP_ROOT, TP_SESSION, "claude");
	tp_feed(f);
	tp_proc(f, TP_ROOT, "/usr/bin/claude", root_args, sizeof(root_args));
	tp_feed(f);
	tp_fork(f, TP_ROOT, TP_PID);
	tp_feed(f);
	tp_exec(f, TP_PID, "/usr/bin/python3", args, sizeof(args), env, sizeof(env));
	tp_feed(f);
	assert_int_equal(f->n, 0);
	assert_int_equal(f->nreq, 0);
}

/* cmocka fixtures: a fresh pipeline with its world (tp_world), and its end. */
static inline int tp_setup(void **state)
{
	*state = tp_new(NULL);
	tp_world(*state);
	return 0;
}

/* tp_setup, with every record kept as the trace would (tp_replay_equals_live). */
static inline int tp_setup_rec(void **state)
{
	struct tp *f = tp_new(NULL);

	f->recording = 1;
	tp_world(f);
	*state = f;
	return 0;
}

static inline int tp_teardown(void **state)
{
	tp_free(*state);
	return 0;
}

/* ---- assertions ---- */

#define tp_json_has(f, i, s)                                                                       \
	do {                                                                                       \
		assert_true((size_t)(i) < (f)->n);                                                 \
		if (!strstr((f)->got[i].json, (s))) {                                              \
			print_error("alert %d: %s\nlacks: %s\n", (int)(i), (f)->got[i].json, (s)); \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

/* Feeds f's recording into a fresh pipeline (rules as for tp_new) with f's secrets and the ones
 * its pipeline learned (as the daemon's secret file holds them), checks that no recorded record
 * holds a secret (f's, or vals[0..nvals)), and asserts the same alerts, in order, byte for
 * byte. Returns how many secrets the live pipeline learned. */
static inline size_t tp_replay_equals_live(struct tp *f, const struct sw_rules *rules,
					   const char *const *vals, size_t nvals)
{
	struct tp *g = tp_new(rules);
	struct sw_secretset *learned = sw_secretset__new();
	size_t i, s, nlearned;

	assert_non_null(learned);
	nlearned = sw_pipeline__learned(f->p, learned) > 0 ? learned->n : 0;
	if (nlearned) {
		struct sw_secretset *all = sw_secretset__new();

		assert_non_null(all);
		assert_int_equal(sw_learn__export(learned, all), (int)learned->n);
		for (s = 0; s < f->nsec; s++) {
			struct sw_secret x;
			uint8_t v[128];

			memset(&x, 0, sizeof(x));
			memcpy(v, f->sec[s].v, f->sec[s].len);
			snprintf(x.name, sizeof(x.name), "%s", f->sec[s].name);
			assert_int_equal(sw_fingerprint__secret(&g->key, v, f->sec[s].len, &x), 0);
			assert_int_equal(sw_secret__set_origin(&x, f->sec[s].origin), 0);
			x.origin_dev = f->sec[s].origin_dev;
			x.origin_ino = f->sec[s].origin_ino;
			assert_int_equal(sw_secretset__put(all, &x), 0);
		}
		assert_int_equal(sw_pipeline__set_secrets(g->p, all), 0);
	} else {
		/* f's secrets as its set holds them: their origins too */
		memcpy(g->sec, f->sec, sizeof(f->sec));
		g->nsec = f->nsec;
		tp_load_secrets(g);
	}
	sw_secretset__free(learned);
	for (i = 0; i < f->nlog; i++) {
		const struct tp_logged *l = &f->log[i];

		/* What the trace keeps holds no secret. */
		for (s = 0; s < f->nsec; s++)
			assert_null(memmem(l->rec, l->size, f->sec[s].v, f->sec[s].len));
		for (s = 0; s < nvals; s++)
			assert_null(memmem(l->rec, l->size, vals[s], strlen(vals[s])));
		sw_pipeline__replay(g->p, l->rec, l->size, l->red, l->nred);
		tp_drain(g);
	}
	if (f->finished) {
		sw_pipeline__finish(g->p);
		tp_drain(g);
	}
	if (g->n != f->n) {
		for (i = 0; i < f->n; i++)
			print_error("live %zu: %s\n", i, f->got[i].json);
		for (i = 0; i < g->n; i++)
			print_error("replay %zu: %s\n", i, g->got[i].json);
	}
	assert_int_equal(g->n, f->n);
	for (i = 0; i < f->n; i++)
		assert_string_equal(g->got[i].json, f->got[i].json);
	tp_free(g);
	return nlearned;
}

/* The secret's hex id as alerts show it. */
static inline const char *tp_hex(const struct tp *f, size_t s)
{
	static char out[2][2 * SW_SECRET_ID_BYTES + 1];
	static int k;
	size_t i;

	k ^= 1;
	for (i = 0; i < SW_SECRET_ID_BYTES; i++)
		snprintf(out[k] + 2 * i, 3, "%02x", f->sec[s].id[i]);
	return out[k];
}

/* Alert i is a secret_spread of secret s at artifact type art. */
static inline void tp_is_spread(const struct tp *f, size_t i, size_t s, enum sw_artifact_type art)
{
	assert_true(i < f->n);
	assert_int_equal(f->got[i].a.kind, SW_ALERT_SECRET_SPREAD);
	assert_true(f->got[i].a.has_secret);
	assert_string_equal(f->got[i].a.secret_id, tp_hex(f, s));
	assert_string_equal(f->got[i].a.secret_name, f->sec[s].name);
	assert_true(f->got[i].a.has_artifact);
	assert_int_equal(f->got[i].a.artifact.type, art);
}

/* No plaintext secret in any alert. */
static inline void tp_no_plaintext(const struct tp *f)
{
	size_t i, s;

	for (i = 0; i < f->n && i < TP_ALERTS; i++)
		for (s = 0; s < f->nsec; s++)
			assert_null(memmem(f->got[i].json, strlen(f->got[i].json), f->sec[s].v,
					   f->sec[s].len));
}
#endif
