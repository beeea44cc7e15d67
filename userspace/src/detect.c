// SPDX-License-Identifier: Apache-2.0
/* Detectors over a buffer. One pass of a 2-byte-gram prefilter over the data arms the rules
 * whose literals occur (and notes where the first one is); only armed rules run their PCRE2
 * (JIT) regex, from that position on. Ordinary data mostly arms nothing. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "detect.h"

#define SPANS_MAX      256	/* reported spans remembered per scan for overlap suppression */
#define MATCH_LIMIT    10000000 /* PCRE2 backtracking bound per pcre2_match call */
#define DEPTH_LIMIT    100000
#define JWT_HEADER_MAX 2048 /* base64url characters of a JWT header we decode */
#define NOT_ARMED      SIZE_MAX

struct literal {
	uint16_t gram; /* first two bytes, folded to lower case */
	uint8_t len;
	uint32_t det;
	char s[SW_RULES_LITERAL_MAX]; /* lower case */
};

struct span {
	size_t off, len;
};

struct sw_detect_index {
	uint64_t bitmap[65536 / 64]; /* grams that start some literal */
	uint8_t fold[256];
	const struct sw_detector *det;
	size_t ndet;
	struct literal *lits; /* sorted by gram */
	size_t nlits;
	uint32_t *always; /* detectors without literals */
	size_t nalways;
	/* per-scan scratch */
	size_t *first; /* per detector: first literal offset or NOT_ARMED */
	uint32_t *armed;
	size_t narmed;
	struct span spans[SPANS_MAX];
	size_t nspans;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/* log2 without libm: exponent from the bits, mantissa by the atanh series (|z| <= 1/3, 16
 * terms: error far below what an entropy threshold needs). */
static double log2_approx(double x)
{
	union {
		double d;
		uint64_t u;
	} v = {.d = x};
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	double m, z, z2, t, sum = 0;
	int k;

	v.u = (v.u & ~(0x7ffull << 52)) | (1023ull << 52);
	m = v.d;
	z = (m - 1) / (m + 1);
	z2 = z * z;
	t = z;
	for (k = 1; k < 32; k += 2) {
		sum += t / k;
		t *= z2;
	}
	return e + 2 * sum * 1.4426950408889634;
}

double sw_detect__entropy(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint32_t count[256] = {0};
	double h = 0, n = (double)len;
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		count[s[i]]++;
	for (i = 0; i < 256; i++)
		if (count[i])
			h -= count[i] / n * log2_approx(count[i] / n);
	return h;
}

static int lit_cmp(const void *a, const void *b)
{
	const struct literal *x = a, *y = b;

	if (x->gram != y->gram)
		return x->gram < y->gram ? -1 : 1;
	return x->det < y->det ? -1 : x->det > y->det;
}

void sw_detect__index_free(struct sw_detect_index *ix)
{
	if (!ix)
		return;
	free(ix->lits);
	free(ix->always);
	free(ix->first);
	free(ix->armed);
	pcre2_match_data_free(ix->md);
	pcre2_match_context_free(ix->mctx);
	free(ix);
}

static void set_bit(struct sw_detect_index *ix, uint16_t g)
{
	ix->bitmap[g >> 6] |= 1ull << (g & 63);
}

/* Marks every case variant of the gram a,b, so that the hot loop tests raw bytes and folds
 * only on a hit. */
static void set_grams(struct sw_detect_index *ix, uint8_t a, uint8_t b)
{
	uint8_t ua = (uint8_t)toupper(a), ub = (uint8_t)toupper(b);

	set_bit(ix, (uint16_t)(a | b << 8));
	set_bit(ix, (uint16_t)(ua | b << 8));
	set_bit(ix, (uint16_t)(a | ub << 8));
	set_bit(ix, (uint16_t)(ua | ub << 8));
}

struct sw_detect_index *sw_detect__index_new(const struct sw_detector *d, size_t n)
{
	struct sw_detect_index *ix = calloc(1, sizeof(*ix));
	uint32_t groups, maxgroups = 0;
	struct literal *l;
	size_t i, k, nlits = 0;

	if (!ix)
		return NULL;
	ix->det = d;
	ix->ndet = n;
	for (i = 0; i < 256; i++)
		ix->fold[i] = (uint8_t)tolower((int)i);
	for (i = 0; i < n; i++) {
		nlits += d[i].nprefilter;
		if (!pcre2_pattern_info(d[i].code, PCRE2_INFO_CAPTURECOUNT, &groups) &&
		    groups > maxgroups)
			maxgroups = groups;
	}
	ix->lits = calloc(nlits ? nlits : 1, sizeof(*ix->lits));
	ix->always = calloc(n ? n : 1, sizeof(*ix->always));
	ix->first = malloc((n ? n : 1) * sizeof(*ix->first));
	ix->armed = calloc(n ? n : 1, sizeof(*ix->armed));
	ix->md = pcre2_match_data_create(maxgroups + 1, NULL);
	ix->mctx = pcre2_match_context_create(NULL);
	if (!ix->lits || !ix->always || !ix->first || !ix->armed || !ix->md || !ix->mctx) {
		sw_detect__index_free(ix);
		errno = ENOMEM;
		return NULL;
	}
	/* A pathological regex must not stall the pipeline: bound backtracking per call. */
	pcre2_set_match_limit(ix->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(ix->mctx, DEPTH_LIMIT);
	for (i = 0; i < n; i++) {
		ix->first[i] = NOT_ARMED;
		if (!d[i].nprefilter)
			ix->always[ix->nalways++] = (uint32_t)i;
		for (k = 0; k < d[i].nprefilter; k++) {
			l = &ix->lits[ix->nlits++];
			l->len = (uint8_t)strnlen(d[i].prefilter[k], SW_RULES_LITERAL_MAX);
			memcpy(l->s, d[i].prefilter[k], l->len);
			l->det = (uint32_t)i;
			/* The loader guarantees 2..32 lower-case bytes. */
			l->gram = (uint16_t)(ix->fold[(uint8_t)l->s[0]] | ix->fold[(uint8_t)l->s[1]]
										  << 8);
			set_grams(ix, (uint8_t)l->s[0], (uint8_t)l->s[1]);
		}
	}
	qsort(ix->lits, ix->nlits, sizeof(*ix->lits), lit_cmp);
	return ix;
}

static int fold_eq(const uint8_t *fold, const uint8_t *p, const char *lit, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (fold[p[i]] != (uint8_t)lit[i])
			return 0;
	return 1;
}

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
			    !fold_eq(fold, data + i, l->s, l->len))
				continue;
			ix->first[l->det] = i;
			ix->armed[ix->narmed++] = l->det;
			left--;
		}
	}
}

static int keyword_before(const struct sw_detect_index *ix, const struct sw_detector *d,
			  const uint8_t *data, size_t off)
{
	size_t from = off > d->keyword_window ? off - d->keyword_window : 0, i, k, kl;

	for (k = 0; k < d->nkeywords; k++) {
		kl = strlen(d->keywords[k]);
		for (i = from; i + kl <= off; i++)
			if (fold_eq(ix->fold, data + i, d->keywords[k], kl))
				return 1;
	}
	return 0;
}

/* A JWT's header (before the first '.') must decode to a JSON object with an "alg" member. */
static int jwt_ok(const uint8_t *v, size_t len)
{
	unsigned char hdr[JWT_HEADER_MAX];
	const uint8_t *dot = memchr(v, '.', len);
	size_t n = 0, a = 0, b;
	int ok = 0;

	if (!dot || (size_t)(dot - v) > JWT_HEADER_MAX)
		return 0;
	if (sodium_base642bin(hdr, sizeof(hdr), (const char *)v, dot - v, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		goto out;
	while (a < n && isspace(hdr[a]))
		a++;
	b = n;
	while (b > a && isspace(hdr[b - 1]))
		b--;
	ok = b - a >= 2 && hdr[a] == '{' && hdr[b - 1] == '}' &&
	     memmem(hdr + a, b - a, "\"alg\"", 5) != NULL;
out:
	/* A header carries no secret, but it was part of a credential: wipe it anyway. */
	sodium_memzero(hdr, sizeof(hdr));
	return ok;
}

static int overlaps(const struct sw_detect_index *ix, size_t off, size_t len)
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
		if (d->nkeywords && !keyword_before(ix, d, data, vs))
			continue;
		if (d->check == SW_CHECK_JWT && !jwt_ok(data + vs, vl))
			continue;
		if (overlaps(ix, vs, vl))
			continue;
		if (ix->nspans < SPANS_MAX)
			ix->spans[ix->nspans++] = (struct span){vs, vl};
		hit.rule = d;
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

int sw_detect__scan(const struct sw_rules *r, const void *data, size_t len, sw_detect_fn cb,
		    void *ctx)
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
