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
 * The engine before this one (a 2-byte-gram literal prefilter per buffer) stays below as
 * sw_detect__scan_prefilter, for the benchmark's before/after. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <sodium.h>

#include "detect.h"

#define SPANS_MAX      256	/* reported spans remembered per scan for overlap suppression */
#define MATCH_LIMIT    10000000 /* PCRE2 backtracking bound per pcre2_match call */
#define DEPTH_LIMIT    100000
#define JWT_HEADER_MAX 2048 /* base64url characters of a JWT header we decode */
#define NOT_ARMED      SIZE_MAX
#define JOBS_MAX       65536 /* confirmation windows per write; more are merged */
#define PEND_MAX       32    /* matches per stream waiting for the next write */
#define RECENT_MAX     64    /* spans per stream remembered across writes */
#define LOOKAHEAD      16    /* bytes after a Hyperscan end offset a lookahead may inspect */
#define WHY_MAX	       160

enum mode {
	M_REGEX,   /* in the database as its regex (prefilter mode) */
	M_LITERAL, /* in the database as its prefilter literals */
	M_ALWAYS,  /* not in the database: PCRE2 runs over every write */
};

struct literal {
	uint16_t gram; /* first two bytes, folded to lower case */
	uint8_t len;
	uint32_t det;
	char s[SW_RULES_LITERAL_MAX]; /* lower case */
};

struct span {
	uint64_t off, len;
};

/* One Hyperscan pattern: its detector and how far before the end offset a match can start. */
struct pat {
	uint32_t det;
	uint32_t back;
};

/* PCRE2 runs over [from - before, until) for detector det. */
struct job {
	uint32_t det;
	uint64_t from, until;
};

struct pend {
	uint32_t det;
	uint64_t from;
};

struct rspan {
	uint32_t det;
	uint32_t cut; /* reported at the end of the bytes then: the value may have gone on */
	uint64_t off, end;
};

struct sw_detect_index {
	const struct sw_detector *det;
	size_t ndet;
	uint8_t fold[256];
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct span spans[SPANS_MAX];
	size_t nspans;

	/* Hyperscan engine */
	uint64_t gen; /* streams opened on another index start over */
	hs_database_t *db;
	hs_scratch_t *scratch;
	struct pat *pats;
	size_t npats;
	uint8_t *mode;	      /* enum mode per detector */
	uint32_t *width;      /* per detector: longest match considered (bounded by the tail) */
	uint32_t *before;     /* per detector: context bytes a lookbehind or keyword needs */
	char (*why)[WHY_MAX]; /* per detector: why not M_REGEX */
	size_t tail_max;
	struct job *jobs; /* per scan */
	size_t njobs, jobcap;
	uint32_t *lastjob; /* per detector: its latest job in this scan, or UINT32_MAX */
	uint8_t *buf;	   /* tail + data when a job reaches before the write; wiped */
	size_t bufcap;
	uint64_t hs_base; /* stream offset where the Hyperscan stream began */

	/* the previous engine: literal prefilter */
	uint64_t bitmap[65536 / 64]; /* grams that start some literal */
	struct literal *lits;	     /* sorted by gram */
	size_t nlits;
	uint32_t *always; /* detectors without literals */
	size_t nalways;
	size_t *first; /* per detector: first literal offset or NOT_ARMED */
	uint32_t *armed;
	size_t narmed;
};

struct sw_detect_stream {
	uint64_t gen;
	hs_stream_t *hs;
	uint64_t off;	  /* bytes seen */
	uint64_t hs_base; /* offset where the Hyperscan stream began */
	uint8_t *tail;
	size_t tail_len, tail_cap;
	struct pend pend[PEND_MAX];
	size_t npend;
	struct rspan recent[RECENT_MAX];
	size_t nrecent, recent_next;
};

static uint64_t index_gen;

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
	hs_free_scratch(ix->scratch);
	hs_free_database(ix->db);
	free(ix->pats);
	free(ix->mode);
	free(ix->width);
	free(ix->before);
	free(ix->why);
	free(ix->jobs);
	free(ix->lastjob);
	if (ix->buf)
		sodium_memzero(ix->buf, ix->bufcap);
	free(ix->buf);
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

static int prefilter_build(struct sw_detect_index *ix)
{
	const struct sw_detector *d = ix->det;
	size_t i, k, nlits = 0, n = ix->ndet;
	struct literal *l;

	for (i = 0; i < n; i++)
		nlits += d[i].nprefilter;
	ix->lits = calloc(nlits ? nlits : 1, sizeof(*ix->lits));
	ix->always = calloc(n ? n : 1, sizeof(*ix->always));
	ix->first = malloc((n ? n : 1) * sizeof(*ix->first));
	ix->armed = calloc(n ? n : 1, sizeof(*ix->armed));
	if (!ix->lits || !ix->always || !ix->first || !ix->armed)
		return -ENOMEM;
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
	return 0;
}

/* A literal as a Hyperscan expression: every byte escaped, so nothing in it is syntax. */
static char *literal_expr(const char *s)
{
	size_t n = strlen(s), i;
	char *e = malloc(4 * n + 1);

	if (!e)
		return NULL;
	for (i = 0; i < n; i++)
		snprintf(e + 4 * i, 5, "\\x%02x", (unsigned char)s[i]);
	e[4 * n] = '\0';
	return e;
}

static uint32_t clamp_tail(uint64_t v)
{
	return v > SW_DETECT_TAIL_MAX ? SW_DETECT_TAIL_MAX : (uint32_t)v;
}

/* The regex as Hyperscan gets it: a bounded repeat with a large upper bound ({64,8192}) becomes
 * unbounded ({64,}). Hyperscan builds large bounded repeats slowly (one PEM rule took 50 s);
 * an unbounded one matches a superset, which prefilter mode allows: PCRE2 decides. */
#define HS_BOUND_MAX 256
static char *hs_expr(const char *re)
{
	size_t n = strlen(re), i, o = 0;
	char *e = malloc(n + 1), *end;
	unsigned long lo, hi;
	int cls = 0;

	if (!e)
		return NULL;
	for (i = 0; i < n;) {
		if (re[i] == '\\' && i + 1 < n) {
			e[o++] = re[i++];
			e[o++] = re[i++];
			continue;
		}
		if (re[i] == '[' && !cls)
			cls = 1;
		else if (re[i] == ']' && cls)
			cls = 0;
		if (re[i] == '{' && !cls && isdigit((unsigned char)re[i + 1])) {
			lo = strtoul(re + i + 1, &end, 10);
			if (*end == ',' && isdigit((unsigned char)end[1])) {
				hi = strtoul(end + 1, &end, 10);
				if (*end == '}' && hi > HS_BOUND_MAX && hi >= lo) {
					o += (size_t)sprintf(e + o, "{%lu,}", lo);
					i = (size_t)(end + 1 - re);
					continue;
				}
			}
		}
		e[o++] = re[i++];
	}
	e[o] = '\0';
	return e;
}

/* Decides each detector's mode: its regex when Hyperscan takes it on its own (and its width
 * then), else its literals, else always. */
static void classify(struct sw_detect_index *ix)
{
	const struct sw_detector *d;
	hs_compile_error_t *cerr;
	hs_expr_info_t *info;
	uint32_t lb;
	size_t i;
	char *expr;
	int rc;

	for (i = 0; i < ix->ndet; i++) {
		d = &ix->det[i];
		lb = 0;
		pcre2_pattern_info(d->code, PCRE2_INFO_MAXLOOKBEHIND, &lb);
		ix->before[i] = lb + (d->nkeywords ? d->keyword_window : 0);
		info = NULL;
		cerr = NULL;
		expr = hs_expr(d->regex);
		rc = expr ? hs_expression_info(expr, HS_FLAG_PREFILTER, &info, &cerr) : HS_NOMEM;
		free(expr);
		if (rc != HS_SUCCESS) {
			snprintf(ix->why[i], WHY_MAX, "Hyperscan: %s",
				 cerr ? cerr->message : "cannot compile");
			hs_free_compile_error(cerr);
			ix->mode[i] = d->nprefilter ? M_LITERAL : M_ALWAYS;
			ix->width[i] = SW_DETECT_TAIL_MAX;
			continue;
		}
		ix->mode[i] = M_REGEX;
		ix->width[i] = clamp_tail(info->max_width);
		free(info);
	}
}

/* Builds the streaming database from the modes; on a pattern the multi-compile refuses, that
 * detector falls back and the build starts again (at most once per detector). */
static int hs_build(struct sw_detect_index *ix)
{
	const struct sw_detector *d;
	hs_compile_error_t *cerr = NULL;
	unsigned int *flags = NULL, *ids = NULL;
	char **expr = NULL;
	size_t i, k, n, cap = 0, round;
	int rc = 0;

	for (i = 0; i < ix->ndet; i++)
		cap += 1 + ix->det[i].nprefilter;
	expr = calloc(cap ? cap : 1, sizeof(*expr));
	flags = calloc(cap ? cap : 1, sizeof(*flags));
	ids = calloc(cap ? cap : 1, sizeof(*ids));
	ix->pats = calloc(cap ? cap : 1, sizeof(*ix->pats));
	if (!expr || !flags || !ids || !ix->pats) {
		rc = -ENOMEM;
		goto out;
	}
	for (round = 0; round <= ix->ndet; round++) {
		for (i = 0; i < ix->npats; i++)
			free(expr[i]);
		ix->npats = 0;
		for (i = 0; i < ix->ndet; i++) {
			d = &ix->det[i];
			if (ix->mode[i] == M_REGEX) {
				n = ix->npats++;
				expr[n] = hs_expr(d->regex);
				flags[n] = HS_FLAG_PREFILTER;
				ix->pats[n] = (struct pat){(uint32_t)i, ix->width[i]};
				if (!expr[n]) {
					rc = -ENOMEM;
					goto out;
				}
				continue;
			}
			if (ix->mode[i] != M_LITERAL)
				continue;
			for (k = 0; k < d->nprefilter; k++) {
				n = ix->npats++;
				expr[n] = literal_expr(d->prefilter[k]);
				flags[n] = HS_FLAG_CASELESS;
				ix->pats[n] = (struct pat){(uint32_t)i,
							   (uint32_t)strlen(d->prefilter[k])};
				if (!expr[n]) {
					rc = -ENOMEM;
					goto out;
				}
			}
		}
		if (!ix->npats)
			goto out;
		for (i = 0; i < ix->npats; i++)
			ids[i] = (unsigned int)i;
		if (hs_compile_multi((const char *const *)expr, flags, ids, (unsigned int)ix->npats,
				     HS_MODE_STREAM, NULL, &ix->db, &cerr) == HS_SUCCESS)
			break;
		if (!cerr || cerr->expression < 0 || (size_t)cerr->expression >= ix->npats) {
			hs_free_compile_error(cerr);
			rc = -EINVAL;
			goto out;
		}
		i = ix->pats[cerr->expression].det;
		if (ix->mode[i] == M_LITERAL) {
			ix->mode[i] = M_ALWAYS;
		} else {
			snprintf(ix->why[i], WHY_MAX, "Hyperscan: %s", cerr->message);
			ix->mode[i] = ix->det[i].nprefilter ? M_LITERAL : M_ALWAYS;
			ix->width[i] = SW_DETECT_TAIL_MAX;
		}
		hs_free_compile_error(cerr);
		cerr = NULL;
	}
	if (!ix->db) {
		rc = -EINVAL;
		goto out;
	}
	if (hs_alloc_scratch(ix->db, &ix->scratch) != HS_SUCCESS)
		rc = -ENOMEM;
out:
	for (i = 0; expr && i < ix->npats; i++)
		free(expr[i]);
	free(expr);
	free(flags);
	free(ids);
	return rc;
}

struct sw_detect_index *sw_detect__index_new(const struct sw_detector *d, size_t n)
{
	struct sw_detect_index *ix = calloc(1, sizeof(*ix));
	uint32_t groups, maxgroups = 0;
	size_t i, m = n ? n : 1;
	int rc;

	if (!ix)
		return NULL;
	ix->det = d;
	ix->ndet = n;
	ix->gen = __atomic_add_fetch(&index_gen, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 256; i++)
		ix->fold[i] = (uint8_t)tolower((int)i);
	for (i = 0; i < n; i++)
		if (!pcre2_pattern_info(d[i].code, PCRE2_INFO_CAPTURECOUNT, &groups) &&
		    groups > maxgroups)
			maxgroups = groups;
	ix->md = pcre2_match_data_create(maxgroups + 1, NULL);
	ix->mctx = pcre2_match_context_create(NULL);
	ix->mode = calloc(m, 1);
	ix->width = calloc(m, sizeof(*ix->width));
	ix->before = calloc(m, sizeof(*ix->before));
	ix->why = calloc(m, sizeof(*ix->why));
	ix->lastjob = malloc(m * sizeof(*ix->lastjob));
	if (!ix->md || !ix->mctx || !ix->mode || !ix->width || !ix->before || !ix->why ||
	    !ix->lastjob) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(ix->lastjob, 0xff, m * sizeof(*ix->lastjob));
	/* A pathological regex must not stall the pipeline: bound backtracking per call. */
	pcre2_set_match_limit(ix->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(ix->mctx, DEPTH_LIMIT);
	rc = prefilter_build(ix);
	if (rc)
		goto fail;
	classify(ix);
	rc = hs_build(ix);
	if (rc)
		goto fail;
	for (i = 0; i < n; i++)
		if ((size_t)ix->width[i] + ix->before[i] + LOOKAHEAD > ix->tail_max)
			ix->tail_max = ix->width[i] + ix->before[i] + LOOKAHEAD;
	if (ix->tail_max > SW_DETECT_TAIL_MAX)
		ix->tail_max = SW_DETECT_TAIL_MAX;
	return ix;
fail:
	sw_detect__index_free(ix);
	errno = -rc;
	return NULL;
}

void sw_detect__info(const struct sw_rules *r, struct sw_detect_info *out)
{
	const struct sw_detect_index *ix = r ? sw_rules__detect_index(r) : NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!ix)
		return;
	for (i = 0; i < ix->ndet; i++) {
		if (ix->mode[i] == M_REGEX)
			out->regex++;
		else if (ix->mode[i] == M_LITERAL)
			out->literal++;
		else
			out->always++;
	}
	out->tail = ix->tail_max;
}

const char *sw_detect__why_literal(const struct sw_rules *r, size_t i)
{
	const struct sw_detect_index *ix = r ? sw_rules__detect_index(r) : NULL;

	if (!ix || i >= ix->ndet || ix->mode[i] == M_REGEX)
		return "";
	return ix->why[i][0] ? ix->why[i] : "no regex pattern";
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
			if (fold_eq(ix->fold, v + k, d->stopwords[i], sl))
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
	if (d->nkeywords && !keyword_before(ix, d, s, vs))
		return 0;
	if (d->check == SW_CHECK_JWT && !jwt_ok(s + vs, vl))
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

/* ---- the previous engine: literal prefilter per buffer ---- */

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
		if (d->nkeywords && !keyword_before(ix, d, data, vs))
			continue;
		if (d->check == SW_CHECK_JWT && !jwt_ok(data + vs, vl))
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

/* ---- example templates ---- */

static uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const struct {
	const char *name, *set;
} classes[] = {
	{"alnum", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"},
	{"alpha", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
	{"upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"lower", "abcdefghijklmnopqrstuvwxyz"},
	{"digit", "0123456789"},
	{"hex", "0123456789abcdef"},
	{"HEX", "0123456789ABCDEF"},
	{"b64", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"},
	{"b64url", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"},
	{"b32", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"},
	{"lowalnum", "abcdefghijklmnopqrstuvwxyz0123456789"},
	{"upalnum", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
	{"pw", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%^*_+~"},
	{"bech32up", "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"},
};

struct out {
	char *p;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_rand(struct out *o, const char *set, size_t n, uint64_t *rng)
{
	size_t k = strlen(set), i;
	char c;

	for (i = 0; i < n; i++) {
		c = set[mix64(rng) % k];
		put(o, &c, 1);
	}
}

static void put_b64url(struct out *o, const char *json)
{
	char b[1024];

	sodium_bin2base64(b, sizeof(b), (const unsigned char *)json, strlen(json),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	put(o, b, strlen(b));
}

static void put_pem(struct out *o, const char *what, const char *label)
{
	/* Built from parts so that no source line reads like a key block. */
	put(o, "-----", 5);
	put(o, what, strlen(what));
	put(o, " ", 1);
	if (*label) {
		put(o, label, strlen(label));
		put(o, " ", 1);
	}
	put(o, "PRIVATE", 7);
	put(o, " KEY-----", 9);
}

int sw_detect__expand(const char *tmpl, uint64_t seed, char *buf, size_t cap, size_t *len,
		      size_t *vs, size_t *vl, char *err, size_t errsize)
{
	struct out o = {buf, 0, cap, 0};
	uint64_t rng = seed;
	const char *p = tmpl, *e, *colon;
	char name[32], arg[64], pl[64];
	size_t i, n, nl, lines, start = SIZE_MAX, end = SIZE_MAX;

	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	while (*p) {
		if (*p != '{') {
			put(&o, p++, 1);
			continue;
		}
		e = strchr(p, '}');
		if (!e || e - p - 1 >= (long)sizeof(name) + (long)sizeof(arg)) {
			snprintf(err, errsize, "unclosed or too long '{' at %zu",
				 (size_t)(p - tmpl));
			return -EINVAL;
		}
		colon = memchr(p, ':', e - p);
		nl = (size_t)((colon ? colon : e) - p - 1);
		if (nl >= sizeof(name)) {
			snprintf(err, errsize, "bad placeholder at %zu", (size_t)(p - tmpl));
			return -EINVAL;
		}
		memcpy(name, p + 1, nl);
		name[nl] = '\0';
		arg[0] = '\0';
		if (colon) {
			if ((size_t)(e - colon - 1) >= sizeof(arg)) {
				snprintf(err, errsize, "bad placeholder at %zu",
					 (size_t)(p - tmpl));
				return -EINVAL;
			}
			memcpy(arg, colon + 1, e - colon - 1);
			arg[e - colon - 1] = '\0';
		}
		n = strtoul(arg, NULL, 10);
		p = e + 1;
		if (!strcmp(name, "<")) {
			start = o.len;
			continue;
		}
		if (!strcmp(name, ">")) {
			end = o.len;
			continue;
		}
		if (!strcmp(name, "lb")) {
			put(&o, "{", 1);
			continue;
		}
		if (!strcmp(name, "rep")) {
			/* {rep:C:N}: the character C, N times */
			if (!arg[0] || arg[1] != ':') {
				snprintf(err, errsize, "rep needs {rep:C:N}");
				return -EINVAL;
			}
			n = strtoul(arg + 2, NULL, 10);
			for (i = 0; i < n && i < 4096; i++)
				put(&o, arg, 1);
			continue;
		}
		if (!strcmp(name, "uuid")) {
			put_rand(&o, "0123456789abcdef", 8, &rng);
			for (i = 0; i < 3; i++) {
				put(&o, "-", 1);
				put_rand(&o, "0123456789abcdef", 4, &rng);
			}
			put(&o, "-", 1);
			put_rand(&o, "0123456789abcdef", 12, &rng);
			continue;
		}
		if (!strcmp(name, "jwt")) {
			put_b64url(&o, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
			put(&o, ".", 1);
			snprintf(pl, sizeof(pl), "{\"sub\":\"%llu\",\"iat\":%llu}",
				 (unsigned long long)(mix64(&rng) % 1000000000),
				 (unsigned long long)(1600000000 + mix64(&rng) % 100000000));
			put_b64url(&o, pl);
			put(&o, ".", 1);
			put_rand(&o, classes[8].set, 43, &rng);
			continue;
		}
		if (!strcmp(name, "pembegin") || !strcmp(name, "pemend")) {
			put_pem(&o, name[3] == 'b' ? "BEGIN" : "END", arg);
			continue;
		}
		if (!strcmp(name, "pembody")) {
			/* {pembody:N}: N lines of 64 base64 characters, the last one short */
			lines = n ? n : 1;
			for (i = 0; i < lines && i < 64; i++) {
				if (i)
					put(&o, "\n", 1);
				put_rand(&o, classes[7].set, i + 1 == lines ? 44 : 64, &rng);
			}
			put(&o, "==", 2);
			continue;
		}
		for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
			if (!strcmp(name, classes[i].name))
				break;
		if (i == sizeof(classes) / sizeof(classes[0]) || !n || n > 4096) {
			snprintf(err, errsize, "unknown placeholder '{%s%s%s}'", name,
				 colon ? ":" : "", arg);
			return -EINVAL;
		}
		put_rand(&o, classes[i].set, n, &rng);
	}
	if (o.full) {
		snprintf(err, errsize, "expands to more than %zu bytes", cap - 1);
		return -ENOSPC;
	}
	if ((start == SIZE_MAX) != (end == SIZE_MAX) || (start != SIZE_MAX && end < start)) {
		snprintf(err, errsize, "'{<}' and '{>}' must come in this order, both or neither");
		return -EINVAL;
	}
	*len = o.len;
	*vs = start == SIZE_MAX ? 0 : start;
	*vl = start == SIZE_MAX ? o.len : end - start;
	return 0;
}

struct ex_ctx {
	const struct sw_detector *d;
	uint64_t off, len;
	int exact, any;
};

static int ex_hit(const struct sw_detect_hit *h, void *ctx)
{
	struct ex_ctx *c = ctx;

	if (h->rule != c->d)
		return 0;
	c->any = 1;
	if (h->offset == c->off && h->len == c->len)
		c->exact = 1;
	return 0;
}

/* The text as one write, and as two writes split inside the value: both must find it. */
static int ex_scan(const struct sw_rules *r, const char *t, size_t n, size_t split,
		   struct ex_ctx *c)
{
	struct sw_detect_stream *st;
	int rc;

	if (!split)
		return sw_detect__scan(r, t, n, ex_hit, c);
	st = sw_detect__stream_new(r);
	if (!st)
		return -errno;
	rc = sw_detect__scan_stream(r, st, t, split, ex_hit, c);
	if (!rc)
		rc = sw_detect__scan_stream(r, st, t + split, n - split, ex_hit, c);
	sw_detect__stream_free(st);
	return rc;
}

int sw_detect__check_examples(const struct sw_rules *r, size_t i, uint64_t seed, char *msg,
			      size_t size)
{
	const struct sw_detector *dets, *d;
	char *buf, err[128];
	size_t ndet, k, len, vs, vl, round, split;
	struct ex_ctx c;
	int rc = 0;

	dets = sw_rules__detectors(r, &ndet);
	if (i >= ndet)
		return -EINVAL;
	d = &dets[i];
	buf = malloc(SW_DETECT_EXAMPLE_MAX);
	if (!buf)
		return -ENOMEM;
	for (k = 0; k < d->nmatch + d->nnomatch && !rc; k++) {
		const char *t = k < d->nmatch ? d->match[k] : d->nomatch[k - d->nmatch];
		int positive = k < d->nmatch;

		for (round = 0; round < 2 && !rc; round++) {
			err[0] = '\0';
			rc = sw_detect__expand(
				t, seed ^ (0x100000001b3ull * (k + 1)) ^ (round << 32), buf,
				SW_DETECT_EXAMPLE_MAX, &len, &vs, &vl, err, sizeof(err));
			if (rc) {
				snprintf(msg, size, "detector '%s' %s example %zu: %s", d->id,
					 positive ? "match" : "nomatch",
					 positive ? k + 1 : k - d->nmatch + 1, err);
				break;
			}
			split = round && positive && vl > 1 ? vs + vl / 2 : 0;
			c = (struct ex_ctx){d, vs, vl, 0, 0};
			rc = ex_scan(r, buf, len, split, &c);
			if (rc < 0 && rc != -ERANGE)
				break;
			rc = 0;
			if (positive && !c.exact) {
				snprintf(msg, size, "detector '%s' match example %zu (%s): %s%s",
					 d->id, k + 1,
					 split ? "split across two writes" : "one write",
					 c.any ? "found, but not the marked value" : "not found",
					 " (the example is generated: nothing is printed)");
				rc = -EINVAL;
			} else if (!positive && c.any) {
				snprintf(msg, size, "detector '%s' nomatch example %zu: matched",
					 d->id, k - d->nmatch + 1);
				rc = -EINVAL;
			}
		}
	}
	sodium_memzero(buf, SW_DETECT_EXAMPLE_MAX);
	free(buf);
	return rc;
}
