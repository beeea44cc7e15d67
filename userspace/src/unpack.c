// SPDX-License-Identifier: Apache-2.0
/* See unpack.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "unpack.h"

#define CACHE_ENTRIES 4096
#define HDR_MAX	      64

struct cached {
	uint64_t offset;
	uint8_t id[SW_GIT_ID_BYTES];
	int type;
	uint8_t *buf;
	size_t len;
};

enum state { ST_PACK_HDR, ST_OBJ_HDR, ST_OBJ_DATA, ST_TRAILER };

struct sw_unpack {
	enum sw_unpack_kind kind;
	struct sw_unpack_limits lim;
	struct sw_inflate_budget budget;
	struct sw_inflate *z;
	int stopped;
	enum state st;
	uint8_t hdr[HDR_MAX];
	size_t nhdr;
	uint64_t pos;		  /* pack: bytes taken so far */
	uint32_t objects, seen;	  /* pack: objects announced, begun */
	struct sw_unpack_obj obj; /* the current object */
	int in_obj;		  /* begin was called */
	int delta;		  /* the current object is a delta */
	uint64_t delta_ofs;	  /* OFS_DELTA: base's offset */
	uint8_t delta_base[SW_GIT_ID_BYTES];
	struct sw_gitid *id;
	uint8_t *keep; /* the current object's content (or delta), up to cache_max */
	size_t nkeep, capkeep;
	int keep_over;	      /* more than cache_max: not kept */
	struct cached *cache; /* CACHE_ENTRIES, made at a pack's first object kept */
	size_t ncache, cache_next, cache_bytes;
	uint64_t unresolved;
	const struct sw_unpack_ops *ops;
	void *ctx;
};

struct sw_unpack *sw_unpack__new(enum sw_unpack_kind kind, const struct sw_unpack_limits *l)
{
	struct sw_unpack *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->kind = kind;
	u->lim = *l;
	u->budget.max_out = l->max_out;
	u->budget.max_ratio = l->max_ratio;
	u->z = sw_inflate__new(kind == SW_UNPACK_GZIP ? SW_INFLATE_GZIP : SW_INFLATE_ZLIB);
	if (!u->z) {
		free(u);
		return NULL;
	}
	u->st = kind == SW_UNPACK_PACK ? ST_PACK_HDR : ST_OBJ_DATA;
	return u;
}

static void wipe(uint8_t *p, size_t n)
{
	if (p) {
		sodium_memzero(p, n);
		free(p);
	}
}

void sw_unpack__free(struct sw_unpack *u)
{
	size_t i;

	if (!u)
		return;
	sw_inflate__free(u->z);
	sw_gitid__free(u->id);
	wipe(u->keep, u->capkeep);
	for (i = 0; u->cache && i < CACHE_ENTRIES; i++)
		wipe(u->cache[i].buf, u->cache[i].len);
	free(u->cache);
	sodium_memzero(u->hdr, sizeof(u->hdr));
	free(u);
}

uint64_t sw_unpack__take_unresolved(struct sw_unpack *u)
{
	uint64_t n = u->unresolved;

	u->unresolved = 0;
	return n;
}

uint64_t sw_unpack__out(const struct sw_unpack *u)
{
	return u->budget.out;
}

/* Keeps content of the current object while it fits the cache bound. */
static void keep(struct sw_unpack *u, const void *p, size_t n)
{
	size_t cap;
	uint8_t *nb;

	if (u->keep_over || !n)
		return;
	if (u->nkeep + n > u->lim.cache_max) {
		u->keep_over = 1;
		return;
	}
	if (u->nkeep + n > u->capkeep) {
		cap = u->capkeep ? u->capkeep : 4096;
		while (cap < u->nkeep + n)
			cap *= 2;
		if (cap > u->lim.cache_max)
			cap = u->lim.cache_max;
		nb = malloc(cap);
		if (!nb) {
			u->keep_over = 1;
			return;
		}
		if (u->nkeep)
			memcpy(nb, u->keep, u->nkeep);
		wipe(u->keep, u->capkeep);
		u->keep = nb;
		u->capkeep = cap;
	}
	memcpy(u->keep + u->nkeep, p, n);
	u->nkeep += n;
}

static void begin(struct sw_unpack *u)
{
	u->in_obj = 1;
	u->ops->begin(u->ctx, &u->obj);
}

/* Content of the current object (not a delta). Kept whole only where it is needed again: a
 * pack's objects (delta bases), trees and commits (what holds what); not gzip, not loose
 * blobs. */
static void content(struct sw_unpack *u, const uint8_t *p, size_t n)
{
	if (u->id)
		sw_gitid__update(u->id, p, n);
	if (u->kind == SW_UNPACK_PACK || u->obj.type == SW_GIT_TREE || u->obj.type == SW_GIT_COMMIT)
		keep(u, p, n);
	u->ops->data(u->ctx, p, n);
}

static void on_out(const void *data, size_t len, void *ctx)
{
	struct sw_unpack *u = ctx;
	const uint8_t *p = data;
	size_t take;
	int k;

	if (u->delta) {
		keep(u, p, len);
		return;
	}
	if (u->kind == SW_UNPACK_LOOSE && !u->in_obj) {
		/* The header "<type> <size>\0" first; it is part of what the id hashes. */
		take = len < HDR_MAX - u->nhdr ? len : HDR_MAX - u->nhdr;
		memcpy(u->hdr + u->nhdr, p, take);
		k = sw_gitobj__loose_hdr(u->hdr, u->nhdr + take, &u->obj.type, &u->obj.size);
		if (k < 0) {
			u->stopped = SW_UNPACK_ERROR;
			return;
		}
		if (!k) {
			u->nhdr += take;
			return;
		}
		sw_gitid__update(u->id, u->hdr, k);
		p += k - u->nhdr;
		len -= k - u->nhdr;
		u->nhdr = 0;
		begin(u);
	}
	if (!u->in_obj)
		begin(u);
	content(u, p, len);
}

static void cache_put(struct sw_unpack *u, const uint8_t *id)
{
	struct cached *c;

	if (u->kind != SW_UNPACK_PACK || u->keep_over)
		return;
	if (!u->cache && !(u->cache = calloc(CACHE_ENTRIES, sizeof(*u->cache))))
		return;
	while (u->ncache &&
	       (u->cache_bytes + u->nkeep > u->lim.cache_max || u->ncache == CACHE_ENTRIES)) {
		/* Oldest first. */
		size_t old = (u->cache_next + CACHE_ENTRIES - u->ncache) % CACHE_ENTRIES;

		u->cache_bytes -= u->cache[old].len;
		wipe(u->cache[old].buf, u->cache[old].len);
		u->cache[old].buf = NULL;
		u->ncache--;
	}
	c = &u->cache[u->cache_next];
	c->buf = malloc(u->nkeep ? u->nkeep : 1);
	if (!c->buf)
		return;
	memcpy(c->buf, u->keep, u->nkeep);
	c->len = u->nkeep;
	c->offset = u->obj.offset;
	c->type = u->obj.type;
	memcpy(c->id, id, SW_GIT_ID_BYTES);
	u->cache_bytes += c->len;
	u->cache_next = (u->cache_next + 1) % CACHE_ENTRIES;
	u->ncache++;
}

static const struct cached *cache_find(const struct sw_unpack *u)
{
	size_t i;

	for (i = 0; u->cache && i < CACHE_ENTRIES; i++) {
		const struct cached *c = &u->cache[i];

		if (!c->buf)
			continue;
		if (u->obj.type == SW_GIT_OFS_DELTA
			    ? c->offset == u->delta_ofs
			    : !memcmp(c->id, u->delta_base, SW_GIT_ID_BYTES))
			return c;
	}
	return NULL;
}

/* A delta ended: its base applied, the result goes out as the object. */
static void resolve(struct sw_unpack *u)
{
	const struct cached *b = u->keep_over ? NULL : cache_find(u);
	uint8_t *out = NULL;
	size_t olen = 0;

	if (!b && !u->keep_over && u->ops->missing &&
	    !u->ops->missing(u->ctx, &u->obj,
			     u->obj.type == SW_GIT_REF_DELTA ? u->delta_base : NULL, u->delta_ofs,
			     u->keep, u->nkeep))
		return;
	if (!b ||
	    sw_gitobj__delta(b->buf, b->len, u->keep, u->nkeep, u->lim.cache_max, &out, &olen)) {
		u->unresolved++;
		return;
	}
	u->obj.type = b->type;
	u->obj.size = olen;
	u->delta = 0;
	u->nkeep = 0;
	u->keep_over = 0;
	u->id = sw_gitid__new(u->obj.type, olen);
	begin(u);
	if (u->id)
		content(u, out, olen);
	wipe(out, olen);
}

static void end_object(struct sw_unpack *u)
{
	uint8_t id[SW_GIT_ID_BYTES] = {0};

	if (u->delta)
		resolve(u);
	if (u->in_obj) {
		if (u->id) {
			sw_gitid__final(u->id, id);
			memcpy(u->obj.id, id, sizeof(id));
			u->obj.has_id = u->kind != SW_UNPACK_GZIP;
		}
		u->obj.content = u->keep_over ? NULL : u->keep;
		u->obj.content_len = u->keep_over ? 0 : u->nkeep;
		u->ops->end(u->ctx, &u->obj);
		cache_put(u, id);
	}
	sw_gitid__free(u->id);
	u->id = NULL;
	u->in_obj = 0;
	u->delta = 0;
	u->nkeep = 0;
	u->keep_over = 0;
	memset(&u->obj, 0, sizeof(u->obj));
}

/* Pack framing: the pack header, then each object's header. Returns bytes taken from p, or
 * -EINVAL. Leaves u->st at ST_OBJ_DATA once an object's zlib stream starts. */
static int frame(struct sw_unpack *u, const uint8_t *p, size_t n)
{
	size_t take = n < HDR_MAX - u->nhdr ? n : HDR_MAX - u->nhdr, before = u->nhdr;
	uint64_t size, ofs;
	int type, k;

	memcpy(u->hdr + u->nhdr, p, take);
	if (u->st == ST_PACK_HDR) {
		if (u->nhdr + take < 12) {
			u->nhdr += take;
			return (int)take;
		}
		if (memcmp(u->hdr, "PACK", 4) || u->hdr[4] || u->hdr[5] || u->hdr[6] ||
		    (u->hdr[7] != 2 && u->hdr[7] != 3))
			return -EINVAL;
		u->objects = (uint32_t)u->hdr[8] << 24 | (uint32_t)u->hdr[9] << 16 |
			     (uint32_t)u->hdr[10] << 8 | u->hdr[11];
		u->nhdr = 0;
		u->st = u->objects ? ST_OBJ_HDR : ST_TRAILER;
		return (int)(12 - before);
	}
	k = sw_gitobj__pack_hdr(u->hdr, u->nhdr + take, &type, &size, &ofs, u->delta_base);
	if (k < 0)
		return k;
	if (!k) {
		if (u->nhdr + take >= HDR_MAX)
			return -EINVAL;
		u->nhdr += take;
		return (int)take;
	}
	memset(&u->obj, 0, sizeof(u->obj));
	u->obj.type = type;
	u->obj.size = size;
	u->obj.offset = u->pos - before;
	u->delta = type == SW_GIT_OFS_DELTA || type == SW_GIT_REF_DELTA;
	if (type == SW_GIT_OFS_DELTA) {
		if (ofs > u->obj.offset)
			return -EINVAL;
		u->delta_ofs = u->obj.offset - ofs;
	}
	if (!u->delta)
		u->id = sw_gitid__new(type, size);
	u->nhdr = 0;
	u->seen++;
	u->st = ST_OBJ_DATA;
	if (sw_inflate__reset(u->z))
		return -EINVAL;
	return k - (int)before;
}

int sw_unpack__feed(struct sw_unpack *u, const void *data, size_t len,
		    const struct sw_unpack_ops *ops, void *ctx)
{
	const uint8_t *p = data;
	size_t used;
	int rc, k;

	if (u->stopped)
		return SW_UNPACK_GOING;
	u->ops = ops;
	u->ctx = ctx;
	if (u->kind == SW_UNPACK_LOOSE && !u->id && !u->in_obj && !u->nhdr)
		u->id = sw_gitid__new_raw();
	while (len && !u->stopped) {
		if (u->st == ST_TRAILER) {
			u->stopped = SW_UNPACK_DONE;
			break;
		}
		if (u->st != ST_OBJ_DATA) {
			k = frame(u, p, len);
			if (k < 0) {
				u->stopped = SW_UNPACK_ERROR;
				break;
			}
			p += k;
			len -= k;
			u->pos += k;
			continue;
		}
		rc = sw_inflate__feed(u->z, &u->budget, p, len, &used, on_out, u);
		p += used;
		len -= used;
		u->pos += used;
		if (u->stopped) /* a loose object's header was bad */
			break;
		if (rc == SW_INFLATE_END) {
			/* A loose object whose header never came whole is not one. */
			if (u->kind == SW_UNPACK_LOOSE && !u->in_obj && u->nhdr) {
				u->stopped = SW_UNPACK_ERROR;
				break;
			}
			end_object(u);
			if (u->kind != SW_UNPACK_PACK) {
				u->stopped = SW_UNPACK_DONE;
				break;
			}
			u->st = u->seen < u->objects ? ST_OBJ_HDR : ST_TRAILER;
		} else if (rc != SW_INFLATE_MORE) {
			u->stopped = rc;
			/* What was inflated before the stop still counts as the object's. */
			if (u->in_obj && u->kind == SW_UNPACK_GZIP)
				end_object(u);
		} else if (u->kind == SW_UNPACK_GZIP && used == 0) {
			break;
		}
	}
	/* gzip has no object end until the stream's: content flows as it comes. */
	return u->stopped;
}
