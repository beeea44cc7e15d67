// SPDX-License-Identifier: Apache-2.0
/* See learn.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentcred.h"
#include "detect.h"
#include "learn.h"

struct hit_ctx {
	struct sw_learn *l;
	struct sw_secretset *set;
	int64_t now_s;
	size_t added;
	const uint8_t *data; /* the bytes scanned, at detector stream offset start */
	size_t len;
	uint64_t start;
	const struct sw_detect_stream *ds; /* their stream, for the bytes before them */
};

struct span {
	uint64_t lo, hi; /* the hit, in the window's offsets */
	int inside;
};

static int overlaps(const struct sw_match *m, void *ctx)
{
	struct span *sp = ctx;

	if (m->offset < sp->hi && m->offset + m->len > sp->lo) {
		sp->inside = 1;
		return 1;
	}
	return 0;
}

/* Whether a tracked secret matches the stream's bytes over the hit: the window around it (as
 * far as a match can reach, back into the bytes before this write that the detector stream
 * kept) is gathered and matched apart, then wiped. */
static int inside_known(const struct hit_ctx *c, const struct sw_detect_hit *h)
{
	const struct sw_matcher *m = c->l->known;
	const uint8_t *before = NULL;
	uint64_t first, lo, hi, end = h->offset + h->len, reach;
	size_t nbefore = 0, n;
	struct sw_stream *st;
	struct span sp = {0};
	uint8_t *w;

	if (!m || !c->data || !(reach = sw_matcher__max_len(m)))
		return 0;
	if (c->ds)
		before = sw_detect__stream_before(c->ds, &nbefore);
	if (nbefore > c->start)
		nbefore = (size_t)c->start;
	first = c->start - nbefore; /* the first stream offset at hand */
	if (h->offset < first || end > c->start + c->len)
		return 0;
	lo = h->offset - first > reach ? h->offset - reach : first;
	hi = end + reach < c->start + c->len ? end + reach : c->start + c->len;
	w = malloc(hi - lo);
	st = sw_stream__new();
	if (!w || !st) {
		free(w);
		sw_stream__free(st);
		return 0;
	}
	n = 0;
	if (lo < c->start) {
		n = (size_t)(c->start - lo);
		memcpy(w, before + nbefore - n, n);
	}
	memcpy(w + n, c->data + (lo + n - c->start), hi - lo - n);
	sp.lo = h->offset - lo;
	sp.hi = end - lo;
	sw_matcher__scan(m, st, w, hi - lo, overlaps, &sp);
	sw_stream__free(st);
	sodium_memzero(w, hi - lo);
	free(w);
	return sp.inside;
}

void sw_learn__reset(struct sw_learn *l, const struct sw_secretset *set)
{
	size_t i;

	l->learned = 0;
	for (i = 0; i < set->n; i++)
		l->learned += set->secrets[i].learned != 0;
}

/* A hit of learned secret i, where it is in the bytes scanned. */
static void tell(const struct hit_ctx *c, const struct sw_detect_hit *h, size_t i)
{
	if (c->l->found && h->offset >= c->start && h->offset - c->start + h->len <= c->len)
		c->l->found(c->l->found_ctx, i, h->offset - c->start, h->len);
}

static int on_hit(const struct sw_detect_hit *h, void *ctx)
{
	struct hit_ctx *c = ctx;
	const struct sw_secret *known;
	uint8_t value[SW_SECRET_MAX];
	char id[2 * SW_SECRET_ID_BYTES + 1];
	struct sw_secret s;

	if (h->len < SW_SECRET_MIN || h->len > SW_SECRET_MAX)
		return 0;
	if (c->l->learned >= c->l->max) {
		c->l->dropped++;
		return 0;
	}
	if (inside_known(c, h)) {
		c->l->inside_known++;
		return 0;
	}
	memset(&s, 0, sizeof(s));
	memcpy(value, h->value, h->len);
	/* Fingerprinting wipes value. */
	if (sw_fingerprint__secret(c->l->key, value, h->len, &s)) {
		sodium_memzero(value, sizeof(value));
		return 0;
	}
	if (c->l->cred && sw_agentcred__has(c->l->cred, s.id)) {
		sw_secret__clear(&s);
		return 0;
	}
	known = sw_secretset__find_id(c->set, s.id);
	if (known) {
		if (known->learned)
			tell(c, h, (size_t)(known - c->set->secrets));
		sw_secret__clear(&s);
		return 0;
	}
	sw_secret__id_hex(&s, id);
	snprintf(s.name, sizeof(s.name), "%s-%.8s", h->rule->id, id);
	snprintf(s.detector, sizeof(s.detector), "%s", h->rule->id);
	s.learned = 1;
	s.created = c->now_s;
	if (sw_secretset__put(c->set, &s)) {
		sw_secret__clear(&s);
		return 0;
	}
	c->l->learned++;
	c->added++;
	tell(c, h, c->set->n - 1);
	return 0;
}

size_t sw_learn__scan(struct sw_learn *l, const struct sw_rules *rules, struct sw_secretset *set,
		      struct sw_detect_stream *ds, const void *data, size_t len, int64_t now_s)
{
	struct hit_ctx c = {.l = l, .set = set, .now_s = now_s, .data = data, .len = len};

	if (!rules || !len)
		return 0;
	if (ds) {
		c.start = sw_detect__stream_offset(ds);
		c.ds = ds;
		sw_detect__scan_stream(rules, ds, data, len, on_hit, &c);
	} else {
		sw_detect__scan(rules, data, len, on_hit, &c);
	}
	return c.added;
}

int sw_learn__export(const struct sw_secretset *from, struct sw_secretset *into)
{
	size_t i, j;
	int e, added = 0;

	for (i = 0; i < from->n; i++) {
		const struct sw_secret *s = &from->secrets[i];
		struct sw_secret copy;

		if (!s->learned || sw_secretset__find_id(into, s->id))
			continue;
		copy = *s;
		copy.origin = NULL;
		copy.patterns = malloc(s->npatterns * sizeof(*s->patterns));
		if (!copy.patterns || sw_secret__set_origin(&copy, s->origin)) {
			sw_secret__clear(&copy);
			return -ENOMEM;
		}
		for (j = 0; j < s->npatterns; j++)
			copy.patterns[j] = s->patterns[j];
		e = sw_secretset__put(into, &copy);
		if (e) {
			sw_secret__clear(&copy);
			return e;
		}
		added++;
	}
	return added;
}

/* The file's set is read lean (names and ids) to know what it lacks; what it lacks is appended
 * as the file streams. Reading and rewriting 100,000 secrets whole for one learned secret held
 * every pattern, their protobuf and the packed file at once (~300 MiB beside the index in
 * force: the daemon's peak went to 405-477 MiB). A learned secret whose name the file already
 * gives another value (put would replace it) takes the whole-set way. */
int sw_learn__save(const char *path, const struct sw_key *key, const struct sw_secretset *learned)
{
	struct sw_secretset *disk = NULL;
	struct sw_secret *add = NULL;
	size_t i, n = 0;
	int e, whole = 0;

	e = sw_secretset__load_lean(path, key, NULL, &disk);
	if (e)
		return e;
	add = calloc(learned->n ? learned->n : 1, sizeof(*add));
	if (!add) {
		sw_secretset__free(disk);
		return -ENOMEM;
	}
	for (i = 0; i < learned->n; i++) {
		const struct sw_secret *s = &learned->secrets[i];

		if (!s->learned || sw_secretset__find_id(disk, s->id))
			continue;
		if (sw_secretset__find_name(disk, s->name))
			whole = 1;
		add[n++] = *s; /* borrowed */
	}
	if (!disk->n)
		whole = 1; /* no file yet, or an empty one: written whole, small */
	sw_secretset__free(disk);
	if (n && !whole) {
		e = sw_secretset__append(path, key, add, n);
		whole = e == -ENOENT; /* gone meanwhile (not under our lock): whole */
	}
	free(add);
	if (!n)
		return 0;
	if (!whole)
		return e ? e : (int)n;
	e = sw_secretset__load(path, key, &disk);
	if (e)
		return e;
	e = sw_learn__export(learned, disk);
	if (e > 0) {
		int rc = sw_secretset__save(disk, path, key);

		if (rc)
			e = rc;
	}
	sw_secretset__free(disk);
	return e;
}
