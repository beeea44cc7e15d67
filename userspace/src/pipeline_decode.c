// SPDX-License-Identifier: Apache-2.0
/* The pipeline's compressed artifacts: a file a session writes that is a gzip stream, a git
 * loose object or a git pack is inflated as it is written (unpack.h) and what it held matched
 * like any data; a git object's matches wait for the object's end, where its id is known, and
 * leave as alerts on the repository (one place per secret and repository, so a repack or gc
 * is no new place). Trees, commits and refs written on the way are remembered (bounded), so a
 * held alert can name the commit and ref that hold its blob as it leaves.
 *
 * The work per record is bounded, not handed off the loop: a record carries at most
 * capture.max_bytes, and inflating it stops at inflate.max_ratio times what the stream took
 * (and at inflate.max_bytes per stream), so one record costs at most that much zlib and
 * matcher time; the pipeline stays one pure function of the records, so a replay inflates the
 * same bytes to the same alerts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pipeline_priv.h"
#include "httppush.h"
#include "unpack.h"

#define GIT_EDGES 16384
#define GIT_REFS  256
#define GIT_DEPTH 32 /* trees followed up from a blob to its commit */
#define SCAN_MAX  (64u << 10)

/* What the pipeline learned of repositories: which tree holds an object, which commit a tree,
 * which ref a commit (per repository). Object ids name content, so edges hold across
 * repositories; refs do not. */
struct pl_git {
	struct edge {
		uint8_t child[SW_GIT_ID_BYTES], parent[SW_GIT_ID_BYTES];
		uint8_t commit; /* parent is a commit (child its tree) */
	} e[GIT_EDGES];
	size_t ne, enext;
	struct gref {
		uint8_t commit[SW_GIT_ID_BYTES];
		char *repo;
		char name[256];
	} r[GIT_REFS];
	size_t nr, rnext;
	/* Inflated bytes of the record being handled, scanned together: zlib hands out its output
	 * in pieces, and a value a piece cuts would reach the detectors as a shorter one. Wiped
	 * after each scan. */
	uint8_t scan[SCAN_MAX];
	size_t nscan;
};

static struct pl_git *git_of(struct sw_pipeline *p)
{
	if (!p->git)
		p->git = calloc(1, sizeof(*p->git));
	return p->git;
}

void pl_git_reset(struct sw_pipeline *p)
{
	size_t i;

	if (!p->git)
		return;
	for (i = 0; i < GIT_REFS; i++)
		free(p->git->r[i].repo);
	sodium_memzero(p->git->scan, sizeof(p->git->scan));
	free(p->git);
	p->git = NULL;
}

static void edge_add(struct pl_git *g, const uint8_t *child, const uint8_t *parent, int commit)
{
	struct edge *e = &g->e[g->enext];

	memcpy(e->child, child, SW_GIT_ID_BYTES);
	memcpy(e->parent, parent, SW_GIT_ID_BYTES);
	e->commit = (uint8_t)commit;
	g->enext = (g->enext + 1) % GIT_EDGES;
	if (g->ne < GIT_EDGES)
		g->ne++;
}

struct tree_ctx {
	struct pl_git *g;
	const uint8_t *tree;
};

static void tree_entry(const uint8_t *id, void *ctx)
{
	struct tree_ctx *t = ctx;

	edge_add(t->g, id, t->tree, 0);
}

/* A tree's or commit's content, at its end. */
static void learn_object(struct sw_pipeline *p, const struct sw_unpack_obj *o)
{
	struct pl_git *g;
	uint8_t tree[SW_GIT_ID_BYTES];

	if (!o->content || !o->has_id || (o->type != SW_GIT_TREE && o->type != SW_GIT_COMMIT) ||
	    !(g = git_of(p)))
		return;
	if (o->type == SW_GIT_TREE) {
		struct tree_ctx t = {g, o->id};

		sw_gitobj__tree(o->content, o->content_len, tree_entry, &t);
	} else if (!sw_gitobj__commit_tree(o->content, o->content_len, tree)) {
		edge_add(g, tree, o->id, 1);
	}
}

/* A write to <gitdir>/refs/...: "<commit id>\n" names the commit the ref points at. */
static void learn_ref(struct sw_pipeline *p, const char *path, size_t gitdir_len,
		      const struct sw_event *ev)
{
	size_t rl = sw_gitobj__repo_len(path, gitdir_len), nl;
	/* "<gitdir>/refs/..." or "<gitdir>/./refs/..." */
	const char *name = path + gitdir_len + (!strncmp(path + gitdir_len, "/./", 3) ? 3 : 1);
	uint8_t id[SW_GIT_ID_BYTES];
	struct pl_git *g;
	struct gref *r;

	if (ev->bytes_len < 40 || ev->data->offset ||
	    sw_gitobj__parse_id((const char *)ev->bytes, ev->bytes_len, id) || !(g = git_of(p)))
		return;
	nl = strlen(name);
	if (nl > 5 && !strcmp(name + nl - 5, ".lock"))
		nl -= 5;
	r = &g->r[g->rnext];
	free(r->repo);
	r->repo = strndup(path, rl);
	memcpy(r->commit, id, sizeof(id));
	snprintf(r->name, sizeof(r->name), "%.*s", (int)nl, name);
	g->rnext = (g->rnext + 1) % GIT_REFS;
	if (g->nr < GIT_REFS)
		g->nr++;
}

static const struct edge *edge_up(const struct pl_git *g, const uint8_t *child)
{
	size_t i, k;

	/* Newest first. */
	for (i = 0; i < g->ne; i++) {
		k = (g->enext + GIT_EDGES - 1 - i) % GIT_EDGES;
		if (!memcmp(g->e[k].child, child, SW_GIT_ID_BYTES))
			return &g->e[k];
	}
	return NULL;
}

void pl_git_fill(struct sw_pipeline *p, struct sw_artifact *a)
{
	const struct pl_git *g = p->git;
	uint8_t cur[SW_GIT_ID_BYTES];
	const struct edge *e;
	int depth, found = 0, pass;
	size_t i, k;

	if (!g || a->type != SW_ART_FILE || !a->git.object[0] ||
	    sw_gitobj__parse_id(a->git.object, strlen(a->git.object), cur))
		return;
	if (!strcmp(a->git.kind, "commit")) {
		found = 1;
	} else {
		for (depth = 0; depth < GIT_DEPTH && (e = edge_up(g, cur)); depth++) {
			memcpy(cur, e->parent, sizeof(cur));
			if (e->commit) {
				found = 1;
				break;
			}
		}
	}
	if (!found)
		return;
	sw_gitobj__hex(cur, a->git.commit);
	/* The newest ref of the repository at the commit; a branch before others (a push
	 * moves the remote-tracking ref to the commit it pushed). */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < g->nr; i++) {
			k = (g->rnext + GIT_REFS - 1 - i) % GIT_REFS;
			if (g->r[k].repo && !memcmp(g->r[k].commit, cur, sizeof(cur)) &&
			    !strcmp(g->r[k].repo, a->git.repo) &&
			    (pass || !strncmp(g->r[k].name, "refs/heads/", 11))) {
				snprintf(a->git.ref, sizeof(a->git.ref), "%s", g->r[k].name);
				return;
			}
		}
}

/* ---- inflating ---- */

struct dctx {
	struct sw_pipeline *p;
	struct sw_stream_ent *se;
	const struct sw_event *ev;
	int kind;	  /* enum sw_unpack_kind */
	size_t first_new; /* secrets from this index on were learned in these bytes */
};

/* What detectors found in inflated bytes is not in the record's bytes, so no redaction span
 * can say it: the record carries a mark instead, an empty span at offset 0 (inside no scanned
 * field) naming the secret, and a replay takes the discovery from it. Marks are the record's
 * last spans (the bytes as written were matched before), so nothing merges into them. */
#define MARK_DELTA 0x200 /* a mark of a match in a delta's result (else: a discovery) */

static void mark(struct sw_pipeline *p, const uint8_t *id, uint32_t variant)
{
	struct sw_redaction *s;

	if (p->red.n >= SW_REDACT_MAX)
		return;
	s = &p->red.span[p->red.n++];
	memset(s, 0, sizeof(*s));
	memcpy(s->secret_id, id, sizeof(s->secret_id));
	s->variant = variant;
}

static int is_mark(const struct sw_redaction *r)
{
	static const uint8_t zero[8];

	return !r->offset && !r->length && memcmp(r->secret_id, zero, sizeof(zero));
}

/* Replay: whether the live run marked secret id as discovered in this record's inflated
 * bytes. */
static int marked_found(const struct sw_pipeline *p, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < p->nrecorded; i++)
		if (is_mark(&p->recorded[i]) && !(p->recorded[i].variant & MARK_DELTA) &&
		    (p->recorded[i].variant & SW_REDACT_DISCOVERED) &&
		    !memcmp(p->recorded[i].secret_id, id, sizeof(p->recorded[i].secret_id)))
			return 1;
	return 0;
}

static int pend(const struct sw_match *m, void *ctx)
{
	struct dctx *c = ctx;
	struct sw_stream_dec *d = c->se->dec;
	const uint8_t *id = c->p->set->secrets[m->secret].id;
	int learned = m->secret >= c->first_new;

	if (d->npend >= SW_DEC_PEND_MAX) {
		c->p->gaps[GAP_MATCHES]++;
		return 0;
	}
	if (learned)
		mark(c->p, id, m->variant | SW_REDACT_DISCOVERED);
	d->pend[d->npend].m = *m;
	d->pend[d->npend].learned = learned || marked_found(c->p, id);
	d->pend[d->npend++].hdr = *c->ev->hdr;
	return 0;
}

/* A pushed pack's object: the connection it went over (tls: peer, sni), named by the remote's
 * URL and the ref the push updates. */
static void push_name(struct dctx *c, const struct sw_unpack_obj *o, struct sw_artifact *a)
{
	struct sw_stream_dec *d = c->se->dec;

	sw_naming__data(c->ev, NULL, a);
	if (a->type == SW_ART_TLS)
		pl_tls_name(c->p, c->ev, a);
	snprintf(a->inflated, sizeof(a->inflated), "zlib");
	snprintf(a->git.repo, sizeof(a->git.repo), "%s", d->remote);
	if (o && o->has_id)
		sw_gitobj__hex(o->id, a->git.object);
	if (o && sw_gitobj__type_name(o->type))
		snprintf(a->git.kind, sizeof(a->git.kind), "%s", sw_gitobj__type_name(o->type));
	snprintf(a->git.ref, sizeof(a->git.ref), "%s", d->ref);
}

/* The matches waiting, as alerts on the artifact (o: the git object they are in, NULL when
 * gzip or not known whole). */
static void flush(struct dctx *c, const struct sw_unpack_obj *o)
{
	struct sw_pipeline *p = c->p;
	struct sw_stream_dec *d = c->se->dec;
	const char *path = c->se->path;
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_artifact *a;
	struct hits *one;
	uint32_t i;

	if (!d->npend)
		return;
	a = malloc(sizeof(*a));
	one = malloc(sizeof(*one));
	for (i = 0; a && one && i < d->npend; i++) {
		sw_naming__data(c->ev, path, a);
		snprintf(a->inflated, sizeof(a->inflated), "%s",
			 c->kind == SW_UNPACK_GZIP ? "gzip" : "zlib");
		if (d->gitdir_len && path) {
			snprintf(a->git.repo, sizeof(a->git.repo), "%.*s",
				 (int)sw_gitobj__repo_len(path, d->gitdir_len), path);
			if (o && o->has_id)
				sw_gitobj__hex(o->id, a->git.object);
			if (o && sw_gitobj__type_name(o->type))
				snprintf(a->git.kind, sizeof(a->git.kind), "%s",
					 sw_gitobj__type_name(o->type));
			/* A loose object is written to a temporary name, then linked to the name
			 * its id gives: that is the place. */
			if (c->kind == SW_UNPACK_LOOSE && a->git.object[0])
				snprintf(a->path, sizeof(a->path), "%.*s/objects/%.2s/%s",
					 (int)d->gitdir_len, path, a->git.object,
					 a->git.object + 2);
		}
		if (d->remote)
			push_name(c, o, a);
		sw_artifact__key(a, key, sizeof(key));
		one->p = p;
		one->n = 1;
		one->m[0] = d->pend[i].m;
		one->learned[0] = d->pend[i].learned;
		if (!(c->ev->hdr->flags & SW_F_READBACK))
			pl_proc_of(p, &d->pend[i].hdr);
		/* A TLS write whose connection is not known yet waits for it, as in pl_on_data. */
		if (a->type != SW_ART_TLS || pl_tls_defer(p, one, c->ev, a))
			pl_spread(p, one, &d->pend[i].hdr, a, key);
	}
	free(one);
	free(a);
	d->npend = 0;
}

static void scan_gathered(struct dctx *c);

static void on_begin(void *ctx, const struct sw_unpack_obj *o)
{
	struct dctx *c = ctx;
	struct sw_stream_dec *d = c->se->dec;

	(void)o;
	scan_gathered(c); /* (nothing is left: the previous object's end scanned it) */
	/* Each object is a stream of its own, for the detectors too. */
	sw_stream__free(d->s);
	d->s = sw_stream__new();
	sw_detect__stream_free(d->ds);
	d->ds = c->p->recorded_finds ? NULL : sw_detect__stream_new(c->p->rules);
}

/* Inflated bytes, as pl_scan takes bytes written: what the detectors find is learned first
 * (so where it was found is its first sighting), then the matcher runs. */
static void scan(struct dctx *c, const void *data, size_t n)
{
	struct sw_pipeline *p = c->p;
	struct sw_stream_dec *d = c->se->dec;

	if (!d->s || !n)
		return;
	c->first_new = p->set->n;
	if (d->ds &&
	    sw_learn__scan(&p->learn, p->rules, p->set, d->ds, data, n, p->rec_us / 1000000)) {
		if (!pl_index_add(p, c->first_new))
			p->learned_dirty = 1;
		else
			c->first_new = p->set->n;
	}
	sw_matcher__scan(p->m, d->s, data, n, pend, c);
}

/* The bytes gathered so far, scanned (at an object's end, a record's end, or when full). */
static void scan_gathered(struct dctx *c)
{
	struct pl_git *g = c->p->git;

	if (!g || !g->nscan)
		return;
	scan(c, g->scan, g->nscan);
	sodium_memzero(g->scan, g->nscan);
	g->nscan = 0;
}

static void on_data(void *ctx, const void *data, size_t n)
{
	struct dctx *c = ctx;
	struct pl_git *g = git_of(c->p);
	const uint8_t *b = data;
	size_t k;

	if (!g) {
		scan(c, data, n);
		return;
	}
	while (n) {
		k = n < SCAN_MAX - g->nscan ? n : SCAN_MAX - g->nscan;
		memcpy(g->scan + g->nscan, b, k);
		g->nscan += k;
		b += k;
		n -= k;
		if (g->nscan == SCAN_MAX)
			scan_gathered(c);
	}
}

static void on_end(void *ctx, const struct sw_unpack_obj *o)
{
	struct dctx *c = ctx;

	scan_gathered(c);
	flush(c, o);
	learn_object(c->p, o);
}

static const struct sw_unpack_ops ops = {on_begin, on_data, on_end};

/* Whether the stream's first bytes are a format we inflate, and which. */
static int decide(const char *path, const uint8_t *b, size_t n, size_t *gitdir_len)
{
	enum sw_git_place place =
		path ? sw_gitobj__classify(path, strlen(path), gitdir_len) : SW_GIT_NONE;

	if (place == SW_GIT_LOOSE && n >= 2 && (b[0] & 0x0f) == 8 && !((b[0] << 8 | b[1]) % 31))
		return SW_UNPACK_LOOSE;
	if (place == SW_GIT_PACK && n >= 4 && !memcmp(b, "PACK", 4))
		return SW_UNPACK_PACK;
	*gitdir_len = 0;
	if (n >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8)
		return SW_UNPACK_GZIP;
	return 0;
}

int pl_decode_start(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev,
		    uint64_t start)
{
	struct sw_unpack_limits lim = {p->policy.inflate_max_bytes, p->policy.inflate_max_ratio,
				       p->policy.inflate_cache_bytes};
	uint8_t id[SW_GIT_ID_BYTES];
	size_t gitdir_len = 0;
	int kind;

	/* A ref's id ("<40 hex>\n"): learned, and kept whole in the trace for a replay to learn
	 * it too. */
	if (se->path && !ev->data->offset && ev->bytes_len >= 40 && ev->bytes_len <= 42 &&
	    !sw_gitobj__parse_id((const char *)ev->bytes, ev->bytes_len, id) &&
	    sw_gitobj__classify(se->path, strlen(se->path), &gitdir_len) == SW_GIT_REF) {
		learn_ref(p, se->path, gitdir_len, ev);
		return 1;
	}
	if (!se->dec_decided && !start && ev->bytes_len >= 4) {
		struct sw_stream_dec *d;

		se->dec_decided = 1;
		kind = decide(se->path, ev->bytes, ev->bytes_len, &gitdir_len);
		if (kind && (d = calloc(1, sizeof(*d)))) {
			d->gitdir_len = gitdir_len;
			d->kind = kind;
			d->u = sw_unpack__new(kind, &lim);
			if (!d->u || sw_streams__dec_attach(p->streams, se, d)) {
				/* Out of memory, or too many at once: not inflated, and said so. */
				sw_stream_dec__free(d);
				p->gaps[GAP_INFLATE_BUSY]++;
			}
		}
	}
	return se->dec != NULL;
}

/* n bytes of the stream being inflated (b: the record's, or a pushed pack's within them). */
static void feed(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev,
		 const void *b, size_t n)
{
	struct dctx c = {p, se, ev, 0, 0};
	int rc;

	if (!se->dec)
		return;
	c.kind = se->dec->kind;
	rc = sw_unpack__feed(se->dec->u, b, n, &ops, &c);
	scan_gathered(&c);
	p->gaps[GAP_DELTA_UNRESOLVED] += sw_unpack__take_unresolved(se->dec->u);
	/* gzip has no objects to wait for; an object cut short is told without its id. */
	if (c.kind == SW_UNPACK_GZIP || rc != SW_UNPACK_GOING)
		flush(&c, NULL);
	if (rc == SW_UNPACK_BOUND)
		p->gaps[GAP_INFLATE_BOUND]++;
	else if (rc == SW_UNPACK_RATIO)
		p->gaps[GAP_INFLATE_RATIO]++;
	else if (rc == SW_UNPACK_ERROR)
		p->gaps[GAP_INFLATE_ERROR]++;
	/* Bytes are missing after these: the rest cannot be inflated. */
	if (rc == SW_UNPACK_GOING && (ev->hdr->flags & (SW_F_TRUNCATED | SW_F_READ_ERR))) {
		p->gaps[GAP_INFLATE_ERROR]++;
		rc = SW_UNPACK_ERROR;
	}
	if (rc != SW_UNPACK_GOING)
		sw_streams__dec_detach(p->streams, se);
}

void pl_decode(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev)
{
	feed(p, se, ev, ev->bytes, ev->bytes_len);
}

/* ---- a git push over HTTP ---- */

struct pctx {
	struct sw_pipeline *p;
	struct sw_stream_ent *se;
	const struct sw_event *ev;
};

static void on_push(void *ctx, const char *host, const char *path, const char *ref)
{
	struct pctx *c = ctx;
	struct sw_stream_dec *d;
	char url[SW_PATH_MAX];

	sw_streams__dec_detach(c->p->streams, c->se);
	snprintf(url, sizeof(url), "%s://%s%s",
		 c->ev->data->art_kind == SW_AK_TLS ? "https" : "http", host, path);
	d = calloc(1, sizeof(*d));
	if (d) {
		struct sw_unpack_limits l = {c->p->policy.inflate_max_bytes,
					     c->p->policy.inflate_max_ratio,
					     c->p->policy.inflate_cache_bytes};

		d->kind = SW_UNPACK_PACK;
		d->remote = strdup(url);
		snprintf(d->ref, sizeof(d->ref), "%s", ref);
		d->u = sw_unpack__new(SW_UNPACK_PACK, &l);
	}
	if (!d || !d->remote || !d->u || sw_streams__dec_attach(c->p->streams, c->se, d)) {
		sw_stream_dec__free(d);
		c->p->gaps[GAP_INFLATE_BUSY]++;
	}
}

static void on_pack(void *ctx, const void *b, size_t n)
{
	struct pctx *c = ctx;

	feed(c->p, c->se, c->ev, b, n);
}

static void on_push_end(void *ctx)
{
	struct pctx *c = ctx;

	/* Whatever waits (an object the body cut short) goes out without its id. */
	if (c->se->dec && c->se->dec->remote) {
		struct dctx d = {c->p, c->se, c->ev, SW_UNPACK_PACK, 0};

		flush(&d, NULL);
		sw_streams__dec_detach(c->p->streams, c->se);
	}
}

static const struct sw_httppush_ops push_ops = {on_push, on_pack, on_push_end};

int pl_push_start(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev)
{
	(void)p;
	if (!se->http_decided && !sw_stream__offset(se->s) && !ev->data->offset) {
		se->http_decided = 1;
		se->http = sw_httppush__new();
	}
	if (se->http && !sw_httppush__wants(se->http, ev->bytes, ev->bytes_len)) {
		if (sw_httppush__stopped(se->http)) {
			sw_httppush__free(se->http);
			se->http = NULL;
		}
		return 0;
	}
	return se->http != NULL;
}

void pl_push(struct sw_pipeline *p, struct sw_stream_ent *se, const struct sw_event *ev)
{
	struct pctx c = {p, se, ev};

	if (!se->http)
		return;
	/* Bytes are missing after these: what follows is no request this parser can follow. */
	if (sw_httppush__feed(se->http, ev->bytes, ev->bytes_len, &push_ops, &c) ||
	    (ev->hdr->flags & (SW_F_TRUNCATED | SW_F_READ_ERR))) {
		sw_httppush__free(se->http);
		se->http = NULL;
		if (se->dec && se->dec->remote)
			sw_streams__dec_detach(p->streams, se);
	}
}
