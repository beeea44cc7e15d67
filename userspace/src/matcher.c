// SPDX-License-Identifier: Apache-2.0
/* Streaming matcher over keyed fingerprints (DESIGN.md "Matcher", "Streams").
 *
 * Sampling: only stream offsets that are multiples of the stride S are looked at; a pattern of
 * length >= S + 7 has exactly one of its first S windows at such an offset, and every pattern
 * has those S window hashes in the index. Per sample: keyed mix of 8 bytes -> blocked Bloom
 * filter (4 bits in one 64-bit word, sized for L2) -> bucketed window table (16 x u32 slots per
 * 64-byte bucket: tag | pattern<<3 | j, or tag | a list of those when several share a window)
 * -> keyed BLAKE2b of the candidate span.
 *
 * Streams: a match is reported by the scan in which its last byte arrives, so it is reported
 * once. The stream keeps the last (longest pattern - 1) bytes, enough to hold the start of any
 * match still open, and remembers the earliest sample that had an open candidate so the next
 * scan re-examines only that part of the carry plus the windows straddling the boundary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "matcher_priv.h"

static void *alloc_lines(size_t bytes)
{
	void *p;

	bytes = (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	if (!bytes)
		bytes = CACHE_LINE;
	p = aligned_alloc(CACHE_LINE, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

static unsigned int bits_for(uint64_t v)
{
	unsigned int b = 0;

	while (b < 64 && (1ull << b) <= v)
		b++;
	return b;
}

static int list_ref(struct build *b, uint32_t list, uint32_t ref)
{
	struct lref *g;
	size_t cap;

	if (b->npr == b->prcap) {
		cap = b->prcap ? 2 * b->prcap : 1024;
		g = realloc(b->pr, cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		b->pr = g;
		b->prcap = cap;
	}
	b->pr[b->npr].list = list;
	b->pr[b->npr++].ref = ref;
	b->cnt[list]++;
	return 0;
}

/* Slot value: tag << refbits | field; field is ref + 1, or listflag | list id (later the
 * list's offset in m->post). A second ref under a tag already on the walk joins a list. */
static int table_insert(struct sw_matcher *m, struct build *b, uint64_t h, uint32_t ref)
{
	uint32_t bk_i, tag, n, k, *bk, field, *g;
	int rc;

	table_pos(m, h, &bk_i, &tag);
	for (n = 0; n < m->nbuckets; n++) {
		bk = m->table + (size_t)bk_i * BUCKET_SLOTS;
		for (k = 0; k < BUCKET_SLOTS; k++) {
			if (!bk[k]) {
				bk[k] = tag << m->refbits | (ref + 1);
				return 0;
			}
			if (bk[k] >> m->refbits != tag)
				continue;
			field = bk[k] & m->refmask;
			if (field & m->listflag)
				return list_ref(b, field & ~m->listflag, ref);
			if (b->n == b->cap) {
				size_t cap = b->cap ? 2 * b->cap : 64;

				g = realloc(b->cnt, cap * sizeof(*g));
				if (!g)
					return -ENOMEM;
				b->cnt = g;
				b->cap = cap;
			}
			b->cnt[b->n] = 0;
			rc = list_ref(b, (uint32_t)b->n, field - 1);
			if (!rc)
				rc = list_ref(b, (uint32_t)b->n, ref);
			if (rc)
				return rc;
			bk[k] = tag << m->refbits | m->listflag | (uint32_t)b->n++;
			return 0;
		}
		if (++bk_i == m->nbuckets)
			bk_i = 0;
	}
	return -ENOSPC;
}

/* Lays the lists out in m->post ([count, ref, ref, ...] each, refs in the order they came)
 * and points their slots at their offsets. */
static int table_finish(struct sw_matcher *m, struct build *b)
{
	size_t i, total = b->n + b->npr, *cur;
	uint32_t field, *sl;

	if (total >= m->listflag)
		return -E2BIG;
	cur = calloc(b->n ? b->n : 1, sizeof(*cur));
	m->post = calloc(total ? total : 1, sizeof(*m->post));
	if (!cur || !m->post) {
		free(cur);
		return -ENOMEM;
	}
	m->npost = total;
	for (i = 0, total = 0; i < b->n; i++) {
		m->post[total] = b->cnt[i];
		cur[i] = total + 1;
		total += 1 + b->cnt[i];
	}
	for (i = 0; i < b->npr; i++)
		m->post[cur[b->pr[i].list]++] = b->pr[i].ref;
	/* cur[i] is now the end of list i: its offset is end - count - 1 */
	for (i = 0; i < (size_t)m->nbuckets * BUCKET_SLOTS; i++) {
		sl = &m->table[i];
		field = *sl & m->refmask;
		if (*sl && (field & m->listflag)) {
			size_t l = field & ~m->listflag;

			*sl = (*sl & ~m->refmask) | m->listflag |
			      (uint32_t)(cur[l] - b->cnt[l] - 1);
		}
	}
	free(cur);
	return 0;
}

static void build_free(struct build *b)
{
	free(b->cnt);
	free(b->pr);
	memset(b, 0, sizeof(*b));
}

static int check_secrets(const struct sw_secret *secrets, size_t n, size_t *npat, size_t *minlen,
			 size_t *maxlen)
{
	const struct sw_pattern *p;
	size_t i, k;

	*npat = 0;
	*minlen = SIZE_MAX;
	*maxlen = 0;
	for (i = 0; i < n; i++) {
		if (secrets[i].npatterns && !secrets[i].patterns)
			return -EINVAL;
		for (k = 0; k < secrets[i].npatterns; k++) {
			p = &secrets[i].patterns[k];
			if (p->len < SW_WINDOW || p->len > PAT_LEN_MAX ||
			    p->variant >= SW_VAR__COUNT)
				return -EINVAL;
			if (p->nwin < SW_STRIDE_MAX && p->nwin != p->len - SW_WINDOW + 1)
				return -EINVAL;
			if (p->nwin > SW_STRIDE_MAX)
				return -EINVAL;
			if (p->len < *minlen)
				*minlen = p->len;
			if (p->len > *maxlen)
				*maxlen = p->len;
			(*npat)++;
		}
	}
	return 0;
}

struct sw_matcher *sw_matcher__new(const struct sw_key *key, const struct sw_secret *secrets,
				   size_t n)
{
	return sw_matcher__new_reserve(key, secrets, n, 0);
}

static int is_wrapped(uint8_t v)
{
	return v == SW_VAR_BASE64 || v == SW_VAR_BASE64URL || v == SW_VAR_HEX ||
	       v == SW_VAR_HEX_UPPER;
}

static void note_wrapped(struct sw_matcher *m, uint8_t variant, size_t len)
{
	if (!is_wrapped(variant))
		return;
	m->nwrapped++;
	if (len < m->wrap_minlen)
		m->wrap_minlen = len;
}

/* An index being built (sw_matcher__build_*): sized from the counts, filled secret by secret
 * in order, the shared windows' lists flattened at the end. */
struct sw_matcher_build {
	struct sw_matcher *m;
	struct build b;
	size_t minlen, pi;
};

void sw_matcher__build_free(struct sw_matcher_build *mb)
{
	if (!mb)
		return;
	build_free(&mb->b);
	sw_matcher__free(mb->m);
	free(mb);
}

struct sw_matcher_build *sw_matcher__build_new(const struct sw_key *key, size_t npat, size_t minlen,
					       size_t maxlen, size_t reserve)
{
	struct sw_matcher_build *mb;
	struct sw_matcher *m;
	size_t entries, bits;

	if (!key || (npat && (minlen < SW_WINDOW || maxlen < minlen || maxlen > PAT_LEN_MAX))) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	mb = calloc(1, sizeof(*mb));
	m = calloc(1, sizeof(*m));
	if (!mb || !m) {
		free(mb);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	mb->m = m;
	mb->minlen = minlen;
	memcpy(m->key, key->bytes, sizeof(m->key));
	m->k0 = key->mix[0];
	m->k1 = key->mix[1];
	m->npat = npat; /* the count the build must reach; npat again once done */
	m->patcap = npat + reserve;
	m->maxlen = maxlen;
	m->wrap_minlen = SIZE_MAX;
	m->stride = npat ? minlen - SW_WINDOW + 1 : SW_STRIDE_MAX;
	if (m->stride > SW_STRIDE_MAX)
		m->stride = SW_STRIDE_MAX;

	entries = m->patcap * m->stride;
	/* a field holds a ref + 1 or a list offset (lists hold at most 2 words per entry) */
	m->refbits = bits_for(2 * (uint64_t)m->patcap * SW_STRIDE_MAX + 2) + 1;
	if (m->refbits < 4)
		m->refbits = 4;
	if (m->refbits > REF_BITS_MAX) {
		errno = E2BIG;
		goto err;
	}
	m->refmask = (uint32_t)((1ull << m->refbits) - 1);
	m->listflag = 1u << (m->refbits - 1);
	m->tagshift = 64 - (32 - m->refbits);

	bits = BLOOM_MIN_WORDS * 64;
	while (bits < entries * BLOOM_BITS_PER_ENTRY && bits / 8 < BLOOM_MAX_BYTES)
		bits *= 2;
	m->bloom_words = bits / 64;
	m->bloom_shift = 64 - (bits_for(m->bloom_words) - 1);
	m->nbuckets =
		(uint32_t)((entries * 100 / TABLE_LOAD_PCT + BUCKET_SLOTS - 1) / BUCKET_SLOTS);
	if (!m->nbuckets)
		m->nbuckets = 1;

	m->pat = alloc_lines(m->patcap * sizeof(*m->pat));
	m->bloom = alloc_lines(m->bloom_words * sizeof(uint64_t));
	m->table = alloc_lines((size_t)m->nbuckets * BUCKET_SLOTS * sizeof(uint32_t));
	if (!m->pat || !m->bloom || !m->table) {
		errno = ENOMEM;
		goto err;
	}
	m->memory = sizeof(*m) + m->patcap * sizeof(*m->pat) + m->bloom_words * sizeof(uint64_t) +
		    (size_t)m->nbuckets * BUCKET_SLOTS * sizeof(uint32_t);
	return mb;
err:
	sw_matcher__build_free(mb);
	return NULL;
}

int sw_matcher__build_add(struct sw_matcher_build *mb, const struct sw_secret *s, uint32_t index)
{
	struct sw_matcher *m = mb->m;
	const struct sw_pattern *p;
	size_t k, j;
	uint64_t h;
	int rc;

	if (s->npatterns && !s->patterns)
		return -EINVAL;
	if (s->npatterns > m->npat - mb->pi)
		return -EINVAL; /* more than counted */
	for (k = 0; k < s->npatterns; k++) {
		p = &s->patterns[k];
		if (p->len < mb->minlen || p->len > m->maxlen || p->variant >= SW_VAR__COUNT ||
		    (p->nwin < SW_STRIDE_MAX && p->nwin != p->len - SW_WINDOW + 1) ||
		    p->nwin > SW_STRIDE_MAX)
			return -EINVAL;
	}
	for (k = 0; k < s->npatterns; k++, mb->pi++) {
		p = &s->patterns[k];
		memcpy(m->pat[mb->pi].hash, p->full_hash, HASH_CMP_BYTES);
		m->pat[mb->pi].secret = index;
		m->pat[mb->pi].len = (uint16_t)p->len;
		m->pat[mb->pi].variant = p->variant;
		note_wrapped(m, p->variant, p->len);
		for (j = 0; j < m->stride; j++) {
			h = p->win[j];
			m->bloom[h >> m->bloom_shift] |= bloom_mask(h);
			rc = table_insert(m, &mb->b, h, (uint32_t)(mb->pi << 3 | j));
			if (rc)
				return rc;
		}
	}
	return 0;
}

struct sw_matcher *sw_matcher__build_finish(struct sw_matcher_build *mb)
{
	struct sw_matcher *m = mb->m;
	int rc;

	if (mb->pi != m->npat) {
		sw_matcher__build_free(mb);
		errno = EINVAL; /* fewer than counted */
		return NULL;
	}
	rc = table_finish(m, &mb->b);
	if (rc) {
		sw_matcher__build_free(mb);
		errno = -rc;
		return NULL;
	}
	m->memory += m->npost * sizeof(*m->post);
	m->scan = sw_matcher_pick_scan(m->stride, 1);
	m->wrap_simd = sw_matcher_wrap_simd(1);
	mb->m = NULL;
	sw_matcher__build_free(mb);
	return m;
}

struct sw_matcher *sw_matcher__new_reserve(const struct sw_key *key,
					   const struct sw_secret *secrets, size_t n,
					   size_t reserve)
{
	struct sw_matcher_build *mb;
	size_t npat, minlen, maxlen, i;
	int rc;

	if (!key || (n && !secrets)) {
		errno = EINVAL;
		return NULL;
	}
	rc = check_secrets(secrets, n, &npat, &minlen, &maxlen);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	mb = sw_matcher__build_new(key, npat, npat ? minlen : 0, maxlen, reserve);
	if (!mb)
		return NULL;
	for (i = 0; i < n; i++) {
		rc = sw_matcher__build_add(mb, &secrets[i], (uint32_t)i);
		if (rc) {
			sw_matcher__build_free(mb);
			errno = -rc;
			return NULL;
		}
	}
	return sw_matcher__build_finish(mb);
}

/* A learned secret joins without a rebuild: its windows take free slots (the probe walks every
 * slot of a bucket run up to an empty one, so a tag seen twice needs no list), its bits join
 * the filter. Room was set aside at build time, so the table's load stays as planned. */
int sw_matcher__add(struct sw_matcher *m, const struct sw_secret *s, uint32_t index)
{
	const struct sw_pattern *p;
	uint32_t bk_i, tag, nb, k, *bk;
	size_t i, j, pi;
	uint64_t h;

	if (!m || !s || (s->npatterns && !s->patterns))
		return -EINVAL;
	if (m->npat + s->npatterns > m->patcap)
		return -ENOSPC;
	for (i = 0; i < s->npatterns; i++) {
		p = &s->patterns[i];
		if (p->len > PAT_LEN_MAX || p->variant >= SW_VAR__COUNT || p->nwin < m->stride ||
		    p->nwin > SW_STRIDE_MAX)
			return -EINVAL;
	}
	for (i = 0; i < s->npatterns; i++) {
		p = &s->patterns[i];
		pi = m->npat;
		memcpy(m->pat[pi].hash, p->full_hash, HASH_CMP_BYTES);
		m->pat[pi].secret = index;
		m->pat[pi].len = (uint16_t)p->len;
		m->pat[pi].variant = p->variant;
		for (j = 0; j < m->stride; j++) {
			h = p->win[j];
			m->bloom[h >> m->bloom_shift] |= bloom_mask(h);
			table_pos(m, h, &bk_i, &tag);
			for (nb = 0; nb < m->nbuckets; nb++) {
				bk = m->table + (size_t)bk_i * BUCKET_SLOTS;
				for (k = 0; k < BUCKET_SLOTS && bk[k]; k++)
					;
				if (k < BUCKET_SLOTS) {
					bk[k] = tag << m->refbits | (uint32_t)((pi << 3 | j) + 1);
					break;
				}
				if (++bk_i == m->nbuckets)
					bk_i = 0;
			}
			if (nb == m->nbuckets) /* cannot happen: room was reserved */
				return -ENOSPC;
		}
		m->npat++;
		if (p->len > m->maxlen)
			m->maxlen = p->len;
		note_wrapped(m, p->variant, p->len);
	}
	return 0;
}

void sw_matcher__free(struct sw_matcher *m)
{
	if (!m)
		return;
	sodium_memzero(m->key, sizeof(m->key));
	free(m->pat);
	free(m->bloom);
	free(m->table);
	free(m->post);
	sodium_memzero(m, sizeof(*m));
	free(m);
}

size_t sw_matcher__max_len(const struct sw_matcher *m)
{
	return m ? m->maxlen : 0;
}

uint64_t sw_stream__unsettled(const struct sw_stream *s, const struct sw_matcher *m)
{
	uint64_t stride = m && m->stride ? m->stride : SW_STRIDE_MAX;
	/* A pattern starting here may not have had a sampled window checked whole yet. */
	uint64_t from = s->off > stride + 6 ? s->off - (stride + 6) : 0;

	/* An open candidate sampled at pend starts at most 7 bytes before it. */
	if (s->pend != UINT64_MAX && s->last == m) {
		uint64_t c = s->pend > SW_WINDOW - 1 ? s->pend - (SW_WINDOW - 1) : 0;

		if (c < from)
			from = c;
	} else if (s->pend != UINT64_MAX) {
		from = 0;
	}
	/* A wrapped match open in the line-joined view starts where the view maps it. */
	if (s->wrap) {
		uint64_t w = sw_matcher_wrap_unsettled(s, m);

		if (w < from)
			from = w;
	}
	return from;
}

size_t sw_matcher__stride(const struct sw_matcher *m)
{
	return m ? m->stride : 0;
}

size_t sw_matcher__memory(const struct sw_matcher *m)
{
	return m ? m->memory : 0;
}
