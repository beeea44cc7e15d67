// SPDX-License-Identifier: Apache-2.0
/* The engine before Hyperscan: a 2-byte-gram literal prefilter arms PCRE2 per buffer, no
 * carry-over. Kept as sw_detect__scan_prefilter for the benchmark's before/after. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "detect_priv.h"

/* Arms every detector one of whose literals occurs in data, at its first occurrence. */
static void prefilter(struct sw_detect_index *ix, const uint8_t *data, size_t len)
{
	const uint8_t *fold = ix->fold;
	const struct literal *l;
	size_t i, lo, hi, mid, left = ix->ndet - ix->nalways;
	uint16_t g;

	for (i = 0; i + 1 < len && left; i++) {
		g = (uint16_t)(data[i] | data[i + 1] << 8);
		if (!(ix->bitmap[g >> 6] & (1ull << (g & 63))))
			continue;
		g = (uint16_t)(fold[data[i]] | fold[data[i + 1]] << 8);
		lo = 0;
		hi = ix->nlits;
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (ix->lits[mid].gram < g)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (l = &ix->lits[lo]; l < ix->lits + ix->nlits && l->gram == g; l++) {
			if (ix->first[l->det] != NOT_ARMED || l->len > len - i ||
			    !dx_fold_eq(fold, data + i, l->s, l->len))
				continue;
			ix->first[l->det] = i;
			ix->armed[ix->narmed++] = l->det;
			left--;
		}
	}
}

static int legacy_overlaps(const struct sw_detect_index *ix, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < ix->nspans; i++)
		if (off < ix->spans[i].off + ix->spans[i].len && ix->spans[i].off < off + len)
			return 1;
	return 0;
}

/* Runs one armed detector from its first literal on. Returns 0 or the callback's value; sets
 * *limited when PCRE2 gave up (match limit) before the end of the data. */
static int run_detector(struct sw_detect_index *ix, const struct sw_detector *d,
			const uint8_t *data, size_t len, size_t start, sw_detect_fn cb, void *ctx,
			int *limited)
{
	struct sw_detect_hit hit;
	PCRE2_SIZE *ov;
	size_t vs, vl, n;
	int rc;

	/* Each round moves start forward by at least one byte: at most len + 1 rounds. */
	for (n = 0; start <= len && n <= len; n++) {
		rc = pcre2_match(d->code, data, len, start, 0, ix->md, ix->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0) {
			*limited = 1;
			return 0;
		}
		ov = pcre2_get_ovector_pointer(ix->md);
		start = ov[1] > start ? ov[1] : start + 1;
		if ((uint32_t)rc <= d->group || ov[2 * d->group] == PCRE2_UNSET ||
		    ov[2 * d->group + 1] < ov[2 * d->group])
			continue;
		vs = ov[2 * d->group];
		vl = ov[2 * d->group + 1] - vs;
		if (vl < d->min_len || vl > d->max_len)
			continue;
		hit.entropy = sw_detect__entropy(data + vs, vl);
		if (hit.entropy < d->min_entropy)
			continue;
		if (d->nkeywords && !dx_keyword_before(ix, d, data, vs))
			continue;
		if (d->check == SW_CHECK_JWT && !dx_jwt_ok(data + vs, vl))
			continue;
		if (legacy_overlaps(ix, vs, vl))
			continue;
		if (ix->nspans < SPANS_MAX)
			ix->spans[ix->nspans++] = (struct span){vs, vl};
		hit.rule = d;
		hit.value = data + vs;
		hit.offset = vs;
		hit.len = vl;
		rc = cb(&hit, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int sw_detect__scan_prefilter(const struct sw_rules *r, const void *data, size_t len,
			      sw_detect_fn cb, void *ctx)
{
	struct sw_detect_index *ix;
	const uint8_t *p = data;
	int rc = 0, limited = 0;
	size_t i, det;

	if (!r || (!data && len) || !cb)
		return -EINVAL;
	ix = sw_rules__detect_index(r);
	if (!ix || !len)
		return 0;
	ix->narmed = 0;
	ix->nspans = 0;
	for (i = 0; i < ix->nalways; i++) {
		ix->first[ix->always[i]] = 0;
		ix->armed[ix->narmed++] = ix->always[i];
	}
	prefilter(ix, p, len);
	/* File order, so that earlier (more specific) rules claim their spans first. */
	qsort(ix->armed, ix->narmed, sizeof(*ix->armed), u32_cmp);
	for (i = 0; i < ix->narmed && !rc; i++) {
		det = ix->armed[i];
		rc = run_detector(ix, &ix->det[det], p, len, ix->first[det], cb, ctx, &limited);
	}
	for (i = 0; i < ix->narmed; i++)
		ix->first[ix->armed[i]] = NOT_ARMED;
	if (rc)
		return rc;
	return limited ? -ERANGE : 0;
}
