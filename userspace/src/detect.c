// SPDX-License-Identifier: Apache-2.0
/* Detectors over streams. Every detector's regex is compiled into one Hyperscan database in
 * streaming mode and prefilter mode (lookarounds and other constructs Hyperscan cannot take
 * are widened to a superset, so a Hyperscan hit is a candidate, never an answer). A hit only
 * tells where a match ends; the match starts at most the pattern's maximum width before. So
 * each hit becomes a job: run the detector's PCRE2 (JIT) regex over that window, which
 * confirms, extracts the value and applies entropy, keyword and JWT checks. Bytes before the
 * current write come from a bounded per-stream tail. A detector Hyperscan refuses enters the
 * database by its prefilter literals (caseless) instead; one with neither runs on every write.
 *
 * This file is the streaming engine. The index is built in detect_index.c, a value's checks
 * are in detect_check.c, the engine before this one (a 2-byte-gram literal prefilter per
 * buffer, kept for the benchmark's before/after) in detect_prefilter.c and the example
 * templates in detect_examples.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <sodium.h>

#include "detect.h"
#include "detect_priv.h"

/* ---- streaming engine ---- */

struct sw_detect_stream *sw_detect__stream_new(const struct sw_rules *r)
{
	struct sw_detect_stream *st;

	if (!r) {
		errno = EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		errno = ENOMEM;
	return st;
}

static void tail_wipe(struct sw_detect_stream *st)
{
	if (st->tail)
		sodium_memzero(st->tail, st->tail_cap);
	free(st->tail);
	st->tail = NULL;
	st->tail_len = st->tail_cap = 0;
}

void sw_detect__stream_free(struct sw_detect_stream *st)
{
	if (!st)
		return;
	/* Without a callback Hyperscan reports nothing at close and needs no scratch. */
	if (st->hs)
		hs_close_stream(st->hs, NULL, NULL, NULL);
	tail_wipe(st);
	free(st);
}

uint64_t sw_detect__stream_offset(const struct sw_detect_stream *st)
{
	return st ? st->off : 0;
}

const uint8_t *sw_detect__stream_before(const struct sw_detect_stream *st, size_t *len)
{
	*len = st ? st->tail_len : 0;
	return st ? st->tail : NULL;
}

/* Opens st on ix (first use, or the rules were reloaded). The tail is kept when it fits. */
static int stream_attach(const struct sw_detect_index *ix, struct sw_detect_stream *st)
{
	uint8_t *t;

	if (st->hs)
		hs_close_stream(st->hs, NULL, NULL, NULL);
	st->hs = NULL;
	st->npend = 0;
	st->nrecent = st->recent_next = 0;
	if (ix->db && hs_open_stream(ix->db, 0, &st->hs) != HS_SUCCESS)
		return -ENOMEM;
	if (st->tail_cap != ix->tail_max) {
		t = ix->tail_max ? malloc(ix->tail_max) : NULL;
		if (ix->tail_max && !t)
			return -ENOMEM;
		if (t && st->tail_len) {
			size_t keep = st->tail_len < ix->tail_max ? st->tail_len : ix->tail_max;

			memcpy(t, st->tail + st->tail_len - keep, keep);
			st->tail_len = keep;
		} else {
			st->tail_len = 0;
		}
		tail_wipe(st);
		st->tail = t;
		st->tail_cap = ix->tail_max;
		st->tail_len = t ? st->tail_len : 0;
	}
	st->gen = ix->gen;
	st->hs_base = st->off;
	return 0;
}

/* Adds [from, until) for det, merged with its latest job when they touch. Never fails: past
 * the bound (or out of memory) the window joins the detector's latest job. */
static void job_add(struct sw_detect_index *ix, uint32_t det, uint64_t from, uint64_t until)
{
	uint32_t j = ix->lastjob[det];
	struct job *nj;
	size_t cap;

	if (j != UINT32_MAX && from <= ix->jobs[j].until) {
		if (from < ix->jobs[j].from)
			ix->jobs[j].from = from;
		if (until > ix->jobs[j].until)
			ix->jobs[j].until = until;
		return;
	}
	if (ix->njobs == ix->jobcap && ix->jobcap < JOBS_MAX) {
		cap = ix->jobcap ? 2 * ix->jobcap : 64;
		nj = realloc(ix->jobs, cap * sizeof(*nj));
		if (nj) {
			ix->jobs = nj;
			ix->jobcap = cap;
		}
	}
	if (ix->njobs == ix->jobcap) {
		if (j == UINT32_MAX) {
			/* Not even one job: take the last slot, widened to cover both. */
			j = (uint32_t)(ix->njobs - 1);
			ix->jobs[j].det = det;
		}
		if (from < ix->jobs[j].from)
			ix->jobs[j].from = from;
		if (until > ix->jobs[j].until)
			ix->jobs[j].until = until;
		ix->lastjob[det] = j;
		return;
	}
	ix->jobs[ix->njobs] = (struct job){det, from, until};
	ix->lastjob[det] = (uint32_t)ix->njobs++;
}

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx)
{
	struct sw_detect_index *ix = ctx;
	const struct pat *p = &ix->pats[id];
	uint64_t end = ix->hs_base + to, start;

	(void)from;
	(void)flags;
	start = end > p->back ? end - p->back : 0;
	if (ix->mode[p->det] == M_REGEX)
		job_add(ix, p->det, start, end + LOOKAHEAD);
	else
		job_add(ix, p->det, start, start + ix->width[p->det] + LOOKAHEAD);
	return 0;
}

static int job_cmp(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->det != y->det)
		return x->det < y->det ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* What one confirmation sees: subject bytes s[0..len) are stream offsets base..base+len. */
struct subject {
	const uint8_t *s;
	size_t len;
	uint64_t base;
	int at_end; /* s ends where the stream's bytes end so far */
};

/* 1 when [off, off+len) overlaps a span reported in this scan or recently on this stream.
 * A longer span over one that was cut by the end of a write, or over the same detector's
 * same start, is no repeat: the value went on in the next write. */
static int seen_span(struct sw_detect_index *ix, struct sw_detect_stream *st, uint32_t det,
		     uint64_t off, uint64_t len)
{
	struct rspan *r;
	size_t i;

	for (i = 0; i < ix->nspans; i++)
		if (off < ix->spans[i].off + ix->spans[i].len && ix->spans[i].off < off + len)
			return 1;
	for (i = 0; i < st->nrecent; i++) {
		r = &st->recent[i];
		if (!(off < r->end && r->off < off + len))
			continue;
		if (off + len > r->end && (r->cut || (r->det == det && r->off == off)))
			continue;
		return 1;
	}
	return 0;
}

static void span_add(struct sw_detect_index *ix, struct sw_detect_stream *st, uint32_t det,
		     uint64_t off, uint64_t len, int cut)
{
	size_t i;

	if (ix->nspans < SPANS_MAX)
		ix->spans[ix->nspans++] = (struct span){off, len};
	for (i = 0; i < st->nrecent; i++)
		if (st->recent[i].det == det && st->recent[i].off == off) {
			st->recent[i].end = off + len;
			st->recent[i].cut = (uint32_t)cut;
			return;
		}
	st->recent[st->recent_next] = (struct rspan){det, (uint32_t)cut, off, off + len};
	st->recent_next = (st->recent_next + 1) % RECENT_MAX;
	if (st->nrecent < RECENT_MAX)
		st->nrecent++;
}

static void pend_add(struct sw_detect_stream *st, uint32_t det, uint64_t from)
{
	size_t i;

	for (i = 0; i < st->npend; i++)
		if (st->pend[i].det == det) {
			if (from < st->pend[i].from)
				st->pend[i].from = from;
			return;
		}
	if (st->npend < PEND_MAX)
		st->pend[st->npend++] = (struct pend){det, from};
}

/* The rule's allowlist lets this value go: a stopword inside it, or an allow regex. */
static int allowed(struct sw_detect_index *ix, const struct sw_detector *d, const uint8_t *v,
		   size_t len)
{
	pcre2_match_data *md;
	size_t i, k, sl;
	int hit = 0;

	for (i = 0; i < d->nstopwords; i++) {
		sl = strlen(d->stopwords[i]);
		for (k = 0; sl && k + sl <= len; k++)
			if (dx_fold_eq(ix->fold, v + k, d->stopwords[i], sl))
				return 1;
	}
	if (!d->nallow_re)
		return 0;
	/* Not ix->md: the caller still reads the detector's ovector. */
	md = pcre2_match_data_create(1, NULL);
	for (i = 0; md && i < d->nallow_re && !hit; i++)
		hit = pcre2_match(d->allow_re[i], v, len, 0, 0, md, ix->mctx) >= 0;
	pcre2_match_data_free(md);
	return hit;
}

/* Checks one complete PCRE2 match (ovector of s) and reports its value. Returns 0 or the
 * callback's value. */
static int report(struct sw_detect_index *ix, struct sw_detect_stream *st, uint32_t det,
		  const uint8_t *s, size_t slen, uint64_t base, int rc, int cut, sw_detect_fn cb,
		  void *ctx)
{
	const struct sw_detector *d = &ix->det[det];
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ix->md);
	struct sw_detect_hit hit;
	size_t vs, vl;

	if ((uint32_t)rc <= d->group || ov[2 * d->group] == PCRE2_UNSET ||
	    ov[2 * d->group + 1] < ov[2 * d->group] || ov[2 * d->group + 1] > slen)
		return 0;
	vs = ov[2 * d->group];
	vl = ov[2 * d->group + 1] - vs;
	if (vl < d->min_len || vl > d->max_len)
		return 0;
	hit.entropy = sw_detect__entropy(s + vs, vl);
	if (hit.entropy < d->min_entropy)
		return 0;
	if (d->nkeywords && !dx_keyword_before(ix, d, s, vs))
		return 0;
	if (d->check == SW_CHECK_JWT && !dx_jwt_ok(s + vs, vl))
		return 0;
	if ((d->nallow_re || d->nstopwords) && allowed(ix, d, d->allow_match ? s + ov[0] : s + vs,
						       d->allow_match ? ov[1] - ov[0] : vl))
		return 0;
	if (seen_span(ix, st, det, base + vs, vl))
		return 0;
	span_add(ix, st, det, base + vs, vl, cut && ov[1] == slen);
	hit.rule = d;
	hit.value = s + vs;
	hit.offset = base + vs;
	hit.len = vl;
	return cb(&hit, ctx);
}

/* Runs detector job->det over its window of sub. A match cut by the end of the bytes is
 * reported as if the stream ended there and also waits (pend) for the next write. */
static int confirm(struct sw_detect_index *ix, struct sw_detect_stream *st, const struct job *job,
		   const struct subject *sub, sw_detect_fn cb, void *ctx, int *limited)
{
	const struct sw_detector *d = &ix->det[job->det];
	uint64_t lo, hi, from;
	const uint8_t *s;
	size_t slen, start, n;
	uint32_t opts;
	PCRE2_SIZE *ov;
	int rc, partial_ok;

	from = job->from < sub->base ? sub->base : job->from;
	lo = from - ix->before[job->det];
	if (lo < sub->base || lo > from)
		lo = sub->base;
	hi = job->until;
	partial_ok = sub->at_end && hi >= sub->base + sub->len;
	if (hi > sub->base + sub->len)
		hi = sub->base + sub->len;
	if (from >= hi)
		return 0;
	s = sub->s + (lo - sub->base);
	slen = (size_t)(hi - lo);
	start = (size_t)(from - lo);
	opts = partial_ok ? PCRE2_PARTIAL_HARD : 0;
	/* Each round moves start forward by at least one byte: at most slen + 1 rounds. */
	for (n = 0; start <= slen && n <= slen; n++) {
		rc = pcre2_match(d->code, s, slen, start, opts, ix->md, ix->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc == PCRE2_ERROR_PARTIAL) {
			ov = pcre2_get_ovector_pointer(ix->md);
			pend_add(st, job->det, lo + ov[0]);
			/* Reported now as if the bytes ended here: the stream may never go on. */
			rc = pcre2_match(d->code, s, slen, ov[0], 0, ix->md, ix->mctx);
			if (rc <= 0)
				return 0;
			return report(ix, st, job->det, s, slen, lo, rc, 1, cb, ctx);
		}
		if (rc < 0) {
			*limited = 1;
			return 0;
		}
		ov = pcre2_get_ovector_pointer(ix->md);
		start = ov[1] > start ? ov[1] : start + 1;
		rc = report(ix, st, job->det, s, slen, lo, rc, 0, cb, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static void tail_update(struct sw_detect_stream *st, const uint8_t *p, size_t len)
{
	size_t keep;

	if (!st->tail_cap)
		return;
	if (len >= st->tail_cap) {
		memcpy(st->tail, p + len - st->tail_cap, st->tail_cap);
		st->tail_len = st->tail_cap;
		return;
	}
	keep = st->tail_len < st->tail_cap - len ? st->tail_len : st->tail_cap - len;
	memmove(st->tail, st->tail + st->tail_len - keep, keep);
	memcpy(st->tail + keep, p, len);
	st->tail_len = keep + len;
}

int sw_detect__scan_stream(const struct sw_rules *r, struct sw_detect_stream *st, const void *data,
			   size_t len, sw_detect_fn cb, void *ctx)
{
	struct sw_detect_index *ix;
	struct subject sub;
	const uint8_t *p = data;
	struct pend pend[PEND_MAX];
	uint64_t off0, first, f;
	size_t i, npend, need;
	int rc = 0, limited = 0;
	uint32_t det;

	if (!r || !st || (!data && len) || !cb)
		return -EINVAL;
	ix = sw_rules__detect_index(r);
	if (!ix || !len)
		return 0;
	if (st->gen != ix->gen) {
		rc = stream_attach(ix, st);
		if (rc)
			return rc;
	}
	off0 = st->off;
	ix->njobs = 0;
	ix->nspans = 0;
	ix->hs_base = st->hs_base;
	if (st->hs && hs_scan_stream(st->hs, (const char *)p, (unsigned int)len, 0, ix->scratch,
				     on_hs_match, ix) != HS_SUCCESS) {
		/* The stream is unusable (scratch or memory): start over at the next write, and
		 * run every detector over this one so nothing is missed. */
		hs_close_stream(st->hs, NULL, NULL, NULL);
		st->hs = NULL;
		st->gen = 0;
		for (i = 0; i < ix->ndet; i++)
			job_add(ix, (uint32_t)i, off0, off0 + len);
	}
	for (i = 0; i < ix->ndet; i++)
		if (ix->mode[i] == M_ALWAYS)
			job_add(ix, (uint32_t)i, off0, off0 + len);
	/* Matches cut by the end of the previous write, if their start is still in the tail. */
	npend = st->npend;
	memcpy(pend, st->pend, npend * sizeof(*pend));
	st->npend = 0;
	for (i = 0; i < npend; i++)
		if (pend[i].from >= off0 - st->tail_len)
			job_add(ix, pend[i].det, pend[i].from,
				pend[i].from + ix->width[pend[i].det] + LOOKAHEAD);
	for (i = 0; i < ix->njobs; i++)
		ix->lastjob[ix->jobs[i].det] = UINT32_MAX;
	/* File order, so that earlier (more specific) rules claim their spans first. */
	if (ix->njobs)
		qsort(ix->jobs, ix->njobs, sizeof(*ix->jobs), job_cmp);

	/* One subject for every job: the data, or tail + data when a job needs earlier bytes. */
	sub = (struct subject){p, len, off0, 1};
	first = off0;
	for (i = 0; i < ix->njobs; i++) {
		det = ix->jobs[i].det;
		f = ix->jobs[i].from > ix->before[det] ? ix->jobs[i].from - ix->before[det] : 0;
		if (f < first)
			first = f;
	}
	if (ix->njobs && first < off0 && st->tail_len) {
		need = st->tail_len + len;
		if (need > ix->bufcap) {
			uint8_t *nb = malloc(need);

			if (nb) {
				if (ix->buf) {
					sodium_memzero(ix->buf, ix->bufcap);
					free(ix->buf);
				}
				ix->buf = nb;
				ix->bufcap = need;
			}
		}
		if (need <= ix->bufcap) {
			memcpy(ix->buf, st->tail, st->tail_len);
			memcpy(ix->buf + st->tail_len, p, len);
			sub = (struct subject){ix->buf, need, off0 - st->tail_len, 1};
		}
	}
	for (i = 0; i < ix->njobs && !rc; i++)
		rc = confirm(ix, st, &ix->jobs[i], &sub, cb, ctx, &limited);
	if (sub.s == ix->buf)
		sodium_memzero(ix->buf, sub.len);
	tail_update(st, p, len);
	st->off += len;
	if (rc)
		return rc;
	return limited ? -ERANGE : 0;
}

int sw_detect__scan(const struct sw_rules *r, const void *data, size_t len, sw_detect_fn cb,
		    void *ctx)
{
	struct sw_detect_stream *st;
	int rc;

	if (!r || (!data && len) || !cb)
		return -EINVAL;
	if (!len)
		return 0;
	st = sw_detect__stream_new(r);
	if (!st)
		return -errno;
	rc = sw_detect__scan_stream(r, st, data, len, cb, ctx);
	sw_detect__stream_free(st);
	return rc;
}
