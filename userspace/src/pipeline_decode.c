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

#define GIT_EDGES   16384
#define GIT_REFS    256
#define GIT_DEPTH   32 /* trees followed up from a blob to its commit */
#define SCAN_MAX    (64u << 10)
#define WAITING_MAX 64 /* deltas waiting for their base at once; more are unresolved */

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
	/* Deltas of packs whose base the pack did not carry (a thin pack: the receiver has it),
	 * waiting for the base the source reads from the repository (SW_REQ_GIT_BASE). */
	struct waiting {
		uint64_t token;	 /* the request's (0: free) */
		uint64_t pack;	 /* the pack it is in (its decoder's serial) */
		uint64_t offset; /* its offset there */
		uint64_t
			parent; /* the waiting delta that is its base (an OFS_DELTA on one), or 0 */
		uint8_t *delta; /* its instructions */
		size_t dlen;
		uint8_t *base; /* the base as it arrives */
		size_t blen, bcap;
		uint64_t btotal;
		int btype, bad;
		int filler;	      /* replay: the trace kept part of the base out */
		int redacted;	      /* live: part of the base was kept out of the trace */
		size_t first_new;     /* secrets from this index on were learned from the base */
		struct sw_stream *st; /* the base's matcher and detector carry-over */
		struct sw_detect_stream *ds;
		struct sw_artifact *art; /* named as the delta was: object and kind once made */
		struct sw_hdr hdr;	 /* of the record the delta ended in */
	} w[WAITING_MAX];
	uint64_t tokens, serials;
	uint32_t made;	 /* objects deltas made in the record being handled */
	uint64_t wbytes; /* of deltas and bases waiting, against policy inflate.cache_bytes */
};

static struct pl_git *git_of(struct sw_pipeline *p)
{
	if (!p->git)
		p->git = calloc(1, sizeof(*p->git));
	return p->git;
}

static void wait_drop(struct pl_git *g, struct waiting *w);

void pl_git_reset(struct sw_pipeline *p)
{
	size_t i;

	if (!p->git)
		return;
	for (i = 0; i < GIT_REFS; i++)
		free(p->git->r[i].repo);
	for (i = 0; i < WAITING_MAX; i++)
		wait_drop(p->git, &p->git->w[i]);
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

/* The place of what an object o of the stream holds (o NULL: not known whole). */
static void name(struct dctx *c, const struct sw_unpack_obj *o, struct sw_artifact *a)
{
	struct sw_stream_dec *d = c->se->dec;
	const char *path = c->se->path;

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
		/* A loose object is written to a temporary name, then linked to the name its id
		 * gives: that is the place. */
		if (c->kind == SW_UNPACK_LOOSE && a->git.object[0])
			snprintf(a->path, sizeof(a->path), "%.*s/objects/%.2s/%s",
				 (int)d->gitdir_len, path, a->git.object, a->git.object + 2);
	}
	if (d->remote)
		push_name(c, o, a);
}

/* The matches waiting, as alerts on the artifact (o: the git object they are in, NULL when
 * gzip or not known whole). */
static void flush(struct dctx *c, const struct sw_unpack_obj *o)
{
	struct sw_pipeline *p = c->p;
	struct sw_stream_dec *d = c->se->dec;
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_artifact *a;
	struct hits *one;
	uint32_t i;

	if (!d->npend)
		return;
	a = malloc(sizeof(*a));
	one = malloc(sizeof(*one));
	for (i = 0; a && one && i < d->npend; i++) {
		name(c, o, a);
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

/* ---- deltas whose base is in the repository ---- */

static void wipe_free(uint8_t *b, size_t n)
{
	if (b) {
		sodium_memzero(b, n);
		free(b);
	}
}

static void wait_drop(struct pl_git *g, struct waiting *w)
{
	if (!w->token)
		return;
	g->wbytes -= w->dlen + w->bcap;
	wipe_free(w->delta, w->dlen);
	wipe_free(w->base, w->bcap);
	sw_stream__free(w->st);
	sw_detect__stream_free(w->ds);
	free(w->art);
	memset(w, 0, sizeof(*w));
}

static struct waiting *wait_find(struct pl_git *g, uint64_t token)
{
	size_t i;

	for (i = 0; g && token && i < WAITING_MAX; i++)
		if (g->w[i].token == token)
			return &g->w[i];
	return NULL;
}

static void waiting_unresolved(struct sw_pipeline *p, struct pl_git *g, struct waiting *w);

/* A pack's delta whose base is not at hand: kept (bounded) and its base asked for from the
 * repository, or, an OFS_DELTA on a delta that waits itself, kept to follow that one. */
static int on_missing(void *ctx, const struct sw_unpack_obj *o, const uint8_t *base_id,
		      uint64_t base_ofs, const uint8_t *delta, size_t len)
{
	struct dctx *c = ctx;
	struct sw_pipeline *p = c->p;
	struct sw_stream_dec *d = c->se->dec;
	struct pl_git *g = git_of(p);
	struct waiting *w = NULL, *parent = NULL;
	struct sw_request *r;
	size_t i;

	if (!g || g->wbytes + len > p->policy.inflate_cache_bytes)
		return -1;
	for (i = 0; i < WAITING_MAX; i++) {
		if (!g->w[i].token && !w)
			w = &g->w[i];
		if (!base_id && g->w[i].token && g->w[i].pack == d->serial &&
		    g->w[i].offset == base_ofs)
			parent = &g->w[i];
	}
	/* A base by id needs a repository to ask: the pack's, or the pusher's. */
	if ((!base_id && !parent) || (base_id && !d->remote && !(d->gitdir_len && c->se->path)))
		return -1;
	/* All taken (answers that never came): the oldest goes, loudly, for this one. */
	if (!w) {
		for (i = 0; i < WAITING_MAX; i++)
			if (!w || g->w[i].token < w->token)
				w = &g->w[i];
		if (w == parent)
			return -1;
		waiting_unresolved(p, g, w);
		if (w->token || (parent && !parent->token))
			return -1;
	}
	w->delta = malloc(len ? len : 1);
	w->art = malloc(sizeof(*w->art));
	if (!w->delta || !w->art) {
		free(w->delta);
		free(w->art);
		w->delta = NULL;
		w->art = NULL;
		return -1;
	}
	memcpy(w->delta, delta, len);
	w->dlen = len;
	w->token = ++g->tokens;
	w->pack = d->serial;
	w->offset = o->offset;
	w->parent = parent ? parent->token : 0;
	w->hdr = *c->ev->hdr;
	name(c, NULL, w->art);
	g->wbytes += len;
	if (parent)
		return 0;
	r = pl_request(p, SW_REQ_GIT_BASE, c->ev->hdr, d->remote ? NULL : c->se->path,
		       d->remote ? 0 : d->gitdir_len);
	if (!r) {
		wait_drop(g, w);
		return -1;
	}
	r->ino = w->token;
	r->length = p->policy.inflate_cache_bytes;
	sw_gitobj__hex(base_id, r->label);
	return 0;
}

static int delta_collect(const struct sw_match *m, void *ctx)
{
	struct hits *h = ctx;

	if (h->n >= MATCHES_MAX) {
		h->p->gaps[GAP_MATCHES]++;
		return 0;
	}
	h->learned[h->n] = m->secret >= h->first_new;
	h->m[h->n++] = *m;
	return 0;
}

/* A mark's variant: the match's variant and SW_REDACT_DISCOVERED, MARK_DELTA or MARK_ID, the
 * part of the id (MARK_ID), and which object made by this record it is about. */
#define MARK_ID	       0x400
#define MARK_PART(v)   (((v) >> 12) & 3)
#define MARK_OBJECT(v) (((v) >> 16) & 0xff)

/* Replay: whether the live run marked secret id as discovered in object k of this record. */
static int marked_delta(const struct sw_pipeline *p, unsigned int k, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < p->nrecorded; i++) {
		const struct sw_redaction *r = &p->recorded[i];

		if (is_mark(r) && (r->variant & MARK_DELTA) && MARK_OBJECT(r->variant) == k &&
		    (r->variant & SW_REDACT_DISCOVERED) &&
		    !memcmp(r->secret_id, id, sizeof(r->secret_id)))
			return 1;
	}
	return 0;
}

/* What a resolved delta made (object k of this record), matched: by the detectors and the
 * matcher; a secret learned from its base counts as found there. Each match is marked on the
 * record; in a replay whose trace kept part of the base out, the marks are the matches. */
static void delta_matches(struct sw_pipeline *p, const struct waiting *w, unsigned int k,
			  const uint8_t *out, size_t olen, struct hits *h)
{
	const struct sw_secret *s;
	struct sw_stream *st;
	size_t i, before;

	h->p = p;
	h->n = 0;
	h->redact = 0;
	if (w->filler) {
		for (i = 0; i < p->nrecorded && h->n < MATCHES_MAX; i++) {
			const struct sw_redaction *r = &p->recorded[i];

			if (!is_mark(r) || !(r->variant & MARK_DELTA) ||
			    MARK_OBJECT(r->variant) != k)
				continue;
			s = sw_secretset__find_id(p->set, r->secret_id);
			if (!s) {
				p->st.replay_unknown++;
				continue;
			}
			memset(&h->m[h->n], 0, sizeof(h->m[0]));
			h->m[h->n].secret = s - p->set->secrets;
			h->m[h->n].variant = r->variant & 0xff;
			h->learned[h->n++] = (r->variant & SW_REDACT_DISCOVERED) != 0;
		}
		return;
	}
	h->first_new = w->first_new;
	before = p->set->n;
	if (!p->recorded_finds &&
	    sw_learn__scan(&p->learn, p->rules, p->set, NULL, out, olen, p->rec_us / 1000000) &&
	    !pl_index_add(p, before))
		p->learned_dirty = 1;
	st = sw_stream__new();
	if (!st)
		return;
	sw_matcher__scan(p->m, st, out, olen, delta_collect, h);
	sw_stream__free(st);
	for (i = 0; i < h->n; i++) {
		const uint8_t *id = p->set->secrets[h->m[i].secret].id;

		h->learned[i] = h->learned[i] || marked_delta(p, k, id);
		mark(p, id,
		     h->m[i].variant | MARK_DELTA | k << 16 |
			     (h->learned[i] ? SW_REDACT_DISCOVERED : 0));
	}
}

/* The delta w on its base: the object it makes (object k of this record), matched and alerted
 * on as the place the delta was in; then the deltas waiting on it. */
static void delta_apply(struct sw_pipeline *p, struct pl_git *g, struct waiting *w,
			const uint8_t *base, size_t blen, int type)
{
	static const uint8_t zero[8];
	char key[SW_ARTIFACT_KEY_MAX];
	unsigned int k = g->made++ & 0xff;
	struct sw_unpack_obj o;
	struct sw_gitid *gid;
	uint8_t *out = NULL, part[8];
	size_t olen = 0, i;
	struct hits *h = &p->hits; /* the record (a base) has no matches of its own */
	int from_marks = 0;

	if (sw_gitobj__delta(base, blen, w->delta, w->dlen, p->policy.inflate_cache_bytes, &out,
			     &olen) ||
	    !(gid = sw_gitid__new(type, olen))) {
		wipe_free(out, olen);
		waiting_unresolved(p, g, w);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.type = type;
	o.size = olen;
	o.offset = w->offset;
	o.has_id = 1;
	sw_gitid__update(gid, out, olen);
	sw_gitid__final(gid, o.id);
	sw_gitid__free(gid);
	/* Its id, when a replay cannot make it (part of the base kept out of the trace): marked
	 * 8 bytes at a time. */
	for (i = 0; i < p->nrecorded && w->filler; i++) {
		const struct sw_redaction *r = &p->recorded[i];

		if (!r->offset && !r->length && (r->variant & MARK_ID) &&
		    MARK_OBJECT(r->variant) == k && MARK_PART(r->variant) < 3) {
			memcpy(o.id + 8 * MARK_PART(r->variant), r->secret_id,
			       MARK_PART(r->variant) < 2 ? 8 : 4);
			from_marks = 1;
		}
	}
	if (w->redacted)
		for (i = 0; i < 3; i++) {
			memset(part, 0, sizeof(part));
			memcpy(part, o.id + 8 * i, i < 2 ? 8 : 4);
			/* (a mark names something: an all-zero part, 2^-64, stays unmarked) */
			if (memcmp(part, zero, sizeof(zero)))
				mark(p, part, MARK_ID | (uint32_t)i << 12 | k << 16);
		}
	o.content = from_marks ? NULL : out;
	o.content_len = from_marks ? 0 : olen;
	sw_gitobj__hex(o.id, w->art->git.object);
	snprintf(w->art->git.kind, sizeof(w->art->git.kind), "%s", sw_gitobj__type_name(type));
	delta_matches(p, w, k, out, olen, h);
	if (h->n) {
		sw_artifact__key(w->art, key, sizeof(key));
		if (!(w->hdr.flags & SW_F_READBACK))
			pl_proc_of(p, &w->hdr);
		pl_spread(p, h, &w->hdr, w->art, key);
	}
	learn_object(p, &o);
	/* The deltas on this one (a chain in the pack), on what it made. */
	for (i = 0; i < WAITING_MAX; i++)
		if (g->w[i].token && g->w[i].parent == w->token) {
			g->w[i].parent = 0;
			g->w[i].filler = w->filler;
			g->w[i].redacted = w->redacted;
			g->w[i].first_new = w->first_new;
			delta_apply(p, g, &g->w[i], out, olen, type);
		}
	wipe_free(out, olen);
	wait_drop(g, w);
}

/* No base for w: it, and the deltas waiting on it, are unresolved (a gap). */
static void waiting_unresolved(struct sw_pipeline *p, struct pl_git *g, struct waiting *w)
{
	size_t i;
	uint64_t t = w->token;

	p->gaps[GAP_DELTA_UNRESOLVED]++;
	wait_drop(g, w);
	for (i = 0; i < WAITING_MAX; i++)
		if (g->w[i].token && g->w[i].parent == t)
			waiting_unresolved(p, g, &g->w[i]);
}

/* Replay: whether the live run kept any of [off, off + len) of the record out of the trace. */
static int kept_out(const struct sw_pipeline *p, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < p->nrecorded; i++)
		if (p->recorded[i].length && p->recorded[i].offset < off + len &&
		    p->recorded[i].offset + p->recorded[i].length > off)
			return 1;
	return 0;
}

/* A base's bytes, as the trace keeps a write's: the detectors learn from them (carried over
 * from chunk to chunk; what they learn counts as found in what the delta makes), and what
 * holds or may yet begin a tracked secret is kept out. The base itself is no place. */
static void base_scan(struct sw_pipeline *p, struct waiting *w, const struct sw_event *ev,
		      size_t off, int whole)
{
	struct hits *h = &p->hits;
	size_t before = p->red.n;

	if (!w->st)
		w->st = sw_stream__new();
	if (!w->ds && !p->recorded_finds)
		w->ds = sw_detect__stream_new(p->rules);
	if (!w->st) {
		w->bad = 1;
		return;
	}
	h->p = p;
	h->n = 0;
	h->redact = 0;
	pl_scan(p, h, w->st, w->ds, ev->bytes, ev->bytes_len, off, whole, 1);
	h->n = 0;
	if (p->red.n > before)
		w->redacted = 1;
}

void pl_git_base(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	uint16_t fl = ev->hdr->flags;
	struct pl_git *g = p->git;
	struct waiting *w = wait_find(g, d->ino);
	size_t off = (const char *)ev->bytes - (const char *)ev->hdr, n = ev->bytes_len, cap;
	uint8_t *nb;

	if (!w || w->parent) {
		/* Not asked for (any more): its bytes stay out of the trace all the same. */
		if (n) {
			sw_redact__scope(&p->red, off, 0, n);
			sw_redact__unsettled(&p->red, 0);
		}
		return;
	}
	g->made = 0;
	if (fl & SW_F_FIRST) {
		g->wbytes -= w->bcap;
		wipe_free(w->base, w->bcap);
		w->base = NULL;
		w->blen = w->bcap = 0;
		w->btotal = d->total;
		w->btype = (int)d->syscall_nr;
		w->bad = 0;
		w->first_new = p->set->n;
	}
	if (n && kept_out(p, off, n))
		w->filler = 1;
	if ((fl & (SW_F_READ_ERR | SW_F_TRUNCATED)) || d->offset != w->blen ||
	    w->blen + n > w->btotal || w->btotal > p->policy.inflate_cache_bytes)
		w->bad = 1;
	if (!w->bad && n && w->blen + n > w->bcap) {
		cap = w->btotal;
		if (g->wbytes - w->bcap + cap > p->policy.inflate_cache_bytes ||
		    !(nb = malloc(cap ? cap : 1))) {
			w->bad = 1;
		} else {
			if (w->blen)
				memcpy(nb, w->base, w->blen);
			wipe_free(w->base, w->bcap);
			g->wbytes += cap - w->bcap;
			w->base = nb;
			w->bcap = cap;
		}
	}
	if (!w->bad && n) {
		memcpy(w->base + w->blen, ev->bytes, n);
		w->blen += n;
	}
	if (n)
		base_scan(p, w, ev, off, (fl & SW_F_LAST) != 0);
	if (!(fl & SW_F_LAST))
		return;
	if (w->bad || w->blen != w->btotal || !sw_gitobj__type_name(w->btype)) {
		waiting_unresolved(p, g, w);
		return;
	}
	delta_apply(p, g, w, w->base, w->blen, w->btype);
}

static const struct sw_unpack_ops ops = {on_begin, on_data, on_end, on_missing};

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
			d->serial = git_of(p) ? ++p->git->serials : 0;
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
		d->serial = git_of(c->p) ? ++c->p->git->serials : 0;
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
