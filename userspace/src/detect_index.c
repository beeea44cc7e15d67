// SPDX-License-Identifier: Apache-2.0
/* The compiled form of the detectors: one Hyperscan database (streaming, prefilter mode), each
 * detector classified as in it by regex, by literals, or run on every write, and the literal
 * tables of the previous engine. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <sodium.h>

#include "detect.h"
#include "detect_priv.h"

static uint64_t index_gen;

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

/* The length of the one-character atom at e + i (a character, '.', a class, a one-character
 * escape), 0 when it is anything else. */
static size_t atom_len(const char *e, size_t i)
{
	size_t j;

	if (e[i] == '\\') {
		if (e[i + 1] == 'x' && isxdigit((unsigned char)e[i + 2]) &&
		    isxdigit((unsigned char)e[i + 3]))
			return 4;
		if (e[i + 1] &&
		    (strchr("dDwWsShHvVtnrfea", e[i + 1]) || !isalnum((unsigned char)e[i + 1])))
			return 2;
		return 0;
	}
	if (e[i] == '[') {
		j = i + 1;
		if (e[j] == '^')
			j++;
		if (e[j] == ']')
			j++;
		while (e[j] && e[j] != ']') {
			if (e[j] == '\\' && e[j + 1])
				j += 2;
			else if (e[j] == '[' && e[j + 1] == ':' && strstr(e + j + 2, ":]"))
				j = (size_t)(strstr(e + j + 2, ":]") - e) + 2;
			else
				j++;
		}
		return e[j] ? j + 1 - i : 0;
	}
	return e[i] && !strchr("()|{}*+?^$", e[i]) ? 1 : 0;
}

/* Cuts the end of a Hyperscan expression back where that makes a cheaper superset: a final
 * one-character lookahead, then the spare count of a final bounded repeat of one character
 * ([..]{31,34} -> [..]{31}). Every match of the regex then has a match of the cut expression
 * at its start, ending at most TAIL_CUT_MAX + 1 bytes before its own end, which the PCRE2
 * window after a Hyperscan end (LOOKAHEAD bytes) still holds: what is confirmed is the same.
 * The embedded rules' database alone over 32 MiB of generated source: 1480 -> 1650 MB/s (one
 * rule, azure-ad-client-secret, with its {31,34} tail, cost a third of the database's time);
 * `sprawlctl bench detect`, source: 1740, 1668 -> 1834, 1893 MB/s, base64 unchanged. */
#define TAIL_CUT_MAX 8
_Static_assert(TAIL_CUT_MAX + 1 <= LOOKAHEAD, "the cut tail must stay in the PCRE2 window");

static void tail_cut(char *e)
{
	size_t n = strlen(e), i, a, p = SIZE_MAX, q, b;
	unsigned long lo, hi;
	uint8_t *code, *one; /* e[i] is syntax; an atom of one character ends at i */
	char *end;

	if (n < 4 || !strncmp(e, "(*", 2))
		return;
	code = calloc(n + 1, 1);
	one = calloc(n + 1, 1);
	if (!code || !one)
		goto out;
	for (i = 0; i < n;) {
		a = atom_len(e, i);
		if (e[i] != '\\' && e[i] != '[')
			code[i] = 1;
		if (a) {
			one[i + a] = 1;
			i += a;
		} else {
			i += e[i] == '\\' && e[i + 1] ? 2 : 1;
		}
	}
	for (i = 0; i + 3 < n; i++)
		if (code[i] && e[i] == '(' && e[i + 1] == '?' &&
		    (e[i + 2] == '!' || e[i + 2] == '='))
			p = i;
	if (p != SIZE_MAX && code[n - 1] && e[n - 1] == ')' && atom_len(e, p + 3) &&
	    p + 3 + atom_len(e, p + 3) == n - 1) {
		n = p;
		e[n] = '\0';
	}
	for (q = n; q && code[q - 1] && e[q - 1] == ')'; q--)
		;
	if (!q || !code[q - 1] || e[q - 1] != '}')
		goto out;
	for (b = q - 1; b && e[b] != '{'; b--)
		;
	if (!code[b] || e[b] != '{' || !one[b] || !isdigit((unsigned char)e[b + 1]))
		goto out;
	lo = strtoul(e + b + 1, &end, 10);
	if (*end != ',' || !isdigit((unsigned char)end[1]))
		goto out;
	hi = strtoul(end + 1, &end, 10);
	if (end != e + q - 1 || lo < 1 || hi < lo || hi - lo > TAIL_CUT_MAX)
		goto out;
	/* "{lo}" then the closing parentheses, in place: it is never longer than "{lo,hi}". */
	a = (size_t)snprintf(e + b, n + 1 - b, "{%lu}", lo);
	memmove(e + b + a, e + q, n - q + 1);
out:
	free(code);
	free(one);
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
	tail_cut(e);
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
