// SPDX-License-Identifier: Apache-2.0
/* See streams.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "httppush.h"
#include "matcher.h"
#include "streams.h"
#include "unpack.h"

#include <sodium.h>

#define BUCKETS 4096

struct sw_streams {
	struct sw_stream_ent *b[BUCKETS];
	size_t n, ndec, npacks;
	uint64_t tick;
};

static uint64_t id_hash(const struct sw_stream_id *k)
{
	uint64_t h = (k->a ^ ((uint64_t)k->kind << 48) ^ ((uint64_t)k->tgid << 24)) *
		     0x9e3779b97f4a7c15ULL;

	h ^= (k->b + (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

struct sw_streams *sw_streams__new(void)
{
	return calloc(1, sizeof(struct sw_streams));
}

void sw_stream_dec__free(struct sw_stream_dec *d)
{
	if (!d)
		return;
	sw_unpack__free(d->u);
	free(d->remote);
	sw_stream__free(d->s);
	sw_detect__stream_free(d->ds);
	sodium_memzero(d, sizeof(*d));
	free(d);
}

static void ent_free(struct sw_streams *t, struct sw_stream_ent *e)
{
	if (e->dec) {
		t->ndec--;
		t->npacks -= e->dec->kind == SW_UNPACK_PACK;
	}
	sw_stream_dec__free(e->dec);
	sw_httppush__free(e->http);
	sw_stream__free(e->s);
	sw_detect__stream_free(e->ds);
	free(e->path);
	free(e);
}

void sw_streams__free(struct sw_streams *t)
{
	struct sw_stream_ent *e, *n;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < BUCKETS; i++)
		for (e = t->b[i]; e; e = n) {
			n = e->next;
			ent_free(t, e);
		}
	free(t);
}

static struct sw_stream_ent **slot(struct sw_streams *t, const struct sw_stream_id *key)
{
	struct sw_stream_ent **pp = &t->b[id_hash(key) % BUCKETS];

	for (; *pp; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->key, key, sizeof(*key)))
			break;
	return pp;
}

/* Linear in the table, but only once per new stream past the bound. */
static void evict_lru(struct sw_streams *t)
{
	struct sw_stream_ent **pp, **old = NULL, *e;
	size_t i;

	for (i = 0; i < BUCKETS; i++)
		for (pp = &t->b[i]; *pp; pp = &(*pp)->next)
			if (!old || (*pp)->used < (*old)->used)
				old = pp;
	if (!old)
		return;
	e = *old;
	*old = e->next;
	ent_free(t, e);
	t->n--;
}

struct sw_stream_ent *sw_streams__find(struct sw_streams *t, const struct sw_stream_id *key)
{
	struct sw_stream_ent *e = *slot(t, key);

	if (e)
		e->used = ++t->tick;
	return e;
}

struct sw_stream_ent *sw_streams__get(struct sw_streams *t, const struct sw_stream_id *key)
{
	struct sw_stream_ent **pp = slot(t, key), *e = *pp;

	if (e) {
		e->used = ++t->tick;
		return e;
	}
	if (t->n >= SW_STREAMS_MAX) {
		evict_lru(t);
		pp = slot(t, key);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *key;
	e->s = sw_stream__new();
	if (!e->s) {
		ent_free(t, e);
		return NULL;
	}
	e->used = ++t->tick;
	*pp = e;
	t->n++;
	return e;
}

void sw_streams__drop(struct sw_streams *t, const struct sw_stream_id *key)
{
	struct sw_stream_ent **pp = slot(t, key), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	ent_free(t, e);
	t->n--;
}

int sw_stream_ent__set_path(struct sw_stream_ent *e, const char *path, size_t len)
{
	char *np = strndup(path, len);

	if (!np)
		return -ENOMEM;
	free(e->path);
	e->path = np;
	return 0;
}

int sw_streams__dec_attach(struct sw_streams *t, struct sw_stream_ent *e, struct sw_stream_dec *d)
{
	if (t->ndec >= SW_STREAMS_DEC_MAX ||
	    (d->kind == SW_UNPACK_PACK && t->npacks >= SW_STREAMS_DEC_PACKS_MAX))
		return -EBUSY;
	sw_streams__dec_detach(t, e);
	e->dec = d;
	t->ndec++;
	t->npacks += d->kind == SW_UNPACK_PACK;
	return 0;
}

void sw_streams__dec_detach(struct sw_streams *t, struct sw_stream_ent *e)
{
	if (!e->dec)
		return;
	t->ndec--;
	t->npacks -= e->dec->kind == SW_UNPACK_PACK;
	sw_stream_dec__free(e->dec);
	e->dec = NULL;
}

size_t sw_streams__count(const struct sw_streams *t)
{
	return t->n;
}
