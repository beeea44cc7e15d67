// SPDX-License-Identifier: Apache-2.0
/* Token buckets per (secret id, session id), in integer arithmetic.
 *
 * One token is 60,000,000 units, so a refill of per_minute tokens a minute adds exactly
 * per_minute units a microsecond: no rounding drift, the same answers on every run. The
 * number of tracked pairs is bounded; the least recently used pair is forgotten first, and
 * any suppressed count it still carried moves to a "forgotten pairs" summary so that nothing
 * held back goes unreported. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

#define UNITS_PER_TOKEN 60000000ull /* microseconds in a minute */

struct bucket {
	struct bucket *hnext;
	struct bucket *prev, *next;   /* LRU, oldest first */
	struct bucket *pprev, *pnext; /* pending summaries */
	uint64_t hash;
	uint8_t sid[SW_SECRET_ID_BYTES];
	uint64_t session;
	uint64_t units;
	uint64_t refill_us;
	uint64_t suppressed, first_us, last_us;
	int pending;
};

struct sw_ratelimit {
	struct sw_ratelimit_config cfg;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct bucket **buckets;
	size_t nbuckets, n;
	struct bucket lru;	 /* sentinel */
	struct bucket pend;	 /* sentinel of the pending list */
	struct bucket forgotten; /* aggregate of evicted pairs' counts */
	uint64_t total;
};

static void list_init(struct sw_ratelimit *rl)
{
	rl->lru.next = rl->lru.prev = &rl->lru;
	rl->pend.pnext = rl->pend.pprev = &rl->pend;
}

static size_t pow2_at_least(size_t v)
{
	size_t p = 64;

	while (p < v)
		p <<= 1;
	return p;
}

struct sw_ratelimit *sw_ratelimit__new(const struct sw_ratelimit_config *cfg)
{
	struct sw_ratelimit *rl;

	if (!cfg || !cfg->burst) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->cfg = *cfg;
	if (!rl->cfg.max_keys)
		rl->cfg.max_keys = SW_RATELIMIT_KEYS_DEFAULT;
	rl->nbuckets = pow2_at_least(rl->cfg.max_keys);
	rl->buckets = calloc(rl->nbuckets, sizeof(*rl->buckets));
	if (!rl->buckets) {
		free(rl);
		errno = ENOMEM;
		return NULL;
	}
	randombytes_buf(rl->hkey, sizeof(rl->hkey));
	list_init(rl);
	return rl;
}

void sw_ratelimit__free(struct sw_ratelimit *rl)
{
	size_t i;

	if (!rl)
		return;
	for (i = 0; i < rl->nbuckets; i++) {
		struct bucket *b = rl->buckets[i], *next;

		for (; b; b = next) {
			next = b->hnext;
			free(b);
		}
	}
	free(rl->buckets);
	free(rl);
}

static uint64_t hash_of(const struct sw_ratelimit *rl, const uint8_t *sid, uint64_t session)
{
	unsigned char in[SW_SECRET_ID_BYTES + 8], out[crypto_shorthash_BYTES];
	uint64_t h;

	memcpy(in, sid, SW_SECRET_ID_BYTES);
	memcpy(in + SW_SECRET_ID_BYTES, &session, 8);
	crypto_shorthash(out, in, sizeof(in), rl->hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

static void pend_add(struct sw_ratelimit *rl, struct bucket *b)
{
	if (b->pending)
		return;
	b->pprev = rl->pend.pprev;
	b->pnext = &rl->pend;
	rl->pend.pprev->pnext = b;
	rl->pend.pprev = b;
	b->pending = 1;
}

static void pend_del(struct bucket *b)
{
	if (!b->pending)
		return;
	b->pprev->pnext = b->pnext;
	b->pnext->pprev = b->pprev;
	b->pprev = b->pnext = NULL;
	b->pending = 0;
}

static void lru_del(struct bucket *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
}

static void lru_add(struct sw_ratelimit *rl, struct bucket *b)
{
	b->prev = rl->lru.prev;
	b->next = &rl->lru;
	rl->lru.prev->next = b;
	rl->lru.prev = b;
}

static void note_suppressed(struct bucket *b, uint64_t count, uint64_t first, uint64_t last)
{
	if (!b->suppressed || first < b->first_us)
		b->first_us = first;
	if (last > b->last_us)
		b->last_us = last;
	b->suppressed += count;
}

static void evict_oldest(struct sw_ratelimit *rl)
{
	struct bucket *old = rl->lru.next, **pp;

	if (old == &rl->lru)
		return;
	if (old->suppressed) {
		note_suppressed(&rl->forgotten, old->suppressed, old->first_us, old->last_us);
		pend_add(rl, &rl->forgotten);
	}
	pend_del(old);
	lru_del(old);
	for (pp = &rl->buckets[old->hash & (rl->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == old) {
			*pp = old->hnext;
			break;
		}
	}
	free(old);
	rl->n--;
}

static struct bucket *get(struct sw_ratelimit *rl, const uint8_t *sid, uint64_t session,
			  uint64_t now_us)
{
	uint64_t h = hash_of(rl, sid, session);
	struct bucket *b;

	for (b = rl->buckets[h & (rl->nbuckets - 1)]; b; b = b->hnext)
		if (b->hash == h && b->session == session &&
		    !memcmp(b->sid, sid, SW_SECRET_ID_BYTES))
			return b;
	if (rl->n >= rl->cfg.max_keys)
		evict_oldest(rl);
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->hash = h;
	memcpy(b->sid, sid, SW_SECRET_ID_BYTES);
	b->session = session;
	b->units = (uint64_t)rl->cfg.burst * UNITS_PER_TOKEN;
	b->refill_us = now_us;
	b->hnext = rl->buckets[h & (rl->nbuckets - 1)];
	rl->buckets[h & (rl->nbuckets - 1)] = b;
	lru_add(rl, b);
	rl->n++;
	return b;
}

static void refill(const struct sw_ratelimit *rl, struct bucket *b, uint64_t now_us)
{
	uint64_t cap = (uint64_t)rl->cfg.burst * UNITS_PER_TOKEN, dt, need;

	if (now_us <= b->refill_us || !rl->cfg.per_minute) {
		if (now_us > b->refill_us)
			b->refill_us = now_us;
		return;
	}
	dt = now_us - b->refill_us;
	b->refill_us = now_us;
	if (b->units >= cap)
		return;
	/* Clamp dt to what fills the bucket, so dt * rate cannot overflow. */
	need = (cap - b->units + rl->cfg.per_minute - 1) / rl->cfg.per_minute;
	if (dt >= need)
		b->units = cap;
	else
		b->units += dt * rl->cfg.per_minute;
}

int sw_ratelimit__allow(struct sw_ratelimit *rl, const uint8_t secret_id[SW_SECRET_ID_BYTES],
			uint64_t session_id, uint64_t now_us)
{
	struct bucket *b;

	if (!rl || !secret_id)
		return 1; /* no limiter configured: never lose an alert */
	b = get(rl, secret_id, session_id, now_us);
	if (!b)
		return 1; /* out of memory: let the alert through rather than hide it */
	if (rl->lru.prev != b) {
		lru_del(b);
		lru_add(rl, b);
	}
	refill(rl, b, now_us);
	if (b->units >= UNITS_PER_TOKEN) {
		b->units -= UNITS_PER_TOKEN;
		return 1;
	}
	note_suppressed(b, 1, now_us, now_us);
	pend_add(rl, b);
	rl->total++;
	return 0;
}

size_t sw_ratelimit__summaries(struct sw_ratelimit *rl, uint64_t now_us,
			       struct sw_ratelimit_summary *out, size_t max)
{
	uint64_t interval = rl ? (uint64_t)rl->cfg.summary_interval_s * 1000000ull : 0;
	struct bucket *b, *next;
	size_t n = 0;

	if (!rl || !out)
		return 0;
	for (b = rl->pend.pnext; b != &rl->pend && n < max; b = next) {
		next = b->pnext;
		/* Due once the span that started with the first suppression is an interval old. */
		if (now_us < b->first_us || now_us - b->first_us < interval)
			continue;
		memcpy(out[n].secret_id, b->sid, SW_SECRET_ID_BYTES);
		out[n].session_id = b->session;
		out[n].suppressed = b->suppressed;
		out[n].first_us = b->first_us;
		out[n].last_us = b->last_us;
		n++;
		b->suppressed = 0;
		b->first_us = b->last_us = 0;
		pend_del(b);
	}
	return n;
}

uint64_t sw_ratelimit__suppressed_total(const struct sw_ratelimit *rl)
{
	return rl ? rl->total : 0;
}

size_t sw_ratelimit__keys(const struct sw_ratelimit *rl)
{
	return rl ? rl->n : 0;
}
